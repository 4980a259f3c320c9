"""What an ingest did: per file and in total (``IngestReport``, also recorded in the manifest)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rumq.errors import StrictRejectsError
from rumq.ingest.sources import InputFile


@dataclass(frozen=True)
class ToRead:
    """An input file the ingest reads: its content digest and export format."""

    file: InputFile
    digest: str
    format: str


@dataclass
class FileResult:
    """What happened to one input file."""

    path: str
    format: str
    status: str  # ingested | already-ingested | skipped | empty
    read: int = 0
    written: int = 0
    duplicates: int = 0
    rejected: int = 0
    control_messages: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class IngestReport:
    """The outcome of one ``ingest`` call (also recorded in the manifest)."""

    ingest_id: str
    files: list[FileResult] = field(default_factory=list)
    by_type: dict[str, int] = field(default_factory=dict)
    rejects_file: str | None = None
    reject_reasons: dict[str, int] = field(default_factory=dict)
    recovered: list[str] = field(default_factory=list)
    days: list[str] = field(default_factory=list)  # partitions this ingest wrote to

    @property
    def read(self) -> int:
        return sum(f.read for f in self.files)

    @property
    def written(self) -> int:
        return sum(f.written for f in self.files)

    @property
    def duplicates(self) -> int:
        return sum(f.duplicates for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    def raise_if_rejected(self) -> None:
        """``--strict``: raise ``StrictRejectsError`` when any record was rejected."""
        if self.rejected:
            raise StrictRejectsError(
                f"{self.rejected} record(s) rejected (see {self.rejects_file})",
                hint="inspect them with `rumq rejects`; the good records were ingested",
            )

    def to_json(self) -> dict[str, Any]:
        return {
            "ingest_id": self.ingest_id,
            "read": self.read,
            "written": self.written,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "by_type": self.by_type,
            "reject_reasons": self.reject_reasons,
            "rejects_file": self.rejects_file,
            "files": [f.__dict__ for f in self.files],
        }
