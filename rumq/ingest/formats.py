"""The export formats ``rumq ingest`` reads, by name (``--input-format``).

A module of names only, so the CLI can offer them at start-up without
loading the readers.
"""

from __future__ import annotations

FORMATS = ("jsonl", "cwl-export", "firehose", "logs-cli", "appmonitor-data", "putrumevents", "parquet", "orc")
