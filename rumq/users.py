"""Users (the ``cwr_u`` cookie): shapes of the users/* query results.

The numbers come from the named queries ``users/summary`` and
``users/retention`` (definitions in their headers and docs/analyses.md);
this module only reshapes them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl


def retention_triangle(long: pl.DataFrame, value: str = "retention") -> pl.DataFrame:
    """Pivot ``users/retention``'s rows to the classic triangle.

    Args:
        long: the result of ``users/retention`` (one row per cohort and period).
        value: the column to spread: ``retention`` (shares) or ``users`` (counts).

    Returns:
        One row per cohort (``cohort``, ``cohort_users``) and one column per
        period, ``p0``, ``p1``, ...; a cohort has NULL in the periods after the
        window's last.
    """
    import polars as pl

    if value not in ("retention", "users"):
        raise ValueError(f"value must be 'retention' or 'users', got {value!r}")
    wide = long.select("cohort", "cohort_users").unique(maintain_order=True)
    for k in sorted(set(long.get_column("period").to_list())):
        cells = long.filter(pl.col("period") == k).select("cohort", pl.col(value).alias(f"p{k}"))
        wide = wide.join(cells, on="cohort", how="left", maintain_order="left")
    return wide.sort("cohort")
