"""A last guard on generated Trino SQL: the DuckDB-only spellings that Trino rejects or reads differently.

Used by ``rumq.engines.trino`` before a statement is printed and by the tests.
String literals are blanked first, so a JSON path such as ``'$.metadata'`` or
a pattern holding ``[`` is not taken for a construct.
"""

from __future__ import annotations

import re

_STRINGS = re.compile(r"'(?:[^']|'')*'")
_QUOTED = re.compile(r'"(?:[^"]|"")*"')
#: (pattern over the text without literals, what it is)
_TEXT_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p, re.IGNORECASE), w) for p, w in (
    (r"\$", "a $ parameter (Trino takes no $name parameters)"),
    (r"::", "a :: cast"),
    (r"\bGLOB\b", "GLOB"),
    (r"\bQUALIFY\b", "QUALIFY"),
    (r"\bquantile(_cont|_disc)?\s*\(", "quantile functions (DuckDB only)"),
    (r"\bapprox_(percentile|quantile)\s*\(", "an approximate percentile"),
    (r"\blist_\w+\s*\(|\blist\s*\(", "list functions (DuckDB only)"),
    (r"\bEXCLUDE\b|\bCOLUMNS\s*\(", "star modifiers (DuckDB only)"),
    (r"\bGROUP\s+BY\s+ALL\b", "GROUP BY ALL"),
    (r"->>", "the ->> operator"),
    (r"\bMATERIALIZED\b", "CTE materialization hints"),
    (r"\bregexp_matches\s*\(|\bregexp_full_match\s*\(", "DuckDB regex functions"),
    (r"\{", "struct/map literals"),
))
#: Words after which a '[' cannot be a subscript: it would open a DuckDB list literal.
_NOT_SUBSCRIPTED = frozenset({"IN", "SELECT", "THEN", "ELSE", "AND", "OR", "WHEN", "BY", "AS", "ON", "NOT", "IS"})


def rejected_constructs(sql: str) -> list[str]:
    """The constructs in ``sql`` (Trino dialect) that Trino rejects or would compute differently."""
    import sqlglot

    text = _QUOTED.sub('""', _STRINGS.sub("''", sql))
    found = [w for p, w in _TEXT_RULES if p.search(text)]
    for m in re.finditer(r"\[", text):
        before = text[:m.start()].rstrip()
        word = re.search(r"(\w+)$", before)
        if before.endswith((")", "]")) or (word and word.group(1).upper() not in _NOT_SUBSCRIPTED):
            continue
        found.append("a list literal [...] (Trino writes ARRAY[...])")
        break
    from sqlglot.dialects.trino import Trino
    from sqlglot.errors import ParseError, TokenError
    from sqlglot.tokens import TokenType

    try:
        sqlglot.parse_one(sql, read="trino")
        tokens = Trino().tokenize(sql)
    except (ParseError, TokenError) as e:
        return [*found, f"not Trino syntax: {str(e).splitlines()[0]}"]
    # sqlglot's Trino parser drops a 4th regexp_replace argument in silence: count them on the tokens.
    for i, t in enumerate(tokens[:-1]):
        if t.text.lower() == "regexp_replace" and tokens[i + 1].token_type == TokenType.L_PAREN:
            depth, args = 0, 1
            for u in tokens[i + 1:]:
                if u.token_type in (TokenType.L_PAREN, TokenType.L_BRACKET):
                    depth += 1
                elif u.token_type in (TokenType.R_PAREN, TokenType.R_BRACKET):
                    depth -= 1
                    if depth == 0:
                        break
                elif u.token_type == TokenType.COMMA and depth == 1:
                    args += 1
            if args > 3:
                found.append("regexp_replace flags (Trino has no 'g' flag: it always replaces every match)")
                break
    return found
