"""Files generated from the query library and shipped with rumq (``make portability`` writes them).

``rumq/engines/portability.json`` (which engines run each built-in) and
``rumq/library_index.json`` (each built-in's parsed front matter) are written
the same way: JSON with one line per query, so that a change to one query is a
one-line diff, and checked by tests that fail when a file is stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def render(data: dict[str, Any], sections: tuple[str, ...]) -> str:
    """``data`` as JSON text; each key of ``sections`` (after the others) holds a mapping written one entry a line."""
    head = json.dumps({k: v for k, v in data.items() if k not in sections}, indent=1)[:-2]
    parts = [head]
    for section in sections:
        rows = ",\n".join(f"  {json.dumps(n)}: {json.dumps(e)}" for n, e in data[section].items())
        parts.append(f" {json.dumps(section)}: {{\n{rows}\n }}")
    return ",\n".join(parts) + "\n}\n"


def write_or_check(path: Path, text: str, args: list[str]) -> int:
    """Write ``text`` to ``path``; with ``--check`` in ``args``, only say (exit status 1) whether it is stale."""
    if "--check" in args:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            print(f"{path} is stale: run `make portability`", file=sys.stderr)
            return 1
        return 0
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}", file=sys.stderr)
    return 0
