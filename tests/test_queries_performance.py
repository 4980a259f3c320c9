"""performance/web_vitals and performance/page_load against the hand-built fixture."""

from __future__ import annotations

import analyses_data as fx
import pytest
from pytest import approx


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return fx.build(tmp_path_factory.mktemp("q-perf"))


VCOLS = ("page", "metric", "samples", "p50", "p75", "p90", "good", "needs_improvement", "poor")


def test_web_vitals(data):
    # LCP on /home (event-level, C1 included): sorted [1000, 2000, 3000, 5000].
    # p50 pos 1.5 -> 2500; p75 pos 2.25 -> 3000 + 0.25*2000 = 3500; p90 pos 2.7 -> 3000 + 0.7*2000 = 4400.
    # good <= 2500: 1000, 2000; needs-improvement <= 4000: 3000; poor: 5000.
    # CLS on /cart: [0.1, 0.25]: p50 0.175, p75 0.2125, p90 0.235; 0.1 is good (at the threshold),
    # 0.25 needs improvement (at the second threshold).
    rows = fx.run(data, "performance/web_vitals")
    assert [tuple(r[c] for c in VCOLS) for r in rows] == [
        ("/home", "LCP", 4, 2500.0, 3500.0, approx(4400.0), 0.5, 0.25, 0.25),
        ("/cart", "CLS", 2, approx(0.175), approx(0.2125), approx(0.235), 0.5, 0.5, 0.0),
    ]


def test_web_vitals_filters(data):
    rows = fx.run(data, "performance/web_vitals", metric="CLS", by="none")
    assert [tuple(r[c] for c in VCOLS) for r in rows] == [
        ("(all)", "CLS", 2, approx(0.175), approx(0.2125), approx(0.235), 0.5, 0.5, 0.0),
    ]
    assert [r["metric"] for r in fx.run(data, "performance/web_vitals", min_samples=3)] == ["LCP"]


def test_page_load(data):
    # Navigations on /home: 1500 (S1), 3000 (S2), 9000 (S3), 2000 (C1) -> sorted [1500, 2000, 3000, 9000].
    # p50 2500; p75 pos 2.25 -> 3000 + 0.25*6000 = 4500; p90 pos 2.7 -> 3000 + 0.7*6000 = 7200.
    # Apdex: satisfied 1500, 2000 (<= 2000); tolerating 3000; frustrated 9000 -> (2 + 1/2)/4 = 0.625.
    # Step medians: dns [10,20,30,40] 25; connect all 5; no TLS -> NULL; ttfb [100..400] 250;
    # response [10,10,20,20] 15; DOM [300,500,700,900] 600; load event [1,2,3,4] 2.5.
    assert fx.run(data, "performance/page_load") == [{
        "page": "/home", "loads": 4, "p50_ms": 2500.0, "p75_ms": 4500.0, "p90_ms": approx(7200.0),
        "apdex": 0.625, "satisfied": 2, "tolerating": 1, "frustrated": 1,
        "dns_ms": 25.0, "connect_ms": 5.0, "tls_ms": None, "ttfb_ms": 250.0, "response_ms": 15.0,
        "dom_processing_ms": 600.0, "load_event_ms": 2.5,
    }]


def test_page_load_initiator(data):
    assert fx.run(data, "performance/page_load", initiator="route_change") == []
    assert [r["loads"] for r in fx.run(data, "performance/page_load", initiator="navigation", by="none")] == [4]
