"""The named query library: query files with a YAML front matter header.

Queries come from the built-in library (the ``rumq.queries`` package, the
top-level ``queries/`` folder of the source tree) and from user libraries given
with ``--queries DIR`` (repeatable) or ``RUMQ_QUERIES`` (``os.pathsep``
separated). Lookup follows a search path like ``PATH``: ``--queries``
directories in the order given, then ``RUMQ_QUERIES`` ones, then the
built-ins; the first file with a name wins, and a user query that hides a
built-in (or another user query) produces a notice.

A file is ``<folder>/<name>.sql`` (DuckDB SQL), ``.insights`` (Logs Insights)
or ``.py`` (a Polars query: a function ``query(views, params)`` returning a
LazyFrame, run by ``rumq.engines.polars_query``), starting with a header in
comment lines (format in docs/queries.md)::

    -- ---
    -- name: pages/drop_off
    -- description: Pages where sessions end
    -- params:
    --   - {name: top, type: int, default: 20, min: 1}
    -- ---
    SELECT ... LIMIT $top

A malformed file becomes a ``QueryDefinitionError`` naming the file and the
problem; listing keeps going with the others.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rumq.errors import QueryDefinitionError, UnknownQueryError, UsageError
from rumq.params import ParamSpec, placeholders, referenced_names

ENV_VAR = "RUMQ_QUERIES"
BUILTIN = "built-in"
EXTENSIONS = {".sql": "sql", ".insights": "insights", ".py": "polars"}
#: comment prefix of the header lines, per kind
PREFIX = {"sql": "--", "insights": "#", "polars": "#"}
NAME_RE = re.compile(r"^[a-z0-9_][a-z0-9_-]*(/[a-z0-9_][a-z0-9_-]*)*$")
HEADER_KEYS = ("name", "description", "definition", "session_based", "params", "columns")
COLUMN_KEYS = frozenset({"name", "type", "meaning"})


@dataclass(frozen=True)
class ColumnSpec:
    """One documented output column of a query."""

    name: str
    type: str = ""
    meaning: str = ""


@dataclass(frozen=True)
class Query:
    """A parsed query file.

    Attributes:
        name: folder-style id, e.g. ``pages/drop_off``.
        kind: ``sql``, ``insights`` or ``polars`` (a ``.py`` file).
        description: one line.
        definition: paragraph(s) on how each output column is computed.
        session_based: whether results are session-based (carry ``coverage``).
        params: declared parameters, in header order.
        columns: documented output columns.
        body: the query text after the header.
        text: the whole file.
        path: the file (a filesystem path, or the resource path of a built-in).
        source: ``built-in`` or the user library directory it came from.
        header: the raw front matter mapping (extra keys are kept here).
    """

    name: str
    kind: str
    description: str
    body: str
    text: str
    path: str
    source: str
    definition: str = ""
    session_based: bool = False
    params: tuple[ParamSpec, ...] = ()
    columns: tuple[ColumnSpec, ...] = ()
    header: Mapping[str, Any] = field(default_factory=dict)

    @property
    def builtin(self) -> bool:
        """True for queries shipped with rumq."""
        return self.source == BUILTIN

    def param(self, name: str) -> ParamSpec | None:
        """The declared parameter called ``name``, if any."""
        return next((p for p in self.params if p.name == name), None)

    def header_text(self) -> str:
        """The header block as written in the file (comment prefixes included)."""
        return self.text[: len(self.text) - len(self.body)].rstrip("\n")


class FrontMatterError(ValueError):
    """A front matter block that is opened but malformed; ``line`` is 1-based."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class FrontMatter:
    """A header block split off a query file.

    Attributes:
        line: 1-based line of the opening ``<prefix> ---`` marker.
        yaml_text: the header lines with their comment prefixes removed.
        body: everything after the closing marker line.
    """

    line: int
    yaml_text: str
    body: str


def _first_text_line(text: str) -> int:
    """1-based number of the first line of ``text`` that is not blank (or one past the end)."""
    lines = text.splitlines()
    return next((i + 1 for i, line in enumerate(lines) if line.strip()), len(lines) + 1)


def split_front_matter(text: str, prefix: str) -> FrontMatter | None:
    """Split a ``<prefix> ---`` ... ``<prefix> ---`` header off ``text``.

    The header starts at the first line that is not blank; each of its lines is
    the comment prefix and a space (or the bare prefix for an empty line).

    Args:
        text: the file content.
        prefix: the comment prefix of the file's language (``--`` or ``#``).

    Returns:
        The header and the body, or None when ``text`` does not start with a header.

    Raises:
        FrontMatterError: the header is not closed, or one of its lines lacks the prefix.
    """
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i >= len(lines) or lines[i].strip() != f"{prefix} ---":
        return None
    start = i + 1
    yaml_lines: list[str] = []
    j = start
    while j < len(lines):
        raw = lines[j].rstrip("\r\n")
        if raw.strip() == f"{prefix} ---":
            break
        if raw.rstrip() == prefix:
            yaml_lines.append("")
        elif raw.startswith(prefix + " "):
            yaml_lines.append(raw[len(prefix) + 1 :])
        else:
            raise FrontMatterError(f"header line does not start with '{prefix} ' (unterminated header?)", j + 1)
        j += 1
    else:
        raise FrontMatterError(f"front matter is not closed by a '{prefix} ---' line", start)
    return FrontMatter(start, "\n".join(yaml_lines), "".join(lines[j + 1 :]))


@functools.lru_cache(maxsize=1024)
def _parse_cached(text: str, path: str, expected_name: str, kind: str, source: str, index: bool = True) -> Query:
    # A notebook runs queries again and again and the files rarely change:
    # parse each YAML header once.
    return parse_query(text, path=path, expected_name=expected_name, kind=kind, source=source, index=index)


def parse_query(text: str, *, path: str, expected_name: str, kind: str, source: str, index: bool = True) -> Query:
    """Parse one query file.

    Args:
        text: the file content.
        path: the file, for messages.
        expected_name: the name its location implies (relative path, no extension).
        kind: ``sql``, ``insights`` or ``polars``.
        source: ``built-in`` or the library directory.
        index: for a built-in whose text is the shipped one, take the header
            from ``rumq.library_index`` instead of parsing its YAML (the same
            checks follow either way).

    Returns:
        The parsed query.

    Raises:
        QueryDefinitionError: naming the file (and line where known) and the problem.
    """

    def fail(problem: str, line: int | None = None) -> QueryDefinitionError:
        where = f"{path}:{line}" if line else path
        return QueryDefinitionError(
            f"{where}: {problem}", hint="see docs/queries.md for the query file format"
        )

    prefix = PREFIX[kind]
    try:
        split = split_front_matter(text, prefix)
    except FrontMatterError as e:
        raise fail(str(e), e.line) from None
    if split is None:
        raise fail(f"missing front matter: the file must start with a '{prefix} ---' line", _first_text_line(text))
    start, yaml_text, body = split.line, split.yaml_text, split.body
    header: Any = None
    if index and source == BUILTIN:
        from rumq.library_index import shipped_header

        header = shipped_header(expected_name, text)
    if header is None:
        header = _load_yaml(yaml_text, start, fail)
    if not isinstance(header, dict):
        raise fail("front matter must be a YAML mapping (key: value lines)", start + 1)

    name = header.get("name")
    if name is None:
        raise fail("front matter has no 'name'")
    if name != expected_name:
        raise fail(f"name {name!r} does not match the file's place in the library ({expected_name!r})")
    if not NAME_RE.match(str(name)):
        raise fail(f"name {name!r} must be lower-case path segments of letters, digits, _ and -")
    description = header.get("description")
    if not isinstance(description, str) or not description.strip():
        raise fail("front matter has no 'description' (one line)")
    if "\n" in description.strip():
        raise fail("'description' must be one line (put details in 'definition')")
    definition = header.get("definition") or ""
    if not isinstance(definition, str):
        raise fail("'definition' must be text")
    session_based = header.get("session_based", False)
    if not isinstance(session_based, bool):
        raise fail("'session_based' must be true or false")

    raw_params = header.get("params") or []
    if not isinstance(raw_params, list):
        raise fail("'params' must be a list of parameters")
    params: list[ParamSpec] = []
    for raw in raw_params:
        try:
            spec = ParamSpec.from_header(raw)
        except ValueError as e:
            raise fail(str(e)) from None
        if any(p.name == spec.name for p in params):
            raise fail(f"parameter '{spec.name}' is declared twice")
        params.append(spec)

    raw_cols = header.get("columns") or []
    if not isinstance(raw_cols, list):
        raise fail("'columns' must be a list of {name, type, meaning}")
    columns: list[ColumnSpec] = []
    for c in raw_cols:
        if not isinstance(c, dict) or not isinstance(c.get("name"), str):
            raise fail(f"each column needs at least a name: {c!r}")
        unknown = sorted(set(c) - COLUMN_KEYS)
        if unknown:
            raise fail(
                f"column '{c['name']}': unknown key(s) {', '.join(unknown)}; allowed: name, type, "
                "meaning (in a {...} mapping, quote a value that contains a comma)"
            )
        columns.append(ColumnSpec(c["name"], str(c.get("type") or ""), str(c.get("meaning") or "")))

    if not body.strip():
        raise fail("the query body after the front matter is empty")
    if kind == "sql":
        declared = {p.name for p in params}
        undeclared = sorted(referenced_names(body) - declared)
        if undeclared:
            raise fail(f"the SQL uses ${undeclared[0]} but no such parameter is declared")
        identifiers = {p.name for p in params if p.is_identifier}
        stray = sorted(placeholders(body) - identifiers)
        if stray:
            raise fail(
                f"placeholder {{{{{stray[0]}}}}} is not an identifier parameter "
                "(declare it with an 'sql' map of allowed fragments)"
            )
    elif kind == "polars":
        problem = _polars_problem(text, params)
        if problem:
            raise fail(*problem)
    else:
        # .insights: parameters are {{name}} placeholders, quoted by rumq.insights
        undeclared = sorted(placeholders(body) - {p.name for p in params})
        if undeclared:
            raise fail(f"the query uses {{{{{undeclared[0]}}}}} but no such parameter is declared")
    return Query(
        name=name,
        kind=kind,
        description=description.strip(),
        definition=definition.strip(),
        session_based=session_based,
        params=tuple(params),
        columns=tuple(columns),
        body=body,
        text=text,
        path=path,
        source=source,
        header=header,
    )


def _load_yaml(yaml_text: str, start: int, fail: Any) -> Any:
    """The front matter's YAML parsed (``start``: the opening marker's line, for messages)."""
    import yaml

    try:
        # libyaml's safe loader when present: much faster than the pure-Python one.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        return yaml.load(yaml_text, Loader=loader) or {}  # noqa: S506 (a safe loader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or str(e)
        raise fail(f"front matter is not valid YAML: {problem}", start + 1 + mark.line if mark else None) from None


def _polars_problem(text: str, params: Sequence[ParamSpec]) -> tuple[str, int | None] | None:
    """What is wrong with a Polars query file, and the line: (problem, line) or None.

    The file is parsed, never run: listing a library executes no user code.
    """
    import ast

    identifiers = [p.name for p in params if p.is_identifier]
    if identifiers:
        return (f"parameter '{identifiers[0]}' has an 'sql' map, which only SQL queries use "
                "(a Polars query receives the chosen value; give 'choices' instead)", None)
    try:
        tree = ast.parse(text)
    except SyntaxError as e:
        return f"Python syntax error: {e.msg}", e.lineno
    fn = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "query"), None)
    if fn is None:
        return "no function 'query(views, params)' at the top level of the file", None
    if len(fn.args.posonlyargs) + len(fn.args.args) != 2 or fn.args.vararg or fn.args.kwonlyargs:
        return "'query' must take exactly two arguments: the views and the parameters", fn.lineno
    return None


@dataclass(frozen=True)
class Listing:
    """The result of loading every library.

    Attributes:
        queries: name -> the query that wins for that name, sorted by name.
        problems: one ``QueryDefinitionError`` per malformed file.
        notices: human notices (user queries hiding built-ins or each other).
    """

    queries: dict[str, Query]
    problems: list[QueryDefinitionError]
    notices: list[str]
    #: name -> the QueryDefinitionError of a malformed file with that name
    broken: dict[str, QueryDefinitionError] = field(default_factory=dict)


def user_dirs(dirs: Iterable[str | os.PathLike[str]] | None = None, *, env: Mapping[str, str] | None = None) -> list[str]:
    """The user library directories: ``dirs`` (``--queries``) then ``RUMQ_QUERIES``."""
    out = [os.path.expanduser(os.fspath(d)) for d in dirs or ()]
    environ = os.environ if env is None else env
    out += [os.path.expanduser(d) for d in environ.get(ENV_VAR, "").split(os.pathsep) if d.strip()]
    return out


def package_root(package: str) -> Any:
    """``importlib.resources.files(package)``: the package's folder as a ``Path`` when it is one.

    A package on disk has one folder, which ``resources.files`` would return
    as that same ``Path`` after importing its readers (~0.5 ms of every command).
    """
    import importlib

    spec = importlib.import_module(package).__spec__
    folders = list(getattr(spec, "submodule_search_locations", None) or [])
    if len(folders) == 1 and os.path.isdir(folders[0]):
        return Path(folders[0])
    from importlib import resources  # a zipped or namespace package

    return resources.files(package)


def _walk_builtin(package: str = "rumq.queries") -> Iterator[tuple[str, str, str]]:
    """(relative path, resource path, text) of each built-in query file."""
    root = package_root(package)

    def walk(node: Any, rel: str) -> Iterator[tuple[str, str, str]]:
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            if child.name.startswith((".", "_")):
                continue
            sub = f"{rel}/{child.name}" if rel else child.name
            if child.is_dir():
                yield from walk(child, sub)
            elif Path(child.name).suffix in EXTENSIONS:
                # A real file (the usual install) is named by its path; a zipped one by package:path.
                where = str(child) if isinstance(child, Path) else f"{package}:{sub}"
                yield sub, where, child.read_text(encoding="utf-8")

    yield from walk(root, "")


def _walk_dir(directory: str) -> Iterator[tuple[str, str, str | None]]:
    """(relative path, file path, text or None when unreadable) of each query file."""
    root = Path(directory)
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.suffix not in EXTENSIONS or not path.is_file():
            continue
        if any(part.startswith((".", "_")) for part in path.relative_to(root).parts):
            continue
        try:
            text: str | None = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = None
        yield rel, str(path), text


class Library:
    """The search path of query libraries (user directories, then the built-ins).

    Args:
        dirs: user library directories (``--queries``), highest precedence first.
        env: the environment to read ``RUMQ_QUERIES`` from (default ``os.environ``).
        builtin: include the built-in library (tests may turn it off).
        builtin_package: the package holding the built-in library.
        builtin_index: take the built-ins' headers from ``rumq.library_index``
            when their text is the shipped one (False: parse every header).

    Raises:
        UsageError: when a user library directory does not exist.
    """

    def __init__(
        self,
        dirs: Iterable[str | os.PathLike[str]] | None = None,
        *,
        env: Mapping[str, str] | None = None,
        builtin: bool = True,
        builtin_package: str = "rumq.queries",
        builtin_index: bool = True,
    ) -> None:
        self.dirs = user_dirs(dirs, env=env)
        for d in self.dirs:
            if not Path(d).is_dir():
                raise UsageError(
                    f"query library {d!r} is not a directory",
                    hint=f"check --queries and {ENV_VAR}",
                )
        self.builtin = builtin
        self.builtin_package = builtin_package
        self.builtin_index = builtin_index
        self._listing: Listing | None = None
        self._single: dict[str, tuple[Query, list[str]]] = {}

    def _sources(self) -> Iterator[tuple[str, Iterator[tuple[str, str, str | None]]]]:
        for d in self.dirs:
            yield d, _walk_dir(d)
        if self.builtin:
            yield BUILTIN, _walk_builtin(self.builtin_package)

    def load(self) -> Listing:
        """Load every library once (cached): good queries, problems and notices."""
        if self._listing is not None:
            return self._listing
        winners: dict[str, Query] = {}
        origin: dict[str, tuple[str, str]] = {}  # name -> (source, path) of the winner
        problems: list[QueryDefinitionError] = []
        broken: dict[str, QueryDefinitionError] = {}
        notices: list[str] = []
        for source, files in self._sources():
            for rel, path, text in files:
                stem, ext = os.path.splitext(rel)
                kind = EXTENSIONS[ext]
                if text is None:
                    err = QueryDefinitionError(f"{path}: cannot be read as UTF-8 text")
                    problems.append(err)
                    broken.setdefault(stem, err)
                    continue
                if stem in origin:
                    win_source, win_path = origin[stem]
                    if win_source == source:
                        err = QueryDefinitionError(
                            f"{path}: query '{stem}' is defined twice in {source} (also {win_path})"
                        )
                        problems.append(err)
                        continue
                    what = "the built-in query" if source == BUILTIN else f"{path}"
                    notices.append(f"query '{stem}' from {win_path} overrides {what}")
                    continue
                try:
                    q = _parse_cached(text, path, stem, kind, source, self.builtin_index)
                except QueryDefinitionError as e:
                    problems.append(e)
                    broken.setdefault(stem, e)
                    origin[stem] = (source, path)
                    continue
                winners[stem] = q
                origin[stem] = (source, path)
        self._listing = Listing(dict(sorted(winners.items())), problems, notices, broken)
        return self._listing

    def refresh(self) -> None:
        """Forget the loaded listing, so the next call re-reads the files."""
        self._listing = None
        self._single = {}

    def _files_named(self, name: str) -> list[tuple[str, str, Any]]:
        """(source, path, file) of every file defining ``name``, in search-path order."""
        found = []
        parts = name.split("/")
        roots: list[tuple[str, Any]] = [(d, Path(d)) for d in self.dirs]
        if self.builtin:
            roots.append((BUILTIN, package_root(self.builtin_package)))
        for source, root in roots:
            folder = root.joinpath(*parts[:-1]) if len(parts) > 1 else root
            try:
                # Exact names from a listing: a case-insensitive file system must
                # not find 'Pages/Drop_off.sql' for 'pages/drop_off'.
                present = {c.name for c in folder.iterdir()} if folder.is_dir() else set()
            except OSError:
                continue
            for ext in EXTENSIONS:
                if parts[-1] + ext in present:
                    f = folder.joinpath(parts[-1] + ext)
                    where = str(f) if isinstance(f, Path) or source != BUILTIN else f"{self.builtin_package}:{name}{ext}"
                    found.append((source, where, f))
        return found

    def _lookup_one(self, name: str) -> tuple[Query, list[str]] | None:
        """``name`` and its override notices, reading only the files that define it.

        ``rumq run NAME`` needs one query; parsing every header of the library
        cost about 15 ms per command. None when the answer needs the full
        listing (not found, unreadable, defined twice in one library), so
        ``load`` gives the same answer and messages either way.
        """
        if name in self._single:
            return self._single[name]
        if not NAME_RE.match(name) or any(p.startswith("_") for p in name.split("/")):
            return None
        files = self._files_named(name)
        if not files or (len(files) > 1 and files[1][0] == files[0][0]):
            return None
        source, where, f = files[0]
        try:
            text = f.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        ext = os.path.splitext(where)[1]
        query = _parse_cached(text, where, name, EXTENSIONS[ext], source, self.builtin_index)
        notices = [
            f"query '{name}' from {where} overrides "
            + ("the built-in query" if other == BUILTIN else other_where)
            for other, other_where, _ in files[1:]
        ]
        self._single[name] = (query, notices)
        return self._single[name]

    def names(self) -> list[str]:
        """Sorted names of the good queries."""
        return list(self.load().queries)

    def get(self, name: str) -> Query:
        """The query called ``name``.

        Raises:
            QueryDefinitionError: when the file that defines ``name`` is malformed.
            UnknownQueryError: when no library has it (with a did-you-mean).
        """
        if self._listing is None:
            one = self._lookup_one(name)
            if one is not None:
                return one[0]
        listing = self.load()
        if name in listing.queries:
            return listing.queries[name]
        if name in listing.broken:
            raise listing.broken[name]
        raise unknown_query(name, listing.queries)

    def engines(self, *, compute: bool = True) -> dict[str, dict[str, str | None] | None]:
        """Which engines each good query runs on exactly, checked when the library loads.

        Built-ins are answered by the manifest shipped with rumq; user files by
        the user cache, or (``compute``) rendered for Spark and Trino now and
        kept there, which imports sqlglot (``rumq.engines.portability``).

        Returns:
            name -> engine (``duckdb``, ``spark``, ``trino``) -> None when the
            query runs there exactly, else the construct that keeps it off;
            None for a query not in the cache when ``compute`` is False.
        """
        from rumq.engines import portability

        return {name: portability.of(q, compute=compute) for name, q in self.load().queries.items()}

    def notices_for(self, name: str) -> list[str]:
        """The override notices that concern ``name``."""
        if self._listing is None:
            one = self._lookup_one(name)
            if one is not None:
                return one[1]
        return [n for n in self.load().notices if n.startswith(f"query '{name}' ")]


def unknown_query(name: str, known: Sequence[str] | Mapping[str, Any]) -> UnknownQueryError:
    """An ``UnknownQueryError`` with the closest known names as a did-you-mean."""
    names = list(known)
    folder = name.strip("/") + "/"
    inside = sorted(n for n in names if n.startswith(folder))
    if inside:  # `rumq run sessions`: name the queries of the folder
        shown = ", ".join(inside[:8]) + (", ..." if len(inside) > 8 else "")
        return UnknownQueryError(
            f"no query named '{name}'; '{folder}' is a folder of queries", hint=f"run one of: {shown}"
        )
    import difflib  # only for the message (every command imports this module)

    close = difflib.get_close_matches(name, names, n=3, cutoff=0.7)
    # 'drop_off' should find 'pages/drop_off' too: match the last segment.
    if not close:
        tail = {n.rsplit("/", 1)[-1]: n for n in names}
        close = [tail[t] for t in difflib.get_close_matches(name.rsplit("/", 1)[-1], tail, n=3, cutoff=0.6)]
    hint = ("did you mean " + " or ".join(f"'{c}'" for c in close) + "?") if close else (
        "`rumq queries` lists the available queries"
    )
    return UnknownQueryError(f"no query named '{name}'", hint=hint)
