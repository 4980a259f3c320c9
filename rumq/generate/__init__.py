"""A realistic CloudWatch RUM traffic generator with ground truth.

``generate`` simulates visitors of one or more sites as the RUM web client
records them and writes the events in a real export layout, together with a
ground-truth JSON of the numbers it produced (counted while generating).
``iter_messages`` streams the same CloudWatch Logs messages without writing.

Work is split into chunks (one application, one day, at most
``CHUNK_SESSIONS`` sessions), each with its own seeded random source, so the
output depends only on the parameters and the seed, never on the number of
worker processes.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from rumq.errors import UsageError, file_access_error
from rumq.generate.domains import check_domains, page_domains
from rumq.generate.session import Chunk, ChunkSpec, split
from rumq.generate.site import APPS, WEEKDAY_WEIGHTS, AppSpec
from rumq.generate.truth import AppTruth, GroundTruth, build
from rumq.generate.writers import FORMATS, ListSink, finalize, open_sink

__all__ = ["generate", "iter_messages", "estimate_sessions", "Message", "GroundTruth", "FORMATS",
           "DEFAULT_START", "EVENTS_PER_SESSION"]

DEFAULT_START = dt.date(2024, 3, 4)
CHUNK_SESSIONS = 4000
#: Returning-user pool size per cookie visit (smaller = more returning users).
USERS_PER_VISIT = 0.6
#: Measured average events per session with the default settings (see docs/generator.md).
EVENTS_PER_SESSION = 28.0


@dataclass(frozen=True)
class Message:
    """One CloudWatch Logs event of the RUM log group.

    Attributes:
        log_group: the app monitor's log group.
        log_stream: hourly stream ``YYYY-MM-DDTHH`` (UTC).
        timestamp: event time, epoch ms (a whole second).
        message: the JSON message text.
    """

    log_group: str
    log_stream: str
    timestamp: int
    message: str


def _apps(apps: int | list[str]) -> list[AppSpec]:
    by_name = {a.name: a for a in APPS}
    if isinstance(apps, int):
        if not 1 <= apps <= len(APPS):
            raise UsageError(f"apps must be between 1 and {len(APPS)}, got {apps}")
        return list(APPS[:apps])
    out = []
    for name in apps:
        if name not in by_name:
            raise UsageError(f"unknown application {name!r}", hint="choose from " + ", ".join(by_name))
        out.append(by_name[name])
    return out


def plan(sessions: int, days: int, start: dt.date, seed: int, apps: list[AppSpec],
         cookieless_share: float, page_groups: bool = False, domains: tuple[str, ...] = ()) -> list[ChunkSpec]:
    """Split the run into chunks: sessions per (app, day) by app share and
    weekday weight, at most ``CHUNK_SESSIONS`` sessions per chunk."""
    start_epoch = int(dt.datetime(start.year, start.month, start.day, tzinfo=dt.UTC).timestamp())
    cells = [(a, d) for a in range(len(apps)) for d in range(days)]
    weights = [apps[a].share * WEEKDAY_WEIGHTS[(start + dt.timedelta(days=d)).weekday()] for a, d in cells]
    quotas = split(sessions, weights)
    app_sessions = [0] * len(apps)
    for (a, _), q in zip(cells, quotas, strict=True):
        app_sessions[a] += q
    users = [max(1, round(n * (1 - cookieless_share) * USERS_PER_VISIT)) for n in app_sessions]
    specs = []
    for (a, d), q in zip(cells, quotas, strict=True):
        if q == 0:
            continue
        parts = math.ceil(q / CHUNK_SESSIONS)
        for p, n in enumerate(split(q, [1.0] * parts)):
            specs.append(ChunkSpec(a, d, p, n, seed, start_epoch, days, cookieless_share, users[a], page_groups,
                                   domains))
    return specs


def _check(sessions: int, days: int, cookieless_share: float, fmt: str) -> None:
    if sessions < 1:
        raise UsageError(f"sessions must be at least 1, got {sessions}")
    if days < 1:
        raise UsageError(f"days must be at least 1, got {days}")
    if not 0.0 <= cookieless_share <= 1.0:
        raise UsageError(f"cookieless share must be between 0 and 1, got {cookieless_share}")
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}", hint="choose from " + ", ".join(FORMATS))


def estimate_sessions(events: int, *, cookieless_share: float = 0.1, apps: int | list[str] = 2,
                      seed: int = 0) -> int:
    """Sessions needed for about ``events`` events, from a small pilot run
    with the same settings (the ratio depends on the app mix and cookieless share).

    Args:
        events: target number of events.
        cookieless_share: as for ``generate``.
        apps: as for ``generate``.
        seed: seed of the pilot.

    Returns:
        A session count (at least 1).
    """
    if events < 1:
        raise UsageError(f"events must be at least 1, got {events}")
    pilot = 1500
    n = sum(1 for _ in iter_messages(sessions=pilot, days=1, seed=seed + 7919, apps=apps,
                                     cookieless_share=cookieless_share))
    return max(1, round(events * pilot / max(n, 1)))


def _run_chunk(args: tuple) -> tuple[AppTruth, dict[str, Any] | None]:
    spec, app, fmt, out, gzip, level, buffer_s, glue, rates = args
    sink = open_sink(fmt, Path(out), app, spec, gzip=gzip, level=level, firehose_buffer_seconds=buffer_s,
                     glue_schema=glue)
    if rates:
        from rumq.generate.sampling import SamplingSink

        sampler = SamplingSink(sink, rates)
        return Chunk(spec, app, sampler).run(), sampler.counts
    return Chunk(spec, app, sink).run(), None


def default_truth_path(out_dir: str | os.PathLike[str]) -> Path:
    """Where ``generate`` writes the ground truth: next to the output
    directory, as ``<out>.truth.json`` (outside it, so ingesting the
    directory does not meet it)."""
    p = Path(out_dir).resolve()
    return p.with_name(p.name + ".truth.json")


def generate(
    out_dir: str | os.PathLike[str],
    *,
    sessions: int,
    days: int = 7,
    start: dt.date = DEFAULT_START,
    seed: int = 0,
    apps: int | list[str] = 2,
    cookieless_share: float = 0.1,
    fmt: str = "jsonl",
    gzip: bool = False,
    compresslevel: int = 6,
    workers: int | None = None,
    truth_path: str | os.PathLike[str] | None = None,
    firehose_buffer_seconds: int = 900,
    glue_schema: str = "structs",
    page_groups: bool = False,
    domains: str | list[str] | tuple[str, ...] | None = None,
    sample_rates: list[tuple[dt.date, float]] | None = None,
) -> GroundTruth:
    """Generate RUM traffic into ``out_dir`` in an export format, with ground truth.

    Args:
        out_dir: output directory; must be missing or empty.
        sessions: exact number of sessions (session ids) to produce. A visit
            can make several: cookieless page loads are sessions of their own,
            and a pause over 30 minutes starts a new one.
        days: number of days of traffic (sessions start within them; the last
            ones may run a little past the end).
        start: first day (UTC).
        seed: random seed; the same parameters and seed give the same bytes.
        apps: how many of the built-in applications (1-4), or their names.
        cookieless_share: probability that a visit runs without cookies
            (about the share of page views outside cookie sessions).
        fmt: export format, one of ``FORMATS``.
        gzip: compress ``jsonl`` output (other formats are compressed, or not,
            as the real export is).
        compresslevel: gzip level for every compressed output (1 = fastest).
        workers: processes to use; default: 1 for small runs, else up to 2.
        truth_path: where to write the ground truth (default
            ``default_truth_path(out_dir)``).
        firehose_buffer_seconds: ``firehose`` only: the longest time span of
            records in one object (Firehose's buffer interval is at most 900 s;
            larger values make fewer, bigger objects).
        glue_schema: ``firehose-parquet`` only: the Glue table schema of the
            conversion, one of ``rumq.generate.glue.GLUE_SCHEMAS``.
        page_groups: page views of the sites that define page groups (the
            webshop) carry them as ``pageTags``, as custom page views with
            tags do; the truth then counts ``page_groups``.
        domains: two host names (a list or comma-separated text): the web
            shop's checkout pages are served from the second, its other pages
            from the first, so sessions cross subdomains
            (``rumq.generate.domains``); the truth then counts ``domains``.
        sample_rates: (first day, rate) pairs (``rumq.generate.sampling``): write only
            the sessions an app monitor sampled at these rates would record; the truth
            still counts the full traffic, and its ``sampling`` part the recorded share.

    Returns:
        The ``GroundTruth`` (also written as JSON).

    Raises:
        UsageError: a bad parameter, or ``out_dir`` is not empty.
        FileAccessError: ``out_dir`` or the truth file cannot be created.
    """
    _check(sessions, days, cookieless_share, fmt)
    from rumq.generate.glue import GLUE_SCHEMAS

    if glue_schema not in GLUE_SCHEMAS:
        raise UsageError(f"unknown Glue schema {glue_schema!r}", hint="choose from " + ", ".join(GLUE_SCHEMAS))
    app_specs = _apps(apps)
    doms = check_domains(domains)
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"output directory {out} is not empty", hint="choose a new directory or remove this one")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise file_access_error(e, "create the output directory", out) from None
    specs = plan(sessions, days, start, seed, app_specs, cookieless_share, page_groups, doms)
    if workers is None:
        workers = 1 if sessions < 20_000 else min(2, os.cpu_count() or 1)
    jobs = [(s, app_specs[s.app], fmt, str(out), gzip, compresslevel, firehose_buffer_seconds, glue_schema,
             sample_rates) for s in specs]
    if workers > 1 and len(jobs) > 1:
        from concurrent.futures import ProcessPoolExecutor

        # Largest chunks first (LPT): in plan order the big ones come last and
        # one worker finished alone. Results go back to plan order, so the
        # output and truth do not depend on the schedule.
        order = sorted(range(len(jobs)), key=lambda i: (-specs[i].sessions, i))
        results = [None] * len(jobs)
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for i, r in zip(order, pool.map(_run_chunk, [jobs[i] for i in order], chunksize=1), strict=True):
                results[i] = r
    else:
        results = [_run_chunk(j) for j in jobs]
    finalize(fmt, out)
    per_app = [AppTruth(a.site.kind, a.site.groups if page_groups else None,
                        page_domains(list(a.site.pages), a.site.groups, a.domain, doms) if doms else None)
               for a in app_specs]
    sampled: list[dict[str, Any]] = [{} for _ in app_specs]
    for s, (r, counts) in zip(specs, results, strict=True):
        per_app[s.app].merge(r)
        if counts is not None:
            from rumq.generate.sampling import merge

            merge(sampled[s.app], counts)
    params = {"sessions": sessions, "days": days, "start": start.isoformat(), "seed": seed,
              "apps": [a.name for a in app_specs], "cookieless_share": cookieless_share, "format": fmt,
              "gzip": gzip, "generator_version": 1, **({"page_groups": True} if page_groups else {}),
              **({"domains": list(doms)} if doms else {}),
              **({"glue_schema": glue_schema} if fmt == "firehose-parquet" else {})}
    doc = build(params, list(zip(app_specs, per_app, strict=True)))
    if sample_rates:
        from rumq.generate.sampling import truth_part

        params["sample_rates"] = [[d.isoformat(), r] for d, r in sample_rates]
        doc["sampling"] = truth_part(sample_rates, [(a.name, a.id, c) for a, c in zip(app_specs, sampled,
                                                                                        strict=True)])
    tp = Path(truth_path) if truth_path is not None else default_truth_path(out)
    try:
        tp.parent.mkdir(parents=True, exist_ok=True)
        tp.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    except OSError as e:
        raise file_access_error(e, "write the ground truth", tp) from None
    return GroundTruth(doc, tp)


def iter_messages(
    *,
    sessions: int,
    days: int = 7,
    start: dt.date = DEFAULT_START,
    seed: int = 0,
    apps: int | list[str] = 2,
    cookieless_share: float = 0.1,
    truth: dict[str, Any] | None = None,
) -> Iterator[Message]:
    """Stream the CloudWatch Logs messages ``generate`` would write (same
    parameters and seed, same messages), visit by visit, in one process.

    Args:
        sessions, days, start, seed, apps, cookieless_share: as for ``generate``.
        truth: when given, receives the ground-truth document once the
            iterator is exhausted.

    Yields:
        ``Message`` records.
    """
    _check(sessions, days, cookieless_share, "jsonl")
    app_specs = _apps(apps)
    specs = plan(sessions, days, start, seed, app_specs, cookieless_share)
    per_app = [AppTruth(a.site.kind) for a in app_specs]
    for spec in specs:
        app = app_specs[spec.app]
        sink = ListSink(app.log_group)
        chunk = Chunk(spec, app, sink)
        lg = app.log_group
        for _ in chunk.iter_visits():
            for ts, ls, msg in sink.items:
                yield Message(lg, ls, ts, msg)
            sink.items.clear()
        per_app[spec.app].merge(chunk.truth)
    if truth is not None:
        params = {"sessions": sessions, "days": days, "start": start.isoformat(), "seed": seed,
                  "apps": [a.name for a in app_specs], "cookieless_share": cookieless_share}
        truth.update(build(params, list(zip(app_specs, per_app, strict=True))))
