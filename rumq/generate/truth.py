"""Ground truth: the true numbers of a generated dataset, counted while generating.

Definitions (also in docs/generator.md; the analyses are tested against them):

* Only *recorded* events count: events the web client dropped after the
  200-event session cap are not in the output and not in the truth.
* A *session* is a session id. Cookie sessions carry a user id; cookieless
  sessions (nil user id) are one page load each.
* *Entry page* = the first recorded page view of a session (interaction 0 for
  cookie sessions); *exit page* = the last recorded page view.
* *Transitions*: the session's page-view sequence with consecutive repeats of
  the same page collapsed (at the level counted: raw page id, or pattern such
  as ``/product/:id``), framed by ``(entry)`` and ``(exit)``; every adjacent
  pair counts once per occurrence.
* *Error sessions*: sessions with >= 1 ``js_error_event`` (js), >= 1
  ``http_event`` with status >= 400 or no response (http), or either (any).
* *Funnel* (sequential): a session reaches step k when its page-view pattern
  sequence contains steps 1..k in that order (other pages may come between).
* *Users* (``users``): the user ids of cookie sessions. A user is *new* on
  the UTC day of their first session (the session's first event); a day's
  users are those with a session starting that day. ``users_by_day`` gives per
  day users, new users and cookie sessions; ``users_active_from_day[k]`` and
  ``sessions_from_day[k]`` the distinct users and the cookie sessions with a
  page view on day k or later (what a window starting on day k holds: a
  session that began the day before counts there; its new users are the new
  users of days >= k, the rest return);
  ``retention_by_day`` per cohort day the cohort's users and, for each day
  from the cohort's to the last, how many of them had a session that day.
* *Page groups* (``page_groups``, runs with page groups only): per group (a
  tag of the page view's ``pageTags``; ``(none)`` for a page without), page
  views, sessions with one, entries, exits, bounces (one-page sessions) and
  error sessions, as ``pages/groups`` counts them; a page view in two groups
  counts in both.
* *Custom events* (``custom_events``): per custom event type (outside
  ``com.amazon.rum.*``), the recorded events, the distinct sessions (cookie and
  cookieless) and users that sent one.
* *Domains* (``domains``, runs with ``--domains`` only): ``pages`` maps each
  page pattern to the domain its events carry; ``sessions_by_domains`` counts
  the sessions per set of domains their page views touched (sorted,
  comma-separated, as ``sessions/list`` shows them); ``cross_domain_sessions``
  those with two or more; ``cross_domain_transitions`` the transitions (at
  the pattern level, as above) between pages on two different domains, with
  each page written ``domain + pattern`` as ``by_domain`` qualifies it.
* Session-based figures are given for cookie sessions (the default of
  session-based queries) and again under ``all_sessions`` with cookieless
  sessions included.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

#: The first key of every ground-truth document (its value: the document's
#: version). ``rumq ingest`` recognizes the file by it and skips it
#: (``rumq.ingest.readers.TRUTH_MARKER``), so a folder holding exports and
#: their truth files ingests cleanly.
MARKER = "rumq_ground_truth"
MARKER_VERSION = 1

ENTRY = "(entry)"
EXIT = "(exit)"

#: Checkout funnel per site kind (page patterns).
FUNNELS: dict[str, tuple[str, ...]] = {
    "shop": ("/product/:id", "/cart", "/checkout", "/confirmation"),
    "help": ("/articles/:id", "/contact", "/contact/sent"),
}


class _Population:
    """Session-level counters for one population of sessions."""

    def __init__(self, steps: tuple[str, ...], groups: dict[str, tuple[str, ...]] | None = None,
                 domains: dict[str, str] | None = None) -> None:
        self.sessions = 0
        #: pattern -> domain (None: the run has no --domains)
        self.domains = domains
        self.domain_sets: Counter[str] = Counter()
        self.cross_trans: Counter[tuple[str, str]] = Counter()
        #: pattern -> page groups (None: the run has no page groups)
        self.groups = groups
        #: group -> [page views, sessions, entries, exits, bounces, error sessions]
        self.by_group: dict[str, list[int]] = {}
        self.views_raw: Counter[str] = Counter()
        self.views_pat: Counter[str] = Counter()
        self.entries_raw: Counter[str] = Counter()
        self.entries_pat: Counter[str] = Counter()
        self.exits_raw: Counter[str] = Counter()
        self.exits_pat: Counter[str] = Counter()
        self.trans_raw: Counter[tuple[str, str]] = Counter()
        self.trans_pat: Counter[tuple[str, str]] = Counter()
        self.err_js = 0
        self.err_http = 0
        self.err_any = 0
        self.steps = steps
        self.funnel = [0] * len(steps)

    def add(self, raws: list[str], pats: list[str], js: bool, http: bool) -> None:
        self.sessions += 1
        if js:
            self.err_js += 1
        if http:
            self.err_http += 1
        if js or http:
            self.err_any += 1
        if not raws:
            return
        self.views_raw.update(raws)
        self.views_pat.update(pats)
        if self.groups is not None:
            self._add_groups(pats, js or http)
        if self.domains is not None:
            self._add_domains(pats)
        self.entries_raw[raws[0]] += 1
        self.entries_pat[pats[0]] += 1
        self.exits_raw[raws[-1]] += 1
        self.exits_pat[pats[-1]] += 1
        for seq, counter in ((raws, self.trans_raw), (pats, self.trans_pat)):
            prev = ENTRY
            for p in seq:
                if p != prev:
                    counter[(prev, p)] += 1
                    prev = p
            counter[(prev, EXIT)] += 1
        steps = self.steps
        j = 0
        n = len(steps)
        for p in pats:
            if j < n and p == steps[j]:
                j += 1
        for k in range(j):
            self.funnel[k] += 1

    def _add_domains(self, pats: list[str]) -> None:
        doms = self.domains
        assert doms is not None
        self.domain_sets[",".join(sorted({doms[p] for p in pats}))] += 1
        for a, b in zip(pats, pats[1:], strict=False):  # consecutive repeats have one domain: no edge
            if doms[a] != doms[b]:
                self.cross_trans[(doms[a] + a, doms[b] + b)] += 1

    def _add_groups(self, pats: list[str], error: bool) -> None:
        def of(pat: str) -> tuple[str, ...]:
            return tuple(dict.fromkeys(self.groups.get(pat, ()))) or ("(none)",)  # type: ignore[union-attr]

        seen: set[str] = set()
        for pat in pats:
            for g in of(pat):
                self.by_group.setdefault(g, [0] * 6)[0] += 1
                seen.add(g)
        for g in seen:
            self.by_group[g][1] += 1
            if error:
                self.by_group[g][5] += 1
        for g in of(pats[0]):
            self.by_group[g][2] += 1
            if len(pats) == 1:
                self.by_group[g][4] += 1
        for g in of(pats[-1]):
            self.by_group[g][3] += 1

    def merge(self, o: _Population) -> None:
        self.sessions += o.sessions
        for g, v in o.by_group.items():
            mine = self.by_group.setdefault(g, [0] * 6)
            for i, n in enumerate(v):
                mine[i] += n
        for a in ("views_raw", "views_pat", "entries_raw", "entries_pat", "exits_raw", "exits_pat",
                  "trans_raw", "trans_pat", "domain_sets", "cross_trans"):
            getattr(self, a).update(getattr(o, a))
        self.err_js += o.err_js
        self.err_http += o.err_http
        self.err_any += o.err_any
        self.funnel = [a + b for a, b in zip(self.funnel, o.funnel, strict=True)]

    def to_json(self) -> dict[str, Any]:
        def pages(views: Counter, entries: Counter, exits: Counter) -> dict[str, dict[str, int]]:
            return {p: {"views": views[p], "entries": entries[p], "exits": exits[p]} for p in sorted(views)}

        def trans(c: Counter) -> list[dict[str, Any]]:
            return [{"from": a, "to": b, "count": n} for (a, b), n in sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))]

        return {
            "sessions": self.sessions,
            "pages": {"pattern": pages(self.views_pat, self.entries_pat, self.exits_pat),
                      "raw": pages(self.views_raw, self.entries_raw, self.exits_raw)},
            "transitions": {"pattern": trans(self.trans_pat), "raw": trans(self.trans_raw)},
            "error_sessions": {"js": self.err_js, "http": self.err_http, "any": self.err_any},
            "funnel": {"steps": list(self.steps), "sessions": list(self.funnel)},
            **({"page_groups": {g: dict(zip(("page_views", "sessions", "entries", "exits", "bounces",
                                                "error_sessions"), v, strict=True))
                                for g, v in sorted(self.by_group.items())}} if self.groups is not None else {}),
            **({"domains": {"pages": dict(sorted(self.domains.items())),
                            "sessions_by_domains": dict(sorted(self.domain_sets.items())),
                            "cross_domain_sessions": sum(n for k, n in self.domain_sets.items() if "," in k),
                            "cross_domain_transitions": trans(self.cross_trans)}} if self.domains is not None else {}),
        }


class AppTruth:
    """Everything counted for one application (mergeable across chunks)."""

    def __init__(self, site_kind: str, groups: dict[str, tuple[str, ...]] | None = None,
                 domains: dict[str, str] | None = None) -> None:
        self.site_kind = site_kind
        steps = FUNNELS.get(site_kind, ())
        self.groups = groups
        self.domains = domains
        self.cookie = _Population(steps, groups, domains)
        self.cookieless = _Population(steps, groups, domains)
        self.events: Counter[str] = Counter()
        self.dropped = 0
        self.capped_sessions = 0
        self.users: set[int] = set()
        #: user index -> UTC days (days since the epoch) on which one of their cookie sessions starts
        self.user_days: dict[int, set[int]] = {}
        #: UTC day -> cookie sessions starting that day
        self.session_days: Counter[int] = Counter()
        #: user index -> UTC day of their last recorded page view
        self.user_last_day: dict[int, int] = {}
        #: custom event type -> [recorded events, session ids, user indexes (cookie sessions)]
        self.custom: dict[str, list[Any]] = {}
        #: UTC day -> cookie sessions whose last recorded page view is that day
        self.session_last_days: Counter[int] = Counter()
        self.first_ms: int | None = None
        self.last_ms: int | None = None

    def session(self, raws: list[str], pats: list[str], js: bool, http: bool, cookie: bool, dropped: int) -> None:
        (self.cookie if cookie else self.cookieless).add(raws, pats, js, http)
        if dropped:
            self.dropped += dropped
            self.capped_sessions += 1

    def user_session(self, idx: int, start_s: float) -> None:
        """A cookie session of user ``idx`` starting at ``start_s`` (epoch seconds)."""
        day = int(start_s + 0.5) // 86400  # the event time as written: rounded to the second
        self.users.add(idx)
        self.user_days.setdefault(idx, set()).add(day)
        self.session_days[day] += 1

    def custom_event(self, etype: str, session_id: str, user: int | None) -> None:
        """A recorded custom event of ``session_id`` (user index, None when cookieless)."""
        c = self.custom.get(etype)
        if c is None:
            c = self.custom[etype] = [0, set(), set()]
        c[0] += 1
        c[1].add(session_id)
        if user is not None:
            c[2].add(user)

    def user_session_end(self, idx: int, last_page_view_s: float) -> None:
        """The end of a cookie session of user ``idx`` whose last page view was at ``last_page_view_s``."""
        day = int(last_page_view_s + 0.5) // 86400
        self.user_last_day[idx] = max(day, self.user_last_day.get(idx, day))
        self.session_last_days[day] += 1

    def merge(self, o: AppTruth) -> None:
        self.cookie.merge(o.cookie)
        for idx, day in o.user_last_day.items():
            self.user_last_day[idx] = max(day, self.user_last_day.get(idx, day))
        self.session_last_days.update(o.session_last_days)
        for etype, (n, sids, users) in o.custom.items():
            c = self.custom.setdefault(etype, [0, set(), set()])
            c[0] += n
            c[1] |= sids
            c[2] |= users
        for idx, days in o.user_days.items():
            self.user_days.setdefault(idx, set()).update(days)
        self.session_days.update(o.session_days)
        self.cookieless.merge(o.cookieless)
        self.events.update(o.events)
        self.dropped += o.dropped
        self.capped_sessions += o.capped_sessions
        self.users |= o.users
        for attr, fn in (("first_ms", min), ("last_ms", max)):
            a, b = getattr(self, attr), getattr(o, attr)
            setattr(self, attr, b if a is None else (a if b is None else fn(a, b)))

    def to_json(self) -> dict[str, Any]:
        both = _Population(self.cookie.steps, self.groups, self.domains)
        both.merge(self.cookie)
        both.merge(self.cookieless)
        pv_cookie = sum(self.cookie.views_raw.values())
        pv_less = sum(self.cookieless.views_raw.values())
        out: dict[str, Any] = {
            "events": sum(self.events.values()),
            "events_by_type": dict(sorted(self.events.items())),
            "events_dropped_by_cap": self.dropped,
            "sessions_capped": self.capped_sessions,
            "first_event_ms": self.first_ms,
            "last_event_ms": self.last_ms,
            "sessions": {"total": both.sessions, "cookie": self.cookie.sessions,
                         "cookieless": self.cookieless.sessions},
            "users": len(self.users),
            "page_views": {"total": pv_cookie + pv_less, "cookie": pv_cookie, "cookieless": pv_less},
            "coverage": round(pv_cookie / (pv_cookie + pv_less), 6) if pv_cookie + pv_less else None,
        }
        out.update(self._users_json())
        out["custom_events"] = {t: {"events": n, "sessions": len(sids), "users": len(users)}
                                for t, (n, sids, users) in sorted(self.custom.items())}
        c = self.cookie.to_json()
        del c["sessions"]
        out.update(c)
        a = both.to_json()
        del a["sessions"]
        out["all_sessions"] = a
        return out


    def _users_json(self) -> dict[str, Any]:
        import datetime as dt

        if not self.user_days:
            return {"users_by_day": [], "users_active_from_day": [], "sessions_from_day": [],
                    "retention_by_day": []}
        days = range(min(min(d) for d in self.user_days.values()),
                     max(max(self.user_last_day.values()), max(max(d) for d in self.user_days.values())) + 1)
        first = {idx: min(d) for idx, d in self.user_days.items()}
        active: Counter[int] = Counter(day for d in self.user_days.values() for day in d)
        new: Counter[int] = Counter(first.values())

        def iso(day: int) -> str:
            return (dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat()

        by_day = [{"day": iso(d), "users": active[d], "new_users": new[d], "sessions": self.session_days[d]}
                  for d in days]
        from_day = [sum(1 for last in self.user_last_day.values() if last >= d) for d in days]
        sessions_from = [sum(n for day, n in self.session_last_days.items() if day >= d) for d in days]
        retention = []
        for c in days:
            members = [idx for idx, f in first.items() if f == c]
            if members:
                retention.append({"cohort": iso(c), "users": len(members),
                                  "active": [sum(1 for idx in members if d in self.user_days[idx])
                                             for d in range(c, days[-1] + 1)]})
        return {"users_by_day": by_day, "users_active_from_day": from_day, "sessions_from_day": sessions_from,
                "retention_by_day": retention}


@dataclass
class GroundTruth:
    """The true numbers of one ``generate`` run.

    Attributes:
        data: the JSON document (``params``, ``apps`` keyed by app monitor
            name, ``total``).
        path: where it was written (None when not written).
    """

    data: dict[str, Any]
    path: Path | None = None
    files: list[Path] = field(default_factory=list)

    @property
    def total(self) -> dict[str, Any]:
        return self.data["total"]

    def app(self, name: str) -> dict[str, Any]:
        """The figures of one application, by app monitor name."""
        return self.data["apps"][name]

    @classmethod
    def load(cls, path: str | Path) -> GroundTruth:
        """Read a ground-truth file written by ``generate``."""
        p = Path(path)
        return cls(orjson.loads(p.read_bytes()), p)


def build(params: dict[str, Any], apps: list[tuple[Any, AppTruth]]) -> dict[str, Any]:
    """Assemble the ground-truth document from per-app accumulators.

    Args:
        params: the generation parameters (recorded for reproduction).
        apps: (AppSpec, merged AppTruth) pairs.
    """
    doc: dict[str, Any] = {MARKER: MARKER_VERSION, "params": params, "apps": {}}
    for spec, acc in apps:
        d = {"application_id": spec.id, "log_group": spec.log_group, "domain": spec.domain,
             "site": spec.site.kind}
        d.update(acc.to_json())
        doc["apps"][spec.name] = d
    # Totals: counts add up; pages, transitions and funnels are per site, so
    # the total keeps only the additive figures.
    keys_sum = ("events", "events_dropped_by_cap", "sessions_capped", "users")
    t: dict[str, Any] = {k: sum(a[k] for a in doc["apps"].values()) for k in keys_sum}
    ev: Counter[str] = Counter()
    for a in doc["apps"].values():
        ev.update(a["events_by_type"])
    t["events_by_type"] = dict(sorted(ev.items()))
    for k in ("sessions", "page_views"):
        t[k] = {kk: sum(a[k][kk] for a in doc["apps"].values()) for kk in ("total", "cookie", "cookieless")}
    for pop in ("cookie", "all"):
        src = [a["error_sessions"] if pop == "cookie" else a["all_sessions"]["error_sessions"]
               for a in doc["apps"].values()]
        t.setdefault("error_sessions" if pop == "cookie" else "all_sessions", {})
        es = {k: sum(s[k] for s in src) for k in ("js", "http", "any")}
        if pop == "cookie":
            t["error_sessions"] = es
        else:
            t["all_sessions"] = {"error_sessions": es}
    pv = t["page_views"]
    t["coverage"] = round(pv["cookie"] / pv["total"], 6) if pv["total"] else None
    firsts = [a["first_event_ms"] for a in doc["apps"].values() if a["first_event_ms"] is not None]
    lasts = [a["last_event_ms"] for a in doc["apps"].values() if a["last_event_ms"] is not None]
    t["first_event_ms"] = min(firsts) if firsts else None
    t["last_event_ms"] = max(lasts) if lasts else None
    doc["total"] = t
    return doc
