"""pages/groups on tagged page views (metadata.pageTags), a hand-built story.

* S1: /p/1 [product] 10:00:00 (LCP 1000), /p/2 [product, sale] 10:00:10, /cart [checkout] 10:00:20
  (a JS error there).
* S2: /p/3 [product, product] 11:00:00 (the repeated tag counts once; LCP 3000) - a bounce.
* S3: /about (no tags) 12:00:00, /p/4 [product] 12:00:05 (LCP 2000).
"""

from __future__ import annotations

import pytest
from rumdata import event, write_jsonl

from rumq.api import Dataset

U = "11111111-0000-4000-8000-00000000000a"
S1, S2, S3 = (f"5e55000{n}-0000-4000-8000-000000000000" for n in "123")


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    from rumq.ingest import ingest

    def ev(kind, at, s, page, i, tags, **kw):
        return event(kind, at=f"2026-11-02T{at}", session=s, user=U, page=page, interaction=i,
                     extra_metadata={"pageTags": tags} if tags else None, **kw)

    evs = [
        ev("page_view", "10:00:00", S1, "/p/1", 0, ["product"]),
        ev("largest_contentful_paint", "10:00:01", S1, "/p/1", 0, ["product"], details={"value": 1000}),
        ev("page_view", "10:00:10", S1, "/p/2", 1, ["product", "sale"]),
        ev("page_view", "10:00:20", S1, "/cart", 2, ["checkout"]),
        ev("js_error", "10:00:21", S1, "/cart", 2, ["checkout"], details={"type": "Error", "message": "x"}),
        ev("page_view", "11:00:00", S2, "/p/3", 0, ["product", "product"]),
        ev("largest_contentful_paint", "11:00:01", S2, "/p/3", 0, ["product", "product"], details={"value": 3000}),
        ev("page_view", "12:00:00", S3, "/about", 0, None),
        ev("page_view", "12:00:05", S3, "/p/4", 1, ["product"]),
        ev("largest_contentful_paint", "12:00:06", S3, "/p/4", 1, ["product"], details={"value": 2000}),
    ]
    tmp = tmp_path_factory.mktemp("groups")
    assert ingest(tmp / "data", [str(write_jsonl(tmp / "e.jsonl", evs))]).written == len(evs)
    return Dataset(tmp / "data", notify=lambda _: None)


def test_groups(ds):
    got = {r["page_group"]: r for r in ds.run("pages/groups").to_dicts()}
    assert list(got) == ["product", "(none)", "checkout", "sale"]  # page views 4, 1, 1, 1; then by name
    p = got["product"]
    # product: page views S1 x2, S2, S3 = 4; sessions 3; entries S1, S2 = 2; exits S2 (its only page), S3 = 2;
    # bounces S2 = 1 -> 1/2; error sessions S1 -> 1/3; LCP 1000, 3000, 2000 -> p75 at 1.5 = 2000 + 0.5*1000.
    assert (p["page_views"], p["sessions"], p["entries"], p["exits"], p["bounces"]) == (4, 3, 2, 2, 1)
    assert (p["bounce_rate"], p["error_session_rate"], p["lcp_p75_ms"]) == (0.5, pytest.approx(1 / 3), 2500.0)
    c = got["checkout"]
    assert (c["page_views"], c["sessions"], c["entries"], c["exits"], c["error_session_rate"]) == (1, 1, 0, 1, 1.0)
    assert c["bounce_rate"] is None and c["lcp_p75_ms"] is None  # no entry: 0/0; no LCP
    n = got["(none)"]
    assert (n["page_views"], n["entries"], n["exits"], n["bounces"]) == (1, 1, 0, 0)
    assert got["sale"]["page_views"] == 1 and got["sale"]["entries"] == 0
