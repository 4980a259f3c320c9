"""Where a rendered result may go: a binary format needs a file, not the terminal."""

from __future__ import annotations

from rumq.errors import UsageError
from rumq.render import BINARY_FORMATS

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
