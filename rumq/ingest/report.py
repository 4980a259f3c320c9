"""What an ingest did: per file and in total (``IngestReport``, also recorded in the manifest)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rumq.errors import InputsFailedError, NothingWrittenError, StrictRejectsError
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
    status: str  # ingested | already-ingested | skipped | empty | failed (an object unreadable after retries)
    read: int = 0
    written: int = 0
    duplicates: int = 0
    rejected: int = 0
    control_messages: int = 0
    problems: list[str] = field(default_factory=list)
    reason: str | None = None  # why a file was not read (every status but ingested)
    reconstructed: bool = False  # Parquet / ORC without a message column: messages rebuilt from columns
    missing_fields: list[str] = field(default_factory=list)  # Parquet / ORC: RUM fields its schema lacked


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

    @property
    def nothing_written(self) -> bool:
        """Records were read and every one was rejected.

        Duplicates are no failure: a re-read of exports already in the dataset
        writes nothing either, and rightly so.
        """
        return self.read > 0 and self.rejected == self.read

    def raise_if_nothing_written(self) -> None:
        """Raise ``NothingWrittenError`` when records were read and all of them rejected."""
        if self.nothing_written:
            raise NothingWrittenError(
                f"no record was written: all {self.rejected:,} record(s) read were rejected (see {self.rejects_file})",
                hint="see why with `rumq rejects`; if the files are RUM exports in a layout rumq did not "
                     "recognize, force one with --input-format",
            )

    @property
    def failed(self) -> list[FileResult]:
        """Inputs that could not be read after retries (not recorded: the next run reads them again)."""
        return [f for f in self.files if f.status == "failed"]

    def raise_if_failed(self) -> None:
        """Raise ``InputsFailedError`` when some input failed (the others are committed)."""
        if self.failed:
            first = self.failed[0]
            more = f" and {len(self.failed) - 1} more" if len(self.failed) > 1 else ""
            raise InputsFailedError(
                f"{len(self.failed)} input(s) could not be read: {first.path}{more}; the others were committed",
                hint="run the same ingest again later: it reads only what is not ingested yet")

    def check(self, *, strict: bool = False) -> None:
        """The CLI's verdict on a committed ingest: failed inputs, rejects with ``strict``, or nothing written.

        Raises:
            InputsFailedError: some input could not be read after retries.
            StrictRejectsError: ``strict`` and some records were rejected.
            NothingWrittenError: records were read and all of them rejected.
        """
        self.raise_if_failed()
        if strict:
            self.raise_if_rejected()
        self.raise_if_nothing_written()

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
            "nothing_written": self.nothing_written,
            "files": [f.__dict__ for f in self.files],
        }
