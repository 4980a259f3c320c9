"""Whole processes: ``rumq run NAME --format json`` vs a plain ``python -c`` DuckDB process.

Usage:
    python bench/cli_fixed_cost.py [--events 20000] [--out bench/out] [--repeat 5] [--only NAME,...]
                                   [--before PATH/TO/OTHER/rumq]

What a user waits for at the shell, start-up included. The dataset is built
once (reused when present) by ``bench/queries.py``'s ``build``: generated RUM
traffic, ingested by ``rumq ingest``'s code and left as ingest leaves it (no
compaction). Then, alternating in one run, ``--repeat`` times each:

* rumq: the ``rumq`` console script, ``rumq --data D run NAME --format json``;
* plain: ``python -c`` that imports DuckDB, reads the same Parquet files
  (``read_parquet`` with hive partitioning) and runs the hand-written
  statement of ``bench/queries.py`` (``HAND``), printing the rows as JSON.

Also measured: the fixed cost, ``rumq run sessions/summary`` over an empty
window (a day before the data) against a plain process that imports DuckDB
and runs ``SELECT 1``; and ``rumq --help``. The best wall time of each is
reported (``ratio``), and the median of the rounds' own ratios (``paired``:
each round runs rumq and plain back to back, so a machine whose speed drifts
between rounds moves both; on a VM that drifts by 30% it is the steadier
figure). The two JSON results are compared (same rows by position,
floats to 1e-9, timestamps as instants): the ``same`` column. ``--before`` adds a third process to the alternation: another
installation's ``rumq`` script (e.g. the main checkout's), to show a change
side by side. Timings depend on the machine (and on its load: say so next to a
figure). Use ``--events 5000000`` for the issue's bar. rumq's bytecode is
compiled first (``compileall``), as an installation has it; a ``--before``
installation must have its own current (``make install`` compiles it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from queries import HAND, PARAMS, build  # noqa: E402

# The plain process: what a user writes by hand with DuckDB's Python package.
PLAIN = """
import json, sys
import duckdb
files, sql, params = json.loads(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
con = duckdb.connect()
con.execute("SET VARIABLE f = ?", [files])
con.execute("CREATE VIEW E AS SELECT *, coalesce(session_uuid::VARCHAR, session_text) AS session_id, "
            "coalesce(user_uuid::VARCHAR, user_text) AS user_id "
            "FROM read_parquet(getvariable('f'), hive_partitioning = true)")
rel = con.sql(sql, params=params or None)
cols = [c if rel.columns.count(c) == 1 else f"{c}#{i}" for i, c in enumerate(rel.columns)]  # one key each
print(json.dumps([dict(zip(cols, r)) for r in rel.fetchall()], default=str))
"""

PLAIN_EMPTY = "import duckdb; print(duckdb.connect().sql('SELECT 1').fetchall())"


def _time(cmd: list[str]) -> tuple[float, bytes]:
    t = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True)
    took = time.perf_counter() - t
    if out.returncode != 0:
        sys.exit(f"failed ({out.returncode}): {' '.join(cmd[:6])}...\n{out.stderr.decode()[-2000:]}")
    return took, out.stdout


def _value(v: Any) -> Any:
    """A JSON value as compared: timestamp text (rumq: ISO 8601 with Z; str(): a space) as a datetime."""
    if isinstance(v, str) and len(v) >= 19 and v[4] == "-" and v[10] in "T ":
        try:
            return dt.datetime.fromisoformat(v.removesuffix("Z"))
        except ValueError:
            return v
    return v


def same(ours: bytes, plain: bytes) -> bool:
    """The same rows in the same order, by position (the column names differ), floats to 1e-9."""
    a, b = json.loads(ours), json.loads(plain)
    if len(a) != len(b):
        return False
    for ra, rb in zip(a, b, strict=True):
        if len(ra) != len(rb):
            return False
        for x, y in zip(map(_value, ra.values()), map(_value, rb.values()), strict=True):
            if isinstance(x, (int, float)) and isinstance(y, (int, float)) and not isinstance(x, bool):
                if not math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12):
                    return False
            elif x != y:
                return False
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=20_000, help="dataset size (events; 5000000 for the bar)")
    ap.add_argument("--out", default="bench/out", help="work directory (the dataset is kept for reuse)")
    ap.add_argument("--repeat", type=int, default=5, help="runs per side, alternating; the best is reported")
    ap.add_argument("--only", default="", help="comma-separated query names")
    ap.add_argument("--before", default="", help="another rumq script to time alongside (a 'before' column)")
    args = ap.parse_args()

    from rumq.store import Store

    data = build(Path(args.out) / f"queries-{args.events}", args.events)  # as ingest left it
    files = Store(data).event_files()
    state = json.loads((data / "_rumq" / "state.json").read_text())
    manifest = {k: sum(int(i.get(k) or 0) for i in state["ingests"]) for k in ("read", "duplicates", "rejected")}
    rumq = str(Path(sys.executable).parent / "rumq")
    py = sys.executable
    # An installed rumq has current bytecode (pip compiles it, as does `make install`). A checkout
    # changed since then, under PYTHONDONTWRITEBYTECODE, would compile each changed module from
    # source in every process (3-6 ms for views.py alone): that is not what a user waits for.
    subprocess.run([py, "-m", "compileall", "-q", str(HERE.parent / "rumq")], check=True)
    print(f"dataset: {data} - {len(files)} files, target {args.events:,} events; {os.cpu_count()} cores; "
          f"best of {args.repeat}, whole processes alternating", flush=True)

    outputs: list[bytes] = []

    def best(*cmds: list[str]) -> tuple[list[float], float]:
        """The best time of each command, and the median over the rounds of the first's over the second's."""
        outputs[:] = [b""] * len(cmds)
        rounds = []
        for _ in range(args.repeat):
            took = []
            for i, cmd in enumerate(cmds):
                t, outputs[i] = _time(cmd)
                took.append(t)
            rounds.append(took)
        paired = statistics.median(r[0] / r[1] for r in rounds) if len(cmds) > 1 else math.nan
        return [min(col) for col in zip(*rounds, strict=True)], paired

    others = [args.before] if args.before else []

    def ms(t: float) -> str:
        return f"{t * 1000:.0f} ms"

    helps, _ = best([rumq, "--help"], *[[b, "--help"] for b in others])
    empty = ["--data", str(data), "run", "sessions/summary", "--since", "2000-01-01",
             "--until", "2000-01-02", "--format", "json"]
    fixed, _ = best([rumq, *empty], [py, "-c", PLAIN_EMPTY], *[[b, *empty] for b in others])
    before = f"; before: {ms(helps[1])}" if others else ""
    print(f"rumq --help: {ms(helps[0])} (target < 150 ms){before}")
    before = f"; before: {ms(fixed[2])}" if others else ""
    print(f"fixed cost (rumq run over an empty window): {ms(fixed[0])}; "
          f"plain python -c 'import duckdb; SELECT 1': {ms(fixed[1])}{before}")
    print(f"{'query':28} {'rumq s':>8} {'plain s':>8} {'ratio':>6} {'paired':>6}"
          + (f" {'before s':>9}" if others else "") + "  same")
    worst = worst_paired = 0.0
    for name, sql in HAND.items():
        if args.only and name not in args.only.split(","):
            continue
        params = {k: v for k, v in manifest.items() if f"${k}" in sql}
        ours = ["--data", str(data), "run", name, "--format", "json"]
        for k, v in PARAMS.get(name, {}).items():
            ours += ["-p", f"{k}={v}"]
        plain = [py, "-c", PLAIN, json.dumps(files), sql, json.dumps(params)]
        t, paired = best([rumq, *ours], plain, *[[b, *ours] for b in others])
        worst, worst_paired = max(worst, t[0] / t[1]), max(worst_paired, paired)
        print(f"{name:28} {t[0]:8.3f} {t[1]:8.3f} {t[0] / t[1]:6.2f} {paired:6.2f}"
              + (f" {t[2]:9.3f}" if others else "") + f"  {same(outputs[0], outputs[1])}", flush=True)
    print(f"worst ratio {worst:.2f} of the best times, {worst_paired:.2f} as the median of the rounds' "
          "ratios (target <= 1.2 at 5M events)")

if __name__ == "__main__":
    main()
