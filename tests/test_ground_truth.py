"""The built-in analyses against the traffic generator's ground truth.

One generated dataset (50,000 sessions, two applications, a week, fixed
seed) is ingested once; every session-based figure the generator counted
while generating (docs/generator.md, "Ground truth") must come out of the
built-in queries exactly, per application and for both populations (cookie
sessions, and all sessions with ``include_cookieless``). The truth has no
percentiles, so the web-vitals percentiles are recomputed here from the
generated messages themselves.
"""

from __future__ import annotations

import gzip
import math
import re
from collections import defaultdict

import orjson
import pytest

from rumq.api import Dataset
from rumq.generate import generate
from rumq.ingest import ingest
from rumq.schema import EVENT_NAMES

pytestmark = pytest.mark.slow

SESSIONS = 50_000
SEED = 20240304
COOKIELESS = 0.15
ALL = 100_000  # `top` wide enough for every row
POPULATIONS = [False, True]  # include_cookieless

# Independent of rumq's code: the generator's raw page ids carry numeric or UUID ids.
_ID = re.compile(r"/(?:[0-9]+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?=/|$)")
VITALS = {  # event type -> (metric, good <=, poor >), thresholds from docs/analyses.md
    "com.amazon.rum.largest_contentful_paint_event": ("LCP", 2500, 4000),
    "com.amazon.rum.first_contentful_paint_event": ("FCP", 1800, 3000),
    "com.amazon.rum.cumulative_layout_shift_event": ("CLS", 0.1, 0.25),
    "com.amazon.rum.interaction_to_next_paint_event": ("INP", 200, 500),
    "com.amazon.rum.first_input_delay_event": ("FID", 100, 300),
    "com.amazon.rum.time_to_first_byte_event": ("TTFB", 800, 1800),
}
_VITAL_MARKERS = tuple(f'"event_type":"{t}"'.encode() for t in VITALS)


def pattern(page: str) -> str:
    return _ID.sub("/:id", page)


@pytest.fixture(scope="module")
def gen(tmp_path_factory):
    """Generate once, ingest once; the default page config (no stray rumq.toml)."""
    base = tmp_path_factory.mktemp("ground-truth")
    mp = pytest.MonkeyPatch()
    mp.delenv("RUMQ_CONFIG", raising=False)
    mp.chdir(base)
    try:
        truth = generate(base / "out", sessions=SESSIONS, days=7, seed=SEED, apps=2,
                         cookieless_share=COOKIELESS, fmt="jsonl", gzip=True, compresslevel=1, workers=2,
                         page_groups=True)
        report = ingest(base / "data", [str(base / "out")])
        assert (report.written, report.duplicates, report.rejected) == (truth.total["events"], 0, 0)
        # Low-coverage notices are expected (cookieless traffic); they are not under test here.
        yield base, truth, Dataset(base / "data", notify=lambda _m: None)
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def apps(gen):
    _, truth, _ = gen
    return dict(truth.data["apps"])


def run(ds, name, app=None, **params):
    return ds.run(name, app=app, **params).to_dicts()


def truth_pop(a, include_cookieless):
    """The session-based figures of one app for one population."""
    return a["all_sessions"] if include_cookieless else a


def app_coverage(a):
    pv = a["page_views"]
    return pv["cookie"] / pv["total"]


def test_dataset_exercises_what_is_checked(gen, apps):
    _, truth, _ = gen
    t = truth.total
    assert t["sessions"]["total"] == SESSIONS
    assert t["sessions"]["cookie"] > 0 and t["sessions"]["cookieless"] > 0
    assert t["sessions_capped"] > 0  # the 200-event cap is exercised
    assert t["error_sessions"]["js"] > 0 and t["error_sessions"]["http"] > 0
    for a in apps.values():
        # The two populations differ in every figure compared, so include_cookieless is tested.
        for k in ("pages", "transitions", "error_sessions", "funnel"):
            assert a[k] != a["all_sessions"][k], k
        # Raw ids differ from patterns (/product/10007 vs /product/:id), so normalization is tested.
        assert len(a["pages"]["raw"]) > len(a["pages"]["pattern"])


@pytest.mark.parametrize("include_cookieless", POPULATIONS)
def test_sessions_users_page_views(gen, apps, include_cookieless):
    _, truth, ds = gen
    key = "total" if include_cookieless else "cookie"
    for a in apps.values():
        [row] = run(ds, "sessions/summary", app=a["application_id"], include_cookieless=include_cookieless)
        assert row["sessions"] == a["sessions"][key]
        assert row["page_views"] == a["page_views"][key]
        # Users are cookie users (non-nil user ids); cookieless sessions add none.
        assert row["users"] == a["users"]
        assert row["coverage"] == app_coverage(a)
    [row] = run(ds, "sessions/summary", include_cookieless=include_cookieless)
    t = truth.total
    assert (row["sessions"], row["users"], row["page_views"]) == (t["sessions"][key], t["users"],
                                                                   t["page_views"][key])
    assert row["coverage"] == t["page_views"]["cookie"] / t["page_views"]["total"]
    assert round(row["coverage"], 6) == t["coverage"]


@pytest.mark.parametrize("include_cookieless", POPULATIONS)
def test_pages_views_entries_exits(gen, apps, include_cookieless):
    _, _, ds = gen
    for a in apps.values():
        want = truth_pop(a, include_cookieless)["pages"]["pattern"]
        rows = run(ds, "pages/drop_off", app=a["application_id"], top=ALL, include_cookieless=include_cookieless)
        got = {r["page"]: {"views": r["page_views"], "entries": r["entries"], "exits": r["exits"]} for r in rows}
        assert got == want
        assert {r["coverage"] for r in rows} == {app_coverage(a)}
        rows = run(ds, "pages/entry", app=a["application_id"], top=ALL, include_cookieless=include_cookieless)
        got = {r["entry_page"]: r["sessions"] for r in rows}
        assert got == {p: v["entries"] for p, v in want.items() if v["entries"]}


@pytest.mark.parametrize("include_cookieless", POPULATIONS)
def test_transitions(gen, apps, include_cookieless):
    _, _, ds = gen
    for a in apps.values():
        want = {(t["from"], t["to"]): t["count"] for t in truth_pop(a, include_cookieless)["transitions"]["pattern"]}
        # steps: a session has at most 200 events, so at most 200 pages; 1000 follows every path to its end.
        rows = run(ds, "journeys/transitions", app=a["application_id"], top=ALL, min_count=1, steps=1000,
                   include_cookieless=include_cookieless)
        got = {(r["from_page"], r["to_page"]): r["transitions"] for r in rows}
        assert got == want
        assert len(rows) < ALL
        # Every session enters once and exits once.
        sessions = a["sessions"]["total" if include_cookieless else "cookie"]
        assert sum(n for (f, _), n in got.items() if f == "(entry)") == sessions
        assert sum(n for (_, t), n in got.items() if t == "(exit)") == sessions


def test_raw_pages_and_transitions_without_normalization(gen, apps, monkeypatch):
    base, _, ds = gen
    cfg = base / "raw.toml"
    cfg.write_text("[pages]\nnormalize = false\n")
    monkeypatch.setenv("RUMQ_CONFIG", str(cfg))
    for include_cookieless in POPULATIONS:
        for a in apps.values():
            want = truth_pop(a, include_cookieless)
            rows = run(ds, "pages/drop_off", app=a["application_id"], top=ALL,
                       include_cookieless=include_cookieless)
            got = {r["page"]: {"views": r["page_views"], "entries": r["entries"], "exits": r["exits"]}
                   for r in rows}
            assert got == want["pages"]["raw"]
            rows = run(ds, "journeys/transitions", app=a["application_id"], top=ALL, steps=1000,
                       include_cookieless=include_cookieless)
            assert len(rows) < ALL
            got = {(r["from_page"], r["to_page"]): r["transitions"] for r in rows}
            assert got == {(t["from"], t["to"]): t["count"] for t in want["transitions"]["raw"]}


@pytest.mark.parametrize("include_cookieless", POPULATIONS)
def test_error_sessions(gen, apps, include_cookieless):
    _, truth, ds = gen
    for a in apps.values():
        want = truth_pop(a, include_cookieless)["error_sessions"]
        [row] = run(ds, "errors/rate_per_session", app=a["application_id"], include_cookieless=include_cookieless)
        assert (row["js_error_sessions"], row["http_error_sessions"], row["error_sessions"]) == (
            want["js"], want["http"], want["any"])
        assert row["sessions"] == a["sessions"]["total" if include_cookieless else "cookie"]
    want = (truth.total["all_sessions"] if include_cookieless else truth.total)["error_sessions"]
    [row] = run(ds, "errors/rate_per_session", include_cookieless=include_cookieless)
    assert (row["js_error_sessions"], row["http_error_sessions"], row["error_sessions"]) == (
        want["js"], want["http"], want["any"])


@pytest.mark.parametrize("include_cookieless", POPULATIONS)
def test_funnels(gen, apps, include_cookieless):
    _, _, ds = gen
    for a in apps.values():
        want = truth_pop(a, include_cookieless)["funnel"]
        assert len(want["steps"]) >= 3
        rows = run(ds, "funnels/conversion", app=a["application_id"], steps=want["steps"], mode="sequential",
                   include_cookieless=include_cookieless)
        assert [r["pattern"] for r in rows] == want["steps"]
        assert [r["sessions"] for r in rows] == want["sessions"]
        assert want["sessions"][-1] > 0  # somebody converts, so every step is exercised


def test_coverage_and_data_quality(gen, apps):
    _, truth, ds = gen
    t = truth.total
    rows = run(ds, "data/quality")
    by = {(r["check"], r["item"]): r["share"] if r["check"] == "cookie_coverage" else r["count"] for r in rows}
    assert by[("events", None)] == t["events"]
    assert by[("page_views", None)] == t["page_views"]["total"]
    assert by[("cookie_coverage", None)] == t["page_views"]["cookie"] / t["page_views"]["total"]
    assert by[("sessions", "cookie")] == t["sessions"]["cookie"]
    assert by[("sessions", "cookieless")] == t["sessions"]["cookieless"]
    assert by[("events_without_session", None)] == 0
    # rumq names the RUM event types by short names; custom events keep theirs.
    assert {k[1]: v for k, v in by.items() if k[0] == "event_type"} == {
        EVENT_NAMES.get(k, k): n for k, n in t["events_by_type"].items()}
    # Capped sessions exist, so the longest recorded session is exactly at the 200-event cap.
    assert t["sessions_capped"] > 0 and by[("max_events_per_session", None)] == 200
    assert by[("sessions_near_event_cap", None)] >= t["sessions_capped"]
    for a in apps.values():
        by = {(r["check"], r["item"]): r["share"] if r["check"] == "cookie_coverage" else r["count"]
              for r in run(ds, "data/quality", app=a["application_id"])}
        assert by[("cookie_coverage", None)] == app_coverage(a)
        assert round(by[("cookie_coverage", None)], 6) == a["coverage"]
        assert by[("events", None)] == a["events"]


# --- web vitals: no truth in the generator, so recompute from the generated messages ------------


def quantile_cont(values: list[float], q: float) -> float:
    """Exact percentile with linear interpolation between the two nearest ranks."""
    v = sorted(values)
    pos = q * (len(v) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (pos - lo) * (v[hi] - v[lo])


@pytest.fixture(scope="module")
def vital_samples(gen):
    """{(application_id, page pattern, metric): [values]} read back from the written files."""
    base, _, _ = gen
    out: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for f in sorted((base / "out").rglob("*.jsonl.gz")):
        with gzip.open(f, "rb") as fh:
            for line in fh:
                if not any(m in line for m in _VITAL_MARKERS):
                    continue
                m = orjson.loads(line)
                metric = VITALS[m["event_type"]][0]
                out[(m["application_id"], pattern(m["metadata"]["pageId"]), metric)].append(
                    float(m["event_details"]["value"]))
    assert len(out) > 20
    return out


# Percentiles: both sides interpolate between the same two ranks with the same weight, but
# DuckDB's quantile_cont does not always round like lo + (hi - lo) * d (observed here: a few
# results 1 ulp apart, e.g. 3260.5250000000005 vs 3260.525). 1e-9 relative absorbs that and
# nothing else: picking a neighbouring rank or another interpolation rule moves a percentile by
# far more (whole milliseconds; 1e-4 for CLS).
PCT_TOLERANCE = 1e-9


def expected_vitals(samples: dict[tuple[str, str, str], list[float]]) -> dict[tuple[str, str], dict]:
    thresholds = {m: (good, poor) for m, good, poor in VITALS.values()}
    want = {}
    for (page, metric), vals in samples.items():
        good, poor = thresholds[metric]
        n = len(vals)
        want[(page, metric)] = {
            "samples": n,
            "p50": quantile_cont(vals, 0.5), "p75": quantile_cont(vals, 0.75), "p90": quantile_cont(vals, 0.9),
            "good": sum(v <= good for v in vals) / n,
            "needs_improvement": sum(good < v <= poor for v in vals) / n,
            "poor": sum(v > poor for v in vals) / n,
        }
    return want


def check_vitals(rows: list[dict], want: dict[tuple[str, str], dict]) -> None:
    got = {(r["page"], r["metric"]): r for r in rows}
    assert set(got) == set(want)
    for key, w in want.items():
        g = got[key]
        assert g["samples"] == w["samples"], key
        for c in ("good", "needs_improvement", "poor"):  # shares of counts: exact
            assert g[c] == w[c], (key, c)
        for c in ("p50", "p75", "p90"):
            assert g[c] == pytest.approx(w[c], rel=PCT_TOLERANCE, abs=1e-12), (key, c, g[c], w[c])


@pytest.mark.parametrize("by", ["page", "none"])
def test_web_vitals(gen, apps, vital_samples, by):
    _, _, ds = gen
    for a in apps.values():
        app_id = a["application_id"]
        per: dict[tuple[str, str], list[float]] = defaultdict(list)
        for (aid, page, metric), vals in vital_samples.items():
            if aid == app_id:
                per[(page if by == "page" else "(all)", metric)] += vals
        assert {m for _, m in per} == {"LCP", "FCP", "CLS", "INP", "FID", "TTFB"}
        rows = run(ds, "performance/web_vitals", app=app_id, by=by, top=ALL)
        check_vitals(rows, expected_vitals(per))


# --- users: new and returning, cohorts (the generator's returning-user pool) ---------------------


def test_users_per_day_new_and_returning(gen, apps):
    _, _, ds = gen
    for a in apps.values():
        want = a["users_by_day"]
        # Returning users exist, so new and returning are both exercised.
        assert any(d["new_users"] < d["users"] for d in want) and want[0]["new_users"] == want[0]["users"]
        rows = run(ds, "users/summary", app=a["application_id"], period="day")
        got = [{"day": r["period"].date().isoformat(), "users": r["users"], "new_users": r["new_users"],
                "sessions": r["sessions"]} for r in rows]
        assert got == want
        assert all(r["returning_users"] == r["users"] - r["new_users"] for r in rows)


def test_users_window_after_the_first_day(gen, apps):
    """From day 3: the users seen before (on disk, outside the window) are returning, not new."""
    _, _, ds = gen
    for a in apps.values():
        by_day = a["users_by_day"]
        k = 2
        [row] = run(ds, "users/summary", app=a["application_id"], since=by_day[k]["day"])
        assert row["users"] == a["users_active_from_day"][k]
        assert row["new_users"] == sum(d["new_users"] for d in by_day[k:])
        # A session that began the day before and has a page view on day k counts in the window.
        assert row["sessions"] == a["sessions_from_day"][k]
        assert row["returning_users"] > 0


def test_users_retention_cohorts(gen, apps):
    _, _, ds = gen
    for a in apps.values():
        rows = run(ds, "users/retention", app=a["application_id"], period="day")
        got: dict[str, dict] = {}
        for r in rows:
            c = got.setdefault(r["cohort"].date().isoformat(), {"users": r["cohort_users"], "active": []})
            assert r["period"] == len(c["active"])
            c["active"].append(r["users"])
        want = {c["cohort"]: {"users": c["users"], "active": c["active"]} for c in a["retention_by_day"]}
        assert got == want
        assert any(n > 0 for c in want.values() for n in c["active"][1:])  # somebody comes back


def test_custom_events(gen, apps):
    _, _, ds = gen
    shop = [a for a in apps.values() if a["custom_events"]]
    assert shop  # the shop sends custom events
    for a in apps.values():
        rows = run(ds, "events/custom", app=a["application_id"], top=ALL)
        got = {r["event_type"]: {"events": r["events"], "sessions": r["sessions"], "users": r["users"]} for r in rows}
        assert got == a["custom_events"]
        assert all(n == a["events_by_type"][t] for t, n in ((t, v["events"]) for t, v in got.items()))


@pytest.mark.parametrize("include_cookieless", POPULATIONS)
def test_page_groups(gen, apps, include_cookieless):
    _, _, ds = gen
    for a in apps.values():
        want = truth_pop(a, include_cookieless)["page_groups"]
        rows = run(ds, "pages/groups", app=a["application_id"], top=ALL, include_cookieless=include_cookieless)
        got = {r["page_group"]: {"page_views": r["page_views"], "sessions": r["sessions"], "entries": r["entries"],
                                 "exits": r["exits"], "bounces": r["bounces"],
                                 "error_sessions": round(r["error_session_rate"] * r["sessions"])} for r in rows}
        assert got == want
    shop = next(a for a in apps.values() if a["site"] == "shop")
    assert {"product", "catalog", "(none)"} <= set(shop["page_groups"])  # two groups on one page, and none


# --- a funnel with an event: step: recomputed from the generated messages ----------------------
# The generator sends add_to_cart on a product page whose next page is the cart. Per cookie
# session, the path of pages (as patterns) and custom events ('event:<type>'), ordered by time,
# a page before an event of the same second (docs/analyses.md); a session reaches step k when
# steps 1..k occur in that order (sequential). Independent of rumq's SQL.
EVENT_FUNNEL = ["/product/:id", "event:com.example.shop.add_to_cart", "/cart", "/checkout"]
_PAGE_VIEW = b'"event_type":"com.amazon.rum.page_view_event"'
_NIL_USER = '00000000-0000-0000-0000-000000000000'


@pytest.fixture(scope="module")
def event_funnel(gen):
    """{application_id: sessions reaching each step of EVENT_FUNNEL} read back from the written files."""
    base, _, _ = gen
    paths: dict[tuple[str, str], list[tuple]] = defaultdict(list)
    line_no = 0
    for f in sorted((base / "out").rglob("*.jsonl.gz")):
        with gzip.open(f, "rb") as fh:
            for line in fh:
                line_no += 1
                page = _PAGE_VIEW in line
                if not page and b'"event_type":"com.example.' not in line:
                    continue
                m = orjson.loads(line)
                if m["user_details"]["userId"] == _NIL_USER:
                    continue
                item = pattern(m["metadata"]["pageId"]) if page else "event:" + m["event_type"]
                paths[(m["application_id"], m["user_details"]["sessionId"])].append(
                    (m["event_timestamp"], 0 if page else 1, m["metadata"].get("interaction", 0), line_no, item))
    out: dict[str, list[int]] = defaultdict(lambda: [0] * len(EVENT_FUNNEL))
    for (app, _), items in paths.items():
        j = 0
        for *_, item in sorted(items):
            if j < len(EVENT_FUNNEL) and item == EVENT_FUNNEL[j]:
                j += 1
        for k in range(j):
            out[app][k] += 1
    return dict(out)


def test_funnel_with_an_event_step(gen, apps, event_funnel):
    _, _, ds = gen
    shop = [a for a in apps.values() if "com.example.shop.add_to_cart" in a["custom_events"]]
    assert shop
    for a in shop:
        want = event_funnel[a["application_id"]]
        assert want[-1] > 0 and want[1] < want[0]  # every step is reached, and some drop off
        rows = run(ds, "funnels/conversion", app=a["application_id"], steps=EVENT_FUNNEL)
        assert [r["sessions"] for r in rows] == want
        # The page-only funnel of the truth reaches /cart at least as often as with the event before it.
        assert want[2] <= a["funnel"]["sessions"][1]
