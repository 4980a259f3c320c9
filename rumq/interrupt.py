"""Ctrl-C stops a running DuckDB statement at once.

DuckDB's Python client looks for a pending SIGINT only between some units of
its work: during a long join it may not look for minutes (measured: a ``sum``
over an inequality self-join of 1M events, or of two 10M-row ranges, ran on
for 20 s and more after SIGINT, in rumq and in a plain DuckDB process alike),
and Python runs its own SIGINT handler only once DuckDB returns.
``connection.interrupt()`` from another thread stops the statement at once.

So while ``ctrl_c_interrupts()`` is active (the CLI's commands, and the
``rumq.Dataset`` methods that run a query: a notebook's interrupt is a
SIGINT too), the C-level
signal handler's wake-up byte (``signal.set_wakeup_fd``) reaches a watcher
thread, which interrupts every open rumq connection (``track``, done by
``rumq.catalog.new_connection``). Python's own handler still raises
KeyboardInterrupt when DuckDB returns; the CLI maps both to "Interrupted."
and exit code 130. Nothing is written by an interrupted query (queries read),
and an interrupted ingest is left as before or after, as any other stop.
"""

from __future__ import annotations

import contextlib
import functools
import signal
import socket
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

#: The open connections a Ctrl-C interrupts (weakly held: a closed, dropped connection leaves).
_OPEN: weakref.WeakSet[Any] = weakref.WeakSet()
#: Whether a ``ctrl_c_interrupts()`` is active (an inner one, e.g. a Dataset method the CLI calls, does nothing).
_ACTIVE = False


def track(con: Any) -> Any:
    """Let Ctrl-C interrupt ``con`` (a DuckDB connection) while ``ctrl_c_interrupts()`` is active; returns it."""
    _OPEN.add(con)
    return con


def interrupt_open() -> None:
    """Interrupt the running statement of every tracked connection (none running: nothing happens)."""
    for con in list(_OPEN):
        with contextlib.suppress(Exception):  # closed in the meantime
            con.interrupt()


@contextlib.contextmanager
def ctrl_c_interrupts() -> Iterator[None]:
    """While active, SIGINT also interrupts the tracked connections' statements.

    Only in the main thread with Python's default SIGINT handler (a console
    script; a Jupyter kernel while it runs a cell); elsewhere (a thread, a
    program with its own handler) it does nothing, so it never takes over
    someone else's signals: nor where the wake-up fd is already in use.
    """
    global _ACTIVE
    if (_ACTIVE or threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield
        return
    reader, writer = socket.socketpair()
    writer.setblocking(False)  # the C handler must never block on a full buffer
    try:
        previous = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    except ValueError:  # not the main interpreter
        previous = None
    if previous != -1:
        # Not the main interpreter, or the wake-up fd is someone else's (an asyncio loop's
        # signal handlers read it): theirs, untouched; DuckDB's own check of the signal stays.
        if previous is not None:
            signal.set_wakeup_fd(previous)
        reader.close()
        writer.close()
        yield
        return
    watcher = threading.Thread(target=_watch, args=(reader,), name="rumq-ctrl-c", daemon=True)
    watcher.start()
    _ACTIVE = True
    try:
        yield
    finally:
        _ACTIVE = False
        signal.set_wakeup_fd(previous)
        # A shutdown (not close) wakes the watcher's recv with end-of-stream.
        with contextlib.suppress(OSError):
            writer.shutdown(socket.SHUT_WR)
        watcher.join(timeout=1)
        writer.close()
        reader.close()


def interruptible(fn: F) -> F:
    """Run ``fn`` inside ``ctrl_c_interrupts()``; a statement stopped by Ctrl-C raises KeyboardInterrupt.

    For the notebook API's query methods: a kernel's interrupt is a SIGINT, and
    the user asked to stop, so it is no query failure (DuckDB's own answer is
    ``RuntimeError: Query interrupted``, which rumq may have wrapped).
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with ctrl_c_interrupts():
                return fn(*args, **kwargs)
        except Exception as e:  # (KeyboardInterrupt is no Exception: it passes as it is)
            if caused_by_interrupt(e):
                raise KeyboardInterrupt from None
            raise

    return wrapper  # type: ignore[return-value]


def caused_by_interrupt(e: BaseException) -> bool:
    """Whether ``e`` is (or was raised while handling) a Ctrl-C.

    DuckDB answers SIGINT during a query with its own error (``RuntimeError:
    Query interrupted``, or ``duckdb.InterruptException``), which rumq may have
    wrapped in a ``RumqError``; the user asked to stop, so it is no failure.
    """
    duckdb = sys.modules.get("duckdb")
    seen: set[int] = set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, KeyboardInterrupt):
            return True
        if isinstance(cur, RuntimeError) and str(cur) == "Query interrupted":
            return True
        if duckdb is not None and isinstance(cur, getattr(duckdb, "InterruptException", ())):
            return True
        cur = cur.__cause__ or cur.__context__
    return False


def _watch(reader: socket.socket) -> None:
    """Wait for wake-up bytes (a signal's number each); interrupt the connections on SIGINT."""
    while True:
        try:
            data = reader.recv(64)
        except OSError:
            return
        if not data:
            return
        if int(signal.SIGINT) in data:
            interrupt_open()
