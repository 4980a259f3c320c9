"""The small helpers that several stages share: SQL quoting, offsets, fsync, binary output."""

from __future__ import annotations

import duckdb
import pytest

from rumq.errors import ExitCode, UsageError, line_column
from rumq.formats import require_file_for_binary
from rumq.fsync import fsync_dir
from rumq.sqltext import quote_identifier, quote_string

TRICKY = ["plain", "it's", "''", "a\\'b", "back\\slash", "line\nbreak", "émoji 🎉", "", "x' OR '1'='1", '"dq"']


@pytest.mark.parametrize("value", TRICKY)
def test_quote_string_reads_back_as_the_same_value(value):
    assert duckdb.connect().execute("SELECT " + quote_string(value)).fetchall() == [(value,)]


def test_quote_string_doubles_quotes_and_refuses_nul():
    assert quote_string("it's") == "'it''s'"
    with pytest.raises(ValueError, match="NUL"):
        quote_string("a\x00b")


@pytest.mark.parametrize("name", [v for v in TRICKY if v] + ['a"b'])
def test_quote_identifier_names_a_column_exactly(name):
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t ({quote_identifier(name)} INTEGER)")
    con.execute(f"INSERT INTO t ({quote_identifier(name)}) VALUES (7)")
    result = con.execute(f"SELECT {quote_identifier(name)} FROM t")
    assert [d[0] for d in result.description] == [name]
    assert result.fetchall() == [(7,)]


def test_quote_identifier_doubles_double_quotes():
    assert quote_identifier('a"b') == '"a""b"'


@pytest.mark.parametrize(
    ("text", "offset", "expected"),
    [
        ("", 0, (1, 1)),
        ("ab\ncd", 0, (1, 1)),
        ("ab\ncd", 1, (1, 2)),
        ("ab\ncd", 2, (1, 3)),  # the newline itself: one past the last character of line 1
        ("ab\ncd", 3, (2, 1)),
        ("ab\ncd", 5, (2, 3)),  # end of text
        ("ab\ncd", 99, (2, 3)),  # past the end counts as the end
        ("\n\n\nx", 3, (4, 1)),
    ],
)
def test_line_column(text, offset, expected):
    assert line_column(text, offset) == expected


def test_fsync_dir(tmp_path):
    (tmp_path / "f").write_text("x")
    fsync_dir(tmp_path)
    fsync_dir(str(tmp_path))
    with pytest.raises(FileNotFoundError):
        fsync_dir(tmp_path / "missing")


def test_binary_output_needs_a_file():
    with pytest.raises(UsageError, match="parquet output is binary") as e:
        require_file_for_binary("parquet", None)
    assert e.value.exit_code == ExitCode.USAGE
    with pytest.raises(UsageError):
        require_file_for_binary("parquet", "")
    require_file_for_binary("parquet", "out.parquet")
    for fmt in ("table", "csv", "tsv", "json", "jsonl", "markdown"):
        require_file_for_binary(fmt, None)
