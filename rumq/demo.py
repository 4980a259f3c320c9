"""The first-run tour: ingest the bundled sample data and show what rumq answers.

``rumq demo`` (and ``make demo``) calls ``run_demo``; the tour is built from
the same named queries a user runs, through the same ``Dataset`` API.
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from rumq.errors import DatasetError, InputNotFoundError

#: Marker that says a directory is a dataset ``rumq demo`` made (safe to replace).
DEMO_MARKER = "_rumq/made-by-rumq-demo"


def find_sample_data() -> Path:
    """The bundled ``sample_data/exports``: next to the working directory or the source tree."""
    candidates = [Path.cwd() / "sample_data", Path(__file__).resolve().parents[1] / "sample_data"]
    for c in candidates:
        if (c / "exports").is_dir():
            return c / "exports"
    raise InputNotFoundError(
        "cannot find sample_data/exports",
        hint="run the demo from the rumq source tree, or pass --sample DIR",
    )


@dataclass
class Section:
    """One step of the tour: a named query run exactly as the printed command runs it.

    Attributes:
        title: the heading.
        note: one line on what the table shows.
        query: the named query.
        params: its parameters, as ``-p`` values.
        limit: ``--limit``, or None.
        table: the result (a polars.DataFrame), once run.
    """

    title: str
    note: str
    query: str
    params: dict[str, str] = field(default_factory=dict)
    limit: int | None = None
    table: object = None  # polars.DataFrame

    def argv(self, data_dir: str) -> list[str]:
        """The command line that reproduces ``table`` (``rumq --data DIR run ...``)."""
        out = ["rumq", "--data", data_dir, "run", self.query]
        for k, v in self.params.items():
            out += ["-p", f"{k}={v}"]
        if self.limit is not None:
            out += ["--limit", str(self.limit)]
        return out

    def command(self, data_dir: str) -> str:
        """``argv`` as a line to paste into a POSIX shell."""
        return " ".join(shlex.quote(a) for a in self.argv(data_dir))


#: The tour: each table is exactly what its command prints (tests/test_demo.py runs them).
SECTIONS = (
    Section(
        "Sessions and cookie coverage",
        "Cookie sessions only (cookieless page loads are sessions of one page); coverage = "
        "share of page views in cookie sessions.",
        "sessions/summary",
    ),
    Section("Top journeys", "The most common paths through a session (first pages, normalized).",
            "journeys/top_paths", limit=5),
    Section("Where sessions end", "Exits = sessions whose last page it was; exit rate = exits / page views.",
            "pages/drop_off", limit=5),
    Section("Error sessions", "Sessions with at least one JS error or failed HTTP request, per browser "
            "(the browsers with the most sessions).",
            "errors/rate_per_session", {"dimension": "browser"}, limit=5),
    Section("Slowest pages by LCP", "p75 of Largest Contentful Paint, slowest first, pages with 20 samples "
            "or more (good <= 2500 ms, poor > 4000 ms).",
            "performance/web_vitals", {"metric": "LCP", "min_samples": "20", "sort": "p75"}, limit=5),
)


@dataclass
class Tour:
    data_dir: str
    sample: str
    ingest_summary: str
    sections: list[Section] = field(default_factory=list)


def prepare_dir(data_dir: Path) -> None:
    """Empty ``data_dir`` if a previous demo made it; refuse to touch anything else."""
    if data_dir.exists():
        if not (data_dir / DEMO_MARKER).exists():
            if any(data_dir.iterdir()):
                raise DatasetError(
                    f"{data_dir} exists and was not made by `rumq demo`; not touching it",
                    hint="pass --into with a new directory",
                )
        else:
            shutil.rmtree(data_dir)


def run_demo(
    data_dir: str | os.PathLike[str] = "rumq-demo-data",
    sample: str | os.PathLike[str] | None = None,
    on_notice: Callable[[str], None] | None = None,
) -> Tour:
    """Ingest the sample exports into a fresh dataset and run the tour's queries.

    Args:
        data_dir: where to build the demo dataset (replaced if a previous demo made it).
        sample: the exports to ingest (default: the bundled sample_data/exports).
        on_notice: receives progress notices.

    Returns:
        The ``Tour``: the ingest summary and one section per analysis.
    """
    from rumq.api import Dataset
    from rumq.ingest import ingest

    notice = on_notice or (lambda _m: None)
    src = Path(sample) if sample else find_sample_data()
    target = Path(data_dir)
    prepare_dir(target)
    notice(f"ingesting {src} into {target.resolve()}")
    report = ingest(target, [str(src)], on_notice=notice)
    (target / DEMO_MARKER).write_text("This dataset was made by `rumq demo` and is replaced by the next one.\n")
    summary = (
        f"{report.read:,} records read from {sum(1 for f in report.files if f.status == 'ingested')} files: "
        f"{report.written:,} events written, {report.duplicates:,} duplicates dropped"
        + (" (the export task and the Firehose stream overlap on purpose)" if sample is None else "")
        + f", {report.rejected:,} rejected"
    )
    ds = Dataset(target, notify=notice)
    tour = Tour(str(target), str(src), summary)
    for sec in SECTIONS:
        # The same parameters the printed command passes, as the same strings.
        table = ds.run(sec.query, limit=sec.limit, **sec.params)
        tour.sections.append(replace(sec, table=table))
    return tour


def format_tour(tour: Tour) -> str:
    """The tour as text for a terminal: each table under the command that prints it."""
    from rumq.render import render_text

    lines = ["rumq demo", "=========", "", f"Dataset: {Path(tour.data_dir).resolve()}", tour.ingest_summary, ""]
    for sec in tour.sections:
        lines += [f"## {sec.title}", sec.note, f"$ {sec.command(tour.data_dir)}",
                  render_text(sec.table, "table").rstrip("\n"), ""]
    d = f"rumq --data {shlex.quote(tour.data_dir)}"
    lines += [
        "Go further",
        f"  {d} info                       what is in the dataset",
        f"  {d} queries                    every named query, with its definition",
        f"  {d} run funnels/conversion -p steps=/product/:id,/cart,/checkout,/confirmation",
        f"  {d} insights 'stats count(*) by event_type'",
        f"  {d} sql \"SELECT * FROM sessions LIMIT 5\"",
        "  notebooks/explore.ipynb         the same, in Python with plots",
    ]
    return "\n".join(lines) + "\n"
