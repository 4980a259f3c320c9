"""`rumq report` end to end: files, idempotent re-runs, alarms and exit code 5,
failed runs, definitions that fail before anything runs, the lock, ingest.

Two datasets: a hand-built one (3 cookie sessions on 2026-11-25, one with a JS
error: sessions = 3, error_session_rate = 1/3) for exact expectations, and a
small generated week (rumq.generate) for the shipped example reports.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import clirun
import polars as pl
import pytest
from rumdata import event, session_events, write_jsonl

from rumq.ingest import ingest
from rumq.report import lock as report_lock
from rumq.report import run_report

REPO = Path(__file__).resolve().parent.parent
REPORTS = REPO / "reports"


def invoke(args: list[str]) -> tuple[int, str, str]:
    """``rumq ARGS`` with no RUMQ_DATA from the environment: (code, stdout, stderr)."""
    return clirun.invoke(args, env={"RUMQ_DATA": None})


def hand_events() -> list[dict]:
    evs = []
    evs += session_events("s-1", "u-1", ["/", "/products/1", "/cart"], start="2026-11-25T09:00:00")
    evs += session_events("s-2", "u-2", ["/", "/help"], start="2026-11-25T10:00:00")
    evs += session_events("s-3", "u-3", ["/products/2"], start="2026-11-25T11:00:00")
    evs.append(event("js_error", at="2026-11-25T10:00:40", session="s-2", user="u-2", page="/help",
                     details={"version": "1.0.0", "type": "TypeError", "message": "x is undefined",
                              "stack": "TypeError: x is undefined\n at f (https://shop.example.com/app.js:1:2)"}))
    # A day later: not in the 2026-11-25 window.
    evs += session_events("s-4", "u-4", ["/"], start="2026-11-26T08:00:00")
    return evs


@pytest.fixture(scope="module")
def hand_data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hand")
    src = write_jsonl(root / "in.jsonl", hand_events())
    ingest(root / "data", [str(src)])
    return root / "data"


@pytest.fixture(scope="module")
def gen_data(tmp_path_factory) -> Path:
    from rumq.generate import generate

    root = tmp_path_factory.mktemp("gen")
    generate(root / "exp", sessions=500, days=8, start=dt.date(2026, 11, 16), seed=3)
    ingest(root / "data", [str(root / "exp")])
    return root / "data"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


ALARMS = """
title = "Alarms"
window = "yesterday"

[[section]]
id = "summary"
query = "sessions/summary"
thresholds = [
  "sessions < 100",
  "error_session_rate > 0.05",
  "bounce_rate > 0.9",
]

[[section]]
id = "pages"
query = "pages/drop_off"
chart = "bar"
label = "page"
value = "exits"
thresholds = ["exits >= 1 on any page"]
"""


# -- the shipped examples over generated data ------------------------------------------


@pytest.mark.parametrize("name, at, folder", [("daily", "2026-11-20", "2026-11-20"),
                                               ("weekly", "2026-11-22", "2026-W47")])
def test_shipped_report_writes_every_file(gen_data, tmp_path, name, at, folder):
    out = tmp_path / "out"
    code, stdout, stderr = invoke(["--data", str(gen_data), "report", str(REPORTS / f"{name}.toml"),
                                   "--at", at, "--out", str(out)])
    assert code in (0, 5), stderr
    target = out / folder
    assert stdout.strip() == str(target)
    run = json.loads((target / "run.json").read_text())
    files = {p.name for p in target.iterdir()}
    expected = {"report.html", "report.md", "run.json"}
    for s in run["sections"]:
        expected |= {f"{s['id']}.csv", f"{s['id']}.parquet"}
        if s["chart"] not in ("table", "none"):
            expected.add(f"{s['id']}.svg")
        # CSV and Parquet hold the same rows as run.json counts
        assert pl.read_parquet(target / f"{s['id']}.parquet").height == s["rows"]
        assert pl.read_csv(target / f"{s['id']}.csv", infer_schema=False).height == s["rows"]
        assert isinstance(s["params"], dict) and s["seconds"] >= 0
    assert files == expected
    assert run["rumq_version"] and run["report"] == name
    assert run["status"] == ("breached" if code == 5 else "ok")
    assert run["definition"]["sections"][0]["query"] == "sessions/summary"
    assert run["sections"][0]["params"] == {"include_cookieless": "false"}
    assert run["dataset"] == str(gen_data.resolve())
    # every timestamped log line goes to stderr
    assert all(line[:4] == "2026" or line.startswith(" ") or line[:2] == "20"
               for line in stderr.splitlines() if line)
    # the data covers the window: the sections are not empty
    assert run["sections"][0]["rows"] == 1


def test_daily_window_and_chart_kinds(gen_data, tmp_path):
    res = run_report(REPORTS / "daily.toml", at="2026-11-20", out_dir=tmp_path / "o", data_dir=gen_data)
    w = res.run["window"]
    assert (w["since"], w["until"], w["name"]) == ("2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z", "2026-11-20")
    html = (res.folder / "report.html").read_text()
    for kind in ("timeseries", "bar", "vitals"):
        assert f'<figure class="chart chart-{kind}"><svg' in html, kind
    traffic = pl.read_csv(res.folder / "traffic.csv")
    hours = traffic["bucket"].to_list()
    assert hours == sorted(hours) and 12 <= len(hours) <= 24  # hours with traffic
    assert all(h.startswith("2026-11-20T") and h.endswith(":00:00Z") for h in hours)
    quality = pl.read_csv(res.folder / "data-quality.csv")
    page_views = quality.filter(pl.col("check") == "page_views")["count"].item()
    assert traffic["page_views"].sum() == page_views > 0


def test_html_contains_each_chart_and_is_self_contained(gen_data, tmp_path):
    res = run_report(REPORTS / "weekly.toml", at="2026-11-22", out_dir=tmp_path / "o", data_dir=gen_data)
    html = (res.folder / "report.html").read_text()
    for kind in ("timeseries", "bar", "flow", "vitals"):
        start = html.index(f'<figure class="chart chart-{kind}">')
        fig = html[start:html.index("</figure>", start)]
        assert "<svg" in fig and "</svg>" in fig and "<path" in fig, kind
    # the flow chart names the pseudo-pages of the transitions
    flow = html[html.index("chart-flow"):]
    assert "(entry)" in flow[:flow.index("</figure>")] and "(exit)" in flow[:flow.index("</figure>")]
    # web vitals bands are drawn in their colours
    vit = html[html.index("chart-vitals"):]
    vit = vit[:vit.index("</figure>")]
    for colour in ("#0cce6b", "#ffa400", "#ff4e42"):
        assert colour in vit
    # nothing is fetched: no scripts, no stylesheets, no remote images
    lowered = html.lower()
    for bad in ("<script", "<link", "<img", "src=\"http", "url(http", "@import"):
        assert bad not in lowered, bad
    md = (res.folder / "report.md").read_text()
    assert "![How sessions move between pages](journeys.svg)" in md


# -- idempotency and the atomic swap ---------------------------------------------------------


def test_second_run_same_window_same_csvs_and_replaces_folder(gen_data, tmp_path):
    out = tmp_path / "out"
    args = ["--data", str(gen_data), "report", str(REPORTS / "daily.toml"), "--at", "2026-11-20", "--out", str(out)]
    code1, _, _ = invoke(args)
    target = out / "2026-11-20"
    first = {p.name: p.read_bytes() for p in target.iterdir() if p.suffix in (".csv", ".parquet", ".svg")}
    (target / "marker").write_text("from the first run")
    code2, _, _ = invoke(args)
    assert code1 == code2
    second = {p.name: p.read_bytes() for p in target.iterdir() if p.suffix in (".csv", ".parquet", ".svg")}
    assert first.keys() == second.keys() and len(first) > 10
    assert first == second
    assert not (target / "marker").exists()  # the folder was replaced, not patched
    assert sorted(p.name for p in out.iterdir()) == [".rumq-report.lock", "2026-11-20"]


def test_failed_run_leaves_previous_folder_untouched(hand_data, tmp_path):
    lib = tmp_path / "lib"
    write(lib / "t" / "maybe_fail.sql", """-- ---
-- name: t/maybe_fail
-- description: Fails at run time when asked to
-- params:
--   - {name: fail, type: bool, default: false, help: Fail}
-- columns:
--   - {name: n, type: BIGINT, meaning: Events}
-- ---
SELECT CASE WHEN $fail THEN error('boom') ELSE count(*) END AS n FROM events
""")
    out = tmp_path / "out"
    base = f'window = "1d"\nqueries = ["{lib}"]\n[[section]]\nid = "n"\nquery = "t/maybe_fail"\n'
    ok = write(tmp_path / "ok.toml", base + "params = { fail = false }\n")
    bad = write(tmp_path / "bad.toml", base + "params = { fail = true }\n")
    code, _, err = invoke(["--data", str(hand_data), "report", str(ok), "--at", "2026-11-25", "--out", str(out)])
    assert code == 0, err
    target = out / "2026-11-25"
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    assert before["n.csv"] == b"n\n10\n"  # 3 session_start + 6 page views + 1 JS error
    code, _, err = invoke(["--data", str(hand_data), "report", str(bad), "--at", "2026-11-25", "--out", str(out)])
    assert code == 1 and "boom" in err
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert sorted(p.name for p in out.iterdir()) == [".rumq-report.lock", "2026-11-25"]


# -- thresholds ----------------------------------------------------------------------------


def test_breached_thresholds_exit_5_named_in_report_and_run_json(hand_data, tmp_path):
    defn = write(tmp_path / "alarms.toml", ALARMS)
    out = tmp_path / "out"
    code, stdout, stderr = invoke(["--data", str(hand_data), "report", str(defn), "--at", "2026-11-25",
                                   "--out", str(out)])
    assert code == 5, stderr
    target = out / "2026-11-25"
    alarms = [line for line in stderr.splitlines() if "ALARM" in line]
    assert len(alarms) == 3
    assert "summary: sessions < 100: BREACHED (observed 3)" in alarms[0]
    assert "summary: error_session_rate > 0.05: BREACHED (observed 0.3333)" in alarms[1]
    # exits: s-1 on /cart, s-2 on /help, s-3 on /products/2 (pages are normalized)
    assert "pages: exits >= 1 on any page: BREACHED" in alarms[2]
    run = json.loads((target / "run.json").read_text())
    assert run["status"] == "breached"
    by_text = {t["threshold"]: t for t in run["thresholds"]}
    assert by_text["sessions < 100"]["status"] == "breached" and by_text["sessions < 100"]["observed"] == 3
    assert by_text["error_session_rate > 0.05"]["observed"] == pytest.approx(1 / 3)
    assert by_text["bounce_rate > 0.9"]["status"] == "ok"  # 1 of 3 sessions bounced
    assert by_text["bounce_rate > 0.9"]["observed"] == pytest.approx(1 / 3)
    assert by_text["exits >= 1 on any page"]["breaching_count"] == 3
    assert len(run["breaches"]) == 3
    html = (target / "report.html").read_text()
    top = html[:html.index('<section class="card"')]  # before the first section
    assert "3 thresholds breached" in top
    for t in ("sessions &lt; 100", "error_session_rate &gt; 0.05", "exits &gt;= 1 on any page"):
        assert t in top
    assert "bounce_rate &gt; 0.9" not in top
    md = (target / "report.md").read_text()
    assert "## ⚠ 3 thresholds breached" in md and "**summary: sessions < 100: BREACHED (observed 3)**" in md


def test_no_breach_exits_0(hand_data, tmp_path):
    defn = write(tmp_path / "calm.toml", 'window = "yesterday"\n[[section]]\nquery = "sessions/summary"\n'
                                         'thresholds = ["sessions < 3", "error_session_rate > 0.5"]\n')
    code, stdout, stderr = invoke(["--data", str(hand_data), "report", str(defn), "--at", "2026-11-25",
                                   "--out", str(tmp_path / "o")])
    assert code == 0, stderr
    assert "ALARM" not in stderr
    run = json.loads((Path(stdout.strip()) / "run.json").read_text())
    assert [t["status"] for t in run["thresholds"]] == ["ok", "ok"]


def test_at_backfill_and_dataset_from_definition(hand_data, tmp_path):
    defn = write(tmp_path / "r.toml", f'dataset = "{hand_data}"\nwindow = "1d"\n'
                                      '[[section]]\nquery = "sessions/summary"\n')
    res = run_report(defn, at="2026-11-26", out_dir=tmp_path / "o")
    assert res.folder.name == "2026-11-26"
    assert pl.read_csv(res.folder / "sessions-summary.csv")["sessions"].to_list() == [1]  # s-4 only
    res = run_report(defn, at="2026-11-25T12:00:00Z", out_dir=tmp_path / "o")
    assert res.folder.name == "2026-11-24T1200Z_2026-11-25T1200Z"
    assert pl.read_csv(res.folder / "sessions-summary.csv")["sessions"].to_list() == [3]


def test_ingest_step(tmp_path):
    write_jsonl(tmp_path / "exports" / "a.jsonl", hand_events())
    defn = write(tmp_path / "r.toml", 'dataset = "data"\nwindow = "yesterday"\n'
                                      '[ingest]\npaths = ["exports/"]\n'
                                      '[[section]]\nquery = "sessions/summary"\n')
    res = run_report(defn, at="2026-11-25", out_dir=tmp_path / "o")
    assert res.run["ingest"]["written"] == len(hand_events())
    assert res.run["ingest"]["rejected"] == 0
    assert pl.read_csv(res.folder / "sessions-summary.csv")["sessions"].to_list() == [3]
    # the second run finds nothing new (the manifest knows the file)
    res = run_report(defn, at="2026-11-25", out_dir=tmp_path / "o")
    assert res.run["ingest"]["written"] == 0


# -- the lock ---------------------------------------------------------------------------------


def test_overlapping_run_no_wait_exits_4(hand_data, tmp_path):
    defn = write(tmp_path / "r.toml", 'window = "yesterday"\n[[section]]\nquery = "sessions/summary"\n')
    out = tmp_path / "o"
    with report_lock.hold(out):
        code, _, err = invoke(["--data", str(hand_data), "report", str(defn), "--at", "2026-11-25",
                               "--out", str(out), "--no-wait"])
    assert code == 4
    assert "another rumq process" in err and "is running a report into" in err
    assert not (out / "2026-11-25").exists()
    # once the lock is free the run goes through
    code, _, err = invoke(["--data", str(hand_data), "report", str(defn), "--at", "2026-11-25",
                           "--out", str(out), "--no-wait"])
    assert code == 0, err


def test_lock_wait_times_out(tmp_path):
    messages = []
    with report_lock.hold(tmp_path), pytest.raises(report_lock.ReportLockedError, match="gave up"):
        with report_lock.hold(tmp_path, timeout=0.3, on_wait=messages.append):
            pass
    assert len(messages) == 1 and "waiting" in messages[0]


# -- Logs Insights sections, recovery --------------------------------------------------------

INSIGHTS = """# ---
# name: ins/by_type
# description: Events per type
# params:
#   - {name: kind, type: str, default: page_view, help: Event type suffix}
# ---
fields event_type
| filter event_type like {{kind}}
| stats count(*) as events by event_type
| sort events desc
"""


def test_logs_insights_section(hand_data, tmp_path):
    write(tmp_path / "lib" / "ins" / "by_type.insights", INSIGHTS)
    defn = write(tmp_path / "r.toml", 'window = "yesterday"\nqueries = ["lib"]\n[[section]]\nid = "types"\n'
                                      'query = "ins/by_type"\nparams = { kind = "page_view" }\nchart = "bar"\n'
                                      'label = "event_type"\nvalue = "events"\nthresholds = ["events < 10"]\n')
    res = run_report(defn, at="2026-11-25", out_dir=tmp_path / "o", data_dir=hand_data)
    assert (res.folder / "types.csv").read_text() == "event_type,events\ncom.amazon.rum.page_view_event,6\n"
    assert [t.message() for t in res.breaches] == ["types: events < 10: BREACHED (observed 6)"]
    assert '<figure class="chart chart-bar"><svg' in (res.folder / "report.html").read_text()
    # A threshold on a column the (undocumented) result lacks fails the run, writing nothing.
    bad = write(tmp_path / "bad.toml", defn.read_text().replace("events < 10", "evnts < 10"))
    with pytest.raises(Exception, match="no column 'evnts'"):
        run_report(bad, at="2026-11-25", out_dir=tmp_path / "o2", data_dir=hand_data)
    assert [p.name for p in (tmp_path / "o2").iterdir()] == [".rumq-report.lock"]


def test_next_run_repairs_a_run_killed_between_renames(hand_data, tmp_path):
    defn = write(tmp_path / "r.toml", 'window = "yesterday"\n[[section]]\nquery = "sessions/summary"\n')
    out = tmp_path / "o"
    res = run_report(defn, at="2026-11-25", out_dir=out, data_dir=hand_data)
    # Simulate a death after "old aside" but before "new in", plus a half-built folder.
    res.folder.rename(out / ".old-2026-11-25-99999")
    (out / ".tmp-2026-11-24-99999").mkdir()
    res2 = run_report(defn, at="2026-11-24", out_dir=out, data_dir=hand_data)
    names = sorted(p.name for p in out.iterdir())
    assert names == [".rumq-report.lock", "2026-11-24", "2026-11-25"]
    assert (out / "2026-11-25" / "sessions-summary.csv").read_text().startswith("sessions,")
    assert res2.folder.name == "2026-11-24"
