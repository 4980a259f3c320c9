"""Charts for reports, drawn with Matplotlib into SVG text (no network, no browser).

Each function takes a section's result (a Polars DataFrame) and returns an
``<svg>`` element as a string, ready to inline into HTML. Text stays text
(``svg.fonttype = none``) and the output is byte-for-byte repeatable (fixed
hash salt, no date), so re-running a report gives the same files.

Kinds: ``timeseries`` (one small panel per measure, sharing the time axis),
``bar`` (horizontal, in the result's order), ``flow`` (a two-column Sankey of
page-to-page transitions) and ``vitals`` (good / needs-improvement / poor
shares per metric, with the p75 and Google's band limits).

A rate is only as good as its sample: charts of rates show the sample size
(the ``n`` column: ``Chrome (n=320)`` on a bar, the range of ``n`` in a time
series panel's title), and bar labels never repeat (``label`` may name
several columns; rows whose labels would still collide get the result's other
text columns added).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

GOOD, NEEDS, POOR = "#0cce6b", "#ffa400", "#ff4e42"
PALETTE = ["#3366cc", "#dc7633", "#2e9e6b", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d", "#d4ac0d"]
INK, GRID, MUTED = "#263238", "#e3e7ea", "#6b7780"
#: Google's web-vitals limits: metric -> (good up to, poor above, unit)
VITAL_BANDS: dict[str, tuple[float, float, str]] = {
    "LCP": (2500, 4000, "ms"),
    "INP": (200, 500, "ms"),
    "CLS": (0.1, 0.25, ""),
    "FCP": (1800, 3000, "ms"),
    "TTFB": (800, 1800, "ms"),
    "FID": (100, 300, "ms"),
}
_VITAL_ORDER = list(VITAL_BANDS)
WIDTH = 9.0  # inches at 100 dpi: 900 px


def _rc() -> dict[str, Any]:
    return {
        "svg.fonttype": "none",
        "svg.hashsalt": "rumq",
        "font.family": "sans-serif",
        "font.sans-serif": ["DejaVu Sans", "Helvetica", "Arial"],
        "font.size": 9,
        "axes.edgecolor": GRID,
        "axes.labelcolor": INK,
        "axes.titlesize": 10,
        "axes.titleweight": "bold",
        "axes.titlelocation": "left",
        "text.color": INK,
        "xtick.color": MUTED,
        "ytick.color": MUTED,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }


def _figure(height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(WIDTH, height), dpi=100)


def _svg(fig: Any) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight", pad_inches=0.1)
    text = buf.getvalue()
    # Inline SVG needs neither the XML declaration nor the DOCTYPE.
    return text[text.index("<svg"):].strip()


def render(kind: str, df: pl.DataFrame, options: dict[str, Any] | None = None, title: str = "") -> str | None:
    """Draw a section's chart; ``None`` for ``table``/``none``.

    Raises:
        ValueError: a column the chart needs is missing or of the wrong type.
    """
    import matplotlib

    options = dict(options or {})
    with matplotlib.rc_context(_rc()):
        if kind == "timeseries":
            return timeseries(df, x=options.get("x"), y=options.get("y"), group=options.get("group"),
                              n=options.get("n"))
        if kind == "bar":
            return bar(df, label=options.get("label"), value=options.get("value"), limit=options.get("limit", 10),
                       n=options.get("n"))
        if kind == "flow":
            return flow(df, source=options.get("from", "from_page"), target=options.get("to", "to_page"),
                        value=options.get("value", "transitions"), limit=options.get("limit", 20))
        if kind == "vitals":
            return vitals(df, label=options.get("label"), limit=options.get("limit", 12))
    return None


def _empty(message: str = "no data in this window") -> str:
    fig = _figure(0.6)
    fig.text(0.5, 0.5, message, ha="center", va="center", color=MUTED, fontsize=10)
    return _svg(fig)


def _need(df: pl.DataFrame, *cols: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"the result has no column '{missing[0]}' (columns: {', '.join(df.columns)})")


def _is_share(name: str) -> bool:
    return bool(re.search(r"(rate|share|coverage|ratio|conversion)", name))


def _unit_formatter(name: str) -> Any:
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    if _is_share(name):
        return PercentFormatter(xmax=1.0, decimals=None)
    return FuncFormatter(lambda v, _: _num(v))


def _num(v: float) -> str:
    if v is None:
        return ""
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:.1f}M"
    if a >= 1e4:
        return f"{v / 1e3:.0f}k"
    if a >= 100 or float(v).is_integer():
        return f"{v:,.0f}"
    return f"{v:.3g}"


def _value_text(name: str, v: float) -> str:
    if _is_share(name):
        return f"{v:.1%}"
    if name.endswith("_ms"):
        return f"{_num(v)} ms"
    return _num(v)


def _clip(text: Any, n: int = 42) -> str:
    s = "(none)" if text is None else str(text)
    return s if len(s) <= n else s[: n - 1] + "…"


def sample_column(df: pl.DataFrame, value: str, n: str | None = None) -> str | None:
    """The column holding the sample size behind ``value``: ``n`` when given; for
    a ``*_rate`` column, ``sessions`` when the result has one (every built-in
    ``*_rate`` is a share of sessions); else None (not a rate, or unknown)."""
    if n is not None:
        _need(df, n)
        return n
    if value.endswith("_rate") and "sessions" in df.columns:
        return "sessions"
    return None


def _n_text(v: Any) -> str:
    return "?" if v is None else f"{int(v):,}" if float(v).is_integer() else f"{v:,.3g}"


def bar_labels(df: pl.DataFrame, label: str | Sequence[str], *, n: str | None = None, width: int = 48) -> list[str]:
    """One label per row: the ``label`` column(s) joined with `` · ``, ``(n=…)`` appended.

    When labels repeat (``/api/cart`` failing with 4xx and with 5xx), the
    result's other text columns are added until they differ. The longest
    part is clipped first, so the distinguishing parts and ``n`` stay visible.
    """
    import polars as pl

    cols = [label] if isinstance(label, str) else list(label)
    _need(df, *cols)
    rows = df.select(cols).rows()
    extra = [c for c, t in df.schema.items() if t == pl.String and c not in cols]
    while len(set(rows)) < len(rows) and extra:
        cols.append(extra.pop(0))
        rows = df.select(cols).rows()
    out = []
    sizes = df.get_column(n).to_list() if n else [None] * df.height
    for parts, size in zip(rows, sizes, strict=True):
        texts = ["(none)" if p is None else str(p) for p in parts]
        sep = " · "
        room = width - sum(len(t) for t in texts) - len(sep) * (len(texts) - 1)
        if room < 0:
            i = max(range(len(texts)), key=lambda k: len(texts[k]))
            texts[i] = _clip(texts[i], max(8, len(texts[i]) + room))
        text = sep.join(texts)
        out.append(text + (f" (n={_n_text(size)})" if n else ""))
    return out


def _numeric(df: pl.DataFrame, exclude: Sequence[str] = ()) -> list[str]:
    return [c for c, t in df.schema.items() if t.is_numeric() and c not in exclude and c != "coverage"]


def timeseries(df: pl.DataFrame, *, x: str | None = None, y: Sequence[str] | None = None,
               group: str | None = None, n: str | None = None) -> str:
    """Small multiples: one panel per measure ``y`` over the time column ``x``.

    A rate panel's title gives the range of its sample sizes (``sample_column``):
    ``error session rate (n = 12–340 sessions per point)``.
    """
    import matplotlib.dates as mdates
    import polars as pl

    if x is None:
        x = next((c for c, t in df.schema.items() if isinstance(t, pl.Datetime | pl.Date)), None)
        if x is None:
            raise ValueError("a time series needs a date or timestamp column (set x = \"...\")")
    _need(df, x)
    ys = list(y) if y else _numeric(df, exclude=[x])
    _need(df, *ys)
    if group:
        _need(df, group)
    data = df.filter(pl.col(x).is_not_null()).sort(x)
    if data.height == 0 or not ys:
        return _empty()
    fig = _figure(1.9 * len(ys) + 0.4)
    axes = fig.subplots(len(ys), 1, sharex=True, squeeze=False)[:, 0]
    groups: list[Any] = [None]
    if group:
        totals = data.group_by(group).agg(pl.col(ys[0]).sum().alias("_t")).sort(["_t", group], descending=[True, False])
        groups = totals.get_column(group).to_list()[:6]
    for ax, col in zip(axes, ys, strict=True):
        for gi, g in enumerate(groups):
            part = data if g is None else data.filter(pl.col(group) == g)
            xs = part.get_column(x).to_list()
            vs = [None if v is None else float(v) for v in part.get_column(col).to_list()]
            color = PALETTE[gi % len(PALETTE)]
            ax.plot(xs, [float("nan") if v is None else v for v in vs], color=color, linewidth=1.8,
                    marker="o" if len(xs) <= 48 else None, markersize=3, label=None if g is None else _clip(g, 24))
            if g is None:
                ax.fill_between(xs, [0 if v is None else v for v in vs], color=color, alpha=0.08)
        ax.set_title(col.replace("_", " ") + _n_range(data, col, n))
        ax.yaxis.set_major_formatter(_unit_formatter(col))
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", color=GRID, linewidth=0.8)
        ax.set_axisbelow(True)
        if group:
            ax.legend(loc="upper left", fontsize=8, frameon=False, ncols=min(len(groups), 6))
    loc = mdates.AutoDateLocator()
    axes[-1].xaxis.set_major_locator(loc)
    axes[-1].xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
    fig.align_ylabels(axes)
    return _svg(fig)


def _n_range(data: pl.DataFrame, col: str, n: str | None) -> str:
    """`` (n = 12–340 sessions per point)`` for a rate panel, else ""."""
    if not _is_share(col):
        return ""
    ncol = sample_column(data, col, n)
    if ncol is None:
        return ""
    sizes = [v for v, r in zip(data.get_column(ncol).to_list(), data.get_column(col).to_list(), strict=True)
             if v is not None and r is not None]
    if not sizes:
        return ""
    lo, hi = min(sizes), max(sizes)
    span = _n_text(lo) if lo == hi else f"{_n_text(lo)}–{_n_text(hi)}"
    return f" (n = {span} {ncol.replace('_', ' ')} per point)"


def bar(df: pl.DataFrame, *, label: str | Sequence[str] | None = None, value: str | None = None,
        limit: int = 10, n: str | None = None) -> str:
    """Horizontal bars of ``value`` per ``label``, first ``limit`` rows in the result's order.

    ``label`` is a column or a list of columns (``bar_labels``); a rate's bars
    carry their sample size, ``(n=320)`` (``sample_column``).
    """
    import polars as pl

    if label is None:
        label = next((c for c, t in df.schema.items() if t == pl.String), None)
        if label is None:
            raise ValueError("a bar chart needs a text column for its labels (set label = \"...\")")
    if value is None:
        nums = _numeric(df)
        if not nums:
            raise ValueError("a bar chart needs a numeric column (set value = \"...\")")
        value = nums[0]
    cols = [label] if isinstance(label, str) else list(label)
    _need(df, *cols, value)
    ncol = sample_column(df, value, n)
    data = df.head(limit)
    if data.height == 0:
        return _empty()
    labels = bar_labels(data, cols, n=ncol)
    vals = [0.0 if v is None else float(v) for v in data.get_column(value).to_list()]
    fig = _figure(0.42 * len(vals) + 0.8)
    ax = fig.subplots()
    pos = list(range(len(vals)))[::-1]
    ax.barh(pos, vals, color=PALETTE[0], height=0.65)
    ax.set_yticks(pos, labels)
    ax.tick_params(axis="y", length=0, labelcolor=INK)
    ax.xaxis.set_major_formatter(_unit_formatter(value))
    if data.schema[value].is_integer():
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="x", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    ax.spines["left"].set_visible(False)
    top = max(vals) if vals and max(vals) > 0 else 1.0
    ax.set_xlim(0, top * 1.15)
    for p, v in zip(pos, vals, strict=True):
        ax.text(v + top * 0.01, p, _value_text(value, v), va="center", fontsize=8, color=INK)
    ax.set_title(f"{value.replace('_', ' ')} by {', '.join(c.replace('_', ' ') for c in cols)}")
    return _svg(fig)


def flow(df: pl.DataFrame, *, source: str = "from_page", target: str = "to_page",
         value: str = "transitions", limit: int = 20) -> str:
    """A two-column Sankey: pages on the left flow into pages on the right.

    Edges are the first ``limit`` rows (the query sorts them by size). Band
    widths are proportional to ``value``; each band takes its source's colour.
    """
    from matplotlib.patches import PathPatch, Rectangle
    from matplotlib.path import Path as MPath

    _need(df, source, target, value)
    edges = [(str(a), str(b), float(v)) for a, b, v in
             df.head(limit).select(source, target, value).iter_rows() if v and v > 0]
    if not edges:
        return _empty()
    left: dict[str, float] = {}
    right: dict[str, float] = {}
    for a, b, v in edges:
        left[a] = left.get(a, 0.0) + v
        right[b] = right.get(b, 0.0) + v
    lorder = sorted(left, key=lambda k: (k != "(entry)", -left[k], k))
    rorder = sorted(right, key=lambda k: (k == "(exit)", -right[k], k))
    total = sum(v for _, _, v in edges)
    nodes = max(len(lorder), len(rorder))
    gap = total * 0.04
    height = total + gap * (nodes - 1)

    def place(order: list[str], sizes: dict[str, float]) -> dict[str, list[float]]:
        used = sum(sizes[k] for k in order) + gap * (len(order) - 1)
        y = height - (height - used) / 2
        out = {}
        for k in order:
            out[k] = [y, y]  # top, moving cursor
            y -= sizes[k] + gap
        return out

    lpos, rpos = place(lorder, left), place(rorder, right)
    fig = _figure(max(2.5, 0.42 * nodes + 0.8))
    ax = fig.subplots()
    ax.set_axis_off()
    x0, x1, w = 0.0, 1.0, 0.025
    colors = {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(lorder)}
    # Draw the biggest bands first so small ones stay visible on top.
    ordered = sorted(edges, key=lambda e: (lorder.index(e[0]), rorder.index(e[1])))
    for a, b, v in ordered:
        ya, yb = lpos[a][1], rpos[b][1]
        lpos[a][1] -= v
        rpos[b][1] -= v
        xa, xb = x0 + w, x1 - w
        mid = (xa + xb) / 2
        verts = [(xa, ya), (mid, ya), (mid, yb), (xb, yb), (xb, yb - v), (mid, yb - v), (mid, ya - v),
                 (xa, ya - v), (xa, ya)]
        codes = [MPath.MOVETO, MPath.CURVE4, MPath.CURVE4, MPath.CURVE4, MPath.LINETO, MPath.CURVE4,
                 MPath.CURVE4, MPath.CURVE4, MPath.CLOSEPOLY]
        ax.add_patch(PathPatch(MPath(verts, codes), facecolor=colors[a], edgecolor="none", alpha=0.38))
    for k in lorder:
        top = lpos[k][0]
        ax.add_patch(Rectangle((x0, top - left[k]), w, left[k], color=colors[k]))
        ax.text(x0 - 0.01, top - left[k] / 2, f"{_clip(k, 34)}  {_num(left[k])}", ha="right", va="center",
                fontsize=8)
    for k in rorder:
        top = rpos[k][0]
        ax.add_patch(Rectangle((x1 - w, top - right[k]), w, right[k], color=MUTED))
        ax.text(x1 + 0.01, top - right[k] / 2, f"{_num(right[k])}  {_clip(k, 34)}", ha="left", va="center",
                fontsize=8)
    ax.set_xlim(-0.55, 1.55)
    ax.set_ylim(-gap, height + gap)
    ax.set_title(f"{value.replace('_', ' ')}: {source.replace('_', ' ')} → {target.replace('_', ' ')} "
                 f"(top {len(edges)} edges)")
    return _svg(fig)


def _band_text(band: tuple[float, float, str]) -> str:
    unit = f" {band[2]}" if band[2] else ""
    return f"good ≤ {_num(band[0])}{unit}, poor > {_num(band[1])}{unit}"


def vitals(df: pl.DataFrame, *, label: str | None = None, limit: int = 12) -> str:
    """Stacked good / needs-improvement / poor shares per metric (and page), with the p75."""
    import polars as pl

    _need(df, "metric", "good", "needs_improvement", "poor")
    data = df.filter(pl.col("metric").is_not_null())
    if data.height == 0:
        return _empty()
    rank = {m: i for i, m in enumerate(_VITAL_ORDER)}
    data = data.with_row_index("_i").sort(
        pl.col("metric").replace_strict(rank, default=len(rank), return_dtype=pl.Int64), "_i"
    ).head(limit)
    lab_col = label or ("page" if "page" in data.columns and data.get_column("page").n_unique() > 1 else None)
    metrics = data.get_column("metric").cast(pl.String).str.to_uppercase().unique().to_list()
    one_metric = metrics[0] if len(metrics) == 1 and lab_col else None
    rows = []
    for r in data.iter_rows(named=True):
        m = str(r["metric"])
        band = VITAL_BANDS.get(m.upper())
        if one_metric:
            # One metric per page: the band limits go in the title, rows are pages.
            name = _clip(r.get(lab_col), 40)
        else:
            name = m if lab_col is None else f"{m} · {_clip(r.get(lab_col), 30)}"
            if band:
                name += f"\n({_band_text(band)})"
        shares = [float(r[k] or 0.0) for k in ("good", "needs_improvement", "poor")]
        p75 = r.get("p75")
        rows.append((name, shares, p75, m.upper(), r.get("samples")))
    fig = _figure(0.62 * len(rows) + 0.9)
    ax = fig.subplots()
    pos = list(range(len(rows)))[::-1]
    for p, (_, shares, p75, m, samples) in zip(pos, rows, strict=True):
        left = 0.0
        for share, color in zip(shares, (GOOD, NEEDS, POOR), strict=True):
            if share > 0:
                ax.barh(p, share, left=left, color=color, height=0.6, edgecolor="white", linewidth=0.8)
                if share >= 0.06:
                    ax.text(left + share / 2, p, f"{share:.0%}", ha="center", va="center", fontsize=8,
                            color="white" if color != NEEDS else INK, fontweight="bold")
            left += share
        extra = []
        if p75 is not None:
            unit = VITAL_BANDS.get(m, (0, 0, ""))[2]
            extra.append(f"p75 {(_num(p75) if unit else f'{p75:.3f}')}{unit and ' ' + unit}")
        if samples is not None:
            extra.append(f"n={_num(samples)}")
        ax.text(1.02, p, "  ".join(extra), va="center", fontsize=8, color=INK)
    ax.set_yticks(pos, [r[0] for r in rows])
    ax.tick_params(axis="y", length=0, labelcolor=INK, labelsize=8)
    ax.set_xlim(0, 1)
    from matplotlib.patches import Patch
    from matplotlib.ticker import PercentFormatter

    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    ax.spines["left"].set_visible(False)
    if one_metric:
        band = VITAL_BANDS.get(one_metric)
        ax.set_title(f"{one_metric} by {lab_col}" + (f" ({_band_text(band)})" if band else ""), pad=22)
    ax.legend(handles=[Patch(color=GOOD, label="good"), Patch(color=NEEDS, label="needs improvement"),
                       Patch(color=POOR, label="poor")],
              loc="lower left", bbox_to_anchor=(0, 1.0), ncols=3, frameon=False, fontsize=8)
    return _svg(fig)
