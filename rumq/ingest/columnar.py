"""Columnar exports: Parquet and ORC files of RUM events (Firehose record format conversion, Athena CTAS).

Firehose can convert the CloudWatch Logs messages it receives to Parquet or
ORC with a schema taken from an AWS Glue table. What lands in S3 then holds
only the columns of that schema: the envelope keys as columns, and
``metadata`` / ``user_details`` / ``event_details`` either as structs (any
subset of their fields; the OpenX JSON SerDe lowercases the keys by default)
or as JSON strings. A table that kept the raw message (a ``message`` or
``@message`` column) is read as messages, as they are.

Otherwise the message text no longer exists: each row becomes a
*reconstructed* message, the canonical JSON of what was read (RUM spellings
of the keys, nulls left out, integral numbers written as integers as the
JavaScript web client does), which normalize then reads like any other
message. Such events are marked (``message_reconstructed``), and the fields
the file's schema lacked are reported (``ReadStats.missing_fields``) and
kept in the manifest, so ``rumq info`` can say what analyses they cost.

Read with pyarrow (``pyarrow.parquet`` and ``pyarrow.orc``): one library for
both formats, batch by batch (memory stays bounded); DuckDB's
``read_parquet`` reads no ORC (see docs/ingest.md for the measurements).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

PARQUET, ORC = "parquet", "orc"
#: Rows converted at a time (a Parquet row group can hold millions).
BATCH_ROWS = 8_192

#: Columns that hold the raw CloudWatch Logs message, by lowercased name.
MESSAGE_COLUMNS = ("@message", "message")
#: Columns of a Logs Insights / CTAS table besides the message, by lowercased name.
_LOG_COLUMNS = {"@log": "log_group", "log_group": "log_group", "loggroup": "log_group",
                "@logstream": "stream", "logstream": "stream",
                "@timestamp": "time", "timestamp": "time"}

#: Top-level keys of a RUM message (CloudWatch Logs envelope), in the order the service writes them.
ENVELOPE_KEYS = ("event_timestamp", "event_type", "event_id", "event_version", "log_stream", "application_id",
                 "application_version", "application_name", "metadata", "user_details", "event_details",
                 "sessionId", "userId")
#: The sub-documents: struct or JSON string columns.
DOCUMENTS = ("metadata", "user_details", "event_details")
REQUIRED = ("event_type", "event_id", "event_timestamp")

#: The true spelling of every camelCase key of the RUM web client's event
#: schemas (aws-rum-web ``event-schemas/*.json``, metadata included) and of
#: the service's envelope: a lowercased key (OpenX JSON SerDe) maps back to it.
_CAMEL_KEYS = (
    "appBuildTime", "appName", "aws:clientVersion", "aws:releaseId", "aws:userAgent", "browserLanguage",
    "browserName", "browserVersion", "cacheDuration", "commitHash", "compressionRatio", "connectStart",
    "connectionDuration", "countryCode", "cssLocator", "deviceType", "dnsDuration", "domComplete",
    "domContentLoaded", "domContentLoadedEventStart", "domInteractive", "domProcessingTime", "domainLookupStart",
    "elementId", "elementRenderDelay", "eventCount", "eventTarget", "eventTime", "eventType", "fetchStart",
    "fileType", "firstByteToFCP", "headerSize", "initiatorType", "inputDelay", "interactionId",
    "interactionTarget", "interactionTime", "interactionType", "largestShiftTarget", "largestShiftTime",
    "largestShiftValue", "lcpResourceEntry", "loadEventStart", "loadEventTime", "loadState", "navigationEntry",
    "navigationTimingLevel", "navigationType", "nextHopProtocol", "nextPaintTime", "osName", "osVersion", "pageId",
    "pageInteractionId", "pageTags", "pageTitle", "pageUrl", "parentPageId", "parentPageInteractionId",
    "platformType", "presentationDelay", "processingDuration", "promptForUnload", "redirectCount",
    "redirectStart", "redirectTime", "referrerDomain", "referrerUrl", "requestDuration", "requestStart",
    "resourceLoadDelay", "resourceLoadTime", "responseStart", "responseTime", "secureConnectionStart",
    "sessionId", "startTime", "statusText", "subdivisionCode", "targetUrl", "timeOnParentPage",
    "timeToFirstByte", "tlsTime", "transferSize", "unloadEventStart", "userId", "waitingDuration", "workerStart",
    "workerTime", "application_Id",
)
SPELLINGS: dict[str, str] = {k.lower(): k for k in _CAMEL_KEYS if k != "application_Id"}


@functools.cache
def _expected_fields() -> tuple[str, ...]:
    """Dotted paths of the fields rumq reads from a message (``rumq.normalize``), envelope first."""
    from rumq.normalize import MESSAGE_STRUCTURE

    out = [k for k in ("event_timestamp", "event_type", "event_id", "event_version", "log_stream",
                       "application_id", "application_version")]

    def walk(prefix: str, struct: dict) -> None:
        for k, v in struct.items():
            if isinstance(v, dict):
                walk(f"{prefix}.{k}", v)
            else:
                out.append(f"{prefix}.{k}")

    for doc in DOCUMENTS:
        walk(doc, MESSAGE_STRUCTURE[doc])
    return tuple(out)


#: What is lost without a field: the analyses (named queries) that need it.
CONSEQUENCES: dict[str, str] = {
    "event_details.duration": "no page-load analysis (performance/page_load)",
    "event_details.value": "no web vitals (performance/web_vitals)",
    "event_details.interaction": "no interaction depth of page views (journeys, pages/entry, pages/drop_off)",
    "event_details.pageId": "page views without a page (pages, journeys)",
    "event_details.parentPageInteractionId": "no journey edges (journeys/transitions)",
    "event_details.response.status": "no HTTP status (http/errors)",
    "event_details.request.url": "no HTTP request URL (http/errors)",
    "event_details.type": "no JS error types (errors/top_js)",
    "event_details.message": "no JS error messages (errors/top_js)",
    "metadata.pageId": "no page of non-page-view events (pages, errors by page)",
    "metadata.browserName": "no browsers (audience/browsers)",
    "metadata.deviceType": "no devices (audience/devices)",
    "metadata.countryCode": "no countries (audience/countries)",
    "user_details.sessionId": "no sessions (every session-based analysis)",
    "user_details.userId": "every event counts as cookieless (users, sessions)",
    "event_type": "every row is rejected (required field)",
    "event_id": "every row is rejected (required field)",
    "event_timestamp": "every row is rejected (required field)",
}


def sniff(head: bytes) -> str | None:
    """``PARQUET`` or ``ORC`` when the file's first bytes are that format's magic, else None."""
    if head[:4] == b"PAR1":
        return PARQUET
    if head[:3] == b"ORC":
        return ORC
    return None


class ColumnarError(Exception):
    """The file cannot be read as RUM events (damaged, or not a RUM schema): the reason."""


def open_batches(path: Path, fmt: str) -> tuple[Any, Iterator[Any]]:
    """The file's schema and an iterator of its record batches.

    Raises:
        ColumnarError: the file cannot be opened (truncated, not Parquet / ORC).
    """
    import pyarrow as pa

    # An object in a store is read by ranged GETs, not copied to local disk first.
    source = path.open_random() if hasattr(path, "open_random") else path
    try:
        if fmt == PARQUET:
            import pyarrow.parquet as pq

            pf = pq.ParquetFile(source)
            # No thread pool: Firehose objects are small, and ingest already runs a worker per core
            # (threads made reading ~300 small objects about twice as slow).
            return pf.schema_arrow, pf.iter_batches(batch_size=BATCH_ROWS, use_threads=False)
        import pyarrow.orc as po

        of = po.ORCFile(source)

        def stripes() -> Iterator[Any]:
            for i in range(of.nstripes):
                stripe = of.read_stripe(i)
                for start in range(0, stripe.num_rows, BATCH_ROWS):
                    yield stripe.slice(start, BATCH_ROWS)

        return of.schema, stripes()
    except (pa.ArrowException, OSError, ValueError) as e:
        what = "Parquet" if fmt == PARQUET else "ORC"
        raise ColumnarError(f"cannot read the {what} file: {_short(e)} (truncated or damaged? "
                            "re-download it or leave it out)") from None


def _short(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0][:300] if text else type(e).__name__


class Plan:
    """How a file's columns map to a RUM message.

    Attributes:
        message: the raw-message column, when the file has one (then read as messages).
        columns: top-level column name -> the RUM key it holds.
        log: column name -> ``log_group`` / ``stream`` / ``time`` (message tables).
        missing: dotted RUM fields the file's schema lacks (reconstructed files only).
    """

    def __init__(self, schema: Any) -> None:
        import pyarrow as pa

        self.message: str | None = None
        self.columns: dict[str, str] = {}
        self.log: dict[str, str] = {}
        self.missing: list[str] = []
        by_lower: dict[str, Any] = {}
        for f in schema:
            by_lower.setdefault(f.name.lower(), f)
        for name in MESSAGE_COLUMNS:
            f = by_lower.get(name)
            if f is not None and (pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
                                  or pa.types.is_binary(f.type)):
                self.message = f.name
                self.log = {by_lower[k].name: v for k, v in _LOG_COLUMNS.items() if k in by_lower}
                return
        envelope = {k.lower(): k for k in ENVELOPE_KEYS}
        for low, f in by_lower.items():
            if low in envelope:
                self.columns[f.name] = envelope[low]
        if not set(self.columns.values()) & set(REQUIRED):
            cols = ", ".join(f.name for f in list(schema)[:12]) + (", ..." if len(schema) > 12 else "")
            raise ColumnarError(
                f"no event_type, event_id or event_timestamp column, and no message column: not RUM events "
                f"(columns: {cols or 'none'}); rumq reads tables of RUM events by column name")
        fields = {v: f for f in schema for k, v in self.columns.items() if f.name == k}
        for path in _expected_fields():
            if not _has(fields, path.split(".")):
                self.missing.append(path)


def _has(fields: dict[str, Any], parts: list[str]) -> bool:
    """True when a column (or struct field, case-insensitively) holds the dotted path; JSON strings hold all."""
    import pyarrow as pa

    f = fields.get(parts[0])
    if f is None:
        return False
    typ = f.type
    for part in parts[1:]:
        if not pa.types.is_struct(typ):
            return not pa.types.is_nested(typ)  # a JSON string (or binary) may hold any field
        g = _lower_fields(typ).get(part.lower())
        if g is None:
            return False
        typ = g.type
    return True


def _lower_fields(typ: Any) -> dict[str, Any]:
    """A struct type's fields by lowercased name (first one wins)."""
    out = _LOWER_FIELDS.get(typ)
    if out is None:
        out = {}
        for i in range(typ.num_fields):
            out.setdefault(typ.field(i).name.lower(), typ.field(i))
        _LOWER_FIELDS[typ] = out
    return out


#: ``_lower_fields`` per struct type: thousands of Firehose objects share one schema.
_LOWER_FIELDS: dict[Any, dict[str, Any]] = {}


def _key(k: str) -> str:
    """A struct field name with its RUM spelling (OpenX JSON SerDe lowercases keys); unknown keys stay as read."""
    return SPELLINGS.get(k.lower(), k)


def _value(v: Any) -> Any:
    """A value read from Arrow as the JSON value the web client would have sent."""
    if v is None or isinstance(v, (str, bool, int)):
        return v
    if isinstance(v, float):
        # JSON.stringify writes integral numbers without a fraction.
        return int(v) if v.is_integer() and abs(v) < 2**53 else v
    if isinstance(v, dict):
        return {_key(k): _value(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        if v and all(isinstance(x, tuple) and len(x) == 2 for x in v):  # an Arrow map: (key, value) pairs
            return {_key(str(k)): _value(x) for k, x in v if x is not None}
        return [_value(x) for x in v]
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, Decimal):
        return _value(float(v)) if v != v.to_integral_value() else int(v)
    if isinstance(v, dt.datetime):
        return v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def _epoch_ms(v: Any) -> Any:
    """event_timestamp as epoch milliseconds: a Glue ``timestamp`` or a numeric string is converted."""
    if isinstance(v, dt.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=dt.UTC)
        return int(v.timestamp() * 1000)
    if isinstance(v, str) and v.isdigit():
        return int(v)
    return _value(v)


def _number(v: Any) -> Any:
    # JSON.stringify writes integral numbers without a fraction.
    return int(v) if v is not None and v.is_integer() and abs(v) < 2**53 else v


def _pylist(arr: Any) -> list[Any]:
    """An Arrow array as JSON values, column-wise.

    A struct is filled field by field with only its non-null values (a Glue
    struct declares every field of every event type, but a row has a few),
    so the Python work grows with the values present, not with rows x fields.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    t = arr.type
    if pa.types.is_struct(t):
        out: list[Any] = [{} if v else None for v in arr.is_valid().to_pylist()]
        for i, child in enumerate(arr.flatten()):  # flatten: the parent's nulls merged into each child
            present = len(child) - child.null_count
            if present == 0:
                continue
            name = _key(t.field(i).name)
            if present * 4 < len(child):  # sparse (most fields): only the rows that have it
                idx = pc.indices_nonzero(child.is_valid())
                for j, v in zip(idx.to_pylist(), _pylist(child.take(idx)), strict=True):
                    out[j][name] = v
            else:
                for j, v in enumerate(_pylist(child)):
                    if v is not None:
                        out[j][name] = v
        return out
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_integer(t) or pa.types.is_boolean(t):
        return arr.to_pylist()
    if pa.types.is_floating(t):
        return [_number(v) for v in arr.to_pylist()]
    return [_value(v) for v in arr.to_pylist()]  # lists, maps, timestamps, decimals, binary: value by value


def batch_messages(rb: Any, plan: Plan) -> list[tuple[str | None, str | None]]:
    """(reconstructed message, reject reason) of each row of a record batch.

    The message holds the envelope keys in the order the service writes
    them, the documents with RUM spellings and without nulls.
    """
    import pyarrow as pa

    n = rb.num_rows
    docs: list[dict[str, Any]] = [{} for _ in range(n)]
    rejects: list[str | None] = [None] * n
    by_key = {key: col for col, key in plan.columns.items()}
    for key in ENVELOPE_KEYS:
        col = by_key.get(key)
        if col is None:
            continue
        arr = rb.column(col)
        as_json = key in DOCUMENTS and not pa.types.is_struct(arr.type)
        for j, v in enumerate(_pylist(arr)):
            if v is None:
                continue
            if key == "event_timestamp":
                v = _epoch_ms(v)
            elif as_json:
                if not isinstance(v, str) or not v.strip():
                    continue
                try:
                    v = orjson.loads(v)
                except orjson.JSONDecodeError as e:
                    rejects[j] = rejects[j] or f"column {col} holds invalid JSON ({e}); expected a JSON object"
                    continue
            docs[j][key] = v
    return [(None, r) if r else (orjson.dumps(d).decode(), None) for d, r in zip(docs, rejects, strict=True)]


def read_columnar(path: Path, fmt: str, stats: Any) -> Iterator[Any]:
    """Stream a Parquet or ORC file as ``RawBatch``es (messages read, or reconstructed).

    A file that cannot be read at all, or has no RUM columns, is one reject
    with the reason; a file damaged part-way keeps the rows read before.
    """
    import pyarrow as pa

    from rumq.ingest.readers import RawBatch

    what = "Parquet" if fmt == PARQUET else "ORC"
    try:
        schema, batches = open_batches(path, fmt)
        plan = Plan(schema)
    except ColumnarError as e:
        b = RawBatch()
        b.add("", 1, reject=str(e))
        yield b
        return
    stats.reconstructed = plan.message is None
    stats.missing_fields = list(plan.missing)
    row = 0
    batch = RawBatch(reconstructed=plan.message is None)
    try:
        for rb in batches:
            if plan.message is not None:
                cols = rb.to_pydict()
                names = list(cols)
                for values in zip(*cols.values(), strict=True):
                    row += 1
                    _add_message_row(batch, dict(zip(names, values, strict=True)), row, plan)
            else:
                for k, (text, reject) in enumerate(batch_messages(rb, plan)):
                    row += 1
                    if reject is None:
                        batch.add(text, row)
                    else:
                        rec = rb.slice(k, 1).to_pylist()[0]
                        raw = orjson.dumps({c: _value(v) for c, v in rec.items()}, default=str).decode()
                        batch.add(raw, row, reject=f"row {row}: {reject}")
            if batch.full():
                yield batch
                batch = RawBatch(reconstructed=plan.message is None)
    except (pa.ArrowException, OSError, ValueError) as e:
        reason = f"damaged {what} file after row {row}: {_short(e)}; rows after this point are lost"
        batch.add("", row + 1, reject=reason)
        stats.problems.append(f"{path}: {reason}")
    if len(batch):
        yield batch


def _add_message_row(batch: Any, rec: dict[str, Any], row: int, plan: Plan) -> None:
    """One row of a table that holds the raw message (and maybe its log group, stream and time)."""
    msg = rec.get(plan.message or "")
    if isinstance(msg, bytes):
        msg = msg.decode("utf-8", "replace")
    log_group = stream = time_ms = None
    for col, what in plan.log.items():
        v = rec.get(col)
        if what == "log_group":
            log_group = v
        elif what == "stream":
            stream = v
        else:
            time_ms = _epoch_ms(v)
    if msg is None:
        batch.add(None, row, reject=f"row {row}: the {plan.message} column is null")
    else:
        batch.add(msg, row, log_group=log_group, stream=stream, time_ms=time_ms)


def missing_fields_summary(lacking: dict[str, int]) -> list[dict[str, Any]]:
    """Fields Parquet / ORC sources lacked, those that cost an analysis first.

    Args:
        lacking: dotted field -> how many input files lacked it.

    Returns:
        ``[{"field", "inputs", "consequence"}]`` (``consequence`` None for a
        field no built-in analysis needs), in ``CONSEQUENCES`` order, then by name.
    """
    order = {f: i for i, f in enumerate(CONSEQUENCES)}
    fields = sorted(lacking, key=lambda f: (order.get(f, len(order)), f))
    return [{"field": f, "inputs": lacking[f], "consequence": CONSEQUENCES.get(f)} for f in fields]


def missing_fields_notices(summary: list[dict[str, Any]], files_word: str = "Parquet/ORC input(s)") -> list[str]:
    """Human lines for ``missing_fields_summary``: one per field that costs an analysis, one for the rest."""
    out = [f"no {s['field']} in {s['inputs']} {files_word} (read as NULL): {s['consequence']}"
           for s in summary if s["consequence"]]
    rest = [s["field"] for s in summary if not s["consequence"]]
    if rest:
        shown = ", ".join(rest[:6]) + (f" and {len(rest) - 6} more" if len(rest) > 6 else "")
        out.append(f"{files_word} also lack {len(rest)} other field(s), read as NULL: {shown}")
    return out
