"""Sessions across subdomains and page groups against the generator's ground truth (issue 16, parts 3 and 6).

One small generated dataset (``generate(domains=..., page_groups=True)``: the
web shop's checkout on a second host, page views tagged with page groups) is
ingested once. ``sessions/list``'s domains and the ``by_domain`` page
analyses must give the truth's counts exactly; ``by = group`` of
``performance/web_vitals`` and ``performance/page_load`` is recounted here
from the written messages themselves (their own ``pageTags``), independently
of rumq's code.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import orjson
import pytest

from rumq.api import Dataset
from rumq.errors import UsageError
from rumq.generate import generate
from rumq.generate.domains import check_domains
from rumq.ingest import ingest

DOMAINS = ("www.example.com", "shop.example.com")
ALL = 100_000
LCP = "com.amazon.rum.largest_contentful_paint_event"
NAVIGATION = "com.amazon.rum.performance_navigation_event"


@pytest.fixture(scope="module")
def gen(tmp_path_factory):
    base = tmp_path_factory.mktemp("domains")
    mp = pytest.MonkeyPatch()
    mp.delenv("RUMQ_CONFIG", raising=False)
    mp.chdir(base)
    try:
        truth = generate(base / "out", sessions=1500, days=2, seed=16, apps=2, cookieless_share=0.15,
                         page_groups=True, domains=",".join(DOMAINS))
        report = ingest(base / "data", [str(base / "out")])
        assert (report.written, report.rejected) == (truth.total["events"], 0)
        messages = [orjson.loads(line) for f in sorted((base / "out").rglob("*.jsonl"))
                    for line in f.read_bytes().splitlines()]
        yield truth, Dataset(base / "data", notify=lambda _m: None), messages
    finally:
        mp.undo()


def pop(app: dict, include_cookieless: bool) -> dict:
    return app["all_sessions"] if include_cookieless else app


def test_the_dataset_crosses_domains(gen):
    truth, _, messages = gen
    shop = truth.app("webshop")["domains"]
    assert truth.data["params"]["domains"] == list(DOMAINS)
    assert set(shop["sessions_by_domains"]) == {"www.example.com", "shop.example.com",
                                                "shop.example.com,www.example.com"}
    assert shop["cross_domain_sessions"] > 50 and len(shop["cross_domain_transitions"]) > 5
    # The help center has no checkout pages: it keeps its own domain.
    assert set(truth.app("helpcenter")["domains"]["pages"].values()) == {truth.app("helpcenter")["domain"]}
    # Every event of a checkout page carries the second host, every other shop event the first.
    shop_id = truth.app("webshop")["application_id"]
    seen = Counter(m["metadata"]["domain"] for m in messages if m["application_id"] == shop_id)
    assert set(seen) == set(DOMAINS)


@pytest.mark.parametrize("include_cookieless", [False, True])
def test_sessions_list_domains_match_the_truth(gen, include_cookieless):
    truth, ds, _ = gen
    for a in truth.data["apps"].values():
        want = pop(a, include_cookieless)["domains"]["sessions_by_domains"]
        rows = ds.run("sessions/list", app=a["application_id"], top=ALL,
                      include_cookieless=include_cookieless).to_dicts()
        assert len(rows) < ALL
        assert dict(Counter(r["domains"] for r in rows)) == want
        for domain in {d for k in want for d in k.split(",")}:
            kept = ds.run("sessions/list", app=a["application_id"], top=ALL, domain=domain,
                          include_cookieless=include_cookieless)
            assert kept.height == sum(n for k, n in want.items() if domain in k.split(","))


@pytest.mark.parametrize("include_cookieless", [False, True])
def test_by_domain_transitions_and_pages_match_the_truth(gen, include_cookieless):
    truth, ds, _ = gen
    for a in truth.data["apps"].values():
        t = pop(a, include_cookieless)
        doms = a["domains"]["pages"]

        def q(page: str, doms: dict = doms) -> str:
            return page if page.startswith("(") else doms[page] + page

        rows = ds.run("journeys/transitions", app=a["application_id"], top=ALL, steps=1000, by_domain=True,
                      include_cookieless=include_cookieless).to_dicts()
        got = {(r["from_page"], r["to_page"]): r["transitions"] for r in rows}
        # Every edge, its pages qualified (the domain is a function of the page here) ...
        assert got == {(q(e["from"]), q(e["to"])): e["count"] for e in t["transitions"]["pattern"]}
        # ... and the cross-domain ones are the truth's.
        host = {p: p.split("/", 1)[0] for pair in got for p in pair if not p.startswith("(")}
        cross = {k: n for k, n in got.items() if not any(p.startswith("(") for p in k) and host[k[0]] != host[k[1]]}
        assert cross == {(e["from"], e["to"]): e["count"] for e in t["domains"]["cross_domain_transitions"]}
        rows = ds.run("pages/drop_off", app=a["application_id"], top=ALL, by_domain=True,
                      include_cookieless=include_cookieless).to_dicts()
        got_pages = {r["page"]: {"views": r["page_views"], "entries": r["entries"], "exits": r["exits"]} for r in rows}
        assert got_pages == {q(p): v for p, v in t["pages"]["pattern"].items()}
    assert any(pop(a, include_cookieless)["domains"]["cross_domain_transitions"] for a in truth.data["apps"].values())


def quantile_cont(values: list[float], q: float) -> float:
    v = sorted(values)
    pos = q * (len(v) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (pos - lo) * (v[hi] - v[lo])


def by_tag(messages: list[dict], app_id: str, event_type: str, field: str) -> dict[str, list[float]]:
    """{tag: [values]}: each event once per distinct tag of its own pageTags, '(none)' without."""
    out: dict[str, list[float]] = defaultdict(list)
    for m in messages:
        if m["application_id"] == app_id and m["event_type"] == event_type:
            for tag in dict.fromkeys(m["metadata"].get("pageTags") or ["(none)"]):
                out[tag].append(float(m["event_details"][field]))
    return out


def test_web_vitals_and_page_load_by_group_match_the_messages(gen):
    truth, ds, messages = gen
    checked = 0
    for a in truth.data["apps"].values():
        app_id = a["application_id"]
        want = by_tag(messages, app_id, LCP, "value")
        rows = ds.run("performance/web_vitals", app=app_id, by="group", metric="LCP", top=ALL).to_dicts()
        assert {r["page"]: r["samples"] for r in rows} == {g: len(v) for g, v in want.items()}
        for r in rows:
            assert r["p75"] == pytest.approx(quantile_cont(want[r["page"]], 0.75), rel=1e-9)
            assert r["poor"] == sum(v > 4000 for v in want[r["page"]]) / len(want[r["page"]])
        checked += len(rows)
        # The same p75 LCP per group as pages/groups (with every LCP event: cookieless included).
        groups = ds.run("pages/groups", app=app_id, top=ALL, include_cookieless=True).to_dicts()
        lcp = {g["page_group"]: g["lcp_p75_ms"] for g in groups if g["lcp_p75_ms"] is not None}
        assert lcp == pytest.approx({r["page"]: r["p75"] for r in rows}, rel=1e-12)
        loads = by_tag(messages, app_id, NAVIGATION, "duration")
        rows = ds.run("performance/page_load", app=app_id, by="group", top=ALL).to_dicts()
        assert {r["page"]: r["loads"] for r in rows} == {g: len(v) for g, v in loads.items()}
        for r in rows:
            v = loads[r["page"]]
            assert r["p90_ms"] == pytest.approx(quantile_cont(v, 0.9), rel=1e-9)
            assert (r["satisfied"], r["frustrated"]) == (sum(x <= 2000 for x in v), sum(x > 8000 for x in v))
        checked += len(rows)
    shop = by_tag(messages, truth.app("webshop")["application_id"], LCP, "value")
    assert {"product", "catalog", "(none)"} <= set(shop) and checked > 10  # two groups on one page, and none


def test_domains_option_is_checked():
    assert check_domains(" WWW.example.com,shop.example.com") == DOMAINS
    assert check_domains(None) == () == check_domains("")
    for bad, why in (("www.example.com", "two different"), ("a.example.com,a.example.com", "two different"),
                     ("a.example.com,b.example.com,c.example.com", "two different"),
                     ("www.example.com,https://shop.example.com", "not a host name")):
        with pytest.raises(UsageError, match=why):
            check_domains(bad)


# --- the qualification's edge cases, by hand ------------------------------------------------------

X, Y = "5e55d000-0000-4000-8000-00000000000a", "5e55d000-0000-4000-8000-00000000000b"
UX, UY = "0d000000-0000-4000-8000-00000000000a", "0d000000-0000-4000-8000-00000000000b"


@pytest.fixture(scope="module")
def edges(tmp_path_factory):
    """X: Home (a custom page id) and /cart on www., /cart, #/pay and a page view without page id
    on shop., /done without a domain; Y: /cart on shop., a bounce."""
    import json

    import analyses_data as A

    def pv(at: str, page: str, i: int, domain: str | None, session: str = X, user: str = UX) -> dict:
        m = A.msg("page_view", at, session=session, user=user, page=page, interaction=i, ctx=A.CHROME_US,
                  domain=domain or "x")
        if domain is None:
            del m["metadata"]["domain"]
        return m

    no_id = pv("10:00:40", "/gone", 4, "shop.example.com")
    del no_id["metadata"]["pageId"], no_id["event_details"]["pageId"]
    messages = [pv("10:00:00", "Home", 0, "www.example.com"), pv("10:00:10", "/cart", 1, "www.example.com"),
                pv("10:00:20", "/cart", 2, "shop.example.com"), pv("10:00:30", "#/pay", 3, "shop.example.com"),
                no_id, pv("10:00:50", "/done", 5, None),
                pv("11:00:00", "/cart", 0, "shop.example.com", Y, UY)]
    tmp = tmp_path_factory.mktemp("domain-edges")
    (tmp / "e.jsonl").write_text("".join(json.dumps(m) + "\n" for m in messages), encoding="utf-8")
    assert ingest(tmp / "data", [str(tmp / "e.jsonl")]).written == 7
    return Dataset(tmp / "data", notify=lambda _m: None)


def test_qualified_pages_edge_cases(edges):
    W, S = "www.example.com", "shop.example.com"
    rows = edges.run("journeys/transitions", by_domain=True).to_dicts()
    assert {(r["from_page"], r["to_page"]): r["transitions"] for r in rows} == {
        ("(entry)", f"{W} Home"): 1,  # a page id without a leading '/': domain, space, page
        (f"{W} Home", f"{W}/cart"): 1,
        (f"{W}/cart", f"{S}/cart"): 1,  # the same path on two hosts in a row: two steps
        (f"{S}/cart", f"{S}#/pay"): 1,  # a hash route joins like a path
        (f"{S}#/pay", None): 1,  # no page id: a NULL page, with or without by_domain
        (None, "(unknown)/done"): 1,  # no domain
        ("(unknown)/done", "(exit)"): 1,
        ("(entry)", f"{S}/cart"): 1, (f"{S}/cart", "(exit)"): 1,  # Y
    }
    # Without by_domain X's two /cart views are one step.
    plain = edges.run("journeys/transitions").to_dicts()
    assert ("/cart", "#/pay") in {(r["from_page"], r["to_page"]) for r in plain} and len(plain) == 8
    # top_paths writes a NULL page '(unknown)' (its definition); X's six steps are cut at depth 5.
    [path_y, path_x] = edges.run("journeys/top_paths", by_domain=True).sort("path").to_dicts()
    assert (path_x["path"], path_x["length"]) == (f"{W} Home > {W}/cart > {S}/cart > {S}#/pay > (unknown) > …", 5)
    assert (path_y["path"], path_y["length"]) == (f"{S}/cart", 1)
    drop = {r["page"]: r for r in edges.run("pages/drop_off", by_domain=True).to_dicts()}
    assert (drop[f"{S}/cart"]["page_views"], drop[f"{S}/cart"]["sessions"], drop[f"{S}/cart"]["exits"],
            drop[f"{S}/cart"]["bounces"]) == (2, 2, 1, 1)
    assert drop["(unknown)/done"]["exits"] == 1 and drop[None]["page_views"] == 1
    entry = {r["entry_page"]: (r["sessions"], r["pages_per_session_mean"])
             for r in edges.run("pages/entry", by_domain=True).to_dicts()}
    assert entry == {f"{W} Home": (1, 6.0), f"{S}/cart": (1, 1.0)}
