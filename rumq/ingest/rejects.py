"""The rejects file of an ingest: every rejected record with its source, line and reason."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from rumq.ingest.readers import MAX_REJECT_RAW
from rumq.normalize import REJECTED_PARTITION


def write_rejects(con: Any, path: Path, parts: Path) -> tuple[int, dict[str, int]]:
    """Write the staged rejected records of ``parts`` to ``path`` as JSON lines.

    Returns:
        (how many, counts by ``reason_kind``, most first).
    """
    files = sorted(str(p) for p in parts.glob(f"*/_part={REJECTED_PARTITION}/*.parquet"))
    n = 0
    reasons: dict[str, int] = {}
    if not files:
        return 0, reasons
    con.execute("SET VARIABLE rumq_rejected = ?::VARCHAR[]", [files]).fetchall()
    # A rejected record's message_head is its whole text (only good events have the id cut out).
    # Fetch in chunks on this connection (its variables are not seen by cursors).
    cur = con.execute(
        "SELECT source_file, source_line, source_format, _reject, message_head "
        "FROM read_parquet(getvariable('rumq_rejected')) ORDER BY _seq"
    )
    with open(path, "w", encoding="utf-8") as out:
        while rows := cur.fetchmany(10_000):
            for src, line, fmt, reason, raw in rows:
                if reason == "invalid JSON" and raw is not None:
                    reason = json_error_detail(raw)
                rec = {"source": src, "line": line, "format": fmt, "reason": reason,
                       "raw": raw[:MAX_REJECT_RAW] if raw else raw}
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
                key = reason_kind(reason)
                reasons[key] = reasons.get(key, 0) + 1
                n += 1
    return n, dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))


def json_error_detail(raw: str) -> str:
    """Python's decoder says where a message stops being JSON (column)."""
    try:
        json.loads(raw)
    except json.JSONDecodeError as e:
        return f"invalid JSON: {e.msg} at column {e.colno}"
    except RecursionError:
        return "invalid JSON: nested too deeply"
    return "invalid JSON"


_PARENTHESIS = re.compile(r"\s+\([^()]*\)")
_INDEX = re.compile(r"\[\d+\]")
#: Values of one record that some reasons quote before their first colon.
_QUOTED_VALUES = ((re.compile(r"^(event_timestamp) \S+ (is outside|is not a whole number)"), r"\1 \2"),
                  (re.compile(r" after line \d+"), ""))


def reason_kind(reason: str | None) -> str:
    """A reject reason without the details of the one record: what summaries group by.

    The text before the first ``:`` or ``;``, without parenthesized details,
    list indexes or quoted values: ``invalid JSON: Expecting value at column
    3`` -> ``invalid JSON``; ``not a recognized RUM export format (starts
    with b'PK\\x03')...`` -> ``not a recognized RUM export format``;
    ``logEvents[7] has no message string`` -> ``logEvents[i] has no message string``.
    """
    if not reason:
        return "?"
    text = reason
    while True:  # innermost parentheses first: details may nest
        shorter = _PARENTHESIS.sub("", text)
        if shorter == text:
            break
        text = shorter
    text = re.split(r"[:;]", text, maxsplit=1)[0].strip()
    text = _INDEX.sub("[i]", text)
    for pattern, replacement in _QUOTED_VALUES:
        text = pattern.sub(replacement, text)
    return text or reason.split(":", 1)[0]
