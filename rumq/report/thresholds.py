"""Threshold expressions (alarms) over a section's result, parsed without ``eval``.

Grammar (one expression per string)::

    threshold  := subject OP number ["%"] ["on" quantifier word] ["with" sample]
    subject    := column [qualifier]
    sample     := column OP number ["%"]
    OP         := ">" | ">=" | "<" | "<=" | "==" | "=" | "!="
    quantifier := "any" | "every" | "all" | "each"

Examples: ``error_session_rate > 0.05``, ``error_session_rate > 5%``,
``sessions < 100``, ``p75 LCP > 2500 on any page``, ``rows < 1``,
``error_session_rate > 0.10 on any browser with sessions >= 30``.

* ``column`` is a result column. ``rows`` (when the result has no column of
  that name) is the result's row count.
* ``qualifier`` keeps the rows whose key column equals it (case-insensitive):
  the key column is ``metric`` when the result has one, else ``check``, else
  its first text column. ``p75 LCP`` is column ``p75`` of the LCP rows.
* Without ``on``, or with ``on any ...``/``on each ...``, the threshold is
  breached when any row breaches; with ``on every ...``/``on all ...``, when
  every row with a value does. The trailing word names the rows in messages;
  when it is a column (``page``), the breaching rows are named by its values.
* ``with sessions >= 30`` (a minimum sample) tests only the rows whose
  ``sessions`` meet the condition; the others are ignored and counted, so a
  browser with 3 sessions and 1 error cannot raise a 33% alarm. The sample
  condition is checked after the qualifier.
* Missing values (NULL, NaN) never breach; a result without a value to test is
  reported as ``no_data``, not as a breach.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "=": operator.eq,
    "!=": operator.ne,
}
ANY, EVERY = "any", "every"
_QUANTIFIERS = {"any": ANY, "each": ANY, "every": EVERY, "all": EVERY}
_TOKEN_RE = re.compile(
    r"\s*(?:(?P<op>>=|<=|==|!=|>|<|=)"
    r"|(?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?%?)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_.\-/]*)"
    r"|(?P<quoted>'[^']*'|\"[^\"]*\"))"
)
#: How many breaching rows a result names.
MAX_NAMED_ROWS = 10
ROWS = "rows"


class ThresholdSyntaxError(ValueError):
    """A threshold expression does not parse (the message says what was expected)."""


@dataclass(frozen=True)
class Threshold:
    """A parsed threshold expression.

    Attributes:
        text: the expression as written.
        column: the result column tested (or ``rows``).
        qualifier: the key value that selects rows (``LCP``), or None.
        op: the comparison operator.
        value: the limit (``5%`` is 0.05).
        quantifier: ``any`` or ``every``.
        over: the word after the quantifier (``page``), or None.
        sample: the minimum-sample condition ``(column, op, value)`` after
            ``with``, or None.
    """

    text: str
    column: str
    qualifier: str | None
    op: str
    value: float
    quantifier: str = ANY
    over: str | None = None
    sample: tuple[str, str, float] | None = None

    def columns(self) -> list[str]:
        """Result columns this threshold needs (for checks before running)."""
        cols = [] if self.column == ROWS else [self.column]
        return cols + ([self.sample[0]] if self.sample else [])


@dataclass
class ThresholdResult:
    """The outcome of one threshold on one section's result.

    Attributes:
        section: the section id.
        threshold: the expression.
        status: ``ok``, ``breached`` or ``no_data``.
        observed: the tested values' extreme in the breaching direction (or None).
        rows_tested: how many values were compared.
        breaching: (label, value) of breaching rows, at most ``MAX_NAMED_ROWS``.
        breaching_count: how many rows breached.
        rows_ignored: rows left out by the minimum sample (``with ...``).
    """

    section: str
    threshold: str
    status: str
    observed: float | None = None
    rows_tested: int = 0
    breaching: list[tuple[str, float]] = field(default_factory=list)
    breaching_count: int = 0
    rows_ignored: int = 0

    @property
    def breached(self) -> bool:
        return self.status == "breached"

    def message(self) -> str:
        """One human line: ``errors: error_session_rate > 0.05: BREACHED (observed 0.083)``."""
        word = {"no_data": "no data to test", "ok": "ok", "breached": "BREACHED"}[self.status]
        return f"{self.section}: {self.threshold}: {word}{self.detail()}"

    def detail(self) -> str:
        """The observed value and breaching rows: `` (observed 0.083) at Edge = 0.125``,
        and the rows the minimum sample left out: ``; 2 rows below the minimum sample ignored``."""
        ignored = ""
        if self.rows_ignored:
            s = "" if self.rows_ignored == 1 else "s"
            ignored = f"; {self.rows_ignored} row{s} below the minimum sample ignored"
        if self.status == "no_data" or self.observed is None:
            return f" ({ignored[2:]})" if ignored else ""
        named = ""
        if self.breaching and any(label for label, _ in self.breaching):
            shown = ", ".join(f"{label} = {_fmt(v)}" for label, v in self.breaching if label)
            more = self.breaching_count - len(self.breaching)
            named = f" at {shown}" + (f" and {more} more" if more > 0 else "")
        return f" (observed {_fmt(self.observed)}){named}{ignored}"

    def to_json(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "threshold": self.threshold,
            "status": self.status,
            "observed": self.observed,
            "rows_tested": self.rows_tested,
            "breaching_count": self.breaching_count,
            "breaching": [{"row": label, "value": v} for label, v in self.breaching],
            "rows_ignored": self.rows_ignored,
        }


def _fmt(v: float) -> str:
    if float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.4g}"


def parse(text: str) -> Threshold:
    """Parse one threshold expression.

    Raises:
        ThresholdSyntaxError: naming what was expected where.
    """
    if not isinstance(text, str) or not text.strip():
        raise ThresholdSyntaxError("a threshold must be a non-empty string like 'sessions < 100'")
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            raise ThresholdSyntaxError(f"unexpected character {text[pos:].strip()[0]!r} in {text!r}")
        kind = m.lastgroup or ""
        val = m.group(kind)
        if kind == "quoted":
            kind, val = "word", val[1:-1]
        tokens.append((kind, val))
        pos = m.end()

    def expect(i: int, kinds: Sequence[str], what: str) -> str:
        if i >= len(tokens) or tokens[i][0] not in kinds:
            got = f"{tokens[i][1]!r}" if i < len(tokens) else "the end"
            raise ThresholdSyntaxError(f"expected {what} in {text!r}, found {got}")
        return tokens[i][1]

    column = expect(0, ["word"], "a column name")
    i = 1
    qualifier = None
    if i < len(tokens) and tokens[i][0] in ("word", "num"):
        qualifier = tokens[i][1]
        i += 1
    op = expect(i, ["op"], "a comparison (>, >=, <, <=, ==, !=)")
    raw = expect(i + 1, ["num"], "a number")
    value = float(raw.rstrip("%")) / (100 if raw.endswith("%") else 1)
    i += 2
    quantifier, over, sample = ANY, None, None
    on = i < len(tokens) and _is_on(tokens, i)
    if on:
        q = expect(i + 1, ["word"], "any, every, all or each after 'on'").lower()
        if q not in _QUANTIFIERS:
            raise ThresholdSyntaxError(f"expected any, every, all or each after 'on' in {text!r}, found {q!r}")
        quantifier = _QUANTIFIERS[q]
        i += 2
        if i < len(tokens) and not _is_with(tokens[i]):
            over = expect(i, ["word"], "a word naming the rows (page, browser...)")
            i += 1
    if i < len(tokens) and _is_with(tokens[i]):
        col = expect(i + 1, ["word"], "a column after 'with' (with sessions >= 30)")
        sop = expect(i + 2, ["op"], f"a comparison after 'with {col}'")
        sraw = expect(i + 3, ["num"], f"a number after 'with {col} {sop}'")
        sample = (col, sop, float(sraw.rstrip("%")) / (100 if sraw.endswith("%") else 1))
        i += 4
    if i < len(tokens):
        if not on and sample is None:
            raise ThresholdSyntaxError(f"expected 'on any ...', 'on every ...' or 'with COLUMN >= N' "
                                       f"in {text!r}, found {tokens[i][1]!r}")
        raise ThresholdSyntaxError(f"unexpected {tokens[i][1]!r} at the end of {text!r}")
    if sample is not None and not math.isfinite(sample[2]):
        raise ThresholdSyntaxError(f"the minimum sample in {text!r} must be a finite number")
    if not math.isfinite(value):
        raise ThresholdSyntaxError(f"the limit in {text!r} must be a finite number")
    return Threshold(text.strip(), column, qualifier, op, value, quantifier, over, sample)


def _is_with(token: tuple[str, str]) -> bool:
    return token[0] == "word" and token[1].lower() == "with"


def _is_on(tokens: list[tuple[str, str]], i: int) -> bool:
    return tokens[i][0] == "word" and tokens[i][1].lower() == "on"


def _key_column(df: pl.DataFrame) -> str | None:
    import polars as pl

    for name in ("metric", "check"):
        if name in df.columns:
            return name
    return next((c for c, t in df.schema.items() if t == pl.String), None)


def _label_column(df: pl.DataFrame, t: Threshold, key: str | None) -> str | None:
    """The column that names rows in messages: the ``on ... WORD`` column, else
    the first text column with values, else the first date/time column with values."""
    import polars as pl

    if t.over and t.over in df.columns:
        return t.over
    candidates = [c for c in df.columns if not (c == key and t.qualifier is not None)]
    for want in ("text", "time"):
        for c in candidates:
            typ = df.schema[c]
            ok = typ == pl.String if want == "text" else isinstance(typ, pl.Datetime | pl.Date)
            if ok and df.get_column(c).null_count() < df.height:
                return c
    return None


def evaluate(t: Threshold, df: pl.DataFrame, section: str) -> ThresholdResult:
    """Evaluate ``t`` on a section's result frame.

    Raises:
        ValueError: the result has no such column, or no key column for a qualifier.
    """
    import polars as pl

    if t.column == ROWS and ROWS not in df.columns:
        df, ignored = _sample(t, df)
        n = float(df.height)
        hit = OPS[t.op](n, t.value)
        return ThresholdResult(section, t.text, "breached" if hit else "ok", n, 1,
                               [("", n)] if hit else [], int(hit), ignored)
    if t.column not in df.columns:
        raise ValueError(f"threshold {t.text!r}: the result has no column '{t.column}' "
                         f"(columns: {', '.join(df.columns)})")
    key = None
    if t.qualifier is not None:
        key = _key_column(df)
        if key is None:
            raise ValueError(f"threshold {t.text!r}: the result has no text column to match "
                             f"{t.qualifier!r} against")
        df = df.filter(pl.col(key).cast(pl.String).str.to_lowercase() == t.qualifier.lower())
    df, ignored = _sample(t, df)
    label_col = _label_column(df, t, key)
    values = df.get_column(t.column)
    try:
        values = values.cast(pl.Float64)
    except Exception:
        raise ValueError(f"threshold {t.text!r}: column '{t.column}' is not numeric") from None
    labels = (df.get_column(label_col).cast(pl.String).to_list() if label_col
              else [f"row {i + 1}" for i in range(df.height)])
    tested = [(lab or "(null)", v) for lab, v in zip(labels, values.to_list(), strict=True)
              if v is not None and math.isfinite(v)]
    if not tested:
        return ThresholdResult(section, t.text, "no_data", rows_ignored=ignored)
    cmp = OPS[t.op]
    bad = [(lab, v) for lab, v in tested if cmp(v, t.value)]
    breached = bool(bad) if t.quantifier == ANY else len(bad) == len(tested)
    vals = [v for _, v in tested]
    # The "observed" figure is the extreme in the direction the limit watches.
    observed = min(vals) if t.op in ("<", "<=") else max(vals)
    if len(tested) == 1 and not ignored:
        # One value: the observed figure says it all, a row name adds nothing.
        bad = [("", v) for _, v in bad]
    return ThresholdResult(
        section, t.text, "breached" if breached else "ok", observed, len(tested),
        bad[:MAX_NAMED_ROWS] if breached else [], len(bad) if breached else 0, ignored,
    )


def _sample(t: Threshold, df: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """The rows that meet the minimum sample of ``t`` and how many did not.

    Raises:
        ValueError: the sample column is missing or not numeric.
    """
    import polars as pl

    if t.sample is None:
        return df, 0
    col, op, limit = t.sample
    if col not in df.columns:
        raise ValueError(f"threshold {t.text!r}: the result has no column '{col}' "
                         f"(columns: {', '.join(df.columns)})")
    try:
        sizes = df.get_column(col).cast(pl.Float64).to_list()
    except Exception:
        raise ValueError(f"threshold {t.text!r}: column '{col}' is not numeric") from None
    keep = [v is not None and math.isfinite(v) and OPS[op](v, limit) for v in sizes]
    return df.filter(pl.Series(keep, dtype=pl.Boolean)), keep.count(False)
