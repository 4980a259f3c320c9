"""Find input files and read their bytes (gzip detected by magic, not by name)."""

from __future__ import annotations

import glob
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# ISA-L's inflate is about 3x zlib's; same stream semantics (members, eof, unused_data).
from isal import isal_zlib as zlib

from rumq.errors import InputNotFoundError
from rumq.store import Store

GZIP_MAGIC = b"\x1f\x8b"
# Compressed bytes read at a time: ~10x that once gunzipped, so memory stays small.
CHUNK = 256 << 10

#: Objects the S3 export task writes to check permissions; not data.
SKIP_NAMES = {"aws-logs-write-test"}


@dataclass(frozen=True)
class InputFile:
    """One input file, as resolved from the user's paths."""

    path: Path
    size: int

    @property
    def name(self) -> str:
        return str(self.path)


def expand(paths: list[str]) -> list[InputFile]:
    """Expand files, directories (recursively) and globs into a sorted file list.

    Raises:
        InputNotFoundError: a path does not exist, a glob matches nothing, or a
            file cannot be read.
    """
    found: dict[Path, None] = {}
    for raw in paths:
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
                raise InputNotFoundError(f"{raw}: no such file or directory", hint="check the path")
            candidates = [p]
        for p in candidates:
            if p.is_dir():
                for sub in _walk(p):
                    found[sub.resolve()] = None
            elif p.is_file():
                found[p.resolve()] = None
    out = []
    for p in sorted(found):
        if not os.access(p, os.R_OK):
            raise InputNotFoundError(f"{p}: permission denied", hint="make the file readable or leave it out")
        out.append(InputFile(p, p.stat().st_size))
    return out


def _walk(root: Path) -> list[Path]:
    """Files below ``root``, skipping hidden files and folders (``.git``, ``.venv``)
    and rumq datasets (a folder with ``_rumq/state.json``): exports are often
    kept next to the dataset made from them."""
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        if Store(here).exists():
            dirnames[:] = []
            continue
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        out += [here / f for f in sorted(filenames) if not f.startswith(".")]
    return out


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


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == GZIP_MAGIC


def iter_bytes(path: Path) -> Iterator[bytes]:
    """Yield the file's content in chunks, gunzipping (multi-member) when it is gzip.

    Raises ``DecodeProblem`` after the last good chunk when the gzip stream is
    truncated or corrupt, so the good records before the damage still count.
    """
    with open(path, "rb") as f:
        head = f.read(2)
        f.seek(0)
        if head != GZIP_MAGIC:
            while chunk := f.read(CHUNK):
                yield chunk
            return
        d = zlib.decompressobj(wbits=31)
        consumed = 0
        in_member = False  # fed bytes to ``d`` that have not reached a member's end
        while True:
            chunk = f.read(CHUNK)
            if not chunk:
                break
            data = chunk
            while data:
                in_member = True
                try:
                    out = d.decompress(data)
                except zlib.error as e:
                    raise DecodeProblem(f"corrupt gzip data ({e})", consumed) from None
                if out:
                    yield out
                if d.eof:
                    # Multi-member gzip (Firehose objects): start a new member.
                    rest = d.unused_data
                    consumed += len(data) - len(rest)
                    in_member = False
                    if rest and rest[:2] != GZIP_MAGIC:
                        if rest.strip(b"\x00"):
                            raise DecodeProblem("trailing data after the last gzip member", consumed)
                        rest = b""
                    d = zlib.decompressobj(wbits=31)
                    data = rest
                else:
                    consumed += len(data)
                    data = b""
        if in_member:
            tail = d.flush()
            if tail:
                yield tail
            raise DecodeProblem("truncated gzip stream: the file ends in the middle of compressed data", consumed)


def head_and_problem(path: Path, n: int = 65536) -> tuple[bytes, DecodeProblem | None]:
    """The first ``n`` decoded bytes, and the decode problem met before them, if any."""
    with open(path, "rb") as f:
        raw = f.read(max(n, 1 << 16))
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
    return out, None
