"""Page and URL normalization, compiled to DuckDB SQL expressions.

A RUM ``pageId`` is usually the URL path, so ``/orders/1234`` and
``/orders/98`` are different pages to the console. Analyses group by a
*normalized page* instead, computed in this order:

1. strip the query string and the fragment (a page id that *starts* with
   ``#`` is a hash route, ``pageIdFormat: HASH``; it keeps its fragment);
2. drop trailing slashes (``/`` itself stays);
3. apply the ordered regex rules ``[[pages.rules]]`` of the project config,
   each replacing every match of ``pattern`` by ``replace`` (RE2 syntax,
   ``\\1`` for groups; PostHog "path cleaning" semantics);
4. replace id-like path segments (all digits, UUIDs, 12+ hex characters)
   by ``:id``.

HTTP request URLs use the same machinery on ``host + path`` with their own
rules (``[[http.rules]]``). ``normalize = false`` switches all of it off: the
normalized page is then the raw page id, the URL pattern the raw URL.

The project config is a TOML file found, first match wins, at: the path given
explicitly (``--config``), ``$RUMQ_CONFIG``, ``./rumq.toml``, then
``<data dir>/rumq.toml``. Example::

    [pages]
    normalize = true      # false: group by the raw page id
    auto_ids = true       # step 4
    exclude = ['^/admin']  # page views whose page id matches are left out (pagesToExclude)
    include = []          # non-empty: only page views matching one are kept (pagesToInclude)
    [[pages.rules]]
    pattern = '^/blog/[^/]+$'
    replace = '/blog/:slug'
    [[http.rules]]
    pattern = '/v[0-9]+/'
    replace = '/:version/'
    [sql]
    allow_writes = false  # true: SQL may write files, attach, SET (see rumq.catalog)

Rule patterns are configuration, not trusted SQL: each one is compiled by
DuckDB's regex engine when the config is loaded (an invalid pattern is a
``UsageError`` naming the file and the rule) and reaches SQL only as a string
literal with its quotes doubled, so it can never change the statement.
Literals rather than bound parameters because the expressions live in views
and macros, which cannot hold parameters, and a constant pattern is compiled
once per query instead of once per row.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rumq.errors import UsageError
from rumq.sqltext import quote_string

CONFIG_NAME = "rumq.toml"
CONFIG_ENV = "RUMQ_CONFIG"

# One path segment that looks like an id: all digits, a UUID, or a long hex
# string (hashes, Mongo object ids). A digit-bearing word such as ``v2`` stays.
ID_SEGMENT = (
    "[0-9]+"
    "|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    "|[0-9a-fA-F]{12,}"
)


@dataclass(frozen=True)
class Rule:
    """One ordered rewrite rule: every match of ``pattern`` becomes ``replace``."""

    pattern: str
    replace: str


@dataclass(frozen=True)
class PageConfig:
    """How pages and HTTP URLs are normalized.

    Attributes:
        enabled: False groups by the raw page id / URL.
        auto_ids: replace id-like segments by ``:id``.
        rules: ordered rules for page ids.
        http_rules: ordered rules for HTTP ``host + path``.
        exclude: regular expressions; a page view whose raw page id matches
            one is left out of every analysis view (the web client's
            ``pagesToExclude``).
        include: regular expressions; when any, only page views whose raw
            page id matches one are kept (``pagesToInclude``).
        source: the file the config came from (for messages), or None.
    """

    enabled: bool = True
    auto_ids: bool = True
    rules: tuple[Rule, ...] = ()
    http_rules: tuple[Rule, ...] = ()
    exclude: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    source: str | None = field(default=None, compare=False)

    @property
    def selects_pages(self) -> bool:
        """True when ``exclude`` or ``include`` leaves page views out."""
        return bool(self.exclude or self.include)


def find_config(path: str | os.PathLike[str] | None = None, *, data_dir: str | os.PathLike[str] | None = None) -> Path | None:
    """Return the config file to use, or None when there is none.

    Args:
        path: an explicit file (``--config``); it must exist.
        data_dir: the dataset directory, searched last.

    Raises:
        UsageError: ``path`` (or ``$RUMQ_CONFIG``) names a missing file.
    """
    explicit = path if path is not None else os.environ.get(CONFIG_ENV) or None
    if explicit is not None:
        p = Path(explicit)
        if not p.is_file():
            raise UsageError(f"config file not found: {p}", hint=f"pass an existing TOML file or unset {CONFIG_ENV}")
        return p
    candidates = [Path.cwd() / CONFIG_NAME]
    if data_dir is not None:
        candidates.append(Path(data_dir) / CONFIG_NAME)
    return next((c for c in candidates if c.is_file()), None)


def read_config(path: str | os.PathLike[str] | None = None, *,
                data_dir: str | os.PathLike[str] | None = None) -> tuple[Path, dict[str, Any]] | None:
    """Find the project config and parse it: (its path, the TOML document), or None without one.

    Raises:
        UsageError: the file cannot be read or is not valid TOML.
    """
    p = find_config(path, data_dir=data_dir)
    if p is None:
        return None
    import tomllib  # only with a file: most commands have none (2 ms of imports)

    try:
        return p, tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{p}: cannot read config: {exc}") from exc


def load_config(path: str | os.PathLike[str] | None = None, *, data_dir: str | os.PathLike[str] | None = None) -> PageConfig:
    """Find and parse the project config (see the module docstring).

    Returns:
        The page config; the defaults (normalization on, no rules) without a file.

    Raises:
        UsageError: the file is not valid TOML or a rule is malformed.
    """
    found = read_config(path, data_dir=data_dir)
    if found is None:
        return PageConfig()
    p, doc = found
    return config_from_dict(doc, source=str(p))


def allow_writes_setting(path: str | os.PathLike[str] | None = None, *,
                         data_dir: str | os.PathLike[str] | None = None) -> bool:
    """``[sql] allow_writes`` of the project config; False without a file or key.

    Raises:
        UsageError: the file is not valid TOML or the value is not true/false.
    """
    found = read_config(path, data_dir=data_dir)
    if found is None:
        return False
    p, doc = found
    sql = doc.get("sql", {})
    if not isinstance(sql, dict):
        raise UsageError(f"{p}: [sql] must be a table", hint="[sql] takes allow_writes = true or false")
    value = sql.get("allow_writes", False)
    if not isinstance(value, bool):
        raise UsageError(f"{p}: sql.allow_writes must be true or false, got {value!r}",
                         hint="[sql] takes allow_writes = true or false")
    return value


def config_from_dict(doc: dict[str, Any], *, source: str | None = None) -> PageConfig:
    """Build a ``PageConfig`` from a parsed TOML document, validating every rule.

    Raises:
        UsageError: a key has the wrong type or a pattern does not compile.
    """
    where = source or "config"
    pages = doc.get("pages", {})
    http = doc.get("http", {})
    if not isinstance(pages, dict) or not isinstance(http, dict):
        raise UsageError(f"{where}: [pages] and [http] must be tables")
    enabled = pages.get("normalize", True)
    auto_ids = pages.get("auto_ids", True)
    for key, val in (("pages.normalize", enabled), ("pages.auto_ids", auto_ids)):
        if not isinstance(val, bool):
            raise UsageError(f"{where}: {key} must be true or false, got {val!r}")
    return PageConfig(
        enabled=enabled,
        auto_ids=auto_ids,
        rules=_rules(pages.get("rules", []), f"{where}: pages.rules"),
        http_rules=_rules(http.get("rules", []), f"{where}: http.rules"),
        exclude=_patterns(pages.get("exclude", []), f"{where}: pages.exclude"),
        include=_patterns(pages.get("include", []), f"{where}: pages.include"),
        source=source,
    )


def _patterns(raw: Any, where: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(p, str) and p and "\x00" not in p for p in raw):
        raise UsageError(f"{where} must be a list of non-empty regular expressions (strings)",
                         hint="e.g. exclude = ['^/admin', '^/internal/']")
    for i, p in enumerate(raw, 1):
        _check_regex(p, f"{where} #{i}")
    return tuple(raw)


def page_kept_sql(expr: str, cfg: PageConfig | None = None) -> str:
    """SQL predicate: the page view whose raw page id is ``expr`` passes ``exclude`` and ``include``.

    A page view without a page id matches no pattern: it is kept by ``exclude``
    and left out by a non-empty ``include``.
    """
    cfg = cfg or PageConfig()
    parts = [f"NOT coalesce(regexp_matches({expr}, {sql_string(p)}), false)" for p in cfg.exclude]
    if cfg.include:
        parts.append("(" + " OR ".join(f"coalesce(regexp_matches({expr}, {sql_string(p)}), false)"
                                        for p in cfg.include) + ")")
    return " AND ".join(parts) if parts else "true"


def _rules(raw: Any, where: str) -> tuple[Rule, ...]:
    if not isinstance(raw, list):
        raise UsageError(f"{where} must be an array of tables ([[...rules]])")
    out = []
    for i, r in enumerate(raw, 1):
        if not isinstance(r, dict) or set(r) - {"pattern", "replace"} or "pattern" not in r:
            raise UsageError(f"{where} #{i}: a rule has exactly `pattern` and `replace` (got {r!r})")
        pattern, replace = r["pattern"], r.get("replace", "")
        if not isinstance(pattern, str) or not isinstance(replace, str) or not pattern:
            raise UsageError(f"{where} #{i}: `pattern` must be a non-empty string and `replace` a string")
        _check_regex(pattern, f"{where} #{i}")
        for s in (pattern, replace):
            if "\x00" in s:
                raise UsageError(f"{where} #{i}: NUL characters are not allowed")
        out.append(Rule(pattern, replace))
    return tuple(out)


def _check_regex(pattern: str, where: str) -> None:
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SELECT regexp_matches('', ?)", [pattern]).fetchall()
    except duckdb.Error as exc:
        raise UsageError(f"{where}: invalid regular expression {pattern!r}: {exc}",
                         hint="patterns use RE2 syntax (no look-around, no back-references)") from exc
    finally:
        con.close()


def sql_string(value: str) -> str:
    """``value`` (a page rule's pattern or replacement) as a DuckDB string literal."""
    try:
        return quote_string(value)
    except ValueError:
        raise UsageError("NUL characters cannot appear in a pattern") from None


def _chain(expr: str, rules: tuple[Rule, ...]) -> str:
    for r in rules:
        expr = f"regexp_replace({expr}, {sql_string(r.pattern)}, {sql_string(r.replace)}, 'g')"
    return expr


def _auto_ids(expr: str) -> str:
    # A global replace consumes the slash after a match, so back-to-back ids
    # (/1/2/3) need a second pass to catch every other one.
    for _ in range(2):
        expr = f"regexp_replace({expr}, '/({ID_SEGMENT})(/|$)', '/:id\\2', 'g')"
    return expr


def page_sql(expr: str, cfg: PageConfig | None = None) -> str:
    """Return the SQL expression normalizing the page id ``expr`` (an SQL expression)."""
    cfg = cfg or PageConfig()
    if not cfg.enabled:
        return expr
    # 1. query string and fragment (hash-route ids keep theirs), 2. trailing slashes.
    e = f"CASE WHEN starts_with({expr}, '#') THEN {expr} ELSE regexp_replace({expr}, '[?#].*$', '') END"
    e = f"regexp_replace({e}, '(.)/+$', '\\1')"
    e = _chain(e, cfg.rules)
    if cfg.auto_ids:
        e = _auto_ids(e)
    return e


def url_sql(expr: str, cfg: PageConfig | None = None) -> str:
    """Return the SQL expression turning the URL ``expr`` into a ``host + path`` pattern.

    The scheme, user info, query string and fragment go, the host is
    lowercased; a relative URL keeps its path only.
    """
    cfg = cfg or PageConfig()
    if not cfg.enabled:
        return expr
    host = f"lower(regexp_extract({expr}, '^[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/?#]*@)?([^/?#]*)', 1))"
    path = f"regexp_replace(regexp_replace({expr}, '^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*', ''), '[?#].*$', '')"
    path = f"regexp_replace({path}, '(.)/+$', '\\1')"
    e = f"({host} || {path})"
    e = _chain(e, cfg.http_rules)
    if cfg.auto_ids:
        e = _auto_ids(e)
    return e


def install_macros(con: Any, cfg: PageConfig | None = None) -> None:
    """Create the scalar macros ``rumq_page(p)`` and ``rumq_url(u)`` on ``con``.

    They make the normalization available to ad-hoc SQL (``rumq sql``).
    """
    con.execute(f"CREATE OR REPLACE MACRO rumq_page(p) AS {page_sql('p', cfg)}").fetchall()
    con.execute(f"CREATE OR REPLACE MACRO rumq_url(u) AS {url_sql('u', cfg)}").fetchall()


def normalize(values: list[str | None], cfg: PageConfig | None = None, *, kind: str = "page") -> list[str | None]:
    """Normalize page ids (``kind="page"``) or URLs (``kind="url"``) in Python, via DuckDB.

    Handy for checking a config: ``normalize(["/orders/12?x=1"])`` -> ``["/orders/:id"]``.
    """
    import duckdb

    fn = page_sql if kind == "page" else url_sql
    con = duckdb.connect()
    try:
        rows = con.execute(
            f"SELECT {fn('v', cfg)} FROM unnest(?::VARCHAR[]) WITH ORDINALITY AS t(v, i) ORDER BY i",
            [values],
        ).fetchall()
    finally:
        con.close()
    return [r[0] for r in rows]
