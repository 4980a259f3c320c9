"""The generator's fast paths write exactly what the plain ones would: UUIDs,
number formatting, resource details, and the JSON-lines sink's gzip blocks."""

from __future__ import annotations

import gzip
import json
import random
import uuid

import pytest

from rumq.generate import events as ev
from rumq.generate import iter_messages
from rumq.generate.session import uuid4
from rumq.generate.writers import _FLUSH_LINES, JsonlSink


def test_uuid4_is_what_the_uuid_module_writes():
    rng = random.Random(42)
    ints = [0, (1 << 128) - 1] + [rng.getrandbits(128) for _ in range(3000)]
    it = iter(ints)
    for n in ints:
        assert uuid4(lambda _bits: next(it)) == str(uuid.UUID(int=n, version=4))


@pytest.mark.parametrize("xs", [(1.5, 23.25), (0, 0.0, 3), (1e-05, 2.5), (0.0001, 1e16), (10.00001, 1e15),
                                (1234567.891, 0.30000000000000004)])
def test_nums_write_numbers_as_repr(xs):
    assert ev._nums(*xs) == [f"{x}" for x in xs]


def test_nums_on_random_floats():
    rng = random.Random(7)
    for _ in range(2000):
        xs = [rng.random() * 10 ** rng.randint(-7, 7) for _ in range(4)]
        assert ev._nums(*xs) == [f"{x}" for x in xs]


@pytest.mark.parametrize(("url", "initiator", "file_type", "start"), [
    ("https://www.example-shop.com/static/js/main.js", "script", "script", 180.0),
    ("https://www.example-shop.com/static/css/main.css", "link", "stylesheet", 175.0),
    ("https://cdn.example-shop.com/fonts/inter-var.woff2", "css", "font", 420.0),
])
def test_resource_tail_is_resource(url, initiator, file_type, start):
    head = ev.resource_head(url, initiator, start)
    a, b = random.Random(3), random.Random(3)
    for net in (1.0, 1.8, 2.0) * 300:
        assert ev.resource_tail(a, head, file_type, net) == ev.resource(b, url, initiator, file_type, net, start)
    assert a.getstate() == b.getstate()


def test_every_number_is_written_as_repr():
    """json.dumps writes floats with repr: re-serializing each event's details
    gives its text back only if every number was formatted that way."""
    n = 0
    for m in iter_messages(sessions=300, days=1, seed=5):
        raw = m.message[m.message.rindex('"event_details":') + 16:-1]
        assert json.dumps(json.loads(raw), separators=(",", ":"), ensure_ascii=False) == raw
        n += 1
    assert n > 5000


@pytest.mark.parametrize("count", [10, _FLUSH_LINES, 3 * _FLUSH_LINES + 17])
def test_jsonl_sink_writes_the_same_bytes_by_lines_and_by_add(tmp_path, count):
    # ISA-L's output depends on how the input is split, so the chunk's direct
    # path (lines + drain after each visit) must compress the same blocks.
    msgs = [m.message for _, m in zip(range(count), iter_messages(sessions=200, days=1, seed=2), strict=False)]
    by_add = JsonlSink(tmp_path / "a.jsonl.gz", gzip=True, level=1)
    for msg in msgs:
        by_add.add(0, "", msg)
    by_add.close()
    direct = JsonlSink(tmp_path / "b.jsonl.gz", gzip=True, level=1)
    rng = random.Random(count)
    for i, msg in enumerate(msgs):
        direct.lines.append(msg.encode())
        if rng.random() < 0.05 or i == len(msgs) - 1:
            direct.drain()
    direct.close()
    a, b = (tmp_path / "a.jsonl.gz").read_bytes(), (tmp_path / "b.jsonl.gz").read_bytes()
    assert a == b
    assert gzip.decompress(b).decode().splitlines() == msgs
