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
    # Chrome: cookie sessions S1 (error), S2 -> 2, rate 1/2; page views S1 4 + S2 5 + C1 1 = 10;
    # LCP [1000 (C1), 2000, 3000]: p75 pos 1.5 -> 2500.
    # Safari: S4 (errors), 3 page views, no LCP. Firefox: S3 (error), 1 view, LCP 5000.
    # Edge: only C2 (cookieless): 0 sessions, 1 page view, no rate.
    assert table(fx.run(data, "audience/browsers"), "browser") == [
        ("Chrome", 2, 10, 0.5, 2500.0),
        ("Safari", 1, 3, 1.0, None),
        ("Firefox", 1, 1, 1.0, 5000.0),
        ("Edge", 0, 1, None, None),
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
    # desktop = S1, S2 (+C1 views); mobile = S3 (+C2 view); tablet = S4.
    assert table(fx.run(data, "audience/devices"), "device") == [
        ("desktop", 2, 10, 0.5, 2500.0),
        ("tablet", 1, 3, 1.0, None),
        ("mobile", 1, 2, 1.0, 5000.0),
    ]


def test_countries(data):
    assert table(fx.run(data, "audience/countries", top=2), "country") == [
        ("US", 2, 10, 0.5, 2500.0),
        ("FR", 1, 3, 1.0, None),
    ]
