"""Report windows: ``window = "1d"`` or ``"yesterday"`` resolved against the run time.

Two kinds:

* relative: a duration back from the run time (``1d``, ``7d``, ``12h``):
  ``[at - d, at)``;
* calendar-aligned, in UTC: ``today`` (midnight to the run time), ``yesterday``,
  ``last-week`` (the previous ISO week, Monday to Monday) and ``last-month``.

The run time is ``--at`` (default: now). A bare date given as ``--at`` stands
for the *end* of that day, so ``--at 2026-11-01`` with ``yesterday`` or ``1d``
reports on 2026-11-01 (what the 00:00 run of 2026-11-02 would have produced).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from rumq.errors import UsageError
from rumq.timewindow import TIME_RANGE, DurationRangeError, parse_duration, parse_time, utcnow

CALENDAR = ("today", "yesterday", "last-week", "last-month")
_DATE_RE = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")


@dataclass(frozen=True)
class ReportWindow:
    """A resolved half-open UTC window ``since <= t < until``.

    Attributes:
        spec: the definition's ``window`` text.
        since: start (inclusive), naive UTC.
        until: end (exclusive), naive UTC.
        at: the run time it was resolved against.
        name: the folder name of the run (``2026-11-25``, ``2026-W47``...).
    """

    spec: str
    since: dt.datetime
    until: dt.datetime
    at: dt.datetime
    name: str

    def describe(self) -> str:
        """``2026-11-25 00:00 .. 2026-11-26 00:00 UTC``."""
        return f"{self.since:%Y-%m-%d %H:%M} .. {self.until:%Y-%m-%d %H:%M} UTC"

    def to_json(self) -> dict[str, str]:
        """The window for run.json (ISO-8601 UTC)."""
        z = "%Y-%m-%dT%H:%M:%SZ"
        return {
            "spec": self.spec,
            "since": self.since.strftime(z),
            "until": self.until.strftime(z),
            "at": self.at.strftime(z),
            "name": self.name,
        }


def check_spec(spec: str) -> None:
    """Raise ``ValueError`` when ``spec`` is not a window this module knows."""
    if not isinstance(spec, str):
        raise ValueError(f"window must be a string, got {spec!r}")
    if spec.strip().lower() in CALENDAR:
        return
    try:
        d = parse_duration(spec)
    except DurationRangeError as e:
        raise ValueError(f"window {spec!r}: {e}") from None
    except ValueError:
        raise ValueError(
            f"unknown window {spec!r}; use a duration back from the run time (1d, 7d, 12h) "
            f"or one of: {', '.join(CALENDAR)}"
        ) from None
    if d <= dt.timedelta(0):
        raise ValueError(f"window {spec!r} is empty")


def parse_at(at: str | dt.datetime | dt.date | None) -> dt.datetime:
    """The run time: ``--at`` (a bare date means the end of that day) or now.

    Raises:
        UsageError: when ``at`` cannot be read as a time.
    """
    if at is None:
        return utcnow().replace(microsecond=0)
    if isinstance(at, dt.date) and not isinstance(at, dt.datetime):
        return dt.datetime(at.year, at.month, at.day) + dt.timedelta(days=1)
    if isinstance(at, str) and _DATE_RE.match(at):
        try:
            d = dt.date.fromisoformat(at.strip())
        except ValueError as e:
            raise UsageError(f"--at: invalid date {at!r}: {e}") from None
        if d == dt.date.max:
            raise UsageError(f"--at: {at!r} is out of range", hint=f"the day must end within {TIME_RANGE}")
        return dt.datetime(d.year, d.month, d.day) + dt.timedelta(days=1)
    return parse_time(at, option="--at")


def resolve(spec: str, at: dt.datetime) -> ReportWindow:
    """Resolve a window spec against the run time ``at`` (naive UTC).

    Raises:
        ValueError: an unknown spec (definitions are checked before this).
        UsageError: the window reaches before 0001-01-01 from ``at``.
    """
    check_spec(spec)
    try:
        return _resolve(spec, at)
    except OverflowError:
        raise UsageError(
            f"window {spec!r} at --at {at.isoformat(sep=' ', timespec='minutes')} starts before 0001-01-01",
            hint=f"times must fall within {TIME_RANGE}: give a later --at",
        ) from None


def _resolve(spec: str, at: dt.datetime) -> ReportWindow:
    key = spec.strip().lower()
    midnight = dt.datetime(at.year, at.month, at.day)
    if key == "today":
        since, until = midnight, max(at, midnight + dt.timedelta(seconds=1))
    elif key == "yesterday":
        since, until = midnight - dt.timedelta(days=1), midnight
    elif key == "last-week":
        monday = midnight - dt.timedelta(days=midnight.weekday())
        since, until = monday - dt.timedelta(days=7), monday
    elif key == "last-month":
        first = midnight.replace(day=1)
        prev = (first - dt.timedelta(days=1)).replace(day=1)
        since, until = prev, first
    else:
        since, until = at - parse_duration(spec), at
    return ReportWindow(spec=spec, since=since, until=until, at=at, name=folder_name(since, until))


def folder_name(since: dt.datetime, until: dt.datetime) -> str:
    """The run folder's name: the day, the ISO week, the month, or the range."""
    aligned = since.time() == dt.time(0) and until.time() == dt.time(0)
    if aligned:
        days = (until - since).days
        if days == 1:
            return f"{since:%Y-%m-%d}"
        if days == 7 and since.weekday() == 0:
            year, week, _ = since.isocalendar()
            return f"{year}-W{week:02d}"
        if since.day == 1 and until.day == 1 and (until.month - since.month) % 12 == 1:
            return f"{since:%Y-%m}"
        return f"{since:%Y-%m-%d}_{until - dt.timedelta(days=1):%Y-%m-%d}"
    return f"{since:%Y-%m-%dT%H%M}Z_{until:%Y-%m-%dT%H%M}Z"
