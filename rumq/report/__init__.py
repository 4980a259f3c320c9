"""Scheduled report jobs: ``rumq report FILE`` (see docs/reports.md).

``definition`` reads and checks the TOML file, ``window`` resolves the time
window from the run time, ``run`` runs the sections through ``rumq.runner``,
``thresholds`` evaluates the alarms, ``charts`` draws the SVG charts and
``html``/``markdown`` write the report; ``lock`` keeps runs of one report
from overlapping.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["ReportResult", "load", "run_report"]

if TYPE_CHECKING:  # pragma: no cover
    from rumq.report.definition import load
    from rumq.report.run import ReportResult, run_report


def __getattr__(name: str) -> Any:
    if name in ("run_report", "ReportResult"):
        from rumq.report import run

        return getattr(run, name)
    if name == "load":
        from rumq.report.definition import load

        return load
    raise AttributeError(name)
