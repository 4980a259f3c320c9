"""``rumq insights`` in-process: argument, --file FILE, stdin, formats, --explain, errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from test_insights_golden import build

from rumq.cli import cli, main


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return str(build(tmp_path_factory.mktemp("insights_cli")))


def invoke(data, *args, input=None):
    return CliRunner().invoke(cli, ["--data", data, "insights", *args], input=input, catch_exceptions=False)


def test_query_argument_csv(data):
    r = invoke(data, "stats count(*) as n by metadata.browserName | sort n desc", "--format", "csv")
    assert r.exit_code == 0
    assert r.output.splitlines() == ["metadata.browserName,n", "Chrome,6", "Firefox,4", "Safari,2"]


def test_file_and_front_matter(data, tmp_path):
    f = tmp_path / "q.insights"
    f.write_text("# ---\n# name: x/y\n# ---\nstats count(*) by bin(1h)\n")
    r = invoke(data, "--file", str(f), "--format", "json")
    assert r.exit_code == 0
    assert json.loads(r.output) == [
        {"bin(1h)": "2026-11-25 10:00:00.000", "count(*)": 6},
        {"bin(1h)": "2026-11-25 11:00:00.000", "count(*)": 4},
        {"bin(1h)": "2026-11-25 12:00:00.000", "count(*)": 2},
    ]


def test_stdin_and_window(data):
    r = invoke(data, "--since", "2026-11-25T11:00:00Z", "--until", "2026-11-25T12:00:00Z", "--format", "tsv",
               input="stats count(*) as n\n")
    assert r.exit_code == 0
    assert r.output.splitlines() == ["n", "4"]


def test_max_rows_and_output_file(data, tmp_path):
    out = tmp_path / "r.csv"
    r = invoke(data, "fields event_id", "--max-rows", "2", "--format", "csv", "-o", str(out))
    assert r.exit_code == 0 and r.output == ""
    assert out.read_text().splitlines() == ["event_id", "e12", "e11"]


def test_explain_prints_sql_with_parameters(data):
    r = invoke(data, "--explain", 'filter metadata.pageId = "/cart" | stats count(*)')
    assert r.exit_code == 0
    assert "SELECT" in r.output and "page_id = CAST($p0 AS VARCHAR)" in r.output
    assert "$p0 = '/cart'" in r.output
    assert "result columns (in order): count(*)" in r.output


def test_syntax_error_exit_2(data, capsys):
    with pytest.raises(SystemExit) as ei:
        main(["--data", data, "insights", "fields @timestamp\n| stats count(*) by"])
    assert ei.value.code == 2
    err = capsys.readouterr().err
    assert "line 2, column 18: 'by' needs" in err
    assert "  | stats count(*) by\n" + " " * 19 + "^" in err


def test_unsupported_exit_2(data, capsys):
    with pytest.raises(SystemExit) as ei:
        main(["--data", data, "insights", "anomaly"])
    assert ei.value.code == 2
    assert "'anomaly' command is not supported" in capsys.readouterr().err
