"""Storage benchmark: dataset size against the gzip input, and bytes each core query reads.

Usage:
    python bench/storage.py [--events 1000000] [--out bench/out] [--keep]

Generates realistic RUM events as gzip JSON lines with ``rumq.generate``
(``bench/ingest.py``'s input, cached under --out), ingests them into a fresh
dataset, then copies it twice and runs ``rumq compact`` on the copies:
once as it is (it never grows the dataset: a day whose rewritten files would
be larger keeps its files) and once with ``--allow-growth`` (one file per day
and event type whatever the size). For each of the three layouts it prints:

* the bytes of the event files, per event, and as a ratio to the gzip input;
* the bytes of each column (the largest ones);
* for each core query (sessions/summary, pages/drop_off,
  journeys/transitions, errors/rate_per_session, performance/web_vitals): the
  bytes it reads, from the Parquet metadata of the columns and row groups it
  touches. DuckDB's plan of the query (``EXPLAIN``, as ``rumq run`` builds it)
  names each Parquet scan's columns and filters; a scan reads those columns'
  chunks in every row group its filters on ``event_name`` cannot skip by the
  row group's min/max. A query that scans the dataset twice reads twice.
  It also checks that no core query reads ``message`` (stored as
  ``message_head`` and ``message_tail``).

Sizes are exact; nothing here is timed.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

CORE = ("sessions/summary", "pages/drop_off", "journeys/transitions", "errors/rate_per_session",
        "performance/web_vitals")


def event_files(data: Path) -> list[str]:
    from rumq.store import Store

    store = Store(data)
    return [str(store.root / f["path"]) for f in store.load_state().files]


def chunks(files: list[str]) -> list[tuple]:
    """(file, row group, column, compressed bytes, min, max) of every column chunk."""
    import duckdb

    con = duckdb.connect()
    rows = con.execute(
        "SELECT file_name, row_group_id, path_in_schema, total_compressed_size, stats_min_value, stats_max_value "
        "FROM parquet_metadata(?)", [files]).fetchall()
    con.close()
    return rows


def scans(data: Path, name: str) -> list[tuple[set[str], list[str]]]:
    """(columns, filters) of each Parquet scan in DuckDB's plan of the named query, as ``rumq run`` runs it."""
    from rumq import runner
    from rumq.library import Library
    from rumq.params import resolve
    from rumq.schema import FILE_COLUMNS

    q = Library().get(name)
    values = resolve(q.params, {}, query=q.name)
    sql = runner.substitute_identifiers(q.body, q.params, values)
    bound = runner.bind_values(sql, q.params, values)
    con = runner._catalog(data, runner.window(), None, for_sql=sql)
    plan = json.loads(con.execute("EXPLAIN (FORMAT json) " + sql, bound).fetchall()[0][1])
    con.close()
    out: list[tuple[set[str], list[str]]] = []

    def listed(v) -> list[str]:
        return [] if v is None else [v] if isinstance(v, str) else list(v)

    def walk(node) -> None:
        info = node.get("extra_info") or {}
        if isinstance(info, dict) and info.get("Function") == "READ_PARQUET":
            filters = listed(info.get("Filters"))
            cols = set(listed(info.get("Projections")))
            for f in filters:  # a filter's columns are read too
                cols |= {c for c in FILE_COLUMNS if re.search(rf"\b{re.escape(c)}\b", f)}
            out.append((cols, filters))
        for c in node.get("children", []):
            walk(c)

    for p in plan:
        walk(p)
    return out


def _event_names(filters: list[str]) -> set[str] | None:
    """The event_names a scan's filters allow (None: any)."""
    for f in filters:
        m = re.fullmatch(r"\(?event_name = '([^']*)'\)?", f.strip())
        if m:
            return {m.group(1)}
        m = re.fullmatch(r"\(?event_name IN \((.*)\)\)?", f.strip())
        if m:
            return set(re.findall(r"'([^']*)'", m.group(1)))
    return None


def bytes_read(meta: list[tuple], scan_list: list[tuple[set[str], list[str]]]) -> int:
    """Bytes of the column chunks the scans read (row groups skipped by their event_name min/max left out)."""
    names = {(f, g): (lo, hi) for f, g, col, _n, lo, hi in meta if col == "event_name"}
    total = 0
    for cols, filters in scan_list:
        allowed = _event_names(filters)
        for f, g, col, n, _lo, _hi in meta:
            if col not in cols:
                continue
            if allowed is not None:
                lo, hi = names[(f, g)]
                if lo is not None and not any(lo <= a <= hi for a in allowed):
                    continue
            total += n
    return total


def main() -> None:
    from ingest import make_input

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--out", default="bench/out")
    ap.add_argument("--keep", action="store_true", help="keep the three datasets under --out")
    args = ap.parse_args()
    out = Path(args.out)
    inputs = make_input(out, args.events)
    gz = sum(p.stat().st_size for p in inputs)
    base = out / f"storage-{args.events}"
    shutil.rmtree(base, ignore_errors=True)
    layouts = {"ingested": base / "ingested", "compacted": base / "compacted", "clustered": base / "clustered"}
    rumq = [sys.executable, "-c", "from rumq.cli import main; main()"]
    subprocess.run([*rumq, "--data", str(layouts["ingested"]), "ingest", *map(str, inputs)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for name, extra in (("compacted", []), ("clustered", ["--allow-growth"])):
        shutil.copytree(layouts["ingested"], layouts[name])
        subprocess.run([*rumq, "--data", str(layouts[name]), "compact", *extra], check=True,
                       stdout=subprocess.DEVNULL)
    from rumq.store import Store

    events = sum(int(f["rows"]) for f in Store(layouts["ingested"]).load_state().files)
    print(f"{events:,} events; gzip JSON-lines input {gz:,} bytes in {len(inputs)} files "
          f"({gz / events:.1f} bytes/event)\n")
    meta = {k: chunks(event_files(d)) for k, d in layouts.items()}
    size = {k: sum(Path(f).stat().st_size for f in event_files(d)) for k, d in layouts.items()}
    cols = ["layout", *layouts]
    print("| " + " | ".join(cols) + " |\n|---|" + "---:|" * len(layouts))
    print("| files | " + " | ".join(f"{len(event_files(d)):,}" for d in layouts.values()) + " |")
    print("| bytes | " + " | ".join(f"{size[k]:,}" for k in layouts) + " |")
    print("| bytes/event | " + " | ".join(f"{size[k] / events:.1f}" for k in layouts) + " |")
    print("| × gzip input | " + " | ".join(f"{size[k] / gz:.3f}" for k in layouts) + " |")
    per_col = {k: {} for k in layouts}
    for k, m in meta.items():
        for _f, _g, col, n, _lo, _hi in m:
            per_col[k][col] = per_col[k].get(col, 0) + n
    for col in sorted(per_col["ingested"], key=lambda c: -per_col["ingested"][c])[:8]:
        print(f"| `{col}` | " + " | ".join(f"{per_col[k].get(col, 0):,}" for k in layouts) + " |")
    print("\nbytes read per core query (Parquet column chunks of the row groups each scan cannot skip)\n")
    print("| query | " + " | ".join(layouts) + " | columns | reads message |\n|---|" + "---:|" * len(layouts) + "---|---|")
    for q in CORE:
        plans = {k: scans(d, q) for k, d in layouts.items()}
        used = sorted(set().union(*(c for c, _ in plans["ingested"])))
        reads_message = any(c & {"message", "message_head", "message_tail"} for p in plans.values() for c, _ in p)
        print(f"| {q} | " + " | ".join(f"{bytes_read(meta[k], plans[k]):,}" for k in layouts)
              + f" | {len(used)} | {'YES' if reads_message else 'no'} |")
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
