"""pages/drop_off and pages/entry against the hand-built fixture."""

from __future__ import annotations

import analyses_data as fx
import pytest
from pytest import approx


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return fx.build(tmp_path_factory.mktemp("q-pages"))


COLS = ("page", "page_views", "sessions", "exits", "exit_rate", "exit_share", "entries", "bounces")


def test_drop_off(data):
    # Page views in cookie sessions: /home S1 1 + S2 2 + S3 1 + S4 1 = 5; /products/:id S1 2;
    # /cart S1 1 + S2 2 + S4 1 = 4; /checkout S2 1; /blog/a S4 1 (total 13).
    # Exits: /cart (S1, S4), /checkout (S2), /home (S3). Entries: /home S1 S2 S3, /blog/a S4.
    # Bounces: S3 entered /home and saw nothing else.
    # /cart: exit_rate 2/4, exit_share 2/3; /home: 1/5, 1/4. Sorted by exits, then page views.
    rows = fx.run(data, "pages/drop_off")
    assert [tuple(r[c] for c in COLS) for r in rows] == [
        ("/cart", 4, 3, 2, 0.5, approx(2 / 3), 0, 0),
        ("/home", 5, 4, 1, 0.2, 0.25, 3, 1),
        ("/checkout", 1, 1, 1, 1.0, 1.0, 0, 0),
        ("/products/:id", 2, 1, 0, 0.0, 0.0, 0, 0),
        ("/blog/a", 1, 1, 0, 0.0, 0.0, 1, 0),
    ]
    assert rows and all(r["coverage"] == approx(13 / 15) for r in rows)


def test_drop_off_with_cookieless_and_top(data):
    # C1 adds a /home view that is entry, exit and bounce; C2 the same on /products/:id.
    rows = fx.run(data, "pages/drop_off", include_cookieless=True, top=3)
    assert [tuple(r[c] for c in COLS) for r in rows] == [
        ("/home", 6, 5, 2, approx(2 / 6), 0.4, 4, 2),
        ("/cart", 4, 3, 2, 0.5, approx(2 / 3), 0, 0),
        ("/products/:id", 3, 2, 1, approx(1 / 3), 0.5, 1, 1),
    ]


def test_entry(data):
    # /home: S1 (4 pages), S2 (5), S3 (1, bounce) -> bounce rate 1/3, mean pages 10/3.
    # /blog/a: S4 (3 pages).
    rows = fx.run(data, "pages/entry")
    assert [(r["entry_page"], r["sessions"], r["bounces"], r["bounce_rate"], r["pages_per_session_mean"])
            for r in rows] == [
        ("/home", 3, 1, approx(1 / 3), approx(10 / 3)),
        ("/blog/a", 1, 0, 0.0, 3.0),
    ]
    assert rows and all(r["coverage"] == approx(13 / 15) for r in rows)
