"""Issue 13, "one CLI vocabulary": --format/-f, -o FILE by extension, --limit, list and
choice parameters, --since words, --app by id/prefix/name, empty windows, query folders.

Every command runs in-process through the real entry point (``rumq.cli.main``) over
a small dataset built here, so exit codes and both streams are the real ones.

The dataset (all on 2026-11-25, UTC):

* app SHOP = 9c420d0e-23f2-... named "shop" (GetAppMonitorData export): session s-1,
  session_start 10:00:00 + page views / 10:00:00 and /a 10:00:30 -> 3 events;
* app TWIN = 9c420d0e-0000-... (same first 8 characters as SHOP), no name: session s-2,
  session_start + page view /b at 11:00:00 -> 2 events;
* app OTHER = e49c19b5-..., no name: one page view /c at 12:00:00 (cookieless) -> 1 event.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from rumdata import APP as SHOP
from rumdata import NIL, event, session_events, write_appmonitor_data, write_jsonl

import rumq
from rumq.cli import main
from rumq.errors import UsageError

TWIN = "9c420d0e-0000-4000-8000-000000000002"
OTHER = "e49c19b5-0000-4000-8000-000000000003"
RANGE = "the dataset holds events from 2026-11-25T10:00:00Z to 2026-11-25T12:00:00Z"


def invoke(args: list[str], *, input: str | None = None) -> tuple[int, str, str]:
    """Run the console entry point in-process; (exit code, stdout, stderr)."""
    runner = CliRunner()
    with runner.isolation(input=input, env={"RUMQ_QUERIES": ""}) as (out, err, _):
        try:
            main(args)
            code = 0
        except SystemExit as e:
            code = int(e.code or 0)
    return code, out.getvalue().decode(), err.getvalue().decode()


@pytest.fixture(scope="module")
def src(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("vocab-src")
    shop = session_events("s-1", "u-1", ["/", "/a"])
    twin = session_events("s-2", "u-2", ["/b"], start="2026-11-25T11:00:00")
    for e in twin:
        e["application_id"] = TWIN
    other = [event(at="2026-11-25T12:00:00", session=NIL, user=NIL, page="/c", app=OTHER)]
    write_appmonitor_data(tmp / "shop.json", shop)
    write_jsonl(tmp / "rest.jsonl", twin + other)
    return tmp


@pytest.fixture(scope="module")
def data(src, tmp_path_factory) -> Path:
    from rumq.ingest import ingest

    d = tmp_path_factory.mktemp("vocab") / "data"
    report = ingest(d, [str(src)])
    assert (report.written, report.rejected) == (6, 0)
    return d


@pytest.fixture(scope="module")
def lib(tmp_path_factory) -> Path:
    """A user library with a required list parameter and a choice parameter."""
    root = tmp_path_factory.mktemp("vocab-lib")
    (root / "t").mkdir()
    (root / "t" / "pages.sql").write_text(
        "-- ---\n"
        "-- name: t/pages\n"
        "-- description: Page views of the given pages\n"
        "-- definition: |\n"
        "--   Counts page_view events whose page id is one of the given pages.\n"
        "-- params:\n"
        "--   - {name: pages, type: list, help: Pages to count}\n"
        "--   - {name: kind, type: str, default: page_view, choices: [page_view, SESSION_START], help: Event}\n"
        "-- columns:\n"
        "--   - {name: page, type: VARCHAR, meaning: page id}\n"
        "--   - {name: n, type: BIGINT, meaning: events}\n"
        "-- ---\n"
        "SELECT page_id AS page, count(*) AS n FROM events\n"
        "WHERE list_contains($pages::VARCHAR[], page_id) AND event_name = lower($kind)\n"
        "GROUP BY ALL ORDER BY page\n"
    )
    return root


COUNT = "SELECT count(*) AS n FROM events"


# -- --format and -f: one meaning on every command ---------------------------------------------


@pytest.mark.parametrize("flag", ["-f", "--format"])
def test_format_and_f_mean_the_output_format_on_every_data_command(data, lib, flag):
    d = ["--data", str(data)]
    code, out, err = invoke([*d, "sql", flag, "json", COUNT])
    assert (code, json.loads(out), err) == (0, [{"n": 6}], "")
    code, out, err = invoke([*d, "run", "t/pages", "-p", "pages=/a", flag, "csv", "--queries", str(lib)])
    assert (code, out, err) == (0, "page,n\n/a,1\n", "")
    code, out, err = invoke([*d, "insights", "stats count(*) as n", flag, "jsonl"])
    assert (code, out, err) == (0, '{"n":6}\n', "")
    code, out, _ = invoke(["queries", "--queries", str(lib), flag, "json"])
    assert code == 0 and "t/pages" in {r["name"] for r in json.loads(out)}
    code, out, err = invoke([*d, "info", flag, "json"])
    assert (code, err) == (0, "") and json.loads(out)["events"] == 6
    code, out, err = invoke([*d, "rejects", flag, "json"])
    assert (code, json.loads(out), err) == (0, {"rejects": 0, "by_reason": {}, "by_source": {}}, "")


def test_format_names_are_case_insensitive(data):
    code, out, _ = invoke(["--data", str(data), "sql", "--format", "CSV", COUNT])
    assert (code, out) == (0, "n\n6\n")


def test_json_stays_an_alias_of_format_json(data):
    a = invoke(["--data", str(data), "info", "--json"])
    b = invoke(["--data", str(data), "info", "--format", "json"])
    assert a[0] == 0 and json.loads(a[1])["events"] == 6
    assert json.loads(a[1]) == {**json.loads(b[1]), "bytes_on_disk": json.loads(a[1])["bytes_on_disk"]}
    code, out, err = invoke(["--data", str(data), "info", "--json", "--format", "table"])
    assert (code, out) == (2, "") and "--json contradicts --format table" in err


def test_ingest_prints_its_summary_with_format_json(src, tmp_path):
    code, out, err = invoke(["--data", str(tmp_path / "d"), "ingest", str(src), "-f", "json"])
    assert code == 0, err
    s = json.loads(out)
    assert (s["read"], s["written"], s["rejected"]) == (6, 6, 0)


def test_ingest_input_format_and_the_old_format_spelling(src, tmp_path):
    jsonl = str(src / "rest.jsonl")
    code, out, err = invoke(["--data", str(tmp_path / "a"), "ingest", "--input-format", "jsonl", jsonl])
    assert (code, out) == (0, "") and "written     3" in err
    code, out, err = invoke(["--data", str(tmp_path / "b"), "ingest", "--format", "jsonl", jsonl])
    assert (code, out) == (0, "")
    assert err.startswith(
        "warning: `--format jsonl` for the input is deprecated: use --input-format jsonl "
        "(--format is the output format on every command)\n"
    )
    assert "written     3" in err
    code, _, err = invoke(["--data", str(tmp_path / "c"), "ingest", "--format", "firehose",
                           "--input-format", "jsonl", jsonl])
    assert code == 2 and "--format firehose contradicts --input-format jsonl" in err
    assert not (tmp_path / "c").exists()


def test_insights_file_option_and_the_old_f_file(data, tmp_path):
    q = tmp_path / "n.insights"
    q.write_text("stats count(*) as n\n")
    code, out, err = invoke(["--data", str(data), "insights", "--file", str(q), "-f", "csv"])
    assert (code, out, err) == (0, "n\n6\n", "")
    code, out, err = invoke(["--data", str(data), "insights", "-f", str(q), "--format", "csv"])
    assert (code, out) == (0, "n\n6\n")
    assert err == (f"warning: `-f {q}` as a query file is deprecated: use --file {q} "
                   "(-f is --format on every command)\n")
    code, out, err = invoke(["--data", str(data), "insights", "-f", "csv", "--format", "json", "stats count(*)"])
    assert (code, out) == (2, "") and "--format given twice: csv and json" in err
    code, out, err = invoke(["--data", str(data), "insights", "-f", "nosuchformat", "stats count(*)"])
    assert (code, out) == (2, "") and "'nosuchformat' is not one of" in err


def test_limit_is_the_row_cap_everywhere_and_max_rows_still_works(data, lib):
    d = ["--data", str(data)]
    q = "fields @timestamp | sort @timestamp asc"
    code, out, _ = invoke([*d, "insights", q, "--limit", "2", "-f", "csv"])
    assert (code, out.splitlines()) == (0, ["@timestamp", "2026-11-25 10:00:00.000", "2026-11-25 10:00:00.000"])
    code, out2, err = invoke([*d, "insights", q, "--max-rows", "2", "-f", "csv"])
    assert (code, out2, err) == (0, out, "")
    code, _, err = invoke([*d, "insights", q, "--max-rows", "2", "--limit", "3"])
    assert code == 2 and "give the row cap once, with --limit N" in err
    code, out, _ = invoke([*d, "sql", "--limit", "1", "-f", "csv", "SELECT page_id FROM events ORDER BY 1"])
    assert out == "page_id\n/\n"
    code, out, _ = invoke([*d, "run", "t/pages", "-p", "pages=/a,/b", "--limit", "1", "-f", "csv",
                           "--queries", str(lib)])
    assert out == "page,n\n/a,1\n"
    code, out, _ = invoke(["queries", "--queries", str(lib), "--limit", "1", "-f", "csv"])
    assert code == 0 and len(out.splitlines()) == 2
    help_text = invoke(["insights", "--help"])[1]
    assert "--limit" in help_text and "--max-rows" not in help_text


# -- -o FILE: the extension selects the format ----------------------------------------------------


@pytest.mark.parametrize(
    "name, expected",
    [
        ("r.csv", "n\n6\n"),
        ("r.tsv", "n\n6\n"),
        ("r.json", '[{"n":6}]\n'),
        ("r.jsonl", '{"n":6}\n'),
        ("r.md", "| n |\n|---:|\n| 6 |\n"),
        ("r.txt", "n\n-\n6\n"),  # no known extension: the default table
        ("R.CSV", "n\n6\n"),
    ],
)
def test_output_extension_selects_the_format(data, tmp_path, name, expected):
    target = tmp_path / name
    code, out, err = invoke(["--data", str(data), "sql", "-o", str(target), COUNT])
    assert (code, out, err) == (0, "", "")
    assert target.read_text() == expected


def test_output_parquet_by_extension_on_run_sql_insights_queries(data, lib, tmp_path):
    d = ["--data", str(data)]
    for args in (
        [*d, "sql", COUNT],
        [*d, "insights", "stats count(*) as n"],
    ):
        target = tmp_path / f"{args[2]}.parquet"
        code, out, err = invoke([*args, "-o", str(target)])
        assert (code, out, err) == (0, "", "")
        assert pl.read_parquet(target).to_dicts() == [{"n": 6}]
    target = tmp_path / "run.parquet"
    code, _, _ = invoke([*d, "run", "t/pages", "-p", "pages=/,/a", "-o", str(target), "--queries", str(lib)])
    assert code == 0 and pl.read_parquet(target).to_dicts() == [{"page": "/", "n": 1}, {"page": "/a", "n": 1}]
    target = tmp_path / "queries.parquet"
    code, _, _ = invoke(["queries", "--queries", str(lib), "-o", str(target)])
    assert code == 0 and "t/pages" in pl.read_parquet(target).get_column("name").to_list()


@pytest.mark.parametrize("command", ["sql", "insights"])
def test_a_contradicting_format_and_extension_is_a_usage_error(data, tmp_path, command):
    target = tmp_path / "x.parquet"
    text = COUNT if command == "sql" else "stats count(*)"
    code, out, err = invoke(["--data", str(data), command, "-o", str(target), "--format", "csv", text])
    assert (code, out) == (2, "")
    assert (f"-o {target} is a .parquet file but --format is csv: drop --format "
            "(the extension selects parquet) or give a matching file name") in err
    assert not target.exists()
    # agreeing is fine
    code, _, _ = invoke(["--data", str(data), command, "-o", str(target), "--format", "parquet", text])
    assert code == 0 and target.exists()


def test_parquet_to_stdout_is_refused_before_running(data):
    code, out, err = invoke(["--data", str(data), "sql", "-f", "parquet", "SELECT nope"])
    assert (code, out) == (2, "") and "parquet output is binary: give a file with -o FILE" in err


# -- list and choice parameters ---------------------------------------------------------------------


def test_list_parameter_as_json_array(data, lib):
    code, out, err = invoke(["--data", str(data), "run", "t/pages", "-p", 'pages=["/a", "/b"]', "-f", "csv",
                             "--queries", str(lib)])
    assert (code, out, err) == (0, "page,n\n/a,1\n/b,1\n", "")


@pytest.mark.parametrize("value", ["pages=", "pages=[]", "pages= , "])
def test_an_empty_required_list_exits_2(data, lib, value):
    code, out, err = invoke(["--data", str(data), "run", "t/pages", "-p", value, "--queries", str(lib)])
    assert (code, out) == (2, "")
    assert err.startswith(
        "error: parameter 'pages' of query 't/pages' needs at least one value; "
        "expected a comma-separated list or a JSON array\n"
    )


def test_choice_parameter_is_case_insensitive(data, lib):
    base = ["--data", str(data), "run", "t/pages", "-p", "pages=/,/b", "-f", "csv", "--queries", str(lib)]
    code, out, err = invoke([*base, "-p", "kind=session_start"])
    assert (code, out, err) == (0, "page,n\n/,1\n/b,1\n", "")
    code, out, _ = invoke([*base, "-p", "kind=PAGE_VIEW"])
    assert (code, out) == (0, "page,n\n/,1\n/b,1\n")
    code, _, err = invoke([*base, "-p", "kind=click"])
    assert code == 2 and "expected one of: page_view, SESSION_START" in err


def test_api_list_items_keep_their_commas(data, lib):
    ds = rumq.Dataset(str(data), queries=[str(lib)])
    # "/a,/b" is one (non-existent) page, not two
    assert ds.run("t/pages", pages=["/a,/b"]).height == 0
    assert ds.run("t/pages", pages=["/a", "/b"]).get_column("n").to_list() == [1, 1]


# -- --since / --until words ---------------------------------------------------------------------------


def test_since_today_and_yesterday_are_accepted(data):
    for word in ("today", "yesterday", "Yesterday"):
        code, out, err = invoke(["--data", str(data), "sql", "--since", word, "-f", "csv", COUNT])
        # the data is from 2026-11-25: a window from today holds nothing, and says so
        assert (code, out) == (0, "n\n0\n")
        assert err.startswith("warning: no events in the window ") and err.endswith(f"; {RANGE}\n")
    code, out, err = invoke(["--data", str(data), "sql", "--until", "today", "-f", "csv", COUNT])
    assert (code, out, err) == (0, "n\n6\n", "")


# -- --app: id, unique prefix, name -----------------------------------------------------------------


@pytest.mark.parametrize(
    "app, n",
    [(SHOP, 3), ("shop", 3), ("SHOP", 3), ("e49c", 1), (OTHER, 1), ("9c420d0e-0", 2), (TWIN, 2)],
)
def test_app_by_id_prefix_or_name(data, app, n):
    code, out, err = invoke(["--data", str(data), "sql", "--app", app, "-f", "csv", COUNT])
    assert (code, out, err) == (0, f"n\n{n}\n", "")


def test_an_unknown_app_is_a_usage_error_with_did_you_mean(data):
    code, out, err = invoke(["--data", str(data), "sql", "--app", "shp", COUNT])
    assert (code, out) == (2, "")
    assert err.startswith(
        "error: --app 'shp': no application with that id, id prefix or name in the dataset\n"
        "  hint: did you mean 'shop'? applications (`rumq info` lists them): "
    )
    assert f"{SHOP} (shop)" in err and TWIN in err and OTHER in err


def test_an_ambiguous_app_prefix_is_a_usage_error(data):
    code, out, err = invoke(["--data", str(data), "run", "sessions/summary", "--app", "9c420d0e"])
    assert (code, out) == (2, "")
    assert "--app '9c420d0e': the id prefix matches 2 applications" in err
    assert SHOP in err and TWIN in err


def test_the_notebook_api_resolves_apps_too(data):
    ds = rumq.open(str(data))
    assert ds.sql(COUNT, app="shop").item() == 3
    assert ds.events(app="e49c").collect().get_column("page_id").to_list() == ["/c"]
    assert ds.run("sessions/summary", app="shop").get_column("sessions").item() == 1
    with pytest.raises(UsageError, match="no application with that id"):
        ds.sql(COUNT, app="nope")


# -- a window without data says so --------------------------------------------------------------------


def test_an_empty_window_says_so_with_the_dataset_range(data):
    code, out, err = invoke(["--data", str(data), "run", "sessions/summary", "--since", "2026-11-26",
                             "-f", "json"])
    assert code == 0
    assert json.loads(out)[0]["sessions"] == 0
    assert err == f"warning: no events in the window 2026-11-26 00:00:00 .. (end); {RANGE}\n"
    code, out, err = invoke(["--data", str(data), "insights", "stats count(*) as n", "--app", "e49c",
                             "--until", "2026-11-25T11:00:00Z", "-f", "csv"])
    assert (code, out) == (0, "n\n0\n")
    assert err == f"warning: no events in the window (start) .. 2026-11-25 11:00:00 for --app e49c; {RANGE}\n"
    # a window with data is silent (app shop: cookie sessions only, so no coverage warning)
    code, _, err = invoke(["--data", str(data), "run", "sessions/summary", "--since", "2026-11-25",
                           "--app", "shop", "-f", "csv"])
    assert (code, err) == (0, "")


def test_the_api_warns_about_an_empty_window(data):
    seen: list[str] = []
    ds = rumq.Dataset(str(data), notify=seen.append)
    assert ds.sql(COUNT, since="2026-11-25T12:00:01Z").item() == 0
    assert seen == [f"warning: no events in the window 2026-11-25 12:00:01 .. (end); {RANGE}"]


# -- query folders ------------------------------------------------------------------------------------


def test_a_query_folder_name_lists_its_queries(data):
    code, out, err = invoke(["--data", str(data), "run", "sessions"])
    assert (code, out) == (2, "")
    assert err == ("error: no query named 'sessions'; 'sessions/' is a folder of queries\n"
                   "  hint: run one of: sessions/list, sessions/summary\n")
    code, _, err = invoke(["--data", str(data), "run", "performance/"])
    assert code == 2 and "run one of: performance/page_load, performance/web_vitals" in err


def test_a_report_on_an_empty_window_says_why_its_numbers_are_zero(data, tmp_path):
    (tmp_path / "r.toml").write_text(
        'title = "t"\nwindow = "yesterday"\n'
        '[[section]]\nid = "summary"\ntitle = "s"\nquery = "sessions/summary"\nchart = "table"\n'
        'thresholds = ["sessions < 1"]\n'
    )
    code, out, err = invoke(["--data", str(data), "report", str(tmp_path / "r.toml"), "--at", "2026-11-27",
                             "--out", str(tmp_path / "o")])
    assert code == 5 and out.strip() == str(tmp_path / "o" / "2026-11-27")
    assert (f"rumq report: summary: warning: no events in the window 2026-11-27 00:00:00 .. "
            f"2026-11-28 00:00:00; {RANGE}\n") in err
    assert "ALARM: " in err


# -- the vocabulary itself, over every command ----------------------------------------------------------


def _options():
    import click

    from rumq.cli import COMMANDS, cli

    for name in sorted(COMMANDS):
        cmd = cli.get_command(click.Context(cli), name)
        cmds = [(name, cmd)] + ([(f"{name} {s}", c) for s, c in cmd.commands.items()]
                                if isinstance(cmd, click.Group) else [])
        for full, c in cmds:
            for p in c.params:
                if isinstance(p, click.Option):
                    yield full, p


def test_f_is_format_wherever_it_exists_and_data_commands_have_format():
    with_f = {name for name, p in _options() if "-f" in p.opts}
    assert all("--format" in p.opts for name, p in _options() if "-f" in p.opts)
    assert with_f == {"info", "ingest", "insights", "queries", "rejects", "run", "session", "sql", "user"}


def test_row_caps_are_limit_everywhere():
    visible = {(name, o) for name, p in _options() if not p.hidden for o in p.opts}
    assert not [x for x in visible if x[1] in ("--max-rows", "--rows", "--top", "-n")]
    assert {n for n, o in visible if o == "--limit"} == {"queries", "rejects", "run", "sql", "insights"}


def test_summary_commands_refuse_table_formats_they_cannot_print(data):
    code, out, err = invoke(["--data", str(data), "info", "-f", "csv"])
    assert (code, out) == (2, "") and "'csv' is not one of 'table', 'json'" in err
    code, out, err = invoke(["--data", str(data), "rejects", "--format", "JSON"])
    assert code == 0 and json.loads(out)["rejects"] == 0


def test_dataset_range_over_several_days_reads_its_first_and_last_day(tmp_path):
    # event_range reads only the first and the last day's files: the range must
    # still be the first and last event, whatever the order of ingest.
    from rumq.catalog import event_range
    from rumq.ingest import ingest

    late = [event(at="2026-11-27T23:59:59", session="s3"), event(at="2026-11-27T00:00:01", session="s4")]
    early = [event(at="2026-11-25T00:00:02", session="s1"), event(at="2026-11-25T23:00:00", session="s2"),
             event(at="2026-11-26T12:00:00", session="s5")]
    data = tmp_path / "data"
    ingest(data, [str(write_jsonl(tmp_path / "a.jsonl", late))])
    ingest(data, [str(write_jsonl(tmp_path / "b.jsonl", early))])
    assert event_range(data) == (dt.datetime(2026, 11, 25, 0, 0, 2), dt.datetime(2026, 11, 27, 23, 59, 59))
    assert event_range(tmp_path / "nothing-here") == (None, None)
