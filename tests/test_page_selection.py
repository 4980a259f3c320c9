"""[pages] exclude / include in rumq.toml: page views left out of every analysis view, the effect reported.

On tests/analyses_data.py's story (15 page views; S1 /home /products/12 /products/15?ref=x /cart/,
S2 /home /cart /home /cart /checkout, S3 /home, S4 /blog/a /home /cart, C1 /home, C2 /products/7).
"""

from __future__ import annotations

import analyses_data as fx
import pytest

from rumq.api import Dataset
from rumq.errors import UsageError
from rumq.pages import config_from_dict


@pytest.fixture()
def data(tmp_path):
    return fx.build(tmp_path)


def run(data, name, **params):
    notes: list[str] = []
    rows = Dataset(data, notify=notes.append).run(name, **params).to_dicts()
    return rows, notes


def test_exclude_removes_page_views_everywhere_and_says_how_many(data):
    (data / "rumq.toml").write_text("[pages]\nexclude = ['^/products/', '^/blog/']\n")
    # Left out: S1's two product pages, S4's /blog/a, C2's /products/7 = 4 of 15.
    [row], notes = run(data, "sessions/summary", include_cookieless=True)
    # C2 had only /products/7: no page view left, no session. Page views 15 - 4 = 11 in 5 sessions.
    assert (row["sessions"], row["page_views"]) == (5, 11)
    assert any("left out 4 of the window's 15 page views" in n for n in notes), notes
    rows, _ = run(data, "pages/entry")
    # S4 now enters on /home (its /blog/a is gone): entries /home 4 (S1, S2, S3, S4).
    assert [(r["entry_page"], r["sessions"]) for r in rows] == [("/home", 4)]
    rows, _ = run(data, "pages/drop_off", top=100)
    assert "/products/:id" not in {r["page"] for r in rows}


def test_include_keeps_only_matching_page_views(data):
    (data / "rumq.toml").write_text("[pages]\ninclude = ['^/home$', '^/cart']\n")
    # Kept in cookie sessions: S1 /home /cart/ (2), S2 /home /cart /home /cart (4), S3 /home (1),
    # S4 /home /cart (2) = 9 page views in 4 sessions.
    [row], notes = run(data, "sessions/summary")
    assert (row["sessions"], row["page_views"]) == (4, 9)
    # Left out of 15: S1 2 products, S2 /checkout, S4 /blog/a, C2 /products/7 = 5.
    assert any("left out 5 of the window's 15 page views" in n for n in notes), notes


def test_no_rules_no_notice(data):
    _, notes = run(data, "sessions/summary")
    assert not [n for n in notes if "exclude/include" in n]


@pytest.mark.parametrize("doc", [{"pages": {"exclude": "^/admin"}}, {"pages": {"include": [""]}},
                                 {"pages": {"exclude": ["(unclosed"]}}])
def test_bad_patterns_are_usage_errors(doc):
    with pytest.raises(UsageError, match="pages.(exclude|include)"):
        config_from_dict(doc, source="rumq.toml")


def test_engines_that_do_not_apply_the_rules_refuse_instead_of_answering_differently(data):
    from clirun import invoke

    (data / "rumq.toml").write_text("[pages]\nexclude = ['^/products/']\n")
    with pytest.raises(UsageError, match=r"Polars views do not apply rumq.toml's \[pages\] exclude / include"):
        Dataset(data).view("page_views")
    code, out, err = invoke(["--data", str(data), "run", "pages/drop_off", "--engine", "polars"])
    assert (code, out) == (2, "") and "do not apply" in err
