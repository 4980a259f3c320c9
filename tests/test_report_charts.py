"""Report charts: bar labels never repeat (the HTTP-error chart names the status
class), and charts of rates show their sample sizes.

Unit tests on small frames, then the shipped daily report on a hand-built day:
30 Chrome sessions (two with a failing request to api.shop.com/v1/cart, one
500 and one 404) and 2 Firefox sessions (one with a 500 there).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from analyses_data import http
from rumdata import event, session_events, write_jsonl

from rumq.ingest import ingest
from rumq.report import charts, run_report

REPORTS = Path(__file__).resolve().parent.parent / "reports"

FAILING = pl.DataFrame({
    "method": ["GET", "GET", "POST"],
    "url_pattern": ["api.shop.com/v1/cart", "api.shop.com/v1/cart", "api.shop.com/v1/cart"],
    "status_class": ["5xx", "4xx", "5xx"],
    "requests": [2, 1, 1],
})


def test_repeated_labels_get_the_columns_that_tell_them_apart():
    # label = url_pattern alone repeats: status_class is added, then method.
    assert charts.bar_labels(FAILING, "url_pattern") == [
        "api.shop.com/v1/cart · GET · 5xx", "api.shop.com/v1/cart · GET · 4xx",
        "api.shop.com/v1/cart · POST · 5xx"]
    assert charts.bar_labels(FAILING, ["method", "url_pattern", "status_class"]) == [
        "GET · api.shop.com/v1/cart · 5xx", "GET · api.shop.com/v1/cart · 4xx",
        "POST · api.shop.com/v1/cart · 5xx"]
    # Unique labels stay as they are.
    assert charts.bar_labels(FAILING.head(1), "url_pattern") == ["api.shop.com/v1/cart"]


def test_long_labels_clip_the_longest_part_and_keep_the_class():
    long = FAILING.with_columns(pl.lit("api.shop.com/" + "x" * 80).alias("url_pattern"))
    labels = charts.bar_labels(long, ["method", "url_pattern", "status_class"], width=48)
    assert [lab[-3:] for lab in labels] == ["5xx", "4xx", "5xx"]
    assert all(len(lab) == 48 and "…" in lab for lab in labels)


BROWSERS = pl.DataFrame({"dimension": ["Chrome", "Firefox"], "sessions": [320, 12],
                         "error_session_rate": [0.05, 0.5]})


def test_rate_bars_carry_their_sample_size():
    assert charts.sample_column(BROWSERS, "error_session_rate") == "sessions"
    assert charts.sample_column(BROWSERS, "sessions") is None  # not a rate
    assert charts.bar_labels(BROWSERS, "dimension", n="sessions") == ["Chrome (n=320)", "Firefox (n=12)"]
    svg = charts.render("bar", BROWSERS, {"label": "dimension", "value": "error_session_rate"})
    assert "Chrome (n=320)" in svg and "Firefox (n=12)" in svg
    counts = charts.render("bar", BROWSERS, {"label": "dimension", "value": "sessions"})
    assert "(n=" not in counts and ">Chrome<" in counts


def test_timeseries_rate_panel_names_its_sample_range():
    df = pl.DataFrame({
        "bucket": [dt.datetime(2026, 11, 25, h) for h in (9, 10, 11)],
        "sessions": [3, 57, 12],
        "error_session_rate": [1 / 3, 2 / 57, 0.0],
        "page_views": [4, 80, 15],
    })
    svg = charts.render("timeseries", df, {"x": "bucket", "y": ["page_views", "error_session_rate"],
                                           "n": "sessions"})
    assert "error session rate (n = 3–57 sessions per point)" in svg
    assert "page views (n" not in svg


@pytest.fixture(scope="module")
def day(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("day")
    evs = []
    for i in range(30):
        evs += session_events(f"c-{i}", f"u-c{i}", ["/", "/cart"], start=f"2026-11-25T{8 + i % 10:02d}:{i:02d}:00")
    for i in range(2):
        firefox = session_events(f"f-{i}", f"u-f{i}", ["/"], start=f"2026-11-25T12:0{i}:00")
        for e in firefox:
            e["metadata"]["browserName"] = "Firefox"
        evs += firefox

    def failing(session: str, user: str, status: int, at: str, browser: str = "Chrome") -> dict:
        return event("http", at=at, session=session, user=user, page="/cart", browser=browser,
                     details={"version": "1.0.0", **http("GET", "https://api.shop.com/v1/cart?id=1", status)})

    evs.append(failing("c-0", "u-c0", 500, "2026-11-25T08:00:40"))
    evs.append(failing("c-1", "u-c1", 404, "2026-11-25T09:01:40"))
    evs.append(failing("f-0", "u-f0", 500, "2026-11-25T12:00:10", browser="Firefox"))
    ingest(root / "data", [str(write_jsonl(root / "in.jsonl", evs))])
    return root / "data"


def test_daily_report_http_labels_rate_samples_and_minimum_sample(day, tmp_path):
    res = run_report(REPORTS / "daily.toml", at="2026-11-25", out_dir=tmp_path / "o", data_dir=day)
    http_svg = (res.folder / "http-errors.svg").read_text()
    # GET api.shop.com/v1/cart failed with 5xx twice (c-0, f-0) and 4xx once (c-1): two bars, two labels.
    assert "GET · api.shop.com/v1/cart · 5xx" in http_svg and "GET · api.shop.com/v1/cart · 4xx" in http_svg
    browsers = (res.folder / "errors-by-browser.svg").read_text()
    assert "Chrome (n=30)" in browsers and "Firefox (n=2)" in browsers
    # Chrome: 2 error sessions of 30 = 0.0667, tested and ok; Firefox 1 of 2 = 0.5, ignored (2 < 30).
    by = {t.threshold: t for t in res.thresholds if t.section == "errors-by-browser"}
    (t,) = by.values()
    assert (t.status, t.rows_tested, t.rows_ignored) == ("ok", 1, 1)
    assert t.observed == pytest.approx(2 / 30)
    assert "1 row below the minimum sample ignored" in t.message()
    # 32 sessions: the one-row summary's rate (3/32) is tested, the session count breaches.
    summary = {t.threshold: t for t in res.thresholds if t.section == "summary"}
    assert summary["sessions < 100"].status == "breached"
    assert summary["error_session_rate > 0.05 with sessions >= 30"].observed == pytest.approx(3 / 32)
    # The hourly timeseries names the sessions behind its rate panel.
    assert "error session rate (n = " in (res.folder / "traffic.svg").read_text()
