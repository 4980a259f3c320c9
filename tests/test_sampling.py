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


def test_rate_change_mid_window_is_refused_by_name(tmp_path):
    from rumdata import APP, event, write_jsonl

    from rumq.ingest import ingest

    ev = [event("page_view", at=f"2026-11-0{d}T10:00:00", session=f"5e55000{d}-0000-4000-8000-000000000000",
                user="aaaaaaaa-0000-4000-8000-000000000000", page="/", interaction=0) for d in (1, 2, 3)]
    ingest(tmp_path / "data", [str(write_jsonl(tmp_path / "e.jsonl", ev))])
    toml(tmp_path / "data", f'[[sample_rates]]\napp = "{APP}"\nrate = 0.5\nsince = "2026-11-01"\n'
                            f'[[sample_rates]]\napp = "{APP}"\nrate = 0.1\nsince = "2026-11-03"\n')
    ds = Dataset(tmp_path / "data", notify=lambda _: None)
    with pytest.raises(UsageError, match=r"different rates: 0.5 \(.* on 2026-11-01\); 0.1 \(.* on 2026-11-03\)"):
        ds.run("users/summary", estimate=True)
    # Each side of the change on its own: 2 sessions x 2; 1 session x 10.
    assert ds.run("users/summary", until="2026-11-03", estimate=True)["sessions"].to_list() == [4.0]
    assert ds.run("users/summary", since="2026-11-03", estimate=True)["sessions"].to_list() == [10.0]
    r = CliRunner().invoke(cli, ["--data", str(tmp_path / "data"), "run", "users/summary", "--estimate"])
    assert r.exit_code == 2 and "split the window where the rate changes" in r.output


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
