"""DuckDB's ``json_extract_string`` (``->>``) on Spark: ``get_json_object`` where it gives DuckDB's text, a stop where not.

DuckDB reads a JSON pointer (``/a/0/b``, RFC 6901; ``''`` is the whole value)
or a JSONPath (``$.a[0]``); Spark's ``get_json_object`` takes a JSONPath. What
the differential tests (tests/test_engine_spark_json.py) found, value by value:

- The same text on both: strings (unicode escapes decoded, ``\\n`` as a line
  break), integers of any size, booleans, a decimal number between 1e-3 and
  1e7 (54,000 random ones compared: both write the shortest form), objects and
  arrays as compact JSON (key order, duplicate keys: the first wins), JSON
  ``null`` and a missing member (NULL).
- Different: a number outside that range (DuckDB ``100000000000000000000.0``,
  ``1.5e-7``, ``1e400``; Spark ``1.0E20``, ``1.5E-7``, ``"Infinity"``), a
  character outside the BMP inside an object or array (Spark writes
  ``\\uD83D\\uDE00``, DuckDB the character), and the JSON document ``null``
  itself at ``$`` (DuckDB NULL, Spark ``'null'``).
- A pointer segment of digits is an array index or an object key, decided by
  the value; a Spark path is one or the other. With one such segment the
  rendering takes the index path, else the key path (only one can match); a
  pointer with several is not rendered, nor one with a key Spark's paths
  cannot spell (empty, ``'``, ``*``) or a ``~`` escape other than ``~0``/``~1``.

So the rendering is ``coalesce(get_json_object(x, <index path>),
get_json_object(x, <key path>))``, NULL for the document ``null``, and
``raise_error`` for a result whose text Spark writes differently (above): the
query stops, naming the value, rather than answer differently. A bound pointer
(``$p``, ``'/' || $field``) is translated with its value (``render_bound``): the
rendered SQL reads the paths from the parameters ``rumq_json<i>``,
``rumq_json<i>_key`` and ``rumq_json<i>_error``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from sqlglot import exp

#: Spark results whose text DuckDB writes differently (Java regex): a number in exponent form or
#: an infinite one (Jackson writes 1e400 as "Infinity"), as the value or inside an object/array,
#: and a surrogate pair escaped inside an object/array.
DIFFERENT_TEXT = (
    r'(?s)^-?[0-9]\.[0-9]+E-?[0-9]+$|^"-?Infinity"$'
    r'|^(?=[\[{]).*([:,\[]-?[0-9]\.[0-9]+E-?[0-9]+[,\]}]|[:,\[]"-?Infinity"[,\]}]|\\u[Dd][89ABab])'
)
#: The JSON document ``null`` (JSON whitespace around it).
JSON_NULL = r"^[ \t\n\r]*null[ \t\n\r]*$"


class PathError(ValueError):
    """A JSON pointer or path that has no exact Spark JSONPath (the message says why)."""


def _key(segment: str) -> str:
    if segment == "" or "'" in segment or "*" in segment:
        raise PathError(f"has the key {segment!r}, which a Spark JSON path cannot spell (empty, ' or *)")
    return f"['{segment}']"


def spark_paths(pointer: str) -> tuple[str, str]:
    """A DuckDB JSON pointer as two Spark JSON paths: digit segments as an index, and as a key.

    Raises:
        PathError: the pointer has no exact rendering (see the module docstring).
    """
    if pointer == "":
        return "$", "$"
    if not pointer.startswith("/"):
        raise PathError("is not a JSON pointer (it does not start with '/')")
    by_index, by_key, digits = ["$"], ["$"], 0
    for raw in pointer[1:].split("/"):
        if re.search(r"~(?![01])", raw):
            raise PathError(f"has the segment {raw!r}: '~' escapes other than ~0 and ~1 are not rendered")
        seg = raw.replace("~1", "/").replace("~0", "~")
        # DuckDB reads digits as an array index (no leading zero; '01' is a key only).
        if re.fullmatch(r"0|[1-9][0-9]{0,8}", seg):
            digits += 1
            by_index.append(f"[{seg}]")
            by_key.append(_key(seg))
        else:
            by_index.append(_key(seg))
            by_key.append(_key(seg))
    if digits > 1:
        raise PathError("has more than one numeric segment (each an array index or an object key, "
                        "which one depends on the value)")
    return "".join(by_index), "".join(by_key)


def literal_paths(path: exp.Expression) -> tuple[str, str]:
    """The Spark paths of a literal pointer (``'/a/b'``) or a sqlglot JSONPath (``'$.a[0]'``).

    Raises:
        PathError: not a literal path, or one without an exact rendering.
    """
    from sqlglot import exp

    if isinstance(path, exp.Literal) and path.is_string:
        return spark_paths(path.name)
    if not isinstance(path, exp.JSONPath):
        raise PathError("is computed (a literal or a bound parameter is needed)")
    out = []
    for part in path.expressions:
        if isinstance(part, exp.JSONPathRoot):
            out.append("$")
        elif isinstance(part, exp.JSONPathKey) and isinstance(part.this, str):
            out.append(_key(part.this))
        elif isinstance(part, exp.JSONPathSubscript) and isinstance(part.this, int) and part.this >= 0:
            out.append(f"[{part.this}]")
        else:
            raise PathError(f"has the part {part.sql()!r}, which is not rendered for Spark")
    if not out or out[0] != "$":
        raise PathError("does not start at the root ($)")
    return "".join(out), "".join(out)


def bound_path(path: exp.Expression) -> tuple[str, str] | None:
    """For a pointer built from a bound parameter: (a literal prefix, the parameter's name), else None.

    ``$p`` or ``'/prefix' || $p``, as the Logs Insights compiler and events/custom write them.
    """
    from sqlglot import exp

    if isinstance(path, exp.Placeholder) and path.name:
        return "", path.name
    if isinstance(path, exp.DPipe) and isinstance(path.this, exp.Literal) and path.this.is_string \
            and isinstance(path.expression, exp.Placeholder) and path.expression.name:
        return path.this.name, path.expression.name
    return None


def param_names(i: int) -> tuple[str, str, str]:
    """The parameters that carry the ``i``-th bound pointer's paths and error (``render_bound``)."""
    return f"rumq_json{i}", f"rumq_json{i}_key", f"rumq_json{i}_error"


def bound_args(prefix: str, value: Any, i: int) -> dict[str, Any]:
    """The parameter values for the ``i``-th bound pointer, ``prefix`` + ``value``.

    A pointer without an exact rendering binds its reason as the error, which
    stops the query when (and only when) Spark evaluates the extraction.
    """
    a, b, err = param_names(i)
    if value is None:  # NULL pointer: NULL on both engines
        return {a: None, b: None, err: None}
    pointer = prefix + str(value)
    if not prefix and re.fullmatch(r"\$(\[(0|[1-9][0-9]{0,8})\]|\.[A-Za-z_][A-Za-z0-9_]*)*", pointer):
        # A JSONPath of names and indexes (the Logs Insights list[index]): the same path on Spark.
        return {a: pointer, b: pointer, err: None}
    try:
        pa, pb = spark_paths(pointer)
    except PathError as e:
        return {a: "$", b: "$", err: f"the JSON pointer {pointer!r} {e}: not rendered for Spark, run it on DuckDB"}
    return {a: pa, b: pb, err: None}


def render(x: exp.Expression, path_a: exp.Expression, path_b: exp.Expression,
           error: exp.Expression | None) -> exp.Expression:
    """``x ->> path`` as Spark SQL with DuckDB's answer (or a stop; module docstring)."""
    import sqlglot
    from sqlglot import exp

    xs = x.sql(dialect="spark")
    # rumq_get_json_object: sqlglot would parse and rewrite a literal path of get_json_object.
    v = f"coalesce(rumq_get_json_object({xs}, {path_a.sql(dialect='spark')}), " \
        f"rumq_get_json_object({xs}, {path_b.sql(dialect='spark')}))"
    lit = lambda s: exp.Literal.string(s).sql(dialect="spark")  # noqa: E731
    # transform(array(v), rumq_v -> ...)[1] names the value once (Spark SQL has no LET).
    stop = ("raise_error(concat('the JSON value ', left(rumq_v, 80), ' has a text form (a number in exponent form, '"
            "'an infinite number or an escaped character) that Spark writes differently from DuckDB: "
            "run the query on DuckDB'))")
    first = f"WHEN {error.sql(dialect='spark')} IS NOT NULL THEN raise_error({error.sql(dialect='spark')}) " \
        if error is not None else ""
    out = sqlglot.parse_one(
        f"element_at(transform(array({v}), rumq_v -> CASE {first}"
        f"WHEN rumq_v = 'null' AND {xs} RLIKE {lit(JSON_NULL)} THEN NULL "
        f"WHEN rumq_v RLIKE {lit(DIFFERENT_TEXT)} THEN {stop} ELSE rumq_v END), 1)", read="spark")
    for f in out.find_all(exp.Anonymous):
        if f.name == "rumq_get_json_object":
            f.set("this", "get_json_object")
    return out


# -- JSON validity and kinds (the Logs Insights jsonParse, jsonArraySize) -------------------------
#
# DuckDB's json_valid is yyjson's reader with trailing commas and NaN/Infinity allowed; Spark's
# strict reader is try_parse_json (Jackson for VARIANT), which also takes anything after the first
# value ('{"a":1} x') and refuses duplicate keys, deep nesting and huge texts. So on Spark a text is:
# - valid when '[' || t || ']' reads strictly as an array of one element (the brackets close what
#   comes after the value: '{"a":1} x' is two tokens, '{"a":1}, 1' two elements);
# - invalid when it holds a control character other than JSON whitespace (yyjson refuses one in
#   and out of strings), or when it reads neither way and has none of DuckDB's extensions (a comma
#   before ']' or '}', NaN/Inf) and Jackson's lenient reader (get_json_object) fails on it too
#   (duplicate keys pass there) and it is not deeply nested or huge;
# - otherwise the query stops, naming the text: rumq cannot tell what DuckDB says.
# (tests/test_engine_spark_json.py compares DuckDB's json_valid with this over edge and random texts.)

def _lit(text: str) -> str:
    """A Spark SQL string literal of ``text`` (backslashes escaped: the regular expressions keep theirs)."""
    from sqlglot import exp

    return exp.Literal.string(text).sql(dialect="spark")


#: Control characters that yyjson refuses anywhere in a text (JSON whitespace is tab, LF, CR).
_CONTROL = r"[\x00-\x08\x0B\x0C\x0E-\x1F]"
#: A comma before a closing bracket (DuckDB's reader takes it), NaN or Inf (it takes those too).
_TRAILING_COMMA = r",[ \t\n\r]*[\]}]"
_OBJECT = r"^[ \t\n\r]*[{]"
_ARRAY = r"^[ \t\n\r]*[\[]"


#: What _valid_sql does where rumq cannot tell what DuckDB says: stop the query, naming the text.
_UNKNOWN = ("raise_error(concat('whether the text ', left(rumq_j, 80), ' is JSON as DuckDB reads it is not known '"
            "'on Spark (a trailing comma, NaN, a duplicate key or deep nesting): run the query on DuckDB'))")


#: Closes the wrapped text (below): the text read as one value is followed by this second element.
_END = "rumq:end"


def _valid_sql(unknown: str = _UNKNOWN) -> str:
    """DuckDB's json_valid of the text ``rumq_j`` (``unknown`` where rumq cannot tell: tests see it).

    Spark's readers stop after the first value and ignore the rest, so the text is read inside
    ``[<text>,"rumq:end"]``: the marker is its second element only when the whole text is one value
    (a text that closes early, ``1]``, leaves the marker outside; a text holding the marker is not
    decided).
    """
    w = f"concat('[', rumq_j, ',\"{_END}\"]')"
    return (
        "CASE WHEN rumq_j IS NULL THEN CAST(NULL AS BOOLEAN) "
        f"WHEN rumq_j RLIKE {_lit(_CONTROL)} THEN FALSE "
        f"WHEN instr(rumq_j, '{_END}') > 0 THEN {unknown} "
        f"WHEN try_parse_json({w}) IS NOT NULL "
        f"THEN coalesce(get_json_object({w}, '$[1]') = '{_END}' AND json_array_length({w}) = 2, FALSE) "
        f"WHEN rumq_j RLIKE {_lit(_TRAILING_COMMA)} OR rumq_j RLIKE {_lit('(?i)nan|inf')} "
        f"OR get_json_object({w}, '$[1]') = '{_END}' OR length(rumq_j) > 1000000 "
        "OR length(rumq_j) - length(replace(replace(rumq_j, '[', ''), '{', '')) > 400 "
        f"THEN {unknown} ELSE FALSE END")


def _kind_sql() -> str:
    """'OBJECT', 'ARRAY' or 'OTHER' for a valid JSON text ``rumq_j`` (DuckDB's json_type compared with
    the first two); a text that is not JSON stops the query, as DuckDB's json_type fails on it."""
    return (
        f"CASE WHEN rumq_j IS NULL THEN CAST(NULL AS STRING) WHEN NOT ({_valid_sql()}) "
        "THEN raise_error(concat('json_type: the text ', left(rumq_j, 80), ' is not JSON')) "
        f"WHEN rumq_j RLIKE {_lit(_OBJECT)} THEN 'OBJECT' WHEN rumq_j RLIKE {_lit(_ARRAY)} THEN 'ARRAY' "
        "ELSE 'OTHER' END")


def _let(body: str, j: exp.Expression) -> exp.Expression:
    from rumq.engines.spark_scalars import _let as let

    return let(body, j=j)


def valid(x: exp.Expression) -> exp.Expression:
    """DuckDB's ``json_valid(x)`` on Spark: TRUE, FALSE, NULL, or a stop where rumq cannot tell (above)."""
    return _let(_valid_sql(), x)


def kind(x: exp.Expression) -> exp.Expression:
    """``json_type(x)`` as far as a comparison with 'OBJECT' or 'ARRAY' needs it (else 'OTHER')."""
    return _let(_kind_sql(), x)


def text(x: exp.Expression) -> exp.Expression:
    """``CAST(json(x) AS VARCHAR)`` of a valid JSON text: the compact text DuckDB writes (as ``x ->> ''``)."""
    from sqlglot import exp

    return render(x, exp.Literal.string("$"), exp.Literal.string("$"), None)


def array_length(x: exp.Expression) -> exp.Expression:
    """DuckDB's ``json_array_length(x)``: the elements of an array, 0 for another JSON value."""
    return _let(f"CASE WHEN ({_kind_sql()}) = 'ARRAY' THEN json_array_length(rumq_j) "
                "WHEN rumq_j IS NOT NULL THEN CAST(0 AS INT) END", x)


def _quoted(s: str) -> str:
    """Spark SQL: the JSON string literal of the text ``s`` as DuckDB's to_json writes it (Jackson's
    escapes are yyjson's: tests/test_engine_spark_scalars.py)."""
    return f"substring(to_json(array({s})), 2, length(to_json(array({s}))) - 2)"


def quoted(x: exp.Expression) -> exp.Expression:
    """DuckDB's ``to_json(t)`` of a text: its JSON string literal (NULL for NULL)."""
    return _let(f"CASE WHEN rumq_j IS NOT NULL THEN {_quoted('rumq_j')} END", x)


def elements(x: exp.Expression) -> exp.Expression:
    """DuckDB's ``CAST(json_extract(t, '$[*]') AS VARCHAR[])``: each element's JSON text (a string quoted,
    ``null`` as is, numbers, objects and arrays as ``->>`` writes them); ``[]`` for a JSON value that is not
    an array, and a text that is not JSON stops the query (DuckDB's json_extract fails on it)."""
    import sqlglot

    at = "concat('$[', rumq_i, ']')"
    path = sqlglot.parse_one(at, read="spark")
    other = render(sqlglot.parse_one("rumq_j", read="spark"), path, path, None).sql(dialect="spark")
    return _let(
        f"CASE WHEN rumq_j IS NULL THEN CAST(NULL AS ARRAY<STRING>) WHEN ({_kind_sql()}) = 'ARRAY' "
        "THEN transform(CAST(try_parse_json(rumq_j) AS ARRAY<VARIANT>), (rumq_e, rumq_i) -> CASE "
        "WHEN is_variant_null(rumq_e) THEN 'null' "
        f"WHEN schema_of_variant(rumq_e) = 'STRING' THEN {_quoted(f'get_json_object(rumq_j, {at})')} "
        f"ELSE {other} END) ELSE CAST(array() AS ARRAY<STRING>) END", x)
