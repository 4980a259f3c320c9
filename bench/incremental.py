"""Query-ready without a manual step: a dataset built by many small ingests vs the same after ``rumq compact``.

Usage:
    python bench/incremental.py [--events 1000000] [--batches 24] [--out bench/out] [--repeat 3]

A scheduled job ingests each new export as it lands (hourly, say), and never
runs ``rumq compact``. This generates ``--events`` events (7 days, gzip JSON
lines), cuts each application's traffic, in time order, into ``--batches``
consecutive slices (what consecutive exports would hold), and ingests batch
after batch into one dataset with ``rumq.ingest.ingest``: its small-file merge
(``rumq.ingest.commit.merge_small_files``) is what keeps such a dataset in
shape. A copy is then compacted (``rumq.maintenance.compact``). Every built-in
query runs on both layouts in the same process, alternating, ``--repeat``
times; the best wall and CPU times are printed with their ratio
(incremental / compacted), and the results are compared. Nothing here is a
test: timings depend on the machine and its load (say so next to a figure).
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from queries import PARAMS, _cpu, _same, layout  # noqa: E402


def split_input(src: Path, dst: Path, batches: int) -> list[Path]:
    """Cut each application's traffic, in time order, into ``batches`` consecutive slices: ``dst/bNNN/...``.

    The generator writes a file per application and day; their lines are in
    time order, so the days concatenated and cut give what consecutive
    exports hold (each batch touches one or two days, as an hourly export
    touches one).
    """
    dirs = [dst / f"b{i:03d}" for i in range(batches)]
    for app in sorted({f.parent for f in src.rglob("*.jsonl.gz")}):
        lines: list[str] = []
        for f in sorted(app.glob("*.jsonl.gz")):
            with gzip.open(f, "rt", encoding="utf-8") as fh:
                lines += fh.readlines()
        step = math.ceil(len(lines) / batches)
        for i, d in enumerate(dirs):
            out = d / app.relative_to(src) / f"part-{i:03d}.jsonl.gz"
            out.parent.mkdir(parents=True, exist_ok=True)
            with gzip.open(out, "wt", encoding="utf-8", compresslevel=1) as fh:
                fh.writelines(lines[i * step:(i + 1) * step])
    return dirs


def build(out: Path, events: int, batches: int) -> tuple[Path, Path]:
    from rumq.generate import estimate_sessions, generate
    from rumq.ingest import ingest
    from rumq.maintenance import compact

    inc, cmp_ = out / "incremental", out / "compacted"
    done = out / "built.json"
    if done.is_file() and json.loads(done.read_text()) == {"events": events, "batches": batches}:
        return inc, cmp_
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    generate(out / "input", sessions=estimate_sessions(events), days=7, fmt="jsonl", gzip=True, compresslevel=1,
             workers=2)
    dirs = split_input(out / "input", out / "batches", batches)
    t0, written = time.perf_counter(), 0
    for d in dirs:
        written += ingest(inc, [str(d)]).written
    # (CPU time is not shown here: the ingest's worker processes are not this process's.)
    print(f"{written:,} events in {batches} ingests: {time.perf_counter() - t0:.1f} s", flush=True)
    shutil.copytree(inc, cmp_)
    t0, cpu0 = time.perf_counter(), _cpu()
    r = compact(cmp_)
    print(f"rumq compact: {r['files_before']} -> {r['files_after']} files, {len(r['kept'])} day(s) kept, "
          f"{time.perf_counter() - t0:.1f} s, {_cpu() - cpu0:.1f} CPU s", flush=True)
    shutil.rmtree(out / "input")
    shutil.rmtree(out / "batches")
    done.write_text(json.dumps({"events": events, "batches": batches}))
    return inc, cmp_


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--batches", type=int, default=24)
    ap.add_argument("--out", default="bench/out")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from rumq.errors import RumqError
    from rumq.library import Library
    from rumq.runner import run_query
    from rumq.store import Store

    out = Path(args.out) / f"incremental-{args.events}-{args.batches}"
    inc, cmp_ = build(out, args.events, args.batches)
    for name, d in (("incremental", inc), ("compacted", cmp_)):
        files = Store(d).event_files()
        size = sum(Path(f).stat().st_size for f in files)
        print(f"{name}: {layout(files)}, {size:,} bytes", flush=True)
    print(f"\n{'query':30} {'inc s':>7} {'cmp s':>7} {'ratio':>6} {'inc cpu':>8} {'cmp cpu':>8} {'ratio':>6}")
    ratios = []
    for name in Library().names():
        try:
            run_query(inc, name, PARAMS.get(name, {}))
        except RumqError as e:  # a query that needs parameters the bench does not give
            print(f"{name:30} skipped: {e.message}")
            continue
        best = {"inc": [math.inf, math.inf], "cmp": [math.inf, math.inf]}
        results = {}
        for _ in range(args.repeat):
            for key, d in (("inc", inc), ("cmp", cmp_)):
                t, c = time.perf_counter(), _cpu()
                results[key] = run_query(d, name, PARAMS.get(name, {}))
                best[key][0] = min(best[key][0], time.perf_counter() - t)
                best[key][1] = min(best[key][1], _cpu() - c)
        same = _same(results["inc"], results["cmp"])
        r_wall, r_cpu = best["inc"][0] / best["cmp"][0], best["inc"][1] / max(best["cmp"][1], 1e-9)
        ratios.append(r_cpu)
        print(f"{name:30} {best['inc'][0]:7.3f} {best['cmp'][0]:7.3f} {r_wall:6.2f} {best['inc'][1]:8.3f} "
              f"{best['cmp'][1]:8.3f} {r_cpu:6.2f}{'' if same else '  RESULTS DIFFER'}", flush=True)
    gm = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    print(f"\nCPU ratio incremental / compacted: geometric mean {gm:.2f}, worst {max(ratios):.2f} (target <= 1.1)")


if __name__ == "__main__":
    main()
