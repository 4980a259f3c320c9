import os
import sys
from pathlib import Path

import pytest
from _query_data import COVERAGE_QUERY, PAGE_COUNTS, write_library

from rumq.errors import QueryDefinitionError, RumqError, UnknownQueryError, UsageError
from rumq.library import ENV_VAR, FrontMatterError, Library, parse_query, split_front_matter

NO_ENV: dict[str, str] = {}

GOOD = """\
-- ---
-- name: {name}
-- description: {desc}
-- ---
SELECT 1 AS one
"""


def good(name: str, desc: str = "A test query") -> str:
    return GOOD.format(name=name, desc=desc)


def lib(*dirs, env=NO_ENV, **kw) -> Library:
    return Library([str(d) for d in dirs], env=env, builtin=kw.pop("builtin", False), **kw)


def test_parse_full_header():
    q = parse_query(PAGE_COUNTS, path="x.sql", expected_name="test/page_counts", kind="sql", source="lib")
    assert q.name == "test/page_counts"
    assert q.description == "Page views per page (test query)"
    assert q.definition.startswith("Counts page_view events")
    assert [p.name for p in q.params] == ["top", "dimension", "pages"]
    assert q.param("top").default == 10 and q.param("top").min == 1
    assert q.param("dimension").sql == {"none": "'all'", "browser": "browser_name"}
    assert [c.name for c in q.columns] == ["page", "dim", "views"]
    assert q.body.startswith("SELECT page_id AS page, {{dimension}}")
    assert q.header_text().startswith("-- ---\n-- name: test/page_counts")
    assert q.header_text().endswith("-- ---")
    assert q.session_based is False
    c = parse_query(COVERAGE_QUERY, path="c.sql", expected_name="test/coverage", kind="sql", source="lib")
    assert c.session_based is True


def test_insights_header_uses_hash_comments():
    text = "# ---\n# name: logs/count\n# description: Count events\n#\n# params:\n#   - {name: n, type: int, default: 5}\n# ---\nstats count(*) | limit 5\n"
    q = parse_query(text, path="c.insights", expected_name="logs/count", kind="insights", source="lib")
    assert q.kind == "insights" and q.param("n").default == 5
    assert q.body == "stats count(*) | limit 5\n"


def test_split_front_matter_parts():
    fm = split_front_matter("\n  \n# ---\n# name: a/b\n#\n#   nested: 1\n# ---\nstats count(*)\n| limit 1\n", "#")
    assert fm is not None
    assert fm.line == 3  # the opening marker, after two blank lines
    assert fm.yaml_text == "name: a/b\n\n  nested: 1"  # a bare '#' is an empty line; indentation kept
    assert fm.body == "stats count(*)\n| limit 1\n"
    crlf = split_front_matter("-- ---\r\n-- name: a/b\r\n-- ---\r\nSELECT 1\r\n", "--")
    assert crlf is not None and crlf.yaml_text == "name: a/b" and crlf.body == "SELECT 1\r\n"


@pytest.mark.parametrize("text", ["", "SELECT 1\n", "# ---\n# name: a\n# ---\n", "  -- --- \n"])
def test_split_front_matter_absent(text):
    # An SQL file is not read with the Logs Insights prefix and vice versa; no marker, no header.
    prefix = "--" if text.startswith("#") else "#"
    assert split_front_matter(text, prefix) is None


@pytest.mark.parametrize(
    ("text", "words", "line"),
    [
        ("# ---\n# name: a\n", "not closed", 1),
        ("\n# ---\n# name: a\nname: b\n# ---\n", "does not start with '# '", 4),
        ("# ---\n#name: a\n# ---\n", "does not start with '# '", 2),
    ],
)
def test_split_front_matter_malformed(text, words, line):
    with pytest.raises(FrontMatterError, match=words) as e:
        split_front_matter(text, "#")
    assert e.value.line == line


@pytest.mark.parametrize(
    "text, problem, line",
    [
        ("SELECT 1\n", "missing front matter", 1),
        ("\n\n-- ---\n-- name: a/b\n-- description: x\n", "not closed", 3),
        ("-- ---\n-- name: a/b\nname: oops\n-- ---\nSELECT 1\n", "does not start with '-- '", 3),
        ("-- ---\n-- name: a/b\n-- description: [unclosed\n-- ---\nSELECT 1\n", "not valid YAML", None),
        ("-- ---\n-- - a\n-- ---\nSELECT 1\n", "must be a YAML mapping", None),
        ("-- ---\n-- description: x\n-- ---\nSELECT 1\n", "no 'name'", None),
        ("-- ---\n-- name: a/c\n-- description: x\n-- ---\nSELECT 1\n", "does not match", None),
        ("-- ---\n-- name: a/b\n-- ---\nSELECT 1\n", "no 'description'", None),
        ("-- ---\n-- name: a/b\n-- description: x\n-- ---\n\n  \n", "body after the front matter is empty", None),
        ("-- ---\n-- name: a/b\n-- description: x\n-- ---\nSELECT $top\n", "uses $top but no such parameter", None),
        (
            "-- ---\n-- name: a/b\n-- description: x\n-- params:\n--   - {name: d, type: str}\n-- ---\nSELECT {{d}}\n",
            "{{d}} is not an identifier parameter",
            None,
        ),
        (
            "-- ---\n-- name: a/b\n-- description: x\n-- params:\n--   - {name: top, type: int, defualt: 3}\n-- ---\nSELECT 1\n",
            "unknown key(s) defualt",
            None,
        ),
        (
            "-- ---\n-- name: a/b\n-- description: x\n-- params:\n--   - {name: t}\n--   - {name: t}\n-- ---\nSELECT 1\n",
            "declared twice",
            None,
        ),
        ("-- ---\n-- name: a/b\n-- description: x\n-- session_based: maybe\n-- ---\nSELECT 1\n", "true or false", None),
        ("-- ---\n-- name: a/b\n-- description: x\n-- columns: [{type: INT}]\n-- ---\nSELECT 1\n", "at least a name", None),
    ],
)
def test_malformed_files_name_file_and_problem(text, problem, line):
    with pytest.raises(QueryDefinitionError) as e:
        parse_query(text, path="/lib/a/b.sql", expected_name="a/b", kind="sql", source="lib")
    msg = e.value.message
    assert msg.startswith("/lib/a/b.sql" + (f":{line}:" if line else ""))
    assert problem in msg
    assert e.value.exit_code == 2


def test_yaml_error_points_at_the_file_line():
    text = "-- ---\n-- name: a/b\n-- description: x\n-- params: [\n-- ---\nSELECT 1\n"
    with pytest.raises(QueryDefinitionError) as e:
        parse_query(text, path="f.sql", expected_name="a/b", kind="sql", source="lib")
    # the YAML parser reports past the last header line; the line is in the header block
    assert e.value.message.split(":")[1].isdigit()
    assert 2 <= int(e.value.message.split(":")[1]) <= 5


def test_listing_keeps_good_queries_and_reports_problems(tmp_path):
    root = write_library(
        tmp_path,
        {
            "a/good.sql": good("a/good"),
            "a/bad.sql": "SELECT 1\n",
            "b/wrong_name.sql": good("b/other"),
            "c/latin1.sql": "",
            "notes.txt": "ignored",
            "_private/x.sql": "ignored",
            ".hidden/y.sql": "ignored",
        },
    )
    (root / "c/latin1.sql").write_bytes(b"-- \xff\xfe\n")
    listing = lib(root).load()
    assert list(listing.queries) == ["a/good"]
    msgs = sorted(p.message for p in listing.problems)
    assert len(msgs) == 3
    assert msgs[0].startswith(str(root / "a/bad.sql")) and "missing front matter" in msgs[0]
    assert msgs[1].startswith(str(root / "b/wrong_name.sql")) and "does not match" in msgs[1]
    assert msgs[2].startswith(str(root / "c/latin1.sql")) and "UTF-8" in msgs[2]


def test_get_broken_query_raises_its_definition_error(tmp_path):
    root = write_library(tmp_path, {"a/bad.sql": "SELECT 1\n", "a/good.sql": good("a/good")})
    with pytest.raises(QueryDefinitionError, match="missing front matter"):
        lib(root).get("a/bad")
    assert lib(root).get("a/good").name == "a/good"


def test_unknown_name_did_you_mean(tmp_path):
    root = write_library(tmp_path, {"pages/drop_off.sql": good("pages/drop_off"), "pages/entry.sql": good("pages/entry")})
    with pytest.raises(UnknownQueryError) as e:
        lib(root).get("pages/dropoff")
    assert e.value.message == "no query named 'pages/dropoff'"
    assert e.value.hint == "did you mean 'pages/drop_off'?"
    assert e.value.exit_code == 2
    with pytest.raises(UnknownQueryError) as e:
        lib(root).get("drop_off")
    assert "'pages/drop_off'" in e.value.hint
    with pytest.raises(UnknownQueryError) as e:
        lib(root).get("zzzzzz")
    assert "rumq queries" in e.value.hint


def test_same_name_twice_in_one_library_is_a_problem(tmp_path):
    text = "# ---\n# name: a/x\n# description: d\n# ---\nstats count(*)\n"
    root = write_library(tmp_path, {"a/x.sql": good("a/x"), "a/x.insights": text})
    listing = lib(root).load()
    assert list(listing.queries) == ["a/x"]
    assert any("defined twice" in p.message for p in listing.problems)


def test_first_user_library_wins_with_a_notice(tmp_path):
    one = write_library(tmp_path / "one", {"t/q.sql": good("t/q", "from one")})
    two = write_library(tmp_path / "two", {"t/q.sql": good("t/q", "from two"), "t/r.sql": good("t/r")})
    library = lib(one, two)
    assert library.get("t/q").description == "from one"
    assert library.get("t/r").source == str(two)
    assert library.notices_for("t/q") == [
        f"query 't/q' from {one / 't/q.sql'} overrides {two / 't/q.sql'}"
    ]
    assert library.notices_for("t/r") == []


def test_env_var_libraries_come_after_the_option(tmp_path):
    opt = write_library(tmp_path / "opt", {"t/q.sql": good("t/q", "from option")})
    env1 = write_library(tmp_path / "env1", {"t/q.sql": good("t/q", "from env1"), "t/e.sql": good("t/e", "env1")})
    env2 = write_library(tmp_path / "env2", {"t/e.sql": good("t/e", "env2"), "t/f.sql": good("t/f")})
    env = {ENV_VAR: os.pathsep.join([str(env1), str(env2)])}
    library = lib(opt, env=env)
    assert library.dirs == [str(opt), str(env1), str(env2)]
    assert library.get("t/q").description == "from option"
    assert library.get("t/e").description == "env1"
    assert library.names() == ["t/e", "t/f", "t/q"]


def test_missing_user_library_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="is not a directory"):
        lib(tmp_path / "nope")
    with pytest.raises(UsageError, match=ENV_VAR):
        Library(env={ENV_VAR: str(tmp_path / "nope")})


@pytest.fixture
def fake_builtins(tmp_path, monkeypatch):
    """A package standing in for rumq.queries, with one built-in query."""
    pkg = tmp_path / "site" / "fake_builtin_queries"
    write_library(pkg, {"__init__.py": "", "pages/top.sql": good("pages/top", "built-in top")})
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    yield "fake_builtin_queries"
    sys.modules.pop("fake_builtin_queries", None)


def test_user_query_overrides_builtin_with_notice(tmp_path, fake_builtins):
    builtin_only = Library(env=NO_ENV, builtin_package=fake_builtins)
    q = builtin_only.get("pages/top")
    assert q.builtin and q.description == "built-in top"
    assert q.path == str(Path(sys.modules[fake_builtins].__file__).parent / "pages/top.sql")
    user = write_library(tmp_path / "user", {"pages/top.sql": good("pages/top", "my top")})
    library = Library([str(user)], env=NO_ENV, builtin_package=fake_builtins)
    q = library.get("pages/top")
    assert q.description == "my top" and not q.builtin and q.source == str(user)
    assert library.notices_for("pages/top") == [
        f"query 'pages/top' from {user / 'pages/top.sql'} overrides the built-in query"
    ]


def test_broken_user_override_hides_builtin_and_reports(tmp_path, fake_builtins):
    user = write_library(tmp_path / "user", {"pages/top.sql": "SELECT 1\n"})
    library = Library([str(user)], env=NO_ENV, builtin_package=fake_builtins)
    with pytest.raises(QueryDefinitionError, match="missing front matter"):
        library.get("pages/top")
    assert len(library.load().problems) == 1


def test_builtin_library_loads_cleanly():
    """Every query shipped in queries/ parses (an empty library is fine too)."""
    listing = Library(env=NO_ENV).load()
    assert listing.problems == []
    for q in listing.queries.values():
        assert q.builtin


def test_one_query_looked_up_alone_equals_the_full_listing(tmp_path, fake_builtins):
    # get() reads only the files that define the name (rumq run's fixed cost);
    # it must give what the full listing gives, notices and errors included.
    one = write_library(tmp_path / "one", {"pages/top.sql": good("pages/top", "one"), "t/q.sql": good("t/q"),
                                           "t/twice.sql": good("t/twice"), "t/twice.insights": "# x\n",
                                           "t/bad.sql": "SELECT 1\n"})
    two = write_library(tmp_path / "two", {"pages/top.insights": "# not even parsed\n", "t/q.sql": good("t/q", "2")})

    def fresh():
        return Library([str(one), str(two)], env=NO_ENV, builtin_package=fake_builtins)

    def outcome(library, name):
        try:
            return library.get(name), library.notices_for(name)
        except RumqError as e:
            return type(e), e.message

    full = fresh()
    full.load()
    for name in ["pages/top", "t/q", "t/twice", "t/bad", "t/none", "T/Q"]:
        alone = fresh()
        assert outcome(alone, name) == outcome(full, name), name
        # defined twice in one library, or absent: the full listing decides
        assert (alone._listing is None) == (name in ("pages/top", "t/q", "t/bad")), name
    assert fresh().notices_for("pages/top") == [
        f"query 'pages/top' from {one / 'pages/top.sql'} overrides {two / 'pages/top.insights'}",
        f"query 'pages/top' from {one / 'pages/top.sql'} overrides the built-in query",
    ]
    with pytest.raises(QueryDefinitionError, match="missing front matter"):
        fresh().get("t/bad")


def test_every_builtin_looked_up_alone_equals_the_full_listing():
    full = Library(env=NO_ENV)
    for name, q in full.load().queries.items():
        alone = Library(env=NO_ENV)
        assert alone.get(name) == q and alone._listing is None, name
