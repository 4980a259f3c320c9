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
"""

from __future__ import annotations

import difflib
import ipaddress
import re
import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime

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
from rumq.insights.parser import error_at
from rumq.schema import EVENT_NAMES, NIL_UUID

#: Maximum number of stats commands in one query (AWS: 2; a third party reports 10).
MAX_STATS = 2

TS_FORMAT = "%Y-%m-%d %H:%M:%S.%g"

_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_UNIT_CAP = {"ms": 1000, "s": 60, "m": 60, "h": 24}
_UNIT_MONTHS = {"mo": 1, "q": 3, "y": 12}

AGGREGATES = {
    "count", "count_distinct", "sum", "avg", "min", "max", "pct", "stddev", "earliest", "latest",
    "sortsfirst", "sortslast",
}
UNSUPPORTED_FUNCTIONS = {
    "count_over_time", "sum_over_time", "rate", "histogram", "topk", "unnest",
}

_NUM_RE = r"^-?[0-9]+(\.[0-9]+)?$"
_V4_RE = r"^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$"
# An approximation of IPv6 text form: hex groups and colons (one "::" at most), an
# optional dotted IPv4 tail.
_V6_RE = r"^(([0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|(([0-9A-Fa-f]{1,4}:){0,7}[0-9A-Fa-f]{0,4})?::(([0-9A-Fa-f]{1,4}:){0,7}[0-9A-Fa-f]{0,4})?|([0-9A-Fa-f]{1,4}:){6}((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])|::[fF]{4}:((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9]))$"
_PRIVATE_V4 = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
_RESERVED_V4 = (
    "0.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "192.0.0.0/24", "192.0.2.0/24",
    "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
)


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


@dataclass
class _Stage:
    src: str
    where: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    qualify: str | None = None
    limit: int | None = None

    def is_plain(self) -> bool:
        return not (self.where or self.extra or self.qualify or self.limit is not None)


def _q(s: str) -> str:
    """Quote a generated identifier (never user text)."""
    return '"' + s.replace('"', '""') + '"'


class Compiler:
    def __init__(self, query: ast.Query, *, since: datetime | None = None, until: datetime | None = None) -> None:
        self.query = query
        self.text = query.text
        self.since, self.until = since, until
        self.params: dict[str, object] = {}
        self.ctes: list[str] = []
        self.stage = _Stage("events")
        self.scope: dict[str, Typed] = {}
        self.after_stats = False
        self.stats_count = 0
        self.order: list[str] | None = None
        # Newest first. No tie-break on event_id: reading that column tripled the cost of
        # "filter | limit" queries, and Logs Insights leaves equal timestamps unordered too.
        self.default_order: list[str] = ["event_time DESC NULLS LAST"]
        self.fields_out: list[tuple[str, Typed]] = []
        self.display_out: list[tuple[str, Typed]] | None = None
        self.stats_out: list[tuple[str, Typed]] = []
        self.ncol = 0
        # Compile context: "row", "stats" (top of a stats item), "agg" (inside an aggregate), "by".
        self.mode = "row"
        self.stats_local: dict[str, Typed] = {}
        self.stats_keys: dict[str, Typed] = {}
        self.event_names = _event_type_constraint(query)
        if since is not None:
            self.stage.where.append(f"event_time >= CAST({self.param(since)} AS TIMESTAMP)")
        if until is not None:
            self.stage.where.append(f"event_time < CAST({self.param(until)} AS TIMESTAMP)")

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
        cmds = self.query.commands
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

    def cmd_fields(self, cmd: ast.Fields) -> None:
        self.projection_cmd(cmd.items, self.fields_out)

    def cmd_display(self, cmd: ast.Display) -> None:
        out: list[tuple[str, Typed]] = []
        self.projection_cmd(cmd.items, out)
        self.display_out = out

    def projection_cmd(self, items: tuple[ast.Projection, ...], out: list[tuple[str, Typed]]) -> None:
        new: dict[str, Typed] = {}
        for p in items:
            t = self.expr(p.expr)
            if p.alias is not None:
                new[p.alias] = t
            out.append((p.name, t))
        # Aliases become visible to the following commands (not within the same one).
        self.scope.update(new)

    def cmd_filter(self, cmd: ast.Filter) -> None:
        cond = self.truth(self.expr(cmd.condition))
        if self.stage.limit is not None or self.stage.qualify or self.stage.extra:
            self.wrap()
        self.stage.where.append(cond)

    def cmd_sort(self, cmd: ast.Sort) -> None:
        terms: list[str] = []
        for k in cmd.keys:
            terms += self.sort_terms(self.expr(k.expr), k.descending)
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
            rx, groups, ngroups = self.named_groups(cmd.pattern)
            if not groups:
                raise self.err(cmd.pattern, "a regex 'parse' needs named groups such as (?<name>...)")
        self.check_regex(rx, cmd.pattern)
        p = self.param(rx)
        col = self.newcol("_p")
        names = "[" + ", ".join(f"'g{i}'" for i in range(1, ngroups + 1)) + "]"
        self.stage.extra.append(
            f"CASE WHEN regexp_matches({src}, {p}) THEN regexp_extract({src}, {p}, {names}) END AS {col}"
        )
        self.wrap()
        for alias, idx in groups.items():
            self.scope[alias] = Typed(f"{col}.g{idx}", STR)

    def named_groups(self, pat: ast.Regex) -> tuple[str, dict[str, int], int]:
        """Convert (?<n>...) to RE2's (?P<n>...); return name -> group index."""
        s = pat.pattern
        out: list[str] = []
        groups: dict[str, int] = {}
        n = 0
        i = 0
        in_class = False
        while i < len(s):
            c = s[i]
            if c == "\\":
                out.append(s[i : i + 2])
                i += 2
                continue
            if in_class:
                if c == "]":
                    in_class = False
                out.append(c)
                i += 1
                continue
            if c == "[":
                in_class = True
                out.append(c)
                # A ] right after [ or [^ is literal.
                if s[i + 1 : i + 2] == "^":
                    out.append("^")
                    i += 1
                if s[i + 1 : i + 2] == "]":
                    out.append("]")
                    i += 1
                i += 1
                continue
            if c == "(":
                m = re.match(r"\(\?P?<([A-Za-z_@][A-Za-z0-9_]*)>", s[i:])
                if m:
                    n += 1
                    name = m.group(1)
                    if name in groups:
                        raise self.err(pat, f"the group name {name!r} is used twice")
                    groups[name] = n
                    out.append(f"(?P<{name}>")
                    i += m.end()
                    continue
                if not s.startswith("(?", i):
                    n += 1
            out.append(c)
            i += 1
        return "".join(out), groups, n

    def check_regex(self, rx: str, node: ast.Node) -> None:
        import duckdb

        try:
            duckdb.execute("SELECT regexp_matches('', ?)", [rx]).fetchall()
        except duckdb.Error as e:
            msg = str(e).split("\n")[0]
            msg = msg.split("Error: ", 1)[-1]
            raise self.err(node, f"invalid regular expression: {msg}") from None

    def cmd_stats(self, cmd: ast.Stats) -> None:
        if self.stage.limit is not None or self.stage.qualify:
            self.wrap()
        # Group keys first (in the output too), then the aggregates.
        keys: list[tuple[str, Typed]] = []
        self.stats_keys = {}
        self.mode = "by"
        for p in cmd.by:
            t = self.expr(p.expr)
            keys.append((p.name, t))
            self.stats_keys[p.text] = t
            if isinstance(p.expr, ast.Field):
                self.stats_keys[p.expr.name] = t
            if p.alias:
                self.stats_keys[p.alias] = t
        items: list[tuple[str, Typed]] = []
        self.stats_local = {}
        for p in cmd.items:
            self.mode = "stats"
            if not _has_aggregate(p.expr):
                raise self.err(p.expr, f"'{p.text}' is not an aggregate",
                               hint="stats items use count, sum, avg, min, max, pct, ... ; group with 'by'")
            t = self.expr(p.expr)
            items.append((p.name, t))
            if p.alias:
                self.stats_local[p.alias] = t
        self.mode = "row"
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
            sel.append(f"{render(t)} AS {_q('c' + str(len(cols)))}")
        order = self.order_terms()
        body = self.select_sql(", ".join(sel), self.stage, order or None)
        sql = ("WITH " + ",\n".join(self.ctes) + "\n" if self.ctes else "") + body
        used = set(re.findall(r"\$(p\d+)\b", sql))
        params = {k: v for k, v in self.params.items() if k in used}
        return Compiled(sql, params, cols, self.text, types)

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
        if isinstance(e, ast.Regex):
            raise self.err(e, "a /regex/ may only follow like, =~ or parse")
        if isinstance(e, ast.Period):
            raise self.err(e, f"a time period ({e.text}) may only be an argument of bin, datefloor or dateceil")
        if isinstance(e, ast.Star):
            raise self.err(e, "'*' may only be the argument of count")
        raise self.err(e, "unexpected expression")  # pragma: no cover

    def field_ref(self, f: ast.Field) -> Typed:
        name = f.name
        if self.mode == "stats":
            # Outside an aggregate, a stats item may use only group keys and earlier aliases.
            if name in self.stats_local:
                return self.stats_local[name]
            if name in self.stats_keys:
                return self.stats_keys[name]
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
            base = self.scope.get(".".join(parts[:k]))
            if base is not None and base.type == JSON:
                return Typed(f"json_extract_string({base.sql}, {self.param(json_pointer(parts[k:]))})", ANY)
        return None

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
            return isinstance(n, ast.String) and re.fullmatch(_NUM_RE, n.value) is not None

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
        na, nb = f"TRY_CAST({a.sql} AS DOUBLE)", f"TRY_CAST({b.sql} AS DOUBLE)"
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
        return f"TRY_CAST({t.sql} AS DOUBLE)"

    def as_double(self, t: Typed) -> str:
        sql = self.as_num(t)
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
        return f"coalesce(TRY_CAST({t.sql} AS DOUBLE) <> 0, {t.sql} NOT IN ('', 'false'))"

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
            raise self.err(c, f"the function '{name}' is not supported by rumq", unsupported=True)
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
        name = c.name
        if self.mode not in ("stats",):
            where = "inside another aggregate" if self.mode == "agg" else "outside stats"
            raise self.err(c, f"the aggregate function {name}() cannot be used {where}")
        args = c.args
        self.mode = "agg"
        try:
            if name == "count":
                if len(args) > 1:
                    raise self.err(c, "count() takes at most one argument")
                if not args or isinstance(args[0], ast.Star):
                    return Typed("count(*)", NUM)
                x = self.expr(args[0])
                return Typed(f"count({x.sql})" if x.type != NULL else "CAST(0 AS BIGINT)", NUM)
            if name == "pct":
                if len(args) != 2 or not isinstance(args[1], ast.Number):
                    raise self.err(c, "pct() takes a field and a number literal: pct(field, 95)")
                p = float(args[1].value)
                if not 0 <= p <= 100:
                    raise self.err(args[1], "the percentile must be between 0 and 100")
                x = self.expr(args[0])
                return Typed(f"quantile_disc({self.as_num(x)}, {p / 100!r})", NUM)
            if len(args) != 1 or isinstance(args[0], ast.Star):
                raise self.err(c, f"{name}() takes exactly one field or expression")
            x = self.expr(args[0])
            if name == "count_distinct":
                return Typed(f"count(DISTINCT {x.sql})", NUM)
            if name in ("sum", "avg", "stddev"):
                fn = {"sum": "sum", "avg": "avg", "stddev": "stddev_samp"}[name]
                return Typed(f"{fn}({self.as_num(x)})", NUM)
            if name in ("min", "max", "sortsfirst", "sortslast"):
                first = name in ("min", "sortsfirst")
                if x.type in (NUM, TS):
                    return Typed(f"{'min' if first else 'max'}({x.sql})", x.type)
                if x.type == BOOL:
                    return Typed(f"{'min' if first else 'max'}(CAST({x.sql} AS INTEGER))", NUM)
                if x.type == NULL:
                    return Typed("CAST(NULL AS VARCHAR)", NULL)
                # Strings and JSON values: natural order, numbers after non-numbers.
                agg = "arg_min" if first else "arg_max"
                return Typed(f"{agg}({x.sql}, {natural_struct(x.sql)})", x.type)
            if name in ("earliest", "latest"):
                if self.after_stats and "@timestamp" not in self.scope:
                    raise self.err(c, f"{name}() needs @timestamp, which the first stats does not produce")
                ts = self.field_ref(ast.Field(c.start, c.start, "@timestamp"))
                agg = "arg_min" if name == "earliest" else "arg_max"
                return Typed(f"{agg}({x.sql}, {ts.sql})", x.type)
        finally:
            self.mode = "stats"
        raise self.err(c, f"unknown aggregate {name}")  # pragma: no cover

    def timestamp_arg(self, c: ast.Call) -> Typed:
        """@timestamp for bin(): absent after stats unless the first stats defined it."""
        if self.after_stats and "@timestamp" not in self.scope:
            raise self.err(c, "bin() uses @timestamp, which the first stats does not produce",
                           hint="keep a time in the first stats: max(@timestamp) as @t ... | stats ... by datefloor(@t, 5m)")
        saved, self.mode = self.mode, "row"
        try:
            return self.field_ref(ast.Field(c.start, c.start, "@timestamp"))
        finally:
            self.mode = saved

    def period(self, c: ast.Call, node: ast.Expr, *, cap: bool) -> tuple[float, str]:
        if not isinstance(node, ast.Period):
            raise self.err(node, f"{c.name}() needs a time period such as 5m or 1h")
        amount, unit = node.amount, node.unit
        if amount <= 0:
            raise self.err(node, "the time period must be positive")
        if cap and unit in _UNIT_CAP:
            amount = min(amount, _UNIT_CAP[unit])
        if unit in ("w", "mo", "q", "y") and amount != int(amount):
            raise self.err(node, f"a period in {unit} must be a whole number")
        return amount, unit

    def floor_ts(self, ts: str, amount: float, unit: str, ceil: bool = False) -> str:
        if unit in _UNIT_MS:
            p = int(round(amount * _UNIT_MS[unit]))
            if p < 1:
                p = 1
            if ceil:
                return f"epoch_ms((epoch_ms({ts}) + {p - 1}) // {p} * {p})"
            return f"epoch_ms(epoch_ms({ts}) // {p} * {p})"
        if unit == "w":
            iv = f"to_weeks({int(amount)})"
        else:
            iv = f"to_months({int(amount) * _UNIT_MONTHS[unit]})"
        fl = f"time_bucket({iv}, {ts})"
        if ceil:
            return f"(CASE WHEN {fl} = {ts} THEN {ts} ELSE {fl} + {iv} END)"
        return fl

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


def num_text(x: str) -> str:
    """A number as Logs Insights prints it: integers without a trailing .0."""
    return (
        f"(CASE WHEN {x} = trunc({x}) AND abs({x}) < 1e15 "
        f"THEN CAST(CAST({x} AS BIGINT) AS VARCHAR) ELSE CAST({x} AS VARCHAR) END)"
    )


def natural_key(x: str) -> str:
    """A list key that orders strings the way Logs Insights' natural sort does.

    Digit runs become '0' + their length (6 digits) + the digits, so two runs
    compare by length then value, and a run still compares with a non-digit
    chunk as its first digit would (every digit is in '0'..'9').
    """
    return (
        f"list_transform(regexp_extract_all({x}, '[0-9]+|[^0-9]+'), lambda c: "
        f"CASE WHEN c[1] BETWEEN '0' AND '9' THEN '0' || lpad(CAST(length(c) AS VARCHAR), 6, '0') || c ELSE c END)"
    )


def natural_struct(x: str) -> str:
    """Sort key of the natural sort: non-numbers first, numbers by value, then text."""
    isnum = f"regexp_full_match({x}, '{_NUM_RE[1:-1]}')"
    return (
        f"(CASE WHEN {x} IS NOT NULL THEN struct_pack(n := {isnum}, v := "
        f"CASE WHEN {isnum} THEN TRY_CAST({x} AS DOUBLE) END, k := {natural_key(x)}, s := {x}) END)"
    )


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
            return Typed(f"coalesce(CAST({col} AS DOUBLE), TRY_CAST({js} AS DOUBLE))", NUM)
        return Typed(f"coalesce({col}, {js})", typ)
    return Typed(f"json_extract_string({src}, {comp.param(ptr)})", ANY)


# ---------------------------------------------------------------- function table
def _f(lo: int, hi: int):
    def deco(fn):
        return (lo, hi, fn)

    return deco


def _num1(sqlfn: str):
    return _f(1, 1)(lambda c, e: Typed(f"{sqlfn}({c.num_arg(e, 0)})", NUM))


def _str1(sqlfn: str):
    return _f(1, 1)(lambda c, e: Typed(f"{sqlfn}({c.str_arg(e, 0)})", STR))


def _fn_round(c: Compiler, e: ast.Call) -> Typed:
    if len(e.args) == 2:
        return Typed(f"round({c.num_arg(e, 0)}, CAST({c.num_arg(e, 1)} AS INTEGER))", NUM)
    return Typed(f"round({c.num_arg(e, 0)})", NUM)


def _fn_greatest(c: Compiler, e: ast.Call, fn: str) -> Typed:
    return Typed(f"{fn}({', '.join(c.num_arg(e, i) for i in range(len(e.args)))})", NUM)


def _fn_trim(c: Compiler, e: ast.Call, fn: str) -> Typed:
    if len(e.args) == 2:
        return Typed(f"{fn}({c.str_arg(e, 0)}, {c.str_arg(e, 1)})", STR)
    return Typed(f"{fn}({c.str_arg(e, 0)})", STR)


def _fn_substr(c: Compiler, e: ast.Call) -> Typed:
    s, start = c.str_arg(e, 0), c.num_arg(e, 1)
    if len(e.args) == 3:
        return Typed(f"substr({s}, CAST({start} AS BIGINT) + 1, CAST({c.num_arg(e, 2)} AS BIGINT))", STR)
    return Typed(f"substr({s}, CAST({start} AS BIGINT) + 1)", STR)


def _fn_isempty(c: Compiler, e: ast.Call, blank: bool) -> Typed:
    t = c.arg(e, 0)
    if t.type == NULL:
        return Typed("1", NUM)
    if t.type in (STR, ANY):
        extra = f" OR trim({t.sql}) = ''" if blank else ""
        return Typed(f"CAST(({t.sql} IS NULL OR {t.sql} = ''{extra}) AS INTEGER)", NUM)
    return Typed(f"CAST(({t.sql} IS NULL) AS INTEGER)", NUM)


def _fn_ispresent(c: Compiler, e: ast.Call) -> Typed:
    t = c.arg(e, 0)
    if t.type == NULL:
        return Typed("false", BOOL)
    return Typed(f"({t.sql} IS NOT NULL)", BOOL)


def _fn_coalesce(c: Compiler, e: ast.Call) -> Typed:
    kind, parts = c.unify([c.arg(e, i) for i in range(len(e.args))])
    return Typed(f"coalesce({', '.join(parts)})", kind)


def _fn_if(c: Compiler, e: ast.Call) -> Typed:
    cond = c.truth(c.arg(e, 0))
    kind, (a, b) = c.unify([c.arg(e, 1), c.arg(e, 2)])
    return Typed(f"(CASE WHEN {cond} THEN {a} ELSE {b} END)", kind)


def _fn_case(c: Compiler, e: ast.Call) -> Typed:
    args = list(e.args)
    default = args.pop() if len(args) % 2 == 1 else None
    if len(args) // 2 > 10:
        raise c.err(e, "case() takes at most 10 condition/value pairs")
    conds = [c.truth(c.expr(args[i])) for i in range(0, len(args), 2)]
    vals = [c.expr(args[i]) for i in range(1, len(args), 2)]
    if default is not None:
        vals.append(c.expr(default))
    kind, parts = c.unify(vals)
    whens = " ".join(f"WHEN {cd} THEN {v}" for cd, v in zip(conds, parts[: len(conds)], strict=True))
    els = f" ELSE {parts[-1]}" if default is not None else ""
    return Typed(f"(CASE {whens}{els} END)", kind)


def _fn_concat(c: Compiler, e: ast.Call) -> Typed:
    return Typed(f"concat({', '.join(c.str_arg(e, i) for i in range(len(e.args)))})", STR)


def _fn_contains(c: Compiler, e: ast.Call, fn: str) -> Typed:
    return Typed(f"CAST({fn}({c.str_arg(e, 0)}, {c.str_arg(e, 1)}) AS INTEGER)", NUM)


def _fn_bin(c: Compiler, e: ast.Call) -> Typed:
    amount, unit = c.period(e, e.args[0], cap=True)
    ts = c.timestamp_arg(e)
    return Typed(c.floor_ts(ts.sql, amount, unit), TS)


def _ts_of(c: Compiler, t: Typed) -> str:
    if t.type == TS:
        return t.sql
    return f"epoch_ms(CAST({c.as_num(t)} AS BIGINT))"


def _fn_datefloor(c: Compiler, e: ast.Call, ceil: bool) -> Typed:
    ts = _ts_of(c, c.arg(e, 0))
    amount, unit = c.period(e, e.args[1], cap=False)
    return Typed(c.floor_ts(ts, amount, unit, ceil=ceil), TS)


def _fn_frommillis(c: Compiler, e: ast.Call) -> Typed:
    return Typed(f"epoch_ms(CAST({c.num_arg(e, 0)} AS BIGINT))", TS)


def _fn_tomillis(c: Compiler, e: ast.Call) -> Typed:
    t = c.arg(e, 0)
    if t.type == TS:
        return Typed(f"epoch_ms({t.sql})", NUM)
    if t.type in (STR, ANY):
        # An ISO 8601 string (with an offset) or a number of milliseconds.
        return Typed(
            f"coalesce(TRY_CAST({t.sql} AS BIGINT), epoch_ms(CAST(TRY_CAST({t.sql} AS TIMESTAMPTZ) AS TIMESTAMP)))",
            NUM,
        )
    return Typed(c.as_num(t), NUM)


def _time_zone_arg(c: Compiler, e: ast.Call, i: int) -> str:
    """A literal IANA time zone name, checked now, as a bound parameter."""
    tz = c.literal_str(e, i, "a time zone name")
    try:
        zoneinfo.ZoneInfo(tz)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        raise c.err(e.args[i], f"unknown time zone {tz!r}", hint="use an IANA name such as 'Europe/Paris'") from None
    return c.param(tz)


def _fn_formatdate(c: Compiler, e: ast.Call) -> Typed:
    ts = _ts_of(c, c.arg(e, 0))
    if len(e.args) == 3:
        # Stored times are UTC: mark them so, then read the wall-clock time in the zone.
        ts = f"timezone({_time_zone_arg(c, e, 2)}, timezone('UTC', {ts}))"
    return Typed(f"strftime({ts}, {c.str_arg(e, 1)})", STR)


# Java DateTimeFormatter letters -> DuckDB strptime specifiers, longest run first.
_JAVA_DATE = {
    "yyyy": "%Y", "uuuu": "%Y", "yy": "%y", "uu": "%y", "MMMM": "%B", "MMM": "%b", "MM": "%m", "M": "%m",
    "dd": "%d", "d": "%d", "HH": "%H", "H": "%H", "hh": "%I", "h": "%I", "mm": "%M", "m": "%M",
    "ss": "%S", "s": "%S", "SSSSSS": "%f", "SSS": "%g", "a": "%p", "EEEE": "%A", "EEE": "%a",
    "XXX": "%z", "XX": "%z", "X": "%z", "xxx": "%z", "xx": "%z", "Z": "%z", "DDD": "%j",
}


def java_to_strptime(pattern: str, x_zone: str = "%z") -> str:
    """A Java DateTimeFormatter pattern as a DuckDB strptime format.

    ``x_zone`` replaces the ``X`` offset letters: Java's ``X`` also accepts ``Z`` for
    UTC, which ``%z`` does not, so callers try a second format with a literal ``Z``.

    Raises:
        ValueError: the part of the pattern rumq cannot translate.
    """
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "'":
            end = pattern.find("'", i + 1)
            if end < 0:
                raise ValueError("an unterminated quote is not supported")
            # '' is a literal quote; 'text' is literal text.
            out.append("'" if end == i + 1 else pattern[i + 1:end].replace("%", "%%"))
            i = end + 1
            continue
        if ch.isalpha():
            j = i
            while j < len(pattern) and pattern[j] == ch:
                j += 1
            spec = x_zone if ch == "X" and j - i <= 3 else _JAVA_DATE.get(pattern[i:j])
            if spec is None:
                raise ValueError(f"the letters {pattern[i:j]!r} are not supported")
            out.append(spec)
            i = j
            continue
        out.append("%%" if ch == "%" else ch)
        i += 1
    return "".join(out)


def _fn_parsedate(c: Compiler, e: ast.Call) -> Typed:
    pattern = c.literal_str(e, 1, "a Java date pattern")
    try:
        fmt = java_to_strptime(pattern)
    except ValueError as bad:
        raise c.err(e.args[1], f"parseDate() pattern {pattern!r}: {bad} by rumq",
                    hint="supported: yyyy yy MMMM MMM MM M dd d HH H hh h mm m ss s SSS SSSSSS a EEE EEEE "
                         "X XX XXX Z DDD 'text'",
                    unsupported=True) from None
    x = c.str_arg(e, 0)
    parsed = f"try_strptime({x}, {c.param(fmt)})"
    if "%z" in fmt:
        # The text carries its offset; a time zone argument is then ignored, as in Java.
        zulu = java_to_strptime(pattern, x_zone="Z")
        if zulu != fmt:
            return Typed(f"coalesce(epoch_ms({parsed}), epoch_ms(try_strptime({x}, {c.param(zulu)})))", NUM)
        return Typed(f"epoch_ms({parsed})", NUM)
    if len(e.args) == 3:
        return Typed(f"epoch_ms(timezone({_time_zone_arg(c, e, 2)}, {parsed}))", NUM)
    return Typed(f"epoch_ms({parsed})", NUM)


def _fn_query_time(c: Compiler, e: ast.Call, which: str) -> Typed:
    since = c.param(c.since) if c.since is not None else None
    until = c.param(c.until) if c.until is not None else None
    s = f"epoch_ms(CAST({since} AS TIMESTAMP))" if since else "CAST(NULL AS BIGINT)"
    u = f"epoch_ms(CAST({until} AS TIMESTAMP))" if until else "CAST(NULL AS BIGINT)"
    return Typed({"start": s, "end": u, "range": f"({u} - {s})"}[which], NUM)


def _ipv4_num(x: str) -> str:
    parts = " + ".join(
        f"CAST(split_part({x}, '.', {i + 1}) AS BIGINT) * {256 ** (3 - i)}" for i in range(4)
    )
    return f"(CASE WHEN regexp_full_match({x}, '{_V4_RE[1:-1]}') THEN {parts} END)"


def _ipv6_num(x: str) -> str:
    """SQL: an IPv6 address as a UHUGEINT, NULL if it is not valid IPv6 text.

    Expands ``::`` to the missing zero groups and a dotted IPv4 tail
    (``::ffff:192.0.2.1``) to two hex groups, then reads the 32 hex digits.
    """
    tail = f"regexp_extract({x}, '[^:]*$')"
    v4 = _ipv4_num(tail)
    text = (f"lower(CASE WHEN contains({x}, '.') THEN left({x}, length({x}) - length({tail})) || "
            f"printf('%x:%x', {v4} // 65536, {v4} % 65536) ELSE {x} END)")
    halves = f"string_split({text}, '::')"

    def side(h: str) -> str:
        return f"(CASE WHEN {h} = '' THEN []::VARCHAR[] ELSE string_split({h}, ':') END)"

    left, right = side(f"{halves}[1]"), side(f"{halves}[2]")
    zeros = f"list_transform(range(8 - len({left}) - len({right})), lambda i: '0')"
    groups = (f"(CASE WHEN len({halves}) = 1 THEN string_split({text}, ':') "
              f"ELSE list_concat({left}, {zeros}, {right}) END)")
    hexdigits = f"array_to_string(list_transform({groups}, lambda g: lpad(g, 4, '0')), '')"
    # The regex is loose (it lets ':::' through): the real test is 8 groups of 1-4 hex
    # digits, with '::' standing for at least one group.
    exact = (f"len({halves}) <= 2 AND len({groups}) = 8 AND (len({halves}) = 1 OR len({left}) + len({right}) < 8) AND "
             f"list_bool_and(list_transform({groups}, lambda g: regexp_full_match(g, '[0-9a-f]{{1,4}}')))")
    return (f"(CASE WHEN regexp_full_match({x}, '{_V6_RE[1:-1]}') AND {exact} "
            f"THEN TRY_CAST('0x' || {hexdigits} AS UHUGEINT) END)")


def _in_nets(x: str, nets: tuple[str, ...] | list) -> str:
    num = _ipv4_num(x)
    conds = []
    for n in nets:
        net = ipaddress.ip_network(n) if isinstance(n, str) else n
        lo, hi = int(net.network_address), int(net.broadcast_address)
        conds.append(f"{num} BETWEEN {lo} AND {hi}")
    return "(" + " OR ".join(conds) + ")"


def _fn_valid_ip(c: Compiler, e: ast.Call, kind: str) -> Typed:
    x = c.str_arg(e, 0)
    v4 = f"regexp_full_match({x}, '{_V4_RE[1:-1]}')"
    # NULL for an absent field, like the IPv4 test.
    v6 = f"(CASE WHEN {x} IS NOT NULL THEN {_ipv6_num(x)} IS NOT NULL END)"
    return Typed({"4": v4, "6": v6, "any": f"({v4} OR {v6})"}[kind], BOOL)


def _fn_in_subnet(c: Compiler, e: ast.Call, kind: str) -> Typed:
    cidr = c.literal_str(e, 1, "the subnet in CIDR notation")
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        raise c.err(e.args[1], f"{cidr!r} is not a subnet in CIDR notation") from None
    if kind != "any" and str(net.version) != kind:
        raise c.err(e.args[1], f"{e.name}() needs an IPv{kind} subnet, got {cidr!r}")
    if net.version == 6:
        num = _ipv6_num(c.str_arg(e, 0))
        lo, hi = c.param(str(int(net.network_address))), c.param(str(int(net.broadcast_address)))
        return Typed(f"coalesce({num} BETWEEN CAST({lo} AS UHUGEINT) AND CAST({hi} AS UHUGEINT), false)", BOOL)
    return Typed(f"coalesce({_in_nets(c.str_arg(e, 0), [net])}, false)", BOOL)


def _fn_ip_class(c: Compiler, e: ast.Call, kind: str) -> Typed:
    x = c.str_arg(e, 0)
    valid = f"regexp_full_match({x}, '{_V4_RE[1:-1]}')"
    if kind == "private":
        return Typed(f"coalesce({_in_nets(x, _PRIVATE_V4)}, false)", BOOL)
    if kind == "reserved":
        return Typed(f"coalesce({_in_nets(x, _RESERVED_V4)}, false)", BOOL)
    return Typed(
        f"({valid} AND NOT coalesce({_in_nets(x, _PRIVATE_V4 + _RESERVED_V4)}, false))", BOOL
    )


def _fn_haversine(c: Compiler, e: ast.Call) -> Typed:
    la1, lo1, la2, lo2 = (c.num_arg(e, i) for i in range(4))
    return Typed(
        f"(2 * 6371 * asin(sqrt(power(sin(radians({la2} - {la1}) / 2), 2) + "
        f"cos(radians({la1})) * cos(radians({la2})) * power(sin(radians({lo2} - {lo1}) / 2), 2))))",
        NUM,
    )


def _fn_jsonarraysize(c: Compiler, e: ast.Call) -> Typed:
    x = c.str_arg(e, 0)
    return Typed(f"(CASE WHEN json_valid({x}) AND json_type({x}) = 'ARRAY' THEN json_array_length({x}) END)", NUM)


def _fn_jsonarraycontains(c: Compiler, e: ast.Call) -> Typed:
    x = c.str_arg(e, 0)
    v = c.arg(e, 1)
    return Typed(
        f"(CASE WHEN json_valid({x}) AND json_type({x}) = 'ARRAY' THEN "
        f"list_contains(CAST(json_extract_string({x}, '$[*]') AS VARCHAR[]), {c.as_str(v)}) END)",
        BOOL,
    )


def _fn_jsonparse(c: Compiler, e: ast.Call) -> Typed:
    # Only objects and arrays: the spec returns an empty value for any other input.
    x = c.str_arg(e, 0)
    return Typed(
        f"(CASE WHEN json_valid({x}) AND json_type({x}) IN ('OBJECT', 'ARRAY') THEN CAST(json({x}) AS VARCHAR) END)",
        JSON,
    )


def _fn_split(c: Compiler, e: ast.Call) -> Typed:
    return Typed(f"string_split({c.str_arg(e, 0)}, {c.str_arg(e, 1)})", LIST)


def _fn_regexreplace(c: Compiler, e: ast.Call) -> Typed:
    pat = e.args[1]
    if isinstance(pat, ast.Regex):
        rx = pat.pattern
    else:
        rx = c.literal_str(e, 1, "the pattern")
    c.check_regex(rx, pat)
    return Typed(f"regexp_replace({c.str_arg(e, 0)}, {c.param(rx)}, {c.str_arg(e, 2)}, 'g')", STR)


def _fn_to_int(c: Compiler, e: ast.Call, typ: str) -> Typed:
    return Typed(f"TRY_CAST(trunc({c.num_arg(e, 0)}) AS {typ})", NUM)


FUNCTIONS: dict[str, tuple] = {
    # numeric
    "abs": _num1("abs"),
    "ceil": _num1("ceil"),
    "floor": _num1("floor"),
    "log": _num1("ln"),
    "sqrt": _num1("sqrt"),
    "round": (1, 2, _fn_round),
    "greatest": (1, 99, lambda c, e: _fn_greatest(c, e, "greatest")),
    "least": (1, 99, lambda c, e: _fn_greatest(c, e, "least")),
    "haversine": (4, 4, _fn_haversine),
    "tonumber": (1, 1, lambda c, e: Typed(c.num_arg(e, 0), NUM)),
    "todouble": (1, 1, lambda c, e: Typed(c.num_arg(e, 0), NUM)),
    "toint": (1, 1, lambda c, e: _fn_to_int(c, e, "INTEGER")),
    "tolong": (1, 1, lambda c, e: _fn_to_int(c, e, "BIGINT")),
    # general
    "ispresent": (1, 1, _fn_ispresent),
    "coalesce": (1, 99, _fn_coalesce),
    "if": (3, 3, _fn_if),
    "case": (2, 21, _fn_case),
    "isnumeric": (1, 1, lambda c, e: Typed(f"coalesce(regexp_full_match({c.str_arg(e, 0)}, '{_NUM_RE[1:-1]}'), false)", BOOL)),
    "messagesize": (1, 1, lambda c, e: Typed(f"octet_length(encode({c.str_arg(e, 0)}))", NUM)),
    "querystarttime": (0, 0, lambda c, e: _fn_query_time(c, e, "start")),
    "queryendtime": (0, 0, lambda c, e: _fn_query_time(c, e, "end")),
    "querytimerange": (0, 0, lambda c, e: _fn_query_time(c, e, "range")),
    "unmask": (1, 1, lambda c, e: c.arg(e, 0)),
    # string
    "isempty": (1, 1, lambda c, e: _fn_isempty(c, e, False)),
    "isblank": (1, 1, lambda c, e: _fn_isempty(c, e, True)),
    "concat": (1, 99, _fn_concat),
    "ltrim": (1, 2, lambda c, e: _fn_trim(c, e, "ltrim")),
    "rtrim": (1, 2, lambda c, e: _fn_trim(c, e, "rtrim")),
    "trim": (1, 2, lambda c, e: _fn_trim(c, e, "trim")),
    "strlen": (1, 1, lambda c, e: Typed(f"length({c.str_arg(e, 0)})", NUM)),
    "toupper": _str1("upper"),
    "tolower": _str1("lower"),
    "substr": (2, 3, _fn_substr),
    "replace": (3, 3, lambda c, e: Typed(f"replace({c.str_arg(e, 0)}, {c.str_arg(e, 1)}, {c.str_arg(e, 2)})", STR)),
    "strcontains": (2, 3, lambda c, e: _fn_contains(c, e, "contains")),
    "startswith": (2, 2, lambda c, e: _fn_contains(c, e, "starts_with")),
    "endswith": (2, 2, lambda c, e: _fn_contains(c, e, "ends_with")),
    "regexreplace": (3, 3, _fn_regexreplace),
    "urlencode": _str1("url_encode"),
    "urldecode": _str1("url_decode"),
    "base64encode": (1, 1, lambda c, e: Typed(f"to_base64(encode({c.str_arg(e, 0)}))", STR)),
    "base64decode": (1, 1, lambda c, e: Typed(f"decode(from_base64({c.str_arg(e, 0)}))", STR)),
    "split": (2, 2, _fn_split),
    "hextodec": (1, 1, lambda c, e: Typed(f"TRY_CAST('0x' || {c.str_arg(e, 0)} AS BIGINT)", NUM)),
    # Invalid hex or bytes that are not UTF-8 give null, not a query error.
    "hextoascii": (1, 1, lambda c, e: Typed(f"try(decode(unhex({c.str_arg(e, 0)})))", STR)),
    "dectohex": (1, 1, lambda c, e: Typed(f"lower(hex(CAST({c.num_arg(e, 0)} AS BIGINT)))", STR)),
    "md5": _str1("md5"),
    "sha1": _str1("sha1"),
    "sha256": _str1("sha256"),
    # datetime
    "bin": (1, 1, _fn_bin),
    "datefloor": (2, 2, lambda c, e: _fn_datefloor(c, e, False)),
    "dateceil": (2, 2, lambda c, e: _fn_datefloor(c, e, True)),
    "frommillis": (1, 1, _fn_frommillis),
    "tomillis": (1, 1, _fn_tomillis),
    "now": (0, 0, lambda c, e: Typed("CAST(epoch(current_timestamp) AS BIGINT)", NUM)),
    "formatdate": (2, 3, _fn_formatdate),
    "parsedate": (2, 3, _fn_parsedate),
    "strftime": (2, 3, _fn_formatdate),
    # IP
    "isvalidip": (1, 1, lambda c, e: _fn_valid_ip(c, e, "any")),
    "isvalidipv4": (1, 1, lambda c, e: _fn_valid_ip(c, e, "4")),
    "isvalidipv6": (1, 1, lambda c, e: _fn_valid_ip(c, e, "6")),
    "isipinsubnet": (2, 2, lambda c, e: _fn_in_subnet(c, e, "any")),
    "isipv4insubnet": (2, 2, lambda c, e: _fn_in_subnet(c, e, "4")),
    "isipv6insubnet": (2, 2, lambda c, e: _fn_in_subnet(c, e, "6")),
    "ipv4tonumber": (1, 1, lambda c, e: Typed(_ipv4_num(c.str_arg(e, 0)), NUM)),
    "isprivateip": (1, 1, lambda c, e: _fn_ip_class(c, e, "private")),
    "isreservedip": (1, 1, lambda c, e: _fn_ip_class(c, e, "reserved")),
    "ispublicip": (1, 1, lambda c, e: _fn_ip_class(c, e, "public")),
    # JSON
    "jsonarraysize": (1, 1, _fn_jsonarraysize),
    "jsonarraycontains": (2, 2, _fn_jsonarraycontains),
    "jsonparse": (1, 1, _fn_jsonparse),
    "jsonstringify": (1, 1, lambda c, e: Typed(c.str_arg(e, 0), STR)),
}


def compile_query(query: ast.Query, *, since: datetime | None = None, until: datetime | None = None) -> Compiled:
    """Compile a parsed query (see ``rumq.insights.compile``)."""
    return Compiler(query, since=since, until=until).compile()


__all__ = ["Compiled", "compile_query", "json_pointer", "MAX_STATS"]
