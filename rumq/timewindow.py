"""The time window of a query: ``--since`` / ``--until`` values to UTC datetimes.

A bound is a relative duration counted back from now (``7d``, ``12h``,
``1h30m``), a date (``2026-11-01``, its midnight UTC), an ISO-8601 timestamp
(``2026-11-01T06:00:00Z``; UTC unless it carries an offset), ``now``, or the
calendar words ``today`` and ``yesterday`` (their midnight UTC, as report
windows use them). One parser for every command: ``run``, ``sql``,
``insights``, ``report --at`` and the Python API.
The window is half-open: ``since <= event_time < until``. Results are naive
datetimes holding UTC, which is what the catalog and the dataset use.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from rumq.errors import UsageError

#: unit letter -> seconds
_UNITS: dict[str, int] = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
# Patterns, not compiled objects: compiled (and cached by ``re``) at first use, which a
# command without a relative window never makes (every import costs every command).
_DURATION_RE = r"^(?:\d+[wdhms])+$"
_PART_RE = r"(\d+)([wdhms])"

#: Shown in every error about a bound, so the user sees what is accepted.
ACCEPTED_FORMS = (
    "a duration back from now (30m, 12h, 7d, 2w, 1h30m), a date (2026-11-01), "
    "an ISO-8601 timestamp (2026-11-01T06:00:00Z, 2026-11-01T08:00:00+02:00; UTC "
    "when no offset is given), 'now', 'today' or 'yesterday' (midnight UTC)"
)

#: The longest duration: what a ``timedelta`` holds (any longer reaches before year 1 anyway).
MAX_DURATION = dt.timedelta(days=999_999_999)

#: Shown when a bound is readable but falls outside what a datetime can hold.
TIME_RANGE = "0001-01-01 .. 9999-12-31 UTC"


class DurationRangeError(ValueError):
    """A duration longer than ``MAX_DURATION``."""


#: Calendar words: days back from today's midnight (UTC).
DAY_WORDS = {"today": 0, "yesterday": 1}


def parse_duration(text: str) -> dt.timedelta:
    """Parse a duration such as ``30m``, ``7d``, ``1h30m`` or ``2w``.

    Units: ``w`` weeks, ``d`` days, ``h`` hours, ``m`` minutes, ``s`` seconds,
    combined largest first or in any order (``1h30m`` = ``90m``).

    Args:
        text: the duration text.

    Returns:
        The duration as a ``timedelta``.

    Raises:
        ValueError: when ``text`` is not a duration (``DurationRangeError``
            when it is one, but longer than ``MAX_DURATION``).
    """
    s = text.strip().lower().replace(" ", "")
    if not is_duration(s):
        raise ValueError(f"not a duration: {text!r} (expected e.g. 30m, 7d, 1h30m)")
    seconds = sum(int(n) * _UNITS[u] for n, u in re.findall(_PART_RE, s))
    if seconds > MAX_DURATION.total_seconds():
        raise DurationRangeError(f"duration {text!r} is too long: at most {MAX_DURATION.days:,}d")
    return dt.timedelta(seconds=seconds)


def is_duration(text: str) -> bool:
    """Whether ``text`` has the form of a duration (``7d``, ``1h30m``), whatever its length."""
    return re.match(_DURATION_RE, text.strip().lower().replace(" ", "")) is not None


def format_duration(value: dt.timedelta) -> str:
    """Format a ``timedelta`` the way ``parse_duration`` reads it (``1h30m``)."""
    total = int(value.total_seconds())
    if total == 0:
        return "0s"
    out = []
    for unit in ("d", "h", "m", "s"):
        n, total = divmod(total, _UNITS[unit])
        if n:
            out.append(f"{n}{unit}")
    return "".join(out)


def utcnow() -> dt.datetime:
    """The current time as a naive UTC datetime."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def to_naive_utc(value: dt.datetime) -> dt.datetime:
    """Convert an aware datetime to naive UTC; a naive one is taken as UTC already."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def parse_time(
    value: str | dt.datetime | dt.date | dt.timedelta,
    *,
    now: dt.datetime | None = None,
    option: str = "time",
) -> dt.datetime:
    """Turn one bound of the window into a naive UTC datetime.

    Args:
        value: a string in one of the accepted forms (see ``ACCEPTED_FORMS``), a
            ``datetime`` (naive = UTC), a ``date`` (its midnight UTC) or a
            ``timedelta`` (that long before ``now``).
        now: the current time (naive UTC, or aware); injectable for tests.
        option: the option name used in error messages (``--since``).

    Returns:
        A naive datetime holding UTC.

    Raises:
        UsageError: when the value is in none of the accepted forms, or is
            one but falls outside ``TIME_RANGE``.
    """
    current = to_naive_utc(now) if now is not None else utcnow()
    try:
        return _parse_time(value, current, option)
    except OverflowError:
        # A readable value whose instant a datetime cannot hold (99999999d ago,
        # 9999-12-31T23:59:59-05:00): the user's number, not rumq's failure.
        raise UsageError(
            f"{option}: {value!r} is out of range",
            hint=f"times must fall within {TIME_RANGE}; use a shorter duration or a nearer date",
        ) from None


def _parse_time(value: str | dt.datetime | dt.date | dt.timedelta, current: dt.datetime, option: str) -> dt.datetime:
    """``parse_time`` but for the range check: raises ``OverflowError`` beyond ``TIME_RANGE``."""
    if isinstance(value, dt.datetime):
        return to_naive_utc(value)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, dt.timedelta):
        return current - value
    if not isinstance(value, str):
        raise UsageError(f"{option}: cannot use {value!r} as a time; expected {ACCEPTED_FORMS}")
    text = value.strip()
    if text.lower() == "now":
        return current
    if text.lower() in DAY_WORDS:
        midnight = current.replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight - dt.timedelta(days=DAY_WORDS[text.lower()])
    if is_duration(text):
        try:
            return current - parse_duration(text)
        except DurationRangeError:
            raise OverflowError from None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            d = dt.date.fromisoformat(text)
        except ValueError as e:
            raise UsageError(f"{option}: invalid date {text!r}: {e}") from None
        return dt.datetime(d.year, d.month, d.day)
    try:
        # Python 3.11 reads 'Z', offsets, 'T' or space separators, fractions.
        return to_naive_utc(dt.datetime.fromisoformat(text))
    except ValueError:
        raise UsageError(
            f"{option}: cannot read {text!r} as a time",
            hint=f"use {ACCEPTED_FORMS}",
        ) from None


@dataclass(frozen=True)
class TimeWindow:
    """A half-open UTC window ``since <= t < until``; either end may be open (None)."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def describe(self) -> str:
        """A short human description, e.g. ``2026-11-01 00:00:00 .. (now)``."""
        a = self.since.isoformat(sep=" ", timespec="seconds") if self.since else "(start)"
        b = self.until.isoformat(sep=" ", timespec="seconds") if self.until else "(end)"
        return f"{a} .. {b}"


def resolve_window(
    since: str | dt.datetime | dt.date | dt.timedelta | None = None,
    until: str | dt.datetime | dt.date | dt.timedelta | None = None,
    *,
    now: dt.datetime | None = None,
) -> TimeWindow:
    """Resolve ``--since`` / ``--until`` into a ``TimeWindow`` (both against one ``now``).

    Args:
        since: the start (inclusive), or None for the beginning of the data.
        until: the end (exclusive), or None for no end.
        now: the current time, for relative bounds; injectable for tests.

    Returns:
        The window, naive UTC.

    Raises:
        UsageError: when a bound cannot be read or ``since`` is not before ``until``.
    """
    current = to_naive_utc(now) if now is not None else utcnow()
    a = parse_time(since, now=current, option="--since") if since is not None else None
    b = parse_time(until, now=current, option="--until") if until is not None else None
    if a is not None and b is not None and a >= b:
        raise UsageError(
            f"empty time window: --since {a.isoformat(sep=' ')} is not before "
            f"--until {b.isoformat(sep=' ')}",
            hint="--until is exclusive: for the whole day 2026-11-01 use "
            "--since 2026-11-01 --until 2026-11-02",
        )
    return TimeWindow(a, b)
