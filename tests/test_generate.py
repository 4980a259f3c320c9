"""The traffic generator: determinism, client semantics, and ground truth
recounted independently from the written messages."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path

import orjson
import pytest

from rumq.errors import UsageError
from rumq.generate import GroundTruth, generate, iter_messages

NIL = "00000000-0000-0000-0000-000000000000"
REAL_SAMPLES = Path(__file__).parent / "fixtures" / "real-samples.jsonl"
ENVELOPE = ["event_timestamp", "event_type", "event_id", "event_version", "log_stream", "application_id",
            "application_version", "metadata", "user_details", "event_details"]
# Our own normalizer (not the generator's): numeric and UUID path segments -> :id.
_ID = re.compile(r"/(?:[0-9]+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?=/|$)")
FUNNEL = {"webshop": ["/product/:id", "/cart", "/checkout", "/confirmation"],
          "helpcenter": ["/articles/:id", "/contact", "/contact/sent"]}


def pattern(page: str) -> str:
    return _ID.sub("/:id", page)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen") / "out"
    truth = generate(out, sessions=1500, days=3, seed=11, apps=2, cookieless_share=0.15)
    msgs = []
    for f in sorted(out.rglob("*.jsonl")):
        msgs += [orjson.loads(line) for line in f.read_bytes().splitlines()]
    return out, truth, msgs


def sessions_of(msgs):
    by = defaultdict(list)
    for m in msgs:
        by[(m["application_id"], m["user_details"]["sessionId"])].append(m)
    return by


def test_truth_file_is_written_next_to_the_output(run):
    out, truth, _ = run
    assert truth.path == out.with_name("out.truth.json")
    assert GroundTruth.load(truth.path).data == truth.data
    assert not list(out.rglob("*.json"))  # nothing but data inside the output


def test_envelope_matches_the_real_samples(run):
    _, truth, msgs = run
    assert len(msgs) == truth.total["events"]
    # The first two real samples are RUM messages as CloudWatch Logs stores them (the
    # other two are another export's rows): the generator writes the same keys in the same order.
    real = [orjson.loads(line) for line in REAL_SAMPLES.read_bytes().splitlines()[:2]]
    assert [list(r) for r in real] == [ENVELOPE, ENVELOPE]
    ids = set()
    for m in msgs:
        assert list(m) == ENVELOPE
        assert m["event_timestamp"] % 1000 == 0
        assert m["event_version"] == "1.0.0"
        ls = __import__("time").strftime("%Y-%m-%dT%H", __import__("time").gmtime(m["event_timestamp"] // 1000))
        assert m["log_stream"] == ls
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", m["event_id"])
        ids.add(m["event_id"])
        md = m["metadata"]
        for k in ("version", "browserName", "osName", "deviceType", "platformType", "domain", "pageId", "title",
                  "countryCode", "aws:client", "aws:clientVersion"):
            assert k in md, k
        assert list(m["user_details"]) == ["sessionId", "userId"]
    assert len(ids) == len(msgs)


def test_whole_second_timestamps_are_shared_within_a_page_load(run):
    _, _, msgs = run
    per = Counter((m["user_details"]["sessionId"], m["event_timestamp"]) for m in msgs)
    assert max(per.values()) >= 3


def test_cookie_session_semantics(run):
    _, _, msgs = run
    users = Counter()
    n = 0
    for (_, _sid), evs in sessions_of(msgs).items():
        uid = evs[0]["user_details"]["userId"]
        if uid == NIL:
            continue
        n += 1
        users[uid] += 1
        assert sum(e["event_type"].endswith("session_start_event") for e in evs) == 1
        views = sorted((e for e in evs if e["event_type"].endswith("page_view_event")),
                       key=lambda e: e["event_details"]["interaction"])
        assert [v["event_details"]["interaction"] for v in views] == list(range(len(views)))
        by_depth = {}
        for i, v in enumerate(views):
            d = v["event_details"]
            assert d["pageInteractionId"] == f"{d['pageId']}-{i}"
            assert v["metadata"]["interaction"] == i
            if i == 0:
                assert "parentPageInteractionId" not in d and "parentPageId" not in v["metadata"]
            else:
                prev = views[i - 1]["event_details"]["pageId"]
                assert d["parentPageInteractionId"] == f"{prev}-{i - 1}"
                assert v["metadata"]["parentPageId"] == prev
                assert d["timeOnParentPage"] >= 0
            by_depth[i] = d["pageId"]
        # every event carries the page that was current when it was recorded
        for e in evs:
            md = e["metadata"]
            assert by_depth.get(md["interaction"], md["pageId"]) == md["pageId"]
        # the sliding 30-minute timeout: no gap longer than that inside a session
        ts = sorted(e["event_timestamp"] for e in evs)
        assert all(b - a <= 1801_000 for a, b in zip(ts, ts[1:], strict=False))
    assert n > 500
    assert max(users.values()) >= 2  # returning users keep their id
    # a pause over 30 minutes mid-visit starts a new session whose landing
    # page (interaction 0) was reached from the site itself
    landings = [e for e in msgs if e["event_type"].endswith("page_view_event")
                and e["event_details"].get("interaction") == 0]
    assert any(e["event_details"]["referrerDomain"] == e["metadata"]["domain"] for e in landings)


def test_cookieless_semantics(run):
    _, truth, msgs = run
    seen = 0
    for (_, sid), evs in sessions_of(msgs).items():
        if evs[0]["user_details"]["userId"] != NIL:
            continue
        seen += 1
        assert sid != NIL
        assert all(e["user_details"]["userId"] == NIL for e in evs)
        views = [e for e in evs if e["event_type"].endswith("page_view_event")]
        assert len(views) == 1
        assert views[0]["event_details"] == {"version": "1.0.0", "pageId": views[0]["metadata"]["pageId"]}
        for e in evs:
            assert "interaction" not in e["metadata"] and "parentPageId" not in e["metadata"]
    assert seen == truth.total["sessions"]["cookieless"] > 100


def test_event_cap(run):
    _, truth, msgs = run
    counts = Counter(m["user_details"]["sessionId"] for m in msgs)
    assert max(counts.values()) == 200
    assert truth.total["sessions_capped"] > 0
    assert sum(1 for c in counts.values() if c == 200) >= truth.total["sessions_capped"]
    assert truth.total["events_dropped_by_cap"] > 0


def recount(msgs, app_id, funnel):
    """Ground-truth figures recomputed from the messages alone."""
    out = {"sessions": Counter(), "users": set(), "pv": Counter(), "entries": Counter(), "exits": Counter(),
           "trans": Counter(), "err": Counter(), "funnel": [0] * len(funnel), "views": Counter()}
    for (aid, _sid), evs in sessions_of(msgs).items():
        if aid != app_id:
            continue
        cookie = evs[0]["user_details"]["userId"] != NIL
        out["sessions"]["cookie" if cookie else "cookieless"] += 1
        views = [e for e in evs if e["event_type"].endswith("page_view_event")]
        out["pv"]["cookie" if cookie else "cookieless"] += len(views)
        if not cookie:
            continue
        out["users"].add(evs[0]["user_details"]["userId"])
        views.sort(key=lambda e: e["event_details"]["interaction"])
        pages = [pattern(v["event_details"]["pageId"]) for v in views]
        out["views"].update(pages)
        out["entries"][pages[0]] += 1
        out["exits"][pages[-1]] += 1
        collapsed = ["(entry)"]
        for p in pages:
            if p != collapsed[-1]:
                collapsed.append(p)
        collapsed.append("(exit)")
        out["trans"].update(zip(collapsed, collapsed[1:], strict=False))
        js = any(e["event_type"].endswith("js_error_event") for e in evs)
        http = any(e["event_type"].endswith("http_event") and (
            "error" in e["event_details"] or e["event_details"]["response"]["status"] >= 400) for e in evs)
        out["err"]["js"] += js
        out["err"]["http"] += http
        out["err"]["any"] += js or http
        j = 0
        for p in pages:
            if j < len(funnel) and p == funnel[j]:
                j += 1
        for k in range(j):
            out["funnel"][k] += 1
    return out


@pytest.mark.parametrize("app", ["webshop", "helpcenter"])
def test_ground_truth_agrees_with_an_independent_recount(run, app):
    _, truth, msgs = run
    t = truth.app(app)
    r = recount(msgs, t["application_id"], FUNNEL[app])
    assert t["sessions"] == {"total": sum(r["sessions"].values()), "cookie": r["sessions"]["cookie"],
                             "cookieless": r["sessions"]["cookieless"]}
    assert t["users"] == len(r["users"])
    assert t["page_views"]["cookie"] == r["pv"]["cookie"]
    assert t["page_views"]["cookieless"] == r["pv"]["cookieless"]
    pages = t["pages"]["pattern"]
    assert {p: v["entries"] for p, v in pages.items() if v["entries"]} == dict(r["entries"])
    assert {p: v["exits"] for p, v in pages.items() if v["exits"]} == dict(r["exits"])
    assert {p: v["views"] for p, v in pages.items()} == dict(r["views"])
    assert {(x["from"], x["to"]): x["count"] for x in t["transitions"]["pattern"]} == dict(r["trans"])
    assert t["error_sessions"] == dict(r["err"])
    assert t["funnel"] == {"steps": FUNNEL[app], "sessions": r["funnel"]}
    # the funnel is monotone and not trivially empty
    assert r["funnel"][0] >= r["funnel"][-1] > 0
    # by type
    types = Counter(m["event_type"] for m in msgs if m["application_id"] == t["application_id"])
    assert t["events_by_type"] == dict(types)


def test_collapsed_transitions_exist(run):
    # /product/1 -> /product/2 is a repeat at pattern level: collapsed there, kept raw.
    _, truth, _ = run
    pat = {(x["from"], x["to"]) for x in truth.app("webshop")["transitions"]["pattern"]}
    raw = truth.app("webshop")["transitions"]["raw"]
    assert ("/product/:id", "/product/:id") not in pat
    assert any(x["from"].startswith("/product/") and x["to"].startswith("/product/") for x in raw)


def test_same_seed_same_bytes_whatever_the_workers(tmp_path):
    a = generate(tmp_path / "a", sessions=400, days=3, seed=5, workers=1)
    b = generate(tmp_path / "b", sessions=400, days=3, seed=5, workers=2)
    c = generate(tmp_path / "c", sessions=400, days=3, seed=6, workers=1)
    fa = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    fb = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert fa == fb and fa
    assert all((tmp_path / "a" / p).read_bytes() == (tmp_path / "b" / p).read_bytes() for p in fa)
    assert a.data["apps"] == b.data["apps"]
    assert a.data["apps"] != c.data["apps"]


def test_iter_messages_streams_what_generate_writes(tmp_path):
    truth: dict = {}
    streamed = [m.message for m in iter_messages(sessions=200, days=2, seed=3, truth=truth)]
    g = generate(tmp_path / "o", sessions=200, days=2, seed=3)
    written = [line.decode() for f in sorted((tmp_path / "o").rglob("*.jsonl")) for line in f.read_bytes().splitlines()]
    assert sorted(streamed) == sorted(written)
    assert truth["apps"] == g.data["apps"]


def test_session_count_is_exact(tmp_path):
    for n in (1, 7, 333):
        t = generate(tmp_path / f"s{n}", sessions=n, days=2, seed=n, cookieless_share=0.5)
        assert t.total["sessions"]["total"] == n


@pytest.mark.parametrize("kwargs", [{"sessions": 0}, {"sessions": 5, "days": 0}, {"sessions": 5, "apps": 9},
                                    {"sessions": 5, "cookieless_share": 1.5}, {"sessions": 5, "fmt": "xml"}])
def test_bad_parameters(tmp_path, kwargs):
    with pytest.raises(UsageError):
        generate(tmp_path / "x", **kwargs)


def test_refuses_a_non_empty_output(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep").write_text("mine")
    with pytest.raises(UsageError, match="not empty"):
        generate(tmp_path / "x", sessions=5)


def test_cli_generate(tmp_path):
    from click.testing import CliRunner

    from rumq.cli import cli

    r = CliRunner().invoke(cli, ["generate", "--sessions", "50", "--days", "2", "--seed", "4",
                                 "--format", "firehose", "--out", str(tmp_path / "fh")])
    assert r.exit_code == 0, r.output
    assert "wrote" in r.stderr and r.stdout == ""
    t = GroundTruth.load(tmp_path / "fh.truth.json")
    assert t.total["sessions"]["total"] == 50 and t.data["params"]["format"] == "firehose"
    assert any((tmp_path / "fh" / "firehose").rglob("rum-logs-delivery-1-*"))


def test_cli_generate_by_events(tmp_path):
    from click.testing import CliRunner

    from rumq.cli import cli

    r = CliRunner().invoke(cli, ["generate", "--events", "20000", "--days", "1", "--gzip",
                                 "--out", str(tmp_path / "ev"), "--truth", str(tmp_path / "t.json")])
    assert r.exit_code == 0, r.output
    n = GroundTruth.load(tmp_path / "t.json").total["events"]
    assert 14000 < n < 26000  # "about" N events: the session count comes from a pilot run


def test_cli_generate_needs_sessions_or_events(tmp_path):
    from rumq.cli import main

    with pytest.raises(SystemExit) as e:
        main(["generate", "--out", str(tmp_path / "x")])
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        main(["generate", "--sessions", "3", "--events", "9", "--out", str(tmp_path / "x")])
    assert e.value.code == 2
