"""Logs Insights values at the edges: a typed field holding a non-number in a custom event, a
parse group that takes no part in the match, whole numbers in the text formats, one name for two
values, and times out of range.

Expected values are worked out by hand from the dataset built here (its table is in
``messages()``); none is copied from rumq's output.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rumdata import event

from rumq import catalog, insights
from rumq.errors import QueryUnsupportedError

CUSTOM = "com.example.custom"


def messages() -> list[dict]:
    """Five custom events and one LCP event (2026-11-25, one per minute from 10:00).

    | id | type      | event_details                                                   |
    | c1 | custom    | value "abc"                                                     |
    | c2 | custom    | value 7.5                                                       |
    | c3 | custom    | value true                                                      |
    | c4 | custom    | (no value)                                                      |
    | c5 | custom    | value "250", duration "slow", response.status "n/a", lineno 12  |
    | v1 | lcp       | value 2100 (the typed column vital_value)                       |
    """
    def custom(i: int, eid: str, details: dict) -> dict:
        return event(CUSTOM, at=f"2026-11-25T10:0{i}:00", event_id=eid, details=details)

    return [
        custom(0, "c1", {"value": "abc"}),
        custom(1, "c2", {"value": 7.5}),
        custom(2, "c3", {"value": True}),
        custom(3, "c4", {"label": "none"}),
        custom(4, "c5", {"value": "250", "duration": "slow", "response": {"status": "n/a"}, "lineno": 12}),
        event("largest_contentful_paint", at="2026-11-25T10:05:00", event_id="v1",
              details={"version": "1.0.0", "value": 2100}),
    ]


def build(tmp: Path) -> Path:
    """Ingest ``messages()`` into ``tmp/data``."""
    from rumq.ingest import ingest

    src = tmp / "export.jsonl"
    src.write_text("".join(json.dumps(m) + "\n" for m in messages()))
    assert ingest(tmp / "data", [str(src)]).written == len(messages())
    return tmp / "data"


#: Queries over ``messages()`` whose compiled SQL the fixes here changed; Spark must agree
#: (tests/test_engine_spark_insights.py).
SPARK_QUERIES = [
    "fields event_id, ispresent(event_details.value) as p, isempty(event_details.value) as e, "
    "event_details.value as v | sort event_id asc",
    "stats count(*) as n, count(event_details.value) as c, sum(event_details.value) as s, "
    "max(event_details.value) as mx, min(event_details.value) as mn by event_details.value",
    "filter event_details.value > 100 or event_details.duration = 'slow' | fields event_id, "
    "event_details.response.status as st, event_details.lineno as ln | sort event_id asc",
    r"parse event_details.value /(?<int>\d+)(\.(?<frac>\d+))?(?<rest>.*)/ | fields event_id, int, frac, rest "
    "| sort event_id asc",
    "fields fromMillis(toMillis(@timestamp) * 100000000) as a, fromMillis(toMillis(@timestamp) * 100000) as b, "
    "fromMillis(253402300799999) as c, fromMillis(-62135596800001) as d | sort event_id asc",
]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return build(tmp_path_factory.mktemp("values"))


@pytest.fixture(scope="module")
def con(data):
    c = catalog.connect(data)
    yield c
    c.close()


def rows(con, query: str) -> list[tuple]:
    return [tuple(r) for r in insights.run(con, query).iter_rows()]


# -- 1. a typed field's value in a custom event is the JSON value, whatever its type ----------

def test_a_non_numeric_value_is_present_and_shown(con):
    # ispresent: c4 alone lacks the field. The value is the JSON scalar's text: a string as it
    # is, a JSON true as "true", the string "250" as "250"; v1's typed 2100.0 as "2100".
    got = rows(con, "fields event_id, ispresent(event_details.value) as p, isempty(event_details.value) as e, "
                    "event_details.value as v | sort event_id asc")
    assert got == [("c1", 1, 0, "abc"), ("c2", 1, 0, "7.5"), ("c3", 1, 0, "true"), ("c4", 0, 1, None),
                   ("c5", 1, 0, "250"), ("v1", 1, 0, "2100")]


def test_a_non_numeric_value_is_filtered_counted_and_grouped(con):
    assert rows(con, 'filter event_details.value = "abc" | stats count(*) as n') == [(1,)]
    # Every event but c4 has the field.
    assert rows(con, "stats count(event_details.value) as n") == [(5,)]
    # One group per value, keys ascending as text, the event without the field last.
    assert rows(con, "stats count(*) as n by event_details.value") == [
        ("2100", 1), ("250", 1), ("7.5", 1), ("abc", 1), ("true", 1), (None, 1)]
    assert rows(con, "filter event_details.duration = 'slow' and event_details.response.status = 'n/a' "
                     "| fields event_id") == [("c5",)]


def test_numbers_still_compare_and_aggregate_as_numbers(con):
    # > 100 (a number): 250 (c5, a numeric string, as any JSON field) and 2100 (v1); 7.5 is below,
    # and "abc"/true are not numbers.
    assert rows(con, "filter event_details.value > 100 | fields event_id | sort event_id asc") == [("c5",), ("v1",)]
    # sum/avg over the numbers 7.5, 250, 2100: 2357.5 and 2357.5 / 3. max/min in the natural order
    # (non-numbers before numbers): max the largest number, min the first non-number ("abc" < "true").
    [(s, a, mx, mn)] = rows(con, "stats sum(event_details.value) as s, avg(event_details.value) as a, "
                                 "max(event_details.value) as mx, min(event_details.value) as mn")
    assert (s, mx, mn) == (2357.5, "2100", "abc") and a == pytest.approx(2357.5 / 3, rel=1e-15)
    # c5's lineno 12 is a number in a custom event: found through the JSON.
    assert rows(con, "filter event_details.lineno = 12 | fields event_id") == [("c5",)]


def test_a_pinned_event_type_reads_the_typed_column_as_a_number(con):
    q = 'filter event_type = "com.amazon.rum.largest_contentful_paint_event" | fields event_details.value as v'
    assert rows(con, q) == [(2100.0,)]


# -- 2. a regex group that takes no part in the match leaves its field null -----------------

def test_an_optional_group_that_does_not_take_part_is_null(con):
    # Sources (event_details.value): "abc", "7.5", "true", absent (c4), "250", "2100".
    # int: the digits before any '.': 7, 250, 2100; frac: only "7.5" has the optional '.5'.
    q = r"parse event_details.value /(?<int>\d+)(\.(?<frac>\d+))?/ | fields event_id, int, frac | sort event_id asc"
    assert rows(con, q) == [("c1", None, None), ("c2", "7", "5"), ("c3", None, None), ("c4", None, None),
                            ("c5", "250", None), ("v1", "2100", None)]
    assert rows(con, r"parse event_details.value /(?<int>\d+)(\.(?<frac>\d+))?/ "
                     "| stats count(*) as n, count(int) as i, count(frac) as f") == [(6, 3, 1)]


def test_a_required_group_that_matches_nothing_is_the_empty_string(con):
    # rest always takes part when the regex matches: "" for "250" and "2100" is its value.
    q = r"parse event_details.value /(?<int>\d+)(?<rest>.*)/ | filter ispresent(int) | fields event_id, rest " \
        "| sort event_id asc"
    assert rows(con, q) == [("c2", ".5"), ("c5", ""), ("v1", "")]


def test_an_optional_group_that_can_match_nothing_is_refused():
    # frac may be empty when it takes part ('7.') and is empty when it does not ('7'): DuckDB
    # gives '' for both, so rumq cannot tell "" from no field and refuses, pointing at the group.
    q = "fields x\n| parse event_details.value /(?<int>\\d+)(\\.(?<frac>\\d*))?/"
    with pytest.raises(QueryUnsupportedError) as e:
        insights.compile(q)
    assert "'frac'" in str(e.value) and e.value.exit_code == 2
    assert (e.value.line, e.value.column) == (2, q.split("\n")[1].index("(?<frac>") + 1)


def test_a_parenthesis_in_a_class_with_a_posix_class_is_no_group(con):
    # [[:alpha:](] is one class (a letter or '('): its '(' opens no group, so a is group 1 and b
    # group 2. Sources: "abc", "7.5", "true", absent, "250", "2100": a is the first digit, b the
    # digits after it ("" when there are none: b always takes part).
    q = r"parse event_details.value /[[:alpha:](]*(?<a>\d)(?<b>\d*)/ | fields event_id, a, b | sort event_id asc"
    assert rows(con, q) == [("c1", None, None), ("c2", "7", ""), ("c3", None, None), ("c4", None, None),
                            ("c5", "2", "50"), ("v1", "2", "100")]


@pytest.mark.parametrize(("sub", "empty"), [
    (r"\d+", False), (r"[a-z]{2,}", False), (r"[[:alpha:]]", False), (r"\pL+", False), (r"a|b", False),
    (r"\d*", True), (r"a|", True), (r"(?:ab)?", True), (r"\b", True), (r"^", True), (r"(?m)$", True),
    (r"a{0,2}", True), (r"x*y*", True),
])
def test_whether_a_group_can_match_the_empty_string(sub, empty):
    from rumq.insights.regex import can_match_empty

    assert can_match_empty(sub) is empty


# -- 3. whole numbers print without '.0' in every text format --------------------------------

@pytest.fixture(scope="module")
def golden(tmp_path_factory):
    from test_insights_golden import build as build_golden

    return str(build_golden(tmp_path_factory.mktemp("values_golden")))


def cli(data: str, query: str, fmt: str, *extra: str) -> str:
    from clirun import invoke

    code, out, err = invoke(["--data", data, "insights", "--format", fmt, query, *extra])
    assert code == 0, err
    return out


@pytest.mark.parametrize(("fmt", "want"), [
    ("table", "a  b     c    d\n-  -  ----  ---\n8  1  1983  7.5\n"),
    ("csv", "a,b,c,d\n8,1,1983,7.5\n"),
    ("tsv", "a\tb\tc\td\n8\t1\t1983\t7.5\n"),
    ("json", '[{"a":8,"b":1,"c":1983,"d":7.5}]\n'),
    ("jsonl", '{"a":8,"b":1,"c":1983,"d":7.5}\n'),
])
def test_computed_whole_numbers_print_as_integers(golden, fmt, want):
    # 2 ^ 3 = 8, 10 % 3 = 1, ceil(1982.2) = 1983 (DOUBLE in SQL); 7.5 keeps its fraction.
    assert cli(golden, "fields 2 ^ 3 as a, 10 % 3 as b, ceil(1982.2) as c, 7.5 as d | limit 1", fmt) == want


def test_sums_and_averages_print_alike_in_json_and_csv(golden):
    # The golden dataset (tests/test_insights_golden.py): 12 events, 2 of them http (e06, e09);
    # navigation durations 1200, 800, 2500: average 1500; with e11's 42 the four average 1135.5.
    q = 'stats count(*) as n by event_type | stats sum(n) as s'
    assert json.loads(cli(golden, q, "json")) == [{"s": 12}] and cli(golden, q, "json") == '[{"s":12}]\n'
    q = 'stats sum(if(event_type = "com.amazon.rum.http_event", 1, 0)) as s'
    assert (cli(golden, q, "json"), cli(golden, q, "csv")) == ('[{"s":2}]\n', "s\n2\n")
    q = ('filter event_type = "com.amazon.rum.performance_navigation_event" '
         '| stats avg(event_details.duration) as a')
    assert (cli(golden, q, "json"), cli(golden, q, "csv")) == ('[{"a":1500}]\n', "a\n1500\n")
    assert cli(golden, "stats avg(event_details.duration) as a", "csv") == "a\n1135.5\n"


def test_a_status_prints_the_same_with_or_without_an_event_type_filter(golden):
    # e06: 503 (the only status >= 500).
    pinned = 'filter event_type = "com.amazon.rum.http_event" and event_details.response.status >= 500'
    unpinned = "filter event_details.response.status >= 500"
    for q in (pinned, unpinned):
        assert cli(golden, q + " | fields event_details.response.status as s", "csv") == "s\n503\n"
        # (the header is right-aligned over a number column, left-aligned over a text one)
        assert cli(golden, q + " | fields event_details.response.status as s", "table").splitlines()[2] == "503"
    # Statuses 200 (e09) and 503 (e06); the other 10 events have none.
    assert cli(golden, "stats count(*) as n by event_details.response.status as s", "csv") == "s,n\n200,1\n503,1\n,10\n"


def test_parquet_keeps_the_types(golden, tmp_path):
    import polars as pl

    out = tmp_path / "r.parquet"
    cli(golden, "fields 2 ^ 3 as a | limit 1", "parquet", "-o", str(out))
    df = pl.read_parquet(out)
    assert df.schema["a"] == pl.Float64 and df["a"].to_list() == [8.0]


# -- 4. one name for two different values is refused -----------------------------------------

@pytest.mark.parametrize(("query", "name", "column"), [
    ("stats count(*) as n, avg(event_details.duration) as n", "n", 53),
    ("stats count(*) as event_type by event_type", "event_type", 19),
    ("fields event_type as x, metadata.pageId as x", "x", 44),
    ("fields event_type as x | fields metadata.pageId as x", "x", 52),
    ("display event_type as x, event_id as x", "x", 38),
    ("stats count(*) as n by event_type | fields n * 2 as n", "n", 53),
])
def test_a_name_given_to_two_values_is_refused(query, name, column):
    from rumq.errors import QuerySyntaxError

    with pytest.raises(QuerySyntaxError) as e:
        insights.compile(query)
    assert f"'{name}'" in str(e.value) and e.value.exit_code == 2
    # The caret points at the alias that gives the name a second value (in stats, the aggregate's:
    # the by keys come first). Columns are 1-based.
    assert (e.value.line, e.value.column) == (1, column) and query[column - 1:].startswith(name)


def test_the_same_value_under_the_same_name_twice_is_shown_once(con):
    assert rows(con, "fields event_id, event_id | fields event_id | sort event_id asc | limit 1") == [("c1",)]
    q = "stats count(*) as n by event_type, event_type | fields n"
    assert insights.compile(q).columns == ["event_type", "n"]


# -- 5. a time conversion out of range gives null, as other overflows -----------------------

def test_from_millis_out_of_range_is_null(con):
    # Times of the dataset: 2026-11-25, about 1.8e12 ms; * 1e8 and * 1e5 leave every calendar.
    q = ("fields fromMillis(toMillis(@timestamp) * 100000000) as a, "
         "datefloor(fromMillis(toMillis(@timestamp) * 100000), 1h) as b, "
         "datefloor(toMillis(@timestamp) * 100000, 1h) as c, formatDate(toMillis(@timestamp) * 100000000, '%Y') as d "
         "| limit 1")
    assert rows(con, q) == [(None, None, None, None)]


def test_from_millis_covers_years_1_to_9999(con):
    # 253402300799999 ms = 9999-12-31 23:59:59.999 UTC; -62135596800000 ms = 0001-01-01 00:00 UTC.
    q = ("fields fromMillis(253402300799999) as a, fromMillis(253402300800000) as b, "
         "fromMillis(-62135596800000) as c, fromMillis(-62135596800001) as d | limit 1")
    assert rows(con, q) == [("9999-12-31 23:59:59.999", None, "0001-01-01 00:00:00.000", None)]


def test_from_millis_out_of_range_exits_0_on_the_cli(data):
    from clirun import invoke

    code, out, err = invoke(["--data", str(data), "insights", "--format", "csv",
                             "fields fromMillis(toMillis(@timestamp) * 100000000) as x | limit 1"])
    assert (code, out, err) == (0, "x\n\n", "")
