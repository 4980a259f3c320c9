"""funnels/conversion against the hand-built fixture."""

from __future__ import annotations

import analyses_data as fx
import pytest
from pytest import approx

COLS = ("step", "pattern", "sessions", "conversion_from_previous", "conversion_from_first", "drop_off",
        "median_time_from_previous_s")
STEPS = "/home,/cart,/checkout"


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return fx.build(tmp_path_factory.mktemp("q-funnels"))


def funnel(data, **params):
    rows = fx.run(data, "funnels/conversion", **params)
    assert rows and all(r["coverage"] == approx(13 / 15) for r in rows)
    return [tuple(r[c] for c in COLS) for r in rows]


def test_sequential(data):
    # Paths: S1 home, products, cart | S2 home, cart, home, cart, checkout | S3 home | S4 blog, home, cart.
    # /home: all 4. /cart after /home: S1 (10:00:00 -> 10:02:00, 120 s), S2 (11:00:00 -> 11:00:15, 15 s),
    # S4 (13:00:10 -> 13:00:10, 0 s) -> 3, median 15. /checkout: S2 (11:00:15 -> 11:01:00, 45 s) -> 1.
    assert funnel(data, steps=STEPS) == [
        (1, "/home", 4, None, 1.0, None, None),
        (2, "/cart", 3, 0.75, 0.75, 1, 15.0),
        (3, "/checkout", 1, approx(1 / 3), 0.25, 2, 45.0),
    ]


def test_strict(data):
    # The next step must be the very next page. S1: /home then /products -> stops at 1.
    # S2: the start at position 1 gives home, cart, then home (fails); the start at position 3 gives
    # home (11:00:30), cart (11:00:45, 15 s), checkout (11:01:00, 15 s): best = 3.
    # S4: home, cart (0 s) -> 2. Step 2: S2, S4 -> median of [15, 0] = 7.5.
    assert funnel(data, steps=STEPS, mode="strict") == [
        (1, "/home", 4, None, 1.0, None, None),
        (2, "/cart", 2, 0.5, 0.5, 2, 7.5),
        (3, "/checkout", 1, 0.5, 0.25, 1, 15.0),
    ]


def test_window(data):
    # window 30s from step 1: S1's cart comes 120 s after home -> stops at 1. S2's first start
    # reaches checkout 60 s after it (too late) but the start at 11:00:30 reaches it after 30 s.
    assert funnel(data, steps=STEPS, window="30s") == [
        (1, "/home", 4, None, 1.0, None, None),
        (2, "/cart", 2, 0.5, 0.5, 2, 7.5),
        (3, "/checkout", 1, 0.5, 0.25, 1, 15.0),
    ]


def test_glob_patterns_match_normalized_pages(data):
    # /products/* matches /products/:id (S1 at 10:00:30); then /cart at 10:02:00: 90 s.
    assert funnel(data, steps="/products/*,/cart") == [
        (1, "/products/*", 1, None, 1.0, None, None),
        (2, "/cart", 1, 1.0, 1.0, 0, 90.0),
    ]


def test_nobody_reaches(data):
    assert funnel(data, steps="/nowhere,/home") == [
        (1, "/nowhere", 0, None, None, None, None),
        (2, "/home", 0, None, None, 0, None),
    ]


def test_steps_are_required(data):
    from rumq.errors import ParameterError

    with pytest.raises(ParameterError, match="steps"):
        fx.run(data, "funnels/conversion")
