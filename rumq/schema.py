"""The canonical event table: one row per RUM event, every column documented.

This module is the single source of truth for the column list. ``normalize``
produces exactly these columns (a test checks it), ``docs/schema.md`` is
generated from it (a test checks it is current), and the Logs Insights
compiler maps JSON paths to these typed columns.
"""

from __future__ import annotations

from dataclasses import dataclass

NIL_UUID = "00000000-0000-0000-0000-000000000000"

#: Hive partition key of the dataset: the UTC date of ``event_time``.
PARTITION_COLUMN = "event_date"


@dataclass(frozen=True)
class Column:
    """One column of the canonical event table.

    Attributes:
        name: column name.
        type: DuckDB type.
        source: where the value comes from in the RUM message.
        meaning: what it means.
        group: the section of docs/schema.md it belongs to.
    """

    name: str
    type: str
    source: str
    meaning: str
    group: str


def _cols(group: str, rows: list[tuple[str, str, str, str]]) -> list[Column]:
    return [Column(n, t, s, m, group) for n, t, s, m in rows]


COLUMNS: tuple[Column, ...] = tuple(
    _cols(
        "envelope",
        [
            ("event_id", "VARCHAR", "event_id", "Client-generated UUID of the event; the deduplication key."),
            ("event_type", "VARCHAR", "event_type", "Full event type, e.g. `com.amazon.rum.page_view_event`, or a custom type."),
            ("event_name", "VARCHAR", "derived from event_type", "Short name: page_view, js_error, http, navigation, resource, lcp, cls, inp, fid, fcp, ttfb, tti, session_start, dom, xray, rrweb, page_close, or the custom type unchanged."),
            ("event_time", "TIMESTAMP", "event_timestamp", "Event time in UTC (naive TIMESTAMP holding UTC). Whole-second precision in real data."),
            ("event_timestamp", "BIGINT", "event_timestamp", "The raw epoch milliseconds as sent."),
            ("event_version", "VARCHAR", "event_version", "Envelope version (`1.0.0`)."),
            ("application_id", "VARCHAR", "application_id (or application_Id)", "App monitor id."),
            ("application_version", "VARCHAR", "application_version", "Application version passed to the web client; may be empty."),
            ("application_name", "VARCHAR", "application_name", "App monitor name; only GetAppMonitorData records carry it."),
            ("log_group", "VARCHAR", "Firehose envelope logGroup / --log-group", "CloudWatch Logs group, when the source knows it."),
            ("log_stream", "VARCHAR", "log_stream (string, or {seconds,nanos} rendered as YYYY-MM-DDTHH UTC)", "Hourly log stream bucket."),
            ("log_event_id", "VARCHAR", "Firehose logEvents[].id / CLI eventId", "CloudWatch Logs event id, when the source has one."),
            ("log_time", "TIMESTAMP", "export line prefix / logEvents[].timestamp / CLI timestamp", "CloudWatch Logs event timestamp (UTC), when the source has one."),
        ],
    )
    + _cols(
        "session",
        [
            ("session_id", "VARCHAR", "user_details.sessionId (or top-level sessionId)", "Session UUID; NULL when missing or the nil UUID."),
            ("user_id", "VARCHAR", "user_details.userId (or top-level userId)", "Anonymous user UUID (cwr_u cookie); NULL when missing or the nil UUID."),
            ("cookieless", "BOOLEAN", "derived", "True when the user id is the nil UUID or missing: the web client ran without cookies, so every page load is its own session and there is no interaction depth."),
        ],
    )
    + _cols(
        "metadata",
        [
            ("page_id", "VARCHAR", "metadata.pageId (event_details.pageId for page views)", "Page the event was recorded on (raw, not normalized)."),
            ("parent_page_id", "VARCHAR", "metadata.parentPageId", "Previous page in the session (cookies only)."),
            ("interaction", "INTEGER", "event_details.interaction, else metadata.interaction", "Page depth in the session, 0 = landing page (cookies only)."),
            ("title", "VARCHAR", "metadata.title", "Document title."),
            ("domain", "VARCHAR", "metadata.domain", "Host name of the page."),
            ("browser_name", "VARCHAR", "metadata.browserName", "Browser name."),
            ("browser_version", "VARCHAR", "metadata.browserVersion", "Browser version."),
            ("os_name", "VARCHAR", "metadata.osName", "Operating system name."),
            ("os_version", "VARCHAR", "metadata.osVersion", "Operating system version."),
            ("device_type", "VARCHAR", "metadata.deviceType", "desktop, mobile, tablet, ..."),
            ("platform_type", "VARCHAR", "metadata.platformType", "Always `web` for the web client."),
            ("browser_language", "VARCHAR", "metadata.browserLanguage", "navigator.language."),
            ("country_code", "VARCHAR", "metadata.countryCode", "ISO-3166 alpha-2 country (added by the service from the IP)."),
            ("subdivision_code", "VARCHAR", "metadata.subdivisionCode", "Region within the country (added by the service)."),
            ("web_client", "VARCHAR", "metadata['aws:client']", "`arw-script` (CDN snippet) or `arw-module` (NPM)."),
            ("web_client_version", "VARCHAR", "metadata['aws:clientVersion']", "Web client version."),
            ("page_tags", "VARCHAR[]", "metadata.pageTags", "Page groups."),
        ],
    )
    + _cols(
        "page view details",
        [
            ("page_interaction_id", "VARCHAR", "event_details.pageInteractionId", "`pageId-interaction` of a page view."),
            ("parent_page_interaction_id", "VARCHAR", "event_details.parentPageInteractionId", "`parentPageId-(interaction-1)`: the journey edge."),
            ("time_on_parent_page", "DOUBLE", "event_details.timeOnParentPage", "Milliseconds spent on the previous page."),
            ("referrer", "VARCHAR", "event_details.referrer", "document.referrer."),
            ("referrer_domain", "VARCHAR", "event_details.referrerDomain", "Host of the referrer."),
        ],
    )
    + _cols(
        "performance details",
        [
            ("duration", "DOUBLE", "event_details.duration", "Navigation: page load time (loadEventEnd - startTime, ms). Resource: fetch duration (ms)."),
            ("initiator_type", "VARCHAR", "event_details.initiatorType", "navigation / route_change for navigations; the browser's initiator for resources."),
            ("navigation_type", "VARCHAR", "event_details.navigationType", "navigate, reload, back_forward."),
            ("redirect_time", "DOUBLE", "event_details.redirectTime", "Page-load step: redirects (ms)."),
            ("dns_time", "DOUBLE", "event_details.dns", "Page-load step: DNS lookup (ms)."),
            ("connect_time", "DOUBLE", "event_details.connect", "Page-load step: TCP connect (ms)."),
            ("tls_time", "DOUBLE", "event_details.tlsTime", "Page-load step: TLS handshake (ms)."),
            ("time_to_first_byte", "DOUBLE", "event_details.timeToFirstByte", "Page-load step: request to first byte (ms)."),
            ("response_time", "DOUBLE", "event_details.responseTime", "Page-load step: response download (ms)."),
            ("dom_interactive", "DOUBLE", "event_details.domInteractive", "Mark: DOM interactive (ms from start)."),
            ("dom_content_loaded", "DOUBLE", "event_details.domContentLoaded", "Page-load step: DOMContentLoaded handlers (ms)."),
            ("dom_complete", "DOUBLE", "event_details.domComplete", "Mark: DOM complete (ms from start)."),
            ("dom_processing_time", "DOUBLE", "event_details.domProcessingTime", "Page-load step: DOM processing, loadEventStart - responseEnd (ms)."),
            ("load_event_time", "DOUBLE", "event_details.loadEventTime", "Page-load step: load event handlers (ms)."),
            ("target_url", "VARCHAR", "event_details.targetUrl", "Resource URL."),
            ("file_type", "VARCHAR", "event_details.fileType", "Resource file type: document, script, stylesheet, image, font, other."),
            ("transfer_size", "DOUBLE", "event_details.transferSize", "Bytes transferred."),
            ("vital_value", "DOUBLE", "event_details.value", "Web vital value (LCP, FCP, INP, FID, TTFB, TTI in ms; CLS unitless)."),
        ],
    )
    + _cols(
        "error details",
        [
            ("error_type", "VARCHAR", "event_details.type (js_error)", "Error.name, e.g. TypeError."),
            ("error_message", "VARCHAR", "event_details.message (js_error)", "Error message."),
            ("error_stack", "VARCHAR", "event_details.stack (js_error)", "Stack trace (truncated by the client)."),
            ("error_filename", "VARCHAR", "event_details.filename (js_error)", "Script URL."),
            ("error_lineno", "BIGINT", "event_details.lineno (js_error)", "Line number."),
            ("error_colno", "BIGINT", "event_details.colno (js_error)", "Column number."),
            ("http_method", "VARCHAR", "event_details.request.method", "HTTP method."),
            ("http_url", "VARCHAR", "event_details.request.url", "Request URL."),
            ("http_status", "INTEGER", "event_details.response.status", "Response status; NULL on a network failure."),
            ("http_status_text", "VARCHAR", "event_details.response.statusText", "Response status text."),
            ("http_error_type", "VARCHAR", "event_details.error.type", "Network failure type (the request got no response)."),
            ("http_error_message", "VARCHAR", "event_details.error.message", "Network failure message."),
            ("trace_id", "VARCHAR", "event_details.trace_id", "X-Ray / W3C trace id of an HTTP event."),
        ],
    )
    + _cols(
        "raw",
        [
            ("metadata", "JSON", "metadata", "The whole metadata object, custom attributes included. Derived from `message` when read (not stored twice)."),
            ("event_details", "JSON", "event_details", "The whole event_details object, custom events included. Derived from `message` when read (not stored twice)."),
            ("message", "VARCHAR", "the CloudWatch Logs message", "The original message text, byte for byte (for PutRumEvents bodies: the equivalent CloudWatch Logs message; for Parquet / ORC tables without a message column: a reconstruction, see `message_reconstructed`). This is `@message`."),
            ("message_reconstructed", "BOOLEAN", "ingest", "True when `message` was rebuilt from the columns of a Parquet / ORC table (Firehose record format conversion): the canonical JSON of what was read, not the original text; fields the table lacked are absent from it."),
        ],
    )
    + _cols(
        "provenance",
        [
            ("source_file", "VARCHAR", "ingest", "Input file the row came from (as given to ingest, resolved)."),
            ("source_line", "BIGINT", "ingest", "1-based line in the (decompressed) file, or the record ordinal for formats without lines."),
            ("source_format", "VARCHAR", "ingest", "Export format the file was read as."),
            ("ingest_id", "VARCHAR", "ingest", "Id of the ingest run that wrote the row."),
            ("ingested_at", "TIMESTAMP", "ingest", "When that ingest ran (UTC)."),
        ],
    )
)

COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)

#: How ``session_id`` and ``user_id`` are stored: a web client id is a
#: lowercase UUID, kept as a 16-byte UUID (grouping by session then reads and
#: hashes far fewer bytes than 36-character text; figures in docs/ingest.md);
#: any other value is kept as text, unchanged. Exactly one of the pair is set when the
#: id is known.
ID_STORAGE: dict[str, tuple[Column, Column]] = {
    name: (
        Column(f"{stem}_uuid", "UUID", name, f"`{name}` when it is a UUID in canonical (lowercase) form.", "storage"),
        Column(f"{stem}_text", "VARCHAR", name, f"`{name}` when it is anything else, unchanged.", "storage"),
    )
    for name, stem in (("session_id", "session"), ("user_id", "user"))
}


def _id_expr(uuid_col: str, text_col: str) -> str:
    return f"coalesce(CAST({uuid_col} AS VARCHAR), {text_col})"


#: How ``message`` is stored: the event id is random, so it is the costliest
#: part of a compressed message (about a quarter of its bytes), and it is in
#: ``event_id`` already. Where the message holds ``"event_id":"<the id>"``
#: after an ASCII-only prefix, the id's characters are left out of the stored
#: text, stored as the text before and the text after them; the message is
#: rebuilt byte for byte when read (figures in docs/ingest.md, *Bytes on disk*).
#: Two texts rather than one text and a position (format 4 and 5): cutting a
#: long text at a character position walks it, which made every reader of
#: ``message`` 2.4x slower (docs/ingest.md).
MESSAGE_STORAGE: tuple[Column, Column] = (
    Column("message_head", "VARCHAR", "message",
           "`message` up to the left-out event id; the whole message when none was left out.", "storage"),
    Column("message_tail", "VARCHAR", "message",
           "`message` after the left-out event id; NULL when none was left out.", "storage"),
)
#: ``message`` rebuilt from its storage (``MESSAGE_STORAGE``) and ``event_id``.
#: (concat_ws: the same NULL handling in DuckDB, Spark and Trino, where concat's differs.)
MESSAGE_EXPR = ("CASE WHEN message_tail IS NULL THEN message_head "
                "ELSE concat_ws('', message_head, event_id, message_tail) END")

#: Canonical columns computed when the dataset is read, instead of stored:
#: ``message`` from its storage, metadata and event_details from ``message``
#: (which keeps them byte for byte), the ids from their storage pair (``ID_STORAGE``).
DERIVED: dict[str, str] = {
    "metadata": f"json_extract({MESSAGE_EXPR}, '$.metadata')",
    "event_details": f"json_extract({MESSAGE_EXPR}, '$.event_details')",
    "message": MESSAGE_EXPR,
    **{name: _id_expr(u.name, t.name) for name, (u, t) in ID_STORAGE.items()},
}
_STORAGE: dict[str, tuple[Column, ...]] = {**ID_STORAGE, "message": MESSAGE_STORAGE}
#: The columns the Parquet files hold for the canonical table, in order.
STORED_COLUMNS: tuple[Column, ...] = tuple(
    s for c in COLUMNS for s in (_STORAGE.get(c.name) or ((c,) if c.name not in DERIVED else ()))
)
STORED_COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in STORED_COLUMNS)
#: Bookkeeping columns every event file also holds (readers never select them):
#: ``_seq`` the record's ordinal in its ingest, ``_reject`` always NULL there.
INTERNAL_COLUMNS: tuple[str, ...] = ("_seq", "_reject")
#: Exactly the columns of every event file, in order.
FILE_COLUMNS: tuple[str, ...] = STORED_COLUMN_NAMES + INTERNAL_COLUMNS
COLUMNS_BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}

#: event_type -> event_name for the web client's own types.
EVENT_NAMES: dict[str, str] = {
    "com.amazon.rum.session_start_event": "session_start",
    "com.amazon.rum.page_view_event": "page_view",
    "com.amazon.rum.page_close_event": "page_close",
    "com.amazon.rum.performance_navigation_event": "navigation",
    "com.amazon.rum.performance_resource_event": "resource",
    "com.amazon.rum.largest_contentful_paint_event": "lcp",
    "com.amazon.rum.first_input_delay_event": "fid",
    "com.amazon.rum.cumulative_layout_shift_event": "cls",
    "com.amazon.rum.interaction_to_next_paint_event": "inp",
    "com.amazon.rum.first_contentful_paint_event": "fcp",
    "com.amazon.rum.time_to_first_byte_event": "ttfb",
    "com.amazon.rum.time_to_interactive_event": "tti",
    "com.amazon.rum.js_error_event": "js_error",
    "com.amazon.rum.http_event": "http",
    "com.amazon.rum.xray_trace_event": "xray",
    "com.amazon.xray_trace_event": "xray",
    "com.amazon.rum.dom_event": "dom",
    "com.amazon.rum.rrweb_event": "rrweb",
}

#: The web vitals rumq rates, with web-vitals thresholds (good <= first, poor > second).
VITAL_THRESHOLDS: dict[str, tuple[float, float]] = {
    "lcp": (2500, 4000),
    "fcp": (1800, 3000),
    "cls": (0.1, 0.25),
    "inp": (200, 500),
    "fid": (100, 300),
    "ttfb": (800, 1800),
}


def schema_markdown() -> str:
    """Render docs/schema.md from ``COLUMNS`` (kept in sync by a test)."""
    out = [
        "# The canonical event table",
        "",
        "Generated from `rumq/schema.py` (a test fails when this file is stale;",
        "regenerate with `python -m rumq.schema > docs/schema.md`).",
        "",
        "One row per RUM event. The dataset stores it as Hive-partitioned Parquet",
        f"(zstd) under `<data>/events/{PARTITION_COLUMN}=YYYY-MM-DD/`, partitioned by the UTC date of",
        f"`event_time`; `{PARTITION_COLUMN}` (DATE) comes from the path. Times are naive",
        "`TIMESTAMP` values holding UTC.",
        "",
        "The nil UUID `00000000-0000-0000-0000-000000000000` in `session_id`/`user_id`",
        "means unknown (cookies disabled) and is stored as NULL; `cookieless` keeps",
        "the fact. Fields an event type does not have are NULL.",
        "",
        "`metadata` and `event_details` are derived from `message` when the dataset",
        "is read, not stored twice. `session_id` and `user_id` are stored as a pair",
        "each, and `message` without the event id's characters (see *storage* at the",
        "end). The Parquet files also hold two bookkeeping",
        "columns that no view selects: `_seq` (the record's ordinal in its ingest)",
        "and `_reject` (always NULL in event files).",
        "",
    ]
    group = None
    for c in COLUMNS:
        if c.group != group:
            group = c.group
            out += ["", f"## {group}", "", "| column | type | source field | meaning |", "|---|---|---|---|"]
        out.append(f"| `{c.name}` | {c.type} | {c.source} | {c.meaning} |")
    out += [
        "",
        "## storage",
        "",
        "How the Parquet files hold `session_id`, `user_id` and `message` (the views and",
        "`Dataset.events()` give the canonical columns above; these matter only to",
        "whoever reads the files directly). Exactly one of an id pair is set when the id",
        "is known; the canonical value is `coalesce(CAST(<x>_uuid AS VARCHAR), <x>_text)`.",
        f"The message is `{MESSAGE_EXPR}`.",
        "",
        "| column | type | meaning |",
        "|---|---|---|",
    ]
    out += [f"| `{c.name}` | {c.type} | {c.meaning} |" for pair in _STORAGE.values() for c in pair]
    out += [
        "",
        "## event_name",
        "",
        "| event_type | event_name |",
        "|---|---|",
    ]
    out += [f"| `{k}` | `{v}` |" for k, v in EVENT_NAMES.items()]
    out += ["| anything else (custom events) | the event_type unchanged |", ""]
    return "\n".join(out)


if __name__ == "__main__":  # pragma: no cover
    print(schema_markdown(), end="")
