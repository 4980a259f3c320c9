"""Typed syntax tree of a Logs Insights query.

Every node keeps the span of query text it came from (``start``, ``end``):
error messages point at it, and unaliased result columns are named after it
(``count(*)``, ``avg(event_details.duration)``), as Logs Insights names them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Node:
    start: int
    end: int


# ---------------------------------------------------------------- expressions
@dataclass(frozen=True)
class Expr(Node):
    pass


@dataclass(frozen=True)
class String(Expr):
    value: str


@dataclass(frozen=True)
class Number(Expr):
    value: int | float


@dataclass(frozen=True)
class Regex(Expr):
    pattern: str


@dataclass(frozen=True)
class Period(Expr):
    """A time period such as ``5m``: ``amount`` of canonical ``unit`` (ms s m h d w mo q y)."""

    amount: float
    unit: str
    text: str


@dataclass(frozen=True)
class Field(Expr):
    """A field reference; ``name`` is the flattened name (``metadata.aws:client``)."""

    name: str


@dataclass(frozen=True)
class Star(Expr):
    """``*`` as in ``count(*)``."""


@dataclass(frozen=True)
class Call(Expr):
    """A function call; ``name`` is lower-cased, ``text_name`` as written."""

    name: str
    args: tuple[Expr, ...]
    name_start: int = 0


@dataclass(frozen=True)
class Unary(Expr):
    op: str  # "-" or "not"
    operand: Expr


@dataclass(frozen=True)
class Binary(Expr):
    op: str  # + - * / % ^ = != < <= > >= and or
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Like(Expr):
    """``x like "s"`` (substring), ``x like /re/`` or ``x =~ /re/`` (regex search)."""

    operand: Expr
    pattern: String | Regex
    negated: bool = False


@dataclass(frozen=True)
class Index(Expr):
    """``list[index]``: an element of a JSON array (or of a split() list), 0-based."""

    operand: Expr
    index: int


@dataclass(frozen=True)
class Member(Expr):
    """``expr.name`` on a computed value, e.g. ``jsonParse(s).a`` or ``list[0].name``."""

    operand: Expr
    name: str


@dataclass(frozen=True)
class In(Expr):
    operand: Expr
    items: tuple[String | Number, ...]
    negated: bool = False


# ------------------------------------------------------------------- commands
@dataclass(frozen=True)
class Projection(Node):
    """``expr [as alias]``; ``text`` is the expression's source text (whitespace collapsed)."""

    expr: Expr
    alias: str | None
    text: str

    @property
    def name(self) -> str:
        """The column name Logs Insights shows: the alias, else the expression text."""
        if self.alias is not None:
            return self.alias
        if isinstance(self.expr, Field):
            return self.expr.name
        return self.text


@dataclass(frozen=True)
class Command(Node):
    pass


@dataclass(frozen=True)
class Fields(Command):
    items: tuple[Projection, ...]


@dataclass(frozen=True)
class Display(Command):
    items: tuple[Projection, ...]


@dataclass(frozen=True)
class Filter(Command):
    condition: Expr


@dataclass(frozen=True)
class Stats(Command):
    items: tuple[Projection, ...]
    by: tuple[Projection, ...] = ()


@dataclass(frozen=True)
class SortKey(Node):
    expr: Expr
    descending: bool
    explicit: bool  # asc/desc was written


@dataclass(frozen=True)
class Sort(Command):
    keys: tuple[SortKey, ...]


@dataclass(frozen=True)
class Limit(Command):
    count: int


@dataclass(frozen=True)
class Parse(Command):
    """``parse [source] "glob" as a, b`` or ``parse [source] /(?<a>...)/``."""

    source: Field | None
    pattern: String | Regex
    aliases: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Dedup(Command):
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Source(Command):
    """A leading ``SOURCE`` clause.

    Attributes:
        form: ``names`` (quoted log group names), ``logGroups`` or ``dataSource``.
        names: exact log group names (``SOURCE '/aws/vendedlogs/RUMService_x'``).
        prefixes: ``logGroups(namePrefix: [...])``.
        ignored: the parts rumq cannot map (``class: ...``, ``dataSource(...)``), as written.
    """

    form: str
    names: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pattern(Command):
    """``pattern expr``: cluster the values of ``expr`` into patterns."""

    expr: Expr


@dataclass(frozen=True)
class Diff(Command):
    """``diff [previousDay|previousWeek|previousMonth]`` after ``pattern``; ``period`` is "" for the
    immediately preceding range."""

    period: str


@dataclass(frozen=True)
class Unnest(Command):
    """``unnest expr into name``: one row per element of a JSON array."""

    expr: Expr
    alias: str


@dataclass(frozen=True)
class Query(Node):
    commands: tuple[Command, ...]
    text: str = ""
