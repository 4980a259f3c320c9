import datetime as dt

import duckdb
import pytest

from rumq.errors import ParameterError
from rumq.params import (
    ParamSpec,
    bind_values,
    parse_assignments,
    placeholders,
    referenced_names,
    resolve,
    substitute_identifiers,
)


def spec(**raw):
    return ParamSpec.from_header(raw)


def test_int_with_bounds():
    p = spec(name="top", type="int", default=20, min=1, max=100)
    assert p.default == 20 and not p.required
    assert p.parse("5") == 5 and p.parse(7) == 7 and p.parse(8.0) == 8
    for bad in ["0", "101", "x", "1.5", True]:
        with pytest.raises(ParameterError) as e:
            p.parse(bad)
        assert "'top'" in e.value.message
        assert "an integer from 1 to 100" in e.value.message


def test_float():
    p = spec(name="share", type="float", default=0.5, min=0, max=1)
    assert p.parse("0.25") == 0.25 and p.parse(1) == 1.0
    for bad in ["nan", "inf", "1.5", "-0.1", "abc"]:
        with pytest.raises(ParameterError, match="'share'"):
            p.parse(bad)


@pytest.mark.parametrize("text, value", [("true", True), ("YES", True), ("1", True), ("off", False), ("false", False)])
def test_bool(text, value):
    assert spec(name="flag", type="bool", default=False).parse(text) is value


def test_bool_rejects():
    with pytest.raises(ParameterError, match="true or false"):
        spec(name="flag", type="bool").parse("maybe")


def test_date_and_duration():
    d = spec(name="day", type="date")
    assert d.parse("2026-11-01") == dt.date(2026, 11, 1)
    assert d.parse(dt.datetime(2026, 11, 1, 5)) == dt.date(2026, 11, 1)
    with pytest.raises(ParameterError, match="a date like 2026-11-01"):
        d.parse("11/01/2026")
    w = spec(name="window", type="duration", default="30m", min="1m", max="7d")
    assert w.default == dt.timedelta(minutes=30)
    assert w.parse("1h30m") == dt.timedelta(minutes=90)
    assert w.parse(dt.timedelta(hours=2)) == dt.timedelta(hours=2)
    with pytest.raises(ParameterError) as e:
        w.parse("8d")
    assert "above the maximum 7d" in e.value.message
    assert "from 1m to 7d" in e.value.message
    with pytest.raises(ParameterError, match="duration like 30m"):
        w.parse("soon")


def test_choices_name_the_accepted_values():
    p = spec(name="bucket", type="str", default="none", choices=["none", "hour", "day"])
    assert p.parse("hour") == "hour"
    with pytest.raises(ParameterError) as e:
        p.parse("week")
    assert e.value.message == (
        "parameter 'bucket': invalid value 'week'; expected one of: none, hour, day"
    )
    assert e.value.exit_code == 2


def test_list():
    p = spec(name="steps", type="list", default="")
    assert p.default == []
    assert p.parse("/home, /cart,,/checkout") == ["/home", "/cart", "/checkout"]
    assert p.parse(["/a", "/b"]) == ["/a", "/b"]
    c = spec(name="events", type="list", choices=["lcp", "cls"])
    assert c.parse("lcp,cls") == ["lcp", "cls"]
    with pytest.raises(ParameterError, match="'fid' is not allowed"):
        c.parse("lcp,fid")


def test_identifier_param_choices_come_from_sql_map():
    p = spec(name="dimension", type="str", default="none", sql={"none": "'all'", "browser": "browser_name"})
    assert p.is_identifier and p.choices == ("none", "browser")
    with pytest.raises(ParameterError, match="one of: none, browser"):
        p.parse("browser_name; DROP TABLE x")


def test_bool_identifier_param_switches_between_two_fragments():
    import yaml

    # As a query header writes it: YAML reads the keys true and false as booleans.
    raw = yaml.safe_load("{name: by_domain, type: bool, default: false, sql: {false: pages, true: domain_pages}}")
    p = ParamSpec.from_header(raw)
    assert p.is_identifier and p.choices is None and p.default is False
    assert p.parse("yes") is True and p.accepted() == "true or false"
    with pytest.raises(ParameterError, match="expected true or false"):
        p.parse("domain_pages")
    for given, table in (({}, "pages"), ({"by_domain": "true"}, "domain_pages"), ({"by_domain": False}, "pages")):
        assert substitute_identifiers("FROM {{by_domain}}", [p], resolve([p], given)) == f"FROM {table}"


@pytest.mark.parametrize(
    "raw, problem",
    [
        ({"name": "Top"}, "lower-case"),
        ({"name": "top", "type": "integer"}, "unknown type 'integer'"),
        ({"name": "top", "defualt": 1}, "unknown key(s) defualt"),
        ({"name": "top", "type": "int", "default": "x"}, "bad default"),
        ({"name": "top", "type": "int", "default": 0, "min": 1}, "bad default"),
        ({"name": "top", "type": "str", "min": 1}, "'min' applies to int, float and duration"),
        ({"name": "d", "sql": {"a": "x"}, "choices": ["a", "b"]}, "no fragment"),
        ({"name": "d", "type": "int", "sql": {"1": "x"}}, "must have type str or bool"),
        ({"name": "d", "type": "bool", "sql": {True: "x"}}, "maps exactly true and false"),
        ({"name": "d", "type": "bool", "sql": {"yes": "x", "maybe": "y"}}, "maps exactly true and false"),
        ({"name": "d", "sql": {"a": ""}}, "non-empty string"),
        ({"name": "d", "choices": []}, "non-empty list"),
        ("top", "must be a mapping"),
    ],
)
def test_bad_declarations(raw, problem):
    with pytest.raises(ValueError) as e:
        ParamSpec.from_header(raw)
    assert problem in str(e.value)


SPECS = (
    spec(name="top", type="int", default=10, min=1),
    spec(name="dimension", type="str", default="none", sql={"none": "'all'", "browser": "browser_name"}),
    spec(name="steps", type="list"),
)


def test_resolve_fills_defaults_and_checks_names():
    assert resolve(SPECS, {"steps": "/a,/b"}) == {"top": 10, "dimension": "none", "steps": ["/a", "/b"]}
    with pytest.raises(ParameterError) as e:
        resolve(SPECS, {"steps": "/a", "tpo": "3"}, query="x/y")
    assert "unknown parameter 'tpo' of query 'x/y'" in e.value.message
    assert "did you mean 'top'?" in e.value.hint
    with pytest.raises(ParameterError) as e:
        resolve(SPECS, {})
    assert "missing parameter 'steps'" in e.value.message
    assert "-p steps=VALUE" in e.value.hint


def test_repeated_assignments():
    given = parse_assignments(["steps=/a", "steps=/b,/c", "top=3"])
    assert given == {"steps": ["/a", "/b,/c"], "top": "3"}
    assert resolve(SPECS, given)["steps"] == ["/a", "/b", "/c"]
    with pytest.raises(ParameterError, match="given more than once"):
        resolve(SPECS, parse_assignments(["steps=/a", "top=1", "top=2"]))


@pytest.mark.parametrize("item", ["top", "=3", ""])
def test_assignment_needs_key_and_equals(item):
    with pytest.raises(ParameterError, match="key=value"):
        parse_assignments([item])


def test_assignment_value_may_contain_equals():
    assert parse_assignments(["q=a=b"]) == {"q": "a=b"}


def test_referenced_names_ignore_strings_and_comments():
    sql = """
    SELECT '$nope' AS a, "$nope2" AS b, $top -- $comment
    /* $block */ FROM t WHERE x = $top AND y IN $steps
    """
    assert referenced_names(sql) == {"top", "steps"}
    assert placeholders("SELECT {{dimension}}, {{ bucket }} FROM t") == {"dimension", "bucket"}


def test_substitute_and_bind_run_in_duckdb():
    sql = "SELECT {{dimension}} AS dim, $top AS top, len($steps::VARCHAR[]) AS n FROM (SELECT 'Chrome' AS browser_name)"
    values = resolve(SPECS, {"dimension": "browser", "steps": "/a,/b", "top": "2"})
    text = substitute_identifiers(sql, SPECS, values)
    assert "browser_name AS dim" in text
    bound = bind_values(text, SPECS, values)
    # dimension is not referenced as $dimension, so it is not bound
    assert bound == {"top": 2, "steps": ["/a", "/b"]}
    assert duckdb.connect().sql(text, params=bound).fetchall() == [("Chrome", 2, 2)]


def test_duration_and_date_bind_as_interval_and_date():
    specs = (spec(name="w", type="duration", default="90m"), spec(name="d", type="date", default="2026-11-01"))
    values = resolve(specs, {})
    row = duckdb.connect().sql(
        "SELECT typeof($w), typeof($d), TIMESTAMP '2026-11-01 00:00:00' + $w, $d + 1",
        params=bind_values("$w $d", specs, values),
    ).fetchall()[0]
    assert row[0] == "INTERVAL" and row[1] == "DATE"
    assert row[2] == dt.datetime(2026, 11, 1, 1, 30)
    assert row[3] == dt.date(2026, 11, 2)


# -- issue 13: lists as JSON arrays, API items not split, empty required lists, case ------------


def test_list_accepts_a_json_array():
    p = spec(name="steps", type="list")
    assert p.parse('["/a", "/b,c"]') == ["/a", "/b,c"]
    assert p.parse(' [1, "x"] ') == ["1", "x"]
    assert p.parse("[]") == []
    for bad, why in [('["/a", ', "not a JSON array"), ('[["x"]]', "a JSON array of strings"), ("[null]", "a JSON array of strings")]:
        with pytest.raises(ParameterError) as e:
            p.parse(bad)
        assert e.value.message.startswith(f"parameter 'steps': invalid value {bad!r} ({why}")
        assert e.value.exit_code == 2


def test_api_list_items_with_commas_are_not_split():
    assert resolve(SPECS, {"steps": ["/search?q=a,b", "/cart"]})["steps"] == ["/search?q=a,b", "/cart"]
    assert resolve(SPECS, {"steps": ("/x,y",)})["steps"] == ["/x,y"]


def test_repeated_cli_values_mix_commas_and_json():
    given = parse_assignments(["steps=/a,/b", 'steps=["/c,d"]'])
    assert resolve(SPECS, given)["steps"] == ["/a", "/b", "/c,d"]


@pytest.mark.parametrize("value", ["", " , ", "[]", []])
def test_an_empty_required_list_is_a_usage_error(value):
    with pytest.raises(ParameterError) as e:
        resolve(SPECS, {"steps": value}, query="funnels/conversion")
    assert e.value.message == (
        "parameter 'steps' of query 'funnels/conversion' needs at least one value; "
        "expected a comma-separated list or a JSON array"
    )
    assert e.value.exit_code == 2


def test_an_empty_optional_list_is_fine():
    assert spec(name="pages", type="list", default="").parse("") == []


def test_choices_match_case_insensitively_and_return_the_declared_spelling():
    m = spec(name="metric", type="str", default="all", choices=["all", "LCP", "CLS"])
    assert m.parse("lcp") == "LCP" and m.parse("Cls") == "CLS" and m.parse("ALL") == "all"
    d = spec(name="dimension", type="str", default="none", sql={"none": "'all'", "browser": "browser_name"})
    assert d.parse("Browser") == "browser"
    lst = spec(name="events", type="list", choices=["lcp", "cls"])
    assert lst.parse("LCP,cls") == ["lcp", "cls"]
    with pytest.raises(ParameterError, match="'fid' is not allowed"):
        lst.parse("lcp,fid")


def test_choices_differing_only_by_case_stay_case_sensitive():
    p = spec(name="code", type="str", default="a", choices=["a", "A", "b"])
    assert p.parse("A") == "A" and p.parse("a") == "a"
    with pytest.raises(ParameterError, match="one of: a, A, b"):
        p.parse("B")


def test_show_writes_items_with_commas_as_json():
    p = spec(name="steps", type="list")
    assert p.show(["/a", "/b"]) == "/a,/b"
    assert p.show(["/a,b", "/c"]) == '["/a,b", "/c"]'
    assert p.parse(p.show(["/a,b", "/c"])) == ["/a,b", "/c"]
