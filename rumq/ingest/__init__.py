"""Ingest RUM exports into a dataset: read -> normalize -> dedup -> commit.

``ingest`` is the one entry point (the CLI and notebooks call it). Every
input record ends up written, counted as a duplicate, or rejected with a
reason in ``rejects/<ingest_id>.jsonl``; ``read = written + duplicates +
rejected`` holds per file and in total, and is recorded in the manifest.

The stages, one module each:

* ``sources``: find the input files, read their bytes (gzip by magic).
* ``readers``: detect each file's export format, stream its raw records.
* ``staging``: normalize the records (``rumq.normalize``) into staged
  Parquet files, in this process or in worker processes (``worker``).
* ``dedup``: drop events already in the dataset or earlier in the ingest.
* ``rejects``: the rejects file, with a reason per record.
* ``commit``: hand the files to the store (``rumq.store``) and record the
  ingest in the manifest.
* ``pipeline``: the ``ingest`` function that runs them under the lock.
* ``report``: what happened, per file and in total.
"""

from __future__ import annotations

from typing import Any

from rumq.ingest.formats import FORMATS

__all__ = ["FORMATS", "FileResult", "IngestReport", "ingest"]


def __getattr__(name: str) -> Any:
    # Loaded on first use, so importing a light submodule (rumq.ingest.formats,
    # for the CLI's --help) does not load the whole pipeline.
    if name == "ingest":
        from rumq.ingest.pipeline import ingest

        return ingest
    if name in ("FileResult", "IngestReport"):
        from rumq.ingest import report

        return getattr(report, name)
    raise AttributeError(f"module 'rumq.ingest' has no attribute {name!r}")
