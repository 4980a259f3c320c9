"""Render a result (a Polars DataFrame, or DuckDB ``Rows``) in one of the output formats.

Formats: ``table`` (aligned text for a terminal), ``csv``, ``tsv``, ``json``
(one array of objects), ``jsonl`` (one object per line), ``parquet`` (binary:
needs a file or binary stream) and ``markdown`` (a pipe table).

Text formats write timestamps as ISO-8601 UTC (``2026-11-01T06:00:00Z``; the
dataset's naive timestamps hold UTC), dates as ``2026-11-01``, durations as
seconds; JSON writes NaN and infinity as null.

``Rows`` (DuckDB's own fetched values) render the text formats to the same
bytes as a Polars frame of the same result, without importing Polars or
pyarrow: that is what keeps ``rumq run ... --format json`` quick to start.
"""

from __future__ import annotations

import io
import math
import os
from typing import IO, TYPE_CHECKING, Any

from rumq.errors import UsageError, file_access_error
from rumq.formats import BINARY_FORMATS, FORMATS

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

__all__ = ["BINARY_FORMATS", "FORMATS", "Rows", "render", "render_rows_text", "render_text"]
#: Longest cell shown by the table format (longer values end in an ellipsis).
MAX_CELL = 80


def render(df: pl.DataFrame | Rows, fmt: str, out: IO[str] | IO[bytes] | str | os.PathLike[str]) -> None:
    """Write ``df`` to ``out`` in format ``fmt``.

    Args:
        df: the result: a Polars DataFrame, or ``Rows`` for any format but parquet.
        fmt: one of ``FORMATS``.
        out: a path, a text stream, or (for any format) a binary stream.

    Raises:
        UsageError: unknown format, or ``parquet`` to a text stream.
        FileAccessError: the file ``out`` names cannot be created or written.
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown output format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if isinstance(out, str | os.PathLike):
        try:
            with open(out, "wb") as fh:
                render(df, fmt, fh)
        except OSError as e:
            raise file_access_error(e, "write the output file", out) from None
        return
    if fmt == "parquet":
        if isinstance(out, io.TextIOBase) and not hasattr(out, "buffer"):
            raise UsageError("parquet output is binary: write it to a file with -o FILE")
        target = out.buffer if isinstance(out, io.TextIOBase) else out
        if isinstance(df, Rows):
            raise UsageError("parquet output needs the result as a Polars DataFrame")
        df.write_parquet(target, compression="zstd")
        return
    text = render_rows_text(df, fmt) if isinstance(df, Rows) else render_text(df, fmt)
    if isinstance(out, io.TextIOBase) or _is_text(out):
        out.write(text)  # type: ignore[arg-type]
    else:
        out.write(text.encode("utf-8"))  # type: ignore[arg-type]


def _is_text(out: Any) -> bool:
    mode = getattr(out, "mode", "")
    return "b" not in mode if isinstance(mode, str) and mode else hasattr(out, "encoding")


def render_text(df: pl.DataFrame, fmt: str) -> str:
    """Render ``df`` as text in any format but parquet."""
    if fmt == "json":
        return _json_bytes(_textual(df, for_csv=False).to_dicts()).decode("utf-8") + "\n"
    if fmt == "jsonl":
        rows = _textual(df, for_csv=False).iter_rows(named=True)
        return "".join(_json_bytes(r).decode("utf-8") + "\n" for r in rows)
    if fmt in ("csv", "tsv"):
        flat = _textual(df, for_csv=True)
        return flat.write_csv(separator="," if fmt == "csv" else "\t", null_value="")
    if fmt == "markdown":
        return _markdown(df)
    if fmt == "table":
        return _table(df)
    raise UsageError(f"format {fmt!r} is not a text format")


# -- JSON ---------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    import datetime as dt
    import decimal

    if isinstance(value, decimal.Decimal):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        import base64

        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _json_bytes(value: Any) -> bytes:
    """JSON for ``value``; orjson writes NaN/inf as null, naive datetimes as UTC ``Z``."""
    import orjson

    opts = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z
    return orjson.dumps(value, default=_json_default, option=opts)


# -- shared conversion -------------------------------------------------------------


def _textual(df: pl.DataFrame, *, for_csv: bool) -> pl.DataFrame:
    """Convert columns whose text form differs by format.

    Timestamps become ISO-8601 UTC strings with ``Z``; durations become seconds;
    floats lose NaN/inf (null); for CSV, nested values become JSON text.
    """
    import polars as pl

    exprs = []
    for name, dtype in df.schema.items():
        col = pl.col(name)
        if isinstance(dtype, pl.Datetime):
            c = col.dt.convert_time_zone("UTC").dt.replace_time_zone(None) if dtype.time_zone else col
            # Whole seconds print without a fraction; sub-second values keep theirs.
            exprs.append(
                pl.when(c.dt.microsecond() == 0)
                .then(c.dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
                .otherwise(c.dt.strftime("%Y-%m-%dT%H:%M:%S%.fZ"))
                .alias(name)
            )
        elif isinstance(dtype, pl.Duration):
            exprs.append((col.dt.total_microseconds() / 1_000_000).alias(name))
        elif dtype in (pl.Float32, pl.Float64):
            exprs.append(pl.when(col.is_finite()).then(col).otherwise(None).alias(name))
        elif for_csv and isinstance(dtype, pl.List | pl.Array | pl.Struct):
            exprs.append(col.map_elements(_json_text, return_dtype=pl.String).alias(name))
        elif for_csv and isinstance(dtype, pl.Decimal):
            exprs.append(col.cast(pl.String).alias(name))
        elif for_csv and dtype == pl.Binary:
            exprs.append(col.bin.encode("base64").alias(name))
        else:
            exprs.append(col)
    return df.select(exprs) if exprs else df


def _json_text(value: Any) -> str:
    if hasattr(value, "to_list"):
        value = value.to_list()
    return _json_bytes(value).decode("utf-8")


def _cells(df: pl.DataFrame, null: str) -> tuple[list[str], list[list[str]], list[bool]]:
    """Header, rows of display strings, and which columns are numeric (right-aligned)."""
    flat = _textual(df, for_csv=True)
    numeric = [dtype.is_numeric() for dtype in flat.schema.values()]
    rows = [[null if v is None else _display(v) for v in row] for row in flat.iter_rows()]
    return list(flat.columns), rows, numeric


def _display(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return f"{value:.1f}"
        return f"{value:.6g}" if abs(value) < 1e-4 or abs(value) >= 1e15 else f"{round(value, 4)}"
    text = str(value)
    return text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")


def _clip(text: str) -> str:
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def _table(df: pl.DataFrame) -> str:
    if df.width == 0:  # a statement without a result (CREATE, SET, ...)
        return ""
    return _table_cells(*_cells(df, "null"))


def _table_cells(headers: list[str], rows: list[list[str]], numeric: list[bool]) -> str:
    rows = [[_clip(c) for c in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        out = [
            c.rjust(w) if num else c.ljust(w)
            for c, w, num in zip(cells, widths, numeric, strict=True)
        ]
        return "  ".join(out).rstrip()

    parts = [line(headers), "  ".join("-" * w for w in widths)]
    parts += [line(r) for r in rows]
    return "\n".join(parts) + "\n"


def _markdown(df: pl.DataFrame) -> str:
    if df.width == 0:
        return ""
    return _markdown_cells(*_cells(df, ""))


def _markdown_cells(headers: list[str], rows: list[list[str]], numeric: list[bool]) -> str:
    def esc(c: str) -> str:
        return c.replace("|", "\\|")

    out = ["| " + " | ".join(esc(h) for h in headers) + " |"]
    out.append("|" + "|".join("---:" if n else "---" for n in numeric) + "|")
    out += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    return "\n".join(out) + "\n"


# -- DuckDB rows (no Polars) -----------------------------------------------------------

_INT_TYPES = frozenset(
    ("tinyint", "smallint", "integer", "bigint", "utinyint", "usmallint", "uinteger", "ubigint")
)
_SCALAR_KINDS = {**dict.fromkeys(_INT_TYPES, "int"), "double": "float", "varchar": "str",
                 "boolean": "bool", "date": "date", "timestamp": "ts", "timestamp with time zone": "tstz"}
_NESTED_LEAVES = frozenset(("varchar", "boolean", "double", "date", *_INT_TYPES))


class Rows:
    """A result as DuckDB gives it: column names, one kind per column, rows of Python values.

    The CLI renders text formats from it without importing Polars or pyarrow.
    Kinds: ``int``, ``float``, ``str``, ``bool``, ``date``, ``ts`` (naive UTC),
    ``tstz`` (zoned), ``dur`` (an INTERVAL as whole microseconds) and ``nested``
    (lists and structs of plain scalars).
    """

    def __init__(self, columns: list[str], kinds: list[str], rows: list[tuple[Any, ...]]) -> None:
        self.columns = list(columns)
        self.kinds = list(kinds)
        self.rows = rows

    @property
    def height(self) -> int:
        return len(self.rows)

    @property
    def width(self) -> int:
        return len(self.columns)

    def column(self, name: str) -> list[Any]:
        i = self.columns.index(name)
        return [r[i] for r in self.rows]

    def head(self, n: int) -> Rows:
        return Rows(self.columns, self.kinds, self.rows[:n])


def kind_of(dtype: Any, duration: bool = False) -> str | None:
    """The ``Rows`` kind of a DuckDB column type, or None when only Polars renders it exactly.

    Args:
        dtype: a ``duckdb.DuckDBPyType`` (``relation.types``).
        duration: the column is an INTERVAL rewritten as ``epoch_us``.
    """
    if duration:
        return "dur"
    tid = dtype.id
    if tid in _SCALAR_KINDS:
        return _SCALAR_KINDS[tid]
    if tid in ("list", "struct") and all(_plain_leaf(t) for _, t in dtype.children):
        return "nested"
    return None


def _plain_leaf(dtype: Any) -> bool:
    if dtype.id in ("list", "struct"):
        return all(_plain_leaf(t) for _, t in dtype.children)
    return dtype.id in _NESTED_LEAVES


def _iso(value: Any) -> str:
    us = value.microsecond
    frac = "" if us == 0 else (f".{us // 1000:03d}" if us % 1000 == 0 else f".{us:06d}")
    return value.strftime("%Y-%m-%dT%H:%M:%S") + frac + "Z"


def _converters(rows: Rows, *, for_csv: bool) -> list[Any]:
    """Per column: a function from a DuckDB value to what ``_textual`` makes of it."""
    import datetime as dt

    def same(v: Any) -> Any:
        return v

    def ts(v: Any) -> Any:
        return None if v is None else _iso(v)

    def tstz(v: Any) -> Any:
        return None if v is None else _iso(v.astimezone(dt.UTC))

    def dur(v: Any) -> Any:
        return None if v is None else v / 1_000_000

    def flt(v: Any) -> Any:
        return v if v is None or math.isfinite(v) else None

    def nested(v: Any) -> Any:
        return None if v is None else _json_bytes(v).decode("utf-8")

    table = {"ts": ts, "tstz": tstz, "dur": dur, "float": flt}
    if for_csv:
        table["nested"] = nested
    return [table.get(k, same) for k in rows.kinds]


def _textual_rows(rows: Rows, *, for_csv: bool) -> list[list[Any]]:
    conv = _converters(rows, for_csv=for_csv)
    pairs = list(enumerate(conv))
    return [[f(r[i]) for i, f in pairs] for r in rows.rows]


def _csv_field(value: Any, sep: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        # Polars' CSV writer and orjson format floats alike (positional from
        # 1e-5 to below 1e16, else ``1e-7`` / ``1.5e+16``); Python's repr does
        # not (``1e-07``, ``5e-05``). tests/test_render.py checks every magnitude.
        return _json_bytes(value).decode("ascii")
    text = str(value)
    if text == "" or sep in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_rows(rows: Rows, sep: str) -> str:
    if rows.width == 0:
        return "\n"
    lines = [sep.join(_csv_field(c, sep) for c in rows.columns)]
    lines += [sep.join(_csv_field(v, sep) for v in r) for r in _textual_rows(rows, for_csv=True)]
    return "\n".join(lines) + "\n"


def _cells_rows(rows: Rows, null: str) -> tuple[list[str], list[list[str]], list[bool]]:
    numeric = [k in ("int", "float", "dur") for k in rows.kinds]
    cells = [[null if v is None else _display(v) for v in r] for r in _textual_rows(rows, for_csv=True)]
    return list(rows.columns), cells, numeric


def render_rows_text(rows: Rows, fmt: str) -> str:
    """Render ``rows`` as text in any format but parquet: the same bytes as ``render_text``."""
    if fmt in ("json", "jsonl"):
        cols = rows.columns
        dicts = [dict(zip(cols, r, strict=True)) for r in _textual_rows(rows, for_csv=False)]
        if fmt == "json":
            return _json_bytes(dicts).decode("utf-8") + "\n"
        return "".join(_json_bytes(d).decode("utf-8") + "\n" for d in dicts)
    if fmt in ("csv", "tsv"):
        return _csv_rows(rows, "," if fmt == "csv" else "\t")
    if fmt == "markdown":
        return _markdown_cells(*_cells_rows(rows, "")) if rows.width else ""
    if fmt == "table":
        return _table_cells(*_cells_rows(rows, "null")) if rows.width else ""
    raise UsageError(f"format {fmt!r} is not a text format")
