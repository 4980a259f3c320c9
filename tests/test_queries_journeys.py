"""journeys/transitions beyond its fixture (tests/fixtures/queries/journeys/): paths longer than ten pages."""

from __future__ import annotations

import analyses_data as fx


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
