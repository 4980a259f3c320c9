"""Session sample rates: estimates of the full traffic from a sampled dataset.

An app monitor records a share of the sessions (``sessionSampleRate``, 0 to
1). The rate is not in the events, so it is declared per application in
rumq.toml, with the date it took effect (rates change)::

    [[sample_rates]]
    app = "webshop"          # application id, unique id prefix, or name
    rate = 0.1
    since = "2026-11-01"     # UTC date; in force until the app's next entry

With ``--estimate`` (``Dataset.run(..., estimate=True)``) the count-like
columns a query declares in its header (``estimate: [sessions, users]``) become
estimates of the full traffic; rates, shares and percentiles are never scaled.
Each session counts with the rate in force for its application on the UTC day
it started (its first event in the window); an event without a session id,
with its own day. With one rate in the window every count is divided by it
and ``estimate_scale`` is 1 / rate. With several (a rate change, or
applications sampled differently) the query runs again on the sessions of
each rate alone (``rumq.catalog.connect(stratum=...)``) and each count is the
sum of its parts divided by their rates: exact for counts that add up over
disjoint sets of sessions. A count whose parts do not add up to the measured
value in a row (distinct users with sessions at two rates) has no exact
estimate: it is left empty there, with a warning naming the column.
``estimate_scale`` is then per row: 1 / rate when all of the row's counts come
from one rate, empty when they mix. docs/analyses.md states the definition.
Without a declared rate nothing changes (the scale is 1, said once).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Sequence
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


# The sampling key of an event: its application and the UTC date its session
# started (the session's first event in the window: the web client decides at a
# session's start whether to record it, so all of a session's events share its
# rate); an event without a session id stands alone and keys on its own date.
_DAY = ("CASE WHEN session_uuid IS NULL AND session_text IS NULL THEN event_time "
        "ELSE min(event_time) OVER (PARTITION BY session_uuid, session_text) END")
KEY_SQL = f"coalesce(application_id, '') || ' ' || strftime({_DAY}, '%Y-%m-%d')"


def stratum_sql(rows: str, keys: str) -> str:
    """``rows`` (a SELECT over the stored events) kept to the sampling keys in the list ``keys`` (SQL)."""
    return (f"SELECT * EXCLUDE (_rumq_key) FROM (SELECT *, {KEY_SQL} AS _rumq_key FROM ({rows}) AS _r) AS _k "
            f"WHERE list_contains({keys}, _rumq_key)")


@dataclass(frozen=True)
class Stratum:
    """The sampling keys (``application_id date``) of one rate in the window, and where it applies."""

    rate: float
    keys: tuple[str, ...]
    shown: str  # e.g. "webshop from 2026-11-01"


def strata(con: duckdb.DuckDBPyConnection, rates: list[SampleRate]) -> list[Stratum]:
    """The window's sessions grouped by the rate in force at their start (one stratum per rate)."""
    # A session starts on one of the window's event days: when those all have one
    # rate, so do the sessions, and the per-session pass (a window over every event) is not needed.
    days = con.execute("SELECT DISTINCT application_id, application_name, event_date FROM rumq_events "
                       "ORDER BY 3, 1").fetchall()
    one = {rate_on(rates, {app_id or "", app_name or ""}, day) for app_id, app_name, day in days}
    if len(one) <= 1:
        return [Stratum(r, (), "the whole window") for r in one]
    rows = con.execute(
        f"SELECT DISTINCT _k, application_id, application_name, CAST(_d AS DATE) FROM "
        f"(SELECT {KEY_SQL} AS _k, {_DAY} AS _d, application_id, application_name FROM rumq_events) "
        "ORDER BY 4, 2").fetchall()
    by_rate: dict[float, dict[str, tuple[str, dt.date]]] = {}
    for key, app_id, app_name, day in rows:
        r = rate_on(rates, {app_id or "", app_name or ""}, day)
        by_rate.setdefault(r, {}).setdefault(key, (app_name or app_id or "?", day))
    out = []
    for r, keys in by_rate.items():
        first: dict[str, dt.date] = {}
        for app, day in keys.values():
            first.setdefault(app, day)
        out.append(Stratum(r, tuple(keys), ", ".join(f"{a} from {d}" for a, d in first.items())))
    return out


def estimate(con: duckdb.DuckDBPyConnection, query: Query, df: pl.DataFrame, rates: list[SampleRate],
             say: Any, rerun: Callable[[Sequence[str]], pl.DataFrame] | None = None) -> pl.DataFrame:
    """Scale ``df``'s count-like columns (the query's ``estimate`` header) to the full traffic.

    One rate in the window: every count is divided by it. Several (a rate
    change, or applications sampled differently): ``rerun(keys)`` runs the
    query again on the sessions of each rate alone (every row: its ``top`` at
    its maximum), and each count is the sum over the rates of its count there
    divided by the rate. That is exact for counts that add up over disjoint
    sets of sessions (sessions, page views, events, entries, funnel sessions);
    a count that does not add up in a row (distinct users with sessions at two
    rates) is left empty there, with a warning naming the column.

    Raises:
        UsageError: the query declares no count-like columns.
    """
    import polars as pl

    columns = query.header.get("estimate") or []
    if not columns:
        raise UsageError(f"{query.name} has no count-like columns to estimate (its header declares none)",
                         hint="--estimate applies to queries whose header lists `estimate:` columns")
    present = [c for c in columns if c in df.columns]
    found = strata(con, rates)
    if len(found) <= 1:
        rate = found[0].rate if found else 1.0
        scale = 1.0 / rate
        say(f"notice: {query.name}: {', '.join(present)} are estimates of the full traffic: "
            f"multiplied by {scale:g} (session sample rate {rate:g} from rumq.toml); rates, shares and "
            "percentiles are not scaled" if rate != 1.0 else
            f"notice: {query.name}: no sample rate is declared for the window (rumq.toml [[sample_rates]]): "
            "nothing is scaled")
        return df.with_columns([pl.col(c).cast(pl.Float64) * scale for c in present]
                               + [pl.lit(scale).alias("estimate_scale")])
    if rerun is None:
        raise UsageError(f"{query.name} --estimate: the window holds sessions sampled at different rates "
                         f"({_describe(found)}), which this caller cannot run apart",
                         hint="split the window where the rate changes (--since/--until) or pick one application")
    return _stratified(query, df, present, found, rerun, say)


def _describe(found: list[Stratum]) -> str:
    return "; ".join(f"{s.rate:g} ({s.shown})" for s in found)


def _stratified(query: Query, df: pl.DataFrame, present: list[str], found: list[Stratum],
                rerun: Callable[[Sequence[str]], pl.DataFrame], say: Any) -> pl.DataFrame:
    import polars as pl

    # A row is identified by its columns that are neither counts nor measures
    # (floats: rates, shares, means, percentiles differ between the parts).
    keys = [c for c in df.columns if c not in present and not df.schema[c].is_float()]
    if df.select(keys or [pl.lit(0)]).is_duplicated().any():
        raise UsageError(f"{query.name} --estimate: its rows are not told apart by {', '.join(keys) or 'nothing'}, "
                         f"so the parts sampled at different rates ({_describe(found)}) cannot be matched",
                         hint="split the window where the rate changes (--since/--until)")
    out = df.select(keys + present).with_row_index("_row")
    for i, s in enumerate(found):
        part = rerun(s.keys).select(keys + present)
        part = part.rename({c: f"_{i}_{c}" for c in present})
        out = (out.join(part, on=keys, how="left", nulls_equal=True) if keys
               else out.join(part.head(1), how="cross"))
    out = out.sort("_row")
    empty: dict[str, int] = {}
    cols = []
    for c in present:
        parts = [pl.col(f"_{i}_{c}").cast(pl.Float64).fill_null(0) for i in range(len(found))]
        summed, total = pl.sum_horizontal(parts), pl.col(c).cast(pl.Float64)
        additive = (summed - total).abs() <= 1e-9 * total.abs().clip(lower_bound=1)
        scaled = pl.sum_horizontal([p / s.rate for p, s in zip(parts, found, strict=True)])
        got = out.select(total.is_null().alias("null"), additive.alias("ok"), scaled.alias("v"))
        bad = int((~got["null"] & ~got["ok"]).sum())
        if bad:
            empty[c] = bad
        cols.append(got.select(pl.when(~pl.col("null") & pl.col("ok")).then(pl.col("v")).alias(c)).to_series())
    # estimate_scale: 1 / rate for a row whose counts all come from one rate, empty when it mixes rates.
    used = [pl.any_horizontal([pl.col(f"_{i}_{c}").fill_null(0) != 0 for c in present]) for i in range(len(found))]
    n = out.select(pl.sum_horizontal(used).alias("n"), *[u.alias(f"_u{i}") for i, u in enumerate(used)])
    scale = n.select(pl.coalesce([pl.when(pl.col(f"_u{i}") & (pl.col("n") == 1)).then(1.0 / s.rate)
                                  for i, s in enumerate(found)]).alias("estimate_scale"))["estimate_scale"]
    result = df.with_columns(cols + [scale])
    say(f"notice: {query.name}: {', '.join(present)} are estimates of the full traffic: each session (or "
        f"session-less event) counts 1 / the sample rate in force for its application on the day it started "
        f"(rates {_describe(found)}, from rumq.toml); estimate_scale is 1 / rate in rows within one rate and "
        "empty in rows that mix rates; rates, shares and percentiles are not scaled")
    for c, bad in empty.items():
        say(f"warning: {query.name}: {c} is left empty in {bad} of {df.height} rows: it does not add up over "
            "the sessions sampled at different rates there (a user with sessions at two rates counts once), "
            "so no rate scales it exactly; split the window where the rate changes (--since/--until)")
    return result
