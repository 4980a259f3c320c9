"""Event bodies (``event_details``) as the RUM web client builds them.

Each builder returns the JSON text of the details object (compact, key order
as the client writes it). Values are drawn from per-page, per-device and
per-place distributions so that analyses have something to find.
"""

from __future__ import annotations

import math
import random
import statistics

import orjson

from rumq.generate.site import Sampler

T_SESSION_START = "com.amazon.rum.session_start_event"
T_PAGE_VIEW = "com.amazon.rum.page_view_event"
T_NAVIGATION = "com.amazon.rum.performance_navigation_event"
T_RESOURCE = "com.amazon.rum.performance_resource_event"
T_LCP = "com.amazon.rum.largest_contentful_paint_event"
T_FCP = "com.amazon.rum.first_contentful_paint_event"
T_CLS = "com.amazon.rum.cumulative_layout_shift_event"
T_INP = "com.amazon.rum.interaction_to_next_paint_event"
T_FID = "com.amazon.rum.first_input_delay_event"
T_TTFB = "com.amazon.rum.time_to_first_byte_event"
T_JS_ERROR = "com.amazon.rum.js_error_event"
T_HTTP = "com.amazon.rum.http_event"

#: Which vitals each browser engine reports (Safari has no LCP/CLS/INP/FID,
#: Firefox no CLS/INP).
ENGINE_VITALS = {
    "blink": frozenset({"lcp", "fcp", "ttfb", "cls", "inp", "fid"}),
    "gecko": frozenset({"lcp", "fcp", "ttfb", "fid"}),
    "webkit": frozenset({"fcp", "ttfb"}),
}

SESSION_START_DETAILS = '{"version":"1.0.0"}'

_dumps = orjson.dumps


# A table of standard normal quantiles: one uniform draw and an index is much
# cheaper than ``random.gauss`` in the hot loop, and 4096 levels are plenty.
_Z = [statistics.NormalDist().inv_cdf((i + 0.5) / 4096) for i in range(4096)]
_exp = math.exp


def _nums(*xs: float) -> list[str]:
    """``str()`` of each number, exactly as an f-string writes it, via orjson
    (float repr costs ~1.5 us each and dominated the generator).

    orjson writes the same shortest round-trip digits as ``repr`` except that
    ``repr`` switches to exponent form below 1e-4 (``1e-05`` vs ``0.00001``),
    so any output with an exponent or a run of leading zeros falls back to
    ``repr`` (false positives such as ``10.00001`` only cost speed).
    """
    # Tested on the str: ``bytes in bytes`` first tries the needle as an
    # integer and raises (and swallows) a TypeError each time.
    s = _dumps(xs).decode()
    if "e" in s or "0.0000" in s:
        return [f"{x}" for x in xs]
    return s[1:-1].split(",")


def lognormal(rng: random.Random, median: float, sigma: float) -> float:
    """A lognormal draw with the given median."""
    return median * _exp(sigma * _Z[int(rng.random() * 4096)])


def navigation(rng: random.Random, net: float, slow: float, first_in_session: bool) -> tuple[str, float, float]:
    """A ``performance_navigation_event`` details text.

    Times are DOMHighResTimeStamp-like floats (not rounded, as browsers send
    them), each mark consistent with the steps before it.

    Args:
        rng: random source.
        net: network slowdown of the visitor's place (1 = fast).
        slow: device slowdown (1 = desktop).
        first_in_session: cold connection (DNS, TCP, TLS) when true.

    Returns:
        (details JSON, responseStart ms (TTFB as web-vitals measures it),
        duration ms (page load time)).
    """
    r = rng.random
    # lognormal(rng, m, sd) inlined as m * e(sd * z[int(r() * 4096)]): this runs once per page load
    z = _Z
    e = _exp
    x = r()
    nav_type = "navigate" if x < 0.9 else ("reload" if x < 0.95 else "back_forward")
    redirect = 40 * e(0.5 * z[int(r() * 4096)]) * net if r() < 0.04 else 0
    fetch_start = redirect + 1.5 + r() * 3
    cold = first_in_session or r() < 0.15
    dns = 18 * e(0.6 * z[int(r() * 4096)]) * net if cold else 0
    connect = 35 * e(0.5 * z[int(r() * 4096)]) * net if cold else 0
    tls = connect * 0.55
    connect_start = fetch_start + dns
    request_start = connect_start + connect + 0.6
    ttfb = 120 * e(0.45 * z[int(r() * 4096)]) * net
    response_start = request_start + ttfb
    response_time = 25 * e(0.6 * z[int(r() * 4096)]) * net
    response_end = response_start + response_time
    dom_interactive = response_end + 260 * e(0.45 * z[int(r() * 4096)]) * slow
    dcl_start = dom_interactive + r() * 4
    dcl = 6 * e(0.8 * z[int(r() * 4096)]) * slow
    dom_complete = dcl_start + dcl + 420 * e(0.55 * z[int(r() * 4096)]) * slow
    load_time = r() * 6 * slow
    duration = dom_complete + load_time
    transfer = 0 if nav_type == "back_forward" else int(18000 * e(0.4 * z[int(r() * 4096)]))
    header = 300 + int(r() * 400) if transfer else 0
    proto = "h2" if r() < 0.8 else "h3"
    (s_redirect, s_fetch, s_dns, s_cstart, s_connect, s_secure, s_tls, s_req, s_ttfb, s_resp, s_rtime, s_di,
     s_dcl_start, s_dcl, s_dc, s_dpt, s_load, s_dur, s_ratio) = _nums(
        redirect, fetch_start, dns, connect_start, connect, connect_start + connect - tls if cold else 0, tls,
        request_start, ttfb, response_start, response_time, dom_interactive, dcl_start, dcl, dom_complete,
        dom_complete - response_end, load_time, duration, 2.5 + r() * 2)
    details = (
        f'{{"version":"1.0.0","initiatorType":"navigation","navigationType":"{nav_type}","startTime":0,'
        f'"unloadEventStart":0,"promptForUnload":0,"redirectCount":{1 if redirect else 0},"redirectStart":0,'
        f'"redirectTime":{s_redirect},"workerStart":0,"workerTime":0,"fetchStart":{s_fetch},'
        f'"domainLookupStart":{s_fetch},"dns":{s_dns},"nextHopProtocol":"{proto}",'
        f'"connectStart":{s_cstart},"connect":{s_connect},'
        f'"secureConnectionStart":{s_secure},"tlsTime":{s_tls},'
        f'"requestStart":{s_req},"timeToFirstByte":{s_ttfb},"responseStart":{s_resp},'
        f'"responseTime":{s_rtime},"domInteractive":{s_di},'
        f'"domContentLoadedEventStart":{s_dcl_start},"domContentLoaded":{s_dcl},"domComplete":{s_dc},'
        f'"domProcessingTime":{s_dpt},"loadEventStart":{s_dc},'
        f'"loadEventTime":{s_load},"duration":{s_dur},"headerSize":{header},'
        f'"transferSize":{transfer + header},"compressionRatio":{s_ratio},"navigationTimingLevel":2}}'
    )
    return details, response_start, duration


def vital_ttfb(ttfb: float, rng: random.Random) -> str:
    v, wait, cache, dns, conn, req = _nums(ttfb, rng.random() * 3, ttfb * 0.02, ttfb * 0.08, ttfb * 0.1, ttfb * 0.8)
    return (f'{{"version":"1.0.0","value":{v},"attribution":{{"waitingDuration":{wait},'
            f'"cacheDuration":{cache},"dnsDuration":{dns},"connectionDuration":{conn},'
            f'"requestDuration":{req}}}}}')


def vital_fcp(fcp: float, ttfb: float) -> str:
    v, t, rest = _nums(fcp, ttfb, fcp - ttfb)
    return (f'{{"version":"1.0.0","value":{v},"attribution":{{"timeToFirstByte":{t},'
            f'"firstByteToFCP":{rest},"loadState":"dom-interactive"}}}}')


def vital_lcp(lcp: float, ttfb: float, element: str, url: str, nav_id: str) -> str:
    rest = lcp - ttfb
    v, t, delay, load, render = _nums(lcp, ttfb, rest * 0.3, rest * 0.45, rest * 0.25)
    return (f'{{"version":"1.0.0","value":{v},"attribution":{{"element":"{element}","url":"{url}",'
            f'"timeToFirstByte":{t},"resourceLoadDelay":{delay},"resourceLoadTime":{load},'
            f'"elementRenderDelay":{render},"navigationEntry":"{nav_id}"}}}}')


_TARGETS = ("button.add-to-cart", "input#search", "a.nav-link", "div.product-grid>a", "button#checkout",
            "select#quantity", "button.accordion-toggle")


def vital_cls(rng: random.Random, base: float) -> str:
    v = round(lognormal(rng, base, 1.0), 4) if rng.random() < 0.8 else 0.0
    target = "div.banner" if rng.random() < 0.5 else "img.hero"
    sv, shift, when = _nums(v, v * 0.7, 800 + rng.random() * 2000)
    return (f'{{"version":"1.0.0","value":{sv},"attribution":{{"largestShiftTarget":"{target}",'
            f'"largestShiftValue":{shift},"largestShiftTime":{when},'
            f'"loadState":"complete"}}}}')


def vital_inp(rng: random.Random, slow: float) -> str:
    v = (round(lognormal(rng, 90, 0.7) * slow / 8) * 8) or 8
    d1 = v * 0.2
    d2 = v * 0.5
    r = rng.random
    target = _TARGETS[int(r() * 7)]
    sv, it, npt, s1, s2, pres = _nums(v, 2000 + r() * 20000, 2100 + r() * 20000, d1, d2, v - d1 - d2)
    kind = "pointer" if r() < 0.85 else "keyboard"
    return (f'{{"version":"1.0.0","value":{sv},"attribution":{{"interactionTarget":"{target}",'
            f'"interactionTime":{it},"nextPaintTime":{npt},'
            f'"interactionType":"{kind}","inputDelay":{s1},'
            f'"processingDuration":{s2},"presentationDelay":{pres},"loadState":"complete"}}}}')


def vital_fid(rng: random.Random, slow: float) -> str:
    r = rng.random
    v = lognormal(rng, 6, 1.0) * slow
    target = _TARGETS[int(r() * 7)]
    kind = "pointerdown" if r() < 0.8 else "keydown"
    sv, when = _nums(v, 1500 + r() * 8000)
    return (f'{{"version":"1.0.0","value":{sv},"attribution":{{'
            f'"eventTarget":"{target}","eventType":"{kind}",'
            f'"eventTime":{when},"loadState":"complete"}}}}')


_SIZES = {"script": 90000, "stylesheet": 25000, "font": 30000, "image": 60000}


def resource_head(url: str, initiator: str, start: float) -> str:
    """The constant start of a ``performance_resource_event`` details text
    for a resource every page loads (``resource_tail`` adds the rest)."""
    # URLs here are plain ASCII without quotes, so no JSON escaping is needed.
    return f'{{"version":"1.0.0","targetUrl":"{url}","initiatorType":"{initiator}","startTime":{start},"duration":'


def resource_tail(rng: random.Random, head: str, file_type: str, net: float) -> str:
    """``resource`` for a ``resource_head``: the same draws and text, with
    one number to format instead of two."""
    r = rng.random
    dur = (60 if file_type != "image" else 110) * _exp(0.8 * _Z[int(r() * 4096)]) * net
    size = 0 if r() < 0.35 else int(_SIZES.get(file_type, 5000) * _exp(0.6 * _Z[int(r() * 4096)]))
    s_dur = _dumps(dur).decode()
    if "e" in s_dur or "0.0000" in s_dur:  # as in _nums
        s_dur = f"{dur}"
    return f'{head}{s_dur},"fileType":"{file_type}","transferSize":{size}}}'


def resource(rng: random.Random, url: str, initiator: str, file_type: str, net: float, start: float) -> str:
    r = rng.random
    dur = (60 if file_type != "image" else 110) * _exp(0.8 * _Z[int(r() * 4096)]) * net
    size = 0 if r() < 0.35 else int(_SIZES.get(file_type, 5000) * _exp(0.6 * _Z[int(r() * 4096)]))
    # URLs here are plain ASCII without quotes, so no JSON escaping is needed.
    s_start, s_dur = _nums(start, dur)
    return (f'{{"version":"1.0.0","targetUrl":"{url}","initiatorType":"{initiator}","startTime":{s_start},'
            f'"duration":{s_dur},"fileType":"{file_type}","transferSize":{size}}}')


_STATUS_TEXT = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
                403: "Forbidden", 404: "Not Found", 409: "Conflict", 422: "Unprocessable Entity",
                429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
                503: "Service Unavailable", 504: "Gateway Timeout"}
_4XX = Sampler([404, 400, 401, 403, 409, 422, 429], [40, 15, 15, 5, 5, 10, 10])
_5XX = Sampler([500, 502, 503, 504], [45, 20, 20, 15])
_NET = Sampler([("TypeError", "Failed to fetch"), ("TypeError", "NetworkError when attempting to fetch resource."),
                ("TypeError", "Load failed"), ("AbortError", "The user aborted a request.")], [50, 15, 25, 10])


def http(rng: random.Random, method: str, url: str, p4: float, p5: float, pn: float) -> tuple[str, bool, int]:
    """An ``http_event`` details text.

    Returns:
        (details JSON, is_error, status) where status is 0 for a network failure.
    """
    x = rng.random()
    if x < pn:
        etype, msg = _NET.draw(rng)
        return _dumps({"version": "1.0.0", "request": {"method": method, "url": url},
                       "error": {"version": "1.0.0", "type": etype, "message": msg}}).decode(), True, 0
    if x < pn + p5:
        status = _5XX.draw(rng)
    elif x < pn + p5 + p4:
        status = _4XX.draw(rng)
    else:
        status = 200 if method == "GET" else (201 if rng.random() < 0.7 else 204)
    return (_dumps({"version": "1.0.0", "request": {"method": method, "url": url},
                    "response": {"status": status, "statusText": _STATUS_TEXT[status]}}).decode(),
            status >= 400, status)


# (type, message template by engine (blink, gecko, webkit), weight). {n} is a number, {id} the page id.
_JS_ERRORS = (
    ("TypeError", ("Cannot read properties of undefined (reading 'price')",
                   "can't access property \"price\", item is undefined",
                   "undefined is not an object (evaluating 'item.price')"), 30),
    ("TypeError", ("Cannot read properties of null (reading 'addEventListener')",
                   "document.getElementById(...) is null",
                   "null is not an object (evaluating 'document.getElementById(\"promo-{n}\").addEventListener')"), 15),
    ("ReferenceError", ("gtag is not defined", "gtag is not defined", "Can't find variable: gtag"), 10),
    ("ChunkLoadError", ("Loading chunk {n} failed.\n(error: https://{domain}/static/js/{n}.{h}.chunk.js)",) * 3, 10),
    ("SyntaxError", ("Unexpected token '<', \"<!DOCTYPE \"... is not valid JSON",
                     "JSON.parse: unexpected character at line 1 column 1 of the JSON data",
                     "JSON Parse error: Unrecognized token '<'"), 8),
    ("Error", ("Request failed with status code {s}",) * 3, 10),
    ("Error", ("Product {id} not found",) * 3, 6),
    ("RangeError", ("Maximum call stack size exceeded", "too much recursion",
                    "Maximum call stack size exceeded."), 3),
    ("Error", ("ResizeObserver loop completed with undelivered notifications.",) * 3, 6),
    ("error", ("Script error.",) * 3, 4),
)
_JS_SAMPLER = Sampler(list(_JS_ERRORS), [e[-1] for e in _JS_ERRORS])
_ENGINE_INDEX = {"blink": 0, "gecko": 1, "webkit": 2}
_FUNCS = ("renderPrice", "CartItem", "updateTotals", "onClick", "dispatch", "commitRoot", "performWorkUntilDeadline",
          "loadRecommendations", "trackEvent", "Checkout.submit", "useEffect", "flushPassiveEffects")
STACK_LIMIT = 1000


def js_error(rng: random.Random, engine: str, domain: str, page_id: str) -> str:
    """A ``js_error_event`` details text: type, message (with ids and numbers),
    file, line, column and a stack truncated like the client does (1000 chars + ``...``)."""
    etype, msgs, _ = _JS_SAMPLER.draw(rng)
    n = 100 + int(rng.random() * 900)
    msg = msgs[_ENGINE_INDEX[engine]].format(
        n=n, id=page_id or n, domain=domain, h=f"{rng.getrandbits(24):06x}",
        s=500 + int(rng.random() * 4))
    if etype == "error":  # cross-origin script: the browser hides everything
        return _dumps({"version": "1.0.0", "type": "error", "message": msg, "filename": "", "lineno": 0,
                       "colno": 0}).decode()
    bundle = f"https://{domain}/static/js/main.{rng.getrandbits(24):06x}.js"
    line = 1 + int(rng.random() * 3)
    col = 1000 + int(rng.random() * 90000)
    depth = 60 if etype == "RangeError" else 3 + int(rng.random() * 8)
    frames = []
    for i in range(depth):
        fn = _FUNCS[(i * 7 + n) % len(_FUNCS)]
        c = col if i == 0 else 1000 + (n * (i + 3) * 7919) % 90000
        frames.append(f"    at {fn} ({bundle}:{line}:{c})" if engine == "blink" else f"{fn}@{bundle}:{line}:{c}")
    head = f"{etype}: {msg}\n" if engine == "blink" else ""
    stack = head + "\n".join(frames)
    if len(stack) > STACK_LIMIT:
        stack = stack[:STACK_LIMIT] + "..."
    return _dumps({"version": "1.0.0", "type": etype, "message": msg, "filename": bundle, "lineno": line,
                   "colno": col, "stack": stack}).decode()
