"""SQL text: how rumq writes a string literal or an identifier into DuckDB SQL.

Values normally reach SQL as bound parameters; these are for the few places
where DuckDB needs literal text (``COPY ... TO 'path'``, constants compiled into
a statement) and for identifiers rumq generates or takes from an allow-list.
"""

from __future__ import annotations


def quote_string(value: str) -> str:
    """``value`` as a DuckDB string literal: single quotes, inner quotes doubled.

    DuckDB string literals have no backslash escapes, so doubling the quote is
    the whole job.

    Raises:
        ValueError: ``value`` holds a NUL character, which a literal cannot carry.
    """
    if "\x00" in value:
        raise ValueError("a NUL character cannot appear in an SQL string literal")
    return "'" + value.replace("'", "''") + "'"


def quote_identifier(name: str) -> str:
    """``name`` as a DuckDB quoted identifier: double quotes, inner quotes doubled."""
    return '"' + name.replace('"', '""') + '"'
