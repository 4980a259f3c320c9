"""A dataset's files on an object store, as a file system DuckDB reads.

DuckDB's own S3 support (the ``httpfs`` extension) is downloaded at run time
and has no build for the DuckDB rumq pins that could be installed offline
(docs/storage.md). DuckDB also reads through any ``fsspec`` file system
registered on a connection: ``DatasetFileSystem`` is one, over rumq's
``ObjectStore``, so queries over a dataset on S3 use the same client,
credentials, endpoint, retries and error messages as the ingest, and
DuckDB's Parquet reader still fetches only the footer and the column chunks
(and row groups) a query needs, each as one ranged GET.

Only the files the manifest lists are read, and their sizes come from the
manifest too, so opening a file costs no request: the first GET is the
footer. rumq never rewrites a data file in place (every file has a unique
name), so a file's content never changes under a reader.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from fsspec.spec import AbstractBufferedFile, AbstractFileSystem

from rumq.objectstore import SCHEME, ObjectInfo, ObjectStore


class DatasetFileSystem(AbstractFileSystem):
    """Read-only ``s3://`` file system over ``store`` for DuckDB (``con.register_filesystem``).

    Args:
        store: the object store (client, credentials, retries).
        sizes: known object sizes by URL (from the manifest); others cost a HEAD.

    Attributes:
        requests, bytes_read, ranges: GETs issued, bytes they returned and the
            ranges fetched (for benchmarks and tests: what a query costs on the store).
    """

    protocol = ("s3",)
    root_marker = ""
    # One instance per connection (its counters are that connection's), not fsspec's shared one.
    cachable = False

    def __init__(self, store: ObjectStore, sizes: dict[str, int] | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.store = store
        self._objects: dict[str, ObjectInfo] = {}
        self._lock = threading.Lock()
        self.requests = 0
        self.bytes_read = 0
        #: Every range fetched: (bucket/key, start, end).
        self.ranges: list[tuple[str, int, int]] = []
        for url, size in (sizes or {}).items():
            self.know(url, size)

    def know(self, url: str, size: int) -> None:
        """Record an object's size (no HEAD is needed to open it)."""
        bucket, key = self._split(url)
        # The ETag is left empty: data files are immutable, so no GET needs pinning.
        self._objects[f"{bucket}/{key}"] = ObjectInfo(bucket, key, "", int(size))

    @staticmethod
    def _split(path: str) -> tuple[str, str]:
        bare = path[len(SCHEME):] if path.startswith(SCHEME) else path
        bucket, _, key = bare.partition("/")
        return bucket, key

    def _object(self, path: str) -> ObjectInfo:
        bare = self._strip_protocol(path)
        obj = self._objects.get(bare)
        if obj is None:
            bucket, key = self._split(bare)
            obj = self.store.head(bucket, key)
            if obj is None:
                raise FileNotFoundError(f"{SCHEME}{bare}")
            obj = ObjectInfo(bucket, key, "", obj.size)
            self._objects[bare] = obj
        return obj

    # -- what DuckDB calls ----------------------------------------------------
    def info(self, path: str, **kw: Any) -> dict[str, Any]:
        obj = self._object(path)
        return {"name": f"{obj.bucket}/{obj.key}", "size": obj.size, "type": "file"}

    def modified(self, path: str) -> datetime:
        # Files are never rewritten in place, so any fixed time keeps DuckDB's
        # Parquet metadata cache valid.
        return datetime(1970, 1, 1)

    def ls(self, path: str, detail: bool = True, **kw: Any) -> list[Any]:
        # Only for globs, which rumq never hands DuckDB (it lists files from the manifest).
        bucket, key = self._split(self._strip_protocol(path))
        out = [{"name": f"{bucket}/{o.key}", "size": o.size, "type": "file"} for o in self.store.list(bucket, key)]
        return out if detail else [o["name"] for o in out]

    def _open(self, path: str, mode: str = "rb", block_size: Any = None, autocommit: bool = True,
              cache_options: Any = None, **kw: Any) -> _ObjectFile:
        if mode != "rb":
            raise PermissionError(f"{path}: rumq reads datasets on object stores, it never writes them through DuckDB")
        obj = self._object(path)
        return _ObjectFile(self, f"{obj.bucket}/{obj.key}", obj)

    def _count(self, path: str, start: int, n: int) -> None:
        with self._lock:
            self.requests += 1
            self.bytes_read += n
            self.ranges.append((path, start, start + n))


class _ObjectFile(AbstractBufferedFile):
    """One object opened for reading: each read is one ranged GET of exactly what DuckDB asks for.

    No read-ahead: DuckDB's Parquet reader already asks for whole column
    chunks (and the footer in one read), and opens a file once per thread,
    so a read-ahead buffer per handle only fetched bytes twice (measured:
    a 64 KiB read-ahead read 4 times what a one-column query needed on small files).
    """

    def __init__(self, fs: DatasetFileSystem, path: str, obj: ObjectInfo) -> None:
        self.obj = obj
        super().__init__(fs, path, mode="rb", block_size=1 << 20, cache_type="none", size=obj.size)

    def _fetch_range(self, start: int, end: int) -> bytes:
        data = self.fs.store.read_range(self.obj, start, end - start)
        self.fs._count(self.path, start, len(data))
        return data
