"""Run a report: ingest (optional), every section through ``rumq.runner``, files, swap.

A run builds its folder in a temporary directory next to the target
(``<out>/.tmp-<window>-<pid>``) and only then replaces ``<out>/<window>/``:
the old folder is renamed aside, the new one renamed in, the old one deleted.
Any failure before the swap deletes the temporary directory and leaves the
previous folder as it was. Runs of one output directory are serialized by
``rumq.report.lock``. The same data and window give the same CSV and Parquet
files (queries order their rows; nothing time-dependent goes into them).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rumq import __version__
from rumq.errors import ReportRunError
from rumq.fsync import fsync_dir
from rumq.report import lock
from rumq.report import thresholds as th
from rumq.report import window as win
from rumq.report.definition import ReportDefinition, Section, load

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

Notify = Callable[[str], None]
DEFAULT_OUT = "rumq-reports"


@dataclass
class SectionResult:
    """What one section produced.

    Attributes:
        section: the section definition.
        frame: the query result.
        seconds: query time.
        chart: the chart as inline SVG, or None.
        chart_error: why the chart could not be drawn, or "".
        thresholds: the threshold results.
        notices: warnings from the runner (low cookie coverage...).
    """

    section: Section
    frame: pl.DataFrame
    seconds: float
    chart: str | None = None
    chart_error: str = ""
    thresholds: list[th.ThresholdResult] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    @property
    def files(self) -> dict[str, str]:
        out = {"csv": f"{self.section.id}.csv", "parquet": f"{self.section.id}.parquet"}
        if self.chart:
            out["svg"] = f"{self.section.id}.svg"
        return out


@dataclass
class ReportResult:
    """The outcome of ``run_report``.

    Attributes:
        definition: the loaded definition.
        window: the resolved window.
        folder: the run's folder (``<out>/<window name>``).
        sections: per-section results, in order.
        ingest: the ingest step's counts, or None.
        run: the content of run.json.
    """

    definition: ReportDefinition
    window: win.ReportWindow
    folder: Path
    sections: list[SectionResult]
    ingest: dict[str, Any] | None
    run: dict[str, Any]

    @property
    def thresholds(self) -> list[th.ThresholdResult]:
        return [t for s in self.sections for t in s.thresholds]

    @property
    def breaches(self) -> list[th.ThresholdResult]:
        """The breached thresholds (a non-empty list means exit code 5)."""
        return [t for t in self.thresholds if t.breached]


def _quiet(_: str) -> None:
    return None


def _iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def run_report(
    path: str | os.PathLike[str],
    at: str | dt.datetime | dt.date | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    default_data_dir: str | os.PathLike[str] = "rumq-data",
    queries: list[str] | None = None,
    wait: bool = True,
    notify: Notify | None = None,
) -> ReportResult:
    """Run the report defined in ``path`` and write its folder.

    Args:
        path: the TOML definition.
        at: the run time (``--at``): a timestamp, or a date meaning the end of
            that day; default now.
        out_dir: the output directory (default: the definition's ``out``, else
            ``rumq-reports/<name>``); the run writes ``<out_dir>/<window name>/``.
        data_dir: the dataset, overriding the definition's ``dataset``.
        default_data_dir: the dataset when neither names one.
        queries: extra user query libraries.
        wait: wait for another run of the same output directory (else raise).
        notify: receives progress lines and warnings.

    Returns:
        The ``ReportResult`` (``.breaches`` lists breached thresholds).

    Raises:
        ReportDefinitionError: the definition is malformed (nothing ran).
        ReportLockedError: another run holds the lock and ``wait`` is False.
        RumqError: a query, the ingest step or the dataset failed (the
            previous folder is left untouched).
    """
    say = notify or _quiet
    defn = load(path, queries=queries)
    at_dt = win.parse_at(at)
    window = win.resolve(defn.window, at_dt)
    data = os.fspath(data_dir or defn.dataset or default_data_dir)
    out = Path(out_dir or defn.out or Path(DEFAULT_OUT) / defn.name).absolute()
    say(f"report {defn.name}: window {window.spec} = {window.describe()} (at {_iso(at_dt)}), "
        f"dataset {data}, output {out / window.name}")
    with lock.hold(out, wait=wait, on_wait=say):
        _recover(out)
        started = time.perf_counter()
        started_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
        ingest_info = _ingest(defn, data, say) if defn.ingest else None
        tmp = out / f".tmp-{window.name}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        try:
            results = [_section(defn, s, data, window, tmp, say) for s in defn.sections]
            run = _run_json(defn, window, data, results, ingest_info, started_at, time.perf_counter() - started)
            from rumq.report import html, markdown

            (tmp / "run.json").write_text(json.dumps(run, indent=2, ensure_ascii=False, default=str) + "\n",
                                          encoding="utf-8")
            (tmp / "report.md").write_text(markdown.render(defn, window, results, run), encoding="utf-8")
            (tmp / "report.html").write_text(html.render(defn, window, results, run), encoding="utf-8")
            target = out / window.name
            _swap(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    result = ReportResult(defn, window, target, results, ingest_info, run)
    n = len(result.thresholds)
    say(f"wrote {target} ({len(results)} sections, {n} thresholds, {len(result.breaches)} breached) "
        f"in {time.perf_counter() - started:.1f} s")
    return result


def _ingest(defn: ReportDefinition, data: str, say: Notify) -> dict[str, Any]:
    from rumq.ingest import ingest

    step = defn.ingest
    assert step is not None
    say(f"ingest: {', '.join(step.paths)}")
    t0 = time.perf_counter()
    rep = ingest(data, list(step.paths), format=step.format, log_group=step.log_group, on_notice=say)
    info = {
        "paths": list(step.paths),
        "read": rep.read,
        "written": rep.written,
        "duplicates": rep.duplicates,
        "rejected": rep.rejected,
        "seconds": round(time.perf_counter() - t0, 3),
    }
    say(f"ingest: read {rep.read}, wrote {rep.written}, duplicates {rep.duplicates}, rejected {rep.rejected}")
    return info


def _section(
    defn: ReportDefinition, s: Section, data: str, w: win.ReportWindow, folder: Path, say: Notify
) -> SectionResult:
    from rumq.render import render
    from rumq.report import charts
    from rumq.runner import run_query

    notices: list[str] = []

    def note(msg: str) -> None:
        notices.append(msg)
        say(f"{s.id}: {msg}")

    t0 = time.perf_counter()
    if defn.engine == "duckdb":
        df = run_query(data, s.query, s.params, since=w.since, until=w.until, app=defn.app,
                       library=defn.library, notify=note, allow_writes=defn.allow_writes, estimate=s.estimate)
    elif s.estimate:
        raise ReportRunError(f"section '{s.id}': estimate = true runs on DuckDB only, not on engine '{defn.engine}'",
                             hint="remove estimate from the section or the engine key from the definition")
    else:  # rumq.engines.<engine>.run_query: the same answer on another engine (docs/engines.md)
        import importlib

        on_engine = importlib.import_module(f"rumq.engines.{defn.engine}").run_query
        df = on_engine(data, s.query.name, s.params, since=w.since, until=w.until, app=defn.app,
                       library=defn.library, notify=note)
    seconds = time.perf_counter() - t0
    say(f"{s.id}: {s.query.name} -> {df.height} rows in {seconds:.2f} s")
    res = SectionResult(s, df, seconds, notices=notices)
    render(df, "csv", folder / f"{s.id}.csv")
    render(df, "parquet", folder / f"{s.id}.parquet")
    for t in s.thresholds:
        try:
            r = th.evaluate(t, df, s.id)
        except ValueError as e:
            raise ReportRunError(f"{defn.path}: section '{s.id}': {e}",
                                 hint="fix the threshold in the report definition") from None
        res.thresholds.append(r)
        if r.status == "no_data":
            say(f"warning: {r.message()}")
    try:
        res.chart = charts.render(s.chart.kind, df, dict(s.chart.options), s.title)
    except ValueError as e:
        res.chart_error = str(e)
        note(f"warning: chart \"{s.chart.kind}\" not drawn: {e}")
    if res.chart:
        (folder / f"{s.id}.svg").write_text(res.chart + "\n", encoding="utf-8")
    return res


def _run_json(
    defn: ReportDefinition,
    w: win.ReportWindow,
    data: str,
    results: list[SectionResult],
    ingest_info: dict[str, Any] | None,
    started_at: dt.datetime,
    seconds: float,
) -> dict[str, Any]:
    checks = [t.to_json() for r in results for t in r.thresholds]
    breached = [c for c in checks if c["status"] == "breached"]
    return {
        "rumq_version": __version__,
        "report": defn.name,
        "status": "breached" if breached else "ok",
        "window": w.to_json(),
        "dataset": os.path.abspath(data),
        "app": defn.app,
        "started_at": _iso(started_at),
        "seconds": round(seconds, 3),
        "ingest": ingest_info,
        "breaches": [t.message() for r in results for t in r.thresholds if t.breached],
        "thresholds": checks,
        "sections": [
            {
                "id": r.section.id,
                "title": r.section.title,
                "query": r.section.query.name,
                "params": r.section.shown_params(),
                "rows": r.frame.height,
                "columns": r.frame.columns,
                "seconds": round(r.seconds, 3),
                "files": r.files,
                "chart": r.section.chart.kind,
                "chart_error": r.chart_error or None,
                "notices": r.notices,
                "thresholds": [t.to_json() for t in r.thresholds],
            }
            for r in results
        ],
        "definition": defn.to_json(),
    }




def _swap(tmp: Path, target: Path) -> None:
    """Replace ``target`` by ``tmp``: old aside, new in, old deleted."""
    old = None
    if target.exists():
        old = target.with_name(f".old-{target.name}-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        os.rename(target, old)
    try:
        os.rename(tmp, target)
    except BaseException:
        if old is not None:
            os.rename(old, target)
        raise
    fsync_dir(target.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _recover(out: Path) -> None:
    """Clean up after a run that died (called with the lock held).

    A ``.tmp-*`` folder is a build that never finished: deleted. An ``.old-*``
    folder whose target is missing died between the two renames: put back.
    """
    for p in out.iterdir():
        if p.name.startswith(".tmp-") and p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        elif p.name.startswith(".old-") and p.is_dir():
            name = p.name[len(".old-"):].rsplit("-", 1)[0]
            target = out / name
            if target.exists():
                shutil.rmtree(p, ignore_errors=True)
            else:
                os.rename(p, target)
