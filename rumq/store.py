"""The dataset on disk: committed Parquet files, the input manifest, the lock.

Layout under the data directory::

    events/event_date=YYYY-MM-DD/part-<ingest>-<n>.parquet   the canonical event table
    rejects/<ingest_id>.jsonl                                 rejected records, one file per ingest
    _rumq/state.json                                          what is committed (the only truth)
    _rumq/inputs/inputs-<id>.json.gz                          the input manifest state.json names
    _rumq/lock                                                the writers' lock
    _rumq/staging/<ingest_id>/                                work in progress of a running ingest

The same layout under an ``s3://bucket/prefix/`` URL keeps a dataset on an
object store (see ``Store``: no lock, conditional manifest writes, staging in
a local temporary folder).

Atomicity: a writer stages everything, moves the new files into place
(``place``, ``place_rejects``), then replaces ``state.json`` in one
``os.replace`` (``commit``); files the new state no longer lists are deleted
only after that (``discard``). Readers only read files listed
in ``state.json``, so a crash at any moment leaves the dataset as it was
before or after the write; files left behind by a crash are not listed and
are removed by the next writer (``recover``): only files of the names rumq
gives (``OWN_FILE``). A dataset's empty state is committed before its first
file is placed, so a directory without ``state.json`` never holds rumq's
files; ``recover`` refuses one that holds any file (it is not rumq's to clean).

``Store`` is the one owner of this layout: ingest and compact place files and
write manifest entries through it, and every reader of the state goes through
``load_state`` (which checks the state's version).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from rumq.errors import DatasetError, DatasetLockedError, UsageError
from rumq.fsync import fsync_dir
from rumq.schema import PARTITION_COLUMN

#: 2: session_id / user_id stored as (UUID, text) pairs (rumq.schema.ID_STORAGE).
#: 3: event files hold ``message_reconstructed``; input entries may name ``missing_fields``.
#: 4: ``message`` stored without the event id's characters (rumq.schema.MESSAGE_STORAGE).
#: 5: the input manifest moved out of state.json into ``_rumq/inputs/`` (``State.inputs_file``).
#: 6: ``message`` stored as the texts around the event id (``message_head``, ``message_tail``).
STATE_VERSION = 6
#: Why each older version cannot be read (the hint of the error).
_OLD_VERSIONS = {
    1: "version 1 stored session and user ids as text",
    2: "version 2 event files lack the message_reconstructed column",
    3: "version 3 event files store the whole message, not message_head and message_tail",
    4: "version 4 kept the input manifest inside state.json",
    5: "version 5 event files store message_body and message_id_at, not message_head and message_tail",
}
#: Older versions ``rumq migrate`` upgrades in place (rumq.maintenance.migrate).
MIGRATABLE_VERSIONS = frozenset({2, 3, 4, 5})
#: The manifest, relative to the dataset's root.
STATE_FILE = "_rumq/state.json"
#: The input manifests' folder (one current file, named by its writer).
INPUTS_DIR = "_rumq/inputs/"
#: Uploads to an object store in flight at once.
UPLOADS_IN_FLIGHT = 8
#: Seconds an unlisted file on an object store must have existed before a
#: writer deletes it as an orphan (``RUMQ_ORPHAN_GRACE``): longer than any
#: writer takes between its first upload and its commit.
ORPHAN_GRACE = 6 * 3600
#: The files rumq writes under a dataset (paths relative to the root, as the manifest names
#: them): event files of ingest, compact and migrate, rejects files named by their ingest,
#: input manifests. Recovery removes only unlisted files of these names; any other file is
#: not rumq's (notes, a fixed rejects file) and stays.
OWN_FILE = re.compile(
    rf"events/{PARTITION_COLUMN}=\d{{4}}-\d{{2}}-\d{{2}}/part-[^/]+\.parquet"
    r"|rejects/\d{8}T\d{6}Z-[0-9a-z]+\.jsonl"
    r"|_rumq/inputs/inputs-[0-9a-f]+\.json\.gz"
)
#: Files a directory without a state file may hold: the lock, a crashed first writer's
#: leftovers, and the dataset's own ``rumq.toml`` (docs/analyses.md), written before a first ingest.
_BEFORE_FIRST_COMMIT = re.compile(r"_rumq/(lock|state\.json\.tmp-\d+|staging/.*)|rumq\.toml")
#: Files named by the error about a directory that is not a dataset.
_NAMED_FILES = 5
_DAMAGED = "the dataset's state file is damaged; restore it from a backup or re-ingest into a new directory"


def orphan_grace() -> float:
    """``ORPHAN_GRACE``, or ``RUMQ_ORPHAN_GRACE`` seconds when set."""
    raw = os.environ.get("RUMQ_ORPHAN_GRACE")
    if not raw:
        return ORPHAN_GRACE
    try:
        return max(0.0, float(raw))
    except ValueError:
        raise DatasetError(f"RUMQ_ORPHAN_GRACE={raw!r} is not a number of seconds",
                           hint="set it to a number or unset it") from None


def _age_origin(modified: str, now: float) -> float:
    """An object's LastModified (ISO 8601 text) as a Unix time; ``now`` when unknown (never an orphan yet)."""
    from datetime import datetime

    try:
        return datetime.fromisoformat(modified.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return now


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
    """The committed state of a dataset (the content of ``_rumq/state.json``).

    The input manifest (``inputs``: every input file or object ingested, by
    content hash or URL) lives in its own object, ``inputs_file``
    (``_rumq/inputs/inputs-<id>.json.gz``), read only when ``inputs`` is
    used: a scheduled ingest of a Firehose prefix records ~100,000 objects a
    year (~44 MB of JSON), which queries never need.
    """

    files: list[dict[str, Any]] = field(default_factory=list)
    ingests: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    #: The ETag of the manifest this state was read from (object stores; None on local disk).
    base: str | None = field(default=None, compare=False)
    #: Read from a committed manifest (False: a dataset's first commit).
    committed: bool = field(default=False, compare=False)
    #: The input manifest's file, relative to the dataset (None: no input recorded yet).
    inputs_file: str | None = field(default=None, compare=False)
    _inputs: dict[str, dict[str, Any]] | None = field(default=None, repr=False, compare=False)
    _load: Callable[[str], dict[str, dict[str, Any]]] | None = field(default=None, repr=False, compare=False)
    #: The inputs changed since they were read: the next commit writes a new inputs file.
    inputs_changed: bool = field(default=False, compare=False)

    @property
    def inputs(self) -> dict[str, dict[str, Any]]:
        """The input manifest (read from ``inputs_file`` on first use)."""
        if self._inputs is None:
            self._inputs = self._load(self.inputs_file) if (self._load and self.inputs_file) else {}
        return self._inputs

    def to_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "files": self.files,
            "inputs_file": self.inputs_file,
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
        self.record_input(url, {"path": url, "etag": etag, "size": size, **counts})

    def record_input(self, key: str, entry: dict[str, Any]) -> None:
        """Record an ingested input under ``key`` (a local file's sha256, an object's URL)."""
        self.inputs[key] = entry
        self.inputs_changed = True

    @classmethod
    def from_json(cls, data: dict[str, Any],
                  load_inputs: Callable[[str], dict[str, dict[str, Any]]] | None = None) -> State:
        state = cls(
            files=list(data.get("files", [])),
            ingests=list(data.get("ingests", [])),
            rejects=list(data.get("rejects", [])),
            inputs_file=data.get("inputs_file"),
            _load=load_inputs,
        )
        if "inputs" in data:  # format version 4 and older: inline (moved out at the next commit)
            state._inputs = dict(data["inputs"])
            state.inputs_changed = True
        return state


class Store:
    """A rumq dataset: a local directory or an ``s3://bucket/prefix/`` URL.

    Args:
        root: the data directory or URL (need not exist until the first write).
        options: endpoint, profile and region for an ``s3://`` dataset (None: the AWS defaults).

    On an object store the layout is the same; what differs is how a commit
    is made atomic. There is no lock file: every file is uploaded under a
    new name first, then the manifest is replaced by one conditional PUT on
    the ETag of the manifest the writer started from (``If-None-Match: *``
    for a dataset's first commit), so of two writers exactly one commits and
    the other gets ``DatasetConflictError`` (its uploads are deleted). Files
    no manifest lists are orphans: never read, and deleted by a later writer
    once older than ``ORPHAN_GRACE`` seconds (so a running writer's uploads
    are never taken). See docs/storage.md.
    """

    def __init__(self, root: str | os.PathLike[str], options: Any = None) -> None:
        # rumq.objectstore.is_url, inlined: importing the object store client (four dataclasses)
        # cost every command on a local dataset ~3 ms (tests/test_fixed_cost.py keeps the two alike).
        if isinstance(root, str) and not root:
            # Path("") is the current directory: never a dataset chosen on purpose.
            raise UsageError("the dataset directory is an empty path",
                             hint="give a directory ('.' for the current one) or an s3:// URL")
        self.remote = isinstance(root, str) and root.startswith("s3://")
        self.options = options
        if self.remote:
            from rumq.objectstore import S3Url

            url = S3Url.parse(str(root))
            if url.is_glob:
                raise DatasetError(f"{root}: a dataset URL cannot hold wildcards",
                                   hint="give the dataset's prefix, e.g. s3://bucket/rumq/")
            self.bucket = url.bucket
            self.prefix = url.key.strip("/") + "/" if url.key.strip("/") else ""
            self.root: Any = f"s3://{self.bucket}/{self.prefix}".rstrip("/")
            self.state_path: Any = self.url(STATE_FILE)
        else:
            self.root = Path(root)
            self.meta_dir = self.root / "_rumq"
            self.state_path = self.meta_dir / "state.json"
            self.events_dir = self.root / "events"
            self.rejects_dir = self.root / "rejects"
            self.staging_dir = self.meta_dir / "staging"
        #: Paths placed since the last commit (deleted if that commit loses a race).
        self._placed: list[str] = []
        #: A state file is known to exist: placing files is safe.
        self._has_state = False
        #: (object store) ETag of the empty state this writer committed before its first upload.
        self._initial_etag: str | None = None
        self._conditional_checked = False

    @property
    def objects(self) -> Any:
        """The ``ObjectStore`` of an ``s3://`` dataset."""
        from rumq.objectstore import shared_store

        return shared_store(self.options)

    def url(self, path: str) -> str:
        """Where a manifest path (relative to the root) is, as DuckDB and the user read it."""
        if self.remote:
            return f"s3://{self.bucket}/{self.prefix}{path}"
        return str(self.root / path)

    def prepare(self, con: Any, sizes: dict[str, int] | None = None) -> Any:
        """Let DuckDB connection ``con`` read this dataset's files (a no-op on local disk).

        Args:
            sizes: sizes by URL of the files it will read (from the manifest:
                opening them then costs no request).

        Returns:
            The ``DatasetFileSystem`` registered (None on local disk), whose
            counters tell what the connection read from the store.
        """
        if not self.remote:
            return None
        from rumq.objectfs import DatasetFileSystem

        fs = DatasetFileSystem(self.objects, sizes)
        con.register_filesystem(fs)
        return fs

    def file_sizes(self, state: State | None = None) -> dict[str, int]:
        """The committed event files' sizes by URL (from the manifest)."""
        st = state or self.load_state()
        return {self.url(f["path"]): int(f.get("bytes") or 0) for f in st.files if f.get("bytes")}

    # -- reading -----------------------------------------------------------
    def exists(self) -> bool:
        """True when the directory holds a committed rumq dataset."""
        if self.remote:
            return self.objects.head(self.bucket, self.prefix + STATE_FILE) is not None
        return self.state_path.is_file()

    def check(self) -> None:
        """Raise ``DatasetError`` unless the dataset exists."""
        if self.remote:
            if not self.exists():
                # A missing bucket says so (BucketNotFoundError), not "no dataset".
                self.objects.call("head_bucket", f"s3://{self.bucket}/", Bucket=self.bucket)
                raise DatasetError(
                    f"no dataset at {self.root} (no {STATE_FILE})",
                    hint="ingest some exports first (rumq --data s3://BUCKET/PREFIX/ ingest PATH...) or check the URL",
                )
            return
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

    def _read_state(self) -> tuple[dict[str, Any] | None, str | None]:
        """The parsed state file and its ETag (None, None when nothing was ever committed)."""
        if self.remote:
            from rumq.errors import ObjectReadError

            try:
                raw, etag = self.objects.read_all(self.bucket, self.prefix + STATE_FILE)
            except ObjectReadError as e:
                if "NoSuchKey" in str(e):
                    return None, None
                raise
        else:
            try:
                with open(self.state_path, "rb") as f:
                    raw, etag = f.read(), None
            except FileNotFoundError:
                return None, None
            except OSError as e:
                raise DatasetError(f"cannot read {self.state_path}: {e}") from e
        try:
            data = json.loads(raw)
        except ValueError as e:
            raise DatasetError(f"cannot read {self.state_path}: {e}", hint=_DAMAGED) from e
        if not isinstance(data, dict):
            # ``null`` is no "nothing committed yet": that is a missing file.
            raise DatasetError(f"cannot read {self.state_path}: it holds {json.dumps(data)[:40]}, not a JSON object",
                               hint=_DAMAGED)
        return data, etag

    def _read_inputs(self, path: str) -> dict[str, dict[str, Any]]:
        """The input manifest at ``path`` (gzip JSON)."""
        import gzip

        import orjson

        try:
            if self.remote:
                raw, _ = self.objects.read_all(self.bucket, self.prefix + path)
            else:
                raw = (self.root / path).read_bytes()
            return orjson.loads(gzip.decompress(raw))
        except (OSError, ValueError, EOFError) as e:
            raise DatasetError(
                f"cannot read the input manifest {self.url(path)}: {e}",
                hint="the dataset's state is damaged; restore it from a backup or re-ingest into a new directory",
            ) from e

    def _write_inputs(self, state: State) -> str | None:
        """Write ``state.inputs`` as a new input manifest (placed like a data file); return the old one."""
        import gzip

        import orjson

        data = gzip.compress(orjson.dumps(state.inputs, option=orjson.OPT_SORT_KEYS), compresslevel=6, mtime=0)
        path = f"{INPUTS_DIR}inputs-{uuid.uuid4().hex}.json.gz"
        self._ensure_state()
        if self.remote:
            self.objects.put(self.bucket, self.prefix + path, data, if_none_match=True)
        else:
            target = self.root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        self._placed.append(path)
        old, state.inputs_file = state.inputs_file, path
        return old

    def state_identity(self) -> Any:
        """What changes when a new state is committed (a cache key), or None if there is no state."""
        if self.remote:
            obj = self.objects.head(self.bucket, self.prefix + STATE_FILE)
            return obj.etag if obj else None
        try:
            st = os.stat(self.state_path)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def state_version(self) -> int | None:
        """The format version of the committed state (None when nothing was ever committed).

        Raises:
            DatasetError: the state file cannot be read.
        """
        data, _ = self._read_state()
        return None if data is None else data.get("version")

    def load_state(self, *, allow_old: bool = False) -> State:
        """The committed state (empty when nothing was ever committed).

        ``allow_old`` reads a state of a version ``rumq migrate`` upgrades
        (only the migration itself does that). The state remembers which
        committed manifest it was read from: a commit of it on an object
        store succeeds only if that is still the committed one.
        """
        data, etag = self._read_state()
        if data is None:
            return State()
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
        state = State.from_json(data, self._read_inputs)
        state.base = etag
        state.committed = True
        return state

    def event_files(self, start: date | None = None, end: date | None = None) -> list[str]:
        """Paths (or URLs) of the committed event files, optionally only for dates in [start, end]."""
        out = []
        for f in self.load_state().files:
            d = date.fromisoformat(f["date"])
            if (start is None or d >= start) and (end is None or d <= end):
                out.append(self.url(f["path"]))
        return sorted(out)

    def rejects_files(self) -> list[str]:
        return [self.url(r["path"]) for r in self.load_state().rejects]

    def read_lines(self, url: str) -> Iterable[str]:
        """The lines of a dataset file (a rejects file) by its path or URL."""
        if self.remote:
            from rumq.objectstore import S3Url

            u = S3Url.parse(url)
            raw, _ = self.objects.read_all(u.bucket, u.key)
            yield from raw.decode("utf-8").splitlines()
            return
        with open(url, encoding="utf-8") as f:
            yield from f

    def size_on_disk(self) -> int:
        st = self.load_state()
        total = sum(int(f.get("bytes", 0)) for f in st.files)
        total += sum(int(r.get("bytes", 0)) for r in st.rejects)
        return total

    # -- writing -----------------------------------------------------------
    def commit(self, state: State) -> None:
        """Atomically replace the committed state.

        Local: write, fsync, rename, fsync the directory (the lock keeps other
        writers out). Object store: one PUT conditional on ``state.base`` (the
        manifest ``state`` was read from), or on there being no manifest yet.

        Raises:
            DatasetConflictError: (object store) another writer committed since
                ``state`` was read; this writer's uploads are deleted and the
                dataset is as that writer left it.
        """
        old_inputs = None
        if state.inputs_changed:
            if self.remote:
                self._check_conditional_writes()
            old_inputs = self._write_inputs(state)
        data = json.dumps(state.to_json(), indent=1, sort_keys=True).encode("utf-8")
        if self.remote:
            from rumq.errors import DatasetConflictError, ObjectChangedError

            self._check_conditional_writes()
            try:
                # A new dataset's empty state was committed before the first upload (``_ensure_state``):
                # this commit replaces exactly that one.
                first = not state.committed and self._initial_etag is not None
                state.base = self.objects.put(self.bucket, self.prefix + STATE_FILE, data,
                                              if_match=self._initial_etag if first else state.base,
                                              if_none_match=not state.committed and not first)
            except ObjectChangedError:
                placed, self._placed = self._placed, []
                self.discard(placed)
                if state.inputs_changed:
                    state.inputs_file = old_inputs
                raise DatasetConflictError(
                    f"another writer committed to {self.root} while this one was writing; nothing of this "
                    "write was committed",
                    hint="run the command again (an ingest reads only what is still new)",
                ) from None
            self._committed(state, old_inputs)
            return
        # The placed files' names (and new partition folders) are durable before the state that lists them.
        for d in sorted({(self.root / p).parent for p in self._placed} | {(self.root / p).parent.parent
                                                                          for p in self._placed}):
            fsync_dir(d)
        self._write_state(data)
        self._committed(state, old_inputs)

    def _write_state(self, data: bytes) -> None:
        """(local) Replace ``state.json`` with ``data``: write, fsync, rename, fsync the folder."""
        self.meta_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.meta_dir / f"state.json.tmp-{os.getpid()}"
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.state_path)
        fsync_dir(self.meta_dir)
        self._has_state = True

    def _ensure_state(self) -> None:
        """Commit the empty state of a new dataset before its first file is placed.

        So a directory holding rumq's files always has a state file: a crash
        in the first write leaves orphans the next writer removes, and a
        directory without a state file is never one that rumq may clean up.
        """
        if self._has_state:
            return
        if self.remote:
            from rumq.errors import ObjectChangedError

            empty = State().to_json()
            if self.objects.head(self.bucket, self.prefix + STATE_FILE) is None:
                with contextlib.suppress(ObjectChangedError):  # another writer's came first: read below
                    self._initial_etag = self.objects.put(
                        self.bucket, self.prefix + STATE_FILE,
                        json.dumps(empty, indent=1, sort_keys=True).encode("utf-8"), if_none_match=True)
            if self._initial_etag is None:
                # Another writer's empty state: this writer's first commit may replace it as long as
                # it is still that one (a real commit since changes its ETag: a conflict).
                data, etag = self._read_state()
                if data == json.loads(json.dumps(empty)):
                    self._initial_etag = etag
            self._has_state = True
            return
        if not self._state_present():
            self._write_state(json.dumps(State().to_json(), indent=1, sort_keys=True).encode("utf-8"))
            # The new folders' names too: after a power loss the placed files must not outlive the state.
            for d in (self.root, self.root.parent):
                fsync_dir(d)
        self._has_state = True

    def _committed(self, state: State, old_inputs: str | None) -> None:
        """After a commit: the state is the committed one; the replaced input manifest is garbage."""
        state.committed = True
        state.inputs_changed = False
        self._placed = []
        if old_inputs:
            self.discard([old_inputs])

    def _check_conditional_writes(self) -> None:
        """Refuse to commit to a store that ignores ``If-None-Match`` (once per ``Store``).

        Two writers are kept apart only by the store refusing a conditional
        PUT; a store that silently accepts it would let both commit. Probe:
        write a new key twice with ``If-None-Match: *``; the second must fail.
        """
        if self._conditional_checked:
            return
        from rumq.errors import ObjectChangedError

        key = self.prefix + f"_rumq/probe-{uuid.uuid4().hex}"
        self.objects.put(self.bucket, key, b"probe", if_none_match=True)
        try:
            self.objects.put(self.bucket, key, b"probe again", if_none_match=True)
        except ObjectChangedError:
            self._conditional_checked = True
            return
        finally:
            self.objects.delete(self.bucket, [key])
        raise DatasetError(
            f"the object store at {self.objects.endpoint} ignores conditional writes (If-None-Match), so two "
            f"writers could both commit to {self.root}; rumq does not write a dataset there",
            hint="keep the dataset on S3 or on a store with conditional PUTs (MinIO, R2 and Ceph RGW have them), "
                 "or on local disk",
        )

    def _put_file(self, source: Path, dest: str) -> int:
        """Place ``source`` at ``dest`` (a path relative to the root); return its size in bytes."""
        self._ensure_state()
        if self.remote:
            data = source.read_bytes()
            # If-None-Match: an upload never replaces a file (names are unique per writer).
            self.objects.put(self.bucket, self.prefix + dest, data, if_none_match=True)
            source.unlink()
            self._placed.append(dest)
            return len(data)
        self._ensure_state()
        target = self.root / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        # The file's bytes reach the disk before a state naming it can: after a power
        # loss a committed state must not list a file whose data never got there.
        os.replace(source, target)
        fd = os.open(target, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        self._placed.append(dest)
        return target.stat().st_size

    def place(self, files: Iterable[StagedFile], writer_id: str) -> list[dict[str, Any]]:
        """Move (upload) staged files into their partitions; return their manifest entries.

        The files stay invisible to readers until a ``commit`` of a state that
        lists the entries (a crash before that leaves orphans for ``recover``).
        Local: must be called with the lock held. On an object store the
        uploads run several at a time.

        Args:
            files: the staged files.
            writer_id: the ingest or compaction that wrote them (recorded per file).
        """
        files = list(files)

        def one(f: StagedFile) -> dict[str, Any]:
            dest = f"events/{PARTITION_COLUMN}={f.date}/{f.name}"
            size = self._put_file(f.source, dest)
            return {"path": dest, "date": f.date, "rows": f.rows, "bytes": size, "ingest_id": writer_id,
                    "event_name": f.event_name}

        if self.remote and len(files) > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(UPLOADS_IN_FLIGHT, thread_name_prefix="rumq-upload") as pool:
                return list(pool.map(one, files))
        return [one(f) for f in files]

    def place_rejects(self, source: Path, writer_id: str, rows: int) -> dict[str, Any]:
        """Move an ingest's staged rejects file into ``rejects/``; return its manifest entry.

        Like ``place``: visible once a committed state lists the entry.
        """
        dest = f"rejects/{writer_id}.jsonl"
        size = self._put_file(source, dest)
        return {"path": dest, "rows": rows, "bytes": size, "ingest_id": writer_id}

    def discard(self, paths: Iterable[str]) -> None:
        """Delete files (paths relative to the root) that the committed state no longer lists."""
        paths = list(paths)
        if self.remote:
            if paths:
                self.objects.delete(self.bucket, [self.prefix + p for p in paths])
            return
        for path in paths:
            (self.root / path).unlink(missing_ok=True)

    def recover(self, *, allow_old: bool = False) -> list[str]:
        """Remove what a crashed writer left behind; return the removed paths.

        Only unlisted files of rumq's own names (``OWN_FILE``) are removed.
        Local: must be called with the lock held (``allow_old``: see
        ``load_state``). Object store: files no committed manifest lists are
        deleted once older than ``ORPHAN_GRACE`` (younger ones may be a
        running writer's uploads).

        Raises:
            DatasetError: the state file is damaged, or (local) there is none
                and the directory holds files (``_refuse_foreign``).
        """
        removed: list[str] = []
        if not self.remote and not self._state_present():
            self._refuse_foreign()  # nothing committed: only a new directory may be written to
        st = self.load_state(allow_old=allow_old)
        known = {f["path"] for f in st.files} | {r["path"] for r in st.rejects} | {st.inputs_file}
        if self.remote:
            self._check_conditional_writes()  # before the writer uploads anything
            if not st.committed:
                self._refuse_foreign_objects()
            grace = orphan_grace()
            now = time.time()
            orphans = []
            for base in ("events/", "rejects/", INPUTS_DIR):
                for obj in self.objects.list(self.bucket, self.prefix + base):
                    rel = obj.key[len(self.prefix):]
                    if rel not in known and OWN_FILE.fullmatch(rel) and now - _age_origin(obj.modified, now) >= grace:
                        orphans.append(rel)
            self.discard(orphans)
            return [self.url(p) for p in orphans]
        if self.staging_dir.exists():
            for p in self.staging_dir.iterdir():
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
                removed.append(str(p))
        for p in self.meta_dir.glob("state.json.tmp-*"):
            p.unlink(missing_ok=True)
            removed.append(str(p))
        for base in (self.events_dir, self.rejects_dir, self.root / INPUTS_DIR):
            if not base.exists():
                continue
            for p in base.rglob("*"):
                rel = p.relative_to(self.root).as_posix()
                if rel not in known and OWN_FILE.fullmatch(rel) and p.is_file():
                    p.unlink()
                    removed.append(str(p))
        return removed

    def _refuse_foreign_objects(self) -> None:
        """(object store) Raise ``DatasetError`` when a prefix without a state file holds files under
        ``events/``, ``rejects/`` or the input manifests' folder.

        A new dataset's empty state is committed before its first upload, so such files are not
        a crashed first write of this rumq: a prefix that lost its state file (its files would
        otherwise be deleted as orphans) or files that are not rumq's.
        """
        import itertools

        listed = itertools.chain.from_iterable(self.objects.list(self.bucket, self.prefix + base)
                                               for base in ("events/", "rejects/", INPUTS_DIR))
        found = [o.key[len(self.prefix):] for o in itertools.islice(listed, _NAMED_FILES + 1)]
        if found:
            raise self._not_a_dataset(found, "an empty or new prefix", "a backup or a previous object version")

    def _state_present(self) -> bool:
        """(local) ``state.json`` is there, readable or not (a damaged one is an error, never "no state")."""
        return self.state_path.exists() or self.state_path.is_symlink()

    def _refuse_foreign(self) -> None:
        """Raise ``DatasetError`` when a directory without a state file holds any file rumq did not
        make before a first commit (the lock, a crashed first writer's staging or temporary state).

        Such a directory is not a dataset (or one whose state file was lost): writing there could mix
        rumq's files with the user's, and recovering it would delete what no state lists.
        """
        found: list[str] = []

        def unreadable(e: OSError) -> None:
            if not isinstance(e, FileNotFoundError):  # a folder gone meanwhile holds nothing
                found.append(f"{Path(e.filename).relative_to(self.root).as_posix()}/ (unreadable)")

        for dirpath, dirnames, filenames in os.walk(self.root, onerror=unreadable):
            here = Path(dirpath)
            dirnames.sort()
            # A link to a folder is not walked into: it counts as a file.
            names = sorted(filenames + [d for d in dirnames if (here / d).is_symlink()])
            for name in names:
                rel = (here / name).relative_to(self.root).as_posix()
                if not _BEFORE_FIRST_COMMIT.fullmatch(rel):
                    found.append(rel)
            if len(found) > _NAMED_FILES:
                break
        if found and not self._state_present():  # (a first writer may have committed meanwhile: no lock yet)
            raise self._not_a_dataset(found, "an empty or new directory", "a backup")

    def _not_a_dataset(self, found: list[str], where: str, backup: str) -> DatasetError:
        """The error for a place without a state file that holds ``found`` (more than named: "...")."""
        more = ", ..." if len(found) > _NAMED_FILES else ""
        return DatasetError(
            f"{self.root} is not a rumq dataset (no {STATE_FILE}) but holds files: "
            f"{', '.join(found[:_NAMED_FILES])}{more}",
            hint=f"point --data at {where} (rumq writes a new dataset only there; "
                 f"if this was a dataset, restore its {STATE_FILE} from {backup})",
        )

    def new_staging(self, ingest_id: str) -> Path:
        """A fresh local folder for a writer's work in progress (inside the dataset on local disk)."""
        if self.remote:
            return Path(tempfile.mkdtemp(prefix=f"rumq-staging-{ingest_id}-"))
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
            DatasetError: (local) there is no state file and the directory holds files (see ``recover``).
        """
        if self.remote:
            # No lock on an object store: commits are conditional writes (see the class).
            return contextlib.nullcontext()
        from rumq import lockfile

        if not self._state_present():
            self._refuse_foreign()  # before the lock file: nothing is added to a directory that is not rumq's
        return lockfile.hold(self.meta_dir / "lock", holder=f"writing to {self.root}", error=DatasetLockedError,
                             wait=wait, timeout=timeout, on_wait=on_wait)


