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
