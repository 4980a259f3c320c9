"""Worker process for parallel ingest: ``python -m rumq.ingest.worker``.

Reads one JSON job per stdin line (the arguments of ``_stage_file``), stages
that file, and answers one JSON line per job on stdout. Running as its own
module (rather than multiprocessing's spawn) means it never re-imports the
caller's ``__main__``, so scripts and notebooks need no ``__main__`` guard.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime


def main() -> None:
    from rumq.ingest import _stage_file

    for line in sys.stdin:
        job = json.loads(line)
        job[7] = datetime.fromisoformat(job[7])  # ingested_at
        out = _stage_file(tuple(job))
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
