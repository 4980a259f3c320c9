"""The built-ins' front matter shipped parsed (rumq/library_index.json): fresh, used only for the
text it was made from, and the same queries either way; `rumq run` of a built-in parses no YAML."""

from __future__ import annotations

import json

import clirun
import pytest
from _query_data import build_dataset

from rumq import library_index
from rumq.errors import QueryDefinitionError
from rumq.library import BUILTIN, Library, parse_query


def builtins(index: bool) -> dict:
    return Library(env={}, builtin_index=index).load().queries


def test_the_index_is_fresh():
    """What `make portability` writes now; a change to a built-in's header (or text) fails here."""
    assert library_index.main(["--check"]) == 0, "stale rumq/library_index.json: run `make portability`"
    shipped = json.loads(library_index.INDEX.read_text(encoding="utf-8"))["queries"]
    assert set(shipped) == set(builtins(False))  # every built-in: none fell back to YAML


def test_indexed_queries_are_the_parsed_ones():
    from_yaml, from_index = builtins(False), builtins(True)
    assert from_index == from_yaml
    for name, q in from_yaml.items():  # the same types too (True is not 1, {false: ...} keys stay booleans)
        assert repr(from_index[name].header) == repr(q.header), name
    drop_off = from_index["pages/drop_off"]
    assert {k for p in drop_off.params if p.sql for k in p.sql} == {False, True}


def test_the_index_answers_only_for_the_text_it_was_made_from():
    q = Library(env={}).get("sessions/summary")
    assert library_index.shipped_header(q.name, q.text) == dict(q.header)
    edited = q.text.replace("description: Sessions,", "description: Visits,")
    assert library_index.shipped_header(q.name, edited) is None
    # An edited built-in (a source checkout) is parsed from its YAML, so the edit shows.
    again = parse_query(edited, path=q.path, expected_name=q.name, kind="sql", source=BUILTIN)
    assert again.description.startswith("Visits,")
    # A user file with a built-in's name and text is a user file: parsed as always.
    assert library_index.shipped_header("mine/summary", q.text) is None


def test_a_malformed_header_of_a_builtin_is_still_reported(monkeypatch):
    """The index replaces the YAML parse only; the checks after it run either way."""
    q = Library(env={}).get("sessions/summary")
    monkeypatch.setattr(library_index, "shipped_header", lambda name, text: {**q.header, "session_based": "yes"})
    with pytest.raises(QueryDefinitionError, match="'session_based' must be true or false"):
        parse_query(q.text, path=q.path, expected_name=q.name, kind="sql", source=BUILTIN)


def test_a_literal_that_cannot_carry_a_header_leaves_it_out():
    import datetime as dt

    assert library_index.literal({"a": {False: "x", 1: 2.0}}) == "{'a': {False: 'x', 1: 2.0}}"
    assert library_index.literal({"since": dt.date(2026, 1, 1)}) is None  # a YAML date: parsed at run time


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return build_dataset(tmp_path_factory.mktemp("ds"))


def test_run_of_a_builtin_parses_no_yaml_and_reads_no_toml(data, tmp_path):
    _, _, loaded = clirun.loaded_modules(["--data", str(data), "run", "pages/drop_off", "--format", "json"],
                                         ("yaml", "tomllib"))
    assert loaded == set()
    # A user query is parsed from YAML, and a rumq.toml is read: the watch sees both.
    user = tmp_path / "q" / "mine"
    user.mkdir(parents=True)
    (user / "one.sql").write_text("-- ---\n-- name: mine/one\n-- description: one\n-- ---\nSELECT 1 AS one\n",
                                  encoding="utf-8")
    (data / "rumq.toml").write_text("[pages]\nexclude = []\n", encoding="utf-8")
    try:
        _, _, loaded = clirun.loaded_modules(["--data", str(data), "run", "mine/one", "--queries",
                                              str(tmp_path / "q"), "--format", "json"], ("yaml", "tomllib"))
    finally:
        (data / "rumq.toml").unlink()
    assert loaded == {"yaml", "tomllib"}


def test_every_rendered_builtin_reads_what_duckdb_parses(monkeypatch):
    from rumq import catalog, views

    con = catalog.new_connection()
    try:
        texts = [sql for q in builtins(True).values() if q.kind == "sql" for sql in library_index.rendered(q)]
        assert len(texts) > len(builtins(True))  # identifier choices render texts of their own
        for sql in texts:
            assert library_index.shipped_reads(sql) == views._relations(con, sql)
    finally:
        con.close()
    assert library_index.shipped_reads("SELECT * FROM sessions") is None  # not a built-in: parsed


def test_a_builtin_run_parses_nothing_and_a_user_statement_is_parsed(data, monkeypatch):
    from rumq import runner, views

    parsed: list[str] = []
    real = views._relations
    monkeypatch.setattr(views, "_relations", lambda con, sql: parsed.append(sql) or real(con, sql))
    rows = runner.run_query(data, "pages/entry", {"by_domain": "true"}, rows=True)
    assert rows.rows and parsed == []
    assert runner.run_sql(data, "SELECT count(*) FROM sessions", rows=True).rows[0][0] > 0
    assert parsed == ["SELECT count(*) FROM sessions"]
