"""Recursive-descent parser: tokens -> ``rumq.insights.ast.Query``.

Operator precedence, tightest first, as in Logs Insights (docs/insights.md): unary ``-``; ``^``;
``* / %``; ``+ -``; comparisons, ``like``, ``=~``, ``in``; ``not``; ``and``;
``or``. Keywords and command names are case-insensitive.
"""

from __future__ import annotations

import difflib
import re

from rumq.errors import QuerySyntaxError, QueryUnsupportedError, line_column
from rumq.formats import MAX_LIMIT  # the SQL's LIMIT is a BIGINT
from rumq.insights import ast
from rumq.insights.tokens import (
    EOF,
    IDENT,
    NUMBER,
    OP,
    PERIOD,
    REGEX,
    STRING,
    UNITS,
    Token,
    tokenize,
)

COMMANDS = (
    "fields", "display", "filter", "where", "stats", "sort", "limit", "parse", "dedup", "pattern", "diff",
    "unnest", "filterindex",
)

#: Other spellings CloudWatch accepts, and the command each one means.
ALIASES = {"where": "filter", "filterindex": "filter", "order": "sort", "head": "limit"}

#: Commands backed by the service's machine learning: rumq cannot compute them as it does.
ML_COMMANDS = ("anomaly", "outlier", "relevantfields", "countfrequent")

#: Commands of the language that rumq recognises but does not run, with why and what works.
UNSUPPORTED_COMMANDS: dict[str, str] = {
    "unmask": "rumq stores no masked data; use fields @message",
    "lookup": "rumq has no lookup tables; use if() or case() in fields",
    "join": "the service documents no exact semantics for it; run two queries",
    "tail": "it is a deprecated spelling; use sort @timestamp asc | limit N",
    "expand": "use unnest FIELD into NAME",
    "addtotals": "use a second stats: stats sum(x)",
    "autoregress": "not supported",
    "logcompare": "use pattern @message | diff",
    "filldown": "not supported",
    "fillmissing": "not supported",
    "cidrlookup": "use isIpInSubnet(ip, cidr) in fields or filter",
    "accum": "not supported",
    "appendcols": "not supported",
    "sessionize": "use the named queries under queries/ (rumq queries) for sessions",
    "json": "use jsonParse(field) in fields",
}

_CMP = ("=", "==", "!=", "<", "<=", ">", ">=")

#: The longest time period: longer than the whole range of timestamps (years 1 to 9999), and
#: short enough for every period computation (milliseconds in a BIGINT, months in an INTEGER).
MAX_PERIOD_YEARS = 10_000
_UNIT_DAYS = {"ms": 1 / 86_400_000, "s": 1 / 86_400, "m": 1 / 1_440, "h": 1 / 24, "d": 1, "w": 7, "mo": 31,
              "q": 92, "y": 366}


def error_at(text: str, pos: int, message: str, *, hint: str = "", cls: type = QuerySyntaxError):
    """Build a syntax error pointing at offset ``pos`` of ``text``."""
    line, col = line_column(text, pos)
    return cls(message, text=text, line=line, column=col, hint=hint)


def _collapse(s: str) -> str:
    return re.sub(r"\s+", " ", s.strip())


class Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = tokenize(text)
        self.i = 0

    # ------------------------------------------------------------ helpers
    @property
    def tok(self) -> Token:
        return self.toks[self.i]

    def peek(self, k: int = 1) -> Token:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def advance(self) -> Token:
        t = self.toks[self.i]
        if t.kind != EOF:
            self.i += 1
        return t

    def error(self, message: str, tok: Token | None = None, hint: str = "") -> QuerySyntaxError:
        t = tok or self.tok
        return error_at(self.text, t.start, message, hint=hint)

    def describe(self, t: Token) -> str:
        if t.kind == EOF:
            return "end of query"
        return repr(self.text[t.start : t.end])

    def expect_op(self, op: str, what: str = "") -> Token:
        if not self.tok.is_op(op):
            raise self.error(f"expected {what or repr(op)}, found {self.describe(self.tok)}")
        return self.advance()

    def prev_end(self) -> int:
        return self.toks[self.i - 1].end if self.i else 0

    # ------------------------------------------------------------ commands
    def parse(self) -> ast.Query:
        commands: list[ast.Command] = []
        if self.tok.kind == EOF:
            raise self.error("empty query", hint="write a command such as: fields @timestamp, @message")
        if self.tok.is_word("source"):
            commands.append(self.source())
            if self.tok.kind == EOF:  # a bare SOURCE clause: its events, as `fields @timestamp, @message`
                return ast.Query(0, len(self.text), tuple(commands), self.text)
            if not self.tok.is_op("|"):
                raise self.error(f"expected '|' after the SOURCE clause, found {self.describe(self.tok)}")
            self.advance()
        while True:
            commands.append(self.command())
            if self.tok.kind == EOF:
                break
            if not self.tok.is_op("|"):
                raise self.error(
                    f"expected '|' or end of query, found {self.describe(self.tok)}",
                    hint="separate commands with |",
                )
            self.advance()
        return ast.Query(0, len(self.text), tuple(commands), self.text)

    def command(self) -> ast.Command:
        t = self.tok
        if t.kind != IDENT or t.quoted:
            raise self.error(f"expected a command, found {self.describe(t)}",
                             hint="commands: " + ", ".join(COMMANDS))
        word = t.value.lower()
        if word in ML_COMMANDS:
            raise error_at(
                self.text, t.start,
                f"the '{t.value}' command is not supported by rumq: it is computed by the service's "
                "machine learning, which rumq cannot reproduce",
                hint="pattern @message | diff compares message patterns with the previous period",
                cls=QueryUnsupportedError,
            )
        if word in UNSUPPORTED_COMMANDS:
            raise error_at(
                self.text, t.start, f"the '{t.value}' command is not supported by rumq",
                hint=UNSUPPORTED_COMMANDS[word], cls=QueryUnsupportedError,
            )
        if word == "source":
            raise self.error("SOURCE must be the first command of the query",
                             hint="move it to the start: SOURCE '...' | ...")
        if word not in COMMANDS and word not in ALIASES:
            close = difflib.get_close_matches(word, COMMANDS, n=1)
            hint = f"did you mean '{close[0]}'?" if close else "commands: " + ", ".join(COMMANDS)
            raise self.error(f"unknown command {t.value!r}", hint=hint)
        self.advance()
        if word == "order":
            if not self.tok.is_word("by"):
                raise self.error("'order' must be followed by 'by'", hint="order by FIELD desc (or: sort FIELD desc)")
        method = getattr(self, "cmd_" + ALIASES.get(word, word))
        node = method(t)
        return node

    def source(self) -> ast.Source:
        """``SOURCE 'group'[, ...]``, ``SOURCE logGroups(namePrefix: [...], ...)``, ``SOURCE dataSource(...)``."""
        t = self.advance()
        names: list[str] = []
        if self.tok.kind == STRING:
            while True:
                names.append(self.advance().value)
                if self.tok.is_op(",") and self.peek().kind == STRING:
                    self.advance()
                    continue
                break
            return ast.Source(t.start, self.prev_end(), "names", tuple(names))
        if self.tok.is_word("loggroups") and self.peek().is_op("("):
            self.advance()
            lp = self.advance()
            prefixes: list[str] = []
            ignored: list[str] = []
            while not self.tok.is_op(")"):
                key = self.tok
                if key.kind == EOF:
                    raise self.error("unbalanced parentheses: missing ')' closing logGroups(", lp)
                if key.kind != IDENT or not self.peek().is_op(":"):
                    raise self.error(f"expected 'name: value' in logGroups(...), found {self.describe(key)}",
                                     hint="logGroups(namePrefix: ['/aws/vendedlogs/RUMService_'], class: ['STANDARD'])")
                self.advance()
                self.advance()
                vstart = self.tok.start
                values = self.source_values(lp)
                if key.value.lower() == "nameprefix":
                    prefixes += values
                else:
                    ignored.append(f"{key.value}: {self.text[vstart:self.prev_end()]}")
                if self.tok.is_op(","):
                    self.advance()
            self.advance()
            return ast.Source(t.start, self.prev_end(), "logGroups", (), tuple(prefixes), tuple(ignored))
        if self.tok.is_word("datasource") and self.peek().is_op("("):
            start = self.tok.start
            self.advance()
            lp = self.advance()
            depth = 1
            while depth:
                if self.tok.kind == EOF:
                    raise self.error("unbalanced parentheses: missing ')'", lp)
                if self.tok.is_op("("):
                    depth += 1
                elif self.tok.is_op(")"):
                    depth -= 1
                self.advance()
            return ast.Source(t.start, self.prev_end(), "dataSource", (), (), (self.text[start:self.prev_end()],))
        raise error_at(
            self.text, self.tok.start if self.tok.kind != EOF else t.start,
            f"this form of SOURCE is not supported by rumq (found {self.describe(self.tok)})",
            hint="rumq reads SOURCE 'log-group', SOURCE logGroups(namePrefix: [...]) and SOURCE dataSource(...)",
            cls=QueryUnsupportedError,
        )

    def source_values(self, lp: Token) -> list[str]:
        """A value in logGroups(...): a quoted string, a bare word or a [list] of them."""
        out: list[str] = []
        if self.tok.is_op("["):
            self.advance()
            while not self.tok.is_op("]"):
                if self.tok.kind not in (STRING, IDENT, NUMBER):
                    raise self.error(f"expected a quoted value in the list, found {self.describe(self.tok)}")
                out.append(self.advance().value)
                if self.tok.is_op(","):
                    self.advance()
            self.advance()
            return out
        if self.tok.kind in (STRING, IDENT, NUMBER):
            return [self.advance().value]
        if self.tok.kind == EOF:
            raise self.error("unbalanced parentheses: missing ')'", lp)
        raise self.error(f"expected a value, found {self.describe(self.tok)}")

    def projections(self, cmd: Token, *, stop_words: tuple[str, ...] = ()) -> tuple[ast.Projection, ...]:
        items = []
        if self.tok.kind == EOF or self.tok.is_op("|"):
            raise self.error(f"'{cmd.value}' needs at least one expression")
        while True:
            items.append(self.projection())
            if self.tok.is_op(","):
                self.advance()
                continue
            break
        return tuple(items)

    def projection(self) -> ast.Projection:
        start = self.tok.start
        expr = self.expr()
        text = _collapse(self.text[expr.start : expr.end])
        alias = None
        if self.tok.is_word("as"):
            self.advance()
            alias = self.name("alias")
        return ast.Projection(start, self.prev_end(), expr, alias, text)

    def name(self, what: str) -> str:
        t = self.tok
        if t.kind != IDENT:
            raise self.error(f"expected {what} (a field name), found {self.describe(t)}")
        self.advance()
        return t.value

    def cmd_fields(self, t: Token) -> ast.Fields:
        items = self.projections(t)
        return ast.Fields(t.start, self.prev_end(), items)

    def cmd_display(self, t: Token) -> ast.Display:
        items = self.projections(t)
        return ast.Display(t.start, self.prev_end(), items)

    def cmd_filter(self, t: Token) -> ast.Filter:
        if self.tok.kind == EOF or self.tok.is_op("|"):
            raise self.error(f"'{t.value}' needs a condition")
        cond = self.expr()
        return ast.Filter(t.start, self.prev_end(), cond)

    def cmd_stats(self, t: Token) -> ast.Stats:
        items = self.projections(t)
        by: tuple[ast.Projection, ...] = ()
        if self.tok.is_word("by"):
            by_tok = self.advance()
            if self.tok.kind == EOF or self.tok.is_op("|"):
                raise self.error("'by' needs at least one grouping expression", by_tok)
            groups = []
            while True:
                groups.append(self.projection())
                if self.tok.is_word("offset"):
                    # See docs/insights.md, "Time-series functions", for the sources.
                    raise error_at(self.text, self.tok.start,
                                   "'bin(...) offset' is not supported by rumq: the documentation says it "
                                   "shifts the bins by a duration for time-shifted comparisons, but not whether "
                                   "it moves the bin boundaries or the events' times, in which direction, or "
                                   "whether the earlier period's events are read, and it shows no output",
                                   hint="to compare with the same bins an hour earlier, run the query again "
                                        "over the earlier range (--since/--until); for patterns: "
                                        "pattern @message | diff previousDay",
                                   cls=QueryUnsupportedError)
                if self.tok.is_op(","):
                    self.advance()
                    continue
                break
            by = tuple(groups)
        return ast.Stats(t.start, self.prev_end(), items, by)

    def cmd_sort(self, t: Token) -> ast.Sort:
        if self.tok.is_word("by"):  # `sort by x` and `order by x`: spellings CloudWatch accepts
            self.advance()
        if self.tok.kind == EOF or self.tok.is_op("|"):
            raise self.error("'sort' needs a field to sort by")
        keys = []
        while True:
            start = self.tok.start
            e = self.expr()
            desc, explicit = True, False
            if self.tok.is_word("asc", "desc"):
                desc = self.advance().value.lower() == "desc"
                explicit = True
            keys.append(ast.SortKey(start, self.prev_end(), e, desc, explicit))
            if self.tok.is_op(","):
                self.advance()
                continue
            break
        return ast.Sort(t.start, self.prev_end(), tuple(keys))

    def cmd_limit(self, t: Token) -> ast.Limit:
        if self.tok.is_word("any"):
            # "limit any N" lets the service stop at any N matches; the first N in order are such N.
            self.advance()
        n = self.tok
        if n.kind != NUMBER or not n.value.isdigit() or int(n.value) < 1:
            raise self.error(f"'limit' needs a positive whole number, found {self.describe(n)}")
        if int(n.value) > MAX_LIMIT:
            raise self.error(f"'limit' {n.value} is too large: at most {MAX_LIMIT}")
        self.advance()
        return ast.Limit(t.start, self.prev_end(), int(n.value))

    def cmd_parse(self, t: Token) -> ast.Parse:
        source = None
        if self.tok.kind == IDENT:
            if self.tok.is_word("logfmt", "csv"):
                raise error_at(self.text, self.tok.start, f"'parse {self.tok.value}' is not supported by rumq",
                               cls=QueryUnsupportedError, hint="use a glob or regex pattern")
            f = self.advance()
            source = ast.Field(f.start, f.end, f.value)
            if self.tok.is_word("logfmt", "csv"):
                raise error_at(self.text, self.tok.start, f"'parse {self.tok.value}' is not supported by rumq",
                               cls=QueryUnsupportedError, hint="use a glob or regex pattern")
        p = self.tok
        if p.kind == STRING:
            self.advance()
            pattern: ast.String | ast.Regex = ast.String(p.start, p.end, p.value)
            if not self.tok.is_word("as"):
                raise self.error("a glob 'parse' needs 'as' and one name per *",
                                 hint='e.g. parse @message "user=* id=*" as user, id')
            self.advance()
            aliases = [self.name("alias")]
            while self.tok.is_op(","):
                self.advance()
                aliases.append(self.name("alias"))
            stars = p.value.count("*")
            if stars != len(aliases):
                raise error_at(
                    self.text, p.start,
                    f"the pattern has {stars} '*' but {len(aliases)} name(s) follow 'as'",
                    hint="the number of * wildcards must equal the number of aliases",
                )
            return ast.Parse(t.start, self.prev_end(), source, pattern, tuple(aliases))
        if p.kind == REGEX:
            self.advance()
            if self.tok.is_word("multi") or self.tok.is_word("as"):
                raise error_at(self.text, self.tok.start, f"'parse /regex/ {self.tok.value}' is not supported by rumq",
                               cls=QueryUnsupportedError,
                               hint="name the captures inside the regex: /(?<name>...)/")
            return ast.Parse(t.start, self.prev_end(), source, ast.Regex(p.start, p.end, p.value), ())
        raise self.error(f"'parse' needs a quoted glob pattern or a /regex/, found {self.describe(p)}")

    def cmd_pattern(self, t: Token) -> ast.Pattern:
        if self.tok.kind == EOF or self.tok.is_op("|"):
            raise self.error("'pattern' needs a field or string expression", hint="pattern @message")
        e = self.expr()
        return ast.Pattern(t.start, self.prev_end(), e)

    def cmd_diff(self, t: Token) -> ast.Diff:
        period = ""
        if self.tok.kind == IDENT and not self.tok.quoted:
            w = self.tok.value.lower()
            known = {"previousday": "previousDay", "previousweek": "previousWeek", "previousmonth": "previousMonth"}
            if w not in known:
                raise self.error(f"unknown diff period {self.tok.value!r}",
                                 hint="diff, diff previousDay, diff previousWeek or diff previousMonth")
            period = known[w]
            self.advance()
        return ast.Diff(t.start, self.prev_end(), period)

    def cmd_unnest(self, t: Token) -> ast.Unnest:
        if self.tok.kind == EOF or self.tok.is_op("|"):
            raise self.error("'unnest' needs a field", hint="unnest FIELD into NAME")
        e = self.expr()
        if not self.tok.is_word("into"):
            raise self.error(f"expected 'into' after the unnest field, found {self.describe(self.tok)}",
                             hint="unnest FIELD into NAME")
        self.advance()
        alias = self.name("the name after 'into'")
        return ast.Unnest(t.start, self.prev_end(), e, alias)

    def cmd_dedup(self, t: Token) -> ast.Dedup:
        fields = []
        if self.tok.kind != IDENT:
            raise self.error(f"'dedup' needs field names, found {self.describe(self.tok)}")
        while True:
            f = self.tok
            if f.kind != IDENT:
                raise self.error(f"expected a field name, found {self.describe(f)}")
            self.advance()
            fields.append(ast.Field(f.start, f.end, f.value))
            if self.tok.is_op(","):
                self.advance()
                continue
            break
        return ast.Dedup(t.start, self.prev_end(), tuple(fields))

    # ------------------------------------------------------------ expressions
    def expr(self) -> ast.Expr:
        return self.or_expr()

    def or_expr(self) -> ast.Expr:
        left = self.and_expr()
        while self.tok.is_word("or"):
            self.advance()
            right = self.and_expr()
            left = ast.Binary(left.start, right.end, "or", left, right)
        return left

    def and_expr(self) -> ast.Expr:
        left = self.not_expr()
        while self.tok.is_word("and"):
            self.advance()
            right = self.not_expr()
            left = ast.Binary(left.start, right.end, "and", left, right)
        return left

    def not_expr(self) -> ast.Expr:
        if self.tok.is_word("not") or self.tok.is_op("!"):
            t = self.advance()
            operand = self.not_expr()
            return ast.Unary(t.start, operand.end, "not", operand)
        return self.cmp_expr()

    def cmp_expr(self) -> ast.Expr:
        left = self.add_expr()
        t = self.tok
        if t.kind == OP and t.value in _CMP:
            self.advance()
            right = self.add_expr()
            return ast.Binary(left.start, right.end, "=" if t.value == "==" else t.value, left, right)
        negated = False
        if t.is_word("not") and (self.peek().is_word("like", "in")):
            self.advance()
            negated = True
            t = self.tok
        if t.is_word("like") or t.is_op("=~"):
            self.advance()
            p = self.tok
            if p.kind == STRING:
                pat: ast.String | ast.Regex = ast.String(p.start, p.end, p.value)
                if t.is_op("=~"):
                    pat = ast.Regex(p.start, p.end, p.value)
            elif p.kind == REGEX:
                pat = ast.Regex(p.start, p.end, p.value)
            else:
                raise self.error(f"'{t.value}' needs a quoted string or a /regex/, found {self.describe(p)}")
            self.advance()
            return ast.Like(left.start, p.end, left, pat, negated)
        if t.is_word("in"):
            self.advance()
            if self.tok.is_op("("):
                raise error_at(
                    self.text, self.tok.start,
                    "subqueries (x in (SOURCE ... | fields x)) are not supported by rumq",
                    hint='write the values as a list: x in ["a", "b"]', cls=QueryUnsupportedError,
                )
            lb = self.expect_op("[", "'[' starting a list")
            items: list[ast.String | ast.Number] = []
            while not self.tok.is_op("]"):
                items.append(self.list_item())
                if self.tok.is_op(","):
                    self.advance()
                    continue
                if not self.tok.is_op("]"):
                    raise self.error(f"expected ',' or ']' in the list, found {self.describe(self.tok)}")
            rb = self.advance()
            if not items:
                raise self.error("an 'in' list needs at least one value", lb)
            return ast.In(left.start, rb.end, left, tuple(items), negated)
        return left

    def list_item(self) -> ast.String | ast.Number:
        t = self.tok
        neg = False
        if t.is_op("-") and self.peek().kind == NUMBER:
            self.advance()
            neg = True
            t = self.tok
        if t.kind == STRING:
            self.advance()
            return ast.String(t.start, t.end, t.value)
        if t.kind == NUMBER:
            self.advance()
            v = _number(t.value)
            return ast.Number(t.start, t.end, -v if neg else v)
        raise self.error(f"list values must be quoted strings or numbers, found {self.describe(t)}")

    def add_expr(self) -> ast.Expr:
        left = self.mul_expr()
        while self.tok.is_op("+", "-"):
            op = self.advance().value
            right = self.mul_expr()
            left = ast.Binary(left.start, right.end, op, left, right)
        return left

    def mul_expr(self) -> ast.Expr:
        left = self.pow_expr()
        while self.tok.is_op("*", "/", "%"):
            op = self.advance().value
            right = self.pow_expr()
            left = ast.Binary(left.start, right.end, op, left, right)
        return left

    def pow_expr(self) -> ast.Expr:
        left = self.unary()
        if self.tok.is_op("^"):
            self.advance()
            right = self.pow_expr()  # right-associative
            return ast.Binary(left.start, right.end, "^", left, right)
        return left

    def unary(self) -> ast.Expr:
        if self.tok.is_op("-"):
            t = self.advance()
            operand = self.unary()
            if isinstance(operand, ast.Number):
                return ast.Number(t.start, operand.end, -operand.value)
            return ast.Unary(t.start, operand.end, "-", operand)
        return self.postfix(self.primary())

    def postfix(self, e: ast.Expr) -> ast.Expr:
        """``e[index]`` and ``e.name`` after a value (``list[0]``, ``jsonParse(s).a``)."""
        while True:
            if self.tok.is_op("[") and self.tok.start == e.end:
                self.advance()
                n = self.tok
                if n.kind != NUMBER or not n.value.isdigit():
                    raise self.error(f"a list index must be a whole number, found {self.describe(n)}",
                                     hint="list[0] is the first element")
                self.advance()
                rb = self.expect_op("]", "']' closing the index")
                e = ast.Index(e.start, rb.end, e, int(n.value))
            elif self.tok.is_op(".") and self.tok.start == e.end:
                self.advance()
                n = self.tok
                if n.kind != IDENT:
                    raise self.error(f"expected a name after '.', found {self.describe(n)}")
                self.advance()
                e = ast.Member(e.start, n.end, e, n.value)
            else:
                return e

    def primary(self) -> ast.Expr:
        t = self.tok
        if t.kind == NUMBER:
            self.advance()
            return ast.Number(t.start, t.end, _number(t.value))
        if t.kind == STRING:
            self.advance()
            return ast.String(t.start, t.end, t.value)
        if t.kind == REGEX:
            self.advance()
            return ast.Regex(t.start, t.end, t.value)
        if t.kind == PERIOD:
            self.advance()
            m = re.fullmatch(r"([0-9.]+)([A-Za-z]+)", t.value)
            assert m is not None
            amount, unit = _number(m.group(1)), UNITS[m.group(2).lower()]
            if amount > MAX_PERIOD_YEARS * 366 / _UNIT_DAYS[unit]:  # not amount * days: an int past float range
                raise self.error(f"the time period {t.value} is too long: at most {MAX_PERIOD_YEARS:,} years",
                                 tok=t)
            return ast.Period(t.start, t.end, amount, unit, t.value)
        if t.kind == IDENT:
            if not t.quoted and self.peek().is_op("("):
                return self.call()
            if t.is_word(*_RESERVED):
                raise self.error(f"expected a value, found the keyword {t.value!r}",
                                 hint=f"a field named {t.value} is written in backticks: `{t.value}`")
            self.advance()
            return ast.Field(t.start, t.end, t.value)
        if t.is_op("("):
            self.advance()
            if self.tok.is_op(")"):
                raise self.error("empty parentheses")
            e = self.expr()
            rp = self.expect_op(")", "')'")
            return _respan(e, t.start, rp.end)
        if t.is_op("["):
            raise self.error("a list [...] may only follow 'in'")
        raise self.error(f"expected a value, found {self.describe(t)}")

    def call(self) -> ast.Expr:
        name = self.advance()
        lp = self.advance()
        args: list[ast.Expr] = []
        if self.tok.is_op("*") and self.peek().is_op(")"):
            s = self.advance()
            args.append(ast.Star(s.start, s.end))
        elif not self.tok.is_op(")"):
            while True:
                if self.tok.kind == EOF:
                    raise self.error("unbalanced parentheses: missing ')'", lp)
                args.append(self.expr())
                if self.tok.is_op(","):
                    self.advance()
                    continue
                break
        if not self.tok.is_op(")"):
            if self.tok.kind == EOF:
                raise self.error("unbalanced parentheses: missing ')'", lp)
            raise self.error(f"expected ',' or ')' in the call of {name.value}, found {self.describe(self.tok)}")
        rp = self.advance()
        return ast.Call(name.start, rp.end, name.value.lower(), tuple(args), name.start)


_RESERVED = ("and", "or", "by", "as", "like", "in", "asc", "desc")


def _number(s: str) -> int | float:
    return float(s) if "." in s else int(s)


def _respan(e: ast.Expr, start: int, end: int) -> ast.Expr:
    """Give a parenthesised expression the span including its parentheses."""
    import dataclasses

    return dataclasses.replace(e, start=start, end=end)


def parse(text: str) -> ast.Query:
    """Parse a Logs Insights query into a ``Query`` tree.

    Raises:
        QuerySyntaxError: the text is not a valid query (with line, column, caret).
        QueryUnsupportedError: the query uses a command rumq does not run.
    """
    return Parser(text).parse()
