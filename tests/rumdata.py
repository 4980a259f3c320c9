"""Builders for RUM test data: events shaped like the web client's, in every export format.

Tests import this module (``from rumdata import ...``); it writes real files
with real gzip, nothing mocked.
"""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

NIL = "00000000-0000-0000-0000-000000000000"
APP = "9c420d0e-23f2-4257-acff-ef95de04be4b"
REAL_SAMPLES = Path(__file__).parent / "fixtures" / "real-samples.jsonl"


def ts(text: str) -> int:
    """'2026-11-25T10:00:00' (UTC) -> epoch ms."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def event(
    event_type: str = "page_view",
    *,
    at: str = "2026-11-25T10:00:00",
    session: str | None = None,
    user: str | None = None,
    page: str = "/",
    interaction: int | None = None,
    details: dict[str, Any] | None = None,
    event_id: str | None = None,
    app: str = APP,
    browser: str = "Chrome",
    extra_metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One CloudWatch Logs RUM message (the 10-key envelope) as a dict."""
    full = event_type if "." in event_type else f"com.amazon.rum.{event_type}_event"
    if event_type == "navigation":
        full = "com.amazon.rum.performance_navigation_event"
    if event_type == "resource":
        full = "com.amazon.rum.performance_resource_event"
    md: dict[str, Any] = {
        "version": "1.0.0", "browserLanguage": "en-US", "browserName": browser, "browserVersion": "120.0",
        "osName": "Linux", "osVersion": "x86_64", "deviceType": "desktop", "platformType": "web",
        "domain": "shop.example.com", "title": "Shop", "pageId": page,
        "aws:client": "arw-module", "aws:clientVersion": "1.16.1", "countryCode": "DE", "subdivisionCode": "BE",
    }
    if interaction is not None:
        md["interaction"] = interaction
    md.update(extra_metadata or {})
    t = ts(at)
    return {
        "event_timestamp": t,
        "event_type": full,
        "event_id": event_id or str(uuid.uuid4()),
        "event_version": "1.0.0",
        "log_stream": datetime.fromtimestamp(t / 1000, UTC).strftime("%Y-%m-%dT%H"),
        "application_id": app,
        "application_version": "1.2.3",
        "metadata": md,
        "user_details": {"sessionId": session or NIL, "userId": user or NIL},
        "event_details": details if details is not None else {"version": "1.0.0"},
    }


def dumps(e: dict[str, Any]) -> str:
    return json.dumps(e, separators=(",", ":"), ensure_ascii=False)


def write_jsonl(path: Path, events: list[dict[str, Any]], *, gz: bool = False) -> Path:
    text = "".join(dumps(e) + "\n" for e in events)
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text, encoding="utf-8")
    return path


def write_export_task(root: Path, events: list[dict[str, Any]], *, epoch_prefix: bool = False) -> Path:
    """CreateExportTask layout: <root>/<taskId>/<stream>/000000.gz + aws-logs-write-test."""
    task = root / "c0ffee00-task"
    (root).mkdir(parents=True, exist_ok=True)
    (root / "aws-logs-write-test").write_text("Permission Check Successful")
    by_stream: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        by_stream.setdefault(e["log_stream"], []).append(e)
    for stream, evs in by_stream.items():
        lines = []
        for e in evs:
            t = e["event_timestamp"]
            prefix = str(t) if epoch_prefix else datetime.fromtimestamp(t / 1000, UTC).strftime(
                "%Y-%m-%dT%H:%M:%S.000Z")
            lines.append(f"{prefix} {dumps(e)}")
        d = task / stream
        d.mkdir(parents=True, exist_ok=True)
        (d / "000000.gz").write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    return root


def firehose_doc(events: list[dict[str, Any]], *, group: str = "/aws/vendedlogs/RUMService_shop9c420d0e",
                 stream: str = "2026-11-25T10") -> dict[str, Any]:
    return {
        "messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": group, "logStream": stream,
        "subscriptionFilters": ["rum-to-s3"],
        "logEvents": [
            {"id": str(37000000000000000000000000000000000000000000000000000000 + i), "timestamp": e["event_timestamp"] + 1500,
             "message": dumps(e)} for i, e in enumerate(events)
        ],
    }


def write_firehose(path: Path, docs: list[dict[str, Any]], *, control: bool = True) -> Path:
    """Concatenated gzip members, each a JSON document, with no separator."""
    members = []
    if control:
        members.append(gzip.compress(json.dumps({
            "messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "",
            "subscriptionFilters": [], "logEvents": [{"id": "", "timestamp": 1, "message": "CWL CONTROL MESSAGE: Checking health of destination Firehose."}],
        }).encode()))
    for d in docs:
        members.append(gzip.compress(json.dumps(d, separators=(",", ":")).encode()))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(members))
    return path


def write_logs_cli(path: Path, events: list[dict[str, Any]]) -> Path:
    doc = {"events": [
        {"logStreamName": e["log_stream"], "timestamp": e["event_timestamp"], "message": dumps(e),
         "ingestionTime": e["event_timestamp"] + 900, "eventId": f"{i:056d}"} for i, e in enumerate(events)
    ], "searchedLogStreams": []}
    path.write_text(json.dumps(doc, indent=2))
    return path


def write_query_results(path: Path, events: list[dict[str, Any]]) -> Path:
    rows = []
    for e in events:
        t = datetime.fromtimestamp(e["event_timestamp"] / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.000")
        rows.append([{"field": "@timestamp", "value": t}, {"field": "@message", "value": dumps(e)},
                     {"field": "@logStream", "value": e["log_stream"]}, {"field": "@ptr", "value": "CmAK"}])
    path.write_text(json.dumps({"results": rows, "statistics": {"recordsMatched": len(rows)}, "status": "Complete"}))
    return path


def write_appmonitor_data(path: Path, events: list[dict[str, Any]]) -> Path:
    out = []
    for e in events:
        rec = dict(e)
        rec["log_stream"] = {"seconds": e["event_timestamp"] // 1000, "nanos": 0}
        rec["userId"], rec["sessionId"] = e["user_details"]["userId"], e["user_details"]["sessionId"]
        rec["batch_id"], rec["account_id"], rec["application_name"] = str(uuid.uuid4()), "123456789012", "shop"
        out.append(json.dumps(rec))
    path.write_text(json.dumps({"Events": out}))
    return path


def write_putrumevents(path: Path, events: list[dict[str, Any]]) -> Path:
    """One PutRumEvents body per session (details/metadata as JSON strings, timestamp in s)."""
    bodies = []
    by_session: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for e in events:
        by_session.setdefault((e["user_details"]["sessionId"], e["user_details"]["userId"]), []).append(e)
    for (sid, uid), evs in by_session.items():
        bodies.append({
            "BatchId": str(uuid.uuid4()),
            "AppMonitorDetails": {"id": evs[0]["application_id"], "version": evs[0]["application_version"]},
            "UserDetails": {"userId": uid, "sessionId": sid},
            "RumEvents": [{"id": e["event_id"], "timestamp": e["event_timestamp"] // 1000, "type": e["event_type"],
                           "metadata": json.dumps(e["metadata"]), "details": json.dumps(e["event_details"])}
                          for e in evs],
        })
    path.write_text("\n".join(json.dumps(b) for b in bodies) + "\n")
    return path


def session_events(session: str, user: str, pages: list[str], *, start: str = "2026-11-25T10:00:00",
                   step_s: int = 30) -> list[dict[str, Any]]:
    """A cookie session: session_start then page views (interaction 0..n) 30 s apart."""
    t0 = ts(start)
    out = [event("session_start", at=start, session=session, user=user, page=pages[0], interaction=0)]
    prev = None
    for i, p in enumerate(pages):
        at = datetime.fromtimestamp((t0 + i * step_s * 1000) / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        details = {"version": "1.0.0", "pageId": p, "interaction": i, "pageInteractionId": f"{p}-{i}",
                   "referrer": "", "referrerDomain": ""}
        if prev is not None:
            details["parentPageInteractionId"] = f"{prev}-{i - 1}"
            details["timeOnParentPage"] = step_s * 1000
        md = {"parentPageId": prev} if prev else {}
        out.append(event("page_view", at=at, session=session, user=user, page=p, interaction=i,
                         details=details, extra_metadata=md))
        prev = p
    return out
