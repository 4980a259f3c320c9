"""Export-format writers: each turns the message stream of one chunk into the
files a real export of that kind would contain.

Formats (layouts as in docs/generator.md):

* ``jsonl``: one CloudWatch Logs message per line (gzip optional).
* ``cwl-export``: a CreateExportTask tree ``exportedlogs/<taskId>/<logStream>/000000.gz``
  of lines ``<ISO-8601 UTC ms> <message>``, plus ``exportedlogs/aws-logs-write-test``.
* ``firehose``: subscription filter -> Firehose -> S3 objects
  ``firehose/YYYY/MM/DD/HH/<stream>-1-YYYY-MM-DD-HH-MM-SS-<uuid>``, each a
  concatenation of gzip members, one ``DATA_MESSAGE`` document per member
  (an occasional ``CONTROL_MESSAGE`` too).
* ``logs-cli``: ``aws logs filter-log-events`` output pages ``{"events": [...], "nextToken"}``.
* ``putrumevents``: PutRumEvents request bodies, one JSON document per line.
* ``firehose-parquet``: Firehose with record format conversion to Parquet
  (Snappy) through a Glue table (``rumq.generate.glue``), objects
  ``firehose-parquet/year=YYYY/month=MM/day=DD/hour=HH/<stream>-1-YYYY-MM-DD-HH-MM-SS-<uuid>``.

Writers use their own random source, so the events are the same whatever the
format.
"""

from __future__ import annotations

import os
import random
import time
import zlib
from pathlib import Path

import orjson

from rumq.generate.session import ChunkSpec, uuid4
from rumq.generate.site import AppSpec

FORMATS = ("jsonl", "cwl-export", "firehose", "logs-cli", "putrumevents", "firehose-parquet")
EXPORT_PREFIX = "exportedlogs"
FIREHOSE_STREAM = "rum-logs-delivery"
SUBSCRIPTION_FILTER = "rum-to-firehose"
ACCOUNT = "123456789012"
_FLUSH_LINES = 2048


try:  # ISA-L's deflate is ~5x faster than zlib at similar ratios; optional.
    from isal import isal_zlib as _zlib

    _MAX_LEVEL = 3
except ImportError:  # pragma: no cover - depends on the environment
    _zlib = zlib  # type: ignore[assignment]
    _MAX_LEVEL = 9


def _gz(level: int):
    """A gzip (wbits=31) compressor; levels above ISA-L's 3 map to 3."""
    return _zlib.compressobj(min(level, _MAX_LEVEL), _zlib.DEFLATED, 31)


def _chunk_name(spec: ChunkSpec) -> str:
    return f"d{spec.day:04d}-p{spec.part:04d}"


def task_id(seed: int, app: AppSpec) -> str:
    """The export task id of an app's log group (stable for a seed)."""
    return uuid4(random.Random(f"{seed}:{app.name}:task").getrandbits)


class JsonlSink:
    """CloudWatch Logs messages as JSON lines, optionally gzip-compressed.

    The chunk appends encoded messages to ``lines`` itself and calls
    ``drain`` after each visit (see ``rumq.generate.session.Sink``).
    """

    def __init__(self, path: Path, gzip: bool, level: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.f = open(path, "wb")  # noqa: SIM115 (closed in close())
        self.z = _gz(level) if gzip else None
        # Encoded one by one and joined as bytes: joining str and encoding the
        # result made two fresh 2 MB buffers per block, which glibc handed
        # back to the kernel each time; faulting them in again cost ~1 us/event.
        self.lines: list[bytes] = []

    def add(self, ts_ms: int, log_stream: str, message: str) -> None:
        self.lines.append(message.encode())
        self.drain()

    def drain(self) -> None:
        """Write every complete block of ``_FLUSH_LINES`` lines."""
        lines = self.lines
        while len(lines) >= _FLUSH_LINES:
            block = lines[:_FLUSH_LINES]
            del lines[:_FLUSH_LINES]
            self._write(block)

    def _write(self, block: list[bytes]) -> None:
        # ISA-L's output depends on how the input is split: always compress
        # blocks of _FLUSH_LINES lines (the last one shorter), so the same
        # seed gives the same bytes.
        block.append(b"")
        data = b"\n".join(block)
        del block
        self.f.write(self.z.compress(data) if self.z else data)

    def close(self) -> None:
        self.drain()
        if self.lines:
            self._write(self.lines[:])
            self.lines.clear()
        if self.z:
            self.f.write(self.z.flush())
        self.f.close()


class CwlExportSink:
    """One export task's tree: a gzip file per log stream (hour) per chunk.

    Files are written as ``part-<chunk>.gz`` and renamed to ``000000.gz``,
    ``000001.gz``, ... by ``finalize`` once every chunk is done.
    """

    def __init__(self, task_dir: Path, chunk: str, level: int) -> None:
        self.dir = task_dir
        self.chunk = chunk
        self.level = level
        self.streams: dict[str, tuple] = {}

    def add(self, ts_ms: int, log_stream: str, message: str) -> None:
        s = self.streams.get(log_stream)
        if s is None:
            d = self.dir / log_stream
            d.mkdir(parents=True, exist_ok=True)
            s = (open(d / f"part-{self.chunk}.gz", "wb"), _gz(self.level), [])  # noqa: SIM115
            self.streams[log_stream] = s
        sec = (ts_ms // 1000) % 3600
        s[2].append(f"{log_stream}:{sec // 60:02d}:{sec % 60:02d}.000Z {message}")
        if len(s[2]) >= _FLUSH_LINES:
            self._flush(s)

    @staticmethod
    def _flush(s: tuple) -> None:
        if s[2]:
            s[0].write(s[1].compress(("\n".join(s[2]) + "\n").encode()))
            s[2].clear()

    def close(self) -> None:
        for s in self.streams.values():
            self._flush(s)
            s[0].write(s[1].flush())
            s[0].close()


def _log_event_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(186) % 10**56:056d}"


class FirehoseSink:
    """Firehose S3 objects: concatenated gzip members of CloudWatch Logs
    subscription documents (one log stream per document)."""

    MAX_MEMBERS = 50
    MAX_BYTES = 1 << 20

    def __init__(self, root: Path, app: AppSpec, spec: ChunkSpec, level: int, control: bool,
                 buffer_seconds: int = 900) -> None:
        self.root = root
        self.span_ms = buffer_seconds * 1000
        self.app = app
        self.level = level
        self.rng = random.Random(spec.key + ":firehose")
        self.batches: dict[str, list] = {}
        self.targets: dict[str, int] = {}
        self.members: list[bytes] = []
        self.size = 0
        self.max_ms = 0
        self.open_ms = 0
        if control:
            self.members.append(self._member({
                "messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "",
                "subscriptionFilters": [],
                "logEvents": [{"id": "", "timestamp": (spec.start_epoch + spec.day * 86400) * 1000,
                               "message": "CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}))

    def _member(self, doc: dict) -> bytes:
        z = _gz(self.level)
        return z.compress(orjson.dumps(doc)) + z.flush()

    def add(self, ts_ms: int, log_stream: str, message: str) -> None:
        b = self.batches.get(log_stream)
        if b is None:
            b = self.batches[log_stream] = []
            self.targets[log_stream] = 20 + int(self.rng.random() * 280)
        b.append({"id": _log_event_id(self.rng), "timestamp": ts_ms, "message": message})
        if ts_ms > self.max_ms:
            self.max_ms = ts_ms
        if self.open_ms == 0:  # the delivery clock when this object started filling
            self.open_ms = self.max_ms
        if len(b) >= self.targets[log_stream]:
            self._flush_batch(log_stream)
        elif self.max_ms - self.open_ms > self.span_ms:
            # Firehose buffers for minutes, not hours: deliver what is pending.
            for ls in list(self.batches):
                self._flush_batch(ls, write=False)
            self._write_object()

    def _flush_batch(self, log_stream: str, write: bool = True) -> None:
        b = self.batches.pop(log_stream)
        self.targets.pop(log_stream)
        m = self._member({"messageType": "DATA_MESSAGE", "owner": ACCOUNT, "logGroup": self.app.log_group,
                          "logStream": log_stream, "subscriptionFilters": [SUBSCRIPTION_FILTER], "logEvents": b})
        self.members.append(m)
        self.size += len(m)
        if write and (len(self.members) >= self.MAX_MEMBERS or self.size >= self.MAX_BYTES):
            self._write_object()

    def _write_object(self) -> None:
        if not self.members:
            return
        # Firehose names objects by delivery time: a little after the newest record.
        t = self.max_ms // 1000 + 60 + int(self.rng.random() * 240)
        tm = time.gmtime(t)
        d = self.root / time.strftime("%Y/%m/%d/%H", tm)
        d.mkdir(parents=True, exist_ok=True)
        name = f"{FIREHOSE_STREAM}-1-{time.strftime('%Y-%m-%d-%H-%M-%S', tm)}-{uuid4(self.rng.getrandbits)}"
        with open(d / name, "wb") as f:
            f.write(b"".join(self.members))
        self.members = []
        self.size = 0
        self.open_ms = 0

    def close(self) -> None:
        for ls in list(self.batches):
            self._flush_batch(ls)
        self._write_object()


class FirehoseParquetSink:
    """Firehose record format conversion: each buffer of records becomes one
    Snappy Parquet object of the Glue table's schema, under a Hive-style
    ``year=/month=/day=/hour=`` prefix of its delivery time (a common dynamic
    partitioning setup). Objects carry no extension, as Firehose names them."""

    MAX_ROWS = 5_000

    def __init__(self, root: Path, spec: ChunkSpec, glue_schema: str, buffer_seconds: int = 900) -> None:
        from rumq.generate.glue import glue_schema as schema_of

        self.root = root
        self.schema = schema_of(glue_schema)
        self.span_ms = buffer_seconds * 1000
        self.rng = random.Random(spec.key + ":firehose-parquet")
        self.messages: list[dict] = []
        self.first_ms = 0
        self.max_ms = 0

    def add(self, ts_ms: int, log_stream: str, message: str) -> None:
        if self.messages and (len(self.messages) >= self.MAX_ROWS or ts_ms - self.first_ms > self.span_ms):
            self._write_object()
        if not self.messages:
            self.first_ms = ts_ms
        self.messages.append(orjson.loads(message))
        self.max_ms = max(self.max_ms, ts_ms)

    def _write_object(self) -> None:
        import pyarrow.parquet as pq

        from rumq.generate.glue import messages_table

        if not self.messages:
            return
        t = self.max_ms // 1000 + 60 + int(self.rng.random() * 240)
        tm = time.gmtime(t)
        d = self.root / time.strftime("year=%Y/month=%m/day=%d/hour=%H", tm)
        d.mkdir(parents=True, exist_ok=True)
        name = f"{FIREHOSE_STREAM}-1-{time.strftime('%Y-%m-%d-%H-%M-%S', tm)}-{uuid4(self.rng.getrandbits)}"
        pq.write_table(messages_table(self.messages, self.schema), d / name, compression="snappy")
        self.messages = []
        self.max_ms = 0

    def close(self) -> None:
        self._write_object()


class LogsCliSink:
    """``aws logs filter-log-events`` output, one page per file."""

    PAGE = 10_000

    def __init__(self, base: Path, spec: ChunkSpec) -> None:
        base.parent.mkdir(parents=True, exist_ok=True)
        self.base = base
        self.rng = random.Random(spec.key + ":logs-cli")
        self.events: list[dict] = []
        self.page = 0

    def add(self, ts_ms: int, log_stream: str, message: str) -> None:
        self.events.append({"logStreamName": log_stream, "timestamp": ts_ms, "message": message,
                            "ingestionTime": ts_ms + 200 + int(self.rng.random() * 3000),
                            "eventId": _log_event_id(self.rng)})
        if len(self.events) >= self.PAGE:
            self._write(last=False)

    def _write(self, last: bool) -> None:
        doc: dict = {"events": self.events, "searchedLogStreams": []}
        if not last:
            doc["nextToken"] = "Bxkq6kVGFtq2y_Moigeqscq" + f"{self.rng.getrandbits(160):040x}"
        self.page += 1
        path = self.base.with_name(f"{self.base.name}-{self.page:04d}.json")
        path.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
        self.events = []

    def close(self) -> None:
        if self.events or self.page == 0:
            self._write(last=True)


_GEO_KEYS = ("countryCode", "subdivisionCode")


class PutRumEventsSink:
    """PutRumEvents request bodies as the web client sends them: one session
    per body, at most 100 events, a new body after a 5-second dispatch
    interval. The service adds country and subdivision, so the request
    metadata lacks them."""

    BATCH = 100

    def __init__(self, path: Path, spec: ChunkSpec) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.f = open(path, "wb")  # noqa: SIM115
        self.rng = random.Random(spec.key + ":putrumevents")
        self.events: list[dict] = []
        self.key: tuple | None = None
        self.first_ts = 0

    def add(self, ts_ms: int, log_stream: str, message: str) -> None:
        m = orjson.loads(message)
        ud = m["user_details"]
        key = (m["application_id"], m["application_version"], ud["sessionId"], ud["userId"])
        ts = m["event_timestamp"] // 1000
        if self.events and (key != self.key or len(self.events) >= self.BATCH or ts - self.first_ts > 5):
            self._flush()
        if not self.events:
            self.key = key
            self.first_ts = ts
        md = m["metadata"]
        for k in _GEO_KEYS:
            md.pop(k, None)
        self.events.append({"id": m["event_id"], "timestamp": ts, "type": m["event_type"],
                            "metadata": orjson.dumps(md).decode(), "details": orjson.dumps(m["event_details"]).decode()})

    def _flush(self) -> None:
        app_id, ver, sid, uid = self.key
        body = {"BatchId": uuid4(self.rng.getrandbits), "AppMonitorDetails": {"id": app_id, "version": ver},
                "UserDetails": {"userId": uid, "sessionId": sid}, "RumEvents": self.events}
        self.f.write(orjson.dumps(body) + b"\n")
        self.events = []

    def close(self) -> None:
        if self.events:
            self._flush()
        self.f.close()


def open_sink(fmt: str, out: Path, app: AppSpec, spec: ChunkSpec, *, gzip: bool, level: int,
              firehose_buffer_seconds: int = 900, glue_schema: str = "structs"):
    """The sink writing one chunk of ``app`` in ``fmt`` under ``out`` (``glue_schema``: firehose-parquet only)."""
    name = _chunk_name(spec)
    if fmt == "jsonl":
        return JsonlSink(out / app.name / f"{name}.jsonl{'.gz' if gzip else ''}", gzip, level)
    if fmt == "cwl-export":
        return CwlExportSink(out / EXPORT_PREFIX / task_id(spec.seed, app), name, level)
    if fmt == "firehose":
        return FirehoseSink(out / "firehose", app, spec, level, control=spec.part == 0 and spec.day % 3 == 0,
                            buffer_seconds=firehose_buffer_seconds)
    if fmt == "firehose-parquet":
        return FirehoseParquetSink(out / "firehose-parquet", spec, glue_schema, buffer_seconds=firehose_buffer_seconds)
    if fmt == "logs-cli":
        return LogsCliSink(out / "filter-log-events" / app.name / name, spec)
    if fmt == "putrumevents":
        return PutRumEventsSink(out / "putrumevents" / app.name / f"{name}.jsonl", spec)
    raise ValueError(f"unknown format {fmt!r}")


def finalize(fmt: str, out: Path) -> None:
    """Work that needs every chunk done: name export parts ``000000.gz``, ...
    in chunk order and add the export's permission-check object."""
    if fmt != "cwl-export":
        return
    root = out / EXPORT_PREFIX
    root.mkdir(parents=True, exist_ok=True)
    (root / "aws-logs-write-test").write_bytes(b"Permission Check Successful")
    for task in sorted(p for p in root.iterdir() if p.is_dir()):
        for stream in sorted(p for p in task.iterdir() if p.is_dir()):
            parts = sorted(p for p in stream.iterdir() if p.name.startswith("part-"))
            for i, p in enumerate(parts):
                os.replace(p, stream / f"{i:06d}.gz")


class ListSink:
    """Collects messages in memory (``iter_messages``)."""

    def __init__(self, log_group: str) -> None:
        self.log_group = log_group
        self.items: list[tuple[int, str, str]] = []

    def add(self, ts_ms: int, log_stream: str, message: str) -> None:
        self.items.append((ts_ms, log_stream, message))

    def close(self) -> None:
        pass
