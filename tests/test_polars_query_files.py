"""Polars query files (``.py``) in a query library (issue 18, part 2).

The data is tests/analyses_data.py's story. Sessions by entry page and
device (hand-counted from its docstring): cookie sessions S1 (/home,
desktop, 4 page views), S2 (/home, desktop, 5), S3 (/home, mobile, a
bounce), S4 (/blog/a, tablet, 3); cookieless C1 (/home, desktop, a bounce)
and C2 (/products/7 -> /products/:id, mobile, a bounce). Coverage 13/15.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import analyses_data as A
import clirun
import pytest

from rumq.api import Dataset
from rumq.errors import ParameterError, PolarsQueryError, QueryDefinitionError
from rumq.library import Library

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "queries"

HEADER = """# ---
# name: {name}
# description: A test query
# params:
#   - {{name: n, type: int, default: 1, min: 1, help: A number}}
# columns:
#   - {{name: x, type: BIGINT, meaning: Something}}
# ---
"""


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return A.build(tmp_path_factory.mktemp("polars-files"))


def _lib(tmp_path: Path, files: dict[str, str]) -> Path:
    lib = tmp_path / "lib"
    for name, body in files.items():
        path = lib / f"{name}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(HEADER.format(name=name) + body, encoding="utf-8")
    return lib


# -- the example of docs/queries.md ------------------------------------------------------------


def test_the_example_runs_from_the_cli(data):
    code, out, err = clirun.invoke(["--data", str(data), "run", "devices/entry_bounce", "--queries", str(EXAMPLES),
                                    "--format", "csv"])
    assert code == 0, err
    cov = 13 / 15
    assert out.splitlines() == [
        "entry_page,device_type,sessions,bounce_rate,coverage",
        f"/home,desktop,2,0.0,{cov}",  # S1, S2
        f"/blog/a,tablet,1,0.0,{cov}",  # S4
        f"/home,mobile,1,1.0,{cov}",  # S3
    ]
    # Coverage 13/15 < 0.9: the same warning as for an SQL query.
    assert "warning: devices/entry_bounce: only 87% of the page views" in err


def test_the_example_runs_from_the_api_with_parameters(data):
    ds = Dataset(data, queries=[EXAMPLES], notify=lambda _: None)
    rows = ds.run("devices/entry_bounce", include_cookieless=True).rows()
    cov = 13 / 15
    assert rows == [
        ("/home", "desktop", 3, pytest.approx(1 / 3), cov),  # S1, S2 and the bounce C1
        ("/blog/a", "tablet", 1, 0.0, cov),
        ("/home", "mobile", 1, 1.0, cov),
        ("/products/:id", "mobile", 1, 1.0, cov),  # C2
    ]
    assert ds.run("devices/entry_bounce", min_sessions=2).rows() == [("/home", "desktop", 2, 0.0, cov)]
    # Parameters are validated as for SQL.
    with pytest.raises(ParameterError, match="parameter 'min_sessions': invalid value 0"):
        ds.run("devices/entry_bounce", min_sessions=0)
    # The window reaches the views: 12:00-13:00 holds S3 only.
    assert ds.run("devices/entry_bounce", since="2026-11-02T12:00:00", until="2026-11-02T13:00:00").rows() == [
        ("/home", "mobile", 1, 1.0, 1.0)]


def test_the_example_is_listed_and_shown(data):
    code, out, err = clirun.invoke(["queries", "--queries", str(EXAMPLES), "--format", "json"])
    assert code == 0 and "warning" not in err, err
    row = next(r for r in json.loads(out) if r["name"] == "devices/entry_bounce")
    assert row["kind"] == "polars" and row["params"] == "min_sessions, include_cookieless"
    code, out, _ = clirun.invoke(["queries", "show", "devices/entry_bounce", "--queries", str(EXAMPLES)])
    assert code == 0
    assert out.startswith("devices/entry_bounce (polars, from ")
    assert "  min_sessions        int, default 1; an integer >= 1. Hide groups with fewer sessions" in out
    assert "def query(views, params):" in out


def test_a_report_section_runs_a_polars_query(data, tmp_path):
    defn = tmp_path / "r.toml"
    defn.write_text(f'window = "1d"\nqueries = ["{EXAMPLES}"]\n[[section]]\nid = "devices"\n'
                    'query = "devices/entry_bounce"\nparams = { include_cookieless = true }\n', encoding="utf-8")
    out = tmp_path / "out"
    code, _, err = clirun.invoke(["--data", str(data), "report", str(defn), "--at", "2026-11-02", "--out", str(out)])
    assert code == 0, err
    lines = (out / "2026-11-02" / "devices.csv").read_text().splitlines()
    assert lines[0] == "entry_page,device_type,sessions,bounce_rate,coverage"
    assert [line.split(",")[:3] for line in lines[1:]] == [
        ["/home", "desktop", "3"], ["/blog/a", "tablet", "1"], ["/home", "mobile", "1"], ["/products/:id", "mobile", "1"]]


def test_an_empty_window_says_so(data):
    notes: list[str] = []
    df = Dataset(data, queries=[EXAMPLES], notify=notes.append).run("devices/entry_bounce", since="2030-01-01")
    assert df.height == 0 and df.columns[:3] == ["entry_page", "device_type", "sessions"]
    assert any("no events in the window" in n and "2026-11-02T10:00:00Z" in n for n in notes), notes


# -- errors in the user's code ------------------------------------------------------------------


def test_an_exception_in_the_function_names_the_file_and_line(data, tmp_path):
    lib = _lib(tmp_path, {"t/boom": "def query(views, params):\n    x = params['n'] - 1\n    return 1 / x\n"})
    code, out, err = clirun.invoke(["--data", str(data), "run", "t/boom", "--queries", str(lib)])
    path = lib / "t" / "boom.py"
    assert (code, out) == (1, "")
    # The header has 8 lines: `return 1 / x` is line 11.
    assert f"query 't/boom' failed in its function ({path}:11): ZeroDivisionError: division by zero" in err
    assert "Traceback" not in err


def test_a_polars_error_while_collecting_names_the_file_and_the_function(data, tmp_path):
    lib = _lib(tmp_path, {"t/nocol": "import polars as pl\n\n\ndef query(views, params):\n"
                                     "    return views.sessions.select(pl.col('no_such_column'))\n"})
    with pytest.raises(PolarsQueryError) as e:
        Dataset(data, queries=[lib]).run("t/nocol")
    path = str(lib / "t" / "nocol.py")
    assert e.value.path == path and e.value.line == 12  # the `def query` line
    assert "while Polars computed its result" in e.value.message and "ColumnNotFoundError" in e.value.message
    assert "no_such_column" in e.value.message


def test_an_error_at_import_time_and_a_wrong_return_value(data, tmp_path):
    lib = _lib(tmp_path, {"t/imp": "import no_such_module_here\n\n\ndef query(views, params):\n    return None\n",
                          "t/ret": "def query(views, params):\n    return 42\n"})
    ds = Dataset(data, queries=[lib])
    with pytest.raises(PolarsQueryError, match=r"while loading the file \(.*imp\.py:9\): ModuleNotFoundError"):
        ds.run("t/imp")
    with pytest.raises(PolarsQueryError, match="'query' returned int, not a polars LazyFrame"):
        ds.run("t/ret")


@pytest.mark.parametrize("body, problem, line", [
    ("def query(views, params):\n    return (\n", "Python syntax error", 10),
    ("def run(views, params):\n    return views.events\n", "no function 'query(views, params)'", None),
    ("def query(views):\n    return views.events\n", "'query' must take exactly two arguments", 9),
])
def test_malformed_files_are_definition_errors_with_the_line(tmp_path, body, problem, line):
    lib = _lib(tmp_path, {"t/bad": body})
    listing = Library([lib], env={}, builtin=False).load()
    assert not listing.queries
    [err] = listing.problems
    assert isinstance(err, QueryDefinitionError) and problem in err.message
    where = f"{lib / 't' / 'bad.py'}:{line}:" if line else f"{lib / 't' / 'bad.py'}:"
    assert err.message.startswith(where), err.message


def test_an_sql_map_is_refused_in_a_polars_query(tmp_path):
    lib = tmp_path / "lib"
    (lib / "t").mkdir(parents=True)
    (lib / "t" / "ident.py").write_text(
        "# ---\n# name: t/ident\n# description: d\n# params:\n"
        "#   - {name: by, type: str, default: page, sql: {page: page}}\n# ---\n"
        "def query(views, params):\n    return views.events\n", encoding="utf-8")
    [err] = Library([lib], env={}, builtin=False).load().problems
    assert "parameter 'by' has an 'sql' map" in err.message


def test_listing_a_library_runs_no_user_code(tmp_path):
    marker = tmp_path / "ran"
    lib = _lib(tmp_path, {"t/side": f"open({str(marker)!r}, 'w').close()\n\n\ndef query(views, params):\n"
                                    "    return views.events\n"})
    assert Library([lib], env={}, builtin=False).names() == ["t/side"]
    code, _, _ = clirun.invoke(["queries", "show", "t/side", "--queries", str(lib)])
    assert code == 0 and not marker.exists()


def test_helper_modules_starting_with_underscore_are_not_queries(tmp_path):
    lib = _lib(tmp_path, {"t/ok": "def query(views, params):\n    return views.events\n"})
    shutil.copy(lib / "t" / "ok.py", lib / "t" / "_helpers.py")
    assert Library([lib], env={}, builtin=False).names() == ["t/ok"]
