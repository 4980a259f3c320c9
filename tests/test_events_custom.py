"""events/custom and funnels with `event:<type>` steps, on a hand-built story of custom events.

Times are UTC on 2026-11-02; every expected value is worked out by hand from the story:

* SA (user A): /product/1 10:00:00; add_to_cart {price 10, sku x1, item {sku n1}} 10:00:05;
  /cart 10:00:20; /checkout 10:00:40; purchase {orderValue 30} 10:00:50.
* SB (user B): /product/2 11:00:00; /cart 11:00:10; add_to_cart {price 20, sku x2} 11:00:15;
  /checkout 11:00:30.
* SC (user C): /product/3 12:00:00; add_to_cart {price "5.5", sku x1} 12:00:02;
  add_to_cart {price "n/a", sku x1} 12:00:03.
* SX (cookieless): /product/4 13:00:00; add_to_cart {price 100} 13:00:01.
* search {q shoes} 14:00:00 without a session id.
"""

from __future__ import annotations

import pytest
from rumdata import event, write_jsonl

from rumq.api import Dataset

A, B, C = (f"{n}{n}{n}{n}{n}{n}{n}{n}-0000-4000-8000-00000000000a" for n in "abc")
SA, SB, SC, SX = (f"5e55000{n}-0000-4000-8000-000000000000" for n in "1234")
SHOP = "com.example.shop."
CART, BUY, SEARCH = SHOP + "add_to_cart", SHOP + "purchase", SHOP + "search"
NONE = {"numeric_values": None, "sum": None, "mean": None, "p50": None, "p90": None}


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    from rumq.ingest import ingest

    def pv(at, s, u, page, i):
        return event("page_view", at=f"2026-11-02T{at}", session=s, user=u, page=page, interaction=i)

    def ce(kind, at, s, u, page, i, **d):
        return event(kind, at=f"2026-11-02T{at}", session=s, user=u, page=page, interaction=i,
                     details={"version": "1.0.0", **d})

    ev = [
        pv("10:00:00", SA, A, "/product/1", 0),
        ce(CART, "10:00:05", SA, A, "/product/1", 0, price=10, sku="x1", item={"sku": "n1"}),
        pv("10:00:20", SA, A, "/cart", 1), pv("10:00:40", SA, A, "/checkout", 2),
        ce(BUY, "10:00:50", SA, A, "/checkout", 2, orderValue=30),
        pv("11:00:00", SB, B, "/product/2", 0), pv("11:00:10", SB, B, "/cart", 1),
        ce(CART, "11:00:15", SB, B, "/cart", 1, price=20, sku="x2"),
        pv("11:00:30", SB, B, "/checkout", 2),
        pv("12:00:00", SC, C, "/product/3", 0),
        ce(CART, "12:00:02", SC, C, "/product/3", 0, price="5.5", sku="x1"),
        ce(CART, "12:00:03", SC, C, "/product/3", 0, price="n/a", sku="x1"),
        pv("13:00:00", SX, None, "/product/4", None),
        ce(CART, "13:00:01", SX, None, "/product/4", None, price=100),
        ce(SEARCH, "14:00:00", None, None, "/search", None, q="shoes"),
    ]
    tmp = tmp_path_factory.mktemp("custom")
    src = write_jsonl(tmp / "export.jsonl", ev)
    assert ingest(tmp / "data", [str(src)]).written == len(ev)
    return Dataset(tmp / "data", notify=lambda _: None)


def test_counts_per_type(ds):
    assert ds.run("events/custom").to_dicts() == [
        # 5 add_to_cart in SA, SB, SC (2), SX: 4 sessions; users A, B, C (SX has none).
        {"event_type": CART, "value": None, "events": 5, "sessions": 4, "users": 3, **NONE},
        {"event_type": BUY, "value": None, "events": 1, "sessions": 1, "users": 1, **NONE},
        # No session id, no user: an event only.
        {"event_type": SEARCH, "value": None, "events": 1, "sessions": 0, "users": 0, **NONE},
    ]


def test_counts_per_value_of_a_field(ds):
    got = [(r["event_type"], r["value"], r["events"], r["sessions"], r["users"])
           for r in ds.run("events/custom", field="sku").to_dicts()]
    assert got == [(CART, "x1", 3, 2, 2), (CART, "x2", 1, 1, 1), (CART, None, 1, 1, 0),
                   (BUY, None, 1, 1, 1), (SEARCH, None, 1, 0, 0)]
    got = [(r["value"], r["events"]) for r in ds.run("events/custom", field="item/sku", type=CART).to_dicts()]
    assert got == [(None, 4), ("n1", 1)]


def test_numeric_field(ds):
    [r] = ds.run("events/custom", field="price", numeric=True, type="*.add_to_cart").to_dicts()
    # prices 10, 20, "5.5", "n/a", 100: four numbers; sorted [5.5, 10, 20, 100].
    assert (r["value"], r["events"], r["numeric_values"], r["sum"], r["mean"]) == (None, 5, 4, 135.5, 135.5 / 4)
    assert r["p50"] == 10 + 0.5 * (20 - 10)  # position 1.5
    assert r["p90"] == pytest.approx(20 + 0.7 * (100 - 20))  # position 2.7


STEPS = ["/product/*", "event:" + CART, "/checkout"]


def funnel(ds, **params):
    return [(r["pattern"], r["sessions"], r["median_time_from_previous_s"])
            for r in ds.run("funnels/conversion", steps=STEPS, **params).to_dicts()]


def test_funnel_with_a_custom_event_step(ds):
    # SA and SB reach /checkout after an add_to_cart (SB's on the cart page); SC stops after it.
    # Times: step 2 = SA 5 s, SB 15 s, SC 2 s -> median 5; step 3 = SA 35 s, SB 15 s -> median 25.
    assert funnel(ds) == [(STEPS[0], 3, None), (STEPS[1], 3, 5.0), (STEPS[2], 2, 25.0)]
    # strict: the event must be the very next item after the product page (SA, SC; SB's is /cart),
    # and /checkout the very next after it (SA's is /cart): nobody.
    assert [s for _, s, _ in funnel(ds, mode="strict")] == [3, 2, 0]
    # The cookieless SX: /product/4 then add_to_cart.
    assert [s for _, s, _ in funnel(ds, include_cookieless=True)] == [4, 4, 2]


def test_funnel_without_event_steps_is_unchanged(ds):
    rows = ds.run("funnels/conversion", steps=["/product/*", "/cart", "/checkout"]).to_dicts()
    assert [r["sessions"] for r in rows] == [3, 2, 2]  # SC never reaches /cart
