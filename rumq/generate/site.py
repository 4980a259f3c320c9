"""The simulated world: sites (pages, transitions, endpoints), applications,
visitors (devices, browsers, places) and traffic by hour and weekday.

Everything here is static data plus a few samplers; the session simulator in
``rumq.generate.session`` walks it. Page patterns use ``:id`` for the variable
segment (numeric ids, and UUIDs for order pages), the way a URL normalizer
would name them.
"""

from __future__ import annotations

import bisect
import itertools
import random
import uuid
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Endpoint:
    """An API call a page makes on load.

    Attributes:
        method: HTTP method.
        path: URL path; ``{id}`` is replaced by the page's id.
        p4xx: probability a call answers 4xx.
        p5xx: probability a call answers 5xx.
        pnet: probability a call fails without a response (network error).
        prob: probability the page makes the call at all.
    """

    method: str
    path: str
    p4xx: float
    p5xx: float
    pnet: float
    prob: float = 1.0


@dataclass(frozen=True)
class Page:
    """One page of a site.

    Attributes:
        pattern: normalized page id, e.g. ``/product/:id``.
        title: document title; ``{id}`` is replaced by the page's id.
        ids: 0 = fixed path; N > 0 = numeric ids ``id_base + 0..N-1`` drawn
            with Zipf popularity; -1 = a fresh UUID per view.
        dwell: median seconds on the page.
        exit: probability the visit ends on this page.
        next: pattern -> weight of the next page.
        endpoints: API calls made on load.
        js_error: probability of a JS error per page load (before browser and
            release multipliers).
        lcp: median LCP in ms on a desktop.
        id_base: first numeric id.
    """

    pattern: str
    title: str
    ids: int
    dwell: float
    exit: float
    next: dict[str, float]
    endpoints: tuple[Endpoint, ...] = ()
    js_error: float = 0.01
    lcp: float = 1400.0
    id_base: int = 1


@dataclass
class Site:
    """A site: its pages, where visits land, and how the client is configured.

    Attributes:
        kind: short name of the model (``shop``, ``help``).
        title: site name appended to page titles.
        pages: pattern -> Page.
        entry: pattern -> weight of landing pages.
        record_all_requests: the client records every HTTP request (else only
            failures, the web client's default).
        custom_events: the site records custom events.
        groups: pattern -> page groups (``pageTags``) its custom page views carry
            when the run asks for page groups; a pattern not listed has none.
    """

    kind: str
    title: str
    pages: dict[str, Page]
    entry: dict[str, float]
    record_all_requests: bool
    custom_events: bool
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # derived samplers, filled by __post_init__
    _next: dict[str, tuple[list[str], list[float]]] = field(default_factory=dict, repr=False)
    _entry: tuple[list[str], list[float]] = field(default=([], []), repr=False)
    _zipf: dict[int, list[float]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for p in self.pages.values():
            for target in p.next:
                if target not in self.pages:
                    raise ValueError(f"{self.kind}: {p.pattern} -> unknown page {target}")
            self._next[p.pattern] = _cumulative(p.next)
            if p.ids > 0 and p.ids not in self._zipf:
                self._zipf[p.ids] = list(itertools.accumulate(1.0 / (i + 1) ** 1.07 for i in range(p.ids)))
        self._entry = _cumulative(self.entry)

    def draw_entry(self, rng: random.Random) -> str:
        keys, cum = self._entry
        return keys[bisect.bisect(cum, rng.random() * cum[-1])]

    def draw_next(self, rng: random.Random, pattern: str) -> str:
        keys, cum = self._next[pattern]
        return keys[bisect.bisect(cum, rng.random() * cum[-1])]

    def draw_id(self, rng: random.Random, page: Page) -> str:
        if page.ids > 0:
            cum = self._zipf[page.ids]
            return str(page.id_base + bisect.bisect(cum, rng.random() * cum[-1]))
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _cumulative(weights: dict[str, float]) -> tuple[list[str], list[float]]:
    keys = [k for k, w in weights.items() if w > 0]
    return keys, list(itertools.accumulate(weights[k] for k in keys))


def raw_page(pattern: str, page_id: str) -> str:
    """The raw page id (URL path) of a pattern with its id filled in."""
    return pattern.replace(":id", page_id) if page_id else pattern


_E = Endpoint

SHOP = Site(
    kind="shop",
    title="Example Shop",
    record_all_requests=True,
    custom_events=True,
    # /help has no group (its page views are in '(none)'); a product page is in two.
    groups={"/": ("home",), "/search": ("search",), "/category/:id": ("catalog",),
            "/product/:id": ("catalog", "product"), "/cart": ("checkout",), "/checkout": ("checkout",),
            "/confirmation": ("checkout",), "/login": ("account",), "/account": ("account",),
            "/account/orders/:id": ("account",)},
    entry={"/": 40, "/product/:id": 25, "/category/:id": 15, "/search": 8, "/help": 5, "/account": 3, "/cart": 4},
    pages={
        "/": Page("/", "Example Shop | Home", 0, 14, 0.30,
                  {"/search": 22, "/category/:id": 30, "/product/:id": 18, "/account": 5, "/help": 3, "/cart": 4, "/login": 3},
                  (_E("GET", "/api/home/recommendations", 0.002, 0.004, 0.002),
                   _E("GET", "/api/cart", 0.01, 0.002, 0.002)),
                  js_error=0.008, lcp=1500),
        "/search": Page("/search", "Search | Example Shop", 0, 20, 0.25,
                        {"/product/:id": 60, "/category/:id": 15, "/": 10, "/cart": 5},
                        (_E("GET", "/api/search", 0.01, 0.015, 0.003),
                         _E("GET", "/api/search/suggestions", 0.002, 0.003, 0.002, 0.6)),
                        js_error=0.012, lcp=1700),
        "/category/:id": Page("/category/:id", "Category {id} | Example Shop", 40, 18, 0.30,
                              {"/product/:id": 65, "/category/:id": 15, "/search": 10, "/": 10},
                              (_E("GET", "/api/categories/{id}/products", 0.004, 0.006, 0.002),),
                              js_error=0.01, lcp=1900, id_base=100),
        "/product/:id": Page("/product/:id", "Product {id} | Example Shop", 600, 35, 0.35,
                             {"/product/:id": 30, "/cart": 28, "/category/:id": 15, "/search": 12, "/": 8, "/checkout": 2},
                             (_E("GET", "/api/products/{id}", 0.02, 0.004, 0.002),
                              _E("GET", "/api/products/{id}/reviews", 0.003, 0.02, 0.003, 0.7),
                              _E("GET", "/api/recommendations?product={id}", 0.002, 0.01, 0.002, 0.8)),
                             js_error=0.015, lcp=2300, id_base=10000),
        "/cart": Page("/cart", "Your cart | Example Shop", 0, 25, 0.25,
                      {"/checkout": 55, "/product/:id": 20, "/": 10, "/search": 5, "/login": 10},
                      (_E("GET", "/api/cart", 0.005, 0.004, 0.002),
                       _E("POST", "/api/cart/items", 0.03, 0.01, 0.003, 0.5)),
                      js_error=0.012, lcp=1300),
        "/login": Page("/login", "Sign in | Example Shop", 0, 30, 0.20,
                       {"/checkout": 30, "/account": 40, "/": 30},
                       (_E("POST", "/api/session", 0.12, 0.005, 0.003),),
                       js_error=0.006, lcp=1100),
        "/checkout": Page("/checkout", "Checkout | Example Shop", 0, 80, 0.20,
                          {"/confirmation": 62, "/cart": 28, "/help": 10},
                          (_E("GET", "/api/checkout/shipping-options", 0.004, 0.01, 0.003),
                           _E("POST", "/api/checkout/payment", 0.05, 0.03, 0.006, 0.8)),
                          js_error=0.03, lcp=1800),
        "/confirmation": Page("/confirmation", "Thank you for your order | Example Shop", 0, 20, 0.75,
                              {"/": 50, "/account/orders/:id": 50},
                              (_E("GET", "/api/orders/latest", 0.003, 0.004, 0.002),),
                              js_error=0.006, lcp=1200),
        "/account": Page("/account", "My account | Example Shop", 0, 25, 0.45,
                         {"/account/orders/:id": 50, "/": 30, "/help": 20},
                         (_E("GET", "/api/account", 0.05, 0.004, 0.002),
                          _E("GET", "/api/orders", 0.004, 0.008, 0.002)),
                         js_error=0.01, lcp=1400),
        "/account/orders/:id": Page("/account/orders/:id", "Order {id} | Example Shop", -1, 30, 0.50,
                                    {"/account": 40, "/help": 30, "/": 30},
                                    (_E("GET", "/api/orders/{id}", 0.04, 0.006, 0.002),),
                                    js_error=0.012, lcp=1500),
        "/help": Page("/help", "Help | Example Shop", 0, 40, 0.55,
                      {"/": 60, "/account": 20, "/search": 20},
                      (), js_error=0.004, lcp=1000),
    },
)

HELP = Site(
    kind="help",
    title="Help Center",
    record_all_requests=False,
    custom_events=False,
    entry={"/": 30, "/articles/:id": 45, "/search": 15, "/categories/:id": 7, "/status": 3},
    pages={
        "/": Page("/", "Help Center", 0, 15, 0.30,
                  {"/search": 40, "/categories/:id": 35, "/articles/:id": 20, "/contact": 5},
                  (_E("GET", "/api/announcements", 0.002, 0.01, 0.003),), js_error=0.005, lcp=1200),
        "/search": Page("/search", "Search results | Help Center", 0, 20, 0.30,
                        {"/articles/:id": 75, "/search": 0, "/contact": 10, "/": 15},
                        (_E("GET", "/api/search", 0.01, 0.02, 0.004),), js_error=0.01, lcp=1500),
        "/categories/:id": Page("/categories/:id", "Category {id} | Help Center", 12, 15, 0.25,
                                {"/articles/:id": 80, "/": 20},
                                (_E("GET", "/api/categories/{id}", 0.01, 0.005, 0.002),), js_error=0.006,
                                lcp=1300, id_base=1),
        "/articles/:id": Page("/articles/:id", "Article {id} | Help Center", 300, 60, 0.55,
                              {"/articles/:id": 45, "/search": 25, "/contact": 20, "/": 10},
                              (_E("GET", "/api/articles/{id}", 0.03, 0.005, 0.002),
                               _E("POST", "/api/articles/{id}/feedback", 0.01, 0.02, 0.004, 0.15)),
                              js_error=0.008, lcp=1600, id_base=2000),
        "/contact": Page("/contact", "Contact support | Help Center", 0, 90, 0.40,
                         {"/contact/sent": 70, "/articles/:id": 20, "/": 10},
                         (_E("POST", "/api/tickets", 0.06, 0.03, 0.008, 0.7),), js_error=0.02, lcp=1400),
        "/contact/sent": Page("/contact/sent", "Request sent | Help Center", 0, 10, 0.85,
                              {"/": 100}, (), js_error=0.003, lcp=900),
        "/status": Page("/status", "Service status | Help Center", 0, 30, 0.70,
                        {"/": 100}, (_E("GET", "/api/status", 0.001, 0.05, 0.01),), js_error=0.004, lcp=1000),
    },
)

SITES = {"shop": SHOP, "help": HELP}


@dataclass(frozen=True)
class AppSpec:
    """One application (RUM app monitor).

    Attributes:
        name: app monitor name.
        site: the site model it runs.
        domain: host name of the pages.
        share: relative share of the traffic.
        client: ``aws:client`` value.
        client_version: ``aws:clientVersion`` value.
        releases: (application_version, start as a fraction of the time range,
            JS error multiplier) in start order.
        id: app monitor id (UUID), stable for a name.
    """

    name: str
    site: Site
    domain: str
    share: float
    client: str
    client_version: str
    releases: tuple[tuple[str, float, float], ...]
    id: str = ""

    @property
    def log_group(self) -> str:
        """CloudWatch Logs group RUM writes this app monitor to."""
        return f"/aws/vendedlogs/RUMService_{self.name}{self.id.split('-')[0]}"


def _app_id(name: str) -> str:
    return str(uuid.UUID(int=random.Random(f"rumq-app:{name}").getrandbits(128), version=4))


def _app(name: str, site: Site, domain: str, share: float, client: str, cver: str,
         releases: tuple[tuple[str, float, float], ...]) -> AppSpec:
    return AppSpec(name, site, domain, share, client, cver, releases, _app_id(name))


#: The applications ``--apps K`` picks from, in order.
APPS: tuple[AppSpec, ...] = (
    _app("webshop", SHOP, "www.example-shop.com", 0.6, "arw-script", "1.16.1",
         (("3.4.0", 0.0, 1.0), ("3.5.0", 0.5, 1.8))),
    _app("helpcenter", HELP, "help.example-shop.com", 0.4, "arw-module", "1.19.0",
         (("2024.1", 0.0, 1.0),)),
    _app("webshop-eu", SHOP, "shop.example.eu", 0.3, "arw-module", "2.0.3",
         (("3.4.0", 0.0, 1.2),)),
    _app("partner-portal", HELP, "partners.example-shop.com", 0.15, "arw-script", "1.14.0",
         (("", 0.0, 1.0),)),
)

# --- visitors ---------------------------------------------------------------

#: (browserName, browserVersion, osName, osVersion, deviceType, engine, weight)
DEVICES: tuple[tuple[str, str, str, str, str, str, float], ...] = (
    ("Chrome", "124.0.0.0", "Windows", "10", "desktop", "blink", 24),
    ("Chrome", "123.0.0.0", "Windows", "10", "desktop", "blink", 6),
    ("Chrome", "124.0.0.0", "Mac OS", "10.15.7", "desktop", "blink", 10),
    ("Edge", "124.0.0.0", "Windows", "10", "desktop", "blink", 7),
    ("Firefox", "125.0", "Windows", "10", "desktop", "gecko", 4),
    ("Firefox", "125.0", "Linux", "x86_64", "desktop", "gecko", 2),
    ("Safari", "17.4", "Mac OS", "10.15.7", "desktop", "webkit", 6),
    ("Mobile Safari", "17.4", "iOS", "17.4.1", "mobile", "webkit", 14),
    ("Mobile Safari", "16.6", "iOS", "16.7.7", "mobile", "webkit", 4),
    ("Chrome", "124.0.6367.82", "Android", "10", "mobile", "blink", 16),
    ("Samsung Browser", "24.0", "Android", "10", "mobile", "blink", 4),
    ("Mobile Safari", "17.4", "iOS", "17.4.1", "tablet", "webkit", 3),
)

#: JS error-rate multiplier per browser name.
BROWSER_ERROR_MULT = {"Samsung Browser": 2.5, "Mobile Safari": 1.6, "Safari": 1.4, "Firefox": 1.2}
#: vitals slowdown per device type.
DEVICE_SLOWDOWN = {"desktop": 1.0, "mobile": 1.7, "tablet": 1.35}

#: (browserLanguage, countryCode, subdivisions, network slowdown, weight)
PLACES: tuple[tuple[str, str, tuple[str, ...], float, float], ...] = (
    ("en-US", "US", ("CA", "NY", "TX", "WA", "FL"), 1.0, 30),
    ("en-GB", "GB", ("ENG", "SCT"), 1.05, 8),
    ("de-DE", "DE", ("BY", "BE", "NW", "HH"), 1.0, 12),
    ("fr-FR", "FR", ("IDF", "ARA"), 1.05, 7),
    ("es-ES", "ES", ("MD", "CT"), 1.1, 5),
    ("nl-NL", "NL", ("NH",), 1.0, 3),
    ("it-IT", "IT", ("25", "62"), 1.1, 4),
    ("pl-PL", "PL", ("14",), 1.15, 2),
    ("nb-NO", "NO", ("03", "30"), 1.05, 2),
    ("ja", "JP", ("13", "27"), 1.6, 6),
    ("pt-BR", "BR", ("SP", "RJ"), 1.8, 5),
    ("en-IN", "IN", ("KA", "MH", "DL"), 2.0, 6),
    ("en-AU", "AU", ("NSW", "VIC"), 1.7, 4),
    ("en-CA", "CA", ("ON", "QC"), 1.05, 4),
)

#: (referrer, referrerDomain, weight) of landing pages.
REFERRERS: tuple[tuple[str, str, float], ...] = (
    ("https://www.google.com/", "www.google.com", 45),
    ("", "", 33),
    ("https://www.bing.com/", "www.bing.com", 6),
    ("https://duckduckgo.com/", "duckduckgo.com", 3),
    ("https://www.facebook.com/", "www.facebook.com", 4),
    ("https://t.co/", "t.co", 3),
    ("https://news.ycombinator.com/", "news.ycombinator.com", 1),
    ("https://mail.google.com/", "mail.google.com", 5),
)

#: Traffic weight per UTC hour (0..23) and per weekday (Monday = 0).
HOUR_WEIGHTS = (2, 1.5, 1.2, 1, 1, 1.3, 2, 3, 4, 4.5, 5, 5.2, 5.5, 5.3, 5, 5, 5.2, 5.6, 6.2, 7, 7.2, 6.5, 5, 3.2)
WEEKDAY_WEIGHTS = (1.0, 1.0, 1.0, 0.98, 0.95, 0.8, 0.85)


class Sampler:
    """Weighted choice over a fixed list, by bisecting cumulative weights."""

    __slots__ = ("items", "cum", "total")

    def __init__(self, items: list, weights: list[float]) -> None:
        self.items = items
        self.cum = list(itertools.accumulate(weights))
        self.total = self.cum[-1]

    def draw(self, rng: random.Random):
        return self.items[bisect.bisect(self.cum, rng.random() * self.total)]


DEVICE_SAMPLER = Sampler(list(DEVICES), [d[-1] for d in DEVICES])
PLACE_SAMPLER = Sampler(list(PLACES), [p[-1] for p in PLACES])
REFERRER_SAMPLER = Sampler(list(REFERRERS), [r[-1] for r in REFERRERS])
HOUR_SAMPLER = Sampler(list(range(24)), list(HOUR_WEIGHTS))
