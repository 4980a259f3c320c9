"""What an ingest tells people: skipped files named once, rejects grouped by reason,
one reject for a JSON document that is not RUM data, and a non-zero exit when
nothing at all was written."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from rumdata import dumps, event, write_jsonl

from rumq.cli import cli
from rumq.errors import ExitCode
from rumq.generate import generate
from rumq.ingest import ingest
from rumq.ingest.readers import TRUTH, detect
from rumq.ingest.rejects import reason_kind
from rumq.maintenance import iter_rejects, rejects_summary


def _cli(data: Path, *args: str):
    return CliRunner().invoke(cli, ["--data", str(data), "ingest", *args])


def _lines(paths) -> int:
    return sum(1 for p in paths for line in p.read_text().splitlines() if line.strip())


# -- rumq's own ground truth -----------------------------------------------------


def test_ingesting_the_parent_of_generated_exports_skips_the_truth_file_and_names_it(tmp_path):
    work = tmp_path / "work"
    truth = generate(work / "exports", sessions=12, days=1, seed=5, apps=1)
    assert truth.path == work / "exports.truth.json"  # next to the output folder, not in it
    assert next(iter(json.loads(truth.path.read_text()))) == "rumq_ground_truth"
    events = _lines(sorted((work / "exports").rglob("*.jsonl")))

    res = _cli(tmp_path / "data", "--json", str(work))
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert (out["read"], out["written"], out["rejected"]) == (events, events, 0)
    (skipped,) = [f for f in out["files"] if f["status"] != "ingested"]
    assert skipped == {**skipped, "path": str(truth.path), "status": "skipped", "format": "rumq-truth", "read": 0,
                       "reason": "ground truth written by `rumq generate`, not RUM data"}
    assert res.stderr.splitlines()[0] == (
        f"rumq: {truth.path}: ground truth written by `rumq generate`, not RUM data, skipped")

    # Forcing a format does not turn it into data either.
    res = _cli(tmp_path / "data2", "--input-format", "jsonl", str(truth.path))
    assert res.exit_code == 0
    assert res.stderr == f"rumq: {truth.path}: ground truth written by `rumq generate`, not RUM data, skipped\n"


def test_a_truth_file_written_before_the_marker_is_recognized_by_its_shape(tmp_path):
    doc = {"params": {"sessions": 3, "days": 1, "seed": 0}, "apps": {"webshop": {"events": 9}}, "total": {"events": 9}}
    old = tmp_path / "old.truth.json"
    old.write_text(json.dumps(doc, indent=2))
    assert detect(old) == TRUTH
    r = ingest(tmp_path / "data", [str(old)], format="jsonl")
    assert [(f.status, f.format) for f in r.files] == [("skipped", "rumq-truth")]
    # The same keys with other contents are somebody else's document: one reject.
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"params": 1, "apps": 2, "total": 3}, indent=2))
    r = ingest(tmp_path / "data", [str(other)])
    assert (r.read, r.rejected) == (1, 1)


# -- one JSON document ------------------------------------------------------------


@pytest.mark.parametrize("compressed", [False, True])
def test_a_pretty_printed_document_that_is_not_rum_data_is_one_reject(tmp_path, compressed):
    doc = {"name": "inventory", "items": [{"sku": i, "tags": ["a", "b"]} for i in range(40)]}
    text = json.dumps(doc, indent=2)
    assert text.count("\n") > 200  # line by line this was hundreds of rejects
    p = tmp_path / ("doc.json.gz" if compressed else "doc.json")
    p.write_bytes(gzip.compress(text.encode()) if compressed else text.encode())
    res = _cli(tmp_path / "data", str(p))
    assert res.exit_code == ExitCode.REJECTS
    (rec,) = list(iter_rejects(tmp_path / "data"))
    assert rec["line"] == 1 and rec["format"] == "json-document"
    assert rec["reason"] == "JSON document of unknown shape (items, name): not a RUM event or a known export envelope"
    assert json.loads(rec["raw"]) == doc


def test_a_pretty_printed_event_or_array_of_events_is_read_whole(tmp_path):
    e1, e2, e3 = event(at="2026-11-25T10:00:00"), event(at="2026-11-25T10:00:01"), event(at="2026-11-25T10:00:02")
    (tmp_path / "one.json").write_text(json.dumps(e1, indent=2))
    (tmp_path / "two.json").write_text(json.dumps([e2, e3], indent=4))
    r = ingest(tmp_path / "data", [str(tmp_path / "one.json"), str(tmp_path / "two.json")])
    assert (r.read, r.written, r.rejected) == (3, 3, 0)


# -- skipped files: one line, named in the JSON -------------------------------------


def test_reingesting_many_files_prints_one_line_and_the_json_names_each(tmp_path):
    src = tmp_path / "in"
    for i in range(5):
        write_jsonl(src / f"f{i}.jsonl", [event(at=f"2026-11-25T10:00:0{i}")])
    first = _cli(tmp_path / "data", "--json", str(src))
    assert first.exit_code == 0
    ingest_id = json.loads(first.stdout)["ingest_id"]

    res = _cli(tmp_path / "data", str(src))
    assert res.exit_code == 0
    assert res.stdout == ""
    assert res.stderr == "rumq: 5 files already ingested (same content), skipped; the JSON summary names each\n"

    res = _cli(tmp_path / "data", "--json", str(src))
    out = json.loads(res.stdout)
    assert [(Path(f["path"]).name, f["status"], f["reason"]) for f in out["files"]] == [
        (f"f{i}.jsonl", "already-ingested", f"already ingested by {ingest_id} (same content)") for i in range(5)]


def test_a_few_skipped_files_are_named_one_per_line_next_to_the_summary(tmp_path):
    a = write_jsonl(tmp_path / "in" / "a.jsonl", [event(at="2026-11-25T10:00:00")])
    r1 = ingest(tmp_path / "data", [str(a)])
    (tmp_path / "in" / "b.jsonl").write_text("")
    write_jsonl(tmp_path / "in" / "c.jsonl", [event(at="2026-11-25T10:00:01"), event(at="2026-11-25T10:00:02")])
    res = _cli(tmp_path / "data", str(tmp_path / "in"))
    assert res.exit_code == 0
    b = (tmp_path / "in" / "b.jsonl").resolve()
    assert res.stderr.splitlines()[:4] == [
        f"rumq: {a.resolve()}: already ingested by {r1.ingest_id} (same content), skipped",
        f"rumq: {b}: empty file, skipped",
        "files       1 read, 2 skipped (1 already ingested, 1 empty)",
        "records     2",
    ]


# -- reject reasons grouped -----------------------------------------------------------


def test_reject_reasons_group_by_kind_not_by_each_files_first_bytes(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for name, head in (("a.bin", b"PK\x03\x04zipped"), ("b.bin", b"\x00\x01\x02garbage"), ("c.bin", b"%PDF-1.7")):
        (src / name).write_bytes(head)
    (src / "d.jsonl").write_text("{not json\n" + '{"a": }\n' + dumps(event()) + "\n")
    res = _cli(tmp_path / "data", str(src))
    assert res.exit_code == 0  # one event was written
    assert "rejects     not a recognized RUM export format (3); invalid JSON (2)" in res.stderr.splitlines()
    s = rejects_summary(tmp_path / "data")
    assert s["by_reason"] == {"not a recognized RUM export format": 3, "invalid JSON": 2}
    # the records themselves keep their whole reason
    reasons = sorted(r["reason"] for r in iter_rejects(tmp_path / "data"))
    assert reasons[0].startswith("invalid JSON: Expecting")
    assert reasons[2].startswith("not a recognized RUM export format (starts with b'%PDF-1.7')")


@pytest.mark.parametrize(("reason", "kind"), [
    ("invalid JSON: Expecting value at column 3", "invalid JSON"),
    ("not a recognized RUM export format (starts with b'PK\\x03'); use --format to force one",
     "not a recognized RUM export format"),
    ("missing required field(s): event_id, event_type", "missing required field(s)"),
    ("event_timestamp is a string (1764064800000); expected epoch milliseconds as a number",
     "event_timestamp is a string"),
    ("event_timestamp 1764064800 is outside 2000-01-01..2100-01-01 in epoch milliseconds (seconds instead of "
     "milliseconds?)", "event_timestamp is outside 2000-01-01..2100-01-01 in epoch milliseconds"),
    ("corrupt gzip data (Error -3 while decompressing data: invalid block type) after line 4; any records after "
     "it are lost", "corrupt gzip data"),
    ("logEvents[7] has no message string", "logEvents[i] has no message string"),
    ("JSON document of unknown shape (apps, params, total): not a RUM event", "JSON document of unknown shape"),
    ("event_details must be a JSON object, got varchar", "event_details must be a JSON object, got varchar"),
    ("event_timestamp 1709511727000.25 is not a whole number of epoch milliseconds; RUM timestamps are whole "
     "milliseconds: round them in the export", "event_timestamp is not a whole number of epoch milliseconds"),
    ("RumEvents[3] metadata is not valid JSON (Expecting value: line 1 column 1 (char 0)); PutRumEvents sends it "
     "as a JSON object encoded in a string", "RumEvents[i] metadata is not valid JSON"),
    (None, "?"),
])
def test_reason_kind(reason, kind):
    assert reason_kind(reason) == kind


# -- nothing written ------------------------------------------------------------------


def test_an_ingest_that_rejects_every_record_exits_3_without_strict(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"hello": "world"}\n[1, 2]\n{nope\n')
    res = _cli(tmp_path / "data", str(p))
    assert res.exit_code == ExitCode.REJECTS
    rejects_file = next((tmp_path / "data" / "rejects").iterdir())
    assert res.stderr.splitlines()[-2:] == [
        f"error: no record was written: all 3 record(s) read were rejected (see {rejects_file})",
        "  hint: see why with `rumq rejects`; if the files are RUM exports in a layout rumq did not recognize, "
        "force one with --input-format",
    ]
    assert "Traceback" not in res.output
    assert rejects_summary(tmp_path / "data")["rejects"] == 3  # committed all the same
    # The library reports it and leaves the decision to the caller.
    r = ingest(tmp_path / "data2", [str(p)])
    assert r.nothing_written and r.to_json()["nothing_written"] is True


def test_duplicates_are_no_failure_even_when_nothing_is_written(tmp_path):
    evs = [event(at="2026-11-25T10:00:00"), event(at="2026-11-25T10:00:01")]
    a = write_jsonl(tmp_path / "a.jsonl", evs)
    assert _cli(tmp_path / "data", str(a)).exit_code == 0
    res = _cli(tmp_path / "data", "--force", "--json", str(a))  # every record a duplicate
    assert res.exit_code == 0
    out = json.loads(res.stdout)
    assert (out["read"], out["written"], out["duplicates"], out["nothing_written"]) == (2, 0, 2, False)
    # duplicates plus a reject: the data is in the dataset; only --strict fails it
    b = tmp_path / "b.jsonl"
    b.write_text(dumps(evs[0]) + "\nnot json\n")
    assert _cli(tmp_path / "data", str(b)).exit_code == 0
    b2 = tmp_path / "b2.jsonl"
    b2.write_text(dumps(evs[1]) + "\nnot json either\n")
    assert _cli(tmp_path / "data", "--strict", str(b2)).exit_code == ExitCode.REJECTS


def test_a_file_read_that_holds_no_record_is_named_in_the_summary(tmp_path):
    from rumdata import write_firehose

    fh = write_firehose(tmp_path / "fh" / "obj", []).resolve()  # only a CONTROL_MESSAGE
    res = _cli(tmp_path / "data", str(fh))
    assert res.exit_code == 0
    assert res.stderr.splitlines() == [
        "files       1 read",
        "records     0",
        "written     0",
        "duplicates  0",
        "rejected    0",
        f"note        {fh}: no records in it",
        f"note        {fh}: skipped 1 Firehose CONTROL_MESSAGE document(s)",
    ]


# -- reject reasons that say what is wrong and what to do -----------------------------------------


def _reject_reasons(data: Path) -> list[str]:
    return [r["reason"] for r in iter_rejects(data)]


def test_a_fractional_timestamp_in_range_is_not_called_out_of_range(tmp_path):
    good = event(at="2026-11-25T10:00:00")
    p = tmp_path / "frac.jsonl"
    p.write_text(dumps({**good, "event_timestamp": good["event_timestamp"] + 0.25}) + "\n"
                 + dumps({**good, "event_id": "secs", "event_timestamp": 1764064800.5}) + "\n")
    r = ingest(tmp_path / "data", [str(p)])
    assert r.reject_reasons == {"event_timestamp is not a whole number of epoch milliseconds": 1,
                                "event_timestamp is outside 2000-01-01..2100-01-01 in epoch milliseconds": 1}
    reasons = sorted(_reject_reasons(tmp_path / "data"))
    assert reasons[1] == (f"event_timestamp {good['event_timestamp'] + 0.25} is not a whole number of epoch "
                          "milliseconds; RUM timestamps are whole milliseconds: round them in the export")
    assert reasons[0].startswith("event_timestamp 1764064800.5 is outside")  # seconds: still the range hint


def test_putrumevents_bad_metadata_is_grouped_by_what_is_wrong(tmp_path):
    body = {"BatchId": "b", "AppMonitorDetails": {"id": "app", "version": "1"},
            "UserDetails": {"userId": "u", "sessionId": "s"},
            "RumEvents": [{"id": "e1", "timestamp": 1764064800, "type": "com.amazon.rum.page_view_event",
                           "metadata": "{not json", "details": "{}"}]}
    p = tmp_path / "put.jsonl"
    p.write_text(json.dumps(body) + "\n")
    r = ingest(tmp_path / "data", [str(p)])
    assert r.reject_reasons == {"RumEvents[i] metadata is not valid JSON": 1}
    [reason] = _reject_reasons(tmp_path / "data")
    assert reason.startswith("RumEvents[0] metadata is not valid JSON (")
    assert reason.endswith("; PutRumEvents sends it as a JSON object encoded in a string")


def test_a_one_line_json_array_says_what_to_do_and_a_pretty_printed_one_is_read(tmp_path):
    evs = [event(at="2026-11-25T10:00:00"), event(at="2026-11-25T10:00:01")]
    one_line = tmp_path / "array.json"
    one_line.write_text(json.dumps(evs) + "\n")
    r = ingest(tmp_path / "data", [str(one_line)])
    assert (r.read, r.written, r.rejected) == (1, 0, 1)
    [reason] = _reject_reasons(tmp_path / "data")
    assert reason == ("not a JSON object but an array on one line: a RUM event is one JSON object per record; "
                      "write one event per line (JSON lines), or the array over several lines (pretty-printed), "
                      "which is read whole")
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps(evs, indent=2))
    r = ingest(tmp_path / "data2", [str(pretty)])
    assert (r.written, r.rejected) == (2, 0)


def test_the_all_rejected_hint_names_input_format_even_after_input_format(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"hello": "world"}\n')
    res = _cli(tmp_path / "data", str(p), "--input-format", "jsonl")
    assert res.exit_code == ExitCode.REJECTS
    assert res.stderr.rstrip().endswith("force one with --input-format")
    assert "--format" not in res.stderr.replace("--input-format", "")
