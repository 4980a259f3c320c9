"""Tokenizer for the Logs Insights query language.

Words (command names, keywords, function names, field names) all come out as
``IDENT`` tokens; the parser decides what a word means from where it stands,
so a field may be called ``count`` or ``status`` without quoting. A dotted
name such as ``event_details.items.0.sku`` is a single token whose value is
the flattened name with backticks removed.

``/`` is ambiguous: division or the start of a regex. It starts a regex where
a value is expected (after an operator, ``(``, ``,``, a keyword such as
``like``, or the field of a ``parse``), and is division after a value.
"""

from __future__ import annotations

from dataclasses import dataclass

from rumq.errors import QuerySyntaxError, line_column

# Token kinds.
IDENT = "IDENT"  # word or field name (value: flattened name)
STRING = "STRING"  # value: the unescaped text
REGEX = "REGEX"  # value: the pattern between the slashes (\/ unescaped)
NUMBER = "NUMBER"  # value: the literal text
PERIOD = "PERIOD"  # value: the literal text, e.g. "5m"
OP = "OP"  # value: the operator text
EOF = "EOF"

#: Time-period units and the canonical unit each one means (plural "s" allowed on
#: every spelling longer than one character, as the AWS docs say).
UNITS: dict[str, str] = {}
for _canon, _names in {
    "ms": ("ms", "msec", "millisecond"),
    "s": ("s", "sec", "second"),
    "m": ("m", "min", "minute"),
    "h": ("h", "hr", "hour"),
    "d": ("d", "day"),
    "w": ("w", "week"),
    "mo": ("mo", "mon", "month"),
    "q": ("q", "qtr", "quarter"),
    "y": ("y", "yr", "year"),
}.items():
    for _n in _names:
        UNITS[_n] = _canon
        if len(_n) > 1:
            UNITS[_n + "s"] = _canon

# Words after which a "/" opens a regex rather than dividing.
_REGEX_AFTER_WORDS = {
    "like", "and", "or", "not", "in", "filter", "where", "by", "fields", "display", "parse",
    "stats", "sort", "as", "pattern",
}
# "==" is a spelling of "=" that CloudWatch accepts; "." after ")" or "]" reads a member
# (``jsonParse(s).a``, ``list[0].name``); inside a name a "." is part of the name.
_OPERATORS = ("!=", "<=", ">=", "=~", "==", "=", "<", ">", "+", "-", "*", "/", "%", "^", "!",
              "|", ",", "(", ")", "[", "]", ":", ".")


@dataclass(frozen=True)
class Token:
    """One token.

    Attributes:
        kind: IDENT, STRING, REGEX, NUMBER, PERIOD, OP or EOF.
        value: the token's value (see the kind constants).
        start: offset of the first character in the query text.
        end: offset just past the last character.
        line: 1-based line.
        column: 1-based column.
        quoted: for IDENT, whether any part was backticked (so it is never a keyword).
    """

    kind: str
    value: str
    start: int
    end: int
    line: int
    column: int
    quoted: bool = False

    def is_word(self, *words: str) -> bool:
        """True for an unquoted IDENT equal (case-insensitively) to one of ``words``."""
        return self.kind == IDENT and not self.quoted and self.value.lower() in words

    def is_op(self, *ops: str) -> bool:
        return self.kind == OP and self.value in ops


def _is_name_start(c: str) -> bool:
    return c.isalpha() or c == "_"


def _is_name_char(c: str) -> bool:
    return c.isalnum() or c == "_"


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.tokens: list[Token] = []

    def error(self, message: str, pos: int, hint: str = "") -> QuerySyntaxError:
        line, col = line_column(self.text, pos)
        return QuerySyntaxError(message, text=self.text, line=line, column=col, hint=hint)

    def make(self, kind: str, value: str, start: int, quoted: bool = False) -> None:
        line, col = line_column(self.text, start)
        self.tokens.append(Token(kind, value, start, self.pos, line, col, quoted))

    def regex_allowed(self) -> bool:
        if not self.tokens:
            return True
        prev = self.tokens[-1]
        if prev.kind == OP:
            return prev.value not in (")", "]")
        if prev.kind == IDENT:
            if prev.is_word(*_REGEX_AFTER_WORDS):
                return True
            # `parse FIELD /re/`
            return len(self.tokens) >= 2 and self.tokens[-2].is_word("parse")
        return False

    def run(self) -> list[Token]:
        text = self.text
        n = len(text)
        while self.pos < n:
            c = text[self.pos]
            if c in " \t\r\n\f\v":
                self.pos += 1
            elif c == "#":
                end = text.find("\n", self.pos)
                self.pos = n if end < 0 else end
            elif c in "'\"":
                self.string(c)
            elif c == "/" and self.regex_allowed():
                self.regex()
            elif c.isdigit() or (c == "." and self.pos + 1 < n and text[self.pos + 1].isdigit()):
                self.number()
            elif c == "@" or c == "`" or _is_name_start(c):
                self.name()
            else:
                for op in _OPERATORS:
                    if text.startswith(op, self.pos):
                        start = self.pos
                        self.pos += len(op)
                        self.make(OP, op, start)
                        break
                else:
                    raise self.error(f"unexpected character {c!r}", self.pos)
        self.make(EOF, "", self.pos)
        return self.tokens

    def string(self, quote: str) -> None:
        start = self.pos
        text = self.text
        i = start + 1
        out: list[str] = []
        while True:
            if i >= len(text):
                raise self.error("unterminated string", start, hint=f"close it with {quote}")
            c = text[i]
            if c == "\\" and i + 1 < len(text):
                nxt = text[i + 1]
                # \" \' \\ are escapes; any other backslash stays (it may be a regex escape
                # inside a parse pattern or regexReplace argument).
                if nxt in "\"'\\":
                    out.append(nxt)
                else:
                    out.append(c + nxt)
                i += 2
                continue
            if c == quote:
                break
            out.append(c)
            i += 1
        self.pos = i + 1
        self.make(STRING, "".join(out), start)

    def regex(self) -> None:
        start = self.pos
        text = self.text
        i = start + 1
        out: list[str] = []
        while True:
            if i >= len(text):
                raise self.error("unterminated regular expression", start, hint="close it with /")
            if text[i] == "\n":
                if "/" in text[i:]:
                    raise self.error("a regular expression must end on the line it starts; this one goes on "
                                     "to the next line", start, hint="join the lines of the /regex/ into one")
                raise self.error("unterminated regular expression", start, hint="close it with /")
            c = text[i]
            if c == "\\" and i + 1 < len(text):
                out.append("/" if text[i + 1] == "/" else c + text[i + 1])
                i += 2
                continue
            if c == "/":
                break
            out.append(c)
            i += 1
        self.pos = i + 1
        self.make(REGEX, "".join(out), start)

    def number(self) -> None:
        start = self.pos
        text = self.text
        i = start
        while i < len(text) and text[i].isdigit():
            i += 1
        if i < len(text) and text[i] == "." and i + 1 < len(text) and text[i + 1].isdigit():
            i += 1
            while i < len(text) and text[i].isdigit():
                i += 1
        j = i
        while j < len(text) and text[j].isalpha():
            j += 1
        if j > i:
            unit = text[i:j]
            if unit.lower() not in UNITS:
                raise self.error(
                    f"unknown time unit {unit!r}",
                    i,
                    hint="units: ms, s, m, h, d, w, mo, q, y (or sec, min, hr, day, week, month, ...)",
                )
            self.pos = j
            self.make(PERIOD, text[start:j], start)
            return
        self.pos = i
        self.make(NUMBER, text[start:i], start)

    def name(self) -> None:
        """A field name: [@] segment {. segment}, segments plain or backticked."""
        start = self.pos
        text = self.text
        i = start
        parts: list[str] = []
        quoted = False
        if text[i] == "@":
            parts.append("@")
            i += 1
        first = True
        while True:
            if i < len(text) and text[i] == "`":
                end = text.find("`", i + 1)
                if end < 0:
                    raise self.error("unterminated backtick name", i, hint="close it with `")
                parts.append(text[i + 1 : end])
                quoted = True
                i = end + 1
            elif i < len(text) and (_is_name_char(text[i]) if not first else _is_name_start(text[i])):
                j = i
                while j < len(text) and _is_name_char(text[j]):
                    j += 1
                parts.append(text[i:j])
                i = j
            elif first and parts == ["@"]:
                raise self.error("a field name must follow @", start)
            else:
                raise self.error("a field name must follow '.'", i)
            first = False
            # Continue over ".segment" (digits allowed: array positions).
            if i + 1 < len(text) and text[i] == "." and (
                _is_name_char(text[i + 1]) or text[i + 1] == "`"
            ):
                parts.append(".")
                i += 1
                continue
            break
        self.pos = i
        self.make(IDENT, "".join(parts), start, quoted)


def tokenize(text: str) -> list[Token]:
    """Split a query into tokens (the last one is EOF).

    Raises:
        QuerySyntaxError: an unterminated string, regex or backtick name, or a
            character that cannot start a token.
    """
    return _Lexer(text).run()
