"""One run at a time per output directory: an ``flock`` on ``<out>/.rumq-report.lock``.

A second run of the same report (cron firing while a slow run is still going)
waits for the first by default, or exits at once with ``ReportLockedError``
(exit code 4) when told not to wait. The kernel drops the lock when the
process dies, so a killed run never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

from rumq import lockfile
from rumq.errors import ReportLockedError

__all__ = ["LOCK_NAME", "ReportLockedError", "hold"]

LOCK_NAME = ".rumq-report.lock"


def hold(
    out_dir: str | os.PathLike[str],
    *,
    wait: bool = True,
    timeout: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> contextlib.AbstractContextManager[None]:
    """Hold the report lock of ``out_dir`` (created when missing).

    Raises:
        ReportLockedError: the lock is held and we may not (or no longer) wait.
    """
    root = Path(out_dir)
    return lockfile.hold(root / LOCK_NAME, holder=f"running a report into {root}", error=ReportLockedError,
                         wait=wait, timeout=timeout, on_wait=on_wait,
                         no_wait_hint="it will finish on its own; run again later, or without --no-wait to queue")
