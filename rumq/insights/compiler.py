"""Compile a Logs Insights ``Query`` tree to one DuckDB statement over ``events``.

Shape of the output: one CTE per stage where a stage boundary is needed (a
``parse`` adds a column; ``stats`` groups; a ``filter`` after ``limit`` must
see only the limited rows), then a final SELECT that projects the output
columns, orders and limits. Field aliases from ``fields``/``display`` are
substituted inline (DuckDB eliminates common subexpressions), so every stage
can pass all columns on with ``SELECT *``.

Safety: every value written in the query (strings, numbers, regexes, JSON
paths) reaches DuckDB as a bound parameter ``$pN``. Identifiers in the SQL are
canonical column names from ``rumq.schema`` or generated names (``_cN``,
``_pN``, ``sN``); the Logs Insights column names are returned separately
(``Compiled.columns``) and applied to the result after it is fetched.

The scalar functions and aggregates are in ``rumq.insights.functions`` (the
function table); how values print and sort is in ``rumq.insights.values``.
"""

from __future__ import annotations

import difflib
import enum
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from rumq.errors import QuerySyntaxError, QueryUnsupportedError
from rumq.insights import ast
from rumq.insights.fields import (
    ANY,
    BOOL,
    FILLED_FOR,
    JSON,
    LIST,
    NULL,
    NUM,
    STR,
    SYSTEM_FIELDS,
    TS,
    TYPED_FIELDS,
    Typed,
    json_pointer,
    json_source,
)
from rumq.insights.functions import AGGREGATES, FUNCTIONS, UNSUPPORTED_FUNCTIONS, compile_aggregate
from rumq.insights.parser import error_at
from rumq.insights.values import NUM_RE, TS_FORMAT, natural_struct, num_text
from rumq.schema import COLUMNS_BY_NAME, EVENT_NAMES, NIL_UUID
from rumq.sqltext import quote_identifier

#: Maximum number of stats commands in one query (as in AWS Logs Insights).
MAX_STATS = 2


@dataclass
class Compiled:
    """A compiled Logs Insights query.

    Attributes:
        sql: one DuckDB SELECT over the view ``events``; its result columns are
            positional (generated names), in the order of ``columns``.
        parameters: values for the ``$name`` placeholders of ``sql``.
        columns: the result column names as Logs Insights names them.
        query: the Logs Insights text it came from.
    """

    sql: str
    parameters: dict[str, object]
    columns: list[str]
    query: str = ""
    types: list[str] = field(default_factory=list)
    #: What the query asked for that rumq could not apply exactly (an unmappable SOURCE,
    #: a sort key the stats output lacks, ...): one line each, for stderr and --explain.
    notices: list[str] = field(default_factory=list)
    #: The earliest time the query reads (``diff`` reads the period before ``since``), or None.
    read_since: datetime | None = None


@dataclass
class _Stage:
    """The SELECT being built: rows of ``src`` (``events`` or an earlier CTE) filtered,
    with extra computed columns, a QUALIFY and a LIMIT. ``Compiler.wrap`` closes it."""

    src: str
    where: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    qualify: str | None = None
    limit: int | None = None


class Mode(enum.Enum):
    """Where the expression being compiled stands; decides what a name and an aggregate mean."""

    #: A row expression: in fields, display, filter, sort, parse, dedup, a function argument.
    ROW = "row"
    #: A ``by`` key of stats (a row expression; aggregates are refused as "outside stats").
    BY = "by"
    #: The top of a stats item: a name is a group key or an earlier alias of the same stats.
    STATS = "stats"
    #: Inside an aggregate's arguments: names are row fields; another aggregate is refused.
    AGG = "agg"



class Compiler:
    """Compiles one parsed query; use once (``compile()``), then discard.

    The commands are compiled left to right; each ``cmd_*`` method updates the
    state below, ``finish()`` turns it into SQL. Expressions are compiled by
    ``expr()`` into ``Typed`` SQL; calls of scalar functions are delegated to
    ``rumq.insights.functions``.

    State, by group (when it is set; what holds between two commands):

    Input, set in ``__init__`` and never changed:
        query, text: the tree and its text (``text`` positions errors).
        since, until: the time window, or None; also read by queryStartTime() etc.
        event_names: event types every row reaching stats or the output has, from
            the query's leading filters (``_event_type_constraint``), or None.

    Accumulated output, only ever grows:
        params: bound parameter values, ``p0``, ``p1``, ... in order of creation;
            ``param()`` is the only way a value reaches the SQL.
        ctes: closed stages ``s1``, ``s2``, ... as ``name AS (SELECT ...)`` text.
        ncol: counter behind the generated column names ``_cN`` and ``_pN``.

    The open stage:
        stage: the SELECT being built. Its ``src`` is ``events`` or the last CTE in
            ``ctes``. ``wrap()`` closes it as a CTE when a command must see the
            rows it produces (a filter after a limit, a dedup, a parse column);
            ``cmd_stats`` closes it as a grouped CTE.

    Names:
        scope: Logs Insights name -> Typed for aliases (fields/display ``as``,
            parse groups); after a stats it is replaced by that stats' output.
        after_stats: False until the first stats; then raw event fields no longer
            exist and only names in ``scope`` resolve.
        stats_count: stats commands seen, at most ``MAX_STATS``.

    Ordering:
        order: the terms of the last ``sort``, or None; reset by stats.
        default_order: used when ``order`` is None: newest first before stats,
            the group keys ascending after it.

    Output columns (the last of these that applies is used by ``finish``):
        fields_out: accumulated ``fields`` items; reset by stats.
        display_out: the last ``display``, or None; reset by stats.
        stats_out: the output of the last stats.

    Expression context, meaningful only while ``cmd_stats`` compiles its items:
        mode: a ``Mode``; ``Mode.ROW`` between commands.
        stats_keys: the ``by`` keys by text, field name and alias; empty between commands.
        stats_local: aliases of earlier items of the same stats; empty between commands.
    """

    def __init__(self, query: ast.Query, *, since: datetime | None = None, until: datetime | None = None) -> None:
        self.query = query
        self.text = query.text
        self.since, self.until = since, until
        self.event_names = _event_type_constraint(query)
        self.params: dict[str, object] = {}
        self.ctes: list[str] = []
        self.ncol = 0
        self.stage = _Stage("events")
        self.scope: dict[str, Typed] = {}
        self.after_stats = False
        self.stats_count = 0
        self.order: list[str] | None = None
        # Newest first. No tie-break on event_id: that would make every "filter | limit"
        # read one more column, and Logs Insights leaves equal timestamps unordered too.
        self.default_order: list[str] = ["event_time DESC NULLS LAST"]
        self.fields_out: list[tuple[str, Typed]] = []
        self.display_out: list[tuple[str, Typed]] | None = None
        self.stats_out: list[tuple[str, Typed]] = []
        self.mode = Mode.ROW
        self.stats_local: dict[str, Typed] = {}
        self.stats_keys: dict[str, Typed] = {}
        self.notices: list[str] = []
        #: names whose members (``name.a.b``) are read from JSON text: unnest elements.
        self.json_src: dict[str, str] = {}
        self.read_since: datetime | None = None
        #: set when the query has ``diff``: SQL true for rows of the current period.
        self.current_period: str | None = None
        cmds = query.commands
        for i, cmd in enumerate(cmds):
            if isinstance(cmd, ast.Diff) and (i == 0 or not isinstance(cmds[i - 1], ast.Pattern)):
                raise self.err(cmd, "diff compares pattern results: it must follow the pattern command",
                               hint="pattern @message | diff")
            if isinstance(cmd, ast.Diff) and any(isinstance(c, ast.Diff) for c in cmds[:i]):
                raise self.err(cmd, "a query may have one diff")
        if any(isinstance(c, ast.Diff) for c in cmds):
            self.diff_window(next(c for c in cmds if isinstance(c, ast.Diff)))
        else:
            if since is not None:
                self.stage.where.append(f"event_time >= CAST({self.param(since)} AS TIMESTAMP)")
            if until is not None:
                self.stage.where.append(f"event_time < CAST({self.param(until)} AS TIMESTAMP)")

    def diff_window(self, cmd: ast.Diff) -> None:
        """Read the query's window and the one ``diff`` compares it with; mark the current rows."""
        if self.since is None:
            raise self.err(cmd, "diff compares the query's time range with the one before it, so it needs one",
                           hint="give the range: --since 1d (and --until)")
        since = self.since
        until = self.until or datetime.now(UTC).replace(tzinfo=None)
        if cmd.period == "":
            psince, puntil = since - (until - since), since
        elif cmd.period == "previousDay":
            psince, puntil = since - timedelta(days=1), until - timedelta(days=1)
        elif cmd.period == "previousWeek":
            psince, puntil = since - timedelta(days=7), until - timedelta(days=7)
        else:
            psince, puntil = _month_before(since), _month_before(until)
        cur = (f"(event_time >= CAST({self.param(since)} AS TIMESTAMP) AND "
               f"event_time < CAST({self.param(until)} AS TIMESTAMP))")
        prev = (f"(event_time >= CAST({self.param(psince)} AS TIMESTAMP) AND "
                f"event_time < CAST({self.param(puntil)} AS TIMESTAMP))")
        self.stage.where.append(f"{cur} OR {prev}")
        self.current_period = cur
        self.read_since = psince

    # ------------------------------------------------------------ plumbing
    def err(self, node: ast.Node | int, message: str, *, hint: str = "", unsupported: bool = False):
        pos = node if isinstance(node, int) else node.start
        return error_at(self.text, pos, message, hint=hint,
                        cls=QueryUnsupportedError if unsupported else QuerySyntaxError)

    def param(self, value: object) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return "$" + name

    def lit_str(self, value: str) -> Typed:
        return Typed(f"CAST({self.param(value)} AS VARCHAR)", STR)

    def lit_num(self, value: int | float) -> Typed:
        t = "BIGINT" if isinstance(value, int) and abs(value) < 2**62 else "DOUBLE"
        return Typed(f"CAST({self.param(value)} AS {t})", NUM)

    def newcol(self, prefix: str = "_c") -> str:
        self.ncol += 1
        return f"{prefix}{self.ncol}"

    def wrap(self) -> None:
        """Close the current stage as a CTE and start a new one reading it."""
        name = f"s{len(self.ctes) + 1}"
        sel = ", ".join(["*"] + self.stage.extra)
        self.ctes.append(f"{name} AS (\n  {self.select_sql(sel, self.stage, self.order_terms() if self.stage.limit is not None else None)}\n)")
        self.stage = _Stage(name)

    def order_terms(self) -> list[str]:
        if self.order is not None:
            return self.order
        return self.default_order

    @staticmethod
    def select_sql(sel: str, st: _Stage, order: list[str] | None, group: str = "") -> str:
        sql = f"SELECT {sel} FROM {st.src}"
        if st.where:
            sql += " WHERE " + " AND ".join(f"({w})" for w in st.where)
        if group:
            sql += group
        if st.qualify:
            sql += f" QUALIFY {st.qualify}"
        if order:
            sql += " ORDER BY " + ", ".join(order)
        if st.limit is not None:
            sql += f" LIMIT {int(st.limit)}"
        return sql

    # ------------------------------------------------------------ commands
    def compile(self) -> Compiled:
        cmds = self.push_down_filters(list(self.query.commands))
        for i, cmd in enumerate(cmds):
            if isinstance(cmd, ast.Pattern) and self.current_period is not None and any(
                    isinstance(c, ast.Stats) for c in cmds[:i]):
                raise self.err(cmd, "pattern ... | diff must come before any stats")
        dedup_at: ast.Dedup | None = None
        sort_or_limit: ast.Command | None = None
        for cmd in cmds:
            if dedup_at is not None and not isinstance(cmd, ast.Limit):
                raise self.err(cmd, "only 'limit' may follow 'dedup'",
                               hint="put sort, filter and other commands before dedup")
            if isinstance(cmd, ast.Stats):
                self.stats_count += 1
                if self.stats_count > MAX_STATS:
                    raise self.err(cmd, f"a query may have at most {MAX_STATS} stats commands")
                if self.stats_count == 2 and sort_or_limit is not None:
                    raise self.err(sort_or_limit, "sort and limit must come after the second stats command")
            if isinstance(cmd, (ast.Sort, ast.Limit)) and sort_or_limit is None:
                sort_or_limit = cmd
            if isinstance(cmd, ast.Dedup):
                dedup_at = cmd
            getattr(self, "cmd_" + type(cmd).__name__.lower())(cmd)
        return self.finish()

    def push_down_filters(self, cmds: list[ast.Command]) -> list[ast.Command]:
        """Move a filter that follows the first stats but names none of its output before it.

        AWS's own Container Insights sample queries write ``stats ... | filter Type="Cluster"``,
        meaning the events' field ``Type``: the stats output has no such field, so read as
        written the filter would drop every row. rumq applies such a filter to the events the
        first stats reads, and says so (a notice).
        """
        first = next((i for i, c in enumerate(cmds) if isinstance(c, ast.Stats)), None)
        if first is None:
            return cmds
        stats = cmds[first]
        assert isinstance(stats, ast.Stats)
        produced: set[str] = set()
        for p in stats.by + stats.items:
            produced.add(p.name)
            if isinstance(p.expr, ast.Field):
                produced.add(p.expr.name)
        out = cmds[: first + 1]
        moved: list[ast.Command] = []
        for j in range(first + 1, len(cmds)):
            c = cmds[j]
            if isinstance(c, (ast.Stats, ast.Pattern, ast.Unnest)):
                out += cmds[j:]  # past a second stats (or a pattern), leave the rest as written
                break
            if isinstance(c, (ast.Fields, ast.Display)):
                produced |= {p.name for p in c.items}
            if isinstance(c, ast.Parse):
                produced |= set(c.aliases) | set(_regex_group_names(c.pattern))
            if isinstance(c, ast.Filter):
                names = _field_names(c.condition)
                if names and not any(_produces(produced, n) for n in names):
                    moved.append(c)
                    self.notices.append(
                        f"notice: '{_collapse(self.text[c.start:c.end])}' comes after stats but names no field of "
                        "its output; rumq applies it to the events before stats, as CloudWatch's sample queries "
                        "expect")
                    continue
            out.append(c)
        if not moved:
            return cmds
        return out[:first] + moved + out[first:]

    def cmd_fields(self, cmd: ast.Fields) -> None:
        self.projection_cmd(cmd.items, self.fields_out)

    def cmd_display(self, cmd: ast.Display) -> None:
        out: list[tuple[str, Typed]] = []
        self.projection_cmd(cmd.items, out)
        self.display_out = out

    def projection_cmd(self, items: tuple[ast.Projection, ...], out: list[tuple[str, Typed]]) -> None:
        new: dict[str, Typed] = {}
        shown = self.stats_out + out if out is self.fields_out and self.after_stats else out
        for p in items:
            t = self.expr(p.expr)
            self.check_name(p, t, shown)
            if p.alias is not None:
                new[p.alias] = t
            out.append((p.name, t))
        # Aliases become visible to the following commands (not within the same one).
        self.scope.update(new)

    def check_name(self, p: ast.Projection, t: Typed, shown: list[tuple[str, Typed]]) -> None:
        """Refuse a result column name already shown with a different value.

        ``fields a as x, b as x`` or ``stats count(*) as n, avg(d) as n`` would show one
        column ``x`` (``n``) and drop the other value; the documentation does not say which
        one Logs Insights keeps, so rumq asks for distinct names. The same value under the
        same name twice (``fields a, a``) is shown once.
        """
        if any(name == p.name and self.canonical(prev.sql) != self.canonical(t.sql) for name, prev in shown):
            at = self.text.rfind(p.alias, p.start, p.end) if p.alias is not None else -1
            raise self.err(at if at >= 0 else p.start,
                           f"the name '{p.name}' is given to two different values in the result",
                           hint="give each value its own name with 'as'")

    def canonical(self, sql: str) -> str:
        """``sql`` with each bound parameter replaced by its value (each use of a value has its own)."""
        return re.sub(r"\$(p\d+)\b", lambda m: f"{self.params[m.group(1)]!r}:{type(self.params[m.group(1)]).__name__}", sql)

    def cmd_filter(self, cmd: ast.Filter) -> None:
        cond = self.truth(self.expr(cmd.condition))
        if self.stage.limit is not None or self.stage.qualify or self.stage.extra:
            self.wrap()
        self.stage.where.append(cond)

    def cmd_sort(self, cmd: ast.Sort) -> None:
        terms: list[str] = []
        for k in cmd.keys:
            if (self.after_stats and isinstance(k.expr, ast.Field) and k.expr.name not in self.scope
                    and self.json_member(k.expr.name) is None):
                # As the Container Insights samples (`stats ... | sort @timestamp desc`): the
                # stats output has no such field, so every row has the same (absent) key.
                self.notices.append(
                    f"notice: 'sort {k.expr.name}' comes after stats, whose output has no field "
                    f"'{k.expr.name}'; the key orders nothing and is ignored")
                continue
            terms += self.sort_terms(self.expr(k.expr), k.descending)
        if not terms and self.after_stats:
            return
        if not self.after_stats:
            terms += self.default_order
        terms = list(dict.fromkeys(t for t in terms))
        # A later key on the same expression as an earlier one changes nothing.
        seen: set[str] = set()
        deduped = []
        for t in terms:
            base = t.rsplit(" ", 3)[0]
            if base not in seen:
                seen.add(base)
                deduped.append(t)
        terms = deduped
        if self.stage.limit is not None:
            self.wrap()
        self.order = terms

    def sort_terms(self, t: Typed, desc: bool) -> list[str]:
        d = " DESC NULLS LAST" if desc else " ASC NULLS LAST"
        if t.type in (STR, ANY):
            return [natural_struct(t.sql) + d]
        if t.type == BOOL:
            return [f"CAST({t.sql} AS INTEGER){d}"]
        return [t.sql + d]

    def cmd_limit(self, cmd: ast.Limit) -> None:
        cur = self.stage.limit
        self.stage.limit = cmd.count if cur is None else min(cur, cmd.count)

    def cmd_dedup(self, cmd: ast.Dedup) -> None:
        keys = [self.expr(f) for f in cmd.fields]
        if self.stage.limit is not None or self.stage.qualify:
            self.wrap()
        part = ", ".join(k.sql for k in keys)
        nulls = " OR ".join(f"({k.sql}) IS NULL" for k in keys)
        order = ", ".join(self.order_terms() if self.order is not None or not self.after_stats else [])
        over = f"PARTITION BY {part}" + (f" ORDER BY {order}" if order else "")
        self.stage.qualify = f"row_number() OVER ({over}) = 1 OR {nulls}"

    def cmd_parse(self, cmd: ast.Parse) -> None:
        src = self.as_str(self.expr(cmd.source) if cmd.source else self.field_ref(ast.Field(cmd.start, cmd.start, "@message")))
        if isinstance(cmd.pattern, ast.String):
            rx = glob_to_regex(cmd.pattern.value)
            groups = {a: i + 1 for i, a in enumerate(cmd.aliases)}
            ngroups = len(cmd.aliases)
        else:
            rx, written, groups, ngroups = self.named_groups(cmd.pattern)
            if not groups:
                raise self.err(cmd.pattern, "a regex 'parse' needs named groups such as (?<name>...)")
            # The regex as written is checked too: a group made plain could read differently
            # ('(?<c>?)' is invalid, its plain '(?)' an empty flag group).
            self.check_regex(written, cmd.pattern)
        self.check_regex(rx, cmd.pattern)
        p = self.param(rx)
        col = self.newcol("_p")
        names = "[" + ", ".join(f"'g{i}'" for i in range(1, ngroups + 1)) + "]"
        self.stage.extra.append(
            f"CASE WHEN regexp_matches({src}, {p}) THEN regexp_extract({src}, {p}, {names}) END AS {col}"
        )
        self.wrap()
        empty_means_null = self.empty_means_null(cmd.pattern, rx, groups) if isinstance(cmd.pattern, ast.Regex) else set()
        for alias, idx in groups.items():
            value = f"{col}.g{idx}"
            self.scope[alias] = Typed(f"nullif({value}, '')" if alias in empty_means_null else value, STR)

    def empty_means_null(self, pat: ast.Regex, rx: str, names: dict[str, int]) -> set[str]:
        """The named groups for which DuckDB's '' means "took no part in the match" (null).

        DuckDB's regexp_extract gives '' both for a group that takes no part and for one
        that matched nothing. '' is exactly "no part" for a group that cannot match the empty
        string, and exactly its value for a group that always takes part; an optional group
        that can match the empty string is refused (rumq.insights.regex).

        Raises:
            QueryUnsupportedError: an optional group can match the empty string.
        """
        from rumq.insights.regex import can_match_empty, groups

        shapes = groups(rx)
        out: set[str] = set()
        for name, idx in names.items():
            g = shapes[idx]
            if not can_match_empty(rx[g.start:g.end]):
                out.add(name)
            elif g.optional:
                at = re.compile(rf"\(\?P?<{re.escape(name)}>").search(self.text, pat.start)
                raise self.err(
                    at.start() if at else pat.start,
                    f"the regex group '{name}' may take no part in the match and can also match an empty "
                    "string: rumq cannot tell the two apart (DuckDB gives '' for both; Logs Insights leaves "
                    "the field null only for the first)",
                    hint="make the group match at least one character (+ instead of *), or take it out of "
                         "the optional part", unsupported=True)
        return out

    def named_groups(self, pat: ast.Regex) -> tuple[str, str, dict[str, int], int]:
        """The regex with each named group made plain; the same as written, each named group as
        ``(?P<gN>`` (N its index: a name RE2 accepts, as ``@domain`` is not); name -> group
        index; and the number of groups."""
        from rumq.insights.regex import syntax_at

        s = pat.pattern
        out: list[str] = []
        written: list[str] = []
        groups: dict[str, int] = {}
        n = 0
        last = 0  # s[last:] is not copied to out yet
        for i in syntax_at(s):
            if s[i] != "(":
                continue
            m = re.match(r"\(\?P?<([A-Za-z_@][A-Za-z0-9_]*)>", s[i:])
            if m:
                n += 1
                name = m.group(1)
                if name in groups:
                    raise self.err(pat, f"the group name {name!r} is used twice")
                groups[name] = n
                # RE2 group names cannot hold '@' (`(?<@domain>...)`); values are read by
                # position, so a plain capturing group does.
                out.append(s[last:i] + "(")
                written.append(s[last:i] + f"(?P<g{n}>")
                last = i + m.end()
            elif not s.startswith("(?", i):
                n += 1
        out.append(s[last:])
        written.append(s[last:])
        return "".join(out), "".join(written), groups, n

    def check_regex(self, rx: str, node: ast.Node) -> None:
        import duckdb

        try:
            duckdb.execute("SELECT regexp_matches('', ?)", [rx]).fetchall()
        except duckdb.Error as e:
            msg = str(e).split("\n")[0]
            msg = msg.split("Error: ", 1)[-1]
            raise self.err(node, f"invalid regular expression: {msg}") from None

    def cmd_source(self, cmd: ast.Source) -> None:
        """A leading SOURCE: a filter on the log group when rumq can tell an event's group.

        A RUM app monitor writes to ``/aws/vendedlogs/RUMService_<name><first 8 characters of
        its id>``. An event's group is the recorded ``log_group`` when the export carried one;
        otherwise it is built from ``application_name`` and ``application_id``; with neither
        name nor group recorded, an exact RUM group name still identifies the app by its id suffix.
        """
        rum = "/aws/vendedlogs/RUMService_"
        derived = f"(CAST({self.param(rum)} AS VARCHAR) || application_name || left(application_id, 8))"
        conds: list[str] = []
        for name in cmd.names:
            p = f"CAST({self.param(name)} AS VARCHAR)"
            c = f"log_group = {p} OR (log_group IS NULL AND {derived} = {p})"
            if name.startswith(rum) and len(name) > len(rum) + 8:
                c += (f" OR (log_group IS NULL AND application_name IS NULL "
                      f"AND application_id IS NOT NULL AND ends_with({p}, left(application_id, 8)))")
            else:
                self.notices.append(
                    f"notice: SOURCE '{name}' is not a RUM app monitor's log group; only events recorded "
                    "with that log group match")
            conds.append(f"({c})")
        for prefix in cmd.prefixes:
            p = f"CAST({self.param(prefix)} AS VARCHAR)"
            c = f"starts_with(log_group, {p}) OR (log_group IS NULL AND starts_with({derived}, {p}))"
            if rum.startswith(prefix):
                c += " OR (log_group IS NULL AND application_name IS NULL)"
            elif not prefix.startswith(rum):
                self.notices.append(
                    f"notice: SOURCE namePrefix '{prefix}' is not a prefix of RUM app monitors' log groups; "
                    "only events recorded with such a log group match")
            else:
                self.notices.append(
                    f"notice: SOURCE namePrefix '{prefix}': events with neither a recorded log group nor an "
                    "app monitor name cannot be matched to a prefix longer than "
                    f"'{rum}' and are left out")
            conds.append(f"({c})")
        if conds:
            self.stage.where.append(" OR ".join(conds))
        for part in cmd.ignored:
            self.notices.append(
                f"notice: SOURCE {part} has no meaning for a rumq dataset and is ignored"
                + (" (every event is queried)" if cmd.form == "dataSource" else ""))

    def cmd_pattern(self, cmd: ast.Pattern) -> None:
        """Cluster the values into patterns: words holding a digit become ``<*>``; count per pattern."""
        src = self.as_str(self.expr(cmd.expr))
        if self.stage.limit is not None or self.stage.qualify:
            self.wrap()
        scol, pcol = self.newcol(), self.newcol()
        self.stage.where.append(f"({src}) IS NOT NULL")
        self.stage.extra.append(f"{src} AS {scol}")
        self.stage.extra.append(f"regexp_replace({src}, {self.param(PATTERN_TOKEN)}, '<*>', 'g') AS {pcol}")
        self.wrap()
        cur = self.current_period
        n_cur = f"count(*) FILTER (WHERE {cur})" if cur else "count(*)"
        cols = {
            "@pattern": (pcol, STR),
            "@ratio": (f"CAST({n_cur} AS DOUBLE) / nullif(sum({n_cur}) OVER (), 0)", NUM),
            "@sampleCount": (n_cur, NUM),
            "@severityLabel": (_severity(pcol), STR),
            "@logSamples": (f"CAST(to_json(list_sort(list_distinct(list({scol}"
                            + (f") FILTER (WHERE {cur}))" if cur else "))")
                            + f")[1:{PATTERN_SAMPLES}]) AS VARCHAR)", STR),
        }
        if cur:
            n_prev = f"count(*) FILTER (WHERE NOT ({cur}))"
            cols["@previousSampleCount"] = (n_prev, NUM)
            cols["@changeInSampleCount"] = (f"{n_cur} - {n_prev}", NUM)
        # Most frequent first, then by pattern.
        self.close_grouped(cols, group=" GROUP BY " + pcol, order=[("@sampleCount", "DESC"), ("@pattern", "ASC")])

    def cmd_diff(self, cmd: ast.Diff) -> None:
        """Nothing left to do: ``diff_window`` read both periods and ``cmd_pattern`` counted each."""

    def close_grouped(self, cols: dict[str, tuple[str, str]], *, group: str, order: list[tuple[str, str]]) -> None:
        """Close the stage as a grouped CTE with these output columns (like stats).

        Args:
            cols: output name -> (SQL over the stage, type), in output order.
            group: the GROUP BY clause.
            order: the default order of the output, as (output name, ASC|DESC) pairs.
        """
        sel, out = [], []
        names = []
        for name, (sql, typ) in cols.items():
            col = self.newcol()
            names.append(col)
            sel.append(f"{sql} AS {col}")
            out.append((name, Typed(col, typ)))
        cte = f"s{len(self.ctes) + 1}"
        self.ctes.append(f"{cte} AS (\n  {self.select_sql(', '.join(sel), self.stage, None, group)}\n)")
        self.stage = _Stage(cte)
        self.after_stats = True
        self.scope = {n: t for n, t in out}
        self.json_src = {}
        self.stats_out = out
        self.fields_out = []
        self.display_out = None
        self.order = None
        by_name = dict(zip(cols, names, strict=True))
        self.default_order = [f"{by_name[n]} {d} NULLS LAST" for n, d in order]

    def cmd_unnest(self, cmd: ast.Unnest) -> None:
        """One row per element of a JSON array; any other value is a list of one item; no value, no row."""
        x = self.as_str(self.expr(cmd.expr))
        if self.stage.limit is not None or self.stage.qualify or self.stage.extra:
            self.wrap()
        col = self.newcol()
        items = (f"(CASE WHEN ({x}) IS NULL THEN CAST([] AS VARCHAR[]) "
                 f"WHEN json_valid({x}) AND json_type({x}) = 'ARRAY' THEN CAST(json_extract({x}, '$[*]') AS VARCHAR[]) "
                 f"WHEN json_valid({x}) AND json_type({x}) = 'OBJECT' THEN [CAST({x} AS VARCHAR)] "
                 f"ELSE [CAST(to_json({x}) AS VARCHAR)] END)")
        self.stage.extra.append(f"unnest({items}) AS {col}")
        self.wrap()
        self.scope[cmd.alias] = Typed(_json_value(col), ANY)
        self.json_src[cmd.alias] = col

    def cmd_stats(self, cmd: ast.Stats) -> None:
        if self.stage.limit is not None or self.stage.qualify:
            self.wrap()
        # Group keys first (in the output too), then the aggregates.
        keys: list[tuple[str, Typed]] = []
        self.stats_keys = {}
        self.mode = Mode.BY
        for p in cmd.by:
            t = self.expr(p.expr)
            self.check_name(p, t, keys)
            keys.append((p.name, t))
            self.stats_keys[p.text] = t
            if isinstance(p.expr, ast.Field):
                self.stats_keys[p.expr.name] = t
            if p.alias:
                self.stats_keys[p.alias] = t
        items: list[tuple[str, Typed]] = []
        self.stats_local = {}
        for p in cmd.items:
            self.mode = Mode.STATS
            if not _has_aggregate(p.expr):
                if isinstance(p.expr, ast.Call) and p.expr.name not in FUNCTIONS:
                    self.call(p.expr)  # an unknown function: say so, with "did you mean"
                raise self.err(p.expr, f"'{p.text}' is not an aggregate",
                               hint="stats items use count, sum, avg, min, max, pct, ... ; group with 'by'")
            t = self.expr(p.expr)
            self.check_name(p, t, keys + items)
            items.append((p.name, t))
            if p.alias:
                self.stats_local[p.alias] = t
        self.mode = Mode.ROW
        self.stats_local = {}
        self.stats_keys = {}
        sel: list[str] = []
        out: list[tuple[str, Typed]] = []
        for name, t in keys + items:
            col = self.newcol()
            sel.append(f"{t.sql} AS {col}")
            out.append((name, Typed(col, t.type)))
        group = ""
        if keys:
            group = " GROUP BY " + ", ".join(str(i + 1) for i in range(len(keys)))
        name = f"s{len(self.ctes) + 1}"
        self.ctes.append(f"{name} AS (\n  {self.select_sql(', '.join(sel), self.stage, None, group)}\n)")
        self.stage = _Stage(name)
        self.after_stats = True
        self.scope = {n: t for n, t in out}
        self.stats_out = out
        self.fields_out = []
        self.display_out = None
        self.order = None
        key_order: list[str] = []
        for _, t in out[: len(keys)]:
            key_order += [f"{t.sql} ASC NULLS LAST"]
        self.default_order = key_order

    # ------------------------------------------------------------ output
    def finish(self) -> Compiled:
        if self.display_out is not None:
            outs = self.display_out
        elif self.after_stats:
            outs = self.stats_out + self.fields_out
        elif self.fields_out:
            outs = self.fields_out
        else:
            outs = [("@timestamp", SYSTEM_FIELDS["@timestamp"]), ("@message", SYSTEM_FIELDS["@message"])]
        seen: set[str] = set()
        cols: list[str] = []
        types: list[str] = []
        sel: list[str] = []
        for name, t in outs:
            if name in seen:
                continue
            seen.add(name)
            cols.append(name)
            types.append(t.type)
            sel.append(f"{render(t)} AS {quote_identifier('c' + str(len(cols)))}")
        order = self.order_terms()
        body = self.select_sql(", ".join(sel), self.stage, order or None)
        sql = ("WITH " + ",\n".join(self.ctes) + "\n" if self.ctes else "") + body
        used = set(re.findall(r"\$(p\d+)\b", sql))
        params = {k: v for k, v in self.params.items() if k in used}
        return Compiled(sql, params, cols, self.text, types, list(self.notices), self.read_since)

    # ------------------------------------------------------------ expressions
    def expr(self, e: ast.Expr) -> Typed:
        if isinstance(e, ast.String):
            return self.lit_str(e.value)
        if isinstance(e, ast.Number):
            return self.lit_num(e.value)
        if isinstance(e, ast.Field):
            return self.field_ref(e)
        if isinstance(e, ast.Call):
            return self.call(e)
        if isinstance(e, ast.Unary):
            if e.op == "-":
                return Typed(f"(-{self.as_double(self.expr(e.operand))})", NUM)
            return Typed(f"(NOT {self.truth(self.expr(e.operand))})", BOOL)
        if isinstance(e, ast.Binary):
            return self.binary(e)
        if isinstance(e, ast.Like):
            return self.like(e)
        if isinstance(e, ast.In):
            return self.in_list(e)
        if isinstance(e, ast.Index):
            return self.index(e)
        if isinstance(e, ast.Member):
            return self.member(e)
        if isinstance(e, ast.Regex):
            raise self.err(e, "a /regex/ may only follow like, =~ or parse")
        if isinstance(e, ast.Period):
            raise self.err(e, f"a time period ({e.text}) may only be an argument of bin, datefloor or dateceil")
        if isinstance(e, ast.Star):
            raise self.err(e, "'*' may only be the argument of count")
        raise self.err(e, "unexpected expression")  # pragma: no cover

    def field_ref(self, f: ast.Field) -> Typed:
        name = f.name
        if self.mode is Mode.STATS:
            # Outside an aggregate, a stats item may use only group keys and earlier aliases.
            if name in self.stats_local:
                return self.stats_local[name]
            if name in self.stats_keys:
                return self.stats_keys[name]
            if name.lower() in AGGREGATES:
                raise self.err(f, f"'{name}' without parentheses is not a stats function call",
                               hint=f"write {name}(*)" if name.lower() == "count" else f"write {name}(field)")
            raise self.err(f, f"'{name}' must be inside an aggregate function or be a 'by' key")
        if name in self.scope:
            return self.scope[name]
        inner = self.json_member(name)
        if inner is not None:
            return inner
        if self.after_stats:
            raise self.err(f, f"'{name}' is not a field of the stats output",
                           hint="after stats, only its group keys and aggregates (by alias or text) exist")
        return resolve_base(name, self)

    def json_member(self, name: str) -> Typed | None:
        """``j.a.0.b`` where ``j`` is a jsonParse alias: a path inside that value (0-based indexes)."""
        parts = name.split(".")
        for k in range(len(parts) - 1, 0, -1):
            head = ".".join(parts[:k])
            if head in self.json_src:
                src = self.json_src[head]
                return Typed(f"json_extract_string({src}, {self.param(json_pointer(parts[k:]))})", ANY)
            base = self.scope.get(head)
            if base is not None and base.type == JSON:
                return Typed(f"json_extract_string({base.sql}, {self.param(json_pointer(parts[k:]))})", ANY)
        return None

    def index(self, e: ast.Index) -> Typed:
        """``list[i]`` (0-based, as flattened names ``a.0``): a split() list or a JSON array."""
        base = self.expr(e.operand)
        if base.type == LIST:
            return Typed(f"{base.sql}[{int(e.index) + 1}]", STR)
        s = self.as_str(base)
        return Typed(f"(CASE WHEN json_valid({s}) THEN json_extract_string({s}, {self.param(f'$[{int(e.index)}]')}) END)",
                     ANY)

    def member(self, e: ast.Member) -> Typed:
        """``value.a.b`` on a computed JSON value (``jsonParse(s).a``)."""
        s = self.as_str(self.expr(e.operand))
        ptr = self.param(json_pointer(e.name.split(".")))
        return Typed(f"(CASE WHEN json_valid({s}) THEN json_extract_string({s}, {ptr}) END)", ANY)

    def binary(self, e: ast.Binary) -> Typed:
        op = e.op
        if op in ("and", "or"):
            a, b = self.truth(self.expr(e.left)), self.truth(self.expr(e.right))
            return Typed(f"({a} {op.upper()} {b})", BOOL)
        a, b = self.expr(e.left), self.expr(e.right)
        if op in ("=", "!=", "<", "<=", ">", ">="):
            return self.compare(op, a, b, e.left, e.right)
        # Arithmetic in DOUBLE: Logs Insights numbers are doubles, and BIGINT overflows raise.
        x, y = self.as_double(a), self.as_double(b)
        if op == "^":
            return Typed(f"power({x}, {y})", NUM)
        if op == "/":
            return Typed(f"({x} / {y})", NUM)
        if op == "%":
            return Typed(f"fmod({x}, {y})", NUM)
        return Typed(f"({x} {op} {y})", NUM)

    def compare(self, op: str, a: Typed, b: Typed, an: ast.Expr, bn: ast.Expr) -> Typed:
        sop = "<>" if op == "!=" else op
        if NULL in (a.type, b.type):
            return Typed("CAST(NULL AS BOOLEAN)", BOOL)

        def numlit(n: ast.Expr) -> bool:
            return isinstance(n, ast.String) and re.fullmatch(NUM_RE, n.value) is not None

        ta, tb = a.type, b.type
        if ta == BOOL and tb == BOOL:
            return Typed(f"({a.sql} {sop} {b.sql})", BOOL)
        if TS in (ta, tb) and ta == tb:
            return Typed(f"({a.sql} {sop} {b.sql})", BOOL)
        if BOOL in (ta, tb) or TS in (ta, tb) or (ta == NUM and tb == NUM):
            return Typed(f"({self.as_num(a)} {sop} {self.as_num(b)})", BOOL)
        if ta == NUM or tb == NUM:
            other, other_node = (b, bn) if ta == NUM else (a, an)
            if isinstance(other_node, ast.String) and not numlit(other_node):
                return Typed(f"({self.as_str(a)} {sop} {self.as_str(b)})", BOOL)
            return Typed(f"({self.as_num(a)} {sop} {self.as_num(b)})", BOOL)
        # Both string-like.
        if ta == STR and tb == STR:
            if numlit(an) or numlit(bn):
                return self.runtime_compare(sop, a, b)
            return Typed(f"({a.sql} {sop} {b.sql})", BOOL)
        if ANY in (ta, tb):
            lit = bn if ta == ANY else an
            if isinstance(lit, ast.String) and not numlit(lit):
                return Typed(f"({a.sql} {sop} {b.sql})", BOOL)
            return self.runtime_compare(sop, a, b)
        return Typed(f"({self.as_str(a)} {sop} {self.as_str(b)})", BOOL)

    def runtime_compare(self, sop: str, a: Typed, b: Typed) -> Typed:
        """Numbers compare as numbers when both sides parse as numbers, else as strings."""
        na, nb = (t.num if t.num is not None else f"TRY_CAST({t.sql} AS DOUBLE)" for t in (a, b))
        return Typed(
            f"(CASE WHEN {na} IS NOT NULL AND {nb} IS NOT NULL THEN {na} {sop} {nb} "
            f"ELSE {a.sql} {sop} {b.sql} END)",
            BOOL,
        )

    def like(self, e: ast.Like) -> Typed:
        x = self.expr(e.operand)
        if x.type == NULL:
            return Typed("CAST(NULL AS BOOLEAN)", BOOL)
        s = self.as_str(x)
        if isinstance(e.pattern, ast.Regex):
            self.check_regex(e.pattern.pattern, e.pattern)
            sql = f"regexp_matches({s}, {self.param(e.pattern.pattern)})"
        else:
            sql = f"contains({s}, CAST({self.param(e.pattern.value)} AS VARCHAR))"
        return Typed(f"(NOT {sql})" if e.negated else sql, BOOL)

    def in_list(self, e: ast.In) -> Typed:
        x = self.expr(e.operand)
        if x.type == NULL:
            return Typed("CAST(NULL AS BOOLEAN)", BOOL)
        all_str = all(isinstance(i, ast.String) for i in e.items)
        all_num = all(isinstance(i, ast.Number) for i in e.items)
        if x.type == STR and all_str:
            vals = ", ".join(self.lit_str(i.value).sql for i in e.items)  # type: ignore[union-attr]
            sql = f"{x.sql} IN ({vals})"
        elif x.type in (NUM, TS, BOOL, ANY, STR) and all_num:
            vals = ", ".join(self.lit_num(i.value).sql for i in e.items)  # type: ignore[union-attr]
            sql = f"{self.as_num(x)} IN ({vals})"
        else:
            parts = [self.compare("=", x, self.expr(i), e.operand, i).sql for i in e.items]
            sql = "(" + " OR ".join(parts) + ")"
        return Typed(f"(NOT ({sql}))" if e.negated else sql, BOOL)

    # ------------------------------------------------------------ conversions
    def as_num(self, t: Typed) -> str:
        if t.type == NUM:
            return t.sql
        if t.type == BOOL:
            return f"CAST({t.sql} AS INTEGER)"
        if t.type == TS:
            return f"epoch_ms({t.sql})"
        if t.type == NULL:
            return "CAST(NULL AS DOUBLE)"
        if t.type == LIST:
            return "CAST(NULL AS DOUBLE)"
        if t.num is not None:
            return t.num
        return f"TRY_CAST({t.sql} AS DOUBLE)"

    def as_double(self, t: Typed) -> str:
        sql = self.as_num(t)
        if t.num is not None and sql == t.num:
            return sql
        return sql if sql.startswith("TRY_CAST(") and sql.endswith("AS DOUBLE)") else f"CAST({sql} AS DOUBLE)"

    def as_str(self, t: Typed) -> str:
        if t.type in (STR, ANY, JSON):
            return t.sql
        if t.type == TS:
            return f"strftime({t.sql}, '{TS_FORMAT}')"
        if t.type == NUM:
            return num_text(t.sql)
        if t.type == BOOL:
            return f"CAST(CAST({t.sql} AS INTEGER) AS VARCHAR)"
        if t.type == LIST:
            return f"CAST({t.sql} AS VARCHAR)"
        return "CAST(NULL AS VARCHAR)"

    def truth(self, t: Typed) -> str:
        if t.type == BOOL:
            return t.sql
        if t.type == NUM:
            return f"({t.sql} <> 0)"
        if t.type == TS:
            return f"({t.sql} IS NOT NULL)"
        if t.type == NULL:
            return "CAST(NULL AS BOOLEAN)"
        if t.type == LIST:
            return f"(len({t.sql}) > 0)"
        return f"coalesce({self.as_num(t)} <> 0, {t.sql} NOT IN ('', 'false'))"

    def unify(self, ts: list[Typed]) -> tuple[str, list[str]]:
        """A common type for coalesce/if/case branches."""
        kinds = {t.type for t in ts} - {NULL}
        if not kinds:
            return NULL, ["CAST(NULL AS VARCHAR)" for _ in ts]
        if len(kinds) == 1:
            k = kinds.pop()
            return k, [t.sql if t.type != NULL else _null_of(k) for t in ts]
        if kinds <= {NUM, BOOL}:
            return NUM, [self.as_num(t) for t in ts]
        return ANY if ANY in kinds or NUM in kinds else STR, [self.as_str(t) for t in ts]

    # ------------------------------------------------------------ functions
    def call(self, c: ast.Call) -> Typed:
        name = c.name
        if name in UNSUPPORTED_FUNCTIONS:
            why, instead = UNSUPPORTED_FUNCTIONS[name]
            raise self.err(c, f"the function '{name}' is not supported by rumq: {why}", hint=instead,
                           unsupported=True)
        if name in AGGREGATES:
            return self.aggregate(c)
        fn = FUNCTIONS.get(name)
        if fn is None:
            known = sorted(set(FUNCTIONS) | AGGREGATES)
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean '{close[0]}'?" if close else "see docs/insights.md for the function list"
            raise self.err(c, f"unknown function '{self.text[c.name_start:c.name_start + len(name)]}'", hint=hint)
        lo, hi, impl = fn
        if not (lo <= len(c.args) <= hi):
            want = str(lo) if lo == hi else f"{lo} to {hi}" if hi < 99 else f"at least {lo}"
            raise self.err(c, f"{name}() takes {want} argument(s), got {len(c.args)}")
        return impl(self, c)

    def aggregate(self, c: ast.Call) -> Typed:
        if self.mode is not Mode.STATS:
            where = "inside another aggregate" if self.mode is Mode.AGG else "outside stats"
            raise self.err(c, f"the aggregate function {c.name}() cannot be used {where}")
        self.mode = Mode.AGG
        try:
            return compile_aggregate(self, c)
        finally:
            self.mode = Mode.STATS

    def timestamp_arg(self, c: ast.Call) -> Typed:
        """@timestamp for bin(): absent after stats unless the first stats defined it."""
        if self.after_stats and "@timestamp" not in self.scope:
            raise self.err(c, "bin() uses @timestamp, which the first stats does not produce",
                           hint="keep a time in the first stats: max(@timestamp) as @t ... | stats ... by datefloor(@t, 5m)")
        saved, self.mode = self.mode, Mode.ROW
        try:
            return self.field_ref(ast.Field(c.start, c.start, "@timestamp"))
        finally:
            self.mode = saved

    def arg(self, c: ast.Call, i: int) -> Typed:
        return self.expr(c.args[i])

    def str_arg(self, c: ast.Call, i: int) -> str:
        return self.as_str(self.expr(c.args[i]))

    def num_arg(self, c: ast.Call, i: int) -> str:
        return self.as_num(self.expr(c.args[i]))

    def literal_str(self, c: ast.Call, i: int, what: str) -> str:
        a = c.args[i]
        if not isinstance(a, ast.String):
            raise self.err(a, f"{c.name}() needs {what} as a quoted string")
        return a.value


def _event_type_constraint(query: ast.Query) -> frozenset[str] | None:
    """Event names every row reaching stats/output must have, from the query's filters.

    Only filters before the first stats, limit or dedup count (a limit between a
    field's use and a filter would make the field's value matter for rows the
    filter later drops), and only top-level ``and`` terms of the form
    ``event_type = "..."`` or ``event_type in [...]``.
    """
    names: frozenset[str] | None = None
    for cmd in query.commands:
        if isinstance(cmd, (ast.Stats, ast.Limit, ast.Dedup)):
            break
        if isinstance(cmd, (ast.Fields, ast.Display)) and any(p.alias == "event_type" for p in cmd.items):
            return None
        if isinstance(cmd, ast.Parse) and "event_type" in cmd.aliases:
            return None
        if not isinstance(cmd, ast.Filter):
            continue
        stack = [cmd.condition]
        while stack:
            e = stack.pop()
            found: set[str] | None = None
            if isinstance(e, ast.Binary) and e.op == "and":
                stack += [e.left, e.right]
            elif (isinstance(e, ast.Binary) and e.op == "=" and isinstance(e.left, ast.Field)
                  and e.left.name == "event_type" and isinstance(e.right, ast.String)):
                found = {e.right.value}
            elif (isinstance(e, ast.In) and not e.negated and isinstance(e.operand, ast.Field)
                  and e.operand.name == "event_type" and all(isinstance(i, ast.String) for i in e.items)):
                found = {i.value for i in e.items}  # type: ignore[union-attr]
            if found is not None:
                short = frozenset(EVENT_NAMES.get(t, t) for t in found)
                names = short if names is None else names & short
    return names


def _null_of(kind: str) -> str:
    return {NUM: "CAST(NULL AS DOUBLE)", TS: "CAST(NULL AS TIMESTAMP)", BOOL: "CAST(NULL AS BOOLEAN)"}.get(
        kind, "CAST(NULL AS VARCHAR)"
    )


def _has_aggregate(e: ast.Expr) -> bool:
    if isinstance(e, ast.Call):
        return e.name in AGGREGATES or e.name in UNSUPPORTED_FUNCTIONS or any(_has_aggregate(a) for a in e.args)
    if isinstance(e, ast.Binary):
        return _has_aggregate(e.left) or _has_aggregate(e.right)
    if isinstance(e, ast.Unary):
        return _has_aggregate(e.operand)
    if isinstance(e, (ast.Like, ast.In)):
        return _has_aggregate(e.operand)
    if isinstance(e, ast.Field):
        return True  # may name an earlier aggregate alias; checked when compiled
    return False


def render(t: Typed) -> str:
    """The final projection of a value: timestamps as Logs Insights prints them."""
    if t.type == TS:
        return f"strftime({t.sql}, '{TS_FORMAT}')"
    if t.type == BOOL:
        return f"CAST({t.sql} AS INTEGER)"
    if t.type == NULL:
        return "CAST(NULL AS VARCHAR)"
    return t.sql


def glob_to_regex(glob: str) -> str:
    """A parse glob as an unanchored RE2 regex: interior * lazy, a trailing * greedy."""
    out = ["(?s)"]
    n = glob.count("*")
    seen = 0
    for ch in glob:
        if ch == "*":
            seen += 1
            out.append("(.*)" if seen == n and glob.endswith("*") else "(.*?)")
        elif ch in "\\.^$|?+()[]{}":
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def resolve_base(name: str, comp: Compiler) -> Typed:
    """SQL for a field of the raw events (before any stats)."""
    if name in SYSTEM_FIELDS:
        return SYSTEM_FIELDS[name]
    if name.startswith("@"):
        return Typed("CAST(NULL AS VARCHAR)", NULL)
    entry = TYPED_FIELDS.get(name)
    src, ptr = json_source(name)
    if entry is not None:
        col, typ, exact = entry
        if col in ("session_id", "user_id"):
            # rumq stores the nil UUID as NULL; Logs Insights shows the string.
            return Typed(f"coalesce({col}, '{NIL_UUID}')", STR)
        filled = FILLED_FOR.get(col)
        if exact or (comp.event_names is not None and filled is not None and comp.event_names <= filled):
            return Typed(col, typ)
        js = f"json_extract_string({src}, {comp.param(ptr)})"
        if typ == NUM:
            # Where the column is NULL (a custom event) the JSON value may be any scalar: the
            # field is then a JSON value like any other ("abc", "true", "250"), read as a
            # number from the column where it has one.
            integer = COLUMNS_BY_NAME[col].type in ("BIGINT", "INTEGER")
            text = f"CAST({col} AS VARCHAR)" if integer else num_text(col)
            return Typed(f"coalesce({text}, {js})", ANY,
                         num=f"coalesce(CAST({col} AS DOUBLE), TRY_CAST({js} AS DOUBLE))")
        return Typed(f"coalesce({col}, {js})", typ)
    return Typed(f"json_extract_string({src}, {comp.param(ptr)})", ANY)



#: A pattern's dynamic token: a word (letters, digits, ``_ . -``) holding a digit: numbers,
#: ids, UUIDs, IPv4 addresses, times, versions.
PATTERN_TOKEN = r"[A-Za-z0-9_.-]*[0-9][A-Za-z0-9_.-]*"
#: How many distinct sample values ``@logSamples`` keeps (the first in text order).
PATTERN_SAMPLES = 3


def _severity(pattern_sql: str) -> str:
    """The ``@severityLabel`` of a pattern: the first level word it contains, case-insensitively."""
    return (f"(CASE WHEN regexp_matches({pattern_sql}, '(?i)(error|exception|fatal|critical)') THEN 'Error' "
            f"WHEN regexp_matches({pattern_sql}, '(?i)warn') THEN 'Warning' "
            f"WHEN regexp_matches({pattern_sql}, '(?i)debug') THEN 'Debug' "
            f"WHEN regexp_matches({pattern_sql}, '(?i)info') THEN 'Info' ELSE 'Unknown' END)")


def _json_value(col: str) -> str:
    """An unnested JSON element as a value: objects and arrays as JSON text, scalars as text."""
    return f"(CASE WHEN json_type({col}) IN ('OBJECT', 'ARRAY') THEN {col} ELSE json_extract_string({col}, '$') END)"


def _month_before(t: datetime) -> datetime:
    """The same day and time one month earlier (the last day of a shorter month)."""
    import calendar

    y, m = (t.year, t.month - 1) if t.month > 1 else (t.year - 1, 12)
    return t.replace(year=y, month=m, day=min(t.day, calendar.monthrange(y, m)[1]))


def _collapse(s: str) -> str:
    return re.sub(r"\s+", " ", s.strip())


def _field_names(e: ast.Expr) -> set[str]:
    """Names of the fields an expression reads."""
    if isinstance(e, ast.Field):
        return {e.name}
    out: set[str] = set()
    for v in vars(e).values():
        if isinstance(v, ast.Expr):
            out |= _field_names(v)
        elif isinstance(v, tuple):
            for x in v:
                if isinstance(x, ast.Expr):
                    out |= _field_names(x)
    return out


def _produces(produced: set[str], name: str) -> bool:
    """Whether ``name`` (or the value a dotted name reads inside) is among ``produced``."""
    parts = name.split(".")
    return any(".".join(parts[:k]) in produced for k in range(1, len(parts) + 1))


def _regex_group_names(p: ast.String | ast.Regex) -> list[str]:
    if isinstance(p, ast.Regex):
        return re.findall(r"\(\?P?<([A-Za-z_@][A-Za-z0-9_]*)>", p.pattern)
    return []


def compile_query(query: ast.Query, *, since: datetime | None = None, until: datetime | None = None) -> Compiled:
    """Compile a parsed query (see ``rumq.insights.compile``)."""
    return Compiler(query, since=since, until=until).compile()


__all__ = ["Compiled", "compile_query", "json_pointer", "MAX_STATS"]
