"""Field resolution: Logs Insights field names -> SQL over the ``events`` view.

Logs Insights discovers every JSON path of a RUM message (``metadata.browserName``,
``event_details.items.0.sku``). rumq answers such a name from a typed column of
``rumq.schema`` when the column holds exactly that value, and by JSON
extraction otherwise:

* ``metadata.*`` paths read the ``metadata`` column and ``event_details.*`` the
  ``event_details`` column (both are the message's objects, smaller to parse than
  the whole message); everything else reads ``message`` (``@message``).
* Paths use JSON Pointer (``/event_details/items/0/sku``), where ``0`` selects an
  array element or an object key ``"0"``, as the flattened name does.
* Some typed columns are filled only for the event types that define the field
  (``duration`` for navigation and resource events). Unless the query's filters
  pin the event type to such types, their names resolve to the column's value or,
  where the column is NULL, the JSON value: a custom event carrying
  ``event_details.duration`` still has it, whatever its JSON type. A numeric
  column's value is then an ``ANY`` value (its text, as for any JSON field, with
  ``Typed.num`` reading numbers straight from the column); DuckDB evaluates the
  extraction only for rows where the column is NULL.
* rumq stores the nil UUID session/user id as NULL; Logs Insights sees the
  string ``00000000-...``. ``user_details.sessionId``/``userId`` fall back to the
  message, so they show what Logs Insights shows.

Values reach SQL as bound parameters: the JSON pointer of a field is a
parameter, never formatted text.
"""

from __future__ import annotations

from dataclasses import dataclass

# Static types of compiled expressions.
NUM = "num"  # DOUBLE / BIGINT / INTEGER
STR = "str"  # VARCHAR
ANY = "any"  # VARCHAR holding a JSON scalar: number or string, decided per row
TS = "ts"  # TIMESTAMP (UTC)
BOOL = "bool"  # BOOLEAN (shown and summed as 1/0)
NULL = "null"  # a field no event has
LIST = "list"  # VARCHAR[] (split)
JSON = "json"  # VARCHAR holding a JSON object or array (jsonParse); its fields are read by dot access


@dataclass(frozen=True)
class Typed:
    """A compiled SQL expression and its static type.

    ``num``: for an ``ANY`` value that a typed column usually answers, the same value read
    as a DOUBLE without going through its text (NULL where the text is not a number), so
    comparisons and aggregates with numbers stay on the typed column. None: read the text.
    """

    sql: str
    type: str
    num: str | None = None


#: System fields: the @-names every Logs Insights log event has (docs/insights.md, "Fields").
SYSTEM_FIELDS: dict[str, Typed] = {
    "@timestamp": Typed("event_time", TS),
    "@message": Typed("message", STR),
    "@logStream": Typed("log_stream", STR),
    "@log": Typed("log_group", STR),
    "@ingestionTime": Typed("log_time", TS),
}

# Flattened name -> (column, type, exact). exact=False: the column is NULL for some
# events that do carry the field (filled only for some event types, or the nil UUID
# stored as NULL), so the JSON path is the fallback.
TYPED_FIELDS: dict[str, tuple[str, str, bool]] = {
    "event_type": ("event_type", STR, True),
    "event_id": ("event_id", STR, True),
    "event_version": ("event_version", STR, True),
    "event_timestamp": ("event_timestamp", NUM, True),
    "application_id": ("application_id", STR, True),
    "application_version": ("application_version", STR, True),
    "log_stream": ("log_stream", STR, True),
    "user_details.sessionId": ("session_id", STR, False),
    "user_details.userId": ("user_id", STR, False),
    "metadata.pageId": ("page_id", STR, True),
    "metadata.parentPageId": ("parent_page_id", STR, True),
    "metadata.title": ("title", STR, True),
    "metadata.domain": ("domain", STR, True),
    "metadata.browserName": ("browser_name", STR, True),
    "metadata.browserVersion": ("browser_version", STR, True),
    "metadata.osName": ("os_name", STR, True),
    "metadata.osVersion": ("os_version", STR, True),
    "metadata.deviceType": ("device_type", STR, True),
    "metadata.platformType": ("platform_type", STR, True),
    "metadata.browserLanguage": ("browser_language", STR, True),
    "metadata.countryCode": ("country_code", STR, True),
    "metadata.subdivisionCode": ("subdivision_code", STR, True),
    "metadata.aws:client": ("web_client", STR, True),
    "metadata.aws:clientVersion": ("web_client_version", STR, True),
    "event_details.pageInteractionId": ("page_interaction_id", STR, False),
    "event_details.parentPageInteractionId": ("parent_page_interaction_id", STR, False),
    "event_details.timeOnParentPage": ("time_on_parent_page", NUM, False),
    "event_details.referrer": ("referrer", STR, False),
    "event_details.referrerDomain": ("referrer_domain", STR, False),
    "event_details.duration": ("duration", NUM, False),
    "event_details.initiatorType": ("initiator_type", STR, False),
    "event_details.navigationType": ("navigation_type", STR, False),
    "event_details.redirectTime": ("redirect_time", NUM, False),
    "event_details.dns": ("dns_time", NUM, False),
    "event_details.connect": ("connect_time", NUM, False),
    "event_details.tlsTime": ("tls_time", NUM, False),
    "event_details.timeToFirstByte": ("time_to_first_byte", NUM, False),
    "event_details.responseTime": ("response_time", NUM, False),
    "event_details.domInteractive": ("dom_interactive", NUM, False),
    "event_details.domContentLoaded": ("dom_content_loaded", NUM, False),
    "event_details.domComplete": ("dom_complete", NUM, False),
    "event_details.domProcessingTime": ("dom_processing_time", NUM, False),
    "event_details.loadEventTime": ("load_event_time", NUM, False),
    "event_details.targetUrl": ("target_url", STR, False),
    "event_details.fileType": ("file_type", STR, False),
    "event_details.transferSize": ("transfer_size", NUM, False),
    "event_details.value": ("vital_value", NUM, False),
    "event_details.type": ("error_type", STR, False),
    "event_details.message": ("error_message", STR, False),
    "event_details.stack": ("error_stack", STR, False),
    "event_details.filename": ("error_filename", STR, False),
    "event_details.lineno": ("error_lineno", NUM, False),
    "event_details.colno": ("error_colno", NUM, False),
    "event_details.request.method": ("http_method", STR, False),
    "event_details.request.url": ("http_url", STR, False),
    "event_details.response.status": ("http_status", NUM, False),
    "event_details.response.statusText": ("http_status_text", STR, False),
    "event_details.error.type": ("http_error_type", STR, False),
    "event_details.error.message": ("http_error_message", STR, False),
    "event_details.trace_id": ("trace_id", STR, False),
}


#: For the inexact columns: the event names (``rumq.schema.EVENT_NAMES`` values) whose
#: events always have the column filled from the field. When a query's filters
#: restrict it to such event types, the column alone answers the field (no JSON).
FILLED_FOR: dict[str, frozenset[str]] = {
    "page_interaction_id": frozenset(('page_view',)),
    "parent_page_interaction_id": frozenset(('page_view',)),
    "time_on_parent_page": frozenset(('page_view',)),
    "referrer": frozenset(('page_view',)),
    "referrer_domain": frozenset(('page_view',)),
    "duration": frozenset(('navigation', 'resource')),
    "initiator_type": frozenset(('navigation', 'resource')),
    "navigation_type": frozenset(('navigation',)),
    "redirect_time": frozenset(('navigation',)),
    "dns_time": frozenset(('navigation',)),
    "connect_time": frozenset(('navigation',)),
    "tls_time": frozenset(('navigation',)),
    "time_to_first_byte": frozenset(('navigation',)),
    "response_time": frozenset(('navigation',)),
    "dom_interactive": frozenset(('navigation',)),
    "dom_content_loaded": frozenset(('navigation',)),
    "dom_complete": frozenset(('navigation',)),
    "dom_processing_time": frozenset(('navigation',)),
    "load_event_time": frozenset(('navigation',)),
    "target_url": frozenset(('resource',)),
    "file_type": frozenset(('resource',)),
    "transfer_size": frozenset(('navigation', 'resource')),
    "vital_value": frozenset(('lcp', 'fid', 'cls', 'inp', 'fcp', 'ttfb', 'tti')),
    "error_type": frozenset(('js_error',)),
    "error_message": frozenset(('js_error',)),
    "error_stack": frozenset(('js_error',)),
    "error_filename": frozenset(('js_error',)),
    "error_lineno": frozenset(('js_error',)),
    "error_colno": frozenset(('js_error',)),
    "http_method": frozenset(('http',)),
    "http_url": frozenset(('http',)),
    "http_status": frozenset(('http',)),
    "http_status_text": frozenset(('http',)),
    "http_error_type": frozenset(('http',)),
    "http_error_message": frozenset(('http',)),
    "trace_id": frozenset(('http',)),
}


def json_pointer(segments: list[str]) -> str:
    """RFC 6901 pointer for a list of keys (``~`` and ``/`` escaped)."""
    return "".join("/" + s.replace("~", "~0").replace("/", "~1") for s in segments)


def json_source(name: str) -> tuple[str, str]:
    """The JSON column to read a flattened name from, and the pointer inside it."""
    segments = name.split(".")
    if len(segments) > 1 and segments[0] in ("metadata", "event_details"):
        return segments[0], json_pointer(segments[1:])
    return "message", json_pointer(segments)


def describe(name: str) -> str:
    """Where a field name is read from, in words (for docs and --explain)."""
    if name in SYSTEM_FIELDS:
        return f"column {SYSTEM_FIELDS[name].sql}"
    if name in TYPED_FIELDS:
        col, _, exact = TYPED_FIELDS[name]
        return f"column {col}" + ("" if exact else " (JSON when NULL)")
    if name.startswith("@"):
        return "absent"
    src, ptr = json_source(name)
    return f"JSON {src} {ptr}"
