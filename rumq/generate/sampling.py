"""Session sampling for ``rumq generate --sample-rate``: write a sample, keep the full truth.

An app monitor with ``sessionSampleRate`` < 1 records only some sessions. To
test ``rumq run --estimate`` against known full traffic, the generator
simulates the full traffic as always (its ground truth counts all of it) and
a ``SamplingSink`` in front of the chunk's writer passes on the messages of
the kept sessions only.

Which sessions are kept: the rate is the one in force on the UTC day of the
session's first event (``rates``: (first day, rate) pairs; as rumq.toml's
``[[sample_rates]]`` declare it). Within a chunk (one application, one day),
the n-th session started at a rate r (1-based, in the order the chunk
simulates them) is kept when floor(n * r) > floor((n - 1) * r): every
1/r-th session, deterministic, and floor(N * r) of N sessions.

The sink counts per application and start day, over the full traffic and over
the kept sessions: cookie sessions, their page views and their error sessions
(a JS error, or an HTTP request with status >= 400 or no response, as
``errors/rate_per_session`` counts them), and cookieless sessions. The ground
truth's ``sampling`` part holds these counts and the rates to declare.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from typing import Any

from rumq.errors import UsageError

_SID = '"sessionId":"'
_NIL_USER = '"userId":"00000000-0000-0000-0000-000000000000"'
_PAGE_VIEW = '"event_type":"com.amazon.rum.page_view_event"'
_JS_ERROR = '"event_type":"com.amazon.rum.js_error_event"'
_HTTP = '"event_type":"com.amazon.rum.http_event"'
#: The counted figures, in the order of the per-day lists.
FIGURES = ("sessions", "page_views", "error_sessions", "cookieless_sessions")


def parse_rates(values: list[str] | tuple[str, ...], start: dt.date) -> list[tuple[dt.date, float]]:
    """``RATE`` or ``RATE@YYYY-MM-DD`` texts as (first day, rate) pairs, sorted by day.

    A rate without a day applies from ``start`` (the first generated day).

    Raises:
        UsageError: a malformed text, a rate outside (0, 1], or two rates for one day.
    """
    out: dict[dt.date, float] = {}
    for text in values:
        rate_text, _, day_text = text.partition("@")
        try:
            rate = float(rate_text)
            day = dt.date.fromisoformat(day_text) if day_text else start
        except ValueError:
            raise UsageError(f"--sample-rate {text!r}: expected RATE or RATE@YYYY-MM-DD (0.25, 0.5@2024-03-06)") \
                from None
        if not 0 < rate <= 1:
            raise UsageError(f"--sample-rate {text!r}: the rate must be above 0 and at most 1")
        if day in out:
            raise UsageError(f"--sample-rate: two rates from {day}")
        out[day] = rate
    return sorted(out.items())


def rate_on(rates: list[tuple[dt.date, float]], day: dt.date) -> float:
    """The rate in force on ``day`` (1 before the first one)."""
    i = bisect_right([d for d, _ in rates], day)
    return rates[i - 1][1] if i else 1.0


class SamplingSink:
    """Passes on to ``inner`` the messages of the sessions kept at the rate of their start day.

    Without a ``lines`` attribute, so the chunk hands it every message through ``add``.
    """

    def __init__(self, inner: Any, rates: list[tuple[dt.date, float]]) -> None:
        self.inner = inner
        self.rates = rates
        #: session id -> [start day, kept, cookie, has error]
        self.sessions: dict[str, list[Any]] = {}
        #: rate -> sessions started at it so far
        self._seen: dict[float, int] = {}
        #: start day (ISO) -> {"full": [...FIGURES], "recorded": [...FIGURES], "rate": r}; set by close()
        self.counts: dict[str, dict[str, Any]] = {}
        self._pv: dict[str, int] = {}

    def add(self, ts_ms: int, log_stream: str, message: str) -> None:
        i = message.find(_SID)
        sid = message[i + len(_SID):message.index('"', i + len(_SID))] if i >= 0 else ""
        s = self.sessions.get(sid)
        if s is None:
            day = dt.date(1970, 1, 1) + dt.timedelta(days=ts_ms // 86_400_000)
            r = rate_on(self.rates, day)
            n = self._seen[r] = self._seen.get(r, 0) + 1
            s = self.sessions[sid] = [day, int(n * r) > int((n - 1) * r), _NIL_USER not in message, False]
        if _PAGE_VIEW in message:
            self._pv[sid] = self._pv.get(sid, 0) + 1
        elif _JS_ERROR in message or (_HTTP in message and _http_failed(message)):
            s[3] = True
        if s[1]:
            self.inner.add(ts_ms, log_stream, message)

    def drain(self) -> None:
        drain = getattr(self.inner, "drain", None)
        if drain is not None:
            drain()

    def close(self) -> None:
        for sid, (day, kept, cookie, error) in self.sessions.items():
            pv = self._pv.get(sid, 0)
            if not pv:
                continue  # no page view: no session for rumq's session-based queries
            c = self.counts.setdefault(day.isoformat(), {"rate": rate_on(self.rates, day),
                                                         "full": [0] * len(FIGURES),
                                                         "recorded": [0] * len(FIGURES)})
            row = (1, pv, int(error), 0) if cookie else (0, 0, 0, 1)
            for part in ("full", "recorded") if kept else ("full",):
                c[part] = [a + b for a, b in zip(c[part], row, strict=True)]
        self.inner.close()


def _http_failed(message: str) -> bool:
    i = message.find('"response":{"status":')
    if i < 0:
        return True  # no response: a network failure
    j = i + len('"response":{"status":')
    return int(message[j:j + 3]) >= 400


def merge(into: dict[str, dict[str, Any]], counts: dict[str, dict[str, Any]]) -> None:
    """Add one chunk's ``SamplingSink.counts`` to an application's."""
    for day, c in counts.items():
        mine = into.setdefault(day, {"rate": c["rate"], "full": [0] * len(FIGURES), "recorded": [0] * len(FIGURES)})
        for part in ("full", "recorded"):
            mine[part] = [a + b for a, b in zip(mine[part], c[part], strict=True)]


def truth_part(rates: list[tuple[dt.date, float]], apps: list[tuple[str, str, dict[str, dict[str, Any]]]]) \
        -> dict[str, Any]:
    """The ground truth's ``sampling`` part: the rates to declare and, per app and start day, the counts.

    Args:
        rates: the (first day, rate) pairs.
        apps: (app monitor name, application id, merged counts) per application.
    """
    return {
        "rates": [{"since": d.isoformat(), "rate": r} for d, r in rates],
        "sample_rates_toml": "".join(f'[[sample_rates]]\napp = "{app_id}"\nrate = {r}\nsince = "{d.isoformat()}"\n'
                                     for _, app_id, _ in apps for d, r in rates),
        "apps": {name: {"application_id": app_id,
                        "days": [{"day": day, "rate": c["rate"], **{part: dict(zip(FIGURES, c[part], strict=True))
                                                                   for part in ("full", "recorded")}}
                                 for day, c in sorted(counts.items())]}
                 for name, app_id, counts in apps},
    }
