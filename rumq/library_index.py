"""The built-in queries' front matter, parsed ahead of time and shipped as ``library_index.json``.

Every ``rumq run NAME`` of a built-in needs the query's header (parameters,
columns, ``session_based``). Parsing it means importing PyYAML and running
its parser: about 10 ms of a command that otherwise costs ~250 ms, paid on
every run. The header of each built-in is the same on every machine, so it
is parsed once, here, and kept in ``library_index.json`` next to this module
with the SHA-256 of the file's text. ``rumq.library.parse_query`` takes a
built-in's header from the index only when the file's text still has that
hash (an edited built-in in a source checkout is parsed as before), and
then checks it exactly as it checks a parsed one. User query files are
always parsed.

Each header is kept as the text of a Python literal (``true:``/``false:`` keys
of an ``sql`` map are booleans, which JSON cannot carry) and read back with
``ast.literal_eval``; a header that a literal cannot carry exactly (a YAML
date) is left out of the index, and that query is parsed as before.

The index also keeps, for each text a built-in SQL query runs as (one per
combination of its identifier parameters' choices), the tables and table
functions that text reads, keyed by the text's SHA-256: ``rumq.catalog``
creates only the views a query reads, which otherwise costs a parse by DuckDB
(``json_serialize_sql``) and a walk of its tree on every run. Which views
those names need is still worked out at run time (``rumq.views.DEPENDENCIES``).

The index is written by ``python -m rumq.library_index`` (``make
portability``); ``tests/test_library_index.py`` fails when it is stale.
"""

from __future__ import annotations

import ast
import functools
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from rumq.library import Query

#: The shipped index: {"queries": {name: {"sha256": ..., "header": "<a Python literal>"}},
#: "reads": {sha256 of a rendered SQL text: [table names]}}.
INDEX = Path(__file__).with_name("library_index.json")


def sha256(data: bytes = b"") -> Any:
    """A sha256 hasher; Python's own module when there is one: hashlib's OpenSSL import costs 2 to 6 ms,
    measured against the 85 ms of CPU of a whole listing; every ``rumq run`` of a built-in
    hashes its text."""
    try:
        from _sha256 import sha256  # Python 3.11
    except ImportError:
        try:
            from _sha2 import sha256  # 3.12+
        except ImportError:
            from hashlib import sha256
    return sha256(data)


def text_hash(text: str) -> str:
    """The sha256 of a query file's text, as the manifest records it."""
    return sha256(text.encode("utf-8")).hexdigest()


@functools.cache
def _data() -> dict[str, Any]:
    try:
        data = json.loads(INDEX.read_bytes())
    except (OSError, ValueError):  # absent or damaged: every header is parsed
        return {}
    return data if isinstance(data, dict) else {}


def _index() -> dict[str, Any]:
    queries = _data().get("queries")
    return queries if isinstance(queries, dict) else {}


def shipped_reads(sql: str) -> set[str] | None:
    """The tables and table functions ``sql`` reads, when it is a rendered built-in; else None."""
    reads = _data().get("reads")
    if not isinstance(reads, dict):
        return None
    names = reads.get(text_hash(sql))
    return set(names) if isinstance(names, list) else None


def rendered(query: Query) -> list[str]:
    """Every SQL text ``query`` runs as: one per combination of its identifier parameters' choices."""
    import itertools

    from rumq.params import substitute_identifiers

    identifiers = [p for p in query.params if p.is_identifier and p.sql]
    texts = []
    for choice in itertools.product(*(list(p.sql) for p in identifiers)):
        values = {p.name: v for p, v in zip(identifiers, choice, strict=True)}
        texts.append(substitute_identifiers(query.body, query.params, values))
    return texts


def shipped_header(name: str, text: str) -> dict[str, Any] | None:
    """The parsed front matter of the built-in ``name`` when ``text`` is the text it was made from, else None.

    A fresh copy each time: callers keep the mapping (``Query.header``).
    """
    entry = _index().get(name)
    if not isinstance(entry, dict) or not isinstance(entry.get("header"), str):
        return None
    if entry.get("sha256") != text_hash(text):
        return None
    try:
        header = ast.literal_eval(entry["header"])
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):  # damaged: parse the file
        return None
    return header if isinstance(header, dict) else None


def literal(header: dict[str, Any]) -> str | None:
    """``header`` as the text of a Python literal that reads back as exactly it, or None."""
    text = repr(header)
    try:
        back = ast.literal_eval(text)
    except (ValueError, SyntaxError):  # a date, or another value with no literal
        return None
    return text if repr(back) == text else None


def build(queries: Iterable[Query]) -> dict[str, Any]:
    """The index for ``queries`` (the built-ins, parsed from YAML), computed now."""
    from rumq import views
    from rumq.catalog import new_connection

    queries = list(queries)
    reads: dict[str, list[str]] = {}
    con = new_connection()
    try:
        for q in queries:
            for sql in rendered(q) if q.kind == "sql" else []:
                names = views._relations(con, sql)
                if names is not None:
                    reads[text_hash(sql)] = sorted(names)
    finally:
        con.close()
    return {
        "about": "Generated by `python -m rumq.library_index` (make portability); "
                 "tests/test_library_index.py fails when it is stale. Do not edit.",
        "queries": {q.name: {"sha256": text_hash(q.text), "header": literal(dict(q.header))}
                    for q in queries if literal(dict(q.header)) is not None},
        "reads": dict(sorted(reads.items())),
    }


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check``, compare) the index of the built-in queries."""
    from rumq.library import Library
    from rumq.shipped import render, write_or_check

    args = sys.argv[1:] if argv is None else argv
    # Parsed from YAML: the index must not feed itself.
    queries = Library(env={}, builtin_index=False).load().queries.values()
    data = build(q for q in queries if q.builtin)
    return write_or_check(INDEX, render(data, ("queries", "reads")), args)


if __name__ == "__main__":
    sys.exit(main())
