"""``report.md``: the same report as Markdown (charts as the section's SVG file)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from rumq.report.definition import ReportDefinition
    from rumq.report.run import SectionResult
    from rumq.report.window import ReportWindow


def render(defn: ReportDefinition, w: ReportWindow, results: list[SectionResult], run: dict[str, Any]) -> str:
    """The whole Markdown document."""
    from rumq.render import render_text

    checks = [t for r in results for t in r.thresholds]
    breaches = [t for t in checks if t.breached]
    out = [f"# {defn.title}", "", f"{w.describe()} (window `{w.spec}`, run at {w.to_json()['at']})"]
    if defn.app:
        out[-1] += f", application `{defn.app}`"
    out.append("")
    if defn.description:
        out += [defn.description, ""]
    if breaches:
        out += [f"## ⚠ {len(breaches)} threshold{'s' if len(breaches) != 1 else ''} breached", ""]
        out += [f"- **{t.message()}**" for t in breaches]
        out.append("")
    elif checks:
        out += [f"No threshold breached ({len(checks)} checked).", ""]
    for r in results:
        s = r.section
        params = ", ".join(f"{k}={v}" for k, v in s.shown_params().items())
        out += [f"## {s.title}", ""]
        out.append(f"`{s.query.name}`" + (f" ({params})" if params else "")
                   + f" · {r.frame.height} rows · [CSV]({r.files['csv']}) · [Parquet]({r.files['parquet']})")
        out.append("")
        if s.note:
            out += [s.note, ""]
        for t in r.thresholds:
            mark = {"breached": "**BREACHED**", "ok": "ok", "no_data": "no data"}[t.status]
            out.append(f"- {mark}: `{t.threshold}`{t.detail()}")
        if r.thresholds:
            out.append("")
        for n in r.notices:
            out += [f"> {n}", ""]
        if r.chart:
            out += [f"![{s.title}]({r.files['svg']})", ""]
        if s.rows and r.frame.width:
            head = r.frame.head(s.rows)
            if r.frame.height > s.rows:
                out += [f"First {s.rows} of {r.frame.height} rows:", ""]
            out += [render_text(head, "markdown").rstrip("\n"), ""]
    out.append(f"_rumq {run['rumq_version']} · {defn.path} · details in run.json_")
    return "\n".join(out) + "\n"
