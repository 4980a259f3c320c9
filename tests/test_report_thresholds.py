"""Thresholds with a minimum sample: `... on any browser with sessions >= 30`.

Parse, evaluate (a small group is ignored and counted, never breaches), the
definition check of the sample column, and the messages.
"""

from __future__ import annotations

import polars as pl
import pytest

from rumq.errors import ReportDefinitionError
from rumq.report import load
from rumq.report import thresholds as th


@pytest.mark.parametrize("text, over, quantifier, sample", [
    ("error_session_rate > 0.10 on any browser with sessions >= 30", "browser", "any", ("sessions", ">=", 30)),
    ("error_session_rate > 10% on every browser WITH sessions > 29", "browser", "every", ("sessions", ">", 29)),
    ("error_session_rate > 0.1 on any with sessions >= 30", None, "any", ("sessions", ">=", 30)),
    ("error_session_rate > 0.1 with sessions >= 30", None, "any", ("sessions", ">=", 30)),
    ("share > 0.5 with coverage >= 90%", None, "any", ("coverage", ">=", 0.9)),
    ("error_session_rate > 0.1 on any browser", "browser", "any", None),
])
def test_parse_minimum_sample(text, over, quantifier, sample):
    t = th.parse(text)
    assert (t.over, t.quantifier) == (over, quantifier)
    if sample is None:
        assert t.sample is None
    else:
        assert (t.sample[0], t.sample[1]) == sample[:2] and t.sample[2] == pytest.approx(sample[2])
    assert t.columns() == [t.column] + ([sample[0]] if sample else [])


@pytest.mark.parametrize("bad, phrase", [
    ("x > 1 with", "a column after 'with'"),
    ("x > 1 with n", "a comparison after 'with n'"),
    ("x > 1 with n >= abc", "a number after 'with n >='"),
    ("x > 1 with n >= 3 extra", "unexpected 'extra'"),
    ("x > 1 on any page with n >= 3 on any", "unexpected 'on'"),
    ("x > 1 or n >= 3", "'with COLUMN >= N'"),
])
def test_bad_minimum_sample(bad, phrase):
    with pytest.raises(th.ThresholdSyntaxError) as e:
        th.parse(bad)
    assert phrase in str(e.value)


# Firefox has 12 sessions and half of them with an error; Safari 40 sessions, 5 with an error.
BROWSERS = pl.DataFrame({
    "dimension": ["Chrome", "Firefox", "Safari", "Opera"],
    "sessions": [320, 12, 40, None],
    "error_session_rate": [16 / 320, 6 / 12, 5 / 40, 1.0],
})
WITH_30 = "error_session_rate > 0.10 on any browser with sessions >= 30"


def test_small_group_is_ignored():
    r = th.evaluate(th.parse(WITH_30), BROWSERS, "errors")
    # Tested: Chrome 0.05 and Safari 0.125; Firefox (12) and Opera (no count) ignored.
    assert (r.status, r.rows_tested, r.rows_ignored) == ("breached", 2, 2)
    assert r.observed == pytest.approx(0.125) and r.breaching == [("Safari", 0.125)]
    assert r.message() == (f"errors: {WITH_30}: BREACHED (observed 0.125) at Safari = 0.125; "
                           "2 rows below the minimum sample ignored")
    assert r.to_json()["rows_ignored"] == 2
    # The control: without the minimum sample, Firefox's 50% and Opera's 100% count.
    plain = th.evaluate(th.parse("error_session_rate > 0.10 on any browser"), BROWSERS, "errors")
    assert plain.observed == 1.0 and plain.breaching_count == 3


def test_only_the_small_group_breaches_so_it_is_ok():
    df = BROWSERS.with_columns(pl.Series("error_session_rate", [0.05, 0.5, 0.025, None]))
    r = th.evaluate(th.parse(WITH_30), df, "errors")
    assert (r.status, r.rows_tested, r.rows_ignored, r.observed) == ("ok", 2, 2, 0.05)
    assert r.message() == f"errors: {WITH_30}: ok (observed 0.05); 2 rows below the minimum sample ignored"
    every = th.evaluate(th.parse("error_session_rate > 0.01 on every browser with sessions >= 30"), df, "e")
    assert every.status == "breached"  # Chrome and Safari both above 1%; Firefox does not matter


def test_every_group_too_small_is_no_data():
    r = th.evaluate(th.parse("error_session_rate > 0.1 on any browser with sessions >= 1000"), BROWSERS, "e")
    assert (r.status, r.rows_ignored, r.breached) == ("no_data", 4, False)
    assert r.message().endswith("no data to test (4 rows below the minimum sample ignored)")


def test_single_row_and_rows_with_a_minimum_sample():
    one = pl.DataFrame({"sessions": [12], "error_session_rate": [0.5]})
    assert th.evaluate(th.parse("error_session_rate > 0.05 with sessions >= 30"), one, "s").status == "no_data"
    assert th.evaluate(th.parse("error_session_rate > 0.05 with sessions >= 10"), one, "s").status == "breached"
    # rows counts the rows that meet the sample: Chrome and Safari.
    assert th.evaluate(th.parse("rows < 3 with sessions >= 30"), BROWSERS, "s").observed == 2


def test_sample_column_must_exist_and_be_numeric():
    with pytest.raises(ValueError, match="no column 'visits'"):
        th.evaluate(th.parse("error_session_rate > 0.1 with visits >= 3"), BROWSERS, "e")
    with pytest.raises(ValueError, match="'dimension' is not numeric"):
        th.evaluate(th.parse("error_session_rate > 0.1 with dimension >= 3"), BROWSERS, "e")


def test_definition_checks_the_sample_column(tmp_path):
    path = tmp_path / "r.toml"
    path.write_text('window = "1d"\n\n[[section]]\nquery = "errors/rate_per_session"\n'
                    'params = { dimension = "browser" }\n'
                    'thresholds = ["error_session_rate > 0.1 on any browser with visits >= 30"]\n')
    with pytest.raises(ReportDefinitionError, match=r"r.toml:6: .*has no column 'visits'"):
        load(path)


def test_shipped_daily_report_uses_a_minimum_sample():
    from pathlib import Path

    defn = load(Path(__file__).resolve().parent.parent / "reports" / "daily.toml")
    by_id = {s.id: s for s in defn.sections}
    (t,) = by_id["errors-by-browser"].thresholds
    assert t.over == "browser" and t.sample == ("sessions", ">=", 30.0)
