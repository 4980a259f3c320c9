"""Worker process for parallel ingest: ``python -m rumq.ingest.worker``.

Imports what staging needs at once (the ingesting process starts its workers
before it knows their work: ``rumq.ingest.staging.WorkerPool``), then reads
its ``StageConfig`` as a JSON line on stdin, then one ``StageJob`` per line,
as the ingesting process hands them out; answers one JSON line per file on
stdout and stages the records. Input that ends before the config means the
worker is not needed. Running as its own module (rather than
multiprocessing's spawn) means it never re-imports the caller's ``__main__``,
so scripts and notebooks need no ``__main__`` guard.
"""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Iterator


def main() -> None:
    # Ctrl-C at a terminal reaches the whole process group: the ingesting
    # process answers it (message, exit 130, clean-up) and its death ends the
    # workers (PR_SET_PDEATHSIG); a worker's own KeyboardInterrupt would only
    # print a traceback in the middle of that.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # pyarrow imports numpy whenever it is installed, and nothing a worker runs
    # needs it: a fifth of a worker's start-up (0.24 of 1.13 G instructions),
    # which is on an ingest's critical path (docs/ingest.md, *Fixed costs*).
    sys.modules.setdefault("numpy", None)  # type: ignore[arg-type]
    # Everything a Stager loads, while the ingesting process hashes the input.
    import duckdb  # noqa: F401
    import pyarrow.compute  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    import rumq.catalog  # noqa: F401
    from rumq.ingest.staging import StageConfig, StageJob, stage_in_process

    first = sys.stdin.readline()
    if not first:
        return  # not needed after all
    config = StageConfig.from_json(json.loads(first))

    def jobs() -> Iterator[StageJob]:
        # Read as they come: the next file is handed out when this one is reported.
        while line := sys.stdin.readline():
            yield StageJob(**json.loads(line))

    def report(out: dict) -> None:
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()

    # Objects come all at once (a worker prefetches them); local files one by one.
    stage_in_process(list(jobs()) if config.store_options is not None else jobs(), config, report)


if __name__ == "__main__":
    main()
