"""One exception root for everything rumq raises on purpose.

The CLI maps each class to a message and an exit code (``ExitCode``); the
library never prints. Every message says what went wrong, where, and what to
do next.
"""

from __future__ import annotations

import enum
import errno
import os


class ExitCode(enum.IntEnum):
    """The process exit codes of the ``rumq`` command (a written contract)."""

    OK = 0
    #: A runtime failure: bad input data, an unreadable file, a failed query.
    FAILURE = 1
    #: A usage error: unknown command, query name, parameter or option value.
    USAGE = 2
    #: ``ingest`` rejected records: any with ``--strict``, all of them (none written) without.
    REJECTS = 3
    #: Another process holds the dataset lock and ``--no-wait`` was given.
    LOCKED = 4
    #: ``report``: the run completed and at least one threshold was breached.
    THRESHOLD = 5
    #: Interrupted (Ctrl-C, SIGINT): 128 + the signal's number, as shells report it.
    INTERRUPTED = 130


class RumqError(Exception):
    """Root of every error rumq raises deliberately.

    Attributes:
        exit_code: the process exit code the CLI uses for this error.
        hint: one sentence on what to do next (may be empty).
    """

    exit_code: ExitCode = ExitCode.FAILURE

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class UsageError(RumqError):
    """The user asked for something that cannot be: a bad option or combination."""

    exit_code = ExitCode.USAGE


class InputNotFoundError(RumqError):
    """An input path does not exist, matches nothing, or cannot be read."""


class FileAccessError(RumqError):
    """A file or directory rumq must create, write or lock cannot be: a missing
    directory, no permission, a read-only or special file system (``/proc``).

    Attributes:
        path: the file or directory.
    """

    def __init__(self, message: str, *, path: str = "", hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.path = path


def file_access_error(e: OSError, doing: str = "", path: str | os.PathLike[str] | None = None) -> FileAccessError:
    """The OS error ``e`` as a ``FileAccessError`` naming the path and what to do.

    Args:
        e: the error raised by the OS.
        doing: what rumq was doing, as a verb phrase ("write", "lock"); empty for unknown.
        path: the path, when ``e`` does not name it (or names a file inside it).
    """
    where = os.fsdecode(path if path is not None else (e.filename if e.filename is not None else "?"))
    reason = e.strerror or str(e)
    message = f"cannot {doing} {where}: {reason}" if doing else f"{where}: {reason}"
    # The OS names the path it failed on (a directory being created, say): judge by it.
    failed = os.fsdecode(e.filename) if isinstance(e.filename, str | bytes) else where
    parent = os.path.dirname(os.path.abspath(failed))
    missing = (
        f"the directory {parent} does not exist: create it, or choose another path"
        if not os.path.isdir(parent)
        else f"{parent} cannot hold new files (is it a special file system, such as /proc?): choose another path"
    )
    hints = {
        errno.ENOENT: missing,
        errno.ENOTDIR: "a part of the path is a file, not a directory: choose another path",
        errno.EACCES: "this user may not write there: choose another path, or run as a user who may",
        errno.EPERM: "this user may not write there: choose another path, or run as a user who may",
        errno.EROFS: "the file system is read-only: choose another path",
        errno.EISDIR: "that is a directory: give a file path",
        errno.ENOSPC: "the disk is full: free space and retry",
        errno.EDQUOT: "the disk quota is exhausted: free space and retry",
    }
    hint = hints.get(e.errno or 0, "choose another path (special file systems such as /proc cannot hold files)")
    return FileAccessError(message, path=where, hint=hint)


class InputFormatError(RumqError):
    """An input cannot be read as the export format it was forced to or detected as.

    Attributes:
        path: the file.
        line: 1-based line (or record ordinal), when known.
        column: 1-based column, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
        hint: str = "",
    ) -> None:
        where = ""
        if path:
            where = path
            if line is not None:
                where += f":{line}"
                if column is not None:
                    where += f":{column}"
            where += ": "
        super().__init__(where + message, hint=hint)
        self.path, self.line, self.column = path, line, column


class DatasetError(RumqError):
    """The dataset directory is missing, not a rumq dataset, or damaged."""


class DatasetLockedError(RumqError):
    """Another rumq process is writing to the dataset."""

    exit_code = ExitCode.LOCKED


class DatasetConflictError(DatasetLockedError):
    """Another writer committed to a dataset on an object store first (the commit is a conditional write)."""


class StrictRejectsError(RumqError):
    """``--strict`` was given and the ingest rejected records."""

    exit_code = ExitCode.REJECTS


class NothingWrittenError(RumqError):
    """An ingest read records and rejected every one of them (``--strict`` or not)."""

    exit_code = ExitCode.REJECTS


class ObjectStoreError(RumqError):
    """An object store (S3 or S3-compatible) request failed; the message names the bucket or object."""


class BucketNotFoundError(ObjectStoreError):
    """The bucket of an ``s3://`` URL does not exist (or not at this endpoint)."""


class AccessDeniedError(ObjectStoreError):
    """The store refused a request: the message names the action and the resource."""


class CredentialsError(ObjectStoreError):
    """No AWS credentials were found, or they are expired, unknown or malformed (never printed)."""


class StoreUnreachableError(ObjectStoreError):
    """The object store's endpoint cannot be reached (network, DNS, wrong ``--endpoint-url``)."""


class ObjectReadError(ObjectStoreError):
    """One object could not be read after retries (throttled, 5xx, gone, or changed while read).

    The ingest names the object in its summary and goes on with the others.
    """


class ObjectChangedError(ObjectStoreError):
    """A conditional write lost: the object changed (or appeared) since it was read."""


class InputsFailedError(RumqError):
    """An ingest committed what it could read, but some inputs failed (named in the summary)."""


class UnknownQueryError(RumqError):
    """No named query has that name."""

    exit_code = ExitCode.USAGE


class QueryDefinitionError(RumqError):
    """A query file in a library is malformed (bad front matter, missing SQL...)."""

    exit_code = ExitCode.USAGE


class ParameterError(RumqError):
    """A query parameter value is missing, of the wrong type, or out of range."""

    exit_code = ExitCode.USAGE


class QuerySyntaxError(RumqError):
    """A query (Logs Insights or SQL) does not parse.

    Attributes:
        line: 1-based line of the offending token.
        column: 1-based column of the offending token.
        excerpt: the offending line with a caret under the token.
    """

    exit_code = ExitCode.USAGE

    def __init__(
        self,
        message: str,
        *,
        text: str = "",
        line: int | None = None,
        column: int | None = None,
        hint: str = "",
    ) -> None:
        self.line, self.column = line, column
        self.excerpt = caret_excerpt(text, line, column) if text and line else ""
        loc = f"line {line}, column {column}: " if line is not None else ""
        body = loc + message
        if self.excerpt:
            body += "\n" + self.excerpt
        super().__init__(body, hint=hint)


class QueryUnsupportedError(QuerySyntaxError):
    """A valid Logs Insights construct that rumq does not run yet."""


class QueryExecutionError(RumqError):
    """A query failed while running (DuckDB raised on valid-looking input)."""


class PolarsQueryError(QueryExecutionError):
    """A Polars query file (``.py``) failed while running: the file and line of the user's code.

    Attributes:
        path: the query file.
        line: 1-based line in it (of the failing statement, or of ``def query``
            when Polars failed while computing the frame it returned).
    """

    def __init__(self, message: str, *, path: str = "", line: int | None = None, hint: str = "") -> None:
        self.path, self.line = path, line
        super().__init__(message, hint=hint)


class ReadOnlyError(RumqError):
    """SQL tried to write, attach, load an extension, change a setting or read
    a file outside the dataset while queries run read-only (the default)."""

    exit_code = ExitCode.USAGE


class ReportDefinitionError(RumqError):
    """A report definition file is malformed."""

    exit_code = ExitCode.USAGE


class ReportLockedError(RumqError):
    """Another run of the report holds the output directory's lock."""

    exit_code = ExitCode.LOCKED


class ReportRunError(RumqError):
    """A report section failed while running; the previous output is untouched."""


def caret_excerpt(text: str, line: int | None, column: int | None, width: int = 1) -> str:
    """Return the 1-based ``line`` of ``text`` with a caret under ``column``."""
    if not line:
        return ""
    lines = text.splitlines() or [""]
    if line > len(lines):
        line = len(lines)
    src = lines[line - 1]
    col = max(1, column or 1)
    return f"  {src}\n  {' ' * (col - 1)}{'^' * max(1, width)}"


def line_column(text: str, offset: int) -> tuple[int, int]:
    """The 1-based (line, column) of character ``offset`` of ``text``.

    Lines end at ``\\n``; an offset at the end of a line is on that line, one
    column past its last character. Offsets beyond the text count as its end.
    """
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


class UnknownIdError(UsageError):
    """No session (or user) has that id or id prefix in the dataset."""


class AmbiguousIdError(UsageError):
    """An id prefix matches more than one session (or user); the message lists some of them."""
