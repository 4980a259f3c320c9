"""Sessions across subdomains (``generate(domains=...)``, ``rumq generate --domains``).

A site can serve its pages from several host names while one cookie, set for
the parent domain, keeps a single session across them (the web client's
``cookieAttributes.domain``): the web shop's catalogue on ``www.example.com``
and its checkout on ``shop.example.com``. With two domains, every page of the
shop's ``checkout`` page group (/cart, /checkout, /confirmation) is written
with the second as ``metadata.domain`` and every other page with the first;
a visit that goes on to the cart crosses from one to the other. Sites without
checkout pages keep their own domain. The truth then counts, per population,
the sessions per set of domains, the cross-domain sessions and the
cross-domain transitions (``rumq.generate.truth``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rumq.errors import UsageError

#: The page group whose pages move to the second domain.
CHECKOUT_GROUP = "checkout"

_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")


def check_domains(domains: Sequence[str] | str | None) -> tuple[str, ...]:
    """The two host names of ``--domains`` (a comma-separated text or a list), lower-cased; () for none.

    Raises:
        UsageError: not exactly two distinct host names.
    """
    if domains is None or domains == "" or domains == ():
        return ()
    items = [d.strip().lower() for d in (domains.split(",") if isinstance(domains, str) else domains)]
    bad = [d for d in items if not _HOST.match(d)]
    if bad:
        raise UsageError(f"--domains: {bad[0]!r} is not a host name", hint="for example: www.example.com")
    if len(items) != 2 or items[0] == items[1]:
        raise UsageError(f"--domains takes two different host names, got {len(items)}: {','.join(items)}",
                         hint="for example: --domains www.example.com,shop.example.com (checkout on the second)")
    return tuple(items)


def page_domains(pages: Sequence[str], groups: dict[str, tuple[str, ...]], own: str,
                 domains: tuple[str, ...]) -> dict[str, str]:
    """Page pattern -> the domain its events carry.

    Args:
        pages: the site's page patterns.
        groups: the site's page groups (pattern -> groups).
        own: the application's own domain (kept by a site without checkout pages).
        domains: ``check_domains``' two host names.
    """
    if not any(CHECKOUT_GROUP in g for g in groups.values()):
        return dict.fromkeys(pages, own)
    return {p: domains[1] if CHECKOUT_GROUP in groups.get(p, ()) else domains[0] for p in pages}
