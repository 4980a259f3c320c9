import datetime as dt

import pytest

from rumq.errors import UsageError
from rumq.timewindow import (
    TimeWindow,
    format_duration,
    parse_duration,
    parse_time,
    resolve_window,
)

NOW = dt.datetime(2026, 11, 25, 12, 30, 0)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("30m", dt.timedelta(minutes=30)),
        ("7d", dt.timedelta(days=7)),
        ("12h", dt.timedelta(hours=12)),
        ("1h30m", dt.timedelta(minutes=90)),
        ("2w", dt.timedelta(days=14)),
        ("45s", dt.timedelta(seconds=45)),
        ("1d12h", dt.timedelta(hours=36)),
        (" 7D ", dt.timedelta(days=7)),
    ],
)
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "7", "d", "7x", "1.5h", "-7d", "7 days", "h1"])
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_format_duration_round_trips():
    for text in ["30m", "7d", "1h30m", "1d12h", "45s"]:
        assert parse_duration(format_duration(parse_duration(text))) == parse_duration(text)
    assert format_duration(dt.timedelta(minutes=90)) == "1h30m"
    assert format_duration(dt.timedelta(0)) == "0s"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("7d", dt.datetime(2026, 11, 18, 12, 30)),
        ("12h", dt.datetime(2026, 11, 25, 0, 30)),
        ("1h30m", dt.datetime(2026, 11, 25, 11, 0)),
        ("now", NOW),
        ("2026-11-01", dt.datetime(2026, 11, 1)),
        ("2026-11-01T06:00:00Z", dt.datetime(2026, 11, 1, 6)),
        # no offset: UTC
        ("2026-11-01T06:00:00", dt.datetime(2026, 11, 1, 6)),
        ("2026-11-01 06:00", dt.datetime(2026, 11, 1, 6)),
        # an offset is honoured and converted to UTC
        ("2026-11-01T08:00:00+02:00", dt.datetime(2026, 11, 1, 6)),
        ("2026-11-01T01:30:00-05:00", dt.datetime(2026, 11, 1, 6, 30)),
        ("2026-11-01T06:00:00.250Z", dt.datetime(2026, 11, 1, 6, 0, 0, 250000)),
    ],
)
def test_parse_time(text, expected):
    got = parse_time(text, now=NOW)
    assert got == expected
    assert got.tzinfo is None


def test_parse_time_python_values():
    aware = dt.datetime(2026, 11, 1, 8, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert parse_time(aware) == dt.datetime(2026, 11, 1, 6)
    assert parse_time(dt.datetime(2026, 11, 1, 6)) == dt.datetime(2026, 11, 1, 6)
    assert parse_time(dt.date(2026, 11, 1)) == dt.datetime(2026, 11, 1)
    assert parse_time(dt.timedelta(days=1), now=NOW) == dt.datetime(2026, 11, 24, 12, 30)


def test_aware_now_is_converted():
    now = dt.datetime(2026, 11, 25, 14, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert parse_time("1h", now=now) == dt.datetime(2026, 11, 25, 11, 30)


@pytest.mark.parametrize("text", ["tomorrow", "2026-13-01", "2026-11-01T25:00", "7 days", "11/01/2026"])
def test_parse_time_rejects_with_the_accepted_forms(text):
    with pytest.raises(UsageError) as e:
        parse_time(text, now=NOW, option="--since")
    msg = str(e.value)
    assert "--since" in msg
    assert text in msg or "invalid date" in msg


def test_bad_value_message_lists_accepted_forms():
    with pytest.raises(UsageError) as e:
        parse_time("last tuesday", option="--until")
    assert "7d" in str(e.value) and "2026-11-01" in str(e.value) and "UTC" in str(e.value)


def test_resolve_window_uses_one_now():
    w = resolve_window("7d", "1d", now=NOW)
    assert w == TimeWindow(dt.datetime(2026, 11, 18, 12, 30), dt.datetime(2026, 11, 24, 12, 30))
    assert resolve_window(now=NOW) == TimeWindow(None, None)
    assert resolve_window("2026-11-01", now=NOW).until is None


def test_resolve_window_rejects_empty_window():
    with pytest.raises(UsageError) as e:
        resolve_window("2026-11-02", "2026-11-01", now=NOW)
    assert "not before" in str(e.value)
    with pytest.raises(UsageError):
        resolve_window("2026-11-01", "2026-11-01", now=NOW)
    assert e.value.exit_code == 2


@pytest.mark.parametrize(
    "text, expected",
    [
        ("today", dt.datetime(2026, 11, 25)),
        ("Yesterday", dt.datetime(2026, 11, 24)),
        (" TODAY ", dt.datetime(2026, 11, 25)),
    ],
)
def test_calendar_words_are_midnight_utc(text, expected):
    assert parse_time(text, now=NOW) == expected


def test_yesterday_until_today_is_the_whole_previous_day():
    w = resolve_window("yesterday", "today", now=NOW)
    assert w == TimeWindow(dt.datetime(2026, 11, 24), dt.datetime(2026, 11, 25))
    # an aware "now" in another zone still gives the UTC day
    late = dt.datetime(2026, 11, 25, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=3)))  # 2026-11-24 22:00 UTC
    assert parse_time("today", now=late) == dt.datetime(2026, 11, 24)


def test_report_and_cli_read_times_with_the_same_parser():
    from rumq.report.window import parse_at

    before, at, after = parse_time("yesterday"), parse_at("yesterday"), parse_time("yesterday")
    assert at in (before, after)  # one parser: --at accepts the same words (robust to midnight)
    with pytest.raises(UsageError) as e:
        parse_time("tomorrow", option="--since")
    assert "'today' or 'yesterday'" in e.value.hint


def test_describe_shows_whole_seconds():
    w = TimeWindow(dt.datetime(2026, 11, 25, 14, 57, 38, 853906), None)
    assert w.describe() == "2026-11-25 14:57:38 .. (end)"
    assert TimeWindow(None, dt.datetime(2026, 11, 26)).describe() == "(start) .. 2026-11-26 00:00:00"
