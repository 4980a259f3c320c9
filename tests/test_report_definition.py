"""Report definitions fail before anything runs, naming the file and the line;
windows resolve from the run time; thresholds parse without eval and evaluate
on hand-built frames."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from clirun import invoke

from rumq.errors import ReportDefinitionError, UsageError
from rumq.report import definition
from rumq.report import thresholds as th
from rumq.report import window as win

REPO = Path(__file__).resolve().parent.parent

GOOD = """\
title = "T"
window = "yesterday"

[[section]]
id = "summary"
query = "sessions/summary"
thresholds = ["sessions < 100"]

[[section]]
query = "pages/drop_off"
params = { top = 5 }
chart = "bar"
label = "page"
value = "exits"
"""




def test_good_definition_loads(tmp_path):
    p = tmp_path / "r.toml"
    p.write_text(GOOD)
    d = definition.load(p, env={})
    assert [s.id for s in d.sections] == ["summary", "pages-drop_off"]
    assert [s.line for s in d.sections] == [4, 9]
    assert d.sections[1].resolved["top"] == 5 and d.sections[1].resolved["include_cookieless"] is False
    assert d.sections[1].chart.kind == "bar" and dict(d.sections[1].chart.options) == {"label": "page", "value": "exits"}
    assert d.sections[0].thresholds[0].column == "sessions"
    assert d.to_json()["sections"][1]["params"] == {"top": "5", "include_cookieless": "false", "by_domain": "false"}


@pytest.mark.parametrize("name", ["daily", "weekly"])
def test_shipped_definitions_load(name):
    d = definition.load(REPO / "reports" / f"{name}.toml", env={})
    kinds = {s.chart.kind for s in d.sections}
    assert len(d.sections) >= 6 and d.dataset and d.out
    if name == "daily":
        assert d.window == "yesterday" and {"timeseries", "bar", "vitals"} <= kinds
        assert any(t.text == "p75 LCP > 4000 on any page" for s in d.sections for t in s.thresholds)
    else:
        assert d.window == "last-week" and {"timeseries", "bar", "flow", "vitals"} <= kinds


# Each broken definition: (text, expected line, a phrase of the message).
BROKEN = {
    "bad TOML": (GOOD.replace('id = "summary"', 'id = "summary'), 5, "not valid TOML"),
    "unknown query": (GOOD.replace('"pages/drop_off"', '"pages/drop_of"'), 10, "did you mean 'pages/drop_off'"),
    "bad parameter value": (GOOD.replace("top = 5", "top = 0"), 11, "parameter 'top': invalid value 0"),
    "unknown parameter": (GOOD.replace("top = 5", "tpo = 5"), 11, "unknown parameter 'tpo'"),
    "bad threshold": (GOOD.replace('thresholds = ["sessions < 100"]',
                                   'thresholds = [\n  "sessions < 100",\n  "sessions <> 3",\n]'), 9,
                      "bad threshold"),
    "threshold column": (GOOD.replace('"sessions < 100"', '"sesions < 100"'), 7, "no column 'sesions'"),
    "chart column": (GOOD.replace('value = "exits"', 'value = "exit"'), 14, "no column 'exit'"),
    "unknown chart": (GOOD.replace('chart = "bar"', 'chart = "pie"'), 12, "unknown chart 'pie'"),
    "chart option of another kind": (GOOD.replace('chart = "bar"', 'chart = "flow"'), 13, "does not apply"),
    "unknown window": (GOOD.replace('"yesterday"', '"the day before"'), 2, "unknown window"),
    "unknown key": (GOOD.replace('title = "T"', 'titel = "T"'), 1, "unknown key 'titel'"),
    "unknown section key": (GOOD.replace('params = {', 'parms = {'), 11, "unknown key 'parms'"),
    "no sections": ('window = "1d"\n', None, "at least one [[section]]"),
    "duplicate id": (GOOD.replace('query = "pages/drop_off"', 'id = "summary"\nquery = "pages/drop_off"'), 10,
                     "used twice"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_definition_fails_before_anything_runs(tmp_path, case):
    text, line, phrase = BROKEN[case]
    p = tmp_path / "broken.toml"
    p.write_text(text)
    with pytest.raises(ReportDefinitionError) as ei:
        definition.load(p, env={})
    msg = ei.value.message
    assert phrase in str(ei.value), msg
    if line is not None:
        assert msg.startswith(f"{p}:{line}:"), msg
    # Through the CLI: exit 2, the message on stderr, no dataset touched, no output written.
    out = tmp_path / "out"
    code, stdout, stderr = invoke(["--data", str(tmp_path / "no-such-dataset"), "report", str(p),
                                   "--at", "2026-11-25", "--out", str(out)])
    assert code == 2, stderr
    assert stdout == "" and f"error: {p}:" in stderr
    assert not out.exists() and not (tmp_path / "no-such-dataset").exists()


def test_missing_definition_file(tmp_path):
    code, _, err = invoke(["report", str(tmp_path / "nope.toml")])
    assert code == 2 and "no such report definition" in err


def test_locator_lines():
    text = (
        'window = "1d"\n'            # 1
        "[ingest]\n"                 # 2
        'paths = ["a"]\n'            # 3
        "[[section]]\n"              # 4
        'query = "x"\n'              # 5
        "[[section]]\n"              # 6
        'query = "y"\n'              # 7
        "thresholds = [\n"           # 8
        '  "a > 1",\n'               # 9
        '  "b > 2", "c > 3"\n'       # 10
        "]\n"                        # 11
        "[section.params]\n"         # 12
        "top = 3\n"                  # 13
    )
    loc = definition.Locator(text)
    assert loc.line("window") == 1
    assert loc.line("ingest", "paths") == 3
    assert loc.line("section", 0, "query") == 5
    assert loc.line("section", 1, "query") == 7
    assert [loc.line("section", 1, "thresholds", i) for i in range(3)] == [9, 10, 10]
    assert loc.line("section", 1, "params", "top") == 13
    assert loc.line("section", 1, "params", "nope") == 12
    assert loc.line("section", 5) is None


# -- windows ------------------------------------------------------------------------------


@pytest.mark.parametrize("spec, at, since, until, name", [
    ("yesterday", "2026-11-26T06:00:00", "2026-11-25T00:00:00", "2026-11-26T00:00:00", "2026-11-25"),
    ("1d", "2026-11-26T00:00:00", "2026-11-25T00:00:00", "2026-11-26T00:00:00", "2026-11-25"),
    ("7d", "2026-11-26T00:00:00", "2026-11-19T00:00:00", "2026-11-26T00:00:00", "2026-11-19_2026-11-25"),
    ("1d", "2026-11-26T06:30:00", "2026-11-25T06:30:00", "2026-11-26T06:30:00",
     "2026-11-25T0630Z_2026-11-26T0630Z"),
    # 2026-11-26 is a Thursday: last week is Mon 16 .. Mon 23 (ISO week 47)
    ("last-week", "2026-11-26T06:00:00", "2026-11-16T00:00:00", "2026-11-23T00:00:00", "2026-W47"),
    ("last-week", "2026-11-23T00:00:00", "2026-11-16T00:00:00", "2026-11-23T00:00:00", "2026-W47"),
    ("last-month", "2026-01-10T00:00:00", "2025-12-01T00:00:00", "2026-01-01T00:00:00", "2025-12"),
    ("today", "2026-11-26T06:00:00", "2026-11-26T00:00:00", "2026-11-26T06:00:00",
     "2026-11-26T0000Z_2026-11-26T0600Z"),
])
def test_windows(spec, at, since, until, name):
    w = win.resolve(spec, dt.datetime.fromisoformat(at))
    assert (w.since.isoformat(), w.until.isoformat(), w.name) == (since, until, name)


def test_at_date_means_end_of_that_day():
    assert win.parse_at("2026-11-01") == dt.datetime(2026, 11, 2)
    assert win.parse_at(dt.date(2026, 11, 1)) == dt.datetime(2026, 11, 2)
    assert win.parse_at("2026-11-01T06:00:00+02:00") == dt.datetime(2026, 11, 1, 4)
    w = win.resolve("yesterday", win.parse_at("2026-11-01"))
    assert w.name == "2026-11-01"
    with pytest.raises(UsageError):
        win.parse_at("yesterday-ish")


@pytest.mark.parametrize("bad", ["", "fortnight", "0d", "-1d", 7])
def test_bad_window_specs(bad):
    with pytest.raises(ValueError):
        win.check_spec(bad)


# -- thresholds ---------------------------------------------------------------------------


@pytest.mark.parametrize("text, column, qualifier, op, value, quantifier, over", [
    ("error_session_rate > 0.05", "error_session_rate", None, ">", 0.05, "any", None),
    ("error_session_rate>5%", "error_session_rate", None, ">", 0.05, "any", None),
    ("sessions < 100", "sessions", None, "<", 100, "any", None),
    ("p75 LCP > 2500 on any page", "p75", "LCP", ">", 2500, "any", "page"),
    ("p75 CLS >= 0.25 on every page", "p75", "CLS", ">=", 0.25, "every", "page"),
    ("value cookie_coverage < 0.9", "value", "cookie_coverage", "<", 0.9, "any", None),
    ("rows == 0", "rows", None, "==", 0, "any", None),
    ("p90 'LCP' != 1e3 on all", "p90", "LCP", "!=", 1000, "every", None),
])
def test_parse_thresholds(text, column, qualifier, op, value, quantifier, over):
    t = th.parse(text)
    assert (t.column, t.qualifier, t.op, t.value, t.quantifier, t.over) == (
        column, qualifier, op, pytest.approx(value), quantifier, over)


@pytest.mark.parametrize("bad, phrase", [
    ("", "non-empty"),
    ("sessions", "expected a comparison"),
    ("sessions < ", "expected a number"),
    ("sessions < abc", "expected a number"),
    ("sessions <> 3", "expected a number"),
    ("__import__('os').system('x') > 1", "unexpected character"),
    ("sessions < 3 or 1", "'on any ...'"),
    ("sessions < 3 on some page", "any, every, all or each"),
    ("sessions < 3 on any page extra", "unexpected 'extra'"),
    ("1 < 3", "a column name"),
])
def test_bad_thresholds(bad, phrase):
    with pytest.raises(th.ThresholdSyntaxError, match=None) as ei:
        th.parse(bad)
    assert phrase in str(ei.value)


VITALS = pl.DataFrame({
    "page": ["/", "/", "/cart", "/cart", "/help"],
    "metric": ["LCP", "CLS", "LCP", "CLS", "LCP"],
    "p75": [2000.0, 0.05, 3000.0, 0.3, None],
})


def test_evaluate_qualifier_any_page():
    r = th.evaluate(th.parse("p75 LCP > 2500 on any page"), VITALS, "v")
    assert r.status == "breached" and r.observed == 3000.0 and r.rows_tested == 2  # /help has no value
    assert r.breaching == [("/cart", 3000.0)] and r.breaching_count == 1
    assert r.message() == "v: p75 LCP > 2500 on any page: BREACHED (observed 3000) at /cart = 3000"
    assert th.evaluate(th.parse("p75 lcp > 2500 on every page"), VITALS, "v").status == "ok"
    assert th.evaluate(th.parse("p75 LCP > 1000 on every page"), VITALS, "v").status == "breached"
    assert th.evaluate(th.parse("p75 CLS < 0.1"), VITALS, "v").observed == 0.05


def test_evaluate_single_row_rows_and_no_data():
    one = pl.DataFrame({"sessions": [3], "error_session_rate": [1 / 3]})
    r = th.evaluate(th.parse("sessions < 100"), one, "s")
    assert (r.status, r.observed, r.message()) == ("breached", 3.0, "s: sessions < 100: BREACHED (observed 3)")
    assert th.evaluate(th.parse("error_session_rate > 34%"), one, "s").status == "ok"
    assert th.evaluate(th.parse("rows < 1"), one.head(0), "s").status == "breached"
    assert th.evaluate(th.parse("rows < 1"), one, "s").status == "ok"
    empty = th.evaluate(th.parse("sessions < 100"), one.head(0), "s")
    assert empty.status == "no_data" and not empty.breached
    nulls = pl.DataFrame({"x": [None, float("nan")]}, schema={"x": pl.Float64})
    assert th.evaluate(th.parse("x > 0"), nulls, "s").status == "no_data"
    with pytest.raises(ValueError, match="no column 'nope'"):
        th.evaluate(th.parse("nope > 1"), one, "s")
    with pytest.raises(ValueError, match="no text column"):
        th.evaluate(th.parse("sessions LCP > 1"), one, "s")
