"""Damaged and wrong input: every record accounted for, clear reasons, no tracebacks."""

from __future__ import annotations

import gzip
import json
import os

import pytest
from click.testing import CliRunner
from rumdata import dumps, event, write_jsonl

from rumq import catalog
from rumq.cli import cli, main
from rumq.errors import ExitCode, InputNotFoundError
from rumq.ingest import ingest
from rumq.maintenance import iter_rejects


def _check_accounting(r):
    for f in r.files:
        assert f.read == f.written + f.duplicates + f.rejected, f
    assert r.read == r.written + r.duplicates + r.rejected


def _reasons(data):
    return [(x["line"], x["reason"]) for x in iter_rejects(data)]


def test_bad_lines_are_rejected_with_reasons_and_good_ones_kept(tmp_path):
    good = [event(at=f"2026-11-25T10:00:0{i}") for i in range(3)]
    lines = [
        dumps(good[0]),
        "{not json",
        json.dumps({"hello": "world"}),
        json.dumps({k: v for k, v in good[1].items() if k != "event_id"}),
        json.dumps({**good[1], "event_timestamp": "1764064800000"}),
        json.dumps({**good[1], "event_details": json.dumps(good[1]["event_details"])}),
        json.dumps({**good[1], "event_timestamp": 1764064800}),
        json.dumps({"resource": {"attributes": {}}, "scope": {"name": "otel"}, "body": "x"}),
        json.dumps([1, 2]),
        json.dumps({k: v for k, v in good[1].items() if k not in ("event_type", "event_timestamp")}),
        dumps(good[1]),
        "",
        dumps(good[2]),
    ]
    p = tmp_path / "in.jsonl"
    p.write_text("\n".join(lines) + "\n")
    r = ingest(tmp_path / "data", [str(p)])
    _check_accounting(r)
    assert (r.read, r.written, r.rejected) == (12, 3, 9)
    reasons = dict(_reasons(tmp_path / "data"))
    assert reasons[2].startswith("invalid JSON: Expecting property name enclosed in double quotes at column 2")
    assert reasons[3] == "not a RUM event: no event_type, event_id or event_timestamp"
    assert reasons[4] == "missing required field(s): event_id"
    assert reasons[5].startswith("event_timestamp is a string")
    assert reasons[6] == "event_details must be a JSON object, got varchar"
    assert "seconds instead of milliseconds" in reasons[7]
    assert reasons[8].startswith("mobile (OpenTelemetry) app monitor record")
    assert reasons[9].startswith("not a JSON object")
    assert reasons[10] == "missing required field(s): event_type, event_timestamp"
    rec = next(x for x in iter_rejects(tmp_path / "data") if x["line"] == 2)
    assert rec["raw"] == "{not json" and rec["source"] == str(p) and rec["format"] == "jsonl"


def test_values_that_would_overflow_are_rejected_not_fatal(tmp_path):
    # The typed columns of a rejected record are not computed when their
    # expression could fail (normalize._FAIL_ON_BAD_ROWS): a timestamp near
    # the int64 limit, or a lookup in text that is not JSON, must not stop the ingest.
    good = event(at="2026-11-25T10:00:00")
    lines = [json.dumps({**good, "event_id": f"ts{i}", "event_timestamp": ts})
             for i, ts in enumerate([9.2e18, -9.2e18, 9_000_000_000_000_000_000, 1e300])]
    lines += ['{"event_id": "x", "application_Id": ', dumps(good)]
    p = tmp_path / "in.jsonl"
    p.write_text("\n".join(lines) + "\n")
    r = ingest(tmp_path / "data", [str(p)])
    _check_accounting(r)
    assert (r.read, r.written, r.rejected) == (6, 1, 5)
    reasons = dict(_reasons(tmp_path / "data"))
    assert all("is outside 2000-01-01..2100-01-01" in reasons[n] for n in (1, 2, 3, 4))
    assert reasons[5].startswith("invalid JSON")


def test_bom_crlf_and_blank_lines(tmp_path):
    evs = [event(at="2026-11-25T10:00:00"), event(at="2026-11-25T10:00:01")]
    p = tmp_path / "win.jsonl"
    p.write_bytes(b"\xef\xbb\xbf" + ("\r\n".join(dumps(e) for e in evs) + "\r\n\r\n   \r\n").encode())
    r = ingest(tmp_path / "data", [str(p)])
    assert (r.read, r.written, r.rejected) == (2, 2, 0)


def test_truncated_gzip_keeps_the_good_records(tmp_path):
    evs = [event(at=f"2026-11-25T10:{i // 60:02d}:{i % 60:02d}") for i in range(2000)]
    full = gzip.compress(("\n".join(dumps(e) for e in evs) + "\n").encode())
    p = tmp_path / "cut.gz"
    p.write_bytes(full[: len(full) * 2 // 3])
    r = ingest(tmp_path / "data", [str(p)])
    _check_accounting(r)
    assert 0 < r.written < 2000
    assert r.rejected == 1
    (line, reason), = _reasons(tmp_path / "data")
    assert "truncated gzip stream" in reason and line == r.written + 1
    assert r.files[0].problems


def test_gzip_of_garbage_and_binary_garbage(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "bad.gz").write_bytes(b"\x1f\x8b\x08\x00" + os.urandom(3000))
    (tmp_path / "in" / "noise.bin").write_bytes(bytes(range(256)) * 40)
    good = write_jsonl(tmp_path / "in" / "ok.jsonl", [event()])
    r = ingest(tmp_path / "data", [str(tmp_path / "in")])
    _check_accounting(r)
    assert r.written == 1
    by_file = {os.path.basename(f.path): f for f in r.files}
    assert by_file["bad.gz"].rejected == 1 and by_file["noise.bin"].rejected == 1
    reasons = {os.path.basename(x["source"]): x["reason"] for x in iter_rejects(tmp_path / "data")}
    assert "gzip" in reasons["bad.gz"]
    assert reasons["noise.bin"].startswith("not a recognized RUM export format")
    assert good.exists()


def test_ten_megabyte_line_is_rejected_and_the_rest_kept(tmp_path):
    big = json.dumps({**event(), "event_details": {"version": "1.0.0", "blob": "x" * (10 << 20)}})
    p = tmp_path / "big.jsonl"
    p.write_text(dumps(event(at="2026-11-25T09:00:00")) + "\n" + big + "\n" + dumps(event()) + "\n")
    r = ingest(tmp_path / "data", [str(p)])
    _check_accounting(r)
    assert (r.read, r.written, r.rejected) == (3, 2, 1)
    (line, reason), = _reasons(tmp_path / "data")
    assert line == 2 and "longer than" in reason
    rec = next(iter_rejects(tmp_path / "data"))
    assert len(rec["raw"]) <= 64 << 10


def test_empty_file_and_mixed_formats_in_one_directory(tmp_path):
    from rumdata import firehose_doc, write_export_task, write_firehose

    d = tmp_path / "in"
    d.mkdir()
    (d / "empty.jsonl").write_bytes(b"")
    e1, e2, e3 = event(at="2026-11-25T10:00:00"), event(at="2026-11-25T11:00:00"), event(at="2026-11-25T12:00:00")
    write_jsonl(d / "a.jsonl", [e1])
    write_export_task(d / "export", [e2])
    write_firehose(d / "fh" / "obj", [firehose_doc([e3])])
    r = ingest(tmp_path / "data", [str(d)])
    _check_accounting(r)
    assert r.written == 3
    statuses = sorted((os.path.basename(f.path), f.format, f.status) for f in r.files)
    assert ("empty.jsonl", "empty", "empty") in statuses
    assert ("aws-logs-write-test", "skip", "skipped") in statuses


def test_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(InputNotFoundError, match="no such file"):
        ingest(tmp_path / "data", [str(tmp_path / "nope.jsonl")])
    with pytest.raises(InputNotFoundError, match="matches no file"):
        ingest(tmp_path / "data", [str(tmp_path / "*.gz")])
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    with pytest.raises(InputNotFoundError):
        ingest(tmp_path / "data", [str(tmp_path / "dangling")])
    assert not (tmp_path / "data" / "_rumq" / "state.json").exists()


def test_cli_missing_path_exits_1_without_traceback(tmp_path, capsys):
    with pytest.raises(SystemExit) as ex:
        main(["--data", str(tmp_path / "data"), "ingest", str(tmp_path / "nope")])
    assert ex.value.code == ExitCode.FAILURE
    err = capsys.readouterr().err
    assert "no such file or directory" in err and "Traceback" not in err


def test_cli_strict_exit_code_and_summary(tmp_path):
    p = tmp_path / "in.jsonl"
    p.write_text(dumps(event()) + "\nnot json\n")
    runner = CliRunner()
    res = runner.invoke(cli, ["--data", str(tmp_path / "data"), "ingest", "--json", str(p)])
    assert res.exit_code == 0
    summary = json.loads(res.stdout)
    assert (summary["read"], summary["written"], summary["rejected"]) == (2, 1, 1)
    p2 = tmp_path / "in2.jsonl"
    p2.write_text("also not json\n")
    with pytest.raises(SystemExit) as ex:
        main(["--data", str(tmp_path / "data"), "ingest", "--strict", str(p2)])
    assert ex.value.code == ExitCode.REJECTS
    con = catalog.connect(tmp_path / "data", views=False)
    assert con.execute("SELECT count(*) FROM events").fetchone()[0] == 1


def test_directories_skip_hidden_folders_and_datasets(tmp_path):
    d = tmp_path / "work"
    write_jsonl(d / "exports" / "a.jsonl", [event()])
    write_jsonl(d / ".venv" / "lib" / "junk.jsonl", [event()])  # hidden folder: not an export
    r1 = ingest(d / "rumq-data", [str(d / "exports")])
    assert r1.written == 1
    # ingesting the whole folder again must not read the dataset's own Parquet files
    r2 = ingest(d / "rumq-data", [str(d)])
    assert [f.status for f in r2.files] == ["already-ingested"]
    assert r2.rejected == 0
