"""A small HTTP proxy on 127.0.0.1 in front of the test S3 server: counts requests, injects faults.

rumq is pointed at the proxy (``--endpoint-url`` / ``AWS_ENDPOINT_URL``);
the proxy forwards every request to the real server unless a ``Fault``
matches it, in which case it answers with an S3 error (503 SlowDown, 500,
403 AccessDenied) or cuts the response body halfway. It stops by itself
after ``lifetime`` seconds, so a failed test never leaves it running.
"""

from __future__ import annotations

import http.client
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

_ERRORS = {
    "slowdown": (503, "SlowDown", "Please reduce your request rate."),
    "internal": (500, "InternalError", "We encountered an internal error. Please try again."),
    "denied": (403, "AccessDenied", "Access Denied"),
    "expired": (400, "ExpiredToken", "The provided token has expired."),
    "precondition": (412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold"),
}


@dataclass
class Fault:
    """Answer matching requests with ``action`` (a key of ``_ERRORS``, ``"cut"``, or ``"hold"``), ``times`` times (None: always).

    ``"hold"`` keeps the request waiting, unanswered, until ``FaultProxy.release``
    (then forwards or drops it): a test can kill the client or let another
    client go first while it waits (``FaultProxy.held`` tells that it arrived).

    ``path`` is a regular expression searched in the request path
    (``/bucket/key``); ``method`` limits it to one HTTP method; ``listing``
    to ListObjectsV2 requests (True) or to the others (False); ``ranged`` to
    GETs with (True) or without (False) a Range header; ``skip`` lets that
    many matching requests through first.
    """

    action: str
    path: str = ""
    method: str | None = None
    listing: bool | None = None
    ranged: bool | None = None
    times: int | None = None
    skip: int = 0
    hits: int = 0

    def matches(self, method: str, path: str, query: str, ranged: bool = False) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.ranged is not None and ranged != self.ranged:
            return False
        if self.method and method != self.method:
            return False
        if self.listing is not None and ("list-type=" in query) != self.listing:
            return False
        if re.search(self.path, path) is None:
            return False
        if self.skip:
            self.skip -= 1
            return False
        return True


@dataclass
class Request:
    method: str
    path: str
    query: str
    range: str | None
    answered: str  # "forwarded" or the fault's action
    bytes: int = 0  # response body bytes sent back (forwarded requests)


@dataclass
class FaultProxy:
    """The proxy. Use as a context manager; ``url`` is its endpoint."""

    upstream: str
    lifetime: float = 60.0
    faults: list[Fault] = field(default_factory=list)
    log: list[Request] = field(default_factory=list)
    #: Request headers removed before forwarding (e.g. a store that ignores conditional writes).
    drop_headers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        u = urlsplit(self.upstream)
        self._up = (u.hostname, u.port)
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._forward_held = True
        self.held = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _any(self) -> None:
                proxy._handle(self)

            do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._timer = threading.Timer(self.lifetime, self.stop)
        self._timer.daemon = True

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def release(self, *, forward: bool = True) -> None:
        """Let the held requests through (``forward=False``: drop them, as if they never left the client)."""
        self._forward_held = forward
        self._released.set()

    def stop(self) -> None:
        self.release(forward=False)
        self._timer.cancel()
        if self._thread.is_alive():
            self.server.shutdown()
        self.server.server_close()

    def requests(self, *, listing: bool | None = None, method: str | None = None) -> list[Request]:
        with self._lock:
            return [r for r in self.log if (listing is None or ("list-type=" in r.query) == listing)
                    and (method is None or r.method == method)]

    # -- one request ---------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        path, _, query = h.path.partition("?")
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        with self._lock:
            rng = h.headers.get("Range")
            fault = next((f for f in self.faults if f.matches(h.command, path, query, rng is not None)), None)
            if fault is not None:
                fault.hits += 1
            request = Request(h.command, path, query, rng, fault.action if fault else "forwarded")
            self.log.append(request)
        if fault is not None and fault.action in _ERRORS:
            status, code, message = _ERRORS[fault.action]
            xml = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message>'
                   f"<Resource>{path}</Resource><RequestId>rumq-test</RequestId></Error>").encode()
            h.send_response(status)
            h.send_header("Content-Type", "application/xml")
            h.send_header("Content-Length", str(len(xml)))
            h.end_headers()
            if h.command != "HEAD":
                h.wfile.write(xml)
            return
        if fault is not None and fault.action == "hold":
            self.held.set()
            self._released.wait(self.lifetime)
            if not self._forward_held:
                h.close_connection = True
                return
        conn = http.client.HTTPConnection(*self._up, timeout=30)
        try:
            dropped = {"connection", *(d.lower() for d in self.drop_headers)}
            headers = {k: v for k, v in h.headers.items() if k.lower() not in dropped}
            conn.request(h.command, h.path, body=body or None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            h.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date"):
                    h.send_header(k, v)
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            if h.command == "HEAD":
                return
            if fault is not None and fault.action == "cut" and len(data) > 1:
                # Promise the whole body, send half of it, hang up.
                h.wfile.write(data[: len(data) // 2])
                h.wfile.flush()
                h.close_connection = True
                return
            h.wfile.write(data)
            request.bytes = len(data)
        finally:
            conn.close()

