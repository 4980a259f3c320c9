"""audience/browsers, audience/devices and audience/countries against the hand-built fixture."""

from __future__ import annotations

import analyses_data as fx
import pytest
from pytest import approx


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return fx.build(tmp_path_factory.mktemp("q-audience"))


def table(rows, key):
    assert rows and all(r["coverage"] == approx(13 / 15) for r in rows)
    return [(r[key], r["sessions"], r["page_views"], r["error_session_rate"], r["lcp_p75_ms"]) for r in rows]


def test_browsers(data):
    # Chrome: cookie sessions S1 (error), S2 -> 2, rate 1/2; page views of those sessions
    # S1 4 + S2 5 = 9; LCP of cookie sessions [2000 (S1), 3000 (S2)]: p75 pos 0.75 -> 2750.
    # Safari: S4 (errors), 3 page views, no LCP. Firefox: S3 (error), 1 view, LCP 5000.
    # Edge has only C2 (cookieless): no row. (Before issue 13 page views and LCP counted
    # every event, cookieless ones too: Chrome 10 views and p75 2500 over [1000 (C1), 2000,
    # 3000], and an Edge row (0 sessions, 1 view); page views then did not add up to
    # sessions/summary's 13.)
    assert table(fx.run(data, "audience/browsers"), "browser") == [
        ("Chrome", 2, 9, 0.5, 2750.0),
        ("Safari", 1, 3, 1.0, None),
        ("Firefox", 1, 1, 1.0, 5000.0),
    ]


def test_browsers_with_cookieless(data):
    # C1 joins Chrome (its 500 makes it an error session): 2 of 3; C2 makes Edge 1 session, no error.
    assert table(fx.run(data, "audience/browsers", include_cookieless=True), "browser") == [
        ("Chrome", 3, 10, approx(2 / 3), 2500.0),
        ("Safari", 1, 3, 1.0, None),
        ("Edge", 1, 1, 0.0, None),
        ("Firefox", 1, 1, 1.0, 5000.0),
    ]


def test_devices(data):
    # desktop = S1, S2 (9 views, LCP 2000, 3000); mobile = S3 (C2 is cookieless); tablet = S4.
    # (Before issue 13: desktop 10 views with C1's, mobile 2 with C2's, p75 2500 with C1's LCP.)
    assert table(fx.run(data, "audience/devices"), "device") == [
        ("desktop", 2, 9, 0.5, 2750.0),
        ("tablet", 1, 3, 1.0, None),
        ("mobile", 1, 1, 1.0, 5000.0),
    ]


def test_countries(data):
    # US = S1, S2 as desktop above; FR = S4; DE (S3) is cut by top=2.
    assert table(fx.run(data, "audience/countries", top=2), "country") == [
        ("US", 2, 9, 0.5, 2750.0),
        ("FR", 1, 3, 1.0, None),
    ]


def test_page_views_add_up_to_the_summary(data):
    # 13 page views in cookie sessions (S1 4 + S2 5 + S3 1 + S4 3), 15 with C1 and C2.
    for inc, want in ((False, 13), (True, 15)):
        for q in ("audience/browsers", "audience/devices", "audience/countries"):
            assert sum(r["page_views"] for r in fx.run(data, q, include_cookieless=inc)) == want
