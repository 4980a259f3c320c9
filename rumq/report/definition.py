"""Report definitions: a TOML file, parsed and checked before anything runs.

Every problem is a ``ReportDefinitionError`` that names the file and the line
(``reports/daily.toml:14: ...``): TOML syntax errors carry tomllib's position;
for the rest (an unknown query, a bad parameter, a malformed threshold) the
line of the offending key is found in the text. Queries are looked up in the
libraries and their parameters resolved here, so a typo never costs a run.
See docs/reports.md for the format.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rumq.errors import (
    ParameterError,
    QueryDefinitionError,
    ReportDefinitionError,
    RumqError,
    UnknownQueryError,
)
from rumq.library import Library, Query
from rumq.objectstore import is_url
from rumq.params import resolve
from rumq.report import thresholds as th
from rumq.report import window as win

TOP_KEYS = {"title", "description", "dataset", "window", "app", "queries", "out", "ingest", "section",
            "allow_writes", "engine"}
INGEST_KEYS = {"paths", "format", "log_group"}
CHART_KINDS = ("timeseries", "bar", "flow", "vitals", "table", "none")
#: chart kind -> the section keys that configure it
CHART_KEYS: dict[str, set[str]] = {
    "timeseries": {"x", "y", "group", "n"},
    "bar": {"label", "value", "limit", "n"},
    "flow": {"from", "to", "value", "limit"},
    "vitals": {"label", "limit"},
    "table": set(),
    "none": set(),
}
SECTION_KEYS = {"id", "title", "query", "params", "chart", "thresholds", "rows", "note", "estimate"} | set().union(
    *CHART_KEYS.values()
)
#: Columns a chart kind reads when its keys are not given.
CHART_DEFAULT_COLUMNS = {
    "flow": {"from": "from_page", "to": "to_page", "value": "transitions"},
    "vitals": {"metric": "metric", "good": "good", "needs_improvement": "needs_improvement", "poor": "poor"},
}
ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
DEFAULT_ROWS = 20
HINT = "see docs/reports.md for the report definition format"


@dataclass(frozen=True)
class ChartSpec:
    """How a section is drawn: ``kind`` plus its column options (``x``, ``y``, ...)."""

    kind: str
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IngestStep:
    """Exports to ingest before the sections run (paths absolute or globs)."""

    paths: tuple[str, ...]
    format: str | None = None
    log_group: str | None = None


@dataclass(frozen=True)
class Section:
    """One section of a report: a named query, its chart and thresholds.

    Attributes:
        id: file-name-safe id (``<id>.csv``, ``<id>.parquet``).
        title: heading.
        query: the named query, looked up when the definition was loaded.
        params: the parameters as written in the definition.
        resolved: every declared parameter, parsed, defaults filled in.
        chart: the chart.
        thresholds: parsed threshold expressions.
        rows: rows shown in the report's table.
        note: optional text shown under the heading.
        estimate: scale the query's count-like columns by the session sample
            rate (``rumq.sampling``; ``rumq run --estimate``).
        line: the line of the section's header in the file.
    """

    id: str
    title: str
    query: Query
    params: Mapping[str, Any]
    resolved: Mapping[str, Any]
    chart: ChartSpec
    thresholds: tuple[th.Threshold, ...]
    rows: int = DEFAULT_ROWS
    note: str = ""
    line: int | None = None
    estimate: bool = False

    def shown_params(self) -> dict[str, Any]:
        """Every parameter as a user would write it (for run.json and the report)."""
        return {p.name: p.show(self.resolved[p.name]) for p in self.query.params}

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "query": self.query.name,
            "query_source": self.query.source,
            "query_kind": self.query.kind,
            "params": self.shown_params(),
            "chart": {"kind": self.chart.kind, **dict(self.chart.options)},
            "thresholds": [t.text for t in self.thresholds],
            "rows": self.rows,
            "note": self.note,
            "estimate": self.estimate,
        }


@dataclass(frozen=True)
class ReportDefinition:
    """A loaded, checked report definition.

    Attributes:
        path: the TOML file.
        name: its stem (``daily``).
        title: the report's title.
        description: a paragraph under the title.
        dataset: the dataset directory (absolute), or None to use ``--data``.
        window: the window spec (``yesterday``, ``7d``...).
        app: only this application id, or None.
        queries: user query library directories (absolute).
        out: default output directory (absolute), or None.
        ingest: the optional ingest step.
        sections: the sections, in order.
        library: the query library the sections were looked up in.
        text: the file's text.
        allow_writes: ``allow_writes`` of the file: True lets the sections' SQL
            write (``rumq.catalog``); None (absent) leaves it to rumq.toml.
        engine: where the sections run: ``duckdb`` (the default) or another engine
            that runs queries (``run_engines()``; ``spark``); every section's
            query is rendered for it when the file loads.
    """

    path: str
    name: str
    title: str
    description: str
    dataset: str | None
    window: str
    app: str | None
    queries: tuple[str, ...]
    out: str | None
    ingest: IngestStep | None
    sections: tuple[Section, ...]
    library: Library
    text: str
    allow_writes: bool | None = None
    engine: str = "duckdb"

    def to_json(self) -> dict[str, Any]:
        """The definition as resolved (paths absolute, parameters filled in)."""
        return {
            "path": self.path,
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "dataset": self.dataset,
            "window": self.window,
            "app": self.app,
            "queries": list(self.queries),
            "out": self.out,
            "ingest": None if self.ingest is None else {
                "paths": list(self.ingest.paths), "format": self.ingest.format,
                "log_group": self.ingest.log_group,
            },
            "sections": [s.to_json() for s in self.sections],
            "allow_writes": self.allow_writes,
            "engine": self.engine,
        }


def run_engines() -> list[str]:
    """The engines a report can run its sections on: those of ``--engine`` that run queries."""
    from rumq.engines import ENGINES

    return [e for e in ENGINES if e != "athena"]


# -- finding lines ------------------------------------------------------------------

_HEADER_RE = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY_RE = re.compile(r'^\s*("[^"]*"|\'[^\']*\'|[A-Za-z0-9_-]+)\s*=\s*(.*)$')
_INLINE_KEY_RE = re.compile(r'(?:^|[{,])\s*("[^"]*"|[A-Za-z0-9_-]+)\s*=')
_STRING_RE = re.compile(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'')


class Locator:
    """Line numbers of keys in a TOML text, by path (``("section", 2, "query")``).

    A light scan, not a parser: it knows tables, arrays of tables, ``key =``
    lines, inline tables on one line and string items of arrays, which is what
    report definitions use. Unknown paths fall back to their nearest parent.
    """

    def __init__(self, text: str) -> None:
        self.lines: dict[tuple[Any, ...], int] = {}
        counts: dict[tuple[Any, ...], int] = {}
        table: tuple[Any, ...] = ()
        src = text.splitlines()
        i = 0
        while i < len(src):
            line = src[i]
            n = i + 1
            h = _HEADER_RE.match(line)
            if h and not line.lstrip().startswith("#"):
                names = [p.strip().strip('"\'') for p in h.group(2).split(".")]
                path: list[Any] = []
                for j, part in enumerate(names):
                    path.append(part)
                    last = j == len(names) - 1
                    key = tuple(path)
                    if last and h.group(1) == "[[":
                        counts[key] = counts.get(key, -1) + 1
                        path.append(counts[key])
                    elif key in counts:
                        path.append(counts[key])
                table = tuple(path)
                self.lines.setdefault(table, n)
                i += 1
                continue
            k = _KEY_RE.match(line)
            if k and not line.lstrip().startswith("#"):
                key = (*table, k.group(1).strip('"\''))
                self.lines.setdefault(key, n)
                rest = k.group(2)
                if rest.startswith("{"):
                    for m in _INLINE_KEY_RE.finditer(rest):
                        self.lines.setdefault((*key, m.group(1).strip('"\'')), n)
                elif rest.startswith("["):
                    # items of a (possibly multi-line) array of strings
                    depth, idx, j, chunk = 0, 0, i, rest
                    while True:
                        for m in re.finditer(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'|[\[\]]', chunk):
                            tok = m.group(0)
                            if tok == "[":
                                depth += 1
                            elif tok == "]":
                                depth -= 1
                            else:
                                self.lines.setdefault((*key, idx), j + 1)
                                idx += 1
                        if depth <= 0 or j + 1 >= len(src):
                            break
                        j += 1
                        chunk = src[j].split("#", 1)[0] if "#" in src[j] and '"' not in src[j] else src[j]
                    i = j
            i += 1

    def line(self, *path: Any) -> int | None:
        """The line of ``path``, or of its nearest known parent."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return None


# -- loading ---------------------------------------------------------------------------


def load(
    path: str | os.PathLike[str],
    *,
    queries: Iterable[str | os.PathLike[str]] | None = None,
    env: Mapping[str, str] | None = None,
) -> ReportDefinition:
    """Read and check a report definition; nothing runs.

    Args:
        path: the TOML file.
        queries: extra user query libraries (before the definition's own).
        env: environment for ``RUMQ_QUERIES`` (default ``os.environ``).

    Returns:
        The checked definition.

    Raises:
        ReportDefinitionError: naming the file and line of the first problem.
    """
    p = Path(path)
    shown = os.fspath(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportDefinitionError(f"{shown}: no such report definition") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ReportDefinitionError(f"{shown}: cannot be read: {e}") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        m = re.search(r"\s*\(at line (\d+), column (\d+)\)\s*$", msg)
        if m:
            msg = msg[: m.start()]
            where = f"{shown}:{m.group(1)}:{m.group(2)}"
        else:
            m2 = re.search(r"\(at end of document\)", msg)
            where = f"{shown}:{len(text.splitlines()) or 1}" if m2 else shown
        raise ReportDefinitionError(f"{where}: not valid TOML: {msg}", hint=HINT) from None
    return _check(doc, text, shown, p.resolve().parent, queries=queries, env=env)


def _check(
    doc: dict[str, Any],
    text: str,
    shown: str,
    base: Path,
    *,
    queries: Iterable[str | os.PathLike[str]] | None,
    env: Mapping[str, str] | None,
) -> ReportDefinition:
    loc = Locator(text)

    def fail(problem: str, *where: Any, hint: str = HINT) -> ReportDefinitionError:
        line = loc.line(*where) if where else None
        prefix = f"{shown}:{line}" if line else shown
        return ReportDefinitionError(f"{prefix}: {problem}", hint=hint)

    def string(value: Any, *where: Any, optional: bool = True) -> str | None:
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            raise fail(f"'{where[-1]}' must be a non-empty string", *where)
        return value

    def rel(value: str) -> str:
        return os.fspath((base / os.path.expanduser(value)).resolve())

    unknown = sorted(set(doc) - TOP_KEYS)
    if unknown:
        raise fail(f"unknown key '{unknown[0]}'; allowed: {', '.join(sorted(TOP_KEYS))}", unknown[0])
    title = string(doc.get("title"), "title") or Path(shown).stem
    description = string(doc.get("description"), "description") or ""
    dataset = string(doc.get("dataset"), "dataset")
    if "window" not in doc:
        raise fail("missing 'window' (e.g. window = \"yesterday\", \"1d\", \"7d\", \"last-week\")")
    window = string(doc["window"], "window", optional=False) or ""
    try:
        win.check_spec(window)
    except ValueError as e:
        raise fail(str(e), "window") from None
    app = string(doc.get("app"), "app")
    out = string(doc.get("out"), "out")
    allow_writes = doc.get("allow_writes")
    if allow_writes is not None and not isinstance(allow_writes, bool):
        raise fail("'allow_writes' must be true or false (SQL is read-only unless true)", "allow_writes")
    engine = string(doc.get("engine"), "engine") or "duckdb"
    if engine not in run_engines():
        raise fail(f"unknown engine {engine!r}; a report runs on {', '.join(run_engines())} "
                   "(athena only prints SQL: rumq run NAME --engine athena --print-sql)", "engine")
    raw_q = doc.get("queries", [])
    if isinstance(raw_q, str):
        raw_q = [raw_q]
    if not isinstance(raw_q, list) or not all(isinstance(q, str) and q.strip() for q in raw_q):
        raise fail("'queries' must be a list of query library directories", "queries")
    lib_dirs = [os.fspath(d) for d in queries or ()]
    for i, q in enumerate(raw_q):
        d = rel(q)
        if not Path(d).is_dir():
            raise fail(f"query library {q!r} is not a directory (paths are relative to the report file)",
                       "queries", i)
        lib_dirs.append(d)
    try:
        library = Library(lib_dirs, env=env)
    except Exception as e:  # a RUMQ_QUERIES directory that does not exist
        raise fail(str(e)) from None

    ingest = None
    if "ingest" in doc:
        raw = doc["ingest"]
        if not isinstance(raw, dict):
            raise fail("'ingest' must be a table ([ingest] with paths = [...])", "ingest")
        bad = sorted(set(raw) - INGEST_KEYS)
        if bad:
            raise fail(f"unknown key '{bad[0]}' in [ingest]; allowed: {', '.join(sorted(INGEST_KEYS))}",
                       "ingest", bad[0])
        paths = raw.get("paths")
        if isinstance(paths, str):
            paths = [paths]
        if not isinstance(paths, list) or not paths or not all(isinstance(x, str) and x for x in paths):
            raise fail("[ingest] needs paths = [\"...\"] (files, directories or globs)", "ingest", "paths")
        fmt = string(raw.get("format"), "ingest", "format")
        if fmt is not None:
            from rumq.ingest import FORMATS as INGEST_FORMATS  # noqa: N811

            if fmt not in INGEST_FORMATS:
                raise fail(f"unknown ingest format {fmt!r}; choose from {', '.join(INGEST_FORMATS)}",
                           "ingest", "format")
        ingest = IngestStep(tuple(rel(x) for x in paths), fmt, string(raw.get("log_group"), "ingest", "log_group"))

    raw_sections = doc.get("section")
    if not isinstance(raw_sections, list) or not raw_sections:
        raise fail("a report needs at least one [[section]] with a query", "section")
    sections: list[Section] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(raw_sections):
        sections.append(_section(raw, i, library, fail, loc.line("section", i)))
        sid = sections[-1].id
        if sid in seen:
            raise fail(f"section id '{sid}' is used twice (also section {seen[sid] + 1}); "
                       "give one of them an id = \"...\"", "section", i, "id")
        seen[sid] = i
    if engine != "duckdb":
        from rumq.engines.portability import check

        for i, sec in enumerate(sections):
            try:
                check(sec.query, sec.resolved, engine)
            except RumqError as e:
                why = str(e).splitlines()[0].removeprefix(f"{sec.query.name}: ")
                raise fail(f"section '{sec.id}': {why}", "section", i, "query",
                           hint=f"remove engine = \"{engine}\" to run the report on DuckDB; "
                                "docs/engines.md lists what each engine runs") from None
    return ReportDefinition(
        path=os.fspath(Path(shown).resolve()),
        name=Path(shown).stem,
        title=title,
        description=description,
        # An s3:// dataset is a URL, not a path relative to the definition.
        dataset=(dataset if is_url(dataset) else rel(dataset)) if dataset else None,
        window=window,
        app=app,
        queries=tuple(lib_dirs),
        out=rel(out) if out else None,
        ingest=ingest,
        sections=tuple(sections),
        library=library,
        text=text,
        allow_writes=allow_writes,
        engine=engine,
    )


def _section(raw: Any, i: int, library: Library, fail: Any, line: int | None) -> Section:
    where = ("section", i)
    if not isinstance(raw, dict):
        raise fail("each [[section]] must be a table", *where)
    bad = sorted(set(raw) - SECTION_KEYS)
    if bad:
        raise fail(f"unknown key '{bad[0]}' in section {i + 1}; allowed: {', '.join(sorted(SECTION_KEYS))}",
                   *where, bad[0])
    name = raw.get("query")
    if not isinstance(name, str) or not name.strip():
        raise fail(f"section {i + 1} needs query = \"folder/name\" (`rumq queries` lists them)", *where, "query")
    try:
        query = library.get(name)
    except UnknownQueryError as e:
        raise fail(e.message, *where, "query", hint=e.hint) from None
    except QueryDefinitionError as e:
        raise fail(f"query '{name}' is malformed: {e.message}", *where, "query") from None
    params = raw.get("params", {})
    if not isinstance(params, dict):
        raise fail("'params' must be a table, e.g. params = { top = 10 }", *where, "params")
    try:
        resolved = resolve(query.params, params, query=query.name)
    except ParameterError as e:
        m = re.search(r"parameter '([^']+)'", e.message)
        key = m.group(1) if m and m.group(1) in params else None
        path = (*where, "params", key) if key else (*where, "params")
        raise fail(e.message, *path, hint=e.hint) from None
    sid = raw.get("id", query.name.replace("/", "-"))
    if not isinstance(sid, str) or not ID_RE.match(sid):
        raise fail(f"section id {sid!r} must be lower-case letters, digits, _ and - "
                   "(it names the section's files)", *where, "id")
    title = raw.get("title", query.description)
    if not isinstance(title, str) or not title.strip():
        raise fail("'title' must be a non-empty string", *where, "title")
    note = raw.get("note", "")
    if not isinstance(note, str):
        raise fail("'note' must be a string", *where, "note")
    estimate = raw.get("estimate", False)
    if not isinstance(estimate, bool):
        raise fail("'estimate' must be true or false (scale counts by the session sample rate)", *where, "estimate")
    if estimate and not query.header.get("estimate"):
        raise fail(f"estimate = true: query '{query.name}' declares no count-like columns to scale", *where,
                   "estimate")
    rows = raw.get("rows", DEFAULT_ROWS)
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
        raise fail("'rows' must be a whole number >= 0 (rows shown in the report's table)", *where, "rows")

    kind = raw.get("chart", "table")
    if kind not in CHART_KINDS:
        raise fail(f"unknown chart {kind!r}; choose from {', '.join(CHART_KINDS)}", *where, "chart")
    options: dict[str, Any] = {}
    chart_keys = set().union(*CHART_KEYS.values())
    for key in sorted(chart_keys & set(raw)):
        if key not in CHART_KEYS[kind]:
            raise fail(f"'{key}' does not apply to chart = \"{kind}\" (it takes: "
                       f"{', '.join(sorted(CHART_KEYS[kind])) or 'no options'})", *where, key)
        value = raw[key]
        if key == "limit":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise fail("'limit' must be a whole number >= 1", *where, key)
        elif key == "y" or (key == "label" and kind == "bar" and isinstance(value, list)):
            value = [value] if isinstance(value, str) else value
            if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
                raise fail(f"'{key}' must be a column name or a list of column names", *where, key)
        elif not isinstance(value, str) or not value:
            raise fail(f"'{key}' must be a column name", *where, key)
        options[key] = value

    declared = {c.name for c in query.columns}
    needed: list[tuple[str, str]] = []  # (column, key that asked for it)
    for key, value in options.items():
        if key == "limit":
            continue
        for col in value if isinstance(value, list) else [value]:
            needed.append((col, key))
    for key, col in CHART_DEFAULT_COLUMNS.get(kind, {}).items():
        if key not in options:
            needed.append((col, "chart"))
    if declared:
        for col, key in needed:
            if col not in declared:
                raise fail(f"query '{query.name}' has no column '{col}' (for chart \"{kind}\"); its columns: "
                           f"{', '.join(c.name for c in query.columns)}", *where, key)

    raw_t = raw.get("thresholds", [])
    if isinstance(raw_t, str):
        raw_t = [raw_t]
    if not isinstance(raw_t, list):
        raise fail("'thresholds' must be a list of expressions like \"sessions < 100\"", *where, "thresholds")
    parsed: list[th.Threshold] = []
    for j, text in enumerate(raw_t):
        try:
            t = th.parse(text)
        except th.ThresholdSyntaxError as e:
            raise fail(f"bad threshold: {e}", *where, "thresholds", j,
                       hint="see docs/reports.md (thresholds)") from None
        if declared:
            for col in t.columns():
                if col not in declared:
                    raise fail(f"threshold {t.text!r}: query '{query.name}' has no column '{col}'; its "
                               f"columns: {', '.join(c.name for c in query.columns)}",
                               *where, "thresholds", j)
        parsed.append(t)
    return Section(
        id=sid,
        title=title.strip(),
        query=query,
        params=dict(params),
        resolved=resolved,
        chart=ChartSpec(kind, options),
        thresholds=tuple(parsed),
        rows=rows,
        note=note.strip(),
        line=line,
        estimate=estimate,
    )
