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
