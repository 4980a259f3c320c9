"""Worker process for parallel ingest: ``python -m rumq.ingest.worker``.

Reads its ``StageConfig`` as a JSON line on stdin, then one ``StageJob`` per
line; answers one JSON line per file on stdout and stages the records.
Running as its own module (rather than multiprocessing's spawn) means it
never re-imports the caller's ``__main__``, so scripts and notebooks need no
``__main__`` guard.
"""

from __future__ import annotations

import json
import sys


def main() -> None:
    from rumq.ingest.staging import StageConfig, StageJob, stage_in_process

    config = StageConfig.from_json(json.loads(sys.stdin.readline()))
    jobs = [StageJob(**json.loads(line)) for line in sys.stdin]

    def report(out: dict) -> None:
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()

    stage_in_process(jobs, config, report)


if __name__ == "__main__":
    main()
