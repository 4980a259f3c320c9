"""Polars twins of the core built-in queries, written from their definitions.

Each twin is a Polars query function, ``twin(views, params) -> LazyFrame``
(the signature of a ``.py`` query file, ``rumq.engines.polars_query``), that
computes what the ``definition`` of the built-in's header says, over the
Polars views (``rumq.engines.polars_views``). They are written from that
text, not by translating the SQL: two independent implementations of one
definition that agree on the same data (tests/test_polars_twins.py, with
each query's parameter matrix) are the evidence that the definition is
implemented; where they disagreed, the definition was ambiguous and its text
was fixed first.

``rumq run NAME --engine polars`` runs the twin (``run_twin``); a query
without one is refused by name (exit 2).

Importing this module does not import Polars.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from rumq.engines.polars_views import KEY, session_starts

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

    from rumq.engines.polars_views import Views
    from rumq.render import Rows

Twin = Callable[["Views", dict[str, Any]], "pl.LazyFrame"]


def _scope(lf: pl.LazyFrame, params: Mapping[str, Any]) -> pl.LazyFrame:
    """The sessions in scope: cookie sessions, and cookieless ones with ``include_cookieless``."""
    import polars as pl

    return lf if params.get("include_cookieless") else lf.filter(~pl.col("cookieless"))


def _with_coverage(lf: pl.LazyFrame, views: Views) -> pl.LazyFrame:
    return lf.join(views.cookie_coverage.select("coverage"), how="cross", maintain_order="left")


def _ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    """``num / den`` as a float, NULL where ``den`` is 0 (no sessions: no rate)."""
    import polars as pl

    return pl.when(den > 0).then(num.cast(pl.Float64) / den)


def _seconds(c: str | pl.Expr) -> pl.Expr:
    """A timestamp as epoch seconds (float): differences are in seconds, as the definitions say."""
    import polars as pl

    e = pl.col(c) if isinstance(c, str) else c
    return e.dt.epoch("us").cast(pl.Float64) / 1e6


def sessions_summary(views: Views, params: dict[str, Any]) -> pl.LazyFrame:
    """sessions/summary: counts, means, medians and rates over the sessions in scope."""
    import polars as pl

    n = pl.len()
    pv, dur = pl.col("page_views"), pl.col("duration_s")
    out = _scope(views.session_stats, params).select(
        n.cast(pl.Int64).alias("sessions"),
        pl.col("user_id").drop_nulls().n_unique().cast(pl.Int64).alias("users"),
        pv.sum().cast(pl.Int64).alias("page_views"),
        pv.mean().alias("pages_per_session_mean"),
        pv.quantile(0.5, "linear").alias("pages_per_session_median"),
        dur.quantile(0.5, "linear").alias("duration_median_s"),
        dur.quantile(0.9, "linear").alias("duration_p90_s"),
        _ratio(pl.col("bounced").sum(), n).alias("bounce_rate"),
        _ratio(pl.col("has_error").sum(), n).alias("error_session_rate"),
    )
    return _with_coverage(out, views)


def pages_drop_off(views: Views, params: dict[str, Any]) -> pl.LazyFrame:
    """pages/drop_off: per page, page views, sessions that saw it, exits, entries, bounces."""
    import polars as pl

    first, last = pl.col("seq") == 1, pl.col("is_last")
    per_page = _scope(views.session_pages, params).group_by("page").agg(
        pl.len().cast(pl.Int64).alias("page_views"),
        pl.struct(*KEY).n_unique().cast(pl.Int64).alias("sessions"),
        last.sum().cast(pl.Int64).alias("exits"),
        first.sum().cast(pl.Int64).alias("entries"),
        (first & last).sum().cast(pl.Int64).alias("bounces"),
    )
    out = per_page.select(
        "page", "page_views", "sessions", "exits",
        (pl.col("exits") / pl.col("page_views")).alias("exit_rate"),
        (pl.col("exits") / pl.col("sessions")).alias("exit_share"),
        "entries", "bounces",
    ).sort(["exits", "page_views", "page"], descending=[True, True, False], nulls_last=True).head(params["top"])
    return _with_coverage(out, views)


def journeys_transitions(views: Views, params: dict[str, Any]) -> pl.LazyFrame:
    """journeys/transitions: edges of the session paths, whole or cut after ``steps`` pages."""
    import polars as pl

    edges = _scope(views.transitions, params)
    steps = params["steps"]
    if steps:
        # An edge is kept when its target is at position <= steps; the (exit) edge only when the
        # whole path fits (its last page, from_step, is at position <= steps).
        to_exit = pl.col("to_page") == "(exit)"
        edges = edges.filter(pl.when(to_exit).then(pl.col("from_step") <= steps)
                             .otherwise(pl.col("from_step") + 1 <= steps))
    counted = edges.group_by("from_page", "to_page").agg(
        pl.struct(*KEY).n_unique().cast(pl.Int64).alias("sessions"),
        pl.len().cast(pl.Int64).alias("transitions"),
    ).with_columns(
        (pl.col("transitions") / pl.col("transitions").sum().over("from_page")).alias("share"))
    out = (counted.filter(pl.col("transitions") >= params["min_count"])
           .sort(["transitions", "from_page", "to_page"], descending=[True, False, False], nulls_last=True)
           .head(params["top"])
           .select("from_page", "to_page", "sessions", "transitions", "share"))
    return _with_coverage(out, views)


#: errors/rate_per_session's dimensions: the session attribute each names.
_DIMENSIONS = {"browser": "browser_name", "os": "os_name", "device": "device_type", "country": "country_code",
               "app_version": "application_version"}


def errors_rate_per_session(views: Views, params: dict[str, Any]) -> pl.LazyFrame:
    """errors/rate_per_session: error sessions and errors per session by dimension and time bucket."""
    import polars as pl

    s = _scope(views.session_stats, params)
    dim, bucket = params["dimension"], params["bucket"]
    if dim == "page":  # the entry page
        entry = views.session_page_stats.select("session_id", "cookieless", pl.col("entry_page").alias("dimension"))
        s = s.join(entry, on=["session_id", "cookieless"], how="left")
    elif dim == "none":
        s = s.with_columns(pl.lit("(all)").alias("dimension"))
    else:
        s = s.with_columns(pl.col(_DIMENSIONS[dim]).cast(pl.String).alias("dimension"))
    if bucket == "none":
        s = s.with_columns(pl.lit(None, pl.Datetime("us")).alias("bucket"))
    else:
        s = s.with_columns(pl.col("start_time").dt.truncate({"hour": "1h", "day": "1d"}[bucket]).alias("bucket"))
    errors = pl.col("js_errors") + pl.col("http_errors")
    n = pl.len()
    out = s.group_by("bucket", "dimension").agg(
        n.cast(pl.Int64).alias("sessions"),
        (pl.col("js_errors") > 0).sum().cast(pl.Int64).alias("js_error_sessions"),
        (pl.col("http_errors") > 0).sum().cast(pl.Int64).alias("http_error_sessions"),
        pl.col("has_error").sum().cast(pl.Int64).alias("error_sessions"),
        (pl.col("has_error").sum() / n).alias("error_session_rate"),
        errors.mean().cast(pl.Float64).alias("errors_per_session_mean"),
        errors.quantile(0.95, "linear").alias("errors_per_session_p95"),
    ).sort(["bucket", "sessions", "dimension"], descending=[False, True, False], nulls_last=[False, False, True])
    return _with_coverage(out, views)


_SORTS = {
    "samples": (["samples", "page", "metric"], [True, False, False]),
    "p50": (["p50", "page", "metric"], [True, False, False]),
    "p75": (["p75", "page", "metric"], [True, False, False]),
    "p90": (["p90", "page", "metric"], [True, False, False]),
    "poor": (["poor", "samples", "page", "metric"], [True, True, False, False]),
    "page": (["page", "metric"], [False, False]),
}


def performance_web_vitals(views: Views, params: dict[str, Any]) -> pl.LazyFrame:
    """performance/web_vitals: percentiles and rating shares per page (or overall) and metric."""
    import polars as pl

    w = views.web_vitals.filter(pl.col("value").is_not_null())
    if params["metric"] != "all":
        w = w.filter(pl.col("metric") == params["metric"])
    page = pl.col("page") if params["by"] == "page" else pl.lit("(all)")
    n, v, rating = pl.len(), pl.col("value"), pl.col("rating")
    g = w.group_by(page.cast(pl.String).alias("page"), "metric").agg(
        n.cast(pl.Int64).alias("samples"),
        *(v.quantile(q, "linear").alias(name) for name, q in (("p50", 0.5), ("p75", 0.75), ("p90", 0.9))),
        ((rating == "good").sum() / n).alias("good"),
        ((rating == "needs-improvement").sum() / n).alias("needs_improvement"),
        ((rating == "poor").sum() / n).alias("poor"),
    )
    by, descending = _SORTS[params["sort"]]
    return (g.filter(pl.col("samples") >= params["min_samples"])
            .sort(by, descending=descending, nulls_last=True).head(params["top"]))


def glob_regex(pattern: str) -> str:
    """A glob (``*`` any text, ``?`` one character, ``[...]`` a class, ``[!...]`` its complement) as an anchored regex."""
    out, i = ["^"], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            out.append("(?s:.*)")
        elif c == "?":
            out.append("(?s:.)")
        elif c == "[" and _class_end(pattern, i) > 0:
            end = _class_end(pattern, i)
            body = pattern[i + 1:end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\").replace("[", "\\[") + "]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out) + "$"


def _class_end(pattern: str, i: int) -> int:
    """The index of the ``]`` closing the class opened at ``pattern[i]``, or -1 (then ``[`` is literal)."""
    j = i + 1
    if pattern[j:j + 1] == "!":
        j += 1
    if pattern[j:j + 1] == "]":
        j += 1
    return pattern.find("]", j)


def funnels_conversion(views: Views, params: dict[str, Any]) -> pl.LazyFrame:
    """funnels/conversion: sessions reaching each step of an ordered list of page patterns."""
    import polars as pl

    patterns: list[str] = list(params["steps"])
    strict = params["mode"] == "strict"
    window = params["window"]
    # Sessions numbered 1, 2, ... (a run of rows of the sorted path): joins on one integer.
    key = ["sid"]
    path = (_scope(views.journey_steps, params).select(*KEY, "step", "page", "event_time").sort([*KEY, "step"])
            .select(session_starts().cum_sum().alias("sid"), "step", "page", "event_time")
            # Collected once: the walk below reads the path once per step, and the lazy plan
            # computed the sorted path again for each (about 6x slower at 5M events).
            .collect().lazy())
    # Every page matching step 1 starts a walk; each next step is its first match after the
    # previous one (strict: the very next page), within `window` of the start.
    walk = path.filter(pl.col("page").str.contains(glob_regex(patterns[0])).fill_null(False)).select(
        *key, pl.col("step").alias("start"), pl.lit(1, pl.Int64).alias("k"), "step", "event_time",
        pl.col("event_time").alias("t0"))
    walks = [walk]
    for k, pattern in enumerate(patterns[1:], start=2):
        cand = path.filter(pl.col("page").str.contains(glob_regex(pattern)).fill_null(False)).select(
            *key, pl.col("step").alias("next_step"), pl.col("event_time").alias("next_time"))
        joined = walk.join(cand, on=key, how="inner").filter(
            (pl.col("next_step") == pl.col("step") + 1) if strict else (pl.col("next_step") > pl.col("step")))
        if window.total_seconds() > 0:
            joined = joined.filter(pl.col("next_time") <= pl.col("t0") + window)
        walk = (joined.sort("next_step").group_by(*key, "start", "t0")
                .agg(pl.col("next_step").first().alias("step"), pl.col("next_time").first().alias("event_time"))
                .select(*key, "start", pl.lit(k, pl.Int64).alias("k"), "step", "event_time", "t0"))
        walks.append(walk)
    every = pl.concat(walks, how="vertical")
    # The best start of a session reaches furthest; ties go to the earliest start.
    best = (every.group_by(*key, "start").agg(pl.col("k").max().alias("reached"))
            .sort(["reached", "start"], descending=[True, False])
            .group_by(key).agg(pl.col("start").first()))
    timed = (every.join(best, on=[*key, "start"], how="inner")
             .sort("k")
             .with_columns((_seconds("event_time") - _seconds("event_time").shift(1).over(key)).alias("dt")))
    per_step = timed.group_by("k").agg(pl.len().cast(pl.Int64).alias("sessions"),
                                       pl.col("dt").quantile(0.5, "linear").alias("median_time_from_previous_s"))
    st = pl.LazyFrame({"step": range(1, len(patterns) + 1), "pattern": patterns},
                      schema={"step": pl.Int64, "pattern": pl.String})
    n = pl.col("sessions")
    out = (st.join(per_step, left_on="step", right_on="k", how="left").sort("step")
           .with_columns(n.fill_null(0))
           .select("step", "pattern", "sessions",
                   _ratio(n, n.shift(1)).alias("conversion_from_previous"),
                   _ratio(n, n.first()).alias("conversion_from_first"),
                   (n.shift(1) - n).alias("drop_off"),
                   "median_time_from_previous_s"))
    return _with_coverage(out, views)


#: Parameter values no twin computes yet (the Polars views carry neither the page view's
#: domain nor the events' pageTags): refused by name rather than answered as the default.
NOT_IN_TWIN: dict[str, dict[str, tuple[Any, ...]]] = {
    "pages/drop_off": {"by_domain": (True,)},
    "journeys/transitions": {"by_domain": (True,)},
    "performance/web_vitals": {"by": ("group",)},
}

#: Built-in query name -> its Polars twin.
TWINS: dict[str, Twin] = {
    "sessions/summary": sessions_summary,
    "pages/drop_off": pages_drop_off,
    "journeys/transitions": journeys_transitions,
    "errors/rate_per_session": errors_rate_per_session,
    "performance/web_vitals": performance_web_vitals,
    "funnels/conversion": funnels_conversion,
}


def run_twin(
    data_dir: str | os.PathLike[str],
    name: str,
    params: Mapping[str, Any] | None = None,
    *,
    since: Any = None,
    until: Any = None,
    app: str | None = None,
    limit: int | None = None,
    library: Any = None,
    notify: Callable[[str], None] | None = None,
) -> pl.DataFrame | Rows:
    """``rumq run NAME --engine polars``: the Polars twin of a built-in (a ``.py`` query runs as itself).

    Parameters are validated against the built-in's header, as for DuckDB.

    Raises:
        UsageError: the query has no Polars twin (or a user query hides the built-in).
        PolarsQueryError: Polars failed.
    """
    from rumq import runner
    from rumq.errors import UsageError
    from rumq.library import Library
    from rumq.params import resolve

    say = notify or (lambda _: None)
    library = library if library is not None else Library()
    query = library.get(name)
    for notice in library.notices_for(name):
        say(notice)
    if query.kind == "polars":
        return runner.run_query(data_dir, query, params, since=since, until=until, app=app, limit=limit,
                                notify=say)
    if not query.builtin or name not in TWINS:
        why = "it is not a built-in" if not query.builtin and name in TWINS else "none is written"
        raise UsageError(
            f"--engine polars: query '{name}' has no Polars twin ({why})",
            hint=f"Polars twins: {', '.join(TWINS)}; a .py query file always runs in Polars; "
                 "run this one without --engine polars (DuckDB)")
    values = resolve(query.params, params or {}, query=query.name)
    for key, refused in NOT_IN_TWIN.get(name, {}).items():
        if values[key] in refused:
            shown = next(p for p in query.params if p.name == key).show(values[key])
            raise UsageError(f"--engine polars: query '{name}' with {key}={shown} has no Polars twin",
                             hint=f"run it without --engine polars (DuckDB), or without {key}={shown}")
    w = runner.window(since, until)
    df = runner.run_polars(data_dir, query, values, w, app=app, limit=limit, notify=say, function=TWINS[name])
    warning = runner.coverage_warning(query, df, values)
    if warning:
        say("warning: " + warning)
    return df
