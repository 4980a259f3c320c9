"""The Logs Insights function table: each function's arity and its SQL.

The compiler core (``rumq.insights.compiler``) walks commands and expressions;
a call to a function looks its name up here, as sqlglot keeps per-dialect
transforms in tables apart from its generator. An entry of ``FUNCTIONS`` is
``(min_args, max_args, impl)`` where ``impl(compiler, call) -> Typed``; it builds
its SQL from the compiler's typed helpers (``arg``, ``str_arg``, ``num_arg``,
``literal_str``, ``as_num``, ``as_str``, ``truth``, ``unify``, ``param``,
``check_regex``, ``timestamp_arg``, ``err``) and keeps no state of its own.
Every value written in the query reaches SQL through ``compiler.param`` (a
bound parameter); the only text spliced into SQL is fixed by this module.

Aggregates (``AGGREGATES``) are compiled by ``compile_aggregate``; where an
aggregate may appear (inside ``stats`` only) is the compiler's business.
"""

from __future__ import annotations

import ipaddress
import zoneinfo
from typing import TYPE_CHECKING

from rumq.insights import ast
from rumq.insights.fields import ANY, BOOL, JSON, LIST, NULL, NUM, STR, TS, Typed
from rumq.insights.values import NUM_RE, natural_struct

if TYPE_CHECKING:  # pragma: no cover
    from rumq.insights.compiler import Compiler

AGGREGATES = {
    "count", "count_distinct", "sum", "avg", "min", "max", "pct", "stddev", "earliest", "latest",
    "sortsfirst", "sortslast", "percentile", "count_over_time", "sum_over_time",
    # The spellings of two AWS pages (fr_fr and zh_cn of CWL_QuerySyntax-timeseries-functions).
    "countovertime", "sumovertime",
}
#: Spellings of aggregates: the time-series count/sum per bin (use them with `by bin(...)`) are
#: count and sum of the group; percentile(x, p) is pct.
_AGGREGATE_SPELLINGS = {
    "percentile": "pct", "count_over_time": "count", "sum_over_time": "sum",
    "countovertime": "count", "sumovertime": "sum",
}
#: Functions rumq does not run: (why, the spelling that works). The message names the function.
#: docs/insights.md ("Time-series functions") lists the sources behind each reason.
UNSUPPORTED_FUNCTIONS: dict[str, tuple[str, str]] = {
    "rate": (
        "the documentation says only that it computes 'the per-interval rate of change' and shows no "
        "formula and no output (first-to-last change of the bin, mean of successive changes, or a sum "
        "per interval?); the one published measurement fits none of them",
        "change within each bin: stats latest(x) - earliest(x) by bin(5m); events per interval: "
        "stats count(*) by bin(1m); total per interval: stats sum(x) by bin(1m)",
    ),
    "histogram": (
        "the documentation says it returns a map of the given number of equal-width ranges but not "
        "how the ranges' bounds are chosen nor how the map's keys are written, and a published test "
        "found the second argument acting as a bucket width instead",
        "counts per bucket of width w: stats count(*) by floor(x / w) * w as bucket",
    ),
    "topk": (
        "the AWS documentation does not list it (its time-series functions are rate, count_over_time, "
        "sum_over_time and histogram), so its arguments and output are unknown",
        "the k most frequent values: stats count(*) as n by x | sort n desc | limit k",
    ),
    "unnest": ("unnest is a command", "unnest FIELD into NAME"),
}

_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_UNIT_CAP = {"ms": 1000, "s": 60, "m": 60, "h": 24}
_UNIT_MONTHS = {"mo": 1, "q": 3, "y": 12}

_V4_RE = r"^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$"
# An approximation of IPv6 text form: hex groups and colons (one "::" at most), an
# optional dotted IPv4 tail.
_V6_RE = r"^(([0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|(([0-9A-Fa-f]{1,4}:){0,7}[0-9A-Fa-f]{0,4})?::(([0-9A-Fa-f]{1,4}:){0,7}[0-9A-Fa-f]{0,4})?|([0-9A-Fa-f]{1,4}:){6}((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])|::[fF]{4}:((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9]))$"
_PRIVATE_V4 = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
_RESERVED_V4 = (
    "0.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "192.0.0.0/24", "192.0.2.0/24",
    "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
)


def compile_aggregate(c: Compiler, call: ast.Call) -> Typed:
    """SQL of one aggregate call; the caller has checked that an aggregate may stand here.

    Raises:
        QuerySyntaxError: wrong arguments for the aggregate.
    """
    name, args = call.name, call.args
    name = _AGGREGATE_SPELLINGS.get(name, name)
    if name == "count":
        if len(args) > 1:
            raise c.err(call, "count() takes at most one argument")
        if not args or isinstance(args[0], ast.Star):
            return Typed("count(*)", NUM)
        x = c.expr(args[0])
        return Typed(f"count({x.sql})" if x.type != NULL else "CAST(0 AS BIGINT)", NUM)
    if name == "pct":
        if len(args) != 2 or not isinstance(args[1], ast.Number):
            raise c.err(call, f"{call.name}() takes a field and a number literal: {call.name}(field, 95)")
        p = float(args[1].value)
        if not 0 <= p <= 100:
            raise c.err(args[1], "the percentile must be between 0 and 100")
        x = c.expr(args[0])
        return Typed(f"quantile_disc({c.as_num(x)}, {p / 100!r})", NUM)
    if len(args) != 1 or isinstance(args[0], ast.Star):
        raise c.err(call, f"{name}() takes exactly one field or expression")
    x = c.expr(args[0])
    if name == "count_distinct":
        return Typed(f"count(DISTINCT {x.sql})", NUM)
    if name in ("sum", "avg", "stddev"):
        fn = {"sum": "sum", "avg": "avg", "stddev": "stddev_samp"}[name]
        return Typed(f"{fn}({c.as_num(x)})", NUM)
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
        if c.after_stats and "@timestamp" not in c.scope:
            raise c.err(call, f"{name}() needs @timestamp, which the first stats does not produce")
        ts = c.field_ref(ast.Field(call.start, call.start, "@timestamp"))
        agg = "arg_min" if name == "earliest" else "arg_max"
        return Typed(f"{agg}({x.sql}, {ts.sql})", x.type)
    raise c.err(call, f"unknown aggregate {name}")  # pragma: no cover


def _period(c: Compiler, call: ast.Call, node: ast.Expr, *, cap: bool) -> tuple[float, str]:
    """The (amount, unit) of a period argument; ``cap`` applies bin()'s per-unit ceilings."""
    if not isinstance(node, ast.Period):
        raise c.err(node, f"{call.name}() needs a time period such as 5m or 1h")
    amount, unit = node.amount, node.unit
    if amount <= 0:
        raise c.err(node, "the time period must be positive")
    if cap and unit in _UNIT_CAP:
        amount = min(amount, _UNIT_CAP[unit])
    if unit in ("w", "mo", "q", "y") and amount != int(amount):
        raise c.err(node, f"a period in {unit} must be a whole number")
    return amount, unit


def _floor_ts(ts: str, amount: float, unit: str, ceil: bool = False) -> str:
    """SQL: the timestamp ``ts`` rounded down (or up) to a multiple of the period."""
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


# ---------------------------------------------------------------- scalar functions
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
    if len(e.args) == 2:
        # bin(@timestamp, 1h): the two-argument form CloudWatch accepts; any timestamp works.
        amount, unit = _period(c, e, e.args[1], cap=True)
        return Typed(_floor_ts(_ts_of(c, c.arg(e, 0)), amount, unit), TS)
    amount, unit = _period(c, e, e.args[0], cap=True)
    ts = c.timestamp_arg(e)
    return Typed(_floor_ts(ts.sql, amount, unit), TS)


#: The epoch milliseconds fromMillis (and a number given where a time is expected) turns into
#: a time: 0001-01-01 00:00:00.000 to 9999-12-31 23:59:59.999 UTC, the range both engines
#: (DuckDB, Spark) hold and print. Outside it the time is null, as other overflows (toInt,
#: log(0)) are; the bounds apply to the number before it is rounded to a whole millisecond.
MIN_MS, MAX_MS = -62_135_596_800_000, 253_402_300_799_999


def _ms_to_ts(ms: str) -> str:
    """SQL: epoch milliseconds (a number) as a TIMESTAMP; NULL outside ``MIN_MS``..``MAX_MS``."""
    return f"(CASE WHEN {ms} > {MIN_MS - 0.5!r} AND {ms} < {MAX_MS + 0.5!r} THEN epoch_ms(CAST({ms} AS BIGINT)) END)"


def _ts_of(c: Compiler, t: Typed) -> str:
    if t.type == TS:
        return t.sql
    return _ms_to_ts(c.as_num(t))


def _fn_datefloor(c: Compiler, e: ast.Call, ceil: bool) -> Typed:
    ts = _ts_of(c, c.arg(e, 0))
    amount, unit = _period(c, e, e.args[1], cap=False)
    return Typed(_floor_ts(ts, amount, unit, ceil=ceil), TS)


def _fn_frommillis(c: Compiler, e: ast.Call) -> Typed:
    return Typed(_ms_to_ts(c.num_arg(e, 0)), TS)


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
    # Only objects and arrays: Logs Insights gives an empty value for any other input.
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
    "isnumeric": (1, 1, lambda c, e: Typed(f"coalesce(regexp_full_match({c.str_arg(e, 0)}, '{NUM_RE[1:-1]}'), false)", BOOL)),
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
    "bin": (1, 2, _fn_bin),
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

