"""``report.html``: one self-contained page (inline CSS, inline SVG charts, no scripts).

It opens offline from a file: nothing is fetched. Every text that came from
data or the definition is escaped.
"""

from __future__ import annotations

import html
import json
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from rumq.report.definition import ReportDefinition
    from rumq.report.run import SectionResult
    from rumq.report.window import ReportWindow

CSS = """
:root { --ink:#263238; --muted:#6b7780; --line:#e3e7ea; --bad:#c62828; --badbg:#fdecea;
        --ok:#1b7f4b; --okbg:#e8f5ee; --warnbg:#fff6e0; }
* { box-sizing: border-box; }
body { margin:0; background:#f6f8f9; color:var(--ink);
       font:14px/1.45 -apple-system, "Segoe UI", "DejaVu Sans", Helvetica, Arial, sans-serif; }
main { max-width: 1000px; margin: 0 auto; padding: 24px 20px 48px; }
header h1 { margin: 0 0 4px; font-size: 24px; }
.meta { color: var(--muted); margin: 0 0 8px; }
.card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:16px 20px; margin:16px 0; }
.alarms.breached { background: var(--badbg); border-color: #f5c2c0; }
.alarms.ok { background: var(--okbg); border-color: #bfe3cf; }
.alarms h2 { margin: 0 0 6px; font-size: 16px; }
.alarms.breached h2 { color: var(--bad); }
.alarms.ok h2 { color: var(--ok); }
.alarms ul { margin: 4px 0 0; padding-left: 20px; }
nav ol { margin: 4px 0 0; padding-left: 22px; columns: 2; }
nav a, footer a, .files a { color: #2a5db0; text-decoration: none; }
section h2 { margin: 0 0 2px; font-size: 18px; }
.query { color: var(--muted); font-size: 12px; margin: 0 0 10px; }
.query code { font-size: 12px; }
.note { margin: 0 0 10px; }
figure { margin: 8px 0; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; }
.checks { list-style: none; padding: 0; margin: 8px 0; }
.checks li { margin: 2px 0; }
.badge { display:inline-block; min-width: 74px; text-align:center; font-size:11px; font-weight:bold;
         border-radius: 10px; padding: 1px 8px; margin-right: 6px; }
.badge.breached { background: var(--bad); color: #fff; }
.badge.ok { background: var(--ok); color: #fff; }
.badge.no_data { background: #b0bec5; color: #fff; }
.warning { background: var(--warnbg); padding: 6px 10px; border-radius: 6px; font-size: 13px; }
details summary { cursor: pointer; color: var(--muted); margin: 6px 0; }
.tablewrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: 12px; width: 100%; }
th, td { padding: 3px 8px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
th { background: #f0f3f5; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.null { color: #b0bec5; }
footer { color: var(--muted); font-size: 12px; margin-top: 24px; }
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _cell(value: Any) -> tuple[str, str]:
    """(css class, display text) of one value from the JSON rendering."""
    if value is None:
        return "null", "null"
    if isinstance(value, bool):
        return "", "true" if value else "false"
    if isinstance(value, int):
        return "num", f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "null", "null"
        if value.is_integer() and abs(value) < 1e15:
            return "num", f"{value:,.0f}"
        return "num", f"{value:.4g}" if abs(value) < 1 else f"{value:,.2f}"
    if isinstance(value, list | dict):
        value = json.dumps(value, ensure_ascii=False)
    text = str(value)
    return "", text if len(text) <= 120 else text[:119] + "…"


def table(df: Any, rows: int) -> str:
    """An HTML table of the first ``rows`` rows (values as the JSON output shows them)."""
    from rumq.render import render_text

    if df.width == 0:
        return ""
    head = df.head(rows)
    data = json.loads(render_text(head, "json")) if head.height else []
    out = ['<div class="tablewrap"><table><thead><tr>']
    out += [f"<th>{_e(c)}</th>" for c in df.columns]
    out.append("</tr></thead><tbody>")
    for row in data:
        out.append("<tr>")
        for c in df.columns:
            cls, text = _cell(row.get(c))
            out.append(f'<td class="{cls}">{_e(text)}</td>' if cls else f"<td>{_e(text)}</td>")
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def render(defn: ReportDefinition, w: ReportWindow, results: list[SectionResult], run: dict[str, Any]) -> str:
    """The whole page."""
    checks = [t for r in results for t in r.thresholds]
    breaches = [t for t in checks if t.breached]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(defn.title)} · {_e(w.name)}</title>",
        f"<style>{CSS}</style></head><body><main>",
        "<header>",
        f"<h1>{_e(defn.title)}</h1>",
        f'<p class="meta">{_e(w.describe())} (window <code>{_e(w.spec)}</code>, run at {_e(w.to_json()["at"])})'
        + (f" · application <code>{_e(defn.app)}</code>" if defn.app else "")
        + "</p>",
    ]
    if defn.description:
        parts.append(f"<p>{_e(defn.description)}</p>")
    parts.append("</header>")
    if breaches:
        parts.append('<div class="card alarms breached" id="alarms">')
        parts.append(f"<h2>⚠ {len(breaches)} threshold{'s' if len(breaches) != 1 else ''} breached</h2><ul>")
        for t in breaches:
            parts.append(f'<li><a href="#{_e(t.section)}">{_e(t.message())}</a></li>')
        parts.append("</ul></div>")
    elif checks:
        nodata = sum(1 for t in checks if t.status == "no_data")
        extra = f" ({nodata} without data)" if nodata else ""
        parts.append('<div class="card alarms ok" id="alarms">'
                     f"<h2>✓ No threshold breached</h2><p>{len(checks)} checked{extra}.</p></div>")
    if defn.ingest and run.get("ingest"):
        i = run["ingest"]
        parts.append(f'<p class="meta">Ingested before the run: read {i["read"]:,}, wrote {i["written"]:,}, '
                     f'duplicates {i["duplicates"]:,}, rejected {i["rejected"]:,}.</p>')
    parts.append('<nav class="card"><strong>Sections</strong><ol>')
    for r in results:
        flag = " ⚠" if any(t.breached for t in r.thresholds) else ""
        parts.append(f'<li><a href="#{_e(r.section.id)}">{_e(r.section.title)}</a>{flag}</li>')
    parts.append("</ol></nav>")
    for r in results:
        parts.append(_section(r))
    parts.append(
        f'<footer>rumq {_e(run["rumq_version"])} · report <code>{_e(defn.path)}</code> · dataset '
        f'<code>{_e(run["dataset"])}</code> · started {_e(run["started_at"])} · '
        f'{run["seconds"]:.1f} s · details in <a href="run.json">run.json</a></footer>'
    )
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"


def _section(r: SectionResult) -> str:
    s = r.section
    params = ", ".join(f"{k}={v}" for k, v in s.shown_params().items())
    out = [f'<section class="card" id="{_e(s.id)}">', f"<h2>{_e(s.title)}</h2>"]
    out.append(
        f'<p class="query"><code>{_e(s.query.name)}</code>'
        + (f" ({_e(params)})" if params else "")
        + f" · {r.frame.height:,} row{'s' if r.frame.height != 1 else ''} · {r.seconds:.2f} s · "
        f'<span class="files"><a href="{_e(r.files["csv"])}">CSV</a> · '
        f'<a href="{_e(r.files["parquet"])}">Parquet</a></span></p>'
    )
    if s.note:
        out.append(f'<p class="note">{_e(s.note)}</p>')
    if r.thresholds:
        out.append('<ul class="checks">')
        for t in r.thresholds:
            label = {"breached": "BREACHED", "ok": "ok", "no_data": "no data"}[t.status]
            text = t.threshold + t.detail()
            out.append(f'<li><span class="badge {t.status}">{label}</span>{_e(text)}</li>')
        out.append("</ul>")
    for n in r.notices:
        out.append(f'<p class="warning">{_e(n)}</p>')
    if r.chart:
        out.append(f'<figure class="chart chart-{_e(s.chart.kind)}">{r.chart}</figure>')
    if s.rows:
        shown = min(s.rows, r.frame.height)
        summary = (f"Data: {r.frame.height:,} rows" if shown == r.frame.height
                   else f"Data: first {shown:,} of {r.frame.height:,} rows")
        is_open = " open" if s.chart.kind in ("table", "none") else ""
        out.append(f"<details{is_open}><summary>{summary}</summary>{table(r.frame, s.rows)}</details>")
    out.append("</section>")
    return "\n".join(out)
