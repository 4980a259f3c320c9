"""audience/* beyond their fixtures (tests/fixtures/queries/audience/): page views add up."""

from __future__ import annotations

import analyses_data as fx
import pytest


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return fx.build(tmp_path_factory.mktemp("q-audience"))


def test_page_views_add_up_to_the_summary(data):
    # 13 page views in cookie sessions (S1 4 + S2 5 + S3 1 + S4 3), 15 with C1 and C2.
    for inc, want in ((False, 13), (True, 15)):
        for q in ("audience/browsers", "audience/devices", "audience/countries"):
            assert sum(r["page_views"] for r in fx.run(data, q, include_cookieless=inc)) == want


# Two cookie sessions, one with a country and one without, each with one page
# view and one LCP event; no event names a browser (PutRumEvents bodies carry
# no countryCode, so real traffic has such sessions).
_APP = "11111111-1111-4111-8111-111111111111"


def _missing_value_messages() -> list[dict]:
    out = []
    for n, (country, at, lcp) in enumerate((("DE", 1709632800000, 1000), (None, 1709636400000, 3000)), 1):
        md = {"pageId": "/", "interaction": 0} | ({"countryCode": country} if country else {})
        ud = {"sessionId": f"a5a5a5a5-0000-4000-8000-00000000000{n}", "userId": f"b5b5b5b5-0000-4000-8000-00000000000{n}"}
        out.append({"event_timestamp": at, "event_type": "com.amazon.rum.page_view_event",
                    "event_id": f"00000000-0000-4000-8000-000000000a{2 * n - 1:02d}", "application_id": _APP,
                    "metadata": md, "user_details": ud, "event_details": {"pageId": "/", "interaction": 0}})
        out.append({"event_timestamp": at + 1000, "event_type": "com.amazon.rum.largest_contentful_paint_event",
                    "event_id": f"00000000-0000-4000-8000-000000000a{2 * n:02d}", "application_id": _APP,
                    "metadata": md, "user_details": ud, "event_details": {"value": lcp}})
    return out


@pytest.fixture(scope="module")
def missing(tmp_path_factory):
    from polars_data import ingest_messages

    return ingest_messages(tmp_path_factory.mktemp("q-audience-null"), _missing_value_messages())


def test_the_missing_value_is_one_row(missing):
    # The session without a country and its LCP event (3000 ms) are one NULL row,
    # not a row of sessions without LCP plus a row of LCP without sessions.
    rows = [(r["country"], r["sessions"], r["page_views"], r["error_session_rate"], r["lcp_p75_ms"])
            for r in fx.run(missing, "audience/countries")]
    assert rows == [("DE", 1, 1, 0.0, 1000.0), (None, 1, 1, 0.0, 3000.0)]
    # No browser anywhere: one NULL row, 2 sessions, p75 of {1000, 3000} = 1000 + 0.75 * 2000.
    rows = [(r["browser"], r["sessions"], r["page_views"], r["error_session_rate"], r["lcp_p75_ms"])
            for r in fx.run(missing, "audience/browsers")]
    assert rows == [(None, 2, 2, 0.0, 2500.0)]


def test_the_missing_value_is_one_row_in_polars(missing):
    from rumq.engines.polars_views import Views

    v = Views(missing)
    got = v.audience("country_code").sort("k", nulls_last=True).select(
        "k", "sessions", "page_views", "lcp_p75_ms").collect().rows()
    assert got == [("DE", 1, 1, 1000.0), (None, 1, 1, 3000.0)]
    assert v.audience("browser_name").select("k", "sessions", "page_views", "lcp_p75_ms").collect().rows() == [
        (None, 2, 2, 2500.0)]
