"""Page and URL normalization as Polars expressions (the Polars side of ``rumq.pages``).

The same steps as ``rumq.pages.page_sql`` / ``url_sql`` (docs/analyses.md,
*Page and URL normalization*), written from that definition for Polars'
regex engine (Rust ``regex``: RE2 syntax, no look-around, no
back-references, ``$`` is the end of the text as in RE2). Only the
replacement strings differ in spelling: DuckDB writes a group as ``\\1``,
Polars as ``${1}`` (a literal ``$`` is ``$$``); ``replacement`` converts a
rule's replacement from the one to the other.

Importing this module does not import Polars.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rumq.pages import ID_SEGMENT, PageConfig, Rule

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

_SCHEME = "^[a-zA-Z][a-zA-Z0-9+.-]*://"


def replacement(rule_replace: str) -> str:
    """A DuckDB/RE2 replacement (``\\1`` a group, ``\\\\`` a backslash) in Polars' spelling (``${1}``, ``$$``)."""
    out: list[str] = []
    i = 0
    while i < len(rule_replace):
        ch = rule_replace[i]
        nxt = rule_replace[i + 1] if i + 1 < len(rule_replace) else ""
        if ch == "\\" and nxt.isdigit():
            out.append("${" + nxt + "}")
            i += 2
            continue
        if ch == "\\" and nxt == "\\":
            out.append("\\")
            i += 2
            continue
        out.append("$$" if ch == "$" else ch)
        i += 1
    return "".join(out)


def _chain(e: pl.Expr, rules: tuple[Rule, ...]) -> pl.Expr:
    for r in rules:
        e = e.str.replace_all(r.pattern, replacement(r.replace))
    return e


def _auto_ids(e: pl.Expr) -> pl.Expr:
    # A global replace consumes the slash after a match: a second pass catches
    # back-to-back ids (/1/2/3), as in rumq.pages.
    for _ in range(2):
        e = e.str.replace_all(f"/({ID_SEGMENT})(/|$)", "/:id${2}")
    return e


def page_expr(e: pl.Expr, cfg: PageConfig | None = None) -> pl.Expr:
    """The normalized page of the page ids ``e`` (``rumq.pages.page_sql`` in Polars)."""
    import polars as pl

    cfg = cfg or PageConfig()
    if not cfg.enabled:
        return e
    # 1. query string and fragment (a hash-route id keeps them), 2. trailing slashes.
    out = pl.when(e.str.starts_with("#")).then(e).otherwise(e.str.replace("[?#].*$", ""))
    out = out.str.replace("(.)/+$", "${1}")
    out = _chain(out, cfg.rules)
    if cfg.auto_ids:
        out = _auto_ids(out)
    return out


def url_expr(e: pl.Expr, cfg: PageConfig | None = None) -> pl.Expr:
    """The ``host + path`` pattern of the URLs ``e`` (``rumq.pages.url_sql`` in Polars)."""
    import polars as pl

    cfg = cfg or PageConfig()
    if not cfg.enabled:
        return e
    # DuckDB's regexp_extract gives '' where the pattern does not match (a relative URL).
    host = e.str.extract(_SCHEME + "(?:[^@/?#]*@)?([^/?#]*)", 1).fill_null("").str.to_lowercase()
    path = e.str.replace(_SCHEME + "[^/?#]*", "").str.replace("[?#].*$", "").str.replace("(.)/+$", "${1}")
    out = pl.concat_str([host, path])
    out = _chain(out, cfg.http_rules)
    if cfg.auto_ids:
        out = _auto_ids(out)
    return out
