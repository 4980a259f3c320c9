"""Set-up per command: the manifest is read once, ad-hoc SQL gets the views it names
(and the full catalog's message when it names one that does not exist)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from _query_data import build_dataset

from rumq import catalog, runner
from rumq.errors import QueryExecutionError
from rumq.store import Store


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return build_dataset(tmp_path_factory.mktemp("ds"))


@pytest.fixture
def reads(monkeypatch):
    """Counts the times state.json is parsed (the real method runs)."""
    count = {"n": 0}
    real = Store.load_state

    def counting(self, *a, **k):
        count["n"] += 1
        return real(self, *a, **k)

    monkeypatch.setattr(Store, "load_state", counting)
    catalog._STATES.clear()
    return count


def test_manifest_is_read_once_per_command(data, reads):
    # An empty window: the window's connection, then the dataset's range for the notice.
    notes: list[str] = []
    runner.run_query(data, "data/quality", since="2000-01-01", until="2000-01-02", notify=notes.append)
    assert any("no events in the window" in n for n in notes)
    assert reads["n"] == 1


def test_a_new_commit_is_read_again(data, reads, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(data, copy)
    runner.run_sql(copy, "SELECT 1 FROM events")
    state = copy / "_rumq" / "state.json"
    text = state.read_text()
    tmp = state.with_suffix(".tmp")
    tmp.write_text(text.replace('"files": [', '"files": [ ', 1))  # same state, new file: a new commit
    tmp.replace(state)
    runner.run_sql(copy, "SELECT 1 FROM events")
    assert reads["n"] == 2


def test_sql_with_a_misspelt_view_gets_the_full_catalog_message(data):
    with pytest.raises(QueryExecutionError, match='Did you mean "sessions"'):
        runner.run_sql(data, "SELECT * FROM sesions")


def test_sql_reading_a_view_by_name_in_a_string_sees_it(data):
    rows = runner.run_sql(data, "SELECT count(*) AS n FROM query_table('sessions')", rows=True)
    direct = runner.run_sql(data, "SELECT count(*) AS n FROM sessions", rows=True)
    assert rows.rows == direct.rows and rows.rows[0][0] > 0


def test_every_builtin_query_renders_the_same_bytes_both_ways(data):
    from rumq.library import Library
    from rumq.render import Rows, render_rows_text, render_text

    params = {"funnels/conversion": {"steps": "/,/cart"}}
    names = list(Library().load().queries)
    assert len(names) >= 10
    for name in names:
        rows = runner.run_query(data, name, params.get(name, {}), rows=True)
        frame = runner.run_query(data, name, params.get(name, {}))
        assert isinstance(rows, Rows), name  # the CLI's text formats skip Polars for every built-in
        for fmt in ("table", "csv", "tsv", "json", "jsonl", "markdown"):
            assert render_rows_text(rows, fmt) == render_text(frame, fmt), (name, fmt)


@pytest.fixture
def connections(monkeypatch):
    """Counts the DuckDB connections opened (the real function runs); no range kept from before."""
    count = {"n": 0}
    real = catalog.new_connection

    def counting(*a, **k):
        count["n"] += 1
        return real(*a, **k)

    monkeypatch.setattr(catalog, "new_connection", counting)
    catalog._RANGES.clear()
    return count


def test_an_empty_window_names_the_range_without_a_second_connection(data, connections):
    whole = runner.run_sql(data, "SELECT min(event_time), max(event_time) FROM events", rows=True).rows[0]
    connections["n"] = 0
    notes: list[str] = []
    runner.run_query(data, "sessions/summary", since="2000-01-01", until="2000-01-02", notify=notes.append)
    z = "%Y-%m-%dT%H:%M:%SZ"
    assert f"the dataset holds events from {whole[0]:{z}} to {whole[1]:{z}}" in notes[0]
    assert connections["n"] == 1  # the window's connection read the range before it was restricted
    assert catalog.event_range(data) == tuple(whole) and connections["n"] == 1  # kept


def test_a_window_with_files_but_no_events_still_names_the_range(data, connections):
    first, _ = catalog.event_range(data)
    notes: list[str] = []
    day = first.replace(hour=0, minute=0, second=0)
    runner.run_query(data, "sessions/summary", since=day, until=first, notify=notes.append)  # before the first
    assert f"holds events from {first:%Y-%m-%dT%H:%M:%SZ}" in notes[0]


def test_the_range_is_read_again_after_a_commit(tmp_path):
    import json

    from _query_data import page_view

    from rumq.ingest import ingest

    data = build_dataset(tmp_path)
    first, last = catalog.event_range(data)
    later = dt.datetime(2026, 12, 24, 18, 30, 5)
    (tmp_path / "later.jsonl").write_text(json.dumps(page_view(later, "/gift", session="22222222-2222-2222-2222-222222222229")) + "\n")
    ingest(data, [str(tmp_path / "later.jsonl")])
    assert catalog.event_range(data) == (first, later) and last < later


def _has(con, kind: str, name: str) -> bool:
    table = {"macro": "duckdb_functions()", "table": "duckdb_tables()", "view": "duckdb_views()"}[kind]
    column = "function_name" if kind == "macro" else f"{kind}_name"
    return bool(con.execute(f"SELECT 1 FROM {table} WHERE {column} = ?", [name]).fetchall())


def test_a_statement_gets_the_macros_and_the_ingest_totals_only_when_it_names_them(data):
    from rumq.library import Library

    summary = Library().get("sessions/summary").body
    con = catalog.connect(data, for_sql=summary)
    try:  # what the statement reads, and nothing else
        assert _has(con, "view", "session_stats") and not _has(con, "view", "page_views")
        assert not _has(con, "macro", "rumq_page") and not _has(con, "table", "ingest_totals")
    finally:
        con.close()
    con = catalog.connect(data, for_sql="SELECT * FROM ingest_totals")
    try:
        assert _has(con, "table", "ingest_totals") and not _has(con, "macro", "rumq_url")
    finally:
        con.close()
    con = catalog.connect(data)  # ad-hoc SQL that lists the catalog: everything
    try:
        assert _has(con, "macro", "rumq_page") and _has(con, "table", "ingest_totals")
    finally:
        con.close()
    # Function names are case-insensitive: so is the test for them.
    rows = runner.run_sql(data, "SELECT RUMQ_PAGE('/orders/12') AS p, Rumq_Url('https://x.io/a/7?q=1') AS u",
                          rows=True)
    assert rows.rows == [("/orders/:id", "x.io/a/:id")]
    quality = runner.run_query(data, "data/quality", rows=True)
    assert {r[0]: r[2] for r in quality.rows}["records_read"] == 8


def test_the_manifest_shows_a_window_holds_events_when_a_whole_day_of_it_has_rows(data):
    day = dt.datetime(2026, 11, 2)
    assert catalog.holds_events(data, None, None)
    assert catalog.holds_events(data, day, day + dt.timedelta(days=1))
    assert catalog.holds_events(data, None, dt.datetime(2026, 11, 2))  # all of 2026-11-01
    # Part of a day only: the manifest cannot tell (the data is asked: it holds events here).
    assert not catalog.holds_events(data, day + dt.timedelta(hours=1), day + dt.timedelta(days=1))
    assert not catalog.holds_events(data, dt.datetime(2000, 1, 1), dt.datetime(2000, 1, 2))
    notes: list[str] = []
    runner.run_query(data, "sessions/summary", since=day + dt.timedelta(hours=1), until=day + dt.timedelta(days=1),
                     notify=notes.append)
    assert not any("no events" in n for n in notes)
