"""DuckDB scalar functions whose Spark twin differs at the edges, rendered with DuckDB's answers.

Each rendering below was compared value by value with DuckDB on Spark local
(tests/test_engine_spark_scalars.py keeps the edge values, each checked by
hand where it decides the rendering):

- ``power(x, y)`` (``^``): Spark's ``power`` is Java's ``StrictMath.pow``
  (fdlibm), DuckDB's the C library's ``pow``; both within an ulp of the exact
  value (the suite compares DOUBLEs to 1e-9 relative). Java differs from C99 on
  two special cases, rendered as C: ``power(1, NaN)`` and ``power(-1, ±inf)``
  are 1 (Java: NaN).
- ``fmod(x, y)`` (``%`` of the Logs Insights compiler): DuckDB's result takes
  the divisor's sign (``fmod(-10, 3) = 2``: C's ``fmod``, then ``+ y`` when the
  signs differ), a zero result is ``+0.0``, and a zero divisor, an infinite or
  NaN dividend or a NaN divisor give NaN. Java's ``%`` on doubles is C's
  ``fmod`` (exact), so the same steps on it give DuckDB's value; Spark's own
  ``%`` fails on a zero divisor (ANSI mode), so that case never reaches it.
- ``trunc(x)`` of a DOUBLE: sqlglot writes ``CAST(x AS BIGINT)``, which
  overflows and loses ``-0.0``; rendered as ``floor`` of the magnitude (exact
  below 2^52, every larger DOUBLE is whole already) with DuckDB's sign.
- ``concat(a, ...)`` of text: DuckDB skips NULL arguments (all NULL: ``''``),
  Spark's is NULL when one is: each argument ``coalesce``-d with ``''``. An
  argument that is not provably text is refused (each engine writes numbers
  as text its own way).
- ``CAST(<DOUBLE> AS VARCHAR)``: both write the shortest text that reads back
  as the value for 1e-3 <= |x| < 1e7 and zero (30,000 random values compared);
  outside it DuckDB writes ``1e+20``, ``1e-05``, ``10000000.0``, Spark
  ``1.0E20``, ``1.0E-5``, ``1.0E7`` (and Java 17 is not always shortest there:
  ``1e23`` is ``9.999999999999999E22``); NaN and infinities are ``nan``,
  ``inf``, ``-inf`` on DuckDB. Rendered: those three spelled as DuckDB does,
  the range as Spark writes it, anything else stops the query (``raise_error``
  naming the value).
- ``try(decode(unhex(s)))`` (``hexToAscii``): Spark's ``unhex`` is NULL for a
  non-hex character where DuckDB's fails (``try``: NULL), both read an odd
  length with a leading 0; ``decode`` fails on bytes that are not UTF-8 on
  both engines, ``try_validate_utf8`` gives NULL for them on Spark (surrogates,
  overlong forms and code points past U+10FFFF are invalid on both: every
  1- and 2-byte sequence and random longer ones compared). Only that
  composition is rendered; another ``try`` is refused.
- ``abs``, ``replace`` (an empty search text leaves the text as it is on
  both) and ``trim``/``ltrim``/``rtrim`` with characters (both remove any of
  the characters, by code point) as they are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from sqlglot import exp

#: Functions sqlglot does not model (``exp.Anonymous``) rendered here, by DuckDB name.
ANONYMOUS = frozenset({"fmod"})

#: The largest DOUBLE magnitude with a fraction is below 2^52.
_WHOLE = 4503599627370496


def classes() -> tuple[type, ...]:
    """sqlglot node classes rendered (or allowed as they are) by this module."""
    from sqlglot import exp

    return (exp.Pow, exp.Trunc, exp.Abs, exp.Concat, exp.Replace, exp.Try, exp.Decode, exp.Unhex)


def _let(body: str, **args: exp.Expression) -> exp.Expression:
    """Spark SQL ``body`` in which ``rumq_<name>`` is the value of ``args[name]``, each computed once.

    ``element_at(transform(array(<value>), rumq_<name> -> <body>), 1)``: Spark SQL has
    no LET, and writing an argument out at each use would grow the SQL with every nesting.
    """
    import sqlglot
    from sqlglot import exp

    sql = body
    for name in reversed(list(args)):
        sql = f"element_at(transform(array(rumq_arg_{name}), rumq_{name} -> {sql}), 1)"
    tree = sqlglot.parse_one(sql, read="spark")
    for col in list(tree.find_all(exp.Column)):
        if col.name.startswith("rumq_arg_") and not col.table:
            col.replace(args[col.name[len("rumq_arg_"):]].copy())
    return tree


def check(node: exp.Expression, what: str, is_double: object, is_text: object) -> None:
    """Refuse ``node`` (on the tree as written) when its rendering here would not be exact.

    ``is_double`` and ``is_text`` are the renderer's type tests (``rumq.engines.portable``).

    Raises:
        NotPortableError: naming the construct.
    """
    from sqlglot import exp

    from rumq.engines.portable import NotPortableError

    if isinstance(node, exp.Trunc) and (node.args.get("decimals") is not None or not is_double(node.this)):  # type: ignore[operator]
        raise NotPortableError(f"{what}: trunc() is rendered for Spark only of a DOUBLE, without decimals")
    if type(node) is exp.Concat or isinstance(node, exp.Replace):  # not ConcatWs, a subclass
        for a in node.expressions if isinstance(node, exp.Concat) else node.args.values():
            if not is_text(a):  # type: ignore[operator]
                raise NotPortableError(f"{what}: {node.key}() of {a.sql(dialect='duckdb')[:40]}, which is not provably "
                                       "text, is not rendered for Spark (each engine writes numbers as text its own way)")
    if isinstance(node, exp.Try) and not (isinstance(node.this, exp.Decode) and isinstance(node.this.this, exp.Unhex)):
        raise NotPortableError(f"{what}: try() is rendered for Spark only as try(decode(unhex(s))) (hexToAscii)")
    if isinstance(node, (exp.Decode, exp.Unhex)) and not isinstance(node.parent, (exp.Decode, exp.Try)):
        raise NotPortableError(f"{what}: {type(node).__name__.lower()}() is rendered for Spark only inside "
                               "try(decode(unhex(s)))")
    if isinstance(node, exp.Decode) and not isinstance(node.this, exp.Unhex):
        raise NotPortableError(f"{what}: decode() is rendered for Spark only of unhex()")


def render(node: exp.Expression, what: str) -> exp.Expression | None:
    """The Spark rendering of ``node`` (its arguments already rendered), or None when not one of this module's."""
    from sqlglot import exp

    if isinstance(node, exp.Pow):
        return _let("CASE WHEN (rumq_x = 1 AND rumq_y IS NOT NULL) OR (rumq_x = -1 AND abs(rumq_y) = CAST('Infinity' AS DOUBLE)) "
                         "THEN CAST(1 AS DOUBLE) ELSE power(rumq_x, rumq_y) END",
                         x=exp.cast(node.this.copy(), "DOUBLE"), y=exp.cast(node.expression.copy(), "DOUBLE"))
    if isinstance(node, exp.Anonymous) and node.name.lower() == "fmod" and len(node.expressions) == 2:
        x, y = (exp.cast(a.copy(), "DOUBLE") for a in node.expressions)
        # Spark compares NaN as larger than any number: NaN and infinities are sorted out first.
        return _let(
            "CASE WHEN rumq_x IS NULL OR rumq_y IS NULL THEN CAST(NULL AS DOUBLE) "
            "WHEN rumq_y = 0 OR isnan(rumq_x) OR isnan(rumq_y) OR abs(rumq_x) = CAST('Infinity' AS DOUBLE) "
            "THEN CAST('NaN' AS DOUBLE) "
            "WHEN rumq_x % rumq_y = 0 THEN CAST(0 AS DOUBLE) "
            "WHEN (rumq_x % rumq_y < 0) <> (rumq_y < 0) THEN rumq_x % rumq_y + rumq_y "
            "ELSE rumq_x % rumq_y END", x=x, y=y)
    if isinstance(node, exp.Anonymous) and node.name.lower() == "fmod":
        from rumq.engines.portable import NotPortableError

        raise NotPortableError(f"{what}: fmod() takes two arguments")
    if isinstance(node, exp.Trunc):
        return _let(f"CASE WHEN isnan(rumq_x) OR abs(rumq_x) >= {_WHOLE} OR rumq_x = 0 THEN rumq_x "
                         "WHEN rumq_x < 0 THEN -CAST(floor(-rumq_x) AS DOUBLE) ELSE CAST(floor(rumq_x) AS DOUBLE) END",
                         x=node.this)
    if type(node) is exp.Concat:  # not ConcatWs, a subclass (it skips NULLs on both)
        args = [exp.Coalesce(this=a.copy(), expressions=[exp.Literal.string("")]) for a in node.expressions]
        return exp.Anonymous(this="concat", expressions=args)
    if isinstance(node, exp.Try):
        unhex = node.this.this
        # try_validate_utf8: the text when its bytes are UTF-8, else NULL (decode fails on both engines).
        return _let("try_validate_utf8(CAST(unhex(rumq_s) AS STRING))", s=unhex.this)
    if isinstance(node, exp.Cast) and node.meta.get("double_text"):
        return double_text(node.this, checked=node.meta["double_text"] == "typeof")
    return None


#: DuckDB's text of a DOUBLE ``rumq_x`` where Spark's is the same, else a stop naming the value.
_DOUBLE_TEXT = (
    "CASE WHEN rumq_x IS NULL THEN CAST(NULL AS STRING) WHEN isnan(rumq_x) THEN 'nan' "
    "WHEN rumq_x = CAST('Infinity' AS DOUBLE) THEN 'inf' WHEN rumq_x = CAST('-Infinity' AS DOUBLE) THEN '-inf' "
    "WHEN rumq_x = 0 OR (abs(rumq_x) >= 0.001 AND abs(rumq_x) < 10000000) THEN CAST(rumq_x AS STRING) "
    "ELSE raise_error(concat('the number ', CAST(rumq_x AS STRING), ' is written as text differently by DuckDB '"
    "'and Spark (outside 0.001 to 10,000,000): run the query on DuckDB')) END")


def double_text(x: exp.Expression, *, checked: bool = False) -> exp.Expression:
    """``CAST(x AS VARCHAR)`` of a DOUBLE with DuckDB's text, or a stop where Spark's differs (module docstring).

    ``checked``: ``x`` may be a DOUBLE or not (a CTE's column, a parameter): its type is tested
    when Spark runs (``typeof``); any other type is cast as it is, a FLOAT stops the query.
    """
    if not checked:
        return _let(_DOUBLE_TEXT, x=x)
    # CAST(rumq_x AS DOUBLE) in the DOUBLE branch: every branch is analysed whatever the type.
    as_double = _DOUBLE_TEXT.replace("rumq_x", "CAST(rumq_x AS DOUBLE)")
    return _let(f"CASE WHEN typeof(rumq_x) = 'double' THEN {as_double} "
                "WHEN typeof(rumq_x) = 'float' THEN raise_error('a FLOAT is written as text differently by DuckDB "
                "and Spark: run the query on DuckDB') ELSE CAST(rumq_x AS STRING) END", x=x)
