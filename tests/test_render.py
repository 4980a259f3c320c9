"""Every output format renders the values that are hard: nulls, NaN, inf,
timestamps (naive UTC and zoned), dates, durations, lists, separators in text."""

import datetime as dt
import io
import json

import polars as pl
import pytest

from rumq.cli.options import FORMATS as CLI_FORMATS
from rumq.errors import UsageError
from rumq.render import FORMATS, render, render_text


@pytest.fixture
def hard() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "page": ["/a", "/b|c,d\te", None],
            "n": [1, 2, None],
            "rate": [0.5, float("nan"), float("inf")],
            "t": [dt.datetime(2026, 11, 1, 6), dt.datetime(2026, 11, 1, 6, 0, 0, 250000), None],
            "day": [dt.date(2026, 11, 1), None, dt.date(2026, 11, 3)],
            "dur": [dt.timedelta(seconds=90), None, dt.timedelta(milliseconds=1500)],
            "tags": [["x", "y"], [], None],
            "ok": [True, False, None],
        }
    )


def test_cli_formats_match_render_formats():
    assert CLI_FORMATS == FORMATS


def test_json_is_one_array_of_objects(hard):
    rows = json.loads(render_text(hard, "json"))
    assert rows == [
        {"page": "/a", "n": 1, "rate": 0.5, "t": "2026-11-01T06:00:00Z", "day": "2026-11-01",
         "dur": 90.0, "tags": ["x", "y"], "ok": True},
        {"page": "/b|c,d\te", "n": 2, "rate": None, "t": "2026-11-01T06:00:00.250Z", "day": None,
         "dur": None, "tags": [], "ok": False},
        {"page": None, "n": None, "rate": None, "t": None, "day": "2026-11-03",
         "dur": 1.5, "tags": None, "ok": None},
    ]


def test_json_never_writes_nan_or_infinity(hard):
    text = render_text(hard, "json")
    assert "NaN" not in text and "Infinity" not in text


def test_zoned_timestamps_become_utc():
    df = pl.DataFrame({"t": [dt.datetime(2026, 11, 1, 8)]}).with_columns(
        pl.col("t").dt.replace_time_zone("Europe/Oslo")
    )
    assert json.loads(render_text(df, "json")) == [{"t": "2026-11-01T07:00:00Z"}]


def test_jsonl(hard):
    lines = render_text(hard, "jsonl").splitlines()
    assert len(lines) == 3
    assert json.loads(lines[0])["t"] == "2026-11-01T06:00:00Z"
    assert json.loads(lines[2]) == {"page": None, "n": None, "rate": None, "t": None,
                                    "day": "2026-11-03", "dur": 1.5, "tags": None, "ok": None}


def test_csv_and_tsv(hard):
    assert render_text(hard, "csv") == (
        "page,n,rate,t,day,dur,tags,ok\n"
        '/a,1,0.5,2026-11-01T06:00:00Z,2026-11-01,90.0,"[""x"",""y""]",true\n'
        '"/b|c,d\te",2,,2026-11-01T06:00:00.250Z,,,[],false\n'
        ",,,,2026-11-03,1.5,,\n"
    )
    tsv = render_text(hard, "tsv").splitlines()
    assert tsv[0] == "page\tn\trate\tt\tday\tdur\ttags\tok"
    assert tsv[2].startswith('"/b|c,d\te"\t2\t\t2026-11-01T06:00:00.250Z')


def test_markdown_escapes_pipes_and_aligns_numbers(hard):
    lines = render_text(hard, "markdown").splitlines()
    assert lines[0] == "| page | n | rate | t | day | dur | tags | ok |"
    assert lines[1] == "|---|---:|---:|---|---|---:|---|---|"
    assert lines[2] == '| /a | 1 | 0.5 | 2026-11-01T06:00:00Z | 2026-11-01 | 90.0 | ["x","y"] | true |'
    assert lines[3].startswith("| /b\\|c,d\\te | 2 |  |")


def test_table_is_aligned_and_readable(hard):
    lines = render_text(hard, "table").splitlines()
    assert lines[0].split() == ["page", "n", "rate", "t", "day", "dur", "tags", "ok"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    # every column starts at the same offset on each line
    starts = [i for i in range(len(lines[1])) if lines[1][i] == "-" and (i == 0 or lines[1][i - 1] == " ")]
    for line in lines[2:]:
        for s in starts[1:]:
            assert line[s - 2 : s] == "  " or line[s - 1] == " "
    assert "null" in lines[4]  # nulls are visible in a terminal
    assert "\\t" in lines[3]  # control characters do not break the layout
    assert lines[2].split()[:3] == ["/a", "1", "0.5"]


def test_table_clips_long_cells():
    df = pl.DataFrame({"msg": ["x" * 500]})
    line = render_text(df, "table").splitlines()[2]
    assert len(line) == 80 and line.endswith("…")


def test_empty_frame_renders_headers():
    df = pl.DataFrame({"a": [], "b": []}, schema={"a": pl.Int64, "b": pl.String})
    assert render_text(df, "csv") == "a,b\n"
    assert render_text(df, "json") == "[]\n"
    assert render_text(df, "jsonl") == ""
    assert render_text(df, "table").splitlines()[0].split() == ["a", "b"]


def test_parquet_round_trips_through_a_file(tmp_path, hard):
    out = tmp_path / "r.parquet"
    render(hard, "parquet", out)
    back = pl.read_parquet(out)
    assert back.columns == hard.columns
    assert back.get_column("t").to_list() == hard.get_column("t").to_list()
    assert back.get_column("tags").to_list() == hard.get_column("tags").to_list()


def test_parquet_needs_a_binary_stream(hard):
    with pytest.raises(UsageError, match="-o FILE"):
        render(hard, "parquet", io.StringIO())
    buf = io.BytesIO()
    render(hard, "parquet", buf)
    assert buf.getvalue()[:4] == b"PAR1"


def test_text_formats_to_binary_and_text_streams(hard):
    b, s = io.BytesIO(), io.StringIO()
    render(hard, "csv", b)
    render(hard, "csv", s)
    assert b.getvalue().decode() == s.getvalue() == render_text(hard, "csv")


def test_unknown_format():
    with pytest.raises(UsageError, match="choose one of"):
        render(pl.DataFrame({"a": [1]}), "xml", io.StringIO())


def test_output_extensions_name_render_formats():
    from rumq.cli.options import EXTENSIONS, SUMMARY_FORMATS, resolve_format

    assert set(EXTENSIONS.values()) <= set(FORMATS) and set(SUMMARY_FORMATS) <= set(FORMATS)
    assert resolve_format(None, "a/b.Parquet") == "parquet"
    assert resolve_format(None, "x.md") == "markdown"
    assert resolve_format(None, None) == "table"
    assert resolve_format("csv", "out.txt") == "csv"


# -- DuckDB rows (the CLI's text path, no Polars) against the Polars path ---------------

HARD_SQL = """
SELECT * FROM (VALUES
  (1, 'plain', 0.5, TIMESTAMP '2026-11-01 06:00:00', TIMESTAMPTZ '2026-11-01 08:00:00+02',
   DATE '2026-11-01', INTERVAL 90 SECOND, ['x', 'y'], {'a': 1, 'b': [1.5::DOUBLE, NULL, 'nan'::DOUBLE]}, true,
   9223372036854775807::BIGINT, 18446744073709551615::UBIGINT, 'é✓ "q"'),
  (2, 'b|c,d' || chr(9) || 'e' || chr(10) || 'f', 'nan'::DOUBLE,
   TIMESTAMP '2026-11-01 06:00:00.25', TIMESTAMPTZ '2026-11-01 06:00:00.123456+00',
   NULL, INTERVAL 1500 MILLISECOND, [], {'a': NULL, 'b': []}, false, -1, 0::UBIGINT, ''),
  (NULL, NULL, 'inf'::DOUBLE, NULL, NULL, DATE '1999-12-31', NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (4, 'neg', '-inf'::DOUBLE, TIMESTAMP '2026-11-01 06:00:00.001', NULL, NULL,
   INTERVAL 2 DAY, [NULL], NULL, NULL, NULL, NULL, 'x'),
  (5, 'small', 123456789.125, NULL, NULL, NULL, INTERVAL 0 SECOND, NULL, NULL, NULL, NULL, NULL, NULL)
) AS t(n, page, rate, t, tz, day, dur, tags, st, ok, big, ubig, uni)
"""


@pytest.fixture
def duck():
    import duckdb

    con = duckdb.connect()
    yield con
    con.close()


@pytest.mark.parametrize("fmt", ["table", "csv", "tsv", "json", "jsonl", "markdown"])
def test_rows_path_writes_the_bytes_of_the_polars_path(duck, fmt):
    from rumq.render import Rows, render_rows_text
    from rumq.runner import execute

    rows = execute(duck, HARD_SQL, rows=True)
    assert isinstance(rows, Rows)  # every column of HARD_SQL takes the rows path
    frame = execute(duck, HARD_SQL)
    assert isinstance(frame, pl.DataFrame)
    assert render_rows_text(rows, fmt) == render_text(frame, fmt)


def test_rows_path_by_hand(duck):
    from rumq.render import render_rows_text
    from rumq.runner import execute

    sql = (
        "SELECT 1 AS n, 'a,b' AS s, 'inf'::DOUBLE AS r, TIMESTAMP '2026-11-01 06:00:00.5' AS t, "
        "INTERVAL 90 SECOND AS d, [1, 2] AS l, NULL::VARCHAR AS z, '' AS e"
    )
    rows = execute(duck, sql, rows=True)
    # r is numeric: right-aligned, so its header sits over the right end of "null".
    assert render_rows_text(rows, "csv") == (
        'n,s,r,t,d,l,z,e\n1,"a,b",,2026-11-01T06:00:00.500Z,90.0,"[1,2]",,""\n'
    )
    assert render_rows_text(rows, "json") == (
        '[{"n":1,"s":"a,b","r":null,"t":"2026-11-01T06:00:00.500Z","d":90.0,"l":[1,2],"z":null,"e":""}]\n'
    )
    assert render_rows_text(rows, "table") == (
        "n  s       r  t                            d  l      z     e\n"
        "-  ---  ----  ------------------------  ----  -----  ----  -\n"
        "1  a,b  null  2026-11-01T06:00:00.500Z  90.0  [1,2]  null\n"
    )


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1.5::DECIMAL(10, 2) AS d",
        "SELECT TIME '12:00:00' AS tm",
        "SELECT MAP {'k': 1} AS m",
        "SELECT 0.1::FLOAT AS f",
        "SELECT 1::HUGEINT AS h",
    ],
)
def test_results_the_rows_path_cannot_match_go_the_polars_way(duck, sql):
    from rumq.runner import execute

    assert isinstance(execute(duck, sql, rows=True), pl.DataFrame)


def test_floats_of_every_magnitude_take_the_rows_path_with_the_same_bytes(duck):
    # Python's repr writes 1e-07 and 5e-05 where Polars' CSV writer writes 1e-7
    # and 0.00005; the rows path must write Polars' text at every magnitude
    # (CLS values below 1e-4 once sent performance/web_vitals the Polars way).
    import random

    from rumq.render import Rows, render_rows_text
    from rumq.runner import execute

    rng = random.Random(7)
    values = [0.0, -0.0, 3.0, 1e-7, 1e-5, 1e15, 1e16, 0.1 + 0.2, 5e-324, 1.7976931348623157e308]
    for e in range(-320, 306, 3):
        values += [float(f"{rng.uniform(1, 10)!r}e{e}") * rng.choice((1, -1)), float(f"1e{e}")]
    duck.execute("CREATE TABLE f AS SELECT unnest(?::DOUBLE[]) AS x, 1 AS k", [values])
    rows = execute(duck, "SELECT x, [x] AS l FROM f", rows=True)
    assert isinstance(rows, Rows)
    frame = execute(duck, "SELECT x, [x] AS l FROM f")
    for fmt in ("csv", "tsv", "json", "jsonl", "table", "markdown"):
        assert render_rows_text(rows, fmt) == render_text(frame, fmt), fmt
    csv = render_rows_text(rows, "csv").splitlines()
    assert "1e-7,[1e-7]" in csv and "0.00001,[0.00001]" in csv  # by hand: Polars' spelling
    assert not any("e-0" in c for c in csv)


def test_statement_without_result_as_rows(duck):
    from rumq.render import render_rows_text
    from rumq.runner import execute

    rows = execute(duck, "CREATE TABLE x (a INTEGER)", rows=True)
    frame = execute(duck, "CREATE TABLE y (a INTEGER)")
    for fmt in ("table", "markdown", "csv", "json"):
        assert render_rows_text(rows, fmt) == render_text(frame, fmt)
