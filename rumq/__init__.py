"""rumq: query Amazon CloudWatch RUM exports locally.

>>> import rumq
>>> ds = rumq.open("rumq-data")          # doctest: +SKIP
>>> ds.run("pages/drop_off", since="7d")  # doctest: +SKIP

Heavy libraries (DuckDB, Polars, PyArrow) are imported lazily by the
functions that need them, so importing rumq (and ``rumq --help``) is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rumq.errors import RumqError

__version__ = "0.1.0"

__all__ = ["Dataset", "RumqError", "__version__", "open"]

if TYPE_CHECKING:  # pragma: no cover
    from rumq.api import Dataset


def open(path: str = "rumq-data", *, queries: list[str] | None = None) -> Dataset:  # noqa: A001
    """Open the dataset at ``path`` for querying (see ``rumq.api.Dataset``)."""
    from rumq.api import Dataset

    return Dataset(path, queries=queries)


def __getattr__(name: str) -> Any:
    if name == "Dataset":
        from rumq.api import Dataset

        return Dataset
    raise AttributeError(name)
