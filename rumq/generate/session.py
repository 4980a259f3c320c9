"""The client simulator: visits -> sessions -> page loads -> RUM events.

It reproduces the web client's session semantics (aws-rum-web
``SessionManager``/``PageManager``/``EventCache``):

* cookie visitors keep a user id (``cwr_u``) across sessions; a session id
  lives while events keep coming: every event, recorded or dropped, slides the
  expiry to now + 30 minutes; the first page load after expiry starts a new
  session with a ``session_start_event`` and (the cookie being gone on a hard
  navigation) a landing page with interaction 0;
* within a session each page change increments ``interaction`` and records
  the parent page; ``pageInteractionId`` = ``pageId-interaction``;
* the metadata of every event carries the current page (pageId, title,
  interaction, parentPageId);
* ``eventCount`` counts every event of the session; events past the 200th are
  dropped by the client (the session goes on silently);
* cookieless visitors (``allowCookies: false``) send the nil user id, no
  interaction fields, and every page load is a new session;
* timestamps are whole seconds.

One ``Chunk`` simulates a fixed number of sessions of one application on one
day, from its own seeded random source, and hands every message to a sink.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Protocol

import orjson

from rumq.generate import events as ev
from rumq.generate.domains import page_domains
from rumq.generate.site import (
    BROWSER_ERROR_MULT,
    DEVICE_SAMPLER,
    DEVICE_SLOWDOWN,
    HOUR_WEIGHTS,
    PLACE_SAMPLER,
    REFERRER_SAMPLER,
    AppSpec,
    Page,
    raw_page,
)
from rumq.generate.truth import AppTruth

NIL_UUID = "00000000-0000-0000-0000-000000000000"
SESSION_SECONDS = 1800
EVENT_LIMIT = 200
#: share of cookie visits that are heavy (long, often capped) visits.
POWER_SHARE = 0.01
#: probability of a > 30 minute pause between two pages of a visit.
IDLE_RETURN = 0.03
#: in-page events happen within this many seconds of the page load.
ACTIVE_CAP = 1200.0
AB_GROUPS = ("control", "checkout-v2")


class Sink(Protocol):
    """Receives every recorded CloudWatch Logs message of a chunk.

    A sink that needs only the message text may also have ``lines``, a list
    the chunk appends each message to, UTF-8 encoded, instead of calling
    ``add`` (a Python call per event is a measurable share of the generator's
    time), and a ``drain()`` the chunk calls after every visit.
    """

    def add(self, ts_ms: int, log_stream: str, message: str) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ChunkSpec:
    """What one chunk simulates.

    Attributes:
        app: index into the run's application list.
        day: day index from the start date.
        part: chunk number within (app, day).
        sessions: exact number of sessions to produce.
        seed: run seed.
        start_epoch: epoch seconds of the run's first day (UTC midnight).
        days: number of days of the run.
        cookieless_share: probability a visit runs without cookies.
        users: size of the app's returning-user pool.
        page_groups: page views carry the site's page groups (``pageTags``).
        domains: two host names: the site's checkout pages on the second, the others on the first
            (``rumq.generate.domains``); () keeps the app's domain.
    """

    app: int
    day: int
    part: int
    sessions: int
    seed: int
    start_epoch: int
    days: int
    cookieless_share: float
    users: int
    page_groups: bool = False
    domains: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.seed}:{self.app}:{self.day}:{self.part}"


def split(total: int, weights) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder, exact sum)."""
    s = sum(weights)
    raw = [total * w / s for w in weights]
    out = [int(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - out[i]), i))
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


# UUIDv4 bits, as uuid.UUID(int=..., version=4) sets them: version nibble 4,
# variant bits 10.
_UUID_CLEAR = ~((0xF << 76) | (0xC << 60)) & ((1 << 128) - 1)
_UUID_SET = (0x4 << 76) | (0x8 << 60)


def uuid4(getrandbits) -> str:
    """A random UUIDv4 string from a seeded source (uuid.uuid4 is not seedable)."""
    # bytes.hex() is ~2.5x faster than formatting the int with :032x.
    h = ((getrandbits(128) & _UUID_CLEAR) | _UUID_SET).to_bytes(16).hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_s_cache: dict[str, str] = {}


def _s(x: str) -> str:
    """``x`` as a JSON string literal (page ids, titles, URLs repeat a lot: cached)."""
    v = _s_cache.get(x)
    if v is None:
        v = orjson.dumps(x).decode()
        if len(_s_cache) > 100_000:
            _s_cache.clear()
        _s_cache[x] = v
    return v


_ls_cache: dict[int, str] = {}
_user_cache: dict[tuple[int, str, int], tuple] = {}
_NO_FIRST = 1 << 62


def log_stream_of(ts_s: int) -> str:
    """The hourly log stream name ``YYYY-MM-DDTHH`` (UTC) of an epoch second."""
    h = ts_s // 3600
    name = _ls_cache.get(h)
    if name is None:
        name = time.strftime("%Y-%m-%dT%H", time.gmtime(h * 3600))
        if len(_ls_cache) > 100_000:
            _ls_cache.clear()
        _ls_cache[h] = name
    return name


class Chunk:
    """Simulates ``spec.sessions`` sessions of one app on one day."""

    def __init__(self, spec: ChunkSpec, app: AppSpec, sink: Sink) -> None:
        self.spec = spec
        self.app = app
        self.site = app.site
        self.sink = sink
        self.rng = random.Random(spec.key)
        # --domains: the metadata's domain per page pattern (None: the app's own everywhere)
        doms = page_domains(list(app.site.pages), app.site.groups, app.domain, spec.domains) if spec.domains else None
        self._own_domain = '"domain":' + _s(app.domain)
        self._domain = {p: '"domain":' + _s(d) for p, d in doms.items()} if doms else None
        self.truth = AppTruth(app.site.kind, app.site.groups if spec.page_groups else None, doms)
        # '"pageTags":[...],' per pattern, in the metadata of every event of the page
        self._tags = {pat: '"pageTags":' + orjson.dumps(list(g)).decode() + ","
                      for pat, g in app.site.groups.items()} if spec.page_groups else {}
        self._api = "https://api." + app.domain.split(".", 1)[1] if app.domain.count(".") >= 2 else "https://" + app.domain
        self._cdn = "https://cdn." + app.domain.split(".", 1)[1] if app.domain.count(".") >= 2 else "https://" + app.domain
        self._pages: dict[str, Page] = app.site.pages
        self._titles: dict[tuple[str, str], str] = {}
        # metadata text around the page fields, per visitor profile (a few hundred)
        self._md_cache: dict[tuple, tuple[str, str]] = {}
        # state of the current session
        self._count = 0
        self._dropped = 0
        #: (session id, user index or None) of the session being simulated
        self._cur: tuple[str, int | None] = ("", None)
        self._tail = ""
        self._last = 0.0
        # min/max event time; sentinels instead of None keep _emit's checks cheap
        self._first_ms = _NO_FIRST
        self._last_ms = -1
        # bound once: _emit runs for every event
        self._add = sink.add
        lines = getattr(sink, "lines", None)
        self._put = lines.append if lines is not None else None
        self._getrandbits = self.rng.getrandbits
        self._evc = self.truth.events
        self._js_url = f"https://{app.domain}/static/js/main.js"
        self._css_url = f"https://{app.domain}/static/css/main.css"
        self._font_url = f"{self._cdn}/fonts/inter-var.woff2"
        self._js_head = ev.resource_head(self._js_url, "script", 180.0)
        self._css_head = ev.resource_head(self._css_url, "link", 175.0)
        self._font_head = ev.resource_head(self._font_url, "css", 420.0)

    def _on_domain(self, post: str, page: Page) -> str:
        """The metadata tail with the domain ``page`` is served from (``--domains``)."""
        return post if self._domain is None else post.replace(self._own_domain, self._domain[page.pattern], 1)

    # -- driving -------------------------------------------------------------

    def run(self) -> AppTruth:
        for _ in self.iter_visits():
            pass
        return self.truth

    def iter_visits(self):
        """Simulate visit after visit until the session quota is met; yields
        after each visit (so callers can drain a buffering sink)."""
        spec = self.spec
        rng = self.rng
        day0 = spec.start_epoch + spec.day * 86400
        # Hour by hour (sessions per hour by the traffic curve), so the output
        # runs roughly in time order, as exports and Firehose objects do.
        drain = getattr(self.sink, "drain", None)
        for hour, budget in enumerate(split(spec.sessions, HOUR_WEIGHTS)):
            h0 = day0 + hour * 3600
            while budget > 0:
                t = h0 + rng.random() * 3600
                if rng.random() < spec.cookieless_share:
                    budget -= self._cookieless_visit(t, budget)
                else:
                    budget -= self._cookie_visit(t, budget)
                if drain is not None:
                    drain()
                yield None
        if self._last_ms >= 0:
            self.truth.first_ms = self._first_ms
            self.truth.last_ms = self._last_ms
        self.sink.close()

    # -- visitors --------------------------------------------------------------

    def _release(self, t: float) -> tuple[str, float]:
        spec = self.spec
        frac = (t - spec.start_epoch) / (spec.days * 86400)
        ver, mult = self.app.releases[0][0], self.app.releases[0][2]
        for v, start, m in self.app.releases:
            if frac >= start:
                ver, mult = v, m
        return ver, mult

    def _profile(self, rng: random.Random) -> tuple:
        dev = DEVICE_SAMPLER.draw(rng)
        place = PLACE_SAMPLER.draw(rng)
        sub = place[2][int(rng.random() * len(place[2]))]
        ab = AB_GROUPS[int(rng.random() * 2)]
        return dev, place, sub, ab

    def _user(self, idx: int) -> tuple:
        # A user depends only on (seed, app, idx): cached per process, since
        # seeding a Random from a string (sha512, 624 words) costs as much as
        # a dozen events and returning users come back in later chunks.
        key = (self.spec.seed, self.app.name, idx)
        u = _user_cache.get(key)
        if u is None:
            urng = random.Random(f"{self.spec.seed}:{self.app.name}:user:{idx}")
            uid = uuid4(urng.getrandbits)
            u = (uid,) + self._profile(urng)
            if len(_user_cache) > 40_000:
                _user_cache.clear()
            _user_cache[key] = u
        return u

    def _md_parts(self, prof: tuple) -> tuple[str, str]:
        parts = self._md_cache.get(prof)
        if parts is None:
            parts = self._md_cache[prof] = self._md_text(prof)
        return parts

    def _md_text(self, prof: tuple) -> tuple[str, str]:
        (bname, bver, osn, osv, dtype, _eng, _w), place, sub, ab = prof
        pre = (f'{{"version":"1.0.0","browserLanguage":{_s(place[0])},"browserName":{_s(bname)},'
               f'"browserVersion":{_s(bver)},"osName":{_s(osn)},"osVersion":{_s(osv)},'
               f'"deviceType":{_s(dtype)},"platformType":"web",')
        app = self.app
        custom = f'"abTest":"{ab}",' if self.site.custom_events else ""
        post = (f'"domain":{_s(app.domain)},"aws:client":"{app.client}","aws:clientVersion":"{app.client_version}",'
                f'{custom}"countryCode":"{place[1]}","subdivisionCode":{_s(sub)}}}')
        return pre, post

    def _path(self, power: bool) -> list[tuple[Page, str, str]]:
        """The pages of one visit: (page, id, raw page id); consecutive
        identical raw page ids are skipped (the client ignores them)."""
        rng = self.rng
        site = self.site
        pages = self._pages
        pattern = site.draw_entry(rng)
        out: list[tuple[Page, str, str]] = []
        prev = None
        exit_mult = 0.08 if power else 1.0
        max_pages = 30 if power else 40
        for _ in range(max_pages * 2):
            page = pages[pattern]
            pid = site.draw_id(rng, page) if page.ids else ""
            raw = raw_page(pattern, pid)
            if raw != prev:
                out.append((page, pid, raw))
                prev = raw
                if len(out) >= max_pages or rng.random() < page.exit * exit_mult:
                    break
            pattern = site.draw_next(rng, pattern)
        return out

    # -- sessions --------------------------------------------------------------

    def _cookie_visit(self, t: float, budget: int) -> int:
        rng = self.rng
        spec = self.spec
        idx = int(spec.users * rng.random() ** 2)
        user = self._user(idx)
        uid = user[0]
        prof = user[1:]
        pre, post = self._md_parts(prof)
        power = rng.random() < POWER_SHARE
        path = self._path(power)
        ver, err_mult = self._release(t)
        made = 0
        sid = None
        last_pv = t
        interaction = 0
        parent_raw = ""
        parent_start = 0.0
        prev_url = ""
        raws: list[str] = []
        pats: list[str] = []
        flags = [False, False]
        q_ver = _s(ver)
        q_domain = _s(self.app.domain)
        for i, (page, pid, raw) in enumerate(path):
            q_raw = _s(raw)
            new = sid is None or t - self._last > SESSION_SECONDS
            if new:
                if sid is not None:
                    self.truth.session(raws, pats, flags[0], flags[1], True, self._dropped)
                    self.truth.user_session_end(idx, last_pv)
                if made == budget:
                    sid = None
                    break
                made += 1
                sid = uuid4(rng.getrandbits)
                self._count = 0
                self._dropped = 0
                self._last = t
                interaction = 0
                raws, pats, flags = [], [], [False, False]
                self.truth.user_session(idx, t)
                self._cur = (sid, idx)
                if prev_url:
                    ref, ref_dom = prev_url, self.app.domain
                else:
                    ref, ref_dom, _ = REFERRER_SAMPLER.draw(rng)
                pv = (f'{{"version":"1.0.0","pageId":{q_raw},"interaction":0,"pageInteractionId":{_s(raw + "-0")},'
                      f'"referrer":{_s(ref)},"referrerDomain":{_s(ref_dom)}}}')
                page_md = f'"pageId":{q_raw},"interaction":0,"title":{self._title(page, pid)},{self._tags.get(page.pattern, "")}'
            else:
                interaction += 1
                pv = (f'{{"version":"1.0.0","pageId":{q_raw},"interaction":{interaction},'
                      f'"pageInteractionId":{_s(f"{raw}-{interaction}")},'
                      f'"parentPageInteractionId":{_s(f"{parent_raw}-{interaction - 1}")},'
                      f'"timeOnParentPage":{int((t - parent_start) * 1000)},'
                      f'"referrer":{_s(prev_url)},"referrerDomain":{q_domain}}}')
                page_md = (f'"pageId":{q_raw},"interaction":{interaction},"parentPageId":{_s(parent_raw)},'
                           f'"title":{self._title(page, pid)},{self._tags.get(page.pattern, "")}')
            self._tail = (f',"application_id":"{self.app.id}","application_version":{q_ver},'
                          f'"metadata":{pre}{page_md}{self._on_domain(post, page)},'
                          f'"user_details":{{"sessionId":"{sid}","userId":"{uid}"}},"event_details":')
            if new:
                self._emit(t, ev.T_SESSION_START, ev.SESSION_START_DETAILS)
            if self._emit(t, ev.T_PAGE_VIEW, pv):
                raws.append(raw)
                pats.append(page.pattern)
                last_pv = t
            nxt = path[i + 1][0].pattern if i + 1 < len(path) else None
            dwell = ev.lognormal(rng, page.dwell, 0.9)
            active = min(dwell, ACTIVE_CAP)
            self._page_events(t, active, page, pid, prof, new, err_mult, nxt, flags)
            parent_raw, parent_start = raw, t
            prev_url = f"https://{self.app.domain}{raw}"
            t = t + dwell
            if rng.random() < IDLE_RETURN:
                t += 1860 + rng.random() * 5400
        if sid is not None:
            self.truth.session(raws, pats, flags[0], flags[1], True, self._dropped)
            self.truth.user_session_end(idx, last_pv)
        return made

    def _cookieless_visit(self, t: float, budget: int) -> int:
        rng = self.rng
        prof = self._profile(rng)
        pre, post = self._md_parts(prof)
        path = self._path(False)
        ver, err_mult = self._release(t)
        made = 0
        for page, pid, raw in path:
            if made == budget:
                break
            made += 1
            sid = uuid4(rng.getrandbits)
            self._count = 0
            self._dropped = 0
            self._last = t
            flags = [False, False]
            self._cur = (sid, None)
            q_raw = _s(raw)
            page_md = f'"pageId":{q_raw},"title":{self._title(page, pid)},{self._tags.get(page.pattern, "")}'
            self._tail = (f',"application_id":"{self.app.id}","application_version":{_s(ver)},'
                          f'"metadata":{pre}{page_md}{self._on_domain(post, page)},'
                          f'"user_details":{{"sessionId":"{sid}","userId":"{NIL_UUID}"}},"event_details":')
            self._emit(t, ev.T_SESSION_START, ev.SESSION_START_DETAILS)
            recorded = self._emit(t, ev.T_PAGE_VIEW, f'{{"version":"1.0.0","pageId":{q_raw}}}')
            dwell = ev.lognormal(rng, page.dwell, 0.9)
            self._page_events(t, min(dwell, ACTIVE_CAP), page, pid, prof, True, err_mult, None, flags)
            self.truth.session([raw] if recorded else [], [page.pattern] if recorded else [],
                               flags[0], flags[1], False, self._dropped)
            t = t + dwell
        return made

    def _title(self, page: Page, pid: str) -> str:
        """The page title as a JSON string literal."""
        key = (page.pattern, pid)
        title = self._titles.get(key)
        if title is None:
            title = orjson.dumps(page.title.format(id=pid[:8]) if pid else page.title).decode()
            if len(self._titles) > 50000:
                self._titles.clear()
            self._titles[key] = title
        return title

    # -- events ---------------------------------------------------------------

    def _emit(self, t: float, etype: str, details: str, eid: str | None = None) -> bool:
        """Record one event in the current session; False when the client
        drops it (the session already has 200 events)."""
        count = self._count = self._count + 1
        if t > self._last:
            self._last = t
        if count > EVENT_LIMIT:
            self._dropped += 1
            return False
        ts = int(t + 0.5)
        ts_ms = ts * 1000
        ls = _ls_cache.get(ts // 3600) or log_stream_of(ts)
        if eid is None:
            # uuid4() inlined into the message (no separate id string): this
            # is the hottest line of the generator.
            h = ((self._getrandbits(128) & _UUID_CLEAR) | _UUID_SET).to_bytes(16).hex()
            msg = (f'{{"event_timestamp":{ts_ms},"event_type":"{etype}",'
                   f'"event_id":"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}",'
                   f'"event_version":"1.0.0","log_stream":"{ls}"{self._tail}{details}}}')
        else:
            msg = (f'{{"event_timestamp":{ts_ms},"event_type":"{etype}","event_id":"{eid}",'
                   f'"event_version":"1.0.0","log_stream":"{ls}"{self._tail}{details}}}')
        put = self._put
        if put is not None:
            put(msg.encode())
        else:
            self._add(ts_ms, ls, msg)
        evc = self._evc
        evc[etype] = evc.get(etype, 0) + 1
        if ts_ms < self._first_ms:
            self._first_ms = ts_ms
        if ts_ms > self._last_ms:
            self._last_ms = ts_ms
        return True

    def _page_events(self, t0: float, active: float, page: Page, pid: str, prof: tuple, first: bool,
                     err_mult: float, nxt: str | None, flags: list[bool]) -> None:
        """Everything one page load records after its page view: resources,
        navigation timing, vitals, HTTP calls, JS errors, custom events, and
        the page-hide vitals (CLS, INP)."""
        rng = self.rng
        r = rng.random
        emit = self._emit
        (bname, _bv, _os, _osv, dtype, engine, _w), place, _sub, _ab = prof
        net = place[3]
        slow = DEVICE_SLOWDOWN.get(dtype, 1.0)
        vitals = ev.ENGINE_VITALS[engine]
        domain = self.app.domain
        nav_json, resp_start, load_ms = ev.navigation(rng, net, slow, first)
        load_s = load_ms / 1000.0
        # resources: scripts, styles and fonts always; images sampled; <= 10
        emit(t0 + 0.3, ev.T_RESOURCE, ev.resource_tail(rng, self._js_head, "script", net))
        emit(t0 + 0.3, ev.T_RESOURCE, ev.resource_tail(rng, self._css_head, "stylesheet", net))
        if r() < 0.5:
            emit(t0 + 0.5, ev.T_RESOURCE, ev.resource_tail(rng, self._font_head, "font", net))
        n_img = int(r() * 4)
        img_url = ""
        for k in range(n_img):
            img_url = f"{self._cdn}/img/{pid or 'hero'}-{k}.webp"
            emit(t0 + load_s * r(), ev.T_RESOURCE, ev.resource(rng, img_url, "img", "image", net, round(300 + r() * load_ms, 1)))
        nav_id = uuid4(rng.getrandbits)
        emit(t0 + load_s, ev.T_NAVIGATION, nav_json, nav_id)
        ttfb = resp_start
        fcp = round(ttfb + ev.lognormal(rng, 380, 0.45) * slow, 1)
        if "ttfb" in vitals:
            emit(t0 + ttfb / 1000, ev.T_TTFB, ev.vital_ttfb(ttfb, rng))
        if "fcp" in vitals:
            emit(t0 + fcp / 1000, ev.T_FCP, ev.vital_fcp(fcp, ttfb))
        if "lcp" in vitals:
            lcp = round(max(fcp + 20, ev.lognormal(rng, page.lcp, 0.45) * slow * (0.6 + 0.4 * net)), 1)
            emit(t0 + lcp / 1000, ev.T_LCP, ev.vital_lcp(lcp, ttfb, "img.hero" if img_url else "h1", img_url, nav_id))
        # API calls
        api = self._api
        record_all = self.site.record_all_requests
        for e in page.endpoints:
            if e.prob < 1.0 and r() >= e.prob:
                continue
            url = api + (e.path.format(id=pid) if pid else e.path)
            det, bad, _status = ev.http(rng, e.method, url, e.p4xx, e.p5xx, e.pnet)
            if (record_all or bad) and emit(t0 + load_s * (0.3 + r()), ev.T_HTTP, det) and bad:
                flags[1] = True
        # JS errors: per page, browser and release
        p_err = page.js_error * BROWSER_ERROR_MULT.get(bname, 1.0) * err_mult
        if r() < p_err:
            n = 2 if r() < 0.25 else 1
            for _ in range(n):
                if emit(t0 + r() * active, ev.T_JS_ERROR, ev.js_error(rng, engine, domain, pid)):
                    flags[0] = True
        if self.site.custom_events:
            self._custom(t0, active, page, pid, nxt)
        interacted = r() < 0.65
        if interacted and "fid" in vitals:
            emit(t0 + min(active, 2 + r() * 20), ev.T_FID, ev.vital_fid(rng, slow))
        if "cls" in vitals:
            emit(t0 + active, ev.T_CLS, ev.vital_cls(rng, (0.09 if page.pattern.startswith("/product") else 0.025) * slow))
        if interacted and "inp" in vitals:
            emit(t0 + active, ev.T_INP, ev.vital_inp(rng, slow))

    def _custom_emit(self, t: float, etype: str, details: str) -> None:
        if self._emit(t, etype, details):
            self.truth.custom_event(etype, *self._cur)

    def _custom(self, t0: float, active: float, page: Page, pid: str, nxt: str | None) -> None:
        rng = self.rng
        pat = page.pattern
        if pat == "/product/:id" and nxt == "/cart":
            det = orjson.dumps({"productId": int(pid), "quantity": 1 + int(rng.random() ** 3 * 3),
                                "price": round(5 + rng.random() * 195, 2), "currency": "EUR"}).decode()
            self._custom_emit(t0 + active * 0.9, "com.example.shop.add_to_cart", det)
        elif pat == "/search":
            det = orjson.dumps({"queryLength": 3 + int(rng.random() * 20),
                                "results": int(rng.random() ** 2 * 400)}).decode()
            self._custom_emit(t0 + 2 + rng.random() * 3, "com.example.shop.search", det)
        elif pat == "/confirmation":
            det = orjson.dumps({"orderValue": round(15 + rng.random() * 400, 2), "currency": "EUR",
                                "items": 1 + int(rng.random() ** 2 * 6)}).decode()
            self._custom_emit(t0 + 1, "com.example.shop.purchase", det)
