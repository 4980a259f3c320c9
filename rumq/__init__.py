"""rumq: query Amazon CloudWatch RUM exports locally.

>>> import rumq
>>> ds = rumq.open("rumq-data")          # doctest: +SKIP
>>> ds.run("pages/drop_off", since="7d")  # doctest: +SKIP

Heavy libraries (DuckDB, Polars, PyArrow) are imported lazily by the
functions that need them, so importing rumq (and ``rumq --help``) is cheap.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rumq.errors import RumqError

__version__ = "0.1.0"

__all__ = ["Dataset", "RumqError", "__version__", "open"]

if TYPE_CHECKING:  # pragma: no cover
    from rumq.api import Dataset


def open(  # noqa: A001 (rumq.open, like io.open)
    path: str | os.PathLike[str] = "rumq-data",
    *,
    queries: list[str] | None = None,
    notify: Callable[[str], None] | None = None,
    allow_writes: bool | None = None,
) -> Dataset:
    """Open the dataset at ``path`` for querying (see ``rumq.api.Dataset``).

    Args:
        path: the dataset directory.
        queries: user query library directories, highest precedence first.
        notify: receives notices (low coverage, overrides); default: Python warnings.
        allow_writes: let SQL write and change settings (default: read-only,
            unless rumq.toml says ``[sql] allow_writes = true``).
    """
    from rumq.api import Dataset

    return Dataset(path, queries=queries, notify=notify, allow_writes=allow_writes)


def __getattr__(name: str) -> Any:
    if name == "Dataset":
        from rumq.api import Dataset

        return Dataset
    raise AttributeError(name)
