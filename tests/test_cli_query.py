"""`rumq queries`, `rumq run`, `rumq sql` in-process, and the Dataset API, over a
small ingested dataset (see _query_data.sample_messages for the hand counts)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import warnings
from pathlib import Path

import polars as pl
import pytest
from _query_data import APP, OTHER_APP, PAGE_COUNTS, build_dataset, user_library, write_library
from clirun import invoke

import rumq
from rumq.api import RumqWarning
from rumq.errors import DatasetError, ParameterError, QueryExecutionError, UnknownQueryError
from rumq.store import Store


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return build_dataset(tmp_path_factory.mktemp("ds"))


@pytest.fixture(scope="module")
def lib(tmp_path_factory) -> Path:
    return user_library(tmp_path_factory.mktemp("lib"))


def run(data, lib, *args, env=None):
    return invoke(["--data", str(data), "run", *args, "--queries", str(lib)], env=env)


# -- rumq run ----------------------------------------------------------------------


def test_run_csv_hand_counts(data, lib):
    code, out, err = run(data, lib, "test/page_counts", "--format", "csv")
    assert (code, err) == (0, "")
    assert out == "page,dim,views\n/home,all,4\n/cart,all,3\n/help,all,1\n"


def test_run_identifier_and_value_params(data, lib):
    code, out, err = run(data, lib, "test/page_counts", "-p", "dimension=browser", "-p", "top=3", "-f", "csv")
    assert code == 0, err
    assert out == "page,dim,views\n/home,Chrome,3\n/cart,Chrome,2\n/cart,Firefox,1\n"


def test_run_repeated_list_param(data, lib):
    code, out, _ = run(data, lib, "test/page_counts", "-p", "pages=/cart", "-p", "pages=/help", "-f", "csv")
    assert out == "page,dim,views\n/cart,all,3\n/help,all,1\n"


def test_run_time_window_and_app(data, lib):
    # day 2 only: /home x1, /cart x2
    code, out, _ = run(data, lib, "test/page_counts", "--since", "2026-11-02", "--until", "2026-11-03", "-f", "csv")
    assert (code, out) == (0, "page,dim,views\n/cart,all,2\n/home,all,1\n")
    # ISO timestamps with an offset: 2026-11-01T23:00Z .. 2026-11-02T01:00Z holds 23:59:59 and 00:00:00
    code, out, _ = run(
        data, lib, "test/page_counts", "--since", "2026-11-02T00:00:00+01:00",
        "--until", "2026-11-02T01:00:00Z", "-f", "csv",
    )
    assert out == "page,dim,views\n/home,all,2\n"
    code, out, _ = run(data, lib, "test/page_counts", "--app", OTHER_APP, "-f", "csv")
    assert out == "page,dim,views\n/help,all,1\n"
    code, out, _ = run(data, lib, "test/page_counts", "--app", APP, "--limit", "1", "-f", "csv")
    assert out == "page,dim,views\n/home,all,4\n"


def test_run_json_output(data, lib):
    code, out, _ = run(data, lib, "test/page_counts", "--format", "json", "-p", "top=1")
    assert json.loads(out) == [{"page": "/home", "dim": "all", "views": 4}]


def test_run_to_file_and_parquet(data, lib, tmp_path):
    code, out, err = run(data, lib, "test/page_counts", "-f", "parquet", "-o", str(tmp_path / "r.parquet"))
    assert (code, out, err) == (0, "", "")
    assert pl.read_parquet(tmp_path / "r.parquet").get_column("views").to_list() == [4, 3, 1]
    code, out, err = run(data, lib, "test/page_counts", "-f", "parquet")
    assert code == 2 and out == "" and "-o FILE" in err


def test_unknown_query_is_usage_error_with_did_you_mean(data, lib):
    code, out, err = run(data, lib, "test/page_count")
    assert code == 2 and out == ""
    assert "no query named 'test/page_count'" in err
    assert "did you mean 'test/page_counts'?" in err


@pytest.mark.parametrize(
    "args, expected",
    [
        (["-p", "top=0"], "parameter 'top': invalid value '0' (below the minimum 1); expected an integer >= 1"),
        (["-p", "dimension=os"], "parameter 'dimension': invalid value 'os'; expected one of: none, browser"),
        (["-p", "tpo=3"], "did you mean 'top'?"),
        (["-p", "top"], "must be written key=value"),
        (["--since", "tomorrow"], "--since"),
        (["--limit", "-1"], "--limit"),
        (["--format", "xml"], "--format"),
    ],
)
def test_bad_options_exit_2_naming_the_problem(data, lib, args, expected):
    code, out, err = run(data, lib, "test/page_counts", *args)
    assert code == 2, err
    assert out == ""
    assert expected in err
    assert "Traceback" not in err


def test_empty_window_is_usage_error(data, lib):
    code, _, err = run(data, lib, "test/page_counts", "--since", "2026-11-03", "--until", "2026-11-01")
    assert code == 2 and "not before" in err


def test_missing_dataset_is_runtime_failure(tmp_path, lib):
    code, out, err = run(tmp_path / "nothing", lib, "test/page_counts")
    assert code == 1 and out == "" and "no dataset" in err


def test_coverage_warning_goes_to_stderr(data, lib):
    code, out, err = run(data, lib, "test/coverage", "-f", "json")
    assert code == 0
    assert json.loads(out) == [{"page_views": 8, "coverage": 0.5, "inc": False}]
    assert err.startswith("warning: test/coverage: only 50% of the page views")
    assert "-p include_cookieless=true" in err
    code, out, err = run(data, lib, "test/coverage", "-p", "coverage=0.95")
    assert code == 0 and err == ""


@pytest.mark.parametrize(("coverage", "said"), [
    # Rounded to whole percent and two decimals, 0.8973 read "only 90% ... (coverage 0.90 < 0.90)".
    ("0.8973", "only 89.7% of the page views in the window belong to cookie sessions (coverage 0.897 < 0.90)"),
    ("0.89999", "only 89.999% of the page views in the window belong to cookie sessions (coverage 0.89999 < 0.90)"),
    ("0.8949", "only 89% of the page views in the window belong to cookie sessions (coverage 0.89 < 0.90)"),
])
def test_coverage_warning_states_true_numbers(data, lib, coverage, said):
    code, _, err = run(data, lib, "test/coverage", "-p", f"coverage={coverage}")
    assert code == 0 and said in err


def test_override_notice_on_stderr(data, lib, tmp_path):
    other = write_library(tmp_path / "other", {"test/page_counts.sql": PAGE_COUNTS.replace("LIMIT $top", "LIMIT 1")})
    code, out, err = invoke(
        ["--data", str(data), "run", "test/page_counts", "-f", "csv", "--queries", str(other)],
        env={"RUMQ_QUERIES": str(lib)},
    )
    assert code == 0
    assert out == "page,dim,views\n/home,all,4\n"
    assert err == (
        f"notice: query 'test/page_counts' from {other / 'test/page_counts.sql'} "
        f"overrides {lib / 'test/page_counts.sql'}\n"
    )


def test_table_output_is_readable(data, lib):
    code, out, _ = run(data, lib, "test/page_counts")
    assert out.splitlines() == [
        "page   dim  views",
        "-----  ---  -----",
        "/home  all      4",
        "/cart  all      3",
        "/help  all      1",
    ]


# -- rumq queries ------------------------------------------------------------------


def test_queries_lists_names_and_descriptions(lib, tmp_path):
    broken = write_library(tmp_path / "broken", {"x/bad.sql": "SELECT 1\n"})
    code, out, err = invoke(["queries", "--queries", str(lib), "--queries", str(broken), "-f", "json"])
    assert code == 0
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["test/page_counts"]["description"] == "Page views per page (test query)"
    assert rows["test/page_counts"]["params"] == "top, dimension, pages"
    assert rows["test/coverage"]["source"] == str(lib)
    assert "x/bad" not in rows
    assert f"warning: {broken / 'x/bad.sql'}:1: missing front matter" in err
    code, out, _ = invoke(["queries", "--queries", str(lib)])
    line = next(x for x in out.splitlines() if x.startswith("test/page_counts "))
    assert line.split("  ")[0] == "test/page_counts"
    assert "  Page views per page (test query)  " in line and line.endswith("top, dimension, pages")


def test_queries_show(lib):
    code, out, err = invoke(["queries", "show", "test/page_counts", "--queries", str(lib)])
    assert code == 0, err
    assert out.startswith(f"test/page_counts (sql, from {lib}: {lib / 'test/page_counts.sql'})\n")
    assert "  top        int, default 10; an integer >= 1. Number of pages" in out
    assert "  dimension  str, default none; one of: none, browser" in out
    assert out.rstrip("\n").endswith(PAGE_COUNTS.rstrip("\n"))
    # the group's --queries applies to show as well
    code, out2, _ = invoke(["queries", "--queries", str(lib), "show", "test/page_counts"])
    assert out2 == out
    code, out, err = invoke(["queries", "show", "test/nope", "--queries", str(lib)])
    assert code == 2 and "no query named 'test/nope'" in err


# -- rumq sql ----------------------------------------------------------------------


def test_sql_over_the_views(data):
    code, out, err = invoke(
        ["--data", str(data), "sql", "-f", "csv",
         "SELECT event_date, count(*) AS n FROM events GROUP BY ALL ORDER BY 1"]
    )
    assert (code, err) == (0, "")
    assert out == "event_date,n\n2026-11-01,4\n2026-11-02,3\n2026-11-03,1\n"


def test_sql_from_stdin_with_window(data):
    code, out, _ = invoke(
        ["--data", str(data), "sql", "--since", "2026-11-03", "-f", "csv", "-"],
        input="SELECT page_id FROM events",
    )
    assert (code, out) == (0, "page_id\n/help\n")


def test_sql_error_is_duckdb_message_not_traceback(data):
    code, out, err = invoke(["--data", str(data), "sql", "SELECT nope FROM events"])
    assert code == 1 and out == ""
    assert err.startswith("error: SQL failed: Binder Error")
    assert "nope" in err and "Traceback" not in err
    code, _, err = invoke(["--data", str(data), "sql", "SELEC 1"])
    assert code == 1 and "Parser Error" in err


def test_time_window_prunes_partitions(data, tmp_path):
    """A one-day window reads only that day's files: the others are made unreadable
    and the one-day query still succeeds, while an all-days query fails on them."""
    import shutil

    copy = tmp_path / "pruned"
    shutil.copytree(data, copy)
    files = Store(copy).event_files()
    day2 = [f for f in files if "event_date=2026-11-02" in f]
    assert day2 and len(files) > len(day2)
    for f in files:
        if f not in day2:
            Path(f).write_bytes(b"this is not parquet")
    code, out, err = invoke(
        ["--data", str(copy), "sql", "--since", "2026-11-02", "--until", "2026-11-03", "-f", "csv",
         "SELECT count(*) AS n, min(event_date) AS d FROM events"]
    )
    assert (code, out) == (0, "n,d\n3,2026-11-02\n"), err
    code, _, err = invoke(["--data", str(copy), "sql", "SELECT count(*) FROM events"])
    assert code == 1 and err.startswith("error: cannot open the dataset") and "Traceback" not in err


# -- the Python API ----------------------------------------------------------------


def test_api_run_matches_cli(data, lib):
    ds = rumq.open(str(data), queries=[str(lib)])
    df = ds.run("test/page_counts", since=dt.date(2026, 11, 2), until="2026-11-03", top=5)
    assert df.to_dicts() == [
        {"page": "/cart", "dim": "all", "views": 2},
        {"page": "/home", "dim": "all", "views": 1},
    ]
    code, out, _ = run(data, lib, "test/page_counts", "--since", "2026-11-02", "--until", "2026-11-03", "-f", "json")
    assert json.loads(out) == df.to_dicts()
    assert ds.run("test/page_counts", dimension="browser", pages=["/home"]).to_dicts() == [
        {"page": "/home", "dim": "Chrome", "views": 3},
        {"page": "/home", "dim": "Firefox", "views": 1},
    ]


def test_api_errors(data, lib):
    ds = rumq.open(str(data), queries=[str(lib)])
    with pytest.raises(UnknownQueryError):
        ds.run("test/nope")
    with pytest.raises(ParameterError, match="'top'"):
        ds.run("test/page_counts", top="many")
    with pytest.raises(QueryExecutionError, match="Catalog Error"):
        ds.sql("SELECT * FROM no_such_view")
    with pytest.raises(DatasetError):
        rumq.open(str(data / "missing")).sql("SELECT 1")


def test_api_coverage_warning(data, lib):
    ds = rumq.open(str(data), queries=[str(lib)])
    with pytest.warns(RumqWarning, match="only 50% of the page views") as caught:
        ds.run("test/coverage")
    assert caught[0].filename == __file__  # the caller's line, not rumq's
    seen: list[str] = []
    ds = rumq.Dataset(str(data), queries=[str(lib)], notify=seen.append)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds.run("test/coverage", coverage=0.2)
    assert len(seen) == 1 and "only 20%" in seen[0]


def test_api_sql_params_and_intervals(data):
    ds = rumq.open(str(data))
    df = ds.sql(
        "SELECT page_id, max(event_time) - min(event_time) AS span FROM events "
        "WHERE page_id = $page GROUP BY ALL",
        page="/cart",
    )
    assert df.schema["span"] == pl.Duration("us")
    # /cart: 2026-11-01 06:00 .. 2026-11-02 07:00
    assert df.to_dicts() == [{"page_id": "/cart", "span": dt.timedelta(hours=25)}]


def test_api_queries_lists_infos(data, lib):
    ds = rumq.open(str(data), queries=[str(lib)])
    names = [q.name for q in ds.queries()]
    assert {"test/page_counts", "test/coverage"} <= set(names)
    assert names == sorted(names)
    assert ds.query("test/page_counts").param("top").default == 10
    assert [p for p in ds.query_problems() if str(lib) in p] == []


def test_api_events_lazyframe_and_relation(data):
    ds = rumq.open(str(data))
    lf = ds.events(since="2026-11-02", until="2026-11-03")
    assert isinstance(lf, pl.LazyFrame)
    got = lf.select("event_date", "page_id").sort("page_id").collect()
    assert got.get_column("page_id").to_list() == ["/cart", "/cart", "/home"]
    assert got.schema["event_date"] == pl.Date
    assert ds.events(app=OTHER_APP).collect().get_column("page_id").to_list() == ["/help"]
    # a window without files still has the columns
    empty = ds.events(since="2030-01-01").collect()
    assert empty.height == 0 and "event_time" in empty.columns
    rel = ds.relation(since="2026-11-03")
    assert rel.aggregate("count(*)").fetchall() == [(1,)]
    con = ds.connect(until="2026-11-02")
    assert con.sql("SELECT count(*) FROM events").fetchall() == [(4,)]


def test_insights_named_query_path(data, tmp_path):
    text = (
        "# ---\n# name: logs/count\n# description: count page views\n"
        "# params:\n#   - {name: page, type: str, default: /cart}\n# ---\n"
        "filter event_type = 'com.amazon.rum.page_view_event' and metadata.pageId = {{page}}\n"
        "| stats count(*) as n\n"
    )
    ilib = write_library(tmp_path / "ilib", {"logs/count.insights": text})
    ds = rumq.open(str(data), queries=[str(ilib)])
    assert ds.run("logs/count").get_column("n").to_list() == [3]
    assert ds.insights("stats count(*) as n", since="2026-11-03").get_column("n").to_list() == [1]


def test_query_modules_do_not_import_heavy_libraries():
    code = (
        "import sys, rumq.cli, rumq.cli.query_cmd, rumq.cli.options, rumq.library, rumq.params, "
        "rumq.timewindow, rumq.render, rumq.runner, rumq.api\n"
        "from rumq.cli import LazyGroup, cli\n"
        "import click\n"
        "ctx = click.Context(cli)\n"
        "for n in ('queries', 'run', 'sql'): cli.get_command(ctx, n)\n"
        "print(sorted(m for m in ('duckdb', 'polars', 'pyarrow', 'yaml') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_api_sees_edited_query_files(data, tmp_path):
    root = write_library(tmp_path / "edit", {"t/q.sql": PAGE_COUNTS.replace("test/page_counts", "t/q")})
    ds = rumq.open(str(data), queries=[str(root)])
    assert ds.run("t/q", top=1).get_column("views").to_list() == [4]
    (root / "t/q.sql").write_text(PAGE_COUNTS.replace("test/page_counts", "t/q").replace("count(*)", "count(*) * 10"))
    assert ds.run("t/q", top=1).get_column("views").to_list() == [40]
