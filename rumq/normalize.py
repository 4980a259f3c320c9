"""Raw records -> canonical event rows (or a reject reason), vectorized in DuckDB.

Readers hand over batches of raw records (the CloudWatch Logs message text
plus what the export knows about it: log group, stream, event id, time).
One SQL statement parses each message once (``json_transform``), checks the
envelope, and projects the typed columns of ``rumq.schema``. A record that
fails a check keeps its raw text and gets ``reject_reason``; nothing is
dropped here.
"""

from __future__ import annotations

import json

from rumq.schema import EVENT_NAMES, NIL_UUID, STORED_COLUMNS
from rumq.sqltext import quote_string

#: Partition value of rejected records in an ingest's staging area.
REJECTED_PARTITION = "rejected"
_DAY_MS = 86_400_000


def partition_of(day: int) -> str:
    """The partition (``YYYY-MM-DD``) of a good event, from ``_day`` (``normalize_sql``)."""
    import datetime as dt

    return (dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat()

#: Columns of the raw batches the readers produce (pyarrow schema built in ingest).
RAW_COLUMNS = (
    ("raw", "VARCHAR"),  # the message text (None when pre_reject says why)
    ("line", "BIGINT"),  # 1-based line / record ordinal in the source
    ("log_group", "VARCHAR"),
    ("log_stream_hint", "VARCHAR"),  # stream name from the export envelope
    ("log_event_id", "VARCHAR"),
    ("log_time_ms", "BIGINT"),
    ("pre_reject", "VARCHAR"),  # a reason found by the reader itself
    ("source_file", "VARCHAR"),
    ("source_format", "VARCHAR"),
    ("reconstructed", "BOOLEAN"),  # raw is rebuilt from columns (Parquet / ORC), not the original text
)

# Earliest/latest plausible event time: catches seconds-vs-milliseconds mix-ups.
MIN_TS_MS = 946_684_800_000  # 2000-01-01
MAX_TS_MS = 4_102_444_800_000  # 2100-01-01

_ENVELOPE = {
    "event_timestamp": "JSON",
    "event_id": "JSON",
    "event_type": "JSON",
    "event_version": "VARCHAR",
    "log_stream": "JSON",
    "application_id": "VARCHAR",
    "application_version": "VARCHAR",
    "application_name": "VARCHAR",
    "userId": "VARCHAR",
    "sessionId": "VARCHAR",
    "resource": "JSON",
    "scope": "JSON",
}

_METADATA = {
    "pageId": "VARCHAR",
    "parentPageId": "VARCHAR",
    "interaction": "DOUBLE",
    "title": "VARCHAR",
    "domain": "VARCHAR",
    "browserName": "VARCHAR",
    "browserVersion": "VARCHAR",
    "osName": "VARCHAR",
    "osVersion": "VARCHAR",
    "deviceType": "VARCHAR",
    "platformType": "VARCHAR",
    "browserLanguage": "VARCHAR",
    "countryCode": "VARCHAR",
    "subdivisionCode": "VARCHAR",
    "aws:client": "VARCHAR",
    "aws:clientVersion": "VARCHAR",
    "pageTags": ["VARCHAR"],
}

_DETAILS = {
    "pageId": "VARCHAR",
    "interaction": "DOUBLE",
    "pageInteractionId": "VARCHAR",
    "parentPageInteractionId": "VARCHAR",
    "timeOnParentPage": "DOUBLE",
    "referrer": "VARCHAR",
    "referrerDomain": "VARCHAR",
    "duration": "DOUBLE",
    "initiatorType": "VARCHAR",
    "navigationType": "VARCHAR",
    "redirectTime": "DOUBLE",
    "dns": "DOUBLE",
    "connect": "DOUBLE",
    "tlsTime": "DOUBLE",
    "timeToFirstByte": "DOUBLE",
    "responseTime": "DOUBLE",
    "domInteractive": "DOUBLE",
    "domContentLoaded": "DOUBLE",
    "domComplete": "DOUBLE",
    "domProcessingTime": "DOUBLE",
    "loadEventTime": "DOUBLE",
    "targetUrl": "VARCHAR",
    "fileType": "VARCHAR",
    "transferSize": "DOUBLE",
    "value": "DOUBLE",
    "type": "VARCHAR",
    "message": "VARCHAR",
    "stack": "VARCHAR",
    "filename": "VARCHAR",
    "lineno": "DOUBLE",
    "colno": "DOUBLE",
    "request": {"method": "VARCHAR", "url": "VARCHAR"},
    "response": {"status": "DOUBLE", "statusText": "VARCHAR"},
    "error": {"type": "VARCHAR", "message": "VARCHAR"},
    "trace_id": "VARCHAR",
}

_USER = {"sessionId": "VARCHAR", "userId": "VARCHAR"}

#: The whole message in one ``json_transform``: each message is parsed once.
#: (``bench/ingest.py`` reuses it for its same-output DuckDB baseline.)
MESSAGE_STRUCTURE = {**_ENVELOPE, "metadata": _METADATA, "event_details": _DETAILS, "user_details": _USER}

#: Sub-documents that must be JSON objects. json_transform turns a non-object
#: into a struct of NULLs, so only such rows need a closer look (see _not_object).
_OBJECTS = {"metadata": _METADATA, "event_details": _DETAILS, "user_details": _USER}


# Only for constants defined in this module (structures, names): no user text.
_sql_str = quote_string


def _names_case(col: str) -> str:
    whens = " ".join(f"WHEN {_sql_str(k)} THEN {_sql_str(v)}" for k, v in EVENT_NAMES.items())
    return f"CASE {col} {whens} ELSE {col} END"


#: Event kinds whose event_details fields have typed columns: kind -> short names.
_KINDS = {
    "page_view": ("page_view",),
    "perf": ("navigation", "resource"),
    "navigation": ("navigation",),
    "resource": ("resource",),
    "vital": ("lcp", "fid", "cls", "inp", "fcp", "ttfb", "tti"),
    "js_error": ("js_error",),
    "http": ("http",),
}


def _kind_flags(name: str) -> str:
    """One boolean per kind (``is_<kind>``): tested once per row, not once per column.

    Written as ``=`` joined by OR: DuckDB plans an ``IN`` list of seven texts
    as a hash join, which cost about 3% of normalize's instructions.
    """
    return ",\n    ".join(
        f"({' OR '.join(f'{name} = {_sql_str(n)}' for n in names)}) AS is_{kind}" for kind, names in _KINDS.items())


def _only(kind: str, expr: str) -> str:
    """``expr`` for events of this kind (see ``_KINDS``), NULL for the rest."""
    return f"CASE WHEN n.is_{kind} THEN {expr} END"


_ID_KEY = '"event_id":"'


def id_at_sql(raw: str, event_id: str) -> str:
    """SQL: how many characters of the message ``raw`` precede the id in its first ``"event_id":"<id>"`` (11: none)."""
    return f"(strpos({raw}, '{_ID_KEY}' || {event_id} || '\"') + {len(_ID_KEY) - 1})"


def message_storage_sql(raw: str, event_id: str, good: str = "true", at: str | None = None,
                        cut: str | None = None, prefix: str | None = None) -> tuple[str, str]:
    """SQL of ``message_head`` and ``message_tail`` (``rumq.schema.MESSAGE_STORAGE``) from a message and its id.

    The id's characters are left out when ``good`` holds and the message holds
    ``"event_id":"<id>"`` after an ASCII-only prefix (characters and bytes then
    agree for every engine); the head is the text before them, the tail the
    text after (NULL when nothing was left out: the head is the whole message).

    Args:
        raw: SQL of the message text.
        event_id: SQL of the event id.
        good: SQL condition; the message is kept whole where it is false.
        at: SQL of ``id_at_sql(raw, event_id)`` computed once already (e.g. in a CTE).
        cut, prefix: SQL of ``message_cut_sql(...)`` and of ``left(raw, at)``
            computed once already (``left`` walks characters: once per row, not
            once per use).
    """
    at = at or id_at_sql(raw, event_id)
    prefix = prefix or f"left({raw}, {at})"
    cut = cut or message_cut_sql(event_id, at, prefix, good)
    head = f"CASE WHEN {cut} THEN {prefix} ELSE {raw} END"
    # The tail is cut by bytes: substr() counts characters, walking the whole
    # message (15% of an ingest worker's instructions). The head is ASCII, so
    # its bytes are its characters; the id's bytes follow it as written.
    return head, f"CASE WHEN {cut} THEN decode(encode({raw})[{at} + 1 + strlen({event_id}):]) END"


def message_cut_sql(event_id: str, at: str, prefix: str, good: str = "true") -> str:
    """SQL condition: the id is left out of the message (see ``message_storage_sql``).

    ``prefix`` is the SQL of the message's first ``at`` characters; they must be
    ASCII (as many bytes as characters).
    """
    return f"({good} AND {event_id} IS NOT NULL AND {at} > {len(_ID_KEY) - 1} AND strlen({prefix}) = {at})"


def _projection() -> dict[str, str]:
    """SQL expression per canonical column, over the CTE ``n``."""
    md = "n.s.metadata"
    ed = "n.s.event_details"
    nav = "navigation"
    head, tail = message_storage_sql("n.raw", "n.event_id_v", at="n.id_at", cut="n.id_cut", prefix="n.id_prefix")
    return {
        "event_id": "n.event_id_v",
        "event_type": "n.event_type_v",
        "event_name": "n.event_name",
        "event_time": "make_timestamp(n.ts_ms * 1000)",
        "event_timestamp": "n.ts_ms",
        "event_version": "n.s.event_version",
        # The service's own key list spells it application_Id; DuckDB struct keys
        # are case-insensitive, so that spelling needs its own (rare) lookup.
        "application_id": "coalesce(n.s.application_id, CASE WHEN n.s.application_id IS NULL THEN json_extract_string(n.raw, '$.application_Id') END)",
        "application_version": "n.s.application_version",
        "application_name": "n.s.application_name",
        "log_group": "n.log_group",
        "log_stream": "n.log_stream_v",
        "log_event_id": "n.log_event_id",
        # The export's own time: an absurd value is left NULL rather than overflow.
        "log_time": f"CASE WHEN n.log_time_ms BETWEEN {MIN_TS_MS} AND {MAX_TS_MS} "
                    "THEN make_timestamp(n.log_time_ms * 1000) END",
        # session_id / user_id are stored as a (uuid, text) pair: see schema.ID_STORAGE.
        **_id_pair("session"),
        **_id_pair("user"),
        "cookieless": f"coalesce(nullif(coalesce(n.s.user_details.userId, n.s.userId), ''), '{NIL_UUID}') = '{NIL_UUID}'",
        "page_id": f"coalesce({md}.pageId, {_only('page_view', f'{ed}.pageId')})",
        "parent_page_id": f"{md}.parentPageId",
        # TRY_CAST: a number out of the column's range is kept in message but
        # stored as NULL, instead of failing the whole ingest.
        "interaction": f"TRY_CAST(coalesce({_only('page_view', f'{ed}.interaction')}, {md}.interaction) AS INTEGER)",
        "title": f"{md}.title",
        "domain": f"{md}.domain",
        "browser_name": f"{md}.browserName",
        "browser_version": f"{md}.browserVersion",
        "os_name": f"{md}.osName",
        "os_version": f"{md}.osVersion",
        "device_type": f"{md}.deviceType",
        "platform_type": f"{md}.platformType",
        "browser_language": f"{md}.browserLanguage",
        "country_code": f"{md}.countryCode",
        "subdivision_code": f"{md}.subdivisionCode",
        "web_client": f'{md}."aws:client"',
        "web_client_version": f'{md}."aws:clientVersion"',
        "page_tags": f"{md}.pageTags",
        "page_interaction_id": _only("page_view", f"{ed}.pageInteractionId"),
        "parent_page_interaction_id": _only("page_view", f"{ed}.parentPageInteractionId"),
        "time_on_parent_page": _only("page_view", f"{ed}.timeOnParentPage"),
        "referrer": _only("page_view", f"{ed}.referrer"),
        "referrer_domain": _only("page_view", f"{ed}.referrerDomain"),
        "duration": _only("perf", f"{ed}.duration"),
        "initiator_type": _only("perf", f"{ed}.initiatorType"),
        "navigation_type": _only(nav, f"{ed}.navigationType"),
        "redirect_time": _only(nav, f"{ed}.redirectTime"),
        "dns_time": _only(nav, f"{ed}.dns"),
        "connect_time": _only(nav, f"{ed}.connect"),
        "tls_time": _only(nav, f"{ed}.tlsTime"),
        "time_to_first_byte": _only(nav, f"{ed}.timeToFirstByte"),
        "response_time": _only(nav, f"{ed}.responseTime"),
        "dom_interactive": _only(nav, f"{ed}.domInteractive"),
        "dom_content_loaded": _only(nav, f"{ed}.domContentLoaded"),
        "dom_complete": _only(nav, f"{ed}.domComplete"),
        "dom_processing_time": _only(nav, f"{ed}.domProcessingTime"),
        "load_event_time": _only(nav, f"{ed}.loadEventTime"),
        "target_url": _only("resource", f"{ed}.targetUrl"),
        "file_type": _only("resource", f"{ed}.fileType"),
        "transfer_size": _only("perf", f"{ed}.transferSize"),
        "vital_value": _only("vital", f"{ed}.value"),
        "error_type": _only("js_error", f"{ed}.type"),
        "error_message": _only("js_error", f"{ed}.message"),
        "error_stack": _only("js_error", f"{ed}.stack"),
        "error_filename": _only("js_error", f"{ed}.filename"),
        "error_lineno": _only("js_error", f"TRY_CAST({ed}.lineno AS BIGINT)"),
        "error_colno": _only("js_error", f"TRY_CAST({ed}.colno AS BIGINT)"),
        "http_method": _only("http", f"{ed}.request.method"),
        "http_url": _only("http", f"{ed}.request.url"),
        "http_status": _only("http", f"TRY_CAST({ed}.response.status AS INTEGER)"),
        "http_status_text": _only("http", f"{ed}.response.statusText"),
        "http_error_type": _only("http", f"{ed}.error.type"),
        "http_error_message": _only("http", f"{ed}.error.message"),
        "trace_id": _only("http", f"{ed}.trace_id"),
        # A rejected record's message stays whole (the rejects file shows it).
        "message_head": head,
        "message_tail": tail,
        "message_reconstructed": "coalesce(n.reconstructed, false)",
        "source_file": "n.source_file",
        "source_line": "n.line",
        "source_format": "n.source_format",
        "ingest_id": "getvariable('rumq_ingest_id')",
        "ingested_at": "getvariable('rumq_ingested_at')",
    }


def _id_pair(stem: str) -> dict[str, str]:
    """The storage pair of an id: a UUID when the text is one in canonical form, else the text.

    Over the CTE ``i``, which parses each id once (``<stem>_u``, ``<stem>_canonical``).
    """
    return {
        f"{stem}_uuid": f"CASE WHEN n.{stem}_canonical THEN n.{stem}_u END",
        f"{stem}_text": f"CASE WHEN n.{stem}_canonical IS NOT TRUE THEN n.{stem}_v END",
    }


def _kind(expr: str) -> str:
    """The JSON type of a JSON text, from its first character.

    The sub-documents ``json_transform`` hands back are valid JSON, so the
    first character decides; ``json_type`` would parse them all over again
    (event_details is often half of the message).
    """
    return (f"CASE left({expr}, 1) WHEN '{{' THEN 'OBJECT' WHEN '\"' THEN 'VARCHAR' WHEN '[' THEN 'ARRAY' "
            f"WHEN 't' THEN 'BOOLEAN' WHEN 'f' THEN 'BOOLEAN' WHEN 'n' THEN 'NULL' ELSE 'NUMBER' END")


def _starts_object(expr: str) -> str:
    # Valid JSON whose first non-blank character is '{' is an object. Messages
    # nearly always start with '{': test that before trimming a copy.
    return f"(CASE WHEN left({expr}, 1) = '{{' THEN true ELSE starts_with(ltrim({expr}), '{{') END)"


def _all_null(expr: str, fields: dict) -> str:
    """True when every field json_transform was asked for came back NULL."""
    parts = []
    for k, v in fields.items():
        ref = f'{expr}."{k}"'
        parts.append(_all_null(ref, v) if isinstance(v, dict) else f"{ref} IS NULL")
    return "(" + " AND ".join(parts) + ")"


def _not_object(key: str) -> str:
    """The JSON type of ``key`` when it is present but not an object, else NULL.

    Only rows whose sub-document came back as a struct of NULLs (an empty
    object, or not an object at all) pay for a second look at the message.
    """
    ref = f"s.s.{key}"
    kind = f"json_type(s.raw, '$.{key}')"
    return (f"(CASE WHEN {ref} IS NOT NULL AND {_all_null(ref, _OBJECTS[key])} AND {kind} <> 'OBJECT' "
            f"THEN CASE WHEN {kind} IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN 'number' ELSE lower({kind}) END END)")


def _reject_case() -> str:
    missing = (
        "concat_ws(', ', "
        "CASE WHEN s.event_type_v IS NULL THEN 'event_type' END, "
        "CASE WHEN s.event_id_v IS NULL THEN 'event_id' END, "
        "CASE WHEN s.s.event_timestamp IS NULL THEN 'event_timestamp' END)"
    )
    objects = "\n".join(
        f"      WHEN {_not_object(k)} IS NOT NULL THEN '{k} must be a JSON object, got ' || {_not_object(k)}"
        for k in ("event_details", "metadata", "user_details"))
    return f"""CASE
      WHEN s.pre_reject IS NOT NULL THEN s.pre_reject
      WHEN s.s IS NULL AND (s.is_object OR NOT json_valid(s.raw)) THEN 'invalid JSON'
      WHEN NOT s.is_object THEN CASE WHEN starts_with(ltrim(s.raw), '[')
        THEN 'not a JSON object but an array on one line: a RUM event is one JSON object per record; write one '
             || 'event per line (JSON lines), or the array over several lines (pretty-printed), which is read whole'
        ELSE 'not a JSON object: a RUM event is one JSON object per record' END
      WHEN s.s.event_type IS NULL AND (s.s.resource IS NOT NULL OR s.s.scope IS NOT NULL)
        THEN 'mobile (OpenTelemetry) app monitor record: rumq reads web app monitor events only'
      WHEN s.s.event_type IS NULL AND s.s.event_id IS NULL AND s.s.event_timestamp IS NULL
        THEN 'not a RUM event: no event_type, event_id or event_timestamp'
      WHEN s.s.event_type IS NOT NULL AND {_kind('s.s.event_type')} <> 'VARCHAR'
        THEN 'event_type must be a string, got ' || lower({_kind('s.s.event_type')})
      WHEN s.s.event_id IS NOT NULL AND {_kind('s.s.event_id')} <> 'VARCHAR'
        THEN 'event_id must be a string, got ' || lower({_kind('s.s.event_id')})
      WHEN {missing} <> '' THEN 'missing required field(s): ' || {missing}
      WHEN json_type(s.s.event_timestamp) = 'VARCHAR'
        THEN 'event_timestamp is a string (' || left(s.s.event_timestamp, 40) || '); expected epoch milliseconds as a number'
      WHEN json_type(s.s.event_timestamp) NOT IN ('UBIGINT', 'BIGINT', 'DOUBLE')
        THEN 'event_timestamp must be a number of epoch milliseconds, got ' || lower(json_type(s.s.event_timestamp))
      WHEN s.ts_ms IS NULL OR s.ts_ms < {MIN_TS_MS} OR s.ts_ms >= {MAX_TS_MS}
        THEN 'event_timestamp ' || s.s.event_timestamp || CASE
          -- In range but with a fraction (ts_ms is NULL then): saying "outside" would mislead.
          WHEN s.ts_ms IS NULL AND TRY_CAST(s.s.event_timestamp AS DOUBLE) >= {MIN_TS_MS}
           AND TRY_CAST(s.s.event_timestamp AS DOUBLE) < {MAX_TS_MS}
          THEN ' is not a whole number of epoch milliseconds; RUM timestamps are whole milliseconds: round them in the export'
          ELSE ' is outside 2000-01-01..2100-01-01 in epoch milliseconds (seconds instead of milliseconds?)' END
{objects}
    END"""


#: Columns whose expression can fail on a record that is rejected anyway (an
#: overflowing timestamp, a lookup in text that is not JSON): computed for good
#: events only. The other columns of a rejected record are never read (only its
#: text, source and reason are), so they skip the test.
_FAIL_ON_BAD_ROWS = frozenset({"event_time", "application_id"})


def normalize_sql(batch: str = "batch") -> str:
    """The SELECT that maps a raw batch to stored columns + ``_reject``, ``_seq``, ``_day``.

    ``_reject`` is the reject reason (NULL for a good event), ``_seq`` the
    record's ordinal in the ingest, ``_day`` the partition to stage a good
    event in: its UTC date as days since 1970-01-01 (``partition_of``; a
    number, not text: formatting a date per row cost about 4% of normalize's
    instructions).

    Expects DuckDB variables ``rumq_ingest_id`` and ``rumq_ingested_at`` to
    be set, and the batch to have the columns of ``RAW_COLUMNS`` plus ``seq``
    (the record's ordinal in the ingest).
    """
    proj = _projection()
    cols = ",\n  ".join(
        f"CASE WHEN n.reject_reason IS NULL THEN {proj[c.name]} END AS {c.name}" if c.name in _FAIL_ON_BAD_ROWS
        else f"{proj[c.name]} AS {c.name}"
        for c in STORED_COLUMNS
    )
    # try(): a malformed message gives NULL instead of failing the batch; the
    # reject reason then says "invalid JSON" (json_valid is not paid per row).
    return f"""
WITH t AS (
  SELECT b.*,
    b.pre_reject IS NULL AND {_starts_object('b.raw')} AS is_object,
    CASE WHEN b.pre_reject IS NULL AND {_starts_object('b.raw')}
         THEN try(json_transform(b.raw, {_sql_str(json.dumps(MESSAGE_STRUCTURE))})) END AS s
  FROM {batch} b
), s AS (
  SELECT t.*,
    CASE WHEN {_kind('t.s.event_type')} = 'VARCHAR' THEN nullif(t.s.event_type ->> '$', '') END AS event_type_v,
    CASE WHEN {_kind('t.s.event_id')} = 'VARCHAR' THEN nullif(t.s.event_id ->> '$', '') END AS event_id_v,
    CASE WHEN json_type(t.s.event_timestamp) IN ('UBIGINT', 'BIGINT') THEN TRY_CAST(t.s.event_timestamp AS BIGINT)
         WHEN json_type(t.s.event_timestamp) = 'DOUBLE'
          AND TRY_CAST(t.s.event_timestamp AS DOUBLE) = round(TRY_CAST(t.s.event_timestamp AS DOUBLE))
         THEN TRY_CAST(TRY_CAST(t.s.event_timestamp AS DOUBLE) AS BIGINT) END AS ts_ms
  FROM t
), r AS (
  SELECT s.*, {_reject_case()} AS reject_reason FROM s
), n AS (
  SELECT r.*,
    {_names_case('r.event_type_v')} AS event_name,
    CASE WHEN {_kind('r.s.log_stream')} = 'VARCHAR' THEN r.s.log_stream ->> '$'
         WHEN {_kind('r.s.log_stream')} = 'OBJECT' AND TRY_CAST(r.s.log_stream ->> '$.seconds' AS BIGINT)
              BETWEEN {MIN_TS_MS // 1000} AND {MAX_TS_MS // 1000}  -- nonsense seconds must not overflow
           THEN strftime(make_timestamp(TRY_CAST(r.s.log_stream ->> '$.seconds' AS BIGINT) * 1000000), '%Y-%m-%dT%H')
         ELSE r.log_stream_hint END AS log_stream_v,
    nullif(nullif(coalesce(r.s.user_details.sessionId, r.s.sessionId), '{NIL_UUID}'), '') AS session_v,
    nullif(nullif(coalesce(r.s.user_details.userId, r.s.userId), '{NIL_UUID}'), '') AS user_v
  FROM r
), u AS (
  -- Parsing a UUID is costly: once per id, not once per use.
  SELECT n.*, TRY_CAST(n.session_v AS UUID) AS session_u, TRY_CAST(n.user_v AS UUID) AS user_u,
    -- Where the event id sits in a good event's message (rumq.schema.MESSAGE_STORAGE): searched once.
    CASE WHEN n.reject_reason IS NULL THEN {id_at_sql('n.raw', 'n.event_id_v')} END AS id_at FROM n
), p AS (
  SELECT u.*, left(u.raw, u.id_at) AS id_prefix FROM u
), i AS (
  SELECT p.*, {message_cut_sql('p.event_id_v', 'p.id_at', 'p.id_prefix')} AS id_cut,
    CAST(p.session_u AS VARCHAR) = p.session_v AS session_canonical,
    CAST(p.user_u AS VARCHAR) = p.user_v AS user_canonical,
    {_kind_flags('p.event_name')}
  FROM p
)
SELECT
  {cols},
  n.reject_reason AS _reject,
  n.seq AS _seq,
  n.ts_ms // {_DAY_MS} AS _day
FROM i AS n
"""
