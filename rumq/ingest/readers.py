"""Export formats: detect a file's format from its content and stream its records.

Every reader yields ``RawBatch``es: the CloudWatch Logs message text of each
record plus what the export knows about it. A record the reader itself cannot
make sense of (bad prefix, invalid UTF-8, oversized, a damaged gzip tail, a
document of unknown shape) is still yielded, with ``pre_reject`` saying why,
so every record is accounted for.

Formats (shapes in docs/ingest.md):

* ``jsonl``: one message per line (also Firehose with message extraction,
  and GetAppMonitorData records one per line).
* ``cwl-export``: CreateExportTask objects, lines ``<ISO-8601|epoch-ms> <message>``.
* ``firehose``: subscription-filter documents concatenated with no separator.
* ``logs-cli``: ``aws logs filter-log-events`` / ``get-log-events`` /
  ``get-query-results`` output.
* ``appmonitor-data``: ``aws rum get-app-monitor-data`` output (``Events``).
* ``putrumevents``: PutRumEvents request bodies.
* ``parquet`` / ``orc``: tables of RUM events (Firehose record format
  conversion, Athena CTAS), read by ``rumq.ingest.columnar``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from rumq.ingest.sources import SKIP_NAMES, DecodeProblem, head_and_problem, head_bytes, iter_bytes

#: CloudWatch Logs' largest event is 1 MiB; a longer record is not a RUM event.
MAX_RECORD_BYTES = 1 << 20
#: How much of a rejected record's raw text the rejects file keeps.
MAX_REJECT_RAW = 64 << 10
#: Records a reader holds as Python strings before handing them on (the
#: careful path): a batch ends at this many records or at BATCH_CHARS of
#: message text, whichever comes first (records may be 1 MiB).
BATCH_ROWS = 30_000
BATCH_CHARS = 12 << 20

BOM = "\ufeff"
_EXPORT_PREFIX = re.compile(rb"^(\d{4}-\d{2}-\d{2}[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?|\d{10,16}) [{\[]")
_FIRST_KEY = re.compile(rb'^\s*\{\s*"([^"\\]{1,64})"')

_EVENT_KEYS = {"event_type", "event_id", "event_timestamp", "event_details", "resource", "scope"}

#: The key ``rumq generate`` writes first in its ground-truth file
#: (``rumq.generate.truth.MARKER``): such a file is skipped, never read as data.
TRUTH_MARKER = "rumq_ground_truth"
_TRUTH_HEAD = re.compile(rb'^\s*\{\s*"' + TRUTH_MARKER.encode() + rb'"\s*:')
#: A file whose first line is not a whole JSON value may be one JSON document
#: spread over many lines (pretty-printed); up to this size (decoded) it is
#: parsed whole to find out, and then read as one document, not line by line.
DOCUMENT_MAX_BYTES = 64 << 20
#: ``detect``'s results besides ``rumq.ingest.formats.FORMATS``: one multi-line JSON document, a
#: ground-truth file of ``rumq generate``, an export-task check object, an
#: empty file, a file in no known format.
DOCUMENT, TRUTH, SKIP, EMPTY, UNKNOWN = "json-document", "rumq-truth", "skip", "empty", "unknown"


@dataclass
class RawBatch:
    """Columns of raw records (see ``rumq.normalize.RAW_COLUMNS``)."""

    raw: list[str | None] = field(default_factory=list)
    line: list[int] = field(default_factory=list)
    log_group: list[str | None] = field(default_factory=list)
    log_stream_hint: list[str | None] = field(default_factory=list)
    log_event_id: list[str | None] = field(default_factory=list)
    log_time_ms: list[int | None] = field(default_factory=list)
    pre_reject: list[str | None] = field(default_factory=list)
    chars: int = 0  # message text held, to bound a batch's memory
    #: The messages are reconstructed from columns (Parquet / ORC), not the original text.
    reconstructed: bool = False

    def __len__(self) -> int:
        return len(self.line)

    def full(self) -> bool:
        return len(self.line) >= BATCH_ROWS or self.chars >= BATCH_CHARS

    def extend_plain(self, raws: list[str], lines: list[int]) -> None:
        """Append records that only have message text (the JSON-lines fast path)."""
        k = len(raws)
        self.chars += sum(map(len, raws))
        self.raw.extend(raws)
        self.line.extend(lines)
        pad = [None] * k
        for col in (self.log_group, self.log_stream_hint, self.log_event_id, self.log_time_ms, self.pre_reject):
            col.extend(pad)

    def to_arrow(self, seq_start: int, source_file: str, source_format: str) -> Any:
        """The batch as a pyarrow Table (schema ``raw_schema()``)."""
        import pyarrow as pa

        n = len(self)
        cols = {
            "raw": pa.array(self.raw, pa.string()),
            "line": pa.array(self.line, pa.int64()),
        }
        for name, typ in (("log_group", pa.string()), ("log_stream_hint", pa.string()),
                          ("log_event_id", pa.string()), ("log_time_ms", pa.int64()), ("pre_reject", pa.string())):
            values = getattr(self, name)
            cols[name] = pa.nulls(n, typ) if not any(v is not None for v in values) else pa.array(values, typ)
        return _raw_table(cols, n, seq_start, source_file, source_format, self.reconstructed)

    def add(
        self,
        raw: str | None,
        line: int,
        *,
        log_group: str | None = None,
        stream: str | None = None,
        event_id: str | None = None,
        time_ms: int | None = None,
        reject: str | None = None,
    ) -> None:
        if reject is not None and raw is not None and len(raw) > MAX_REJECT_RAW:
            raw = raw[:MAX_REJECT_RAW]
            reject += f" (raw text truncated to {MAX_REJECT_RAW} characters in the rejects file)"
        # Envelope fields come from user documents: anything but the expected type is dropped.
        log_group, stream, event_id = (v if isinstance(v, str) else None for v in (log_group, stream, event_id))
        time_ms = _int_ms(time_ms)
        self.raw.append(raw)
        self.chars += len(raw) if raw else 0
        self.line.append(line)
        self.log_group.append(log_group)
        self.log_stream_hint.append(stream)
        self.log_event_id.append(event_id)
        self.log_time_ms.append(time_ms)
        self.pre_reject.append(reject)

    def default_log_group(self, group: str) -> None:
        """``--log-group``: the group of every record whose export names none."""
        self.log_group = [g if g is not None else group for g in self.log_group]

    def truncate(self, n: int) -> None:
        """Forget the records added after the first ``n``."""
        for col in (self.raw, self.line, self.log_group, self.log_stream_hint, self.log_event_id,
                    self.log_time_ms, self.pre_reject):
            del col[n:]
        self.chars = sum(len(r) for r in self.raw if r)


def _raw_table(cols: dict[str, Any], n: int, seq_start: int, source_file: str, source_format: str,
               reconstructed: bool = False) -> Any:
    """``cols`` plus where the ``n`` records came from, as a table of ``raw_schema()``."""
    import pyarrow as pa

    cols = {**cols, "source_file": pa.repeat(source_file, n).cast(pa.string()),
            "source_format": pa.repeat(source_format, n).cast(pa.string()),
            "reconstructed": pa.repeat(reconstructed, n).cast(pa.bool_()),
            "seq": pa.array(range(seq_start, seq_start + n), pa.int64())}
    return pa.table(cols, schema=raw_schema())


def raw_schema() -> Any:
    """The pyarrow schema of the batches handed to normalize (``RAW_COLUMNS`` + ``seq``)."""
    import pyarrow as pa

    from rumq.normalize import RAW_COLUMNS

    types = {"VARCHAR": pa.string(), "BIGINT": pa.int64(), "BOOLEAN": pa.bool_()}
    return pa.schema([(name, types[t]) for name, t in RAW_COLUMNS] + [("seq", pa.int64())])


class LineBlock:
    """A block of plain JSON lines already in Arrow form (the fast path).

    The records are views into the decompressed bytes: no Python string per
    line. Built only for blocks where every line is an ordinary record (see
    ``_fast_block``); anything unusual goes through ``RawBatch``.
    """

    def __init__(self, raw: Any, first_line: int) -> None:
        self.raw = raw  # pa.StringArray
        self.first_line = first_line
        self.log_group: str | None = None  # --log-group, for every record

    def __len__(self) -> int:
        return len(self.raw)

    def default_log_group(self, group: str) -> None:
        """``--log-group``: plain JSON lines never name one."""
        self.log_group = group

    def to_arrow(self, seq_start: int, source_file: str, source_format: str) -> Any:
        """The block as a pyarrow Table (schema ``raw_schema()``)."""
        import pyarrow as pa

        n = len(self.raw)
        cols = {
            "raw": self.raw,
            "line": pa.array(range(self.first_line, self.first_line + n), pa.int64()),
            "log_group": (pa.nulls(n, pa.string()) if self.log_group is None
                          else pa.repeat(self.log_group, n).cast(pa.string())),
            "log_stream_hint": pa.nulls(n, pa.string()),
            "log_event_id": pa.nulls(n, pa.string()),
            "log_time_ms": pa.nulls(n, pa.int64()),
            "pre_reject": pa.nulls(n, pa.string()),
        }
        return _raw_table(cols, n, seq_start, source_file, source_format)


def _fast_block(data: bytearray, end: int, first_line: int) -> LineBlock | None:
    """``data[:end]`` (complete lines, each ending in a newline) as a ``LineBlock``, or None.

    None when any line needs the careful path: not starting with ``{`` (blank,
    indented, arrays, garbage), CRLF endings, longer than ``MAX_RECORD_BYTES``,
    or invalid UTF-8. ``data`` is read in place (no copy) and no view of it
    is kept: the caller may change it afterwards.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if data.find(b"\r", 0, end) >= 0:
        return None
    # Split, check and validate in Arrow: no Python object per line. The
    # block is one binary value over the buffer itself; the split copies it.
    offsets = pa.array([0, end], pa.int32()).buffers()[1]
    block = pa.Array.from_buffers(pa.binary(), 1, [None, offsets, pa.py_buffer(data)])
    lines = pc.split_pattern(block, "\n").values
    del block  # releases the buffer: ``data`` may be resized again
    lines = lines.slice(0, len(lines) - 1)  # the empty tail after the last newline
    if len(lines) == 0 or not pc.all(pc.starts_with(lines, "{")).as_py():
        return None
    if pc.max(pc.binary_length(lines)).as_py() > MAX_RECORD_BYTES:
        return None
    try:
        raw = lines.cast(pa.string())  # validates UTF-8
    except pa.ArrowInvalid:
        return None
    return LineBlock(raw, first_line)


@dataclass
class ReadStats:
    """What a reader saw besides records (reported in the ingest summary)."""

    control_messages: int = 0
    problems: list[str] = field(default_factory=list)
    #: Parquet / ORC: the messages were reconstructed from columns (no message column).
    reconstructed: bool = False
    #: Parquet / ORC: dotted RUM fields the file's schema lacked (read as NULL).
    missing_fields: list[str] = field(default_factory=list)


# -- detection ---------------------------------------------------------------


def detect(path: Path) -> str:
    """Guess a file's export format from its content.

    Returns one of ``rumq.ingest.formats.FORMATS``, or ``DOCUMENT`` (one JSON document over
    many lines, read whole), ``TRUTH`` (a ground-truth file of ``rumq
    generate``), ``SKIP`` (export-task permission check object), ``EMPTY``,
    or ``UNKNOWN``.
    """
    if path.name in SKIP_NAMES:
        return SKIP
    from rumq.ingest.columnar import sniff

    # One read of the head serves both checks (one ranged GET for an object).
    raw = head_bytes(path, 1 << 16)
    columnar = sniff(raw[:4])
    if columnar is not None:
        return columnar
    head, problem = head_and_problem(path, raw=raw)
    if problem is not None and not head.strip():
        return UNKNOWN  # nothing decodable at all (e.g. gzip of garbage)
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    head = head.lstrip()
    if not head:
        return EMPTY
    if head.startswith(b"Permission Check Successful"):
        return SKIP
    if _TRUTH_HEAD.match(head):
        return TRUTH
    if _EXPORT_PREFIX.match(head):
        return "cwl-export"
    if head[:1] in (b"{", b"["):
        first_line = head.split(b"\n", 1)[0].strip()
        try:
            doc = orjson.loads(first_line)
        except orjson.JSONDecodeError:
            doc = None
        if isinstance(doc, dict):
            return _shape_format(set(doc)) or "jsonl"
        if isinstance(doc, list):
            return "jsonl"
        m = _FIRST_KEY.match(head)
        shape = _shape_format({m.group(1).decode()}) if m else None
        if shape not in (None, "jsonl"):
            return shape  # a known envelope: read as documents whatever its layout
        # Not JSON lines after all? One pretty-printed document (not RUM data,
        # or a single event) is one record, not one reject per line.
        whole = _one_document(path)
        if whole is not None:
            return TRUTH if is_truth_document(whole) else DOCUMENT
        if m:
            return shape or "jsonl"
        if head[:1] == b"{" and b'"messageType"' in head[:4096]:
            return "firehose"
        return "jsonl"
    return UNKNOWN



def is_truth_file(path: Path) -> bool:
    """True for a ``rumq generate`` ground-truth file (``is_truth_document``), read only as far as needed."""
    head, _ = head_and_problem(path, 4096)
    head = head.removeprefix(b"\xef\xbb\xbf")
    if _TRUTH_HEAD.match(head):
        return True
    m = _FIRST_KEY.match(head)  # written before the marker: "params" came first
    return bool(m and m.group(1) == b"params" and is_truth_document(_one_document(path)))


def is_truth_document(doc: Any) -> bool:
    """True for a ground-truth document of ``rumq generate``: its marker key, or
    (files written before the marker) its three parts with the generator's parameters."""
    if not isinstance(doc, dict):
        return False
    if TRUTH_MARKER in doc:
        return True
    params = doc.get("params")
    return (set(doc) == {"params", "apps", "total"} and isinstance(params, dict)
            and {"sessions", "days", "seed"} <= set(params))


def _one_document(path: Path) -> Any:
    """The file's content parsed as one JSON value (dict or list), or None when it is not one."""
    data = bytearray()
    try:
        for chunk in iter_bytes(path):
            data += chunk
            if len(data) > DOCUMENT_MAX_BYTES:
                return None
    except DecodeProblem:
        return None
    try:
        doc = orjson.loads(bytes(data.removeprefix(b"\xef\xbb\xbf")))
    except orjson.JSONDecodeError:
        return None
    return doc if isinstance(doc, (dict, list)) else None


def _shape_format(keys: set[str]) -> str | None:
    if keys & {"messageType", "logEvents", "subscriptionFilters"}:
        return "firehose"
    if keys & {"RumEvents", "BatchId", "AppMonitorDetails", "UserDetails", "SessionMetadata"}:
        return "putrumevents"
    if keys & {"Events", "NextToken"}:
        return "appmonitor-data"
    if keys & {"events", "nextForwardToken", "nextBackwardToken", "searchedLogStreams", "results", "statistics"}:
        return "logs-cli"
    if keys & _EVENT_KEYS:
        return "jsonl"
    return None


# -- line formats --------------------------------------------------------------


#: Decompressed bytes of JSON lines gathered before trying the fast path.
FAST_BLOCK_BYTES = 4 << 20


class _Lines:
    """The bytes a reader holds and has not handed on: complete lines, then the start of the next.

    One buffer, grown and never shrunk, reused block after block: a block of
    lines goes to Arrow without a copy (``_fast_block``), and no block of the
    file costs a fresh allocation (page faults on every block, otherwise).
    """

    def __init__(self) -> None:
        self.buf = bytearray()
        self.n = 0  # bytes in use

    def __len__(self) -> int:
        return self.n

    def add(self, chunk: bytes) -> None:
        m = self.n + len(chunk)
        if m <= len(self.buf):
            self.buf[self.n : m] = chunk  # same length: copied in place
        else:
            del self.buf[self.n :]
            self.buf += chunk
        self.n = m

    def lines_end(self) -> int:
        """Where the complete lines end (just past the last newline); 0 when there is none."""
        return self.buf.rfind(b"\n", 0, self.n) + 1

    def drop(self, end: int) -> None:
        """Forget the first ``end`` bytes."""
        rest = self.n - end
        self.buf[:rest] = self.buf[end : self.n]
        self.n = rest

    def head(self, end: int) -> bytes:
        return bytes(self.buf[:end])


def read_lines(path: Path, *, prefixed: bool, stats: ReadStats) -> Iterator[RawBatch | LineBlock]:
    """Stream a JSON-lines (or export-task, when ``prefixed``) file in batches."""
    batch = RawBatch()
    lineno = 0
    held = _Lines()
    first = True
    skipping = False  # inside an enormous line already rejected: drop to its end
    ts_cache: dict[str, int | None] = {}

    def take(end: int) -> Iterator[RawBatch | LineBlock]:
        """Hand on the complete lines that end at ``end`` (just past a newline) and drop them."""
        nonlocal batch, lineno
        fast = None if prefixed else _fast_block(held.buf, end, lineno + 1)
        if fast is None:
            lineno = _add_chunk(batch, held.head(end - 1), lineno, prefixed, ts_cache)
            held.drop(end)
            if batch.full():
                yield batch
                batch = RawBatch()
            return
        held.drop(end)
        if len(batch):  # keep the records in file order
            yield batch
            batch = RawBatch()
        lineno += len(fast)
        yield fast

    try:
        for chunk in iter_bytes(path):
            if first:
                first = False
                if chunk.startswith(b"\xef\xbb\xbf"):
                    chunk = chunk[3:]
            if skipping:
                nl = chunk.find(b"\n")
                if nl < 0:
                    continue
                chunk, skipping = chunk[nl + 1 :], False
            held.add(chunk)
            if len(held) < FAST_BLOCK_BYTES and len(held) <= 4 * MAX_RECORD_BYTES:
                continue
            if end := held.lines_end():
                yield from take(end)
            if len(held) > 4 * MAX_RECORD_BYTES:  # what is left has no newline: one enormous line
                lineno += 1
                batch.add(_safe_decode(held.head(MAX_REJECT_RAW)), lineno,
                          reject=f"record longer than {4 * MAX_RECORD_BYTES} bytes: not a RUM event")
                held.drop(len(held))
                skipping = True
    except DecodeProblem as e:
        if end := held.lines_end():
            yield from take(end)
        # Keep what was decoded before the damage; say what happened to the rest.
        if len(held) and not skipping:
            for text, _bad in _decode_lines(held.head(len(held))):
                lineno += 1
                batch.add(text, lineno, reject=f"{e}; this last record is incomplete")
        else:
            lineno += 1
            batch.add("", lineno, reject=f"{e} after line {lineno - 1}; any records after it are lost")
        held.drop(len(held))
        stats.problems.append(f"{path}: {e}")
    if end := held.lines_end():
        yield from take(end)
    if len(held) and not skipping:
        for text, bad in _decode_lines(held.head(len(held))):
            lineno += 1
            _add_line(batch, text, bad, lineno, prefixed, ts_cache)
    if len(batch):
        yield batch


def _add_chunk(batch: RawBatch, data: bytes, lineno: int, prefixed: bool, ts_cache: dict[str, int | None]) -> int:
    """Add the complete lines in ``data``; return the last line number used."""
    try:
        lines = data.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        for text, bad in _decode_lines(data):
            lineno += 1
            _add_line(batch, text, bad, lineno, prefixed, ts_cache)
        return lineno
    if prefixed:
        for text in lines:
            lineno += 1
            _add_line(batch, text, None, lineno, prefixed, ts_cache)
        return lineno
    # JSON lines fast path: plain lines in bulk, anything unusual one by one.
    raws: list[str] = []
    nums: list[int] = []
    for i, text in enumerate(lines, lineno + 1):
        if text.endswith("\r"):
            text = text[:-1]
        if not text or (text[0] != "{" and text.isspace()):
            continue
        if len(text) > MAX_RECORD_BYTES:
            batch.extend_plain(raws, nums)
            raws, nums = [], []
            _add_line(batch, text, None, i, prefixed, ts_cache)
            continue
        raws.append(text)
        nums.append(i)
    batch.extend_plain(raws, nums)
    return lineno + len(lines)


def _decode_lines(data: bytes) -> list[tuple[str, str | None]]:
    """Split bytes into lines: (text, problem) pairs; problem set for invalid UTF-8."""
    try:
        return [(ln, None) for ln in data.decode("utf-8").split("\n")]
    except UnicodeDecodeError:
        out: list[tuple[str, str | None]] = []
        for raw in data.split(b"\n"):
            try:
                out.append((raw.decode("utf-8"), None))
            except UnicodeDecodeError as e:
                out.append((raw.decode("utf-8", "replace"), f"invalid UTF-8 at byte {e.start + 1} of the line"))
        return out


def _safe_decode(b: bytes) -> str:
    return b.decode("utf-8", "replace")


def _add_line(
    batch: RawBatch, text: str, bad: str | None, lineno: int, prefixed: bool, ts_cache: dict[str, int | None]
) -> None:
    if text.endswith("\r"):
        text = text[:-1]
    if not text.strip():
        return  # blank lines are not records
    if bad:
        batch.add(text, lineno, reject=bad)
        return
    if len(text) > MAX_RECORD_BYTES:
        batch.add(text, lineno, reject=f"record longer than {MAX_RECORD_BYTES} bytes ({len(text)} characters): not a RUM event")
        return
    if not prefixed:
        batch.add(text, lineno)
        return
    sp = text.find(" ")
    stamp = text[:sp] if sp > 0 else ""
    if stamp not in ts_cache:
        ts_cache[stamp] = _parse_stamp(stamp)
        if len(ts_cache) > 100_000:
            ts_cache.clear()
    ms = ts_cache.get(stamp)
    if ms is None:
        batch.add(text, lineno, reject="expected '<timestamp> <message>' (an export-task line starts with an ISO-8601 or epoch-milliseconds timestamp and a space)")
        return
    batch.add(text[sp + 1 :], lineno, time_ms=ms)


def _parse_stamp(stamp: str) -> int | None:
    if not stamp:
        return None
    if stamp.isdigit():
        return int(stamp)
    try:
        dt = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


# -- document formats ----------------------------------------------------------


def read_documents(path: Path, *, fmt: str | None, stats: ReadStats) -> Iterator[RawBatch]:
    """Stream JSON documents concatenated or whitespace-separated (Firehose, CLI, API bodies).

    ``fmt`` restricts the accepted document shape (None accepts every shape).
    """
    data = bytearray()
    problem: DecodeProblem | None = None
    try:
        for chunk in iter_bytes(path):
            data += chunk
    except DecodeProblem as e:
        problem = e
    # gzip inside gzip (Firehose with its own compression on top) is undone by iter_bytes.
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        text = data.decode("utf-8", "replace")
        stats.problems.append(f"{path}: invalid UTF-8 at byte {e.start}; replaced")
    del data
    if text.startswith(BOM):
        text = text[1:]
    batch = RawBatch()
    decoder = json.JSONDecoder()
    pos, n = 0, len(text)
    line, line_pos = 1, 0  # line number of ``line_pos``
    ws = re.compile(r"\s*")
    while True:
        pos = ws.match(text, pos).end()  # type: ignore[union-attr]
        if pos >= n:
            break
        line += text.count("\n", line_pos, pos)
        line_pos = pos
        try:
            doc, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as e:
            nl = text.find("\n", pos)
            stop = n if nl < 0 else nl
            # Resynchronise at the next document start on this line, if any ("}{").
            nxt = text.find("}{", e.pos, stop)
            stop = nxt + 1 if nxt >= 0 else stop
            col = e.pos - text.rfind("\n", 0, e.pos)
            batch.add(text[pos:stop], line, reject=f"invalid JSON at line {e.lineno}, column {col}: {e.msg}")
            pos = stop
            continue
        _dispatch(doc, text[pos:end], line, fmt, batch, stats)
        pos = end
        if batch.full():
            yield batch
            batch = RawBatch()
    if problem is not None:
        batch.add("", line, reject=f"{problem}; records after this point are lost")
        stats.problems.append(f"{path}: {problem}")
    if len(batch):
        yield batch


def _dispatch(doc: Any, doc_text: str, line: int, fmt: str | None, batch: RawBatch, stats: ReadStats) -> None:
    """Add the records of one document; a document whose parts have the wrong types is one reject."""
    start = len(batch)
    try:
        _dispatch_document(doc, doc_text, line, fmt, batch, stats)
    except (TypeError, AttributeError, ValueError, KeyError, OverflowError) as e:
        # A known envelope with inner parts of the wrong type (a list where an
        # object belongs, ...): nothing of it is trusted, all of it is kept.
        batch.truncate(start)
        batch.add(doc_text, line, reject=f"export document of a known shape with parts of the wrong type: {e} "
                                         "(is it an unmodified export?)")


def _dispatch_document(doc: Any, doc_text: str, line: int, fmt: str | None, batch: RawBatch,
                       stats: ReadStats) -> None:
    shape = _shape_format(set(doc)) if isinstance(doc, dict) else ("jsonl" if isinstance(doc, list) else None)
    if shape is None:
        keys = ", ".join(sorted(doc)[:8]) if isinstance(doc, dict) else type(doc).__name__
        batch.add(doc_text, line, reject=f"JSON document of unknown shape ({keys}): not a RUM event or a known export envelope")
        return
    if fmt is not None and shape != fmt and not (shape == "jsonl" and fmt in ("jsonl", None)):
        batch.add(doc_text, line, reject=f"expected a {fmt} document (forced with --input-format), found {shape}")
        return
    if shape == "jsonl":
        if isinstance(doc, list):
            for item in doc:
                batch.add(orjson.dumps(item).decode() if not isinstance(item, str) else item, line)
        else:
            batch.add(doc_text, line)
    elif shape == "firehose":
        _firehose(doc, doc_text, line, batch, stats)
    elif shape == "logs-cli":
        _logs_cli(doc, doc_text, line, batch)
    elif shape == "appmonitor-data":
        events = doc.get("Events")
        if not isinstance(events, list):
            batch.add(doc_text, line, reject="GetAppMonitorData output without an Events list")
            return
        for ev in events:
            if isinstance(ev, str):
                batch.add(ev, line)
            else:
                batch.add(orjson.dumps(ev).decode(), line)
    elif shape == "putrumevents":
        _putrumevents(doc, doc_text, line, batch)


def _firehose(doc: dict, doc_text: str, line: int, batch: RawBatch, stats: ReadStats) -> None:
    kind = doc.get("messageType")
    if kind == "CONTROL_MESSAGE":
        stats.control_messages += 1
        return
    events = doc.get("logEvents")
    if kind != "DATA_MESSAGE" or not isinstance(events, list):
        batch.add(doc_text, line, reject=f"Firehose document with messageType {kind!r} and no logEvents list")
        return
    group, stream = doc.get("logGroup"), doc.get("logStream")
    for i, ev in enumerate(events):
        msg = ev.get("message") if isinstance(ev, dict) else None
        if not isinstance(msg, str):
            batch.add(orjson.dumps(ev).decode(), line, log_group=group, stream=stream,
                      reject=f"logEvents[{i}] has no message string")
            continue
        ts = ev.get("timestamp")
        batch.add(msg, line, log_group=group, stream=stream, event_id=_str_or_none(ev.get("id")),
                  time_ms=ts)


def _logs_cli(doc: dict, doc_text: str, line: int, batch: RawBatch) -> None:
    if isinstance(doc.get("events"), list):
        for i, ev in enumerate(doc["events"]):
            msg = ev.get("message") if isinstance(ev, dict) else None
            if not isinstance(msg, str):
                batch.add(orjson.dumps(ev).decode(), line, reject=f"events[{i}] has no message string")
                continue
            ts = ev.get("timestamp")
            batch.add(msg, line, stream=_str_or_none(ev.get("logStreamName")),
                      event_id=_str_or_none(ev.get("eventId")), time_ms=ts)
        return
    results = doc.get("results")
    if not isinstance(results, list):
        batch.add(doc_text, line, reject="CLI output without an events or results list")
        return
    for i, row in enumerate(results):
        fields = {}
        if isinstance(row, list):
            fields = {f.get("field"): f.get("value") for f in row if isinstance(f, dict)}
        msg = fields.get("@message")
        if not isinstance(msg, str):
            batch.add(orjson.dumps(row).decode(), line,
                      reject=f"results[{i}] has no @message field (run the Logs Insights query with `fields @message`)")
            continue
        batch.add(msg, line, log_group=_str_or_none(fields.get("@log")), stream=_str_or_none(fields.get("@logStream")),
                  time_ms=_parse_insights_time(fields.get("@timestamp")))


def _parse_insights_time(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        dt = datetime.strptime(value, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
    except ValueError:
        return _parse_stamp(value)
    return int(dt.timestamp() * 1000)


def _putrumevents(doc: dict, doc_text: str, line: int, batch: RawBatch) -> None:
    """PutRumEvents body -> one CloudWatch Logs-shaped message per RumEvent."""
    events = doc.get("RumEvents")
    if not isinstance(events, list):
        batch.add(doc_text, line, reject="PutRumEvents body without a RumEvents list")
        return
    app = doc.get("AppMonitorDetails") or {}
    user = doc.get("UserDetails") or {}
    session_md: dict[str, Any] = {}
    if isinstance(doc.get("SessionMetadata"), str):
        try:
            session_md = json.loads(doc["SessionMetadata"])
        except ValueError:
            session_md = {}
    for i, ev in enumerate(events):
        if not isinstance(ev, dict):
            batch.add(orjson.dumps(ev).decode(), line, reject=f"RumEvents[{i}] is not an object")
            continue
        try:
            details = _json_field(ev.get("details"), "details")
            metadata = _json_field(ev.get("metadata"), "metadata")
        except ValueError as e:
            # No colon after the index: a summary groups reasons by the text before it.
            batch.add(orjson.dumps(ev).decode(), line, reject=f"RumEvents[{i}] {e}")
            continue
        ts = ev.get("timestamp")
        ts_ms, stream = ts, None
        if isinstance(ts, (int, float)) and not isinstance(ts, bool):
            # Seconds -> milliseconds. An absurd value stays a number (a float
            # JSON can hold) so normalize rejects it with the usual range reason.
            ts_ms = int(ts * 1000) if abs(ts) < 1e15 else float(ts) * 1000
            try:
                stream = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H")
            except (OverflowError, OSError, ValueError):
                stream = None
        # Key order of the CloudWatch Logs envelope (see real-samples.jsonl).
        msg = {
            "event_timestamp": ts_ms,
            "event_type": ev.get("type"),
            "event_id": ev.get("id"),
            "event_version": "1.0.0",
            "log_stream": stream,
            "application_id": app.get("id"),
            "application_version": app.get("version", ""),
            "metadata": {**session_md, **(metadata or {})},
            "user_details": {"sessionId": user.get("sessionId"), "userId": user.get("userId")},
            "event_details": details if details is not None else {},
        }
        batch.add(orjson.dumps(msg).decode(), line)


def _int_ms(value: Any) -> int | None:
    """An export's epoch-milliseconds field, if it is an integer that fits a BIGINT column."""
    if isinstance(value, int) and not isinstance(value, bool) and -(1 << 62) < value < (1 << 62):
        return value
    return None


def _json_field(value: Any, name: str) -> Any:
    if value is None:
        return None
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            out = json.loads(value)
        except ValueError as e:
            raise ValueError(f"{name} is not valid JSON ({e.args[0]}); PutRumEvents sends it as a JSON object "
                             "encoded in a string") from None
        if not isinstance(out, dict):
            raise ValueError(f"{name} must encode a JSON object")
        return out
    raise ValueError(f"{name} must be a JSON string or object")


def _str_or_none(v: Any) -> str | None:
    return v if isinstance(v, str) else (str(v) if v is not None else None)


def read(path: Path, fmt: str, stats: ReadStats) -> Iterator[RawBatch | LineBlock]:
    """Records of ``path`` read as ``fmt`` (one of ``rumq.ingest.formats.FORMATS``, or ``DOCUMENT``)."""
    if fmt == "jsonl":
        # JSON lines whose lines turn out to be envelopes are read as documents.
        return read_lines(path, prefixed=False, stats=stats)
    if fmt == "cwl-export":
        return read_lines(path, prefixed=True, stats=stats)
    if fmt in ("parquet", "orc"):
        from rumq.ingest.columnar import read_columnar

        return read_columnar(path, fmt, stats)
    if fmt == DOCUMENT:  # any shape, but one document: an unknown one is one reject
        return read_documents(path, fmt=None, stats=stats)
    return read_documents(path, fmt=fmt, stats=stats)
