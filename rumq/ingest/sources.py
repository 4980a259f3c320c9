"""Find input files and objects and read their bytes (gzip detected by magic, not by name).

Inputs are local paths or ``s3://`` URLs (``rumq.objectstore``): an
object's bytes stream from the store and are never copied to disk.
"""

from __future__ import annotations

import glob
import hashlib
import io
import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

# ISA-L's inflate is about 3x zlib's; same stream semantics (members, eof, unused_data).
from isal import isal_zlib as zlib

from rumq.errors import InputNotFoundError
from rumq.store import Store

if TYPE_CHECKING:  # pragma: no cover
    from rumq.objectstore import ClientOptions, ObjectInfo, ObjectReader, ObjectStore, Prefetcher

GZIP_MAGIC = b"\x1f\x8b"
# Compressed bytes read at a time: ~10x that once gunzipped, so memory stays small.
CHUNK = 256 << 10
#: Most bytes one inflate call returns. Unbounded, a call's output (about 2.5 MB
#: from a 256 KiB chunk) grows by reallocation, copying and page-faulting as it
#: goes: inflating took 0.085 CPU s per 100k events instead of 0.049 with a bound.
INFLATE_BYTES = 1 << 20

#: Objects the S3 export task writes to check permissions; not data.
SKIP_NAMES = {"aws-logs-write-test"}


class StoredObject:
    """An input object in an object store: what ``InputFile.path`` is for an ``s3://`` input.

    Quacks like the ``Path`` the readers use: ``name`` (the key's last
    segment), ``str()`` (its URL), and ``open()`` / ``read_head()`` for its bytes.

    Attributes:
        info: bucket, key, ETag and size as listed.
        store: the store it is read from.
        fetcher: set by the ingest to keep several objects in flight (None: read on demand).
    """

    def __init__(self, info: ObjectInfo, store: ObjectStore) -> None:
        self.info, self.store = info, store
        self.fetcher: Prefetcher | None = None
        self.url = info.url  # computed once: a listing may hold 100,000 objects

    @property
    def name(self) -> str:
        return self.info.key.rsplit("/", 1)[-1]

    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        return f"StoredObject({self.info.url!r}, etag={self.info.etag!r}, size={self.info.size})"

    def open(self) -> ObjectReader:
        return self.fetcher.open(self.info) if self.fetcher is not None else self.store.open(self.info)

    def read_head(self, n: int) -> bytes:
        return self.store.read_head(self.info, n)

    def open_random(self) -> io.BufferedReader:
        """Seekable access by ranged GETs (Parquet, ORC), 1 MiB at a time."""
        return io.BufferedReader(self.store.open_random(self.info), buffer_size=1 << 20)


@dataclass(frozen=True)
class InputFile:
    """One input file (or object), as resolved from the user's paths and URLs."""

    path: Path | StoredObject
    size: int

    @property
    def name(self) -> str:
        return str(self.path)

    @property
    def etag(self) -> str | None:
        """The object's ETag (None for a local file)."""
        return self.path.info.etag if isinstance(self.path, StoredObject) else None


def expand(paths: list[str], store_options: ClientOptions | None = None) -> list[InputFile]:
    """Expand files, directories (recursively), globs and ``s3://`` URLs into a sorted input list.

    An ``s3://bucket/prefix/`` URL means every object under the prefix; its
    key may be a glob (``*`` within a segment, ``**`` across segments).
    Local files come first, then objects, each in name order.

    Args:
        paths: local paths, globs and URLs.
        store_options: endpoint, profile and region for the URLs.

    Raises:
        InputNotFoundError: a path does not exist, a glob or a directory holds
            no file to read, a path is no regular file (a pipe, a device), or a
            file cannot be read; an URL lists no object to read.
        ObjectStoreError: listing failed (missing bucket, access denied, ...).
    """
    found: dict[Path, Path] = {}  # the file read (links resolved) -> the path as the user gave or walked to it
    objects: dict[str, InputFile] = {}
    store = None
    for raw in paths:
        if raw.startswith("s3://"):
            from rumq.objectstore import ObjectStore

            store = store or ObjectStore(store_options)
            for obj in expand_url(raw, store):
                objects[obj.url] = InputFile(obj, obj.info.size)
            continue
        if any(ch in raw for ch in "*?[") and not os.path.exists(raw):
            matches = sorted(glob.glob(raw, recursive=True))
            if not matches:
                raise InputNotFoundError(
                    f"{raw}: the pattern matches no file", hint="check the pattern (quote it so rumq expands **)"
                )
            candidates = [Path(m) for m in matches]
        else:
            p = Path(raw)
            if not p.exists():
                _check_link(p)
                raise InputNotFoundError(f"{raw}: no such file or directory", hint="check the path")
            candidates = [p]
        files = []
        for p in candidates:
            files += _walk(p) if p.is_dir() else [_regular(p)]
        if not files:
            # As a glob matching nothing and an empty S3 prefix: a script must not take it for an ingest.
            if len(candidates) == 1 and candidates[0] == Path(raw):
                raise InputNotFoundError(
                    f"{raw}: no file to ingest in this directory",
                    hint="hidden files and folders and rumq datasets inside it are skipped; check the path")
            raise InputNotFoundError(
                f"{raw}: the pattern matches no file", hint="it matches only folders without a file to ingest "
                "(hidden files and folders and rumq datasets are skipped); check the pattern")
        for f in files:
            found.setdefault(f.resolve(), f)
    out = []
    for p in sorted(found):
        if not os.access(p, os.R_OK):
            raise InputNotFoundError(f"{found[p]}: permission denied", hint="make the file readable or leave it out")
        out.append(InputFile(p, p.stat().st_size))
    return out + [objects[u] for u in sorted(objects)]


def expand_url(raw: str, store: ObjectStore) -> list[StoredObject]:
    """The objects an ``s3://`` URL names: the object itself, every object under
    the prefix, or the keys a glob matches (and everything under a matched "folder").

    Like a local folder, folder markers (keys ending in ``/``), hidden keys (a
    segment starting with ``.``) and rumq datasets (a prefix holding
    ``_rumq/state.json``) are left out.
    """
    from rumq.objectstore import S3Url

    url = S3Url.parse(raw)
    if url.is_glob:
        match = url.matcher()
        listed = [o for o in store.list(url.bucket, url.literal_prefix) if _glob_hit(o.key, match)]
        if not listed:
            raise InputNotFoundError(f"{raw}: the pattern matches no object",
                                     hint="check the pattern (quote it so the shell leaves * alone)")
    else:
        key = url.key
        listed = list(store.list(url.bucket, key))
        if key and not key.endswith("/"):  # one object, or a "folder" without its slash
            listed = [o for o in listed if o.key == key or o.key.startswith(key + "/")]
        if not listed:
            raise InputNotFoundError(f"{raw}: no object at or under this URL",
                                     hint="check the bucket and prefix (aws s3 ls URL)")
    objects = _data_objects(listed)
    if not objects:
        raise InputNotFoundError(f"{raw}: no object to ingest at or under this URL",
                                 hint="folder markers, hidden keys and rumq datasets are skipped; "
                                      "check the bucket and prefix (aws s3 ls URL)")
    return [StoredObject(o, store) for o in objects]


def _regular(p: Path) -> Path:
    """``p``, which must be a regular file (or a link to one): a pipe or a device (``/dev/stdin``,
    bash's ``<(...)``) can be read only once, and an ingest reads a file twice (hash, then records)."""
    if not p.is_file():
        _check_link(p)
        raise InputNotFoundError(f"{p}: not a regular file (a pipe or device?)",
                                 hint="save it to a file first (e.g. `cat ... > export.jsonl`) and ingest that file")
    return p


def _check_link(p: Path) -> None:
    """Raise when ``p`` is a symbolic link to nothing, naming the link (its target is no help alone)."""
    if p.is_symlink() and not p.exists():
        raise InputNotFoundError(f"{p}: a symbolic link to a missing file ({os.readlink(p)})",
                                 hint="fix or remove the link, or leave it out")


def _glob_hit(key: str, match: Any) -> bool:
    """The key matches, or one of its "folders" does (a local glob matching a directory reads all of it)."""
    if match(key):
        return True
    i = key.find("/")
    while i >= 0:
        if match(key[:i]):
            return True
        i = key.find("/", i + 1)
    return False


def _data_objects(listed: list[ObjectInfo]) -> list[ObjectInfo]:
    """Leave out folder markers, hidden keys and everything inside a rumq dataset."""
    datasets = tuple(o.key[: -len("_rumq/state.json")] for o in listed
                     if o.key.endswith("_rumq/state.json") and o.key[: -len("_rumq/state.json")][-1:] in ("", "/"))
    out = []
    for o in listed:
        if o.key.endswith("/") or "/." in "/" + o.key:
            continue
        if datasets and o.key.startswith(datasets):
            continue
        out.append(o)
    return out


def _walk(root: Path) -> list[Path]:
    """Files below ``root``, skipping hidden files and folders (``.git``, ``.venv``)
    and rumq datasets (a folder with ``_rumq/state.json``): exports are often
    kept next to the dataset made from them. Links to folders are followed."""
    out: list[Path] = []
    # Links to folders are followed (an export tree is often assembled from links), each
    # folder once: a link back up the tree must not loop.
    seen: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root, onerror=_unreadable_folder, followlinks=True):
        here = Path(dirpath)
        real = os.path.realpath(here)
        if real in seen or Store(here).exists():
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        out += [_regular(here / f) for f in sorted(filenames) if not f.startswith(".")]
    return out


def _unreadable_folder(e: OSError) -> None:
    """``os.walk`` met a folder it cannot list: an error, as an unreadable file is (never skipped in silence)."""
    if isinstance(e, PermissionError):
        raise InputNotFoundError(f"{e.filename}: permission denied",
                                 hint="make the folder readable or leave it out (give the files and folders to "
                                      "read instead)") from None
    raise InputNotFoundError(f"{e.filename}: cannot read this folder ({e.strerror or e})",
                             hint="check the path, or leave it out") from None


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


class DecodeProblem(Exception):
    """Raised by ``iter_bytes`` after yielding what it could: the stream is damaged."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def as_source(path: str | Path | StoredObject) -> Path | StoredObject:
    """A staging job's input: a local path (given as text) or the object itself."""
    return Path(path) if isinstance(path, str) else path


def _open(path: Path | StoredObject) -> Any:
    """A binary reader (``read(n)``, context manager) of a file or an object."""
    return path.open() if isinstance(path, StoredObject) else open(path, "rb")


def _chunks(f: Any) -> Iterator[bytes]:
    while chunk := f.read(CHUNK):
        yield chunk


def is_gzip(path: Path | StoredObject) -> bool:
    return head_bytes(path, 2) == GZIP_MAGIC


def head_bytes(path: Path | StoredObject, n: int) -> bytes:
    """The first ``n`` raw bytes (one ranged request for an object)."""
    if isinstance(path, StoredObject):
        return path.read_head(n)
    with open(path, "rb") as f:
        return f.read(n)


def iter_bytes(path: Path | StoredObject) -> Iterator[bytes]:
    """Yield the file's content in chunks, gunzipping (multi-member) when it is gzip.

    gzip inside gzip (a compressed Firehose object compressed again, a
    ``.jsonl.gz`` gzipped twice) is read as its inner content, as detection
    sees it (``head_and_problem``). Raises ``DecodeProblem`` after the last
    good chunk when a gzip stream is truncated or corrupt, so the good records
    before the damage still count. An object streams (``ObjectReader``):
    nothing is copied to disk.
    """
    with _open(path) as f:
        chunks = _chunks(f)
        first = next(chunks, b"")
        if first[:2] != GZIP_MAGIC:
            if first:
                yield first
            yield from chunks
            return
        out = _gunzip(itertools.chain([first], chunks))
        # Enough of the content to see whether it is gzip again (a first output may be 1 byte).
        start = b""
        for piece in out:
            start += piece
            if len(start) >= len(GZIP_MAGIC):
                break
        if start[:2] == GZIP_MAGIC:
            yield from _gunzip(itertools.chain([start], out), inner=True)
            return
        if start:
            yield start
        yield from out


def _gunzip(chunks: Iterator[bytes], *, inner: bool = False) -> Iterator[bytes]:
    """Inflate gzip data (every member; zero padding after the last one is allowed).

    ``inner``: the data is the content of another gzip stream (the messages say so,
    and offsets count the outer stream's content).
    """
    layer = "inner gzip" if inner else "gzip"
    d = None  # the decompressor of the member being read; None between members
    consumed = 0
    carry = b""  # a byte after a member: too short to tell a next member from trailing data
    for chunk in chunks:
        data = carry + chunk if carry else chunk
        carry = b""
        full = False  # the last call filled its output: ``d`` may hold more
        while data or full:
            if d is None:  # a member starts here, or the data after the last one
                if len(data) < len(GZIP_MAGIC):
                    carry, data = data, b""
                    break
                if data[:2] != GZIP_MAGIC:
                    if data.strip(b"\x00"):
                        raise DecodeProblem(f"trailing data after the last {layer} member", consumed)
                    consumed += len(data)  # zero padding after the last member
                    break
                # Multi-member gzip (Firehose objects): each member anew.
                d = zlib.decompressobj(wbits=31)
            try:
                out = d.decompress(data, INFLATE_BYTES)
            except zlib.error as e:
                raise DecodeProblem(f"corrupt {layer} data ({e})", consumed) from None
            full = len(out) == INFLATE_BYTES
            if out:
                yield out
            rest = d.unused_data if d.eof else d.unconsumed_tail
            consumed += len(data) - len(rest)
            data = rest
            if d.eof:
                d, full = None, False
    if carry.strip(b"\x00"):
        raise DecodeProblem(f"trailing data after the last {layer} member", consumed)
    if d is not None:
        # The input ended inside a member: what ``d`` still holds (a bounded
        # call may stop short), then the member must be complete.
        while not d.eof and (out := d.decompress(b"", INFLATE_BYTES)):
            yield out
        if not d.eof:
            tail = d.flush()
            if tail:
                yield tail
            raise DecodeProblem(f"truncated {layer} stream: the file ends in the middle of compressed data",
                                consumed)


def head_and_problem(path: Path | StoredObject, n: int = 65536,
                     raw: bytes | None = None) -> tuple[bytes, DecodeProblem | None]:
    """The first ``n`` decoded bytes, and the decode problem met before them, if any.

    ``raw``: the file's first raw bytes when the caller has them already (at
    least 64 KiB, or the whole file), so an object is not fetched twice.
    """
    if raw is None:
        raw = head_bytes(path, max(n, 1 << 16))
    if raw[:2] != GZIP_MAGIC:
        return raw[:n], None
    # Decompress only what the head needs, not the whole first chunk.
    d = zlib.decompressobj(wbits=31)
    try:
        out = d.decompress(raw, n)
    except zlib.error as e:
        return b"", DecodeProblem(f"corrupt gzip data ({e})", 0)
    if len(out) < n and not d.eof and len(raw) < (1 << 16):
        return out, DecodeProblem("truncated gzip stream: the file ends in the middle of compressed data", len(raw))
    if out[:2] == GZIP_MAGIC:
        # gzip inside gzip: the head of the inner content, as ``iter_bytes`` reads it.
        # Both layers may have several members, so inflate through them (``raw`` is
        # only the file's head: the outer stream ending early is expected).
        outer, _ = _inflate_head(raw, 1 << 20, inner=False)
        out, problem = _inflate_head(outer, n, inner=True)
        return out, problem if not out else None
    return out, None


def _inflate_head(data: bytes, n: int, *, inner: bool) -> tuple[bytes, DecodeProblem | None]:
    """At most ``n`` inflated bytes of gzip ``data`` (every member), and the problem that stopped it."""
    out = bytearray()
    try:
        for piece in _gunzip(iter([data]), inner=inner):
            out += piece
            if len(out) >= n:
                break
    except DecodeProblem as e:
        return bytes(out[:n]), e
    return bytes(out[:n]), None
