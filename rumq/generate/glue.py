"""What Firehose record format conversion writes: RUM messages as rows of a Glue table schema.

Two documented Glue schemas (docs/ingest.md):

* ``structs``: ``metadata``, ``user_details`` and ``event_details`` as
  structs whose field names are lowercased (the OpenX JSON SerDe's default),
  declaring the fields of the web client's event schemas plus the custom
  attributes the generator sends; attributes nobody declared are dropped.
* ``json-strings``: the three documents as ``string`` columns holding their
  JSON text (nothing is lost but the message's own text).

``messages_table`` converts messages for any such schema (tests build
schemas that lack fields with it).
"""

from __future__ import annotations

from typing import Any

import orjson

GLUE_SCHEMAS = ("structs", "json-strings")

_S, _D, _I = "string", "double", "bigint"

#: Envelope columns: name -> Glue type.
ENVELOPE = {"event_timestamp": _I, "event_type": _S, "event_id": _S, "event_version": _S, "log_stream": _S,
            "application_id": _S, "application_version": _S}

#: ``structs``: the fields of each document (RUM spelling; written lowercased) and their Glue types.
METADATA = {
    "version": _S, "browserLanguage": _S, "browserName": _S, "browserVersion": _S, "osName": _S, "osVersion": _S,
    "deviceType": _S, "platformType": _S, "pageId": _S, "parentPageId": _S, "interaction": _I, "title": _S,
    "domain": _S, "aws:client": _S, "aws:clientVersion": _S, "countryCode": _S, "subdivisionCode": _S,
    "pageTags": ["string"], "abTest": _S,
}
USER_DETAILS = {"sessionId": _S, "userId": _S}
_ATTRIBUTION = {k: _D for k in (
    "cacheDuration", "connectionDuration", "dnsDuration", "elementRenderDelay", "eventTime", "firstByteToFCP",
    "inputDelay", "interactionTime", "largestShiftTime", "largestShiftValue", "nextPaintTime", "presentationDelay",
    "processingDuration", "requestDuration", "resourceLoadDelay", "resourceLoadTime", "timeToFirstByte",
    "waitingDuration")} | {k: _S for k in (
        "element", "eventTarget", "eventType", "interactionTarget", "interactionType", "largestShiftTarget",
        "loadState", "navigationEntry", "url")}
EVENT_DETAILS: dict[str, Any] = {
    "version": _S, "pageId": _S, "interaction": _I, "pageInteractionId": _S, "parentPageInteractionId": _S,
    "timeOnParentPage": _D, "referrer": _S, "referrerDomain": _S,
    # performance navigation / resource
    **{k: _D for k in (
        "duration", "startTime", "redirectTime", "redirectStart", "redirectCount", "dns", "connect", "tlsTime",
        "timeToFirstByte", "responseTime", "domInteractive", "domContentLoaded", "domContentLoadedEventStart",
        "domComplete", "domProcessingTime", "loadEventTime", "loadEventStart", "unloadEventStart", "fetchStart",
        "domainLookupStart", "connectStart", "secureConnectionStart", "requestStart", "responseStart",
        "workerStart", "workerTime", "transferSize", "headerSize", "compressionRatio", "navigationTimingLevel",
        "promptForUnload", "value")},
    "initiatorType": _S, "navigationType": _S, "nextHopProtocol": _S, "targetUrl": _S, "fileType": _S,
    # web vitals
    "attribution": _ATTRIBUTION,
    # js errors
    "type": _S, "message": _S, "stack": _S, "filename": _S, "lineno": _I, "colno": _I,
    # http
    "request": {"method": _S, "url": _S},
    "response": {"status": _I, "statusText": _S},
    "error": {"version": _S, "type": _S, "message": _S},
    "trace_id": _S,
    # the generator's custom events (a user declares their own)
    "currency": _S, "orderValue": _D, "items": _D, "price": _D, "productId": _D, "quantity": _D,
    "queryLength": _D, "results": _D,
}
DOCUMENTS = {"metadata": METADATA, "user_details": USER_DETAILS, "event_details": EVENT_DETAILS}


def _arrow(t: Any) -> Any:
    import pyarrow as pa

    if isinstance(t, dict):
        return pa.struct([(k.lower(), _arrow(v)) for k, v in t.items()])
    if isinstance(t, list):
        return pa.list_(_arrow(t[0]))
    return {_S: pa.string(), _D: pa.float64(), _I: pa.int64()}[t]


def glue_schema(name: str) -> Any:
    """The pyarrow schema of one of ``GLUE_SCHEMAS`` (lowercased names, as Firehose writes them)."""
    import pyarrow as pa

    if name not in GLUE_SCHEMAS:
        raise ValueError(f"unknown Glue schema {name!r}; choose one of {', '.join(GLUE_SCHEMAS)}")
    cols = [(k, _arrow(v)) for k, v in ENVELOPE.items()]
    for doc, fields in DOCUMENTS.items():
        cols.append((doc, _arrow(fields) if name == "structs" else pa.string()))
    return pa.schema(cols)


def _project(value: Any, typ: Any) -> Any:
    """A JSON value as the column of type ``typ`` holds it: struct fields matched by lowercased key."""
    import pyarrow as pa

    if value is None:
        return None
    if pa.types.is_struct(typ):
        if not isinstance(value, dict):
            return None  # the SerDe cannot map a non-object onto a struct
        low = {k.lower(): v for k, v in value.items()}
        return {typ.field(i).name: _project(low.get(typ.field(i).name), typ.field(i).type)
                for i in range(typ.num_fields)}
    if pa.types.is_list(typ):
        return [_project(v, typ.value_type) for v in value] if isinstance(value, list) else None
    if pa.types.is_string(typ):
        if isinstance(value, (dict, list)):
            return orjson.dumps(value).decode()
        return value if isinstance(value, str) else orjson.dumps(value).decode()
    if pa.types.is_floating(typ):
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if pa.types.is_integer(typ):
        return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    return value


def messages_table(messages: list[dict[str, Any]], schema: Any) -> Any:
    """RUM messages (dicts) as the pyarrow table Firehose writes for a Glue table of ``schema``.

    Columns are matched by lowercased top-level key; a column the message
    lacks is NULL; keys the schema does not declare are dropped.
    """
    import pyarrow as pa

    rows = []
    for m in messages:
        low = {k.lower(): v for k, v in m.items()}
        rows.append({f.name: _project(low.get(f.name.lower()), f.type) for f in schema})
    return pa.Table.from_pylist(rows, schema=schema)
