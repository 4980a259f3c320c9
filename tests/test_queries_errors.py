"""errors/* beyond their fixtures (tests/fixtures/queries/errors/): bad input, message and frame parsing."""

from __future__ import annotations

import analyses_data as fx
import pytest


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return fx.build(tmp_path_factory.mktemp("q-errors"))


def test_rate_per_session_rejects_unknown_dimension(data):
    from rumq.errors import ParameterError

    with pytest.raises(ParameterError, match="dimension"):
        fx.run(data, "errors/rate_per_session", dimension="browser_name; DROP TABLE events")


def test_top_js_fingerprints(data):
    # The two groups of the fixture (tests/fixtures/queries/errors/top_js.yaml, which does not
    # compare the fingerprint): distinct, 12 hex digits each.
    rows = fx.run(data, "errors/top_js")
    assert len({r["fingerprint"] for r in rows}) == 2
    assert all(len(r["fingerprint"]) == 12 and int(r["fingerprint"], 16) >= 0 for r in rows)


def test_top_js_message_and_frame_parsing(tmp_path):
    # Firefox frames, anonymous Chrome frames, a cut stack (falls back to filename), and the
    # placeholders: URL, quoted string, UUID, hex, number.
    ctx = fx.CHROME_US

    def err(at, message, stack, filename=None):
        d = {"type": "Error", "message": message, "stack": stack}
        if filename:
            d["filename"] = filename
        return fx.msg("js_error", at, session=fx.S1, user=fx.U1, page="/", ctx=ctx, details=d)

    msgs = [
        err("10:00:00", "Bad 'x' at https://a.b/c?d=1 id 3f2504e0-4f89-11d3-9a0c-0305e82c3301 0xff 42",
            "render@https://cdn.x/app.js?v=1:1:2\nmain@https://cdn.x/app.js:3:4"),
        err("10:00:01", "Bad \"y\" at http://e.f/g id 3f2504e0-4f89-11d3-9a0c-0305e82c3302 0x1 7",
            "render@https://cdn.x/app.js:9:9"),
        err("10:00:02", "boom", "Error: boom\n    at https://cdn.x/vendor.js:1:1"),
        err("10:00:03", "cut", "Error: cut\n    at veryLongFunctionName (https://cdn.x/ven", "https://cdn.x/v.js"),
    ]
    import json

    from rumq.ingest import ingest

    src = tmp_path / "e.jsonl"
    src.write_text("".join(json.dumps(m) + "\n" for m in msgs))
    ingest(tmp_path / "d", [str(src)])
    rows = fx.run(tmp_path / "d", "errors/top_js")
    got = sorted((r["message_pattern"], r["top_file"], r["top_function"], r["errors"]) for r in rows)
    assert got == [
        ("Bad <str> at <url> id <uuid> <hex> <n>", "https://cdn.x/app.js", "render", 2),
        ("boom", "https://cdn.x/vendor.js", "<anonymous>", 1),
        ("cut", "https://cdn.x/v.js", "veryLongFunctionName", 1),  # file cut: filename used
    ]
