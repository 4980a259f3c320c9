"""Fields a Glue schema lacked: NULL in the data, named with what they cost at ingest and in ``rumq info``."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
from click.testing import CliRunner
from rumdata import event, write_jsonl

from rumq.cli import cli
from rumq.generate.glue import glue_schema, messages_table

S1 = "11111111-1111-4111-8111-111111111111"
U1 = "aaaaaaaa-1111-4111-8111-111111111111"


def _thin_schema() -> pa.Schema:
    """The ``structs`` schema without ``event_details.duration`` and ``metadata.countryCode``."""
    s = glue_schema("structs")
    md = pa.struct([f for f in s.field("metadata").type if f.name != "countrycode"])
    ed = pa.struct([f for f in s.field("event_details").type if f.name != "duration"])
    return s.set(s.get_field_index("metadata"), pa.field("metadata", md)).set(
        s.get_field_index("event_details"), pa.field("event_details", ed))


def _nav(eid: str, at: str, ms: int) -> dict:
    return event("navigation", at=at, event_id=eid, session=S1, user=U1, details={
        "version": "1.0.0", "initiatorType": "navigation", "navigationType": "navigate", "duration": ms})


def _dataset(tmp_path):
    pv = event("page_view", at="2026-11-25T10:00:00", event_id="p1", session=S1, user=U1, interaction=0,
               details={"version": "1.0.0", "pageId": "/", "interaction": 0})
    navs = [_nav("n1", "2026-11-25T10:00:01", 1200), _nav("n2", "2026-11-25T10:05:01", 800)]
    # Two Parquet objects of the thin schema (3 events, one of them also in the JSON file) and a JSON file.
    (tmp_path / "in").mkdir()
    pq.write_table(messages_table([pv, navs[0]], _thin_schema()), tmp_path / "in" / "obj-1")
    pq.write_table(messages_table([navs[1]], _thin_schema()), tmp_path / "in" / "obj-2")
    write_jsonl(tmp_path / "in" / "export.jsonl", [navs[0], event("page_view", event_id="j1")])
    data = tmp_path / "data"
    res = CliRunner().invoke(cli, ["--data", str(data), "ingest", str(tmp_path / "in")])
    assert res.exit_code == 0, res.output
    return data, res


def test_ingest_names_the_lacking_fields_and_what_they_cost(tmp_path):
    _, res = _dataset(tmp_path)
    lines = [x for x in res.stderr.splitlines() if "of this ingest" in x]
    assert lines[0] == ("rumq: no event_details.duration in 2 Parquet/ORC file(s) of this ingest (read as NULL): "
                        "no page-load analysis (performance/page_load)")
    assert lines[1] == ("rumq: no metadata.countryCode in 2 Parquet/ORC file(s) of this ingest (read as NULL): "
                        "no countries (audience/countries)")
    assert len(lines) == 2  # every other field is in the schema


def test_info_json_and_text(tmp_path):
    data, _ = _dataset(tmp_path)
    d = json.loads(CliRunner().invoke(cli, ["--data", str(data), "info", "--json"]).stdout)
    # Input order is path order: export.jsonl (n1, j1) before obj-1 (p1, n1 again) and obj-2 (n2), so
    # n1 is kept from the JSON file and counted once as a duplicate; p1 and n2 are reconstructed.
    assert (d["events"], d["duplicates_dropped"], d["reconstructed_events"]) == (4, 1, 2)
    assert d["source_fields_missing"] == [
        {"field": "event_details.duration", "inputs": 2, "consequence": "no page-load analysis (performance/page_load)"},
        {"field": "metadata.countryCode", "inputs": 2, "consequence": "no countries (audience/countries)"},
    ]
    text = CliRunner().invoke(cli, ["--data", str(data), "info"]).stdout
    assert "reconstructed    2 events read from Parquet/ORC columns" in text
    assert ("missing source fields\n  no event_details.duration in 2 Parquet/ORC input(s) (read as NULL): "
            "no page-load analysis (performance/page_load)\n") in text


def test_lacking_duration_is_null_not_zero(tmp_path):
    """A navigation from a thin source has no duration: page_load leaves it out instead of counting 0 ms."""
    data, _ = _dataset(tmp_path)
    res = CliRunner().invoke(cli, ["--data", str(data), "sql", "--format", "json",
                                   "SELECT event_id, duration, country_code FROM events ORDER BY event_id"])
    assert res.exit_code == 0, res.output
    rows = [(r["event_id"], r["duration"], r["country_code"]) for r in json.loads(res.stdout)]
    assert rows == [("j1", None, "DE"), ("n1", 1200.0, "DE"), ("n2", None, None), ("p1", None, None)]
    res = CliRunner().invoke(cli, ["--data", str(data), "run", "performance/page_load", "--format", "json"])
    assert res.exit_code == 0, res.output
    # Two navigations on "/": n1 (1200 ms, from the JSON file) and n2 (no duration): one load, not two with a 0.
    assert [(r["page"], r["loads"], r["p50_ms"], r["satisfied"]) for r in json.loads(res.stdout)] == [
        ("/", 1, 1200.0, 1)]


def test_a_dataset_of_json_sources_names_nothing(tmp_path):
    write_jsonl(tmp_path / "e.jsonl", [event("page_view", event_id="j1")])
    data = tmp_path / "data"
    CliRunner().invoke(cli, ["--data", str(data), "ingest", str(tmp_path / "e.jsonl")])
    d = json.loads(CliRunner().invoke(cli, ["--data", str(data), "info", "--json"]).stdout)
    assert (d["reconstructed_events"], d["source_fields_missing"]) == (0, [])
    assert "missing source fields" not in CliRunner().invoke(cli, ["--data", str(data), "info"]).stdout
