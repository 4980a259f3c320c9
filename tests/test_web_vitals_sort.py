"""performance/web_vitals' `sort` parameter (issue 13: the demo's "slowest pages" table
must be reproducible by a command, so the query sorts by percentile itself).

Data: LCP samples (ms) /a [1000, 1000, 1000], /b [5000], /c [2000, 3000].
p75 (quantile_cont): /a 1000; /b 5000; /c 2000 + 0.75 * 1000 = 2750.
p50: /a 1000; /b 5000; /c 2500.  poor (> 4000): /a 0; /b 1.0; /c 0.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from rumdata import event, write_jsonl

import rumq
from rumq.cli import cli
from rumq.errors import ParameterError

LCP = "com.amazon.rum.largest_contentful_paint_event"
SAMPLES = {"/a": [1000, 1000, 1000], "/b": [5000], "/c": [2000, 3000]}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from rumq.ingest import ingest

    tmp = tmp_path_factory.mktemp("vitals-sort")
    evs = [
        event(LCP, at=f"2026-11-25T10:{i:02d}:{j:02d}", session=f"00000000-0000-4000-8000-00000000000{i}",
              user="11111111-1111-4111-8111-111111111111", page=page, details={"version": "1.0.0", "value": v})
        for i, (page, values) in enumerate(SAMPLES.items(), start=1)
        for j, v in enumerate(values)
    ]
    d = tmp / "data"
    assert ingest(d, [str(write_jsonl(tmp / "v.jsonl", evs))]).written == 6
    return d


def pages(data, **params):
    return [r["page"] for r in rumq.Dataset(str(data), notify=lambda _: None).run("performance/web_vitals",
                                                                                   **params).to_dicts()]


@pytest.mark.parametrize(
    "sort, expected",
    [
        (None, ["/a", "/c", "/b"]),  # default: most samples first
        ("samples", ["/a", "/c", "/b"]),
        ("p50", ["/b", "/c", "/a"]),
        ("p75", ["/b", "/c", "/a"]),
        ("p90", ["/b", "/c", "/a"]),
        ("poor", ["/b", "/a", "/c"]),  # /a and /c both 0 poor: more samples first
        ("page", ["/a", "/b", "/c"]),
        ("P75", ["/b", "/c", "/a"]),  # choices are case-insensitive
    ],
)
def test_sort_orders_the_rows(data, sort, expected):
    params = {} if sort is None else {"sort": sort}
    assert pages(data, **params) == expected


def test_top_cuts_after_sorting(data):
    rows = rumq.Dataset(str(data), notify=lambda _: None).run("performance/web_vitals", sort="p75", top=2)
    assert [(r["page"], r["p75"]) for r in rows.to_dicts()] == [("/b", 5000.0), ("/c", 2750.0)]


def test_a_bad_sort_is_a_usage_error(data):
    with pytest.raises(ParameterError, match="expected one of: samples, p50, p75, p90, poor, page"):
        pages(data, sort="lcp")
    res = CliRunner().invoke(cli, ["--data", str(data), "run", "performance/web_vitals", "-p", "sort=slow"])
    assert res.exit_code == 2 and "parameter 'sort': invalid value 'slow'" in res.stderr


def test_cli_sort_and_limit(data):
    res = CliRunner().invoke(cli, ["--data", str(data), "run", "performance/web_vitals", "-p", "metric=lcp",
                                   "-p", "sort=p75", "--limit", "1", "-f", "csv"])
    assert res.exit_code == 0, res.output
    assert res.stdout == "page,metric,samples,p50,p75,p90,good,needs_improvement,poor\n/b,LCP,1,5000.0,5000.0,5000.0,0.0,0.0,1.0\n"
