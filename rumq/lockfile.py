"""One writer at a time: an exclusive ``flock`` on a lock file.

Used by the dataset (``Store.lock``) and by report runs. The kernel drops the
lock when the process dies, so a killed writer never leaves a stale lock.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from rumq.errors import RumqError, file_access_error


@contextlib.contextmanager
def hold(
    path: str | os.PathLike[str],
    *,
    holder: str,
    error: type[RumqError],
    wait: bool = True,
    timeout: float | None = None,
    on_wait: Callable[[str], None] | None = None,
    no_wait_hint: str = "wait for it to finish, or run without --no-wait to queue behind it",
) -> Iterator[None]:
    """Hold the lock at ``path`` (created when missing) for the ``with`` block.

    Args:
        path: the lock file.
        holder: what the other process is doing, for messages ("writing to DIR").
        error: the ``RumqError`` subclass raised when the lock cannot be had.
        wait: block until the lock is free; False raises at once.
        timeout: give up after this many seconds (None: wait as long as it takes).
        on_wait: called once with a message when we have to wait.
        no_wait_hint: the hint of the error raised when ``wait`` is False.

    Raises:
        error: the lock is held and we may not (or no longer) wait.
        FileAccessError: the lock file cannot be created or opened (no write
            permission on its directory, a read-only file system).
    """
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        # Taking the lock is the first write of a command: say what was being done.
        err = file_access_error(e, "create the lock file", path)
        if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            err.hint = (f"writing takes a lock in {Path(path).parent}: run as a user who may write there "
                        "(reading needs no write access)")
        raise err from None
    try:
        if not _try(fd):
            msg = f"another rumq process{_holder(fd)} is {holder}"
            if not wait:
                raise error(msg, hint=no_wait_hint)
            if on_wait:
                on_wait(msg + "; waiting for it to finish")
            deadline = None if timeout is None else time.monotonic() + timeout
            while not _try(fd):
                if deadline is not None and time.monotonic() > deadline:
                    raise error(f"{msg}; gave up after {timeout:g} s", hint="try again later")
                time.sleep(0.1)
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
