"""Damaged and wrong input: every record accounted for, clear reasons, no tracebacks."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from clirun import invoke
from privileges import unprivileged
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


def _no_dataset(data) -> bool:
    return not (data / "_rumq" / "state.json").exists()


def test_a_pipe_or_device_given_as_input_is_an_error_naming_it(tmp_path):
    # A FIFO, /dev/stdin, bash's <(...): read once, so never taken for a file (and not skipped in silence).
    fifo = tmp_path / "export.fifo"
    os.mkfifo(fifo)
    code, out, err = invoke(["--data", str(tmp_path / "data"), "ingest", str(fifo)])
    assert code == ExitCode.FAILURE and out == ""
    assert f"error: {fifo}: not a regular file (a pipe or device?)" in err
    assert "hint: save it to a file first" in err and "Traceback" not in err
    # ... inside a folder too, and matched by a glob
    write_jsonl(tmp_path / "in" / "ok.jsonl", [event()])
    os.mkfifo(tmp_path / "in" / "live.jsonl")
    for arg in (str(tmp_path / "in"), str(tmp_path / "in" / "*.jsonl")):
        with pytest.raises(InputNotFoundError, match=r"live\.jsonl: not a regular file \(a pipe or device\?\)"):
            ingest(tmp_path / "data", [arg])
    assert _no_dataset(tmp_path / "data")


def test_stdin_as_input_is_an_error_not_an_empty_ingest(tmp_path):
    # `rumq ingest /dev/stdin < export.jsonl`, run as a user does: a pipe on stdin.
    data = tmp_path / "data"
    res = subprocess.run([sys.executable, "-c", "from rumq.cli import main; main()", "--data", str(data),
                          "ingest", "/dev/stdin"], input=dumps(event()) + "\n", capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == ExitCode.FAILURE, res.stderr
    assert "error: /dev/stdin: not a regular file (a pipe or device?)" in res.stderr
    assert res.stdout == "" and "Traceback" not in res.stderr
    assert _no_dataset(data)


@pytest.mark.parametrize("content", ["nothing", "hidden", "dataset"])
def test_a_directory_with_nothing_to_ingest_is_an_error_like_an_empty_glob(tmp_path, content):
    d = tmp_path / "exports"
    (d / "sub").mkdir(parents=True)
    if content == "hidden":
        write_jsonl(d / ".old.jsonl", [event()])
        write_jsonl(d / ".cache" / "a.jsonl", [event()])
    elif content == "dataset":
        ingest(d / "rumq-data", [str(write_jsonl(tmp_path / "a.jsonl", [event()]))])
    code, out, err = invoke(["--data", str(tmp_path / "data"), "ingest", str(d)])
    assert code == ExitCode.FAILURE and out == "", err
    assert f"error: {d}: no file to ingest in this directory" in err
    assert "hidden files and folders and rumq datasets inside it are skipped" in err
    # a glob that matches only such folders says what a glob matching nothing says
    code, _, err = invoke(["--data", str(tmp_path / "data"), "ingest", str(tmp_path / "exp*")])
    assert code == ExitCode.FAILURE and "the pattern matches no file" in err
    assert _no_dataset(tmp_path / "data")
    # a glob matching that folder and one with a file is no error
    write_jsonl(tmp_path / "expo" / "b.jsonl", [event()])
    assert ingest(tmp_path / "data", [str(tmp_path / "exp*")]).written == 1


def _expanded(path: Path) -> tuple[int, str]:
    """``expand([path])`` as nobody: stderr holds the files found, or the error."""
    from rumq.ingest.sources import expand

    def run() -> None:
        try:
            print("FILES " + " ".join(sorted(f.path.name for f in expand([str(path)]))), file=sys.stderr)
        except InputNotFoundError as e:
            print(f"ERROR {e}", file=sys.stderr)

    return unprivileged(run)


def test_an_unreadable_folder_inside_an_input_directory_is_an_error_naming_it():
    import shutil
    import tempfile

    # Under /tmp, not tmp_path: nobody must be able to reach the files (pytest's base folder is 0700).
    base = Path(tempfile.mkdtemp(prefix="rumq-unreadable-"))
    sub = base / "in" / "sub"
    try:
        base.chmod(0o755)
        write_jsonl(base / "in" / "ok.jsonl", [event(at="2026-11-25T10:00:00")])
        write_jsonl(sub / "more.jsonl", [event(at="2026-11-25T11:00:00")])
        for d in (base / "in", sub):
            d.chmod(0o755)
        assert _expanded(base / "in") == (0, "FILES more.jsonl ok.jsonl\n")  # readable: both found
        sub.chmod(0)
        for given in (base / "in", sub):
            code, err = _expanded(given)
            assert (code, err) == (0, f"ERROR {sub}: permission denied\n  hint: make the folder readable or "
                                      "leave it out (give the files and folders to read instead)\n")
        # and the command says so, exit 1
        code, err = unprivileged(lambda: main(["--data", str(base / "data"), "ingest", "--json", str(base / "in")]))
        assert code == ExitCode.FAILURE and err.startswith(f"error: {sub}: permission denied\n"), err
        assert not (base / "data" / "_rumq" / "state.json").exists()
    finally:
        sub.chmod(0o755)
        shutil.rmtree(base)


def test_a_dangling_link_is_named_as_given_and_said_to_point_nowhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_jsonl(tmp_path / "d7" / "ok.jsonl", [event()])
    (tmp_path / "d7" / "link.jsonl").symlink_to("/nonexistent")
    for given in ("d7", "d7/link.jsonl", "d7/*.jsonl"):
        code, out, err = invoke(["--data", "data", "ingest", given])
        assert code == ExitCode.FAILURE and out == "", err
        assert err.startswith("error: d7/link.jsonl: a symbolic link to a missing file (/nonexistent)\n"), err
        assert "permission denied" not in err and "Traceback" not in err
    assert not (tmp_path / "data" / "_rumq" / "state.json").exists()


def test_links_to_folders_are_followed_once_each(tmp_path):
    # An export tree assembled from links: the linked folder's files are read (they were
    # skipped in silence), and a link back up the tree reads nothing twice.
    write_jsonl(tmp_path / "elsewhere" / "b.jsonl", [event(at="2026-11-25T10:00:01", event_id="b")])
    write_jsonl(tmp_path / "in" / "a.jsonl", [event(at="2026-11-25T10:00:00", event_id="a")])
    (tmp_path / "in" / "linked").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "in" / "loop").symlink_to(tmp_path / "in")
    r = ingest(tmp_path / "data", [str(tmp_path / "in")])
    assert (r.read, r.written, r.duplicates) == (2, 2, 0)
