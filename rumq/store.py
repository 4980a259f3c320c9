"""The dataset on disk: committed Parquet files, the input manifest, the lock.

Layout under the data directory::

    events/event_date=YYYY-MM-DD/part-<ingest>-<n>.parquet   the canonical event table
    rejects/<ingest_id>.jsonl                                 rejected records, one file per ingest
    _rumq/state.json                                          what is committed (the only truth)
    _rumq/lock                                                the writers' lock
    _rumq/staging/<ingest_id>/                                work in progress of a running ingest

Atomicity: a writer stages everything, moves the new files into place
(``place``, ``place_rejects``), then replaces ``state.json`` in one
``os.replace`` (``commit``); files the new state no longer lists are deleted
only after that (``discard``). Readers only read files listed
in ``state.json``, so a crash at any moment leaves the dataset as it was
before or after the write; files left behind by a crash are not listed and
are removed by the next writer (``recover``).

``Store`` is the one owner of this layout: ingest and compact place files and
write manifest entries through it, and every reader of the state goes through
``load_state`` (which checks the state's version).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from rumq.errors import DatasetError, DatasetLockedError
from rumq.fsync import fsync_dir
from rumq.schema import PARTITION_COLUMN

#: 2: session_id / user_id stored as (UUID, text) pairs (rumq.schema.ID_STORAGE).
#: 3: event files hold ``message_reconstructed``; input entries may name ``missing_fields``.
#: 4: ``message`` stored without the event id's characters (rumq.schema.MESSAGE_STORAGE).
STATE_VERSION = 4
#: Why each older version cannot be read (the hint of the error).
_OLD_VERSIONS = {
    1: "version 1 stored session and user ids as text",
    2: "version 2 event files lack the message_reconstructed column",
    3: "version 3 event files store the whole message, not message_body and message_id_at",
}
#: Older versions ``rumq migrate`` upgrades in place (rumq.maintenance.migrate).
MIGRATABLE_VERSIONS = frozenset({2, 3})


@dataclass(frozen=True)
class StagedFile:
    """A finished Parquet file in a staging folder, ready to be placed in the dataset.

    Attributes:
        source: the file in the staging folder.
        date: its partition (UTC date, ``YYYY-MM-DD``).
        name: its file name in the partition (unique: it carries the writer's id).
        rows: rows it holds.
        event_name: the one event_name it holds (None: several).
    """

    source: Path
    date: str
    name: str
    rows: int
    event_name: str | None = None


@dataclass
class State:
    """The committed state of a dataset (the content of ``_rumq/state.json``)."""

    files: list[dict[str, Any]] = field(default_factory=list)
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    ingests: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "files": self.files,
            "inputs": self.inputs,
            "ingests": self.ingests,
            "rejects": self.rejects,
        }

    def ingested_object(self, url: str, etag: str, size: int) -> dict[str, Any] | None:
        """The manifest entry of the object at ``url`` if it was ingested with this ETag and size.

        None when the object is new or changed (a changed object is read
        again; its events already in the dataset count as duplicates).
        """
        seen = self.inputs.get(url)
        if seen and seen.get("etag") == etag and seen.get("size") == size:
            return seen
        return None

    def record_object(self, url: str, etag: str, size: int, counts: dict[str, Any]) -> None:
        """Record an ingested object by its URL (bucket and key), ETag and size.

        Objects are keyed by URL (local files by their content's sha256): a
        changed object replaces its entry.
        """
        self.inputs[url] = {"path": url, "etag": etag, "size": size, **counts}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> State:
        return cls(
            files=list(data.get("files", [])),
            inputs=dict(data.get("inputs", {})),
            ingests=list(data.get("ingests", [])),
            rejects=list(data.get("rejects", [])),
        )


class Store:
    """A rumq dataset directory.

    Args:
        root: the data directory (need not exist until the first write).
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.meta_dir = self.root / "_rumq"
        self.state_path = self.meta_dir / "state.json"
        self.events_dir = self.root / "events"
        self.rejects_dir = self.root / "rejects"
        self.staging_dir = self.meta_dir / "staging"

    # -- reading -----------------------------------------------------------
    def exists(self) -> bool:
        """True when the directory holds a committed rumq dataset."""
        return self.state_path.is_file()

    def check(self) -> None:
        """Raise ``DatasetError`` unless the dataset exists."""
        if not self.root.exists():
            raise DatasetError(
                f"no dataset at {self.root}",
                hint="ingest some exports first (rumq --data DIR ingest PATH...) or point --data / RUMQ_DATA at a dataset",
            )
        if not self.exists():
            raise DatasetError(
                f"{self.root} is not a rumq dataset (no _rumq/state.json)",
                hint="point --data at a directory created by `rumq ingest`",
            )

    def state_version(self) -> int | None:
        """The format version of the committed state (None when nothing was ever committed).

        Raises:
            DatasetError: the state file cannot be read.
        """
        try:
            with open(self.state_path, encoding="utf-8") as f:
                return json.load(f).get("version")
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            raise DatasetError(f"cannot read {self.state_path}: {e}") from e

    def load_state(self, *, allow_old: bool = False) -> State:
        """The committed state (empty when nothing was ever committed).

        ``allow_old`` reads a state of a version ``rumq migrate`` upgrades
        (only the migration itself does that).
        """
        try:
            with open(self.state_path, encoding="utf-8") as f:
                data = json.load(f)
        except FileNotFoundError:
            return State()
        except (OSError, ValueError) as e:
            raise DatasetError(
                f"cannot read {self.state_path}: {e}",
                hint="the dataset's state file is damaged; restore it from a backup or re-ingest into a new directory",
            ) from e
        version = data.get("version")
        if version != STATE_VERSION and not (allow_old and version in MIGRATABLE_VERSIONS):
            why = f" ({_OLD_VERSIONS[version]})" if version in _OLD_VERSIONS else ""
            if version in MIGRATABLE_VERSIONS:
                hint = f"run `rumq migrate` to upgrade it in place (atomic; nothing is re-ingested){why}"
            else:
                hint = f"use the rumq version that wrote the dataset, or re-ingest the exports into a new directory{why}"
            raise DatasetError(
                f"{self.state_path} has version {version!r}; this rumq reads version {STATE_VERSION}", hint=hint
            )
        return State.from_json(data)

    def event_files(self, start: date | None = None, end: date | None = None) -> list[str]:
        """Absolute paths of the committed event files, optionally only for dates in [start, end]."""
        out = []
        for f in self.load_state().files:
            d = date.fromisoformat(f["date"])
            if (start is None or d >= start) and (end is None or d <= end):
                out.append(str(self.root / f["path"]))
        return sorted(out)

    def rejects_files(self) -> list[str]:
        return [str(self.root / r["path"]) for r in self.load_state().rejects]

    def size_on_disk(self) -> int:
        st = self.load_state()
        total = sum(int(f.get("bytes", 0)) for f in st.files)
        total += sum(int(r.get("bytes", 0)) for r in st.rejects)
        return total

    # -- writing -----------------------------------------------------------
    def commit(self, state: State) -> None:
        """Atomically replace the committed state (write, fsync, rename, fsync dir)."""
        self.meta_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.meta_dir / f"state.json.tmp-{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(state.to_json(), f, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.state_path)
        fsync_dir(self.meta_dir)

    def place(self, files: Iterable[StagedFile], writer_id: str) -> list[dict[str, Any]]:
        """Move staged files into their partitions; return their manifest entries.

        The files stay invisible to readers until a ``commit`` of a state that
        lists the entries (a crash before that leaves orphans for ``recover``).
        Must be called with the lock held.

        Args:
            files: the staged files.
            writer_id: the ingest or compaction that wrote them (recorded per file).
        """
        entries = []
        for f in files:
            dest = self.partition_dir(f.date) / f.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(f.source, dest)
            entries.append({"path": str(dest.relative_to(self.root)), "date": f.date, "rows": f.rows,
                            "bytes": dest.stat().st_size, "ingest_id": writer_id, "event_name": f.event_name})
        return entries

    def place_rejects(self, source: Path, writer_id: str, rows: int) -> dict[str, Any]:
        """Move an ingest's staged rejects file into ``rejects/``; return its manifest entry.

        Like ``place``: visible once a committed state lists the entry.
        """
        self.rejects_dir.mkdir(parents=True, exist_ok=True)
        dest = self.rejects_dir / f"{writer_id}.jsonl"
        os.replace(source, dest)
        return {"path": str(dest.relative_to(self.root)), "rows": rows, "bytes": dest.stat().st_size,
                "ingest_id": writer_id}

    def discard(self, paths: Iterable[str]) -> None:
        """Delete files (paths relative to the root) that the committed state no longer lists."""
        for path in paths:
            (self.root / path).unlink(missing_ok=True)

    def recover(self, *, allow_old: bool = False) -> list[str]:
        """Remove what a crashed writer left behind; return the removed paths.

        Must be called with the lock held (``allow_old``: see ``load_state``).
        """
        removed: list[str] = []
        if self.staging_dir.exists():
            for p in self.staging_dir.iterdir():
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
                removed.append(str(p))
        for p in self.meta_dir.glob("state.json.tmp-*"):
            p.unlink(missing_ok=True)
            removed.append(str(p))
        st = self.load_state(allow_old=allow_old)
        known = {f["path"] for f in st.files} | {r["path"] for r in st.rejects}
        for base in (self.events_dir, self.rejects_dir):
            if not base.exists():
                continue
            for p in base.rglob("*"):
                if p.is_file() and str(p.relative_to(self.root)) not in known:
                    p.unlink()
                    removed.append(str(p))
        return removed

    def new_staging(self, ingest_id: str) -> Path:
        d = self.staging_dir / ingest_id
        d.mkdir(parents=True, exist_ok=False)
        return d

    def partition_dir(self, day: str) -> Path:
        return self.events_dir / f"{PARTITION_COLUMN}={day}"

    def lock(
        self,
        *,
        wait: bool = True,
        timeout: float | None = None,
        on_wait: Callable[[str], None] | None = None,
    ) -> contextlib.AbstractContextManager[None]:
        """Hold the writers' lock (one writer per dataset at a time).

        Args:
            wait: block until the lock is free; False raises at once.
            timeout: give up after this many seconds (None: wait forever).
            on_wait: called once with a message when we have to wait.

        Raises:
            DatasetLockedError: the lock is held and we may not (or no longer) wait.
        """
        from rumq import lockfile

        return lockfile.hold(self.meta_dir / "lock", holder=f"writing to {self.root}", error=DatasetLockedError,
                             wait=wait, timeout=timeout, on_wait=on_wait)


