"""Session sample rates ([[sample_rates]] in rumq.toml) and --estimate.

On tests/analyses_data.py's story (one day, 2026-11-02; sessions/summary: 4 sessions, 3 users,
13 page views) and tests/test_users.py's three-day story for a rate change.
"""

from __future__ import annotations

import analyses_data as fx
import pytest
from click.testing import CliRunner

from rumq.api import Dataset
from rumq.cli import cli
from rumq.errors import UsageError


@pytest.fixture()
def data(tmp_path):
    return fx.build(tmp_path)


def toml(data, text):
    (data / "rumq.toml").write_text(text, encoding="utf-8")


def run(data, name, **kw):
    notes: list[str] = []
    return Dataset(data, notify=notes.append).run(name, **kw).to_dicts(), notes


def test_estimate_scales_counts_not_shares(data):
    toml(data, f'[[sample_rates]]\napp = "{fx.APP}"\nrate = 0.25\nsince = "2026-10-01"\n')
    [row], notes = run(data, "sessions/summary", estimate=True)
    # 4 sessions, 3 users, 13 page views at a rate of 0.25: x 4.
    assert (row["sessions"], row["users"], row["page_views"], row["estimate_scale"]) == (16.0, 12.0, 52.0, 4.0)
    # Shares, means and medians as measured.
    assert (row["bounce_rate"], row["pages_per_session_mean"], row["coverage"]) == (0.25, 3.25, 13 / 15)
    assert any("multiplied by 4 (session sample rate 0.25" in n for n in notes), notes
    [plain], _ = run(data, "sessions/summary")
    assert plain["sessions"] == 4 and "estimate_scale" not in plain


def test_a_rate_declared_later_is_not_in_force(data):
    toml(data, '[[sample_rates]]\napp = "a0000000"\nrate = 0.5\nsince = "2026-11-03"\n')  # an id prefix
    [row], notes = run(data, "sessions/summary", estimate=True)
    assert (row["sessions"], row["estimate_scale"]) == (4.0, 1.0)
    assert any("no sample rate is declared" in n for n in notes)


# A rate change mid-window, and a second application sampled differently (hand-built):
# rates: APP 0.5 from 2026-11-01, 0.1 from 2026-11-03; APP2 undeclared (1).
#   D1 (0.5): S1 user A /home /cart, custom add_to_cart
#   D2 (0.5): S2 user B /home; S4 user C /home at 23:59:00, /cart at D3 00:00:30 (starts D2: 0.5)
#   D3 (0.1): S5 user A /home; S6 user D /home /cart, custom add_to_cart
#   D3 (APP2, 1): S7 user E /home
APP2 = "bbbbbbbb-23f2-4257-acff-ef95de04be4b"
CHANGE = ('[[sample_rates]]\napp = "9c420d0e"\nrate = 0.5\nsince = "2026-11-01"\n'
          '[[sample_rates]]\napp = "9c420d0e"\nrate = 0.1\nsince = "2026-11-03"\n')


@pytest.fixture(scope="module")
def change(tmp_path_factory):
    from rumdata import event, write_jsonl

    from rumq.ingest import ingest

    tmp = tmp_path_factory.mktemp("rates")
    s = {n: f"5e55000{n}-0000-4000-8000-000000000000" for n in range(1, 8)}
    u = {n: f"{n * 8}-0000-4000-8000-00000000000a" for n in "abcde"}

    def pv(at, n, user, page, i, **kw):
        return event("page_view", at=at, session=s[n], user=u[user], page=page, interaction=i, **kw)

    cart = "com.example.shop.add_to_cart"
    ev = [pv("2026-11-01T10:00:00", 1, "a", "/home", 0), pv("2026-11-01T10:01:00", 1, "a", "/cart", 1),
          event(cart, at="2026-11-01T10:01:10", session=s[1], user=u["a"], page="/cart", interaction=1),
          pv("2026-11-02T10:00:00", 2, "b", "/home", 0),
          pv("2026-11-02T23:59:00", 4, "c", "/home", 0), pv("2026-11-03T00:00:30", 4, "c", "/cart", 1),
          pv("2026-11-03T10:00:00", 5, "a", "/home", 0),
          pv("2026-11-03T11:00:00", 6, "d", "/home", 0), pv("2026-11-03T11:01:00", 6, "d", "/cart", 1),
          event(cart, at="2026-11-03T11:01:10", session=s[6], user=u["d"], page="/cart", interaction=1),
          pv("2026-11-03T12:00:00", 7, "e", "/home", 0, app=APP2)]
    ingest(tmp / "data", [str(write_jsonl(tmp / "e.jsonl", ev))])
    toml(tmp / "data", CHANGE)
    return tmp / "data"


def test_rate_change_mid_window_weights_each_session_by_its_own_rate(change):
    [row], notes = run(change, "sessions/summary", estimate=True)
    # Sessions: S1 S2 S4 at 0.5 (x2), S5 S6 at 0.1 (x10), S7 at 1: 6 + 20 + 1.
    # Page views: 5 at 0.5, 3 at 0.1, 1 at 1: 10 + 30 + 1.
    assert (row["sessions"], row["page_views"]) == (27.0, 41.0)
    # Users: A has sessions at 0.5 and at 0.1: distinct users do not add up over the rates.
    assert row["users"] is None and row["estimate_scale"] is None
    assert row["bounce_rate"] == 3 / 6  # S2, S5, S7 of 6 sessions: measured, not scaled
    assert any("users is left empty in 1 of 1 rows" in n for n in notes), notes
    assert any("rates 0.5 (" in n and "0.1 (" in n and "1 (" in n for n in notes), notes
    [plain], _ = run(change, "sessions/summary")
    assert (plain["sessions"], plain["users"]) == (6, 5)


def test_rate_change_per_day_rows_keep_one_rate_each(change):
    got, _ = run(change, "users/summary", period="day", estimate=True)
    # D1: A (0.5); D2: B, C (0.5; S4 starts on D2); D3: A, D (0.1) and E (APP2, 1): 20 + 1, mixed.
    assert [(r["users"], r["sessions"], r["estimate_scale"]) for r in got] == [
        (2.0, 2.0, 2.0), (4.0, 4.0, 2.0), (21.0, 21.0, None)]
    assert [r["sessions_per_user"] for r in got] == [1.0, 1.0, 1.0]


def test_rate_change_funnel_and_custom_events(change):
    got, notes = run(change, "funnels/conversion", steps=["/home", "/cart"], estimate=True)
    # /home: S1 S2 S4 (x2) + S5 S6 (x10) + S7 (x1) = 27; /cart: S1 S4 (x2) + S6 (x10) = 14.
    assert [(r["sessions"], r["drop_off"], r["conversion_from_previous"]) for r in got] == [
        (27.0, None, None), (14.0, 13.0, 3 / 6)]
    got, _ = run(change, "events/custom", estimate=True)
    # One add_to_cart at 0.5 (S1, user A) and one at 0.1 (S6, user D): users add up here.
    assert [(r["events"], r["sessions"], r["users"], r["estimate_scale"]) for r in got] == [
        (12.0, 12.0, 12.0, None)]


def test_a_window_inside_one_rate_scales_by_it(change):
    # Before the change: S1, S2, S4 (S4's D3 page view is outside the window) at 0.5.
    assert Dataset(change, notify=lambda _: None).run(
        "users/summary", until="2026-11-03", estimate=True)["sessions"].to_list() == [6.0]
    # pages/drop_off runs every part in full (top at its maximum); the rows kept and their order
    # are the sample's: /home and /cart each end 3 sampled sessions, /home has more page views.
    got, _ = run(change, "pages/drop_off", top=1, estimate=True)
    # /home exits: S2 (x2), S5 (x10), S7 (x1); page views: S1 S2 S4 (x2), S5 S6 (x10), S7.
    assert [(r["page"], r["exits"], r["page_views"]) for r in got] == [("/home", 13.0, 27.0)]
    r = CliRunner().invoke(cli, ["--data", str(change), "run", "users/summary", "--estimate", "-f", "csv"])
    assert r.exit_code == 0 and "users is left empty" in r.stderr
    # new users add up (A is new with S1 at 0.5 only): B, C, A x2, D x10, E; returning users
    # (A on D3) do not: 0 in all, 1 at 0.1.
    assert r.stdout.splitlines()[1].startswith(",,17.0,,27.0,")


@pytest.mark.parametrize("entry, message", [
    ('app = "x"\nrate = 0\nsince = "2026-11-01"', "rate must be a number above 0"),
    ('app = "x"\nrate = 1.5\nsince = "2026-11-01"', "rate must be a number above 0"),
    ('app = "x"\nrate = 0.5\nsince = "soon"', "since must be a date"),
    ('app = "x"\nrate = 0.5', "needs exactly app, rate and since"),
])
def test_bad_entries_are_usage_errors(data, entry, message):
    toml(data, "[[sample_rates]]\n" + entry + "\n")
    with pytest.raises(UsageError, match=message):
        Dataset(data, notify=lambda _: None).run("sessions/summary", estimate=True)


def test_a_query_without_count_columns_cannot_estimate(data):
    with pytest.raises(UsageError, match="no count-like columns"):
        Dataset(data, notify=lambda _: None).run("performance/web_vitals", estimate=True)


def test_cli_estimate(data):
    toml(data, f'[[sample_rates]]\napp = "{fx.APP}"\nrate = 0.5\nsince = "2026-11-02"\n')
    r = CliRunner().invoke(cli, ["--data", str(data), "run", "pages/entry", "--estimate"])
    assert r.exit_code == 2 and "no count-like columns" in r.output
    r = CliRunner().invoke(cli, ["--data", str(data), "run", "funnels/conversion", "-p", "steps=/home,/cart",
                                 "--estimate", "-f", "csv"])
    assert r.exit_code == 0, r.output
    assert "notice: funnels/conversion: sessions, drop_off are estimates" in r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].endswith(",estimate_scale")
    # /home: S1, S2, S3, S4 (its second page) = 4; then /cart: S1, S2, S4 = 3 (drop-off 1); x 2.
    assert lines[1].startswith("1,/home,8.0,") and lines[2].startswith("2,/cart,6.0,")
    assert lines[2].split(",")[5] == "2.0" and lines[2].endswith(",2.0")


def test_report_section_estimate(data, tmp_path):
    from rumq.errors import RumqError
    from rumq.report.run import run_report

    toml(data, f'[[sample_rates]]\napp = "{fx.APP}"\nrate = 0.5\nsince = "2026-11-02"\n')
    defn = tmp_path / "r.toml"
    defn.write_text('title = "t"\nwindow = "yesterday"\n[[section]]\nid = "s"\nquery = "sessions/summary"\n'
                    'estimate = true\n', encoding="utf-8")
    res = run_report(defn, at="2026-11-02", out_dir=tmp_path / "o", data_dir=data)
    import polars as pl

    got = pl.read_csv(res.folder / "s.csv")
    assert got["sessions"].to_list() == [8.0] and got["estimate_scale"].to_list() == [2.0]
    assert "are estimates of the full traffic" in (res.folder / "report.md").read_text()
    defn.write_text('title = "t"\nwindow = "yesterday"\n[[section]]\nquery = "pages/entry"\nestimate = true\n',
                    encoding="utf-8")
    with pytest.raises(RumqError, match="declares no count-like columns"):
        run_report(defn, at="2026-11-02", out_dir=tmp_path / "o2", data_dir=data)


def test_report_section_across_the_rate_change(change, tmp_path):
    import polars as pl

    from rumq.report.run import run_report

    defn = tmp_path / "r.toml"
    defn.write_text('title = "t"\nwindow = "3d"\n[[section]]\nid = "s"\nquery = "sessions/summary"\n'
                    'estimate = true\n', encoding="utf-8")
    res = run_report(defn, at="2026-11-04T00:00:00", out_dir=tmp_path / "o", data_dir=change)
    got = pl.read_csv(res.folder / "s.csv")
    assert got["sessions"].to_list() == [27.0] and got["estimate_scale"].to_list() == [None]
    text = (res.folder / "report.md").read_text()
    assert "are estimates of the full traffic" in text and "users is left empty" in text


def test_a_session_begun_before_the_window_takes_its_first_day_inside_it(change):
    # From D3: S4's /cart (00:00:30) is its first event in the window, so S4 counts at D3's
    # rate (0.1) although it started on D2 (0.5), as docs/analyses.md defines; S5, S6 at 0.1,
    # S7 (APP2) at 1: 3 x 10 + 1.
    [row], _ = run(change, "sessions/summary", since="2026-11-03", estimate=True)
    assert (row["sessions"], row["page_views"]) == (31.0, 41.0)  # page views: (1 + 1 + 2) x 10 + 1
