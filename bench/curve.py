"""The whole pipeline at growing sizes: generation, ingest, dataset size, and every built-in query.

Usage:
    python bench/curve.py [--sizes 5000000,20000000,100000000] [--out bench/out] [--memory-limit 4GB]
                          [--reference-max 20000000] [--repeat 1] [--plot docs/curve.svg]
                          [--json bench/out/curve.json] [--only-queries]

For each size, in its own work directory (``--out``/curve-N, kept so a later
run reuses the generated input's figures and the dataset):

* generation: ``rumq.generate`` in a subprocess (7 days, 2 apps, gzip JSON
  lines at level 1, 2 workers): seconds, events/s, peak memory;
* ingest: ``rumq ingest`` as a whole process, as a user runs it: seconds,
  events/s, CPU seconds, peak memory of its process tree (workers included);
  up to ``--reference-max`` events, DuckDB's lossless reference conversion
  (``bench/ingest.py``'s *same output*) on the same files in the same run;
* the dataset: bytes on disk, bytes per event, and the ratio to the gzip input
  (the input is deleted after the ingest to keep the disk free);
* every built-in query, ``rumq run NAME --format json`` as a whole process
  under ``RUMQ_MEMORY_LIMIT=--memory-limit`` (the dataset as ingest left it:
  no ``rumq compact``), and, for the 15 queries with a hand-written DuckDB
  twin (``bench/queries.py``), a plain ``python -c`` DuckDB process with the
  same memory limit, alternating: seconds, CPU seconds, peak memory.

Results go to ``--json`` (merged with earlier runs, by size) and are printed as
Markdown tables; ``--plot`` draws seconds against events on log-log axes.
Run it on an idle machine: it takes about an hour and a half at 100M events on
2 cores (most of it generation and ingest).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from ingest import SAME_OUTPUT, _same_output_structure, measure  # noqa: E402

from queries import HAND, PARAMS  # noqa: E402

GENERATE = """
import json, sys
from rumq.generate import estimate_sessions, generate
truth = generate(sys.argv[1], sessions=estimate_sessions(int(sys.argv[2])), days=7, seed=7, fmt="jsonl",
                 gzip=True, compresslevel=1, workers=2)
print(truth.total["events"])
"""

# The plain process (bench/cli_fixed_cost.py's), with the same memory limit as rumq's.
PLAIN = """
import json, sys
import duckdb
files, sql, params, limit = json.loads(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
con = duckdb.connect()
con.execute("SET memory_limit = ?", [limit])
con.execute("SET VARIABLE f = ?", [files])
con.execute("CREATE VIEW E AS SELECT *, coalesce(session_uuid::VARCHAR, session_text) AS session_id, "
            "coalesce(user_uuid::VARCHAR, user_text) AS user_id "
            "FROM read_parquet(getvariable('f'), hive_partitioning = true)")
rel = con.sql(sql, params=params or None)
cols = rel.columns
print(json.dumps([dict(zip(cols, r)) for r in rel.fetchall()], default=str))
"""


def dir_bytes(d: Path) -> int:
    return sum(p.stat().st_size for p in d.rglob("*") if p.is_file())


def query_names(py: str) -> list[str]:
    out = subprocess.run([py, "-c", "from rumq.library import Library\n"
                          "L = Library()\nprint('\\n'.join(n for n in L.names() if L.get(n).builtin))"],
                         capture_output=True, text=True, check=True)
    return out.stdout.split()


def run_size(n: int, args: argparse.Namespace, results: dict) -> None:
    py, rumq = sys.executable, str(Path(sys.executable).parent / "rumq")
    work = Path(args.out) / f"curve-{n}"
    inp, data = work / "input", work / "data"
    rec = results.setdefault(str(n), {"target": n})
    if not args.only_queries or "ingest" not in rec:
        if not (work / "generated.json").is_file():
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            g = measure([py, "-c", GENERATE, str(inp), str(n)])
            if g["rc"]:
                sys.exit(f"generation failed: {g['stderr'][-2000:]}")
            events = int(g["stdout"].split()[-1])
            gen = {"events": events, "seconds": g["seconds"], "cpu": g["cpu"], "peak_mb": g["peak_mb"],
                   "input_bytes": dir_bytes(inp), "files": len(list(inp.rglob("*.jsonl.gz")))}
            (work / "generated.json").write_text(json.dumps(gen))
        gen = json.loads((work / "generated.json").read_text())
        rec["generate"] = gen
        print(f"[{n:,}] generated {gen['events']:,} events in {gen['seconds']:.0f} s "
              f"({gen['events'] / gen['seconds']:,.0f}/s), {gen['input_bytes'] / 1e9:.2f} GB gzip", flush=True)
        if not inp.is_dir():
            sys.exit(f"{inp} is gone (deleted after an earlier ingest): remove {work} to start this size again")
        files = sorted(inp.rglob("*.jsonl.gz"))
        if n <= args.reference_max:
            out = work / "reference.parquet"
            r = measure([py, "-c", SAME_OUTPUT, ",".join(map(str, files)), str(out), _same_output_structure()])
            out.unlink(missing_ok=True)
            if r["rc"]:
                sys.exit(f"reference failed: {r['stderr'][-2000:]}")
            rec["reference"] = {k: r[k] for k in ("seconds", "cpu", "peak_mb")}
            print(f"[{n:,}] DuckDB lossless reference: {r['seconds']:.0f} s "
                  f"({gen['events'] / r['seconds']:,.0f}/s), peak {r['peak_mb']:,.0f} MB", flush=True)
        shutil.rmtree(data, ignore_errors=True)
        r = measure([rumq, "--data", str(data), "ingest", str(inp), "--format", "json"])
        if r["rc"]:
            sys.exit(f"ingest failed: {r['stderr'][-2000:]}")
        summary = json.loads(r["stdout"])
        rec["ingest"] = {k: r[k] for k in ("seconds", "cpu", "peak_mb")}
        rec["ingest"]["written"] = summary.get("written")
        rec["ingest"]["rejected"] = summary.get("rejected")
        rec["dataset_bytes"] = dir_bytes(data)
        rec["events"] = summary.get("written")
        print(f"[{n:,}] ingested {rec['events']:,} events in {r['seconds']:.0f} s "
              f"({rec['events'] / r['seconds']:,.0f}/s, {r['cpu']:.0f} CPU s), peak {r['peak_mb']:,.0f} MB; "
              f"dataset {rec['dataset_bytes'] / 1e9:.2f} GB = {rec['dataset_bytes'] / rec['events']:.1f} B/event, "
              f"{rec['dataset_bytes'] / gen['input_bytes']:.3f}x the gzip input", flush=True)
        shutil.rmtree(inp, ignore_errors=True)
        save(results, args)

    from rumq.store import Store

    files = Store(data).event_files()
    state = json.loads((data / "_rumq" / "state.json").read_text())
    manifest = {k: sum(int(i.get(k) or 0) for i in state["ingests"]) for k in ("read", "duplicates", "rejected")}
    env = {"RUMQ_MEMORY_LIMIT": args.memory_limit}
    rec["memory_limit"] = args.memory_limit
    rec["files"] = len(files)
    queries = rec.setdefault("queries", {})
    for name in query_names(py):
        ours = [rumq, "--data", str(data), "run", name, "--format", "json"]
        for k, v in PARAMS.get(name, {}).items():
            ours += ["-p", f"{k}={v}"]
        sql = HAND.get(name)
        plain = None
        if sql is not None:
            params = {k: v for k, v in manifest.items() if f"${k}" in sql}
            plain = [py, "-c", PLAIN, json.dumps(files), sql, json.dumps(params), args.memory_limit]
        best: dict[str, dict] = {}
        for _ in range(args.repeat):
            for side, argv in (("rumq", ours), ("plain", plain)):
                if argv is None:
                    continue
                r = measure(argv, env if side == "rumq" else None)
                if r["rc"]:
                    best[side] = {"error": (r["stderr"].strip().splitlines() or ["?"])[0][:300]}
                    continue
                if side not in best or "error" in best[side] or r["seconds"] < best[side]["seconds"]:
                    best[side] = {k: r[k] for k in ("seconds", "cpu", "peak_mb")}
        queries[name] = best
        o, p = best.get("rumq", {}), best.get("plain")
        line = (f"[{n:,}] {name:26} " + (f"rumq {o['seconds']:7.2f} s {o['cpu']:7.1f} cpu {o['peak_mb']:6,.0f} MB"
                                         if "seconds" in o else f"rumq FAILED: {o.get('error')}"))
        if p:
            line += (f" | plain {p['seconds']:7.2f} s {p['peak_mb']:6,.0f} MB" if "seconds" in p
                     else f" | plain FAILED: {p.get('error')}")
        print(line, flush=True)
        save(results, args)


def save(results: dict, args: argparse.Namespace) -> None:
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, sort_keys=True))


def tables(results: dict) -> str:
    sizes = sorted((r for r in results.values() if "events" in r), key=lambda r: r["events"])
    lines = ["| events | generate s | ingest s | ingest events/s | ingest peak MB | lossless ref. events/s | "
             "dataset GB | B/event | × gzip input |", "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in sizes:
        g, i, ev = r["generate"], r["ingest"], r["events"]
        ref = f"{ev / r['reference']['seconds']:,.0f}" if "reference" in r else "–"
        lines.append(f"| {ev:,} | {g['seconds']:.0f} | {i['seconds']:.0f} | {ev / i['seconds']:,.0f} | "
                     f"{i['peak_mb']:,.0f} | {ref} | {r['dataset_bytes'] / 1e9:.2f} | "
                     f"{r['dataset_bytes'] / ev:.1f} | {r['dataset_bytes'] / g['input_bytes']:.3f} |")
    names = sorted({q for r in sizes for q in r.get("queries", {})})
    head = "| query | " + " | ".join(f"{r['events'] / 1e6:.0f}M s (plain s) | peak MB" for r in sizes)
    head += " | growth, last two sizes |"
    lines += ["", head, "|---|" + "---:|---:|" * len(sizes) + "---:|"]
    for q in names:
        cells, per = [], []  # per: (events, seconds)
        for r in sizes:
            o = r.get("queries", {}).get(q, {}).get("rumq", {})
            p = r.get("queries", {}).get(q, {}).get("plain")
            if "seconds" not in o:
                cells.append(f"failed: {o.get('error', 'not run')} | –")
                continue
            plain = f" ({p['seconds']:.2f})" if p and "seconds" in p else ""
            cells.append(f"{o['seconds']:.2f}{plain} | {o['peak_mb']:,.0f}")
            per.append((r["events"], o["seconds"]))
        # Time grown by, over events grown by, between the two largest sizes: 1.00 is linear; the
        # smallest size is left out because a process's fixed cost (~0.2 s) is most of its time there.
        growth = (f"{(per[-1][1] / per[-2][1]) / (per[-1][0] / per[-2][0]):.2f}" if len(per) > 1 else "–")
        lines.append(f"| {q} | " + " | ".join(cells) + f" | {growth} |")
    return "\n".join(lines)


def plot(results: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matplotlib.rcParams["svg.hashsalt"] = "rumq"
    sizes = sorted((r for r in results.values() if "events" in r), key=lambda r: r["events"])
    xs = [r["events"] for r in sizes]
    fig, ax = plt.subplots(figsize=(9, 6))
    ax.plot(xs, [r["ingest"]["seconds"] for r in sizes], "k-o", lw=2.5, label="rumq ingest")
    names = sorted({q for r in sizes for q in r.get("queries", {})})
    for q in names:
        pts = [(r["events"], r["queries"][q]["rumq"]["seconds"]) for r in sizes
               if "seconds" in r.get("queries", {}).get(q, {}).get("rumq", {})]
        if pts:
            ax.plot(*zip(*pts, strict=True), "-", marker=".", lw=1, alpha=0.8, label=q)
    lo, hi = min(xs), max(xs)
    base = sizes[0]["ingest"]["seconds"]
    ax.plot([lo, hi], [base, base * hi / lo], "k:", lw=1, label="linear (from ingest at the smallest size)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("events")
    ax.set_ylabel("seconds (whole process)")
    ax.set_title("rumq on 2 cores: ingest and every built-in query against dataset size")
    ax.legend(fontsize=6, ncol=2, loc="upper left")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, metadata={"Date": None})
    print(f"plot: {path}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="5000000,20000000,100000000", help="comma-separated event counts")
    ap.add_argument("--out", default="bench/out", help="work directory (datasets are kept for reuse)")
    ap.add_argument("--memory-limit", default="4GB", help="RUMQ_MEMORY_LIMIT for the queries (and the plain side)")
    ap.add_argument("--reference-max", type=int, default=20_000_000,
                    help="run DuckDB's lossless reference conversion up to this size")
    ap.add_argument("--repeat", type=int, default=1, help="query runs per side, alternating; the best is kept")
    ap.add_argument("--json", default="bench/out/curve.json", help="results file (merged across runs)")
    ap.add_argument("--plot", default="", help="write the curve as SVG here")
    ap.add_argument("--only-queries", action="store_true", help="reuse the datasets; time the queries again")
    ap.add_argument("--report", action="store_true", help="print the tables (and plot) of --json and stop")
    args = ap.parse_args()

    path = Path(args.json)
    results = json.loads(path.read_text()) if path.is_file() else {}
    if not args.report:
        import duckdb

        print(f"DuckDB {duckdb.__version__}, {os.cpu_count()} cores, "
              f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB; "
              f"queries under RUMQ_MEMORY_LIMIT={args.memory_limit}", flush=True)
        for n in (int(s) for s in args.sizes.split(",")):
            run_size(n, args, results)
    print(tables(results))
    if args.plot:
        plot(results, args.plot)


if __name__ == "__main__":
    main()
