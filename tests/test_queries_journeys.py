"""journeys/transitions and journeys/top_paths against the hand-built fixture."""

from __future__ import annotations

import analyses_data as fx
import pytest
from pytest import approx

COV = approx(13 / 15)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return fx.build(tmp_path_factory.mktemp("q-journeys"))


def edges(rows):
    return [(r["from_page"], r["to_page"], r["sessions"], r["transitions"], r["share"]) for r in rows]


def test_transitions(data):
    # Collapsed paths: S1 /home > /products/:id > /cart; S2 /home > /cart > /home > /cart > /checkout;
    # S3 /home; S4 /blog/a > /home > /cart.
    # Out of /home: ->/products (S1), ->/cart (S2 twice, S4), ->(exit) (S3) = 5 -> 0.2, 0.6, 0.2.
    # Out of /cart: ->(exit) (S1, S4), ->/home (S2), ->/checkout (S2) = 4 -> 0.5, 0.25, 0.25.
    # Out of (entry): /home 3 of 4, /blog/a 1 of 4.
    rows = fx.run(data, "journeys/transitions")
    assert rows and all(r["coverage"] == COV for r in rows)
    assert edges(rows) == [
        ("(entry)", "/home", 3, 3, 0.75),
        ("/home", "/cart", 2, 3, 0.6),  # 3 transitions by 2 sessions
        ("/cart", "(exit)", 2, 2, 0.5),
        ("(entry)", "/blog/a", 1, 1, 0.25),
        ("/blog/a", "/home", 1, 1, 1.0),
        ("/cart", "/checkout", 1, 1, 0.25),
        ("/cart", "/home", 1, 1, 0.25),
        ("/checkout", "(exit)", 1, 1, 1.0),
        ("/home", "(exit)", 1, 1, 0.2),
        ("/home", "/products/:id", 1, 1, 0.2),
        ("/products/:id", "/cart", 1, 1, 1.0),
    ]


def test_transitions_step_limit_top_and_min_count(data):
    # steps=2 keeps edges into positions 1..2, and (exit) only after a path of <= 2 pages:
    # (entry)->/home x3, (entry)->/blog/a, /home->/products (S1), /home->/cart (S2),
    # /home->(exit) (S3), /blog/a->/home (S4). Out of /home: 3 edges of 1 -> 1/3 each.
    rows = fx.run(data, "journeys/transitions", steps=2)
    assert edges(rows) == [
        ("(entry)", "/home", 3, 3, 0.75),
        ("(entry)", "/blog/a", 1, 1, 0.25),
        ("/blog/a", "/home", 1, 1, 1.0),
        ("/home", "(exit)", 1, 1, approx(1 / 3)),
        ("/home", "/cart", 1, 1, approx(1 / 3)),
        ("/home", "/products/:id", 1, 1, approx(1 / 3)),
    ]
    # min_count filters after the shares are computed; top cuts the sorted list.
    assert edges(fx.run(data, "journeys/transitions", min_count=2, top=2)) == [
        ("(entry)", "/home", 3, 3, 0.75),
        ("/home", "/cart", 2, 3, 0.6),
    ]


def test_transitions_with_cookieless(data):
    # C1 (/home) and C2 (/products/:id) add (entry)->page->(exit) each.
    rows = {(r["from_page"], r["to_page"]): r["transitions"] for r in
            fx.run(data, "journeys/transitions", include_cookieless=True)}
    assert rows[("(entry)", "/home")] == 4
    assert rows[("(entry)", "/products/:id")] == 1
    assert rows[("/home", "(exit)")] == 2
    assert rows[("/products/:id", "(exit)")] == 1


def test_top_paths(data):
    rows = fx.run(data, "journeys/top_paths")
    assert [(r["path"], r["length"], r["sessions"], r["share"]) for r in rows] == [
        ("/blog/a > /home > /cart", 3, 1, 0.25),
        ("/home", 1, 1, 0.25),
        ("/home > /cart > /home > /cart > /checkout", 5, 1, 0.25),
        ("/home > /products/:id > /cart", 3, 1, 0.25),
    ]
    assert rows and all(r["coverage"] == COV for r in rows)


def test_top_paths_depth_groups_prefixes(data):
    # depth=1: S1 and S2 continue after /home ("/home > …"), S3 stops there, S4 continues after /blog/a.
    rows = fx.run(data, "journeys/top_paths", depth=1)
    assert [(r["path"], r["length"], r["sessions"], r["share"]) for r in rows] == [
        ("/home > …", 1, 2, 0.5),
        ("/blog/a > …", 1, 1, 0.25),
        ("/home", 1, 1, 0.25),
    ]
    assert len(fx.run(data, "journeys/top_paths", top=1)) == 1


def test_transitions_follow_whole_paths_by_default(tmp_path):
    # One session of 12 pages /p1 > /p2 > ... > /p12. By default (steps = 0) every edge
    # counts, (exit) included: 13 edges, /p12 -> (exit) as pages/drop_off's exit. Before
    # issue 13 the default was steps = 10, which dropped /p10 -> /p11, /p11 -> /p12 and the
    # exit. steps=10 still cuts: edges into positions 1..10 only, no (exit).
    from rumdata import session_events, write_jsonl

    from rumq.ingest import ingest

    pages = [f"/p{i}" for i in range(1, 13)]
    write_jsonl(tmp_path / "in.jsonl", session_events("5e55e55e-0000-4000-8000-000000000001",
                                                      "0a0a0a0a-0000-4000-8000-000000000002", pages))
    ingest(tmp_path / "data", [str(tmp_path / "in.jsonl")])
    path = ["(entry)", *pages, "(exit)"]
    whole = {(r["from_page"], r["to_page"]) for r in fx.run(tmp_path / "data", "journeys/transitions")}
    assert whole == set(zip(path[:-1], path[1:], strict=True))
    [drop] = [r for r in fx.run(tmp_path / "data", "pages/drop_off") if r["exits"]]
    assert drop["page"] == "/p12"
    cut = {(r["from_page"], r["to_page"]) for r in fx.run(tmp_path / "data", "journeys/transitions", steps=10)}
    assert cut == set(zip(path[:10], path[1:11], strict=True))
