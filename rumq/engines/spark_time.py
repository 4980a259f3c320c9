"""DuckDB's wall-clock time in a zone and ``strftime`` with a bound format, on Spark.

The Logs Insights ``formatDate(t, fmt, zone)`` compiles to
``strftime(timezone($zone, timezone('UTC', t)), $fmt)``: the stored (naive UTC)
time read as UTC, then as the wall-clock time in the zone. Spark's
``convert_timezone('UTC', zone, t)`` does the same on a ``TIMESTAMP_NTZ``.

The two engines keep separate copies of the time-zone database (ICU's in
DuckDB, the JDK's in Spark), so a zone is rendered only if it is in ``ZONES``:
zones whose offsets tests/test_engine_spark_time.py compares on both engines
every 6 hours from 2000 to 2030 (a database update that changes one makes that
test fail). Any other zone is refused by name before Spark starts.

A bound ``strftime`` format is translated in its value (``render_bound``):
``%Y %m %d %H %M %S`` and ``%g`` (milliseconds, truncated on both, as for the
literal formats) and ``%%``; other text is quoted as Spark pattern text; any
other specifier is refused, naming it. Years outside 1000-9999 are written
differently (DuckDB does not pad ``%Y`` to four digits): the query stops there.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from sqlglot import exp

#: Time zones rendered for Spark (compared on both engines by tests/test_engine_spark_time.py).
#: Not America/Vancouver: DuckDB 2.0.1's ICU data has no clock change there after March 2026
#: (British Columbia's permanent daylight time), the JDK 17.0.15 data still changes twice a year.
ZONES: tuple[str, ...] = (
    "UTC", "Europe/London", "Europe/Paris", "Europe/Berlin", "Europe/Madrid", "Europe/Rome", "Europe/Amsterdam",
    "Europe/Stockholm", "Europe/Warsaw", "Europe/Athens", "Europe/Helsinki", "Europe/Istanbul", "Europe/Moscow",
    "Europe/Lisbon", "Europe/Dublin", "Europe/Zurich", "America/New_York", "America/Chicago", "America/Denver",
    "America/Los_Angeles", "America/Phoenix", "America/Anchorage", "America/Toronto",
    "America/Mexico_City", "America/Sao_Paulo", "America/Buenos_Aires", "America/Bogota", "America/Lima",
    "America/Santiago", "Pacific/Honolulu", "Asia/Tokyo", "Asia/Seoul", "Asia/Shanghai", "Asia/Hong_Kong",
    "Asia/Singapore", "Asia/Kolkata", "Asia/Dubai", "Asia/Jakarta", "Asia/Bangkok", "Asia/Manila",
    "Asia/Karachi", "Asia/Jerusalem", "Australia/Sydney", "Australia/Melbourne", "Australia/Perth",
    "Pacific/Auckland", "Africa/Johannesburg", "Africa/Cairo", "Africa/Lagos", "Africa/Nairobi",
)

#: strftime specifiers -> Spark date_format letters.
_SPECIFIERS = {"Y": "yyyy", "m": "MM", "d": "dd", "H": "HH", "M": "mm", "S": "ss", "g": "SSS"}


class FormatError(ValueError):
    """A strftime format without an exact Spark pattern (the message says why)."""


def spark_format(fmt: str) -> str:
    """A DuckDB strftime format as a Spark ``date_format`` pattern.

    Raises:
        FormatError: a specifier other than ``%Y %m %d %H %M %S %g %%``.
    """
    out, text, i = [], [], 0

    def flush() -> None:
        if text:
            out.append("'" + "".join(text).replace("'", "''") + "'")
            text.clear()

    while i < len(fmt):
        c = fmt[i]
        if c == "%":
            spec = fmt[i + 1:i + 2]
            if spec == "%":
                text.append("%")
            elif spec in _SPECIFIERS:
                flush()
                out.append(_SPECIFIERS[spec])
            else:
                raise FormatError(f"the strftime specifier %{spec} is not rendered for Spark "
                                  f"(rendered: {', '.join('%' + k for k in _SPECIFIERS)}, %%)")
            i += 2
            continue
        text.append(c)
        i += 1
    flush()
    return "".join(out) or "''"


def is_utc_then_zone(node: exp.Expression) -> bool:
    """``timezone(zone, timezone('UTC', t))`` with the zone a literal or a bound parameter."""
    from sqlglot import exp

    if not (isinstance(node, exp.Anonymous) and node.name.lower() == "timezone" and len(node.expressions) == 2):
        return False
    zone, inner = node.expressions
    return (isinstance(zone, exp.Placeholder) or (isinstance(zone, exp.Literal) and zone.is_string)) \
        and isinstance(inner, exp.Anonymous) and inner.name.lower() == "timezone" and len(inner.expressions) == 2 \
        and isinstance(inner.expressions[0], exp.Literal) and inner.expressions[0].name.upper() == "UTC"


def check_zone(zone: object, what: str) -> None:
    """Refuse a zone outside ``ZONES``.

    Raises:
        NotPortableError: naming the zone.
    """
    from rumq.engines.portable import NotPortableError

    if zone not in ZONES:
        raise NotPortableError(f"{what}: the time zone {zone!r} is not rendered for Spark (its rules are not "
                               "compared between DuckDB's and the JDK's time-zone databases)",
                               hint=f"zones rendered: {', '.join(ZONES)}")


def wall_clock(node: exp.Expression) -> exp.Expression:
    """``timezone(zone, timezone('UTC', t))`` -> ``convert_timezone('UTC', zone, t)`` (a naive time)."""
    from sqlglot import exp

    zone, inner = node.expressions
    return exp.Anonymous(this="convert_timezone",
                         expressions=[exp.Literal.string("UTC"), zone.copy(), inner.expressions[1].copy()])


def formatted(ts: exp.Expression, fmt: exp.Expression) -> exp.Expression:
    """``strftime(ts, $fmt)`` -> ``date_format(ts, :fmt)`` (the value translated by ``render_bound``),
    stopping for a year outside 1000-9999 (DuckDB's ``%Y`` is not padded to four digits)."""
    from rumq.engines.spark_scalars import _let

    # The format stays outside the lambda: a bound value is a constant, which date_format compiles once.
    return _let(f"CASE WHEN year(rumq_t) BETWEEN 1000 AND 9999 OR rumq_t IS NULL "
                f"THEN date_format(rumq_t, {fmt.sql(dialect='spark')}) "
                "ELSE raise_error('a year outside 1000-9999 is written differently by DuckDB and Spark') END", t=ts)


def placeholder(fmt: exp.Expression) -> exp.Placeholder | None:
    """The bound parameter of a strftime format (``$p`` or ``CAST($p AS VARCHAR)``), else None."""
    from sqlglot import exp

    if isinstance(fmt, exp.Cast) and fmt.to.is_type("varchar", "text"):
        fmt = fmt.this
    return fmt if isinstance(fmt, exp.Placeholder) and fmt.name and re.fullmatch(r"\w+", fmt.name) else None
