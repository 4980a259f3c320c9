"""Parquet and ORC tables of RUM events (Firehose record format conversion): detection, mapping, rejects, dedup.

Every file is written by the test with pyarrow; the Glue-shaped ones with
``rumq.generate.glue`` (the generator's own converter).
"""

from __future__ import annotations

import json

import orjson
import pyarrow as pa
import pyarrow.orc as po
import pyarrow.parquet as pq
import pytest
from rumdata import event, firehose_doc, write_firehose, write_jsonl

from rumq import catalog
from rumq.generate.glue import glue_schema, messages_table
from rumq.ingest import ingest
from rumq.ingest.readers import detect
from rumq.maintenance import iter_rejects

S1 = "11111111-1111-4111-8111-111111111111"
U1 = "aaaaaaaa-1111-4111-8111-111111111111"


def _events() -> list[dict]:
    """Four events of one session: page view, navigation (duration 1200), http 503, js error."""
    d = "2026-11-25T"
    kw = {"session": S1, "user": U1}
    return [
        event("page_view", at=d + "10:00:00", event_id="e1", interaction=0,
              details={"version": "1.0.0", "pageId": "/", "interaction": 0, "pageInteractionId": "/-0"}, **kw),
        event("navigation", at=d + "10:00:01", event_id="e2", details={
            "version": "1.0.0", "initiatorType": "navigation", "navigationType": "navigate", "duration": 1200,
            "timeToFirstByte": 80.5}, **kw),
        event("http", at=d + "10:00:02", event_id="e3", details={
            "version": "1.0.0", "request": {"method": "GET", "url": "https://api.example.com/cart"},
            "response": {"status": 503, "statusText": "Service Unavailable"}}, **kw),
        event("js_error", at=d + "10:00:03", event_id="e4", details={
            "version": "1.0.0", "type": "TypeError", "message": "x is undefined", "lineno": 10, "colno": 5}, **kw),
    ]


def _rows(data, cols: str) -> list[tuple]:
    con = catalog.connect(data)
    try:
        return con.execute(f"SELECT {cols} FROM events ORDER BY event_id").fetchall()
    finally:
        con.close()


def _write_parquet(path, messages, schema):
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(messages_table(messages, schema), path, compression="snappy")
    return path


@pytest.mark.parametrize("glue", ["structs", "json-strings"])
def test_glue_parquet_reads_like_the_json_lines(tmp_path, glue):
    evs = _events()
    path = _write_parquet(tmp_path / "in" / "part-0000", evs, glue_schema(glue))  # no extension: Firehose's default
    assert detect(path) == "parquet"
    r = ingest(tmp_path / "data", [str(tmp_path / "in")])
    assert (r.read, r.written, r.rejected) == (4, 4, 0)
    assert r.files[0].reconstructed is True
    rows = _rows(tmp_path / "data", "event_id, event_name, session_id, user_id, browser_name, page_id, interaction, "
                                    "duration, time_to_first_byte, http_status, http_url, error_type, error_lineno, "
                                    "message_reconstructed, source_format, source_line")
    assert rows == [
        ("e1", "page_view", S1, U1, "Chrome", "/", 0, None, None, None, None, None, None, True, "parquet", 1),
        ("e2", "navigation", S1, U1, "Chrome", "/", None, 1200.0, 80.5, None, None, None, None, True, "parquet", 2),
        ("e3", "http", S1, U1, "Chrome", "/", None, None, None, 503, "https://api.example.com/cart", None, None,
         True, "parquet", 3),
        ("e4", "js_error", S1, U1, "Chrome", "/", None, None, None, None, None, "TypeError", 10, True, "parquet", 4),
    ]


def test_reconstructed_message_is_canonical_json_with_rum_spellings(tmp_path):
    evs = _events()[:2]
    _write_parquet(tmp_path / "in.parquet", evs, glue_schema("structs"))
    ingest(tmp_path / "data", [str(tmp_path / "in.parquet")])
    (msg,) = _rows(tmp_path / "data", "message")[1:]
    doc = json.loads(msg[0])
    # The navigation event as sent, key for key: lowercased struct fields are spelled as RUM spells them,
    # the integral duration is an integer again (JSON.stringify), nothing the event did not have is added.
    assert doc == evs[1]
    assert list(doc) == ["event_timestamp", "event_type", "event_id", "event_version", "log_stream",
                         "application_id", "application_version", "metadata", "user_details", "event_details"]
    assert '"duration":1200,' in msg[0] and '"browserName":"Chrome"' in msg[0]
    # Logs Insights works on it.
    from rumq import insights

    con = catalog.connect(tmp_path / "data")
    df = insights.run(con, "fields @message | filter @message like /\"duration\":1200/")
    assert df["@message"].to_list() == [msg[0]]
    con.close()


def test_message_column_is_read_as_the_original_text(tmp_path):
    evs = _events()
    texts = [json.dumps(e, indent=None) for e in evs]  # ", " separators: not rumq's canonical form
    t = pa.table({"@timestamp": pa.array([e["event_timestamp"] for e in evs], pa.int64()),
                  "@logStream": ["2026-11-25T10"] * 4, "@log": ["123:/aws/vendedlogs/RUMService_x"] * 4,
                  "@message": texts})
    pq.write_table(t, tmp_path / "ctas.parquet")
    r = ingest(tmp_path / "data", [str(tmp_path / "ctas.parquet")])
    assert (r.written, r.files[0].reconstructed, r.files[0].missing_fields) == (4, False, [])
    rows = _rows(tmp_path / "data", "message, message_reconstructed, log_group")
    assert rows == [(x, False, "123:/aws/vendedlogs/RUMService_x") for x in texts]


def test_mixed_case_columns_and_partial_structs(tmp_path):
    """Columns matched case-insensitively; a struct with a subset of fields; the rest NULL and named."""
    e = _events()[1]
    t = pa.table({
        "Event_Timestamp": [e["event_timestamp"]], "EVENT_TYPE": [e["event_type"]], "event_id": ["n1"],
        "Metadata": pa.array([{"BROWSERNAME": "Firefox", "pageid": "/x"}],
                             pa.struct([("BROWSERNAME", pa.string()), ("pageid", pa.string())])),
        "user_details": pa.array([{"sessionid": S1}], pa.struct([("sessionid", pa.string())])),
        "event_details": pa.array([{"duration": 900.0}], pa.struct([("duration", pa.float64())])),
        "year": ["2026"],  # a partition column some CTAS tables carry: ignored
    })
    pq.write_table(t, tmp_path / "partial.parquet")
    r = ingest(tmp_path / "data", [str(tmp_path / "partial.parquet")])
    assert r.written == 1
    missing = r.files[0].missing_fields
    assert "metadata.browserName" not in missing and "event_details.duration" not in missing
    assert {"user_details.userId", "metadata.deviceType", "event_details.timeToFirstByte",
            "event_details.response.status", "application_id"} <= set(missing)
    assert _rows(tmp_path / "data", "browser_name, page_id, session_id, user_id, cookieless, duration, device_type") \
        == [("Firefox", "/x", S1, None, True, 900.0, None)]


def test_orc_is_detected_and_read(tmp_path):
    evs = _events()
    # pyarrow's ORC writer garbles a struct nested in a struct after a null one
    # (pyarrow reads such files right when another ORC writer made them), so
    # this file holds the documents as JSON strings.
    po.write_table(messages_table(evs, glue_schema("json-strings")), str(tmp_path / "in.orc"))
    assert detect(tmp_path / "in.orc") == "orc"
    r = ingest(tmp_path / "data", [str(tmp_path / "in.orc")])
    assert (r.written, r.files[0].format) == (4, "orc")
    assert _rows(tmp_path / "data", "event_id, http_status, duration") == [
        ("e1", None, None), ("e2", None, 1200.0), ("e3", 503, None), ("e4", None, None)]


def test_mixed_formats_in_one_ingest_and_dedup_across_sources(tmp_path):
    """Parquet overlapping a JSON export: the overlap counted as duplicates, not doubled."""
    evs = _events()
    inp = tmp_path / "in"
    write_jsonl(inp / "export.jsonl.gz", evs[:3], gz=True)  # e1..e3
    write_firehose(inp / "fh", [firehose_doc([evs[0]])])  # e1 again
    _write_parquet(inp / "fh-parquet", evs[1:], glue_schema("structs"))  # e2..e4
    po.write_table(messages_table(evs[3:], glue_schema("json-strings")), str(inp / "orc-object"))  # e4 again
    r = ingest(tmp_path / "data", [str(inp)])
    formats = {f.path.rsplit("/", 1)[1]: f.format for f in r.files}
    assert formats == {"export.jsonl.gz": "jsonl", "fh": "firehose", "fh-parquet": "parquet", "orc-object": "orc"}
    # 3 + 1 + 3 + 1 records read, 4 distinct events.
    assert (r.read, r.written, r.duplicates, r.rejected) == (8, 4, 4, 0)
    assert [x[0] for x in _rows(tmp_path / "data", "event_id")] == ["e1", "e2", "e3", "e4"]


def test_row_missing_a_required_field_is_rejected_with_file_and_row(tmp_path):
    evs = _events()
    evs[2] = {k: v for k, v in evs[2].items() if k != "event_id"}
    _write_parquet(tmp_path / "gap.parquet", evs, glue_schema("structs"))
    r = ingest(tmp_path / "data", [str(tmp_path / "gap.parquet")])
    assert (r.written, r.rejected) == (3, 1)
    (rec,) = iter_rejects(tmp_path / "data")
    assert rec["source"].endswith("gap.parquet") and rec["line"] == 3 and rec["format"] == "parquet"
    assert rec["reason"] == "missing required field(s): event_id"


def test_invalid_json_string_column_is_rejected_with_its_row(tmp_path):
    t = messages_table(_events()[:2], glue_schema("json-strings"))
    t = t.set_column(t.schema.get_field_index("metadata"), "metadata", pa.array(['{"pageId": "/"}', "{not json"]))
    pq.write_table(t, tmp_path / "bad.parquet")
    r = ingest(tmp_path / "data", [str(tmp_path / "bad.parquet")])
    assert (r.written, r.rejected) == (1, 1)
    (rec,) = iter_rejects(tmp_path / "data")
    assert rec["line"] == 2 and rec["reason"].startswith("row 2: column metadata holds invalid JSON")


def test_truncated_parquet_is_one_reject_with_a_reason(tmp_path):
    path = _write_parquet(tmp_path / "t.parquet", _events(), glue_schema("structs"))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # still starts with PAR1
    good = write_jsonl(tmp_path / "good.jsonl", _events()[:1])
    r = ingest(tmp_path / "data", [str(path), str(good)])
    assert (r.written, r.rejected) == (1, 1)
    (rec,) = iter_rejects(tmp_path / "data")
    assert rec["source"].endswith("t.parquet")
    assert rec["reason"].startswith("cannot read the Parquet file: ") and "truncated or damaged?" in rec["reason"]


def test_wrong_schema_is_one_reject_naming_the_columns(tmp_path):
    pq.write_table(pa.table({"city": ["Berlin", "Paris"], "population": [3.6, 2.1]}), tmp_path / "cities.parquet")
    r = ingest(tmp_path / "data", [str(tmp_path / "cities.parquet")])
    assert (r.read, r.written, r.rejected) == (1, 0, 1)
    (rec,) = iter_rejects(tmp_path / "data")
    assert rec["reason"] == ("no event_type, event_id or event_timestamp column, and no message column: "
                             "not RUM events (columns: city, population); rumq reads tables of RUM events "
                             "by column name")


def test_cli_ingest_of_a_damaged_parquet_has_no_traceback(tmp_path):
    from click.testing import CliRunner

    from rumq.cli import cli

    (tmp_path / "x.parquet").write_bytes(b"PAR1" + b"\x00" * 10)
    res = CliRunner().invoke(cli, ["--data", str(tmp_path / "data"), "ingest", str(tmp_path / "x.parquet")])
    assert "Traceback" not in res.output
    assert res.exit_code != 0  # every record read was rejected
    (rec,) = iter_rejects(tmp_path / "data")
    assert rec["reason"].startswith("cannot read the Parquet file")


def test_manifest_records_reconstruction_and_missing_fields(tmp_path):
    from rumq.store import Store

    schema = pa.schema([f for f in glue_schema("structs") if f.name != "event_details"]
                       + [("event_details", pa.struct([("version", pa.string())]))])
    _write_parquet(tmp_path / "thin.parquet", _events(), schema)
    write_jsonl(tmp_path / "j.jsonl", [event("page_view", event_id="j1")])
    ingest(tmp_path / "data", [str(tmp_path / "thin.parquet"), str(tmp_path / "j.jsonl")])
    inputs = {v["path"].rsplit("/", 1)[1]: v for v in Store(tmp_path / "data").load_state().inputs.values()}
    assert "reconstructed" not in inputs["j.jsonl"]
    thin = inputs["thin.parquet"]
    assert thin["reconstructed"] is True
    assert "event_details.duration" in thin["missing_fields"] and "metadata.browserName" not in thin["missing_fields"]
    assert orjson.loads(orjson.dumps(thin["missing_fields"])) == thin["missing_fields"]


def test_a_version_2_dataset_is_refused_with_what_to_do(tmp_path):
    from rumq.errors import DatasetError
    from rumq.store import Store

    write_jsonl(tmp_path / "j.jsonl", [event("page_view", event_id="j1")])
    ingest(tmp_path / "data", [str(tmp_path / "j.jsonl")])
    state = tmp_path / "data" / "_rumq" / "state.json"
    state.write_text(json.dumps({**json.loads(state.read_text()), "version": 2}))
    with pytest.raises(DatasetError) as e:
        Store(tmp_path / "data").load_state()
    assert "rumq migrate" in e.value.hint and "message_reconstructed" in e.value.hint


def test_struct_and_json_string_documents_mixed_in_one_table(tmp_path):
    st, js = glue_schema("structs"), glue_schema("json-strings")
    schema = pa.schema([st.field(n) if n == "metadata" else js.field(n) for n in st.names])
    _write_parquet(tmp_path / "mix.parquet", _events(), schema)
    r = ingest(tmp_path / "data", [str(tmp_path / "mix.parquet")])
    assert (r.written, r.files[0].missing_fields) == (4, [])
    assert _rows(tmp_path / "data", "event_id, browser_name, http_status, error_colno") == [
        ("e1", "Chrome", None, None), ("e2", "Chrome", None, None), ("e3", "Chrome", 503, None),
        ("e4", "Chrome", None, 5)]


def test_forced_parquet_on_a_json_file_and_truncated_orc_are_rejects(tmp_path):
    j = write_jsonl(tmp_path / "j.jsonl", _events()[:1])
    r = ingest(tmp_path / "d1", [str(j)], format="parquet")
    (rec,) = iter_rejects(tmp_path / "d1")
    assert r.rejected == 1 and rec["reason"].startswith("cannot read the Parquet file: ")
    o = tmp_path / "t.orc"
    po.write_table(messages_table(_events(), glue_schema("json-strings")), str(o))
    o.write_bytes(o.read_bytes()[:40])  # still starts with ORC
    r = ingest(tmp_path / "d2", [str(o)])
    (rec,) = iter_rejects(tmp_path / "d2")
    assert (r.files[0].format, r.rejected) == ("orc", 1) and rec["reason"].startswith("cannot read the ORC file: ")


def test_every_rum_key_is_spelled_back_from_lowercase():
    """The real samples' document keys and every field normalize reads survive the SerDe's lowercasing."""
    from rumdata import REAL_SAMPLES

    from rumq.ingest.columnar import SPELLINGS
    from rumq.normalize import MESSAGE_STRUCTURE

    keys: set[str] = set()

    def walk(d):
        for k, v in d.items():
            keys.add(k)
            if isinstance(v, dict):
                walk(v)

    for line in REAL_SAMPLES.read_text().splitlines():
        doc = json.loads(line)
        for part in ("metadata", "user_details", "event_details"):
            if isinstance(doc.get(part), dict):
                walk(doc[part])
    for part in ("metadata", "user_details", "event_details"):
        walk(MESSAGE_STRUCTURE[part])
    assert len(keys) > 60
    assert {k for k in keys if SPELLINGS.get(k.lower(), k.lower()) != k} == set()
