"""Output formats: their names, which are binary, and which file extension selects which.

A module of constants with no heavy imports, so the CLI can validate
``--format`` and ``-o FILE`` at start-up and ``rumq.render`` renders the same
list.
"""

from __future__ import annotations

from rumq.errors import UsageError

FORMATS = ("table", "csv", "tsv", "json", "jsonl", "parquet", "markdown")
BINARY_FORMATS = frozenset({"parquet"})
#: ``-o FILE``'s extension -> the format written when --format is not given.
EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".json": "json", ".jsonl": "jsonl", ".parquet": "parquet", ".md": "markdown"}

#: The largest row cap (``--limit``): the SQL's LIMIT is a BIGINT.
MAX_LIMIT = 2**63 - 1

NEEDS_FILE = "parquet output is binary: give a file with -o FILE"


def require_file_for_binary(fmt: str, output: object | None) -> None:
    """Refuse a binary format (``parquet``) without an output file.

    Args:
        fmt: the output format name.
        output: the ``-o FILE`` value (a path) or None for stdout.

    Raises:
        UsageError: ``fmt`` is binary and ``output`` is empty.
    """
    if fmt in BINARY_FORMATS and not output:
        raise UsageError(NEEDS_FILE)
