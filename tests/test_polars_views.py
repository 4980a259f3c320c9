"""Every analysis view as a Polars LazyFrame gives the DuckDB view's columns, types and rows (issue 18, part 1).

Two datasets: tests/polars_data.py's edge cases (the analyses story plus the
cases that break engines, with page and HTTP rules) and the generated day of
tests/test_consistency.py. Each view is compared for the whole dataset, a
window that cuts sessions, and one application; ``rumq_audience`` for each
dimension with and without cookieless sessions.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime

import polars as pl
import polars_data as D
import pytest

from rumq.api import Dataset
from rumq.catalog import connect
from rumq.engines.polars_views import NAMES, Views
from rumq.errors import UsageError
from rumq.views import VIEW_NAMES


@pytest.fixture(scope="module")
def edges(tmp_path_factory):
    return D.build_edges(tmp_path_factory.mktemp("polars-edges"))


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    return D.build_generated(tmp_path_factory.mktemp("polars-generated"))


def _json_close(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, int | float) and isinstance(b, int | float) and math.isclose(a, b, rel_tol=1e-12)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_close(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _assert_json_agrees(duck: pl.DataFrame, mine: pl.DataFrame) -> None:
    """metadata / event_details hold the same JSON values (Polars re-serializes the numbers, see the docs)."""
    key = ["source_file", "source_line"]
    for col in ("metadata", "event_details"):
        d = dict(zip(duck.select(key).rows(), duck[col], strict=True))
        m = dict(zip(mine.select(key).rows(), mine[col], strict=True))
        assert d.keys() == m.keys()
        bad = [k for k in d if not _json_close(json.loads(d[k] or "null"), json.loads(m[k] or "null"))]
        assert not bad, (col, bad[:3])


def _compare_all(data, **window) -> dict[str, int]:
    con = connect(data, **window)
    views = Views(data, **window)
    heights = {}
    for name in NAMES:
        duck = con.sql(f"SELECT * FROM {name}").pl()
        mine = D.uuid_as_text(views[name].collect())
        if "event_details" in duck.columns:
            _assert_json_agrees(duck, mine)
            duck, mine = duck.drop("metadata", "event_details"), mine.drop("metadata", "event_details")
        D.assert_frames_agree(duck, mine)
        heights[name] = duck.height
    return heights


def test_every_documented_view_is_there():
    assert set(VIEW_NAMES) | {"events", "rumq_events", "ingest_totals"} == set(NAMES)


def test_views_agree_on_the_edge_cases(edges):
    heights = _compare_all(edges)
    # Not vacuous: every view has rows (hand-counted from tests/polars_data.py's story).
    assert heights["page_views"] == 15 + 15  # the story's 15, and 15 added
    assert heights["sessions"] == 6 + 6  # S1-S4, C1, C2; LEGACY, E2, E3, E4, E6 cookie and cookieless part
    assert all(heights.values()), heights


def test_the_edge_cases_are_in_the_polars_views(edges):
    v = Views(edges)
    pv = v.page_views.collect()
    assert pv.filter(pl.col("page_raw").is_null()).height == 3
    assert pv.filter(pl.col("session_id").str.starts_with("page:")).height == 1
    assert set(pv.filter(pl.col("session_id") == D.LEGACY)["page"]) == {"/:id/:id/:id", "#/orders/:id",
                                                                         "/blog/hello/$c"}
    # E4 starts and ends with a page view without a page id: its entry and exit page are NULL.
    e4 = v.sessions.filter(pl.col("session_id") == D.E4).collect()
    assert e4.select("entry_page_raw", "exit_page_raw", "page_views").row(0) == (None, None, 5)
    assert v.journey_steps.filter(pl.col("session_id") == D.E4).collect()["page"].to_list() == [
        None, "/home", None, "/home", None]
    # E6 accepted cookies midway: two sessions with one id.
    assert v.sessions.filter(pl.col("session_id") == D.E6).collect()["cookieless"].sort().to_list() == [False, True]
    res = v.resources.collect()
    assert res["url_pattern"].to_list() == ["cdn.example.com:8443/:version/a/:id/x.js"]
    assert v.http_requests.filter(pl.col("status") == 302).collect()["url_pattern"].to_list() == [
        "api.shop.com/:version/items/:id"]


@pytest.mark.parametrize("window", [{}, {"since": datetime(2024, 3, 4, 12), "until": datetime(2024, 3, 4, 20)}],
                         ids=["day", "cut"])
def test_views_agree_on_generated_data(generated, window):
    heights = _compare_all(generated, **window)
    assert heights["transitions"] > 400 and heights["sessions"] > 50, heights


def test_views_agree_for_one_application(generated):
    con = connect(generated)
    app = con.sql("SELECT application_id FROM events GROUP BY 1 ORDER BY count(*) LIMIT 1").fetchall()[0][0]
    heights = _compare_all(generated, app=app)
    assert 0 < heights["events"] < con.sql("SELECT count(*) FROM events").fetchall()[0][0]


@pytest.mark.parametrize("dim", ["browser_name", "device_type", "country_code", "os_name"])
@pytest.mark.parametrize("include_cookieless", [False, True])
def test_audience_agrees(generated, dim, include_cookieless):
    duck = connect(generated).sql(f"SELECT * FROM rumq_audience('{dim}', {include_cookieless})").pl()
    mine = Views(generated).audience(dim, include_cookieless).collect()
    D.assert_frames_agree(duck, mine)
    assert duck.height > 2


def test_audience_refuses_an_unknown_column(edges):
    with pytest.raises(UsageError, match="no column 'nope'"):
        Views(edges).audience("nope")


def test_dataset_view_takes_a_window_and_an_app(edges):
    ds = Dataset(edges)
    day = ds.view("page_views", since="2026-11-03", until="2026-11-04").collect()
    assert day["page_raw"].to_list() == ["/blog/hello/comments"]  # the one page view after midnight
    assert ds.view("sessions", app=A_NAME_PREFIX).collect().height == 12
    with pytest.raises(UsageError, match="no view named 'page_view'"):
        ds.view("page_view")


A_NAME_PREFIX = "a0000000"  # a unique prefix of the story's application id


def test_an_empty_window_gives_empty_views_with_the_duckdb_types(edges):
    window = {"since": datetime(2030, 1, 1)}
    con = connect(edges, **window)
    views = Views(edges, **window)
    assert views.files == []
    for name in NAMES:
        duck = con.sql(f"SELECT * FROM {name}").pl()
        mine = D.uuid_as_text(views[name].collect())
        D.assert_frames_agree(duck, mine)


def test_filters_and_columns_reach_the_parquet_scan(edges):
    plan = Views(edges, since=datetime(2026, 11, 2, 12)).page_views.select("page").explain()
    scans = plan.split("Parquet SCAN")[1:]
    assert len(scans) == 2  # the two branches of page_views (with and without a session id)
    for scan in scans:
        selection = next(line for line in scan.splitlines() if "SELECTION" in line)
        assert 'col("event_name") == "page_view"' in selection and 'col("event_time") >=' in selection
        # page_id, and the four columns of the filters: event_name, event_time, the session id pair.
        assert re.search(r"PROJECT 5/\d+ COLUMNS", scan), scan
