"""Worker process for parallel ingest: ``python -m rumq.ingest.worker``.

Reads the ``Stager`` arguments as a JSON line on stdin, then one JSON job per
line (path, name, format, index); answers one JSON line per file on stdout
and stages the records. Running as its own module (rather than
multiprocessing's spawn) means it never re-imports the caller's ``__main__``,
so scripts and notebooks need no ``__main__`` guard.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime


def main() -> None:
    from rumq.ingest import Stager

    args = json.loads(sys.stdin.readline())
    args[3] = datetime.fromisoformat(args[3])  # ingested_at
    stager = Stager(*args)
    jobs = [tuple(json.loads(line)) for line in sys.stdin]

    def report(out: dict) -> None:
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()

    stager.stage(jobs, report)
    stager.close()


if __name__ == "__main__":
    main()
