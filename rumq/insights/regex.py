"""The shape of a ``parse`` regex's capturing groups, decided exactly.

DuckDB's ``regexp_extract`` gives ``''`` for a group that takes no part in the
match, where Logs Insights leaves the field null. A group that cannot match the
empty string gives ``''`` only when it takes no part, so ``''`` means null; a
group that always takes part when the regex matches (not under ``?``, ``*``,
``{0,n}`` or an alternative, nor inside one) gives ``''`` only as its value. The
compiler refuses the remaining case, an optional group that can match the empty
string, rather than guess.

Whether a group can match the empty string is asked of RE2 itself (DuckDB's
regex engine, the one that runs the query), not of another dialect: the group's
pattern must match an empty stretch of text, tried at every kind of position its
zero-width assertions (``^ $ \\A \\z \\b \\B``) can tell apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

#: Characters before and after an empty stretch: none (start or end of the text), a word
#: character, another character, a line break. Together they meet every case of RE2's
#: assertions (``\\b`` is ASCII-only in RE2; ``^``/``$`` with or without ``(?m)``).
_SIDES = ("", "a", " ", "\n")


@dataclass(frozen=True)
class Group:
    """A capturing group of a regex (RE2 syntax, named groups already plain ``(``).

    Attributes:
        index: its number (1-based, in order of the opening parentheses).
        start, end: where its pattern (between the parentheses) starts and ends in the regex.
        optional: it may take no part in a match of the whole regex: it or a group around it
            has a quantifier that allows zero repetitions, or stands in one of several
            alternatives.
    """

    index: int
    start: int
    end: int
    optional: bool


def syntax_at(rx: str) -> Iterator[int]:
    """The positions in ``rx`` (RE2) of characters that are regex syntax, in order.

    Every character outside a character class and not escaped: an escape
    (``\\x``) and a class (``[...]``, with a literal ``]`` first and POSIX
    classes such as ``[:alpha:]`` inside) yield nothing, so a ``(`` among
    them is not taken for a group.
    """
    i = 0
    in_class = False
    while i < len(rx):
        c = rx[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            end = rx.find(":]", i + 2) if rx.startswith("[:", i) else -1
            if end > 0:  # [:alpha:] inside a class
                i = end + 2
                continue
            if c == "]":
                in_class = False
            i += 1
            continue
        if c == "[":
            in_class = True
            i += 1
            if rx[i : i + 1] == "^":
                i += 1
            if rx[i : i + 1] == "]":  # a ] first in a class is literal
                i += 1
            continue
        yield i
        i += 1


def groups(rx: str) -> dict[int, Group]:
    """The capturing groups of ``rx`` by number."""
    # Each open parenthesis: [start of its content, capturing index or None, has '|', parent].
    stack: list[list] = [[0, None, False, None]]  # the whole regex
    closed: list[tuple[list, int, int]] = []  # (frame, end of content, minimum repetitions)
    n = 0
    skip = 0  # the flags of a (?...) are not syntax of their own
    for i in syntax_at(rx):
        if i < skip:
            continue
        c = rx[i]
        if c == "(":
            if rx.startswith("(?", i):
                m = re.match(r"\(\?[A-Za-z-]*\)", rx[i:])
                if m:  # (?i): flags for the rest of the group, not a group
                    skip = i + m.end()
                    continue
                close = rx.index(":", i) if ":" in rx[i:] else i + 1
                stack.append([close + 1, None, False, stack[-1]])
                skip = close + 1
                continue
            n += 1
            stack.append([i + 1, n, False, stack[-1]])
        elif c == "|":
            stack[-1][2] = True
        elif c == ")" and len(stack) > 1:
            frame = stack.pop()
            closed.append((frame, i, _min_repeat(rx, i + 1)))
    zero_min = {id(f) for f, _, rep in closed if rep == 0}
    out: dict[int, Group] = {}
    for frame, end, _ in closed:
        if frame[1] is None:
            continue
        optional = False
        f = frame
        while f[3] is not None:  # up to the whole regex
            parent = f[3]
            if id(f) in zero_min or parent[2]:
                optional = True
                break
            f = parent
        out[frame[1]] = Group(frame[1], frame[0], end, optional)
    return out


def _min_repeat(rx: str, i: int) -> int:
    """The fewest repetitions the quantifier at ``rx[i:]`` allows (1 when there is none)."""
    if i >= len(rx):
        return 1
    if rx[i] in "?*":
        return 0
    m = re.match(r"\{(\d*)(,\d*)?\}", rx[i:])
    if m and (m.group(1) or m.group(2)):
        return int(m.group(1) or 0)
    return 1


def can_match_empty(sub: str) -> bool:
    """Whether the regex ``sub`` (RE2) can match an empty stretch of some text.

    Tried with RE2 (DuckDB) at a position between each pair of ``_SIDES``, with and
    without multi-line mode (set by a flag before the group in the whole regex).
    """
    import duckdb

    cases = []
    for before in _SIDES:
        for after in _SIDES:
            for flags in ("", "(?m)"):
                rx = f"{flags}\\A(?s:.){{{len(before)}}}(?:{sub})(?s:.){{{len(after)}}}\\z"
                cases.append((before + after, rx))
    sql = "SELECT bool_or(regexp_matches(t, r)) FROM (SELECT unnest($t) AS t, unnest($r) AS r)"
    [(found,)] = duckdb.execute(sql, {"t": [t for t, _ in cases], "r": [r for _, r in cases]}).fetchall()
    return bool(found)
