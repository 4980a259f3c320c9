"""Durability steps of the file system that more than one stage needs."""

from __future__ import annotations

import os
from pathlib import Path


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Flush a directory's entries to disk, so a rename into it survives a crash.

    After ``os.replace``/``os.rename`` the new name is durable only once the
    directory itself is synced (POSIX).

    Raises:
        OSError: the directory cannot be opened or synced.
    """
    fd = os.open(Path(path), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
