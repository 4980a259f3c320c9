"""Ordinary user mistakes get one ``error:`` line and a hint, never a traceback.

Output files that cannot be written, times a datetime cannot hold, queries
that are not UTF-8, datasets and directories this user may not write, and
Ctrl-C during a query: each exits with its documented code (1 for a file or
runtime problem, 2 for a bad option value, 130 for an interrupt). A traceback
in-process is an exception out of ``main``, so these tests fail on one.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from _query_data import build_dataset
from clirun import invoke
from privileges import unprivileged
from rumdata import event, write_jsonl

REPORTS = Path(__file__).resolve().parents[1] / "reports"


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return build_dataset(tmp_path_factory.mktemp("ds"))


def _one_error(err: str) -> str:
    """The message's first line, after checking it is a clean ``error:`` with a hint."""
    assert "Traceback" not in err, err
    assert err.startswith("error: "), err
    assert "\n  hint: " in err, err
    return err.splitlines()[0]


# -- output files ------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("command", [
    ["run", "pages/drop_off"],
    ["sql", "select 1 AS one"],
    ["insights", "fields event_type | limit 1"],
    ["queries"],
])
def test_output_in_a_missing_directory(data, tmp_path, command, fmt):
    target = tmp_path / "no-such-dir" / f"x.{fmt}"
    code, out, err = invoke(["--data", str(data), *command, "-o", str(target)])
    assert (code, out) == (1, "")
    assert _one_error(err) == f"error: cannot write the output file {target}: No such file or directory"
    assert f"the directory {target.parent} does not exist" in err


def test_output_on_a_special_file_system(data):
    # /proc/version cannot be written, not even by root.
    code, out, err = invoke(["--data", str(data), "sql", "select 1", "-o", "/proc/version"])
    assert (code, out) == (1, "")
    assert _one_error(err).startswith("error: cannot write the output file /proc/version: ")


# -- times out of range ------------------------------------------------------------------


@pytest.mark.parametrize("option,value", [
    ("--since", "99999999d"),
    ("--since", "1000000w"),
    ("--since", "9999-12-31T23:59:59-05:00"),
    ("--since", "0001-01-01T00:00:00+05:00"),
    ("--until", "99999999999999999999d"),
])
def test_time_out_of_range_is_a_usage_error(data, option, value):
    code, out, err = invoke(["--data", str(data), "sql", "select 1", option, value])
    assert (code, out) == (2, "")
    assert "Traceback" not in err
    assert f"Invalid value for '{option}': {option}: '{value}' is out of range" in err
    assert "0001-01-01 .. 9999-12-31 UTC" in err


def test_library_time_out_of_range():
    import datetime as dt

    from rumq.errors import UsageError
    from rumq.report.window import check_spec
    from rumq.timewindow import parse_duration, parse_time

    with pytest.raises(UsageError, match="out of range"):
        parse_time(dt.timedelta(days=999_999_999), option="--since")
    with pytest.raises(ValueError, match="too long: at most 999,999,999d"):
        parse_duration("99999999999999999999d")
    with pytest.raises(ValueError, match="window '99999999999999999999d': duration .* is too long"):
        check_spec("99999999999999999999d")


@pytest.mark.parametrize("at", ["99999999999d", "9999-12-31", "0001-01-01T00:00:00"])
def test_report_at_out_of_range_is_a_usage_error(data, tmp_path, at):
    code, out, err = invoke(["--data", str(data), "report", str(REPORTS / "daily.toml"), "--at", at,
                             "--out", str(tmp_path / "rep")])
    assert (code, out) == (2, "")
    line = _one_error(err)
    assert "is out of range" in line or "starts before 0001-01-01" in line, err
    assert not (tmp_path / "rep").exists()


# -- queries that are not UTF-8 ------------------------------------------------------------------


def test_sql_argument_not_utf8(data):
    # Python hands the undecodable byte of argv over as the surrogate U+DCFF.
    code, out, err = invoke(["--data", str(data), "sql", "select \udcff"])
    assert (code, out) == (2, "")
    assert _one_error(err) == "error: line 1, column 8: the SQL is not valid UTF-8 (byte 0xff)"
    assert "  select \ufffd\n         ^\n" in err


def test_sql_stdin_not_utf8(data):
    code, out, err = invoke(["--data", str(data), "sql", "-"], input=b"select 1,\n  \xff")  # type: ignore[arg-type]
    assert (code, out) == (2, "")
    assert _one_error(err) == "error: line 2, column 3: the SQL is not valid UTF-8 (byte 0xff)"


def test_insights_file_not_utf8(data, tmp_path):
    q = tmp_path / "q.ins"
    q.write_bytes(b"fields \xff")
    code, out, err = invoke(["--data", str(data), "insights", "--file", str(q)])
    assert (code, out) == (2, "")
    assert _one_error(err) == f"error: line 1, column 8: query file {q} is not valid UTF-8 (byte 0xff)"


def test_query_stdin_still_reads_crlf_as_before(data):
    code, out, err = invoke(["--data", str(data), "sql", "-", "-f", "csv"], input=b"select 1 AS one\r\n")  # type: ignore[arg-type]
    assert (code, out, err) == (0, "one\n1\n", "")


# -- directories this user may not write ----------------------------------------------------------


def test_dataset_on_a_special_file_system(tmp_path):
    src = write_jsonl(tmp_path / "five.jsonl", [event() for _ in range(5)])
    code, out, err = invoke(["--data", "/proc/rumq-ds", "ingest", str(src)])
    assert (code, out) == (1, "")
    assert _one_error(err) == ("error: cannot create the lock file /proc/rumq-ds/_rumq/lock: "
                               "No such file or directory")
    assert "/proc cannot hold new files" in err


def test_generate_into_a_special_file_system():
    code, out, err = invoke(["generate", "--sessions", "5", "--out", "/proc/rumq-gen"])
    assert (code, out) == (1, "")
    assert _one_error(err) == "error: cannot create the output directory /proc/rumq-gen: No such file or directory"


def test_report_into_a_special_file_system(data):
    code, out, err = invoke(["--data", str(data), "report", str(REPORTS / "daily.toml"), "--out", "/proc/rumq-rep"])
    assert (code, out) == (1, "")
    err = err.split("\n", 1)[1]  # after the report's log line
    assert _one_error(err).startswith("error: cannot create the lock file /proc/rumq-rep/")


def test_an_os_error_without_a_handler_of_its_own_names_the_file(tmp_path):
    # The CLI's safety net: a dataset whose staging directory is a file.
    src = write_jsonl(tmp_path / "five.jsonl", [event() for _ in range(5)])
    ds = build_dataset(tmp_path)
    shutil.rmtree(ds / "_rumq" / "staging")
    (ds / "_rumq" / "staging").write_text("")
    code, out, err = invoke(["--data", str(ds), "ingest", str(src)])
    assert (code, out) == (1, "")
    assert _one_error(err) == f"error: {ds / '_rumq' / 'staging'}: Not a directory"


def test_generate_truth_under_a_file(tmp_path):
    (tmp_path / "file").write_text("")
    code, out, err = invoke(["generate", "--sessions", "2", "--days", "1", "--out", str(tmp_path / "gen"),
                             "--truth", str(tmp_path / "file" / "truth.json")])
    assert (code, out) == (1, "")
    assert _one_error(err).startswith(f"error: cannot write the ground truth {tmp_path / 'file' / 'truth.json'}: ")


@pytest.mark.parametrize("command", [["ingest", "five.jsonl"], ["compact"]])
def test_dataset_not_writable_by_this_user(command):
    if os.geteuid() != 0:
        pytest.skip("runs the command as user nobody: needs root")
    from rumq.cli import main

    # A directory nobody may read but not write (pytest's tmp_path is private to root).
    root = Path(tempfile.mkdtemp(prefix="rumq-nobody-"))
    try:
        root.chmod(0o755)
        src = write_jsonl(root / "five.jsonl", [event() for _ in range(5)])
        src.chmod(0o644)
        ds = build_dataset(root)  # root/data, owned by root
        for p in [ds, *ds.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
        # A forked child as nobody: a new interpreter may live where nobody can read it.
        code, err = unprivileged(lambda: main(["--data", str(ds), *[str(root / a) if a.endswith(".jsonl") else a
                                                                     for a in command]]))
        assert code == 1, err
        assert _one_error(err) == f"error: cannot create the lock file {ds}/_rumq/lock: Permission denied"
        assert "run as a user who may write there" in err
    finally:
        shutil.rmtree(root)


# -- Ctrl-C ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("statement", [
    "select count(*) from range(100000000000) a",
    # DuckDB alone does not look for the signal during this inequality join (a plain DuckDB process
    # ran on for more than 20 s after SIGINT): rumq.interrupt interrupts it from a watcher thread.
    "select sum(a.range + b.range) from range(10000000) a, range(10000000) b where a.range < b.range",
])
def test_ctrl_c_during_a_query_is_a_clean_interrupt(data, statement):
    # DuckDB answers SIGINT with its own "Query interrupted" error: the same message and code as ingest's.
    child = ("import sys\nfrom rumq.cli import main\nmain(sys.argv[1:])\n")
    p = subprocess.Popen([sys.executable, "-c", child, "--data", str(data), "sql", statement],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)  # past start-up, into the query
    p.send_signal(signal.SIGINT)
    try:
        out, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        pytest.fail("the query ran on for 30 s after Ctrl-C")
    assert (p.returncode, out) == (130, ""), err
    assert err.strip() == "Interrupted.", err



# -- oversized numbers are usage errors -----------------------------------------------------------


@pytest.mark.parametrize("query,column,message", [
    ("limit 99999999999999999999999", 7, "'limit' 99999999999999999999999 is too large: at most 9223372036854775807"),
    ("stats count(*) by bin(99999999999999999999d)", 23,
     "the time period 99999999999999999999d is too long: at most 10,000 years"),
    ("fields datefloor(@timestamp, 1" + "0" * 400 + "y)", 30, "is too long: at most 10,000 years"),
])
def test_insights_oversized_number_is_a_syntax_error(data, query, column, message):
    code, out, err = invoke(["--data", str(data), "insights", query])
    assert (code, out) == (2, "")
    assert "Traceback" not in err
    first = err.splitlines()[0]
    assert first.startswith(f"error: line 1, column {column}: ") and message in first, err
    assert err.splitlines()[2] == "  " + " " * (column - 1) + "^"


def test_insights_largest_limit_and_period_still_run(data):
    query = "stats count(*) as n by bin(3650000d) | limit 9223372036854775807"
    code, out, err = invoke(["--data", str(data), "insights", query, "-f", "csv"])
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == "bin(3650000d),n"


@pytest.mark.parametrize("command", [["sql", "select 1"], ["run", "pages/drop_off"], ["insights", "fields 1"],
                                     ["queries"]])
def test_limit_option_beyond_a_bigint_is_a_usage_error(data, command):
    code, out, err = invoke(["--data", str(data), *command, "--limit", "99999999999999999999"])
    assert (code, out) == (2, "")
    assert ("Invalid value for '--limit': 99999999999999999999 is not in the range 0<=x<=9223372036854775807"
            in err), err


def test_library_limit_beyond_a_bigint(data):
    from rumq.errors import UsageError
    from rumq.runner import run_sql

    with pytest.raises(UsageError, match="from 0 to 9223372036854775807"):
        run_sql(data, "select 1", limit=2**63)
