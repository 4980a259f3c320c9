"""sessions/summary against the hand-built fixture (analyses_data.py)."""

from __future__ import annotations

import analyses_data as fx
import pytest
from pytest import approx


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return fx.build(tmp_path_factory.mktemp("q-sessions"))


def test_summary_cookie_sessions(data):
    # Cookie sessions S1..S4: page views [4, 5, 1, 3]; durations [120, 60, 5, 11] s.
    # users U1 (S1, S2), U2, U3 = 3; page views 4+5+1+3 = 13; mean 13/4 = 3.25;
    # median of sorted [1, 3, 4, 5] = (3+4)/2 = 3.5.
    # durations sorted [5, 11, 60, 120]: median (11+60)/2 = 35.5;
    # p90: position 0.9*(4-1) = 2.7 -> 60 + 0.7*(120-60) = 102.
    # bounces: S3 only -> 1/4; error sessions: S1 (js+404), S3 (network), S4 (js) -> 3/4.
    # coverage: 13 of the 15 page views are in cookie sessions.
    assert fx.run(data, "sessions/summary") == [{
        "sessions": 4, "users": 3, "page_views": 13,
        "pages_per_session_mean": 3.25, "pages_per_session_median": 3.5,
        "duration_median_s": 35.5, "duration_p90_s": approx(102.0),
        "bounce_rate": 0.25, "error_session_rate": 0.75, "coverage": approx(13 / 15),
    }]


def test_summary_with_cookieless(data):
    # + C1 (1 page view, 14:00:00-14:00:03 = 3 s, HTTP 500) and C2 (1 page view, 0 s, its JS
    # error has no session id so C2 is not an error session).
    # page views [4, 5, 1, 3, 1, 1]: mean 15/6 = 2.5; sorted [1, 1, 1, 3, 4, 5] median (1+3)/2 = 2.
    # durations sorted [0, 3, 5, 11, 60, 120]: median (5+11)/2 = 8; p90 pos 4.5 -> 60 + 0.5*60 = 90.
    # bounces S3, C1, C2 = 3/6; error sessions S1, S3, S4, C1 = 4/6; users still 3 (nil = NULL).
    assert fx.run(data, "sessions/summary", include_cookieless=True) == [{
        "sessions": 6, "users": 3, "page_views": 15,
        "pages_per_session_mean": 2.5, "pages_per_session_median": 2.0,
        "duration_median_s": 8.0, "duration_p90_s": approx(90.0),
        "bounce_rate": 0.5, "error_session_rate": approx(4 / 6), "coverage": approx(13 / 15),
    }]


def test_summary_respects_the_window(data):
    # 11:00-13:00 holds S2 and S3 only: page views [5, 1], durations [60, 5].
    got = fx.run(data, "sessions/summary", since="2026-11-02T11:00:00", until="2026-11-02T13:00:00")
    assert got == [{
        "sessions": 2, "users": 2, "page_views": 6,
        "pages_per_session_mean": 3.0, "pages_per_session_median": 3.0,
        "duration_median_s": 32.5, "duration_p90_s": approx(54.5),  # 5 + 0.9*(60-5)
        "bounce_rate": 0.5, "error_session_rate": 0.5, "coverage": 1.0,
    }]
