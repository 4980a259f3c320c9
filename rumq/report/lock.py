"""One run at a time per output directory: an ``flock`` on ``<out>/.rumq-report.lock``.

A second run of the same report (cron firing while a slow run is still going)
waits for the first by default, or exits at once with ``ReportLockedError``
(exit code 4) when told not to wait. The kernel drops the lock when the
process dies, so a killed run never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from rumq.errors import ExitCode, RumqError

LOCK_NAME = ".rumq-report.lock"


class ReportLockedError(RumqError):
    """Another run of the report holds the output directory's lock."""

    exit_code = ExitCode.LOCKED


@contextlib.contextmanager
def hold(
    out_dir: str | os.PathLike[str],
    *,
    wait: bool = True,
    timeout: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the report lock of ``out_dir`` (created when missing).

    Args:
        out_dir: the output directory the run writes into.
        wait: wait for the holder to finish; False raises at once.
        timeout: give up after this many seconds (None: wait as long as it takes).
        on_wait: called once with a message when we have to wait.

    Raises:
        ReportLockedError: the lock is held and we may not (or no longer) wait.
    """
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    path = root / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _try(fd):
            pid = _holder(fd)
            msg = f"another `rumq report`{pid} is writing to {root}"
            if not wait:
                raise ReportLockedError(msg, hint="it will finish on its own; run again later, or without --no-wait to queue")
            if on_wait:
                on_wait(msg + "; waiting for it to finish")
            deadline = None if timeout is None else time.monotonic() + timeout
            while not _try(fd):
                if deadline is not None and time.monotonic() > deadline:
                    raise ReportLockedError(f"{msg}; gave up after {timeout:g} s", hint="try again later")
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the flock


def _try(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError as e:
        if e.errno not in (errno.EAGAIN, errno.EACCES):
            raise
        return False


def _holder(fd: int) -> str:
    try:
        pid = os.pread(fd, 32, 0).decode().strip()
    except OSError:
        return ""
    return f" (pid {pid})" if pid.isdigit() else ""
