"""gzip inside gzip is detected and read as its inner content, in every text format (docs/ingest.md, Inputs).

Real files with real gzip, nothing mocked: each export is written, gzipped
once more, and must detect and ingest exactly as the single-gzip (or plain)
file does.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from rumdata import (
    event,
    firehose_doc,
    session_events,
    write_appmonitor_data,
    write_export_task,
    write_firehose,
    write_jsonl,
    write_logs_cli,
    write_putrumevents,
)

from rumq.ingest import ingest
from rumq.ingest.readers import detect


def _events() -> list[dict]:
    return session_events("11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222",
                          ["/", "/product/12", "/cart"]) + [event("http", at="2026-11-25T10:01:01", page="/cart")]


def _jsonl(tmp: Path, events: list[dict]) -> Path:
    return write_jsonl(tmp / "plain.jsonl", events, gz=True)


def _firehose(tmp: Path, events: list[dict]) -> Path:
    return write_firehose(tmp / "firehose", [firehose_doc(events)])


def _export_task(tmp: Path, events: list[dict]) -> Path:
    root = write_export_task(tmp / "task", events)
    return next(root.rglob("*.gz"))


def _logs_cli(tmp: Path, events: list[dict]) -> Path:
    return write_logs_cli(tmp / "cli.json", events)


def _appmonitor(tmp: Path, events: list[dict]) -> Path:
    return write_appmonitor_data(tmp / "amd.json", events)


def _putrumevents(tmp: Path, events: list[dict]) -> Path:
    return write_putrumevents(tmp / "put.jsonl", events)


@pytest.mark.parametrize("write,fmt", [
    (_jsonl, "jsonl"),
    (_firehose, "firehose"),
    (_export_task, "cwl-export"),
    (_logs_cli, "logs-cli"),
    (_appmonitor, "appmonitor-data"),
    (_putrumevents, "putrumevents"),
])
def test_gzip_inside_gzip_reads_as_its_content(tmp_path, write, fmt):
    events = _events()
    once = write(tmp_path, events)
    data = once.read_bytes()
    if data[:2] != b"\x1f\x8b":  # the formats written plain: gzip them once first
        data = gzip.compress(data)
    twice = tmp_path / "double.gz"
    twice.write_bytes(gzip.compress(data))
    assert detect(once) == fmt
    assert detect(twice) == fmt

    report = ingest(tmp_path / "data", [str(twice)])
    assert (report.read, report.written, report.rejected) == (len(events), len(events), 0), report
    assert report.files[0].format == fmt
    assert report.files[0].problems == []


def test_multi_member_inner_and_outer(tmp_path):
    # Each layer in two members (as Firehose and `cat a.gz b.gz` make them).
    events = _events()
    lines = [("".join(f"{json.dumps(e)}\n" for e in part)).encode()
             for part in (events[:2], events[2:])]
    inner = gzip.compress(lines[0]) + gzip.compress(lines[1])
    path = tmp_path / "double.gz"
    path.write_bytes(gzip.compress(inner[:10]) + gzip.compress(inner[10:]))
    assert detect(path) == "jsonl"
    report = ingest(tmp_path / "data", [str(path)])
    assert (report.written, report.rejected) == (len(events), 0)


def test_truncated_inner_gzip_keeps_what_it_read_and_says_so(tmp_path):
    events = [event(at=f"2026-11-25T10:00:{i:02d}") for i in range(50)]
    inner = gzip.compress("".join(json.dumps(e) + "\n" for e in events).encode())
    path = tmp_path / "double.gz"
    path.write_bytes(gzip.compress(inner[: len(inner) * 2 // 3]))
    assert detect(path) == "jsonl"
    report = ingest(tmp_path / "data", [str(path)])
    problems = report.files[0].problems
    assert any("truncated inner gzip stream" in p for p in problems), problems
    assert 0 < report.written < len(events)
