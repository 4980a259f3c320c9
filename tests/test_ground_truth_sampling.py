"""--estimate against the generator's ground truth of the full traffic (``generate --sample-rate``).

A small run (two applications, four days) is sampled at 0.25, then at 0.5 from
the third day; the truth counts the full traffic and, per application and
session start day, what was recorded. Two checks:

* exact: the estimate is the recorded count of each start day divided by that
  day's rate, summed (the generator counted the recorded sessions itself, while
  writing them);
* against the full traffic: within four standard errors of the estimator
  (Horvitz-Thompson under independent sampling: Var = sum over the recorded
  sessions of (1 - r) / r^2 * y^2, y the session's count: 1, its page views, or
  whether it had an error). The generator keeps every 1/r-th session, which is
  no worse than independent draws; with the fixed seed the check is
  deterministic.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest
from click.testing import CliRunner

from rumq.api import Dataset
from rumq.cli import cli
from rumq.errors import UsageError
from rumq.generate import generate
from rumq.generate.sampling import parse_rates
from rumq.ingest import ingest

START = dt.date(2024, 3, 4)
RATES = [(START, 0.25), (dt.date(2024, 3, 6), 0.5)]


@pytest.fixture(scope="module")
def sampled(tmp_path_factory):
    base = tmp_path_factory.mktemp("sampled")
    truth = generate(base / "out", sessions=4000, days=4, seed=7, apps=2, cookieless_share=0.1,
                     workers=1, sample_rates=RATES)
    report = ingest(base / "data", [str(base / "out")])
    assert report.rejected == 0 and report.written < truth.total["events"] / 2
    (base / "data" / "rumq.toml").write_text(truth.data["sampling"]["sample_rates_toml"], encoding="utf-8")
    return truth, Dataset(base / "data", notify=lambda _: None)


def app_id(truth, name):
    return truth.data["apps"][name]["application_id"]


def _days(truth, name):
    return truth.data["sampling"]["apps"][name]["days"]


def test_the_truth_holds_the_full_traffic(sampled):
    truth, ds = sampled
    for name, app in truth.data["apps"].items():
        days = _days(truth, name)
        assert {d["rate"] for d in days} == {0.25, 0.5}
        # The per-day full counts add up to the usual (full) truth of the app.
        assert sum(d["full"]["sessions"] for d in days) == app["sessions"]["cookie"]
        assert sum(d["full"]["page_views"] for d in days) == app["page_views"]["cookie"]
        assert sum(d["full"]["error_sessions"] for d in days) == app["error_sessions"]["any"]
        # And the dataset holds the recorded ones.
        [row] = ds.run("sessions/summary", app=app_id(truth, name)).to_dicts()
        assert row["sessions"] == sum(d["recorded"]["sessions"] for d in days)
        assert row["page_views"] == sum(d["recorded"]["page_views"] for d in days)


def test_estimate_is_the_recorded_counts_over_their_rates(sampled):
    truth, ds = sampled
    totals = {"sessions": 0.0, "page_views": 0.0}
    for name in truth.data["apps"]:
        days = _days(truth, name)
        [row] = ds.run("sessions/summary", app=app_id(truth, name), estimate=True).to_dicts()
        for k in ("sessions", "page_views"):
            want = sum(d["recorded"][k] / d["rate"] for d in days)
            assert row[k] == pytest.approx(want, rel=1e-12), (name, k)
            totals[k] += want
        [err] = ds.run("errors/rate_per_session", app=app_id(truth, name), estimate=True).to_dicts()
        assert err["error_sessions"] == pytest.approx(sum(d["recorded"]["error_sessions"] / d["rate"] for d in days))
    # Both applications at once: one run per rate, the same sums.
    [row] = ds.run("sessions/summary", estimate=True).to_dicts()
    assert (row["sessions"], row["page_views"]) == pytest.approx((totals["sessions"], totals["page_views"]))
    # Per day, each row is within one rate.
    got = ds.run("users/summary", period="day", estimate=True)
    assert got["estimate_scale"].to_list()[:4] == [4.0, 4.0, 2.0, 2.0]


def test_estimate_is_close_to_the_full_traffic(sampled):
    truth, ds = sampled
    rate = {d.isoformat(): r for d, r in parse_rates(["0.25", "0.5@2024-03-06"], START)}
    assert rate == {d.isoformat(): r for d, r in RATES}
    for name, app in truth.data["apps"].items():
        [row] = ds.run("sessions/summary", app=app_id(truth, name), estimate=True).to_dicts()
        [err] = ds.run("errors/rate_per_session", app=app_id(truth, name), estimate=True).to_dicts()
        per = ds.sql("SELECT strftime(start_time, '%Y-%m-%d') AS d, count(*) AS n, sum(page_views ^ 2) AS pv2, "
                     "count(*) FILTER (WHERE has_error) AS e FROM session_stats WHERE NOT cookieless GROUP BY d",
                     app=app_id(truth, name)).to_dicts()

        def var(y: str, p: dict) -> float:
            r = max((r for d, r in RATES if d.isoformat() <= p["d"]), default=1.0)
            return (1 - r) / r ** 2 * p[y]

        for got, full, y in ((row["sessions"], app["sessions"]["cookie"], "n"),
                             (row["page_views"], app["page_views"]["cookie"], "pv2"),
                             (err["error_sessions"], app["error_sessions"]["any"], "e")):
            se = math.sqrt(sum(var(y, p) for p in per))
            assert abs(got - full) <= 4 * se, (name, y, got, full, se)
            assert abs(got - full) <= 0.15 * full, (name, y, got, full)  # and close in plain terms


def test_generate_sample_rate_option(tmp_path):
    r = CliRunner().invoke(cli, ["generate", "--sessions", "40", "--days", "2", "--apps", "1", "--out",
                                 str(tmp_path / "o"), "--sample-rate", "0.5", "--sample-rate", "0.25@2024-03-05"])
    assert r.exit_code == 0, r.output
    assert "sampled: wrote the events of" in r.stderr
    for bad, message in (("2", "at most 1"), ("0.5@soon", "RATE@YYYY-MM-DD")):
        r = CliRunner().invoke(cli, ["generate", "--sessions", "4", "--out", str(tmp_path / bad.replace("@", "_")),
                                     "--sample-rate", bad])
        assert r.exit_code == 2 and message in r.output, r.output
    with pytest.raises(UsageError, match="two rates from 2024-03-04"):
        parse_rates(["0.5", "0.25@2024-03-04"], START)
