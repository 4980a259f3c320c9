"""Render a result (a Polars DataFrame) in one of the output formats.

Formats: ``table`` (aligned text for a terminal), ``csv``, ``tsv``, ``json``
(one array of objects), ``jsonl`` (one object per line), ``parquet`` (binary:
needs a file or binary stream) and ``markdown`` (a pipe table).

Text formats write timestamps as ISO-8601 UTC (``2026-11-01T06:00:00Z``; the
dataset's naive timestamps hold UTC), dates as ``2026-11-01``, durations as
seconds; JSON writes NaN and infinity as null.
"""

from __future__ import annotations

import io
import math
import os
from typing import IO, TYPE_CHECKING, Any

from rumq.errors import UsageError
from rumq.formats import BINARY_FORMATS, FORMATS

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

__all__ = ["BINARY_FORMATS", "FORMATS", "render", "render_text"]
#: Longest cell shown by the table format (longer values end in an ellipsis).
MAX_CELL = 80


def render(df: pl.DataFrame, fmt: str, out: IO[str] | IO[bytes] | str | os.PathLike[str]) -> None:
    """Write ``df`` to ``out`` in format ``fmt``.

    Args:
        df: the result.
        fmt: one of ``FORMATS``.
        out: a path, a text stream, or (for any format) a binary stream.

    Raises:
        UsageError: unknown format, or ``parquet`` to a text stream.
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown output format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if isinstance(out, str | os.PathLike):
        with open(out, "wb") as fh:
            render(df, fmt, fh)
        return
    if fmt == "parquet":
        if isinstance(out, io.TextIOBase) and not hasattr(out, "buffer"):
            raise UsageError("parquet output is binary: write it to a file with -o FILE")
        target = out.buffer if isinstance(out, io.TextIOBase) else out
        df.write_parquet(target, compression="zstd")
        return
    text = render_text(df, fmt)
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
    headers, rows, numeric = _cells(df, "null")
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
    headers, rows, numeric = _cells(df, "")

    def esc(c: str) -> str:
        return c.replace("|", "\\|")

    out = ["| " + " | ".join(esc(h) for h in headers) + " |"]
    out.append("|" + "|".join("---:" if n else "---" for n in numeric) + "|")
    out += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    return "\n".join(out) + "\n"
