"""Session sample rates: estimates of the full traffic from a sampled dataset.

An app monitor records a share of the sessions (``sessionSampleRate``, 0 to
1). The rate is not in the events, so it is declared per application in
rumq.toml, with the date it took effect (rates change)::

    [[sample_rates]]
    app = "webshop"          # application id, unique id prefix, or name
    rate = 0.1
    since = "2026-11-01"     # UTC date; in force until the app's next entry

With ``--estimate`` (``Dataset.run(..., estimate=True)``) the count-like
columns a query declares in its header (``estimate: [sessions, users]``) are
divided by the rate in force; rates, shares and percentiles are never scaled.
The result gets an ``estimate_scale`` column (1 / rate) and a notice says so.
One rate must be in force over the whole window for every application in it:
a window across a rate change (or over applications sampled differently) is a
usage error naming the change, since a count over both parts cannot be scaled
by one factor; split the window there, or pick the application with --app.
Without a declared rate nothing changes (the scale is 1, said once).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rumq.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    import duckdb
    import polars as pl

    from rumq.library import Query

HINT = "[[sample_rates]] entries take app (id, id prefix or name), rate (0 < rate <= 1) and since (a date)"


@dataclass(frozen=True)
class SampleRate:
    """One declared rate: ``app``'s sessions are sampled at ``rate`` from ``since`` on."""

    app: str
    rate: float
    since: dt.date


def load_rates(data_dir: str | os.PathLike[str] | None = None) -> list[SampleRate]:
    """The ``[[sample_rates]]`` of the project config (none without a file).

    Raises:
        UsageError: an entry is malformed (naming the file and the entry).
    """
    from rumq.pages import read_config

    found = read_config(data_dir=data_dir)
    if found is None:
        return []
    path, doc = found
    raw = doc.get("sample_rates", [])
    if not isinstance(raw, list):
        raise UsageError(f"{path}: sample_rates must be an array of tables ([[sample_rates]])", hint=HINT)
    out = []
    for i, r in enumerate(raw, 1):
        where = f"{path}: sample_rates #{i}"
        if not isinstance(r, dict) or set(r) != {"app", "rate", "since"}:
            raise UsageError(f"{where}: needs exactly app, rate and since (got {r!r})", hint=HINT)
        app, rate, since = r["app"], r["rate"], r["since"]
        if not isinstance(app, str) or not app.strip():
            raise UsageError(f"{where}: app must be an application id, id prefix or name", hint=HINT)
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate <= 1:
            raise UsageError(f"{where}: rate must be a number above 0 and at most 1, got {rate!r}", hint=HINT)
        if isinstance(since, dt.datetime) or not isinstance(since, dt.date | str):
            raise UsageError(f"{where}: since must be a date (2026-11-01), got {since!r}", hint=HINT)
        try:
            day = since if isinstance(since, dt.date) else dt.date.fromisoformat(since)
        except ValueError:
            raise UsageError(f"{where}: since must be a date (2026-11-01), got {since!r}", hint=HINT) from None
        out.append(SampleRate(app.strip(), float(rate), day))
    return out


def rate_on(rates: list[SampleRate], app_keys: set[str], day: dt.date) -> float:
    """The rate in force on ``day`` for the application known by ``app_keys`` (id, name; 1 without one)."""
    best: SampleRate | None = None
    for r in rates:
        if _matches(r.app, app_keys) and r.since <= day and (best is None or r.since >= best.since):
            best = r
    return best.rate if best is not None else 1.0


def _matches(declared: str, keys: set[str]) -> bool:
    d = declared.casefold()
    return any(k and (k.casefold() == d or k.casefold().startswith(d)) for k in keys)


def estimate(con: duckdb.DuckDBPyConnection, query: Query, df: pl.DataFrame, rates: list[SampleRate],
             say: Any) -> pl.DataFrame:
    """Scale ``df``'s count-like columns (the query's ``estimate`` header) by 1 / the window's rate.

    Raises:
        UsageError: the query declares no count-like columns, or the window spans
            different rates (a rate change, or applications sampled differently).
    """
    import polars as pl

    columns = query.header.get("estimate") or []
    if not columns:
        raise UsageError(f"{query.name} has no count-like columns to estimate (its header declares none)",
                         hint="--estimate applies to queries whose header lists `estimate:` columns")
    parts = con.execute(
        "SELECT DISTINCT application_id, application_name, event_date FROM events ORDER BY event_date").fetchall()
    found: dict[float, tuple[str, dt.date]] = {}
    for app_id, app_name, day in parts:
        r = rate_on(rates, {app_id or "", app_name or ""}, day)
        found.setdefault(r, (app_name or app_id, day))
    if len(found) > 1:
        shown = "; ".join(f"{r:g} ({app} on {day})" for r, (app, day) in found.items())
        raise UsageError(
            f"{query.name} --estimate: the window holds events sampled at different rates: {shown}",
            hint="a count over both cannot be scaled by one factor: split the window where the rate changes "
                 "(--since/--until) or pick one application with --app",
        )
    rate = next(iter(found), 1.0)
    scale = 1.0 / rate
    present = [c for c in columns if c in df.columns]
    say(f"notice: {query.name}: {', '.join(present)} are estimates of the full traffic: "
        f"multiplied by {scale:g} (session sample rate {rate:g} from rumq.toml); rates, shares and "
        "percentiles are not scaled" if rate != 1.0 else
        f"notice: {query.name}: no sample rate is declared for the window (rumq.toml [[sample_rates]]): "
        "nothing is scaled")
    return df.with_columns([pl.col(c).cast(pl.Float64) * scale for c in present]
                           + [pl.lit(scale).alias("estimate_scale")])
