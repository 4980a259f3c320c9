"""How rumq writes an event file: the one definition of its Parquet settings.

Ingest (``rumq.ingest.staging``, ``rumq.ingest.dedup``), ``rumq compact`` and
``rumq migrate`` all write event files through here, so a file's codec, level,
page size, dictionaries and encodings do not depend on who wrote it. Every
choice was measured (docs/ingest.md, *Bytes on disk*):

- zstd everywhere; level 1 on the ingest path (level 9 saves about 8% of the
  bytes for three to four times the compression CPU, and compression is a
  third of an ingest's instructions), level 9 in compact and migrate, which
  run once per day of data and off the ingest path;
- 1 MB data pages on the ingest path, 8 MB in compact and migrate: a larger
  page of ``message`` gives zstd more context (4% smaller at level 1) but cost
  about half again the writer's CPU at level 1;
- no dictionary for the unique or nearly unique columns (ids, times, the
  message) nor for floating-point values; ``byte_stream_split`` for the
  floating-point columns (a sixth smaller), delta encoding for the two
  counters (``_seq``, ``source_line``: from 2 MB to nearly nothing per million events);
- the session and user ids keep their dictionary up to a row group of
  distinct values (4 MB dictionary pages): session aggregations read them
  dictionary-encoded (docs/analyses.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: zstd level of the files an ingest writes, and of those compact and migrate write.
INGEST_LEVEL = 1
COMPACT_LEVEL = 9
#: Data page size (bytes) by zstd level.
PAGE_BYTES = {INGEST_LEVEL: 1 << 20, COMPACT_LEVEL: 8 << 20}
#: Dictionary pages may hold a row group of distinct session ids (16 bytes each).
DICTIONARY_PAGE_BYTES = 4 << 20
#: Unique (or nearly unique) columns: a dictionary only costs time and bytes.
NO_DICTIONARY = frozenset({"message", "message_head", "message_tail", "event_id", "log_event_id", "page_interaction_id",
                           "parent_page_interaction_id", "source_line", "_seq", "event_timestamp",
                           "event_time", "log_time", "error_stack", "trace_id", "_reject"})
#: Counters that grow by one from row to row.
DELTA_COLUMNS = frozenset({"_seq", "source_line"})
#: The only text columns an ingest gives min/max statistics. Row groups mix
#: pages, ids and URLs, so their min/max never lets a scan skip one, and
#: comparing every value costs ingest time (docs/ingest.md). Numbers and
#: timestamps keep theirs (time windows skip on them); compact's files have
#: statistics for every column.
TEXT_STATISTICS = frozenset({"event_name", "event_type", "application_id", "application_name", "log_group"})


def writer_options(schema: Any, *, level: int, all_statistics: bool) -> dict[str, Any]:
    """Keyword arguments of ``pyarrow.parquet.ParquetWriter`` for an event file of ``schema``.

    Args:
        schema: the pyarrow schema of the rows.
        level: zstd level (``INGEST_LEVEL`` or ``COMPACT_LEVEL``).
        all_statistics: min/max statistics for every column (else numbers,
            timestamps and ``TEXT_STATISTICS`` only).
    """
    import pyarrow as pa

    encoding: dict[str, str] = {}
    dictionary: list[str] = []
    for f in schema:
        if pa.types.is_floating(f.type):
            encoding[f.name] = "BYTE_STREAM_SPLIT"
        elif f.name in DELTA_COLUMNS and pa.types.is_integer(f.type):
            encoding[f.name] = "DELTA_BINARY_PACKED"
        elif f.name not in NO_DICTIONARY:
            dictionary.append(f.name)
    statistics: bool | list[str] = True if all_statistics else [
        f.name for f in schema if not pa.types.is_string(f.type) or f.name in TEXT_STATISTICS]
    return {"compression": "zstd", "compression_level": level, "data_page_size": PAGE_BYTES.get(level, 1 << 20),
            "dictionary_pagesize_limit": DICTIONARY_PAGE_BYTES, "use_dictionary": dictionary,
            "column_encoding": encoding, "write_statistics": statistics}


def open_writer(path: str | Path, schema: Any, *, level: int = INGEST_LEVEL, all_statistics: bool = False) -> Any:
    """A ``pyarrow.parquet.ParquetWriter`` for an event file (see ``writer_options``)."""
    import pyarrow.parquet as pq

    return pq.ParquetWriter(str(path), schema, **writer_options(schema, level=level, all_statistics=all_statistics))


def plain_batch(rb: Any) -> Any:
    """``rb`` with DuckDB's lossless Arrow booleans (``arrow.bool8``) made plain booleans.

    DuckDB hands UUIDs to Arrow as 16-byte ``arrow.uuid`` values only with
    ``arrow_lossless_conversion``, which also turns BOOLEAN into ``arrow.bool8``;
    Parquet should hold plain BOOLEAN.
    """
    import pyarrow as pa

    for i, f in enumerate(rb.schema):
        if f.type == pa.bool8():
            rb = rb.set_column(i, f.name, rb.column(i).cast(pa.bool_()))
    return rb


def write_query(con: Any, sql: str, out: str | Path, *, level: int, group_rows: int, group_bytes: int,
                all_statistics: bool = True) -> int:
    """Stream the rows of a DuckDB query into the event file ``out``; return how many rows.

    Row groups hold up to ``group_rows`` rows and about ``group_bytes`` bytes
    (a RUM record can be 1 MiB), so memory stays bounded by one row group.
    The file is written even when the query returns no row.
    """
    import pyarrow as pa

    con.execute("SET arrow_lossless_conversion = true").fetchall()
    reader = con.sql(sql).to_arrow_reader(batch_size=2048)
    held: list[Any] = []
    rows = size = total = 0
    writer = None
    try:
        for rb in reader:
            rb = plain_batch(rb)
            if writer is None:
                writer = open_writer(out, rb.schema, level=level, all_statistics=all_statistics)
            held.append(rb)
            rows += rb.num_rows
            size += rb.nbytes
            if rows >= group_rows or size >= group_bytes:
                writer.write_table(pa.Table.from_batches(held), row_group_size=max(min(rows, group_rows), 1))
                total += rows
                held, rows, size = [], 0, 0
        if writer is None:  # no row at all: an empty file of the query's columns
            schema = plain_batch(reader.schema.empty_table()).schema
            writer = open_writer(out, schema, level=level, all_statistics=all_statistics)
        if held:
            writer.write_table(pa.Table.from_batches(held), row_group_size=max(min(rows, group_rows), 1))
            total += rows
    finally:
        if writer is not None:
            writer.close()
    return total
