"""rumq's DuckDB-dialect SQL, parsed once with sqlglot and rendered for another engine exactly or not at all.

Plain ``sqlglot.transpile`` changes meaning in silence (exact percentiles
become approximate, list order and index bases, regex back-references, NULL
handling: docs/engines.md). Here the parse tree goes through rumq's own
rewrites, each of which keeps DuckDB's answer, and every function must be on
an allow-list of those whose Spark twin gives the same answer; anything else
raises ``NotPortableError`` naming the construct, so no engine ever runs a
silently different definition.

Rewrites for Spark (each keeps DuckDB's result and type):

- ``quantile_cont(x, p)`` -> ``percentile(x, p)`` (exact, linear interpolation, as DuckDB);
- ``avg(x)`` -> ``avg(CAST(x AS DOUBLE))`` (DuckDB's avg is DOUBLE, Spark's keeps a DECIMAL);
- ``a / b`` -> DOUBLE division with DuckDB's IEEE results for a zero divisor (inf, -inf, NaN;
  Spark gives NULL or fails);
- ``epoch(ts)`` -> ``unix_micros(ts) / 1e6`` (DOUBLE seconds, as DuckDB; sqlglot's
  ``unix_timestamp`` is a whole BIGINT);
- ``regexp_replace``: RE2 pattern -> Java (``$`` is the end of the text only: ``\\z``),
  replacement ``\\1`` -> ``$1`` (``$`` literal -> ``\\$``); the ``'g'`` flag is Spark's only mode,
  so a replace without it is rendered only when its pattern can match once at most (anchored
  at the end, never empty);
- ``arg_min/arg_max(x, k)`` -> ``min_by/max_by(x, IF(x IS NULL, NULL, k))`` (DuckDB skips rows whose
  value is NULL, Spark only rows whose key is); ``arg_min_null/arg_max_null(x, k)`` (which keep a NULL
  value, as Spark does) -> ``min_by/max_by(x, k)``;
- ``date_trunc`` only to units whose Spark result is DuckDB's (second ... year, ISO week), cast
  back to a naive timestamp (Spark's is zoned);
- ``regexp_full_match(s, p)`` -> ``s RLIKE '^(?:p)\\z'`` (the pattern translated as above);
- ``CAST(<uuid column> AS VARCHAR)`` -> the canonical lowercase UUID text of the 16 bytes
  (Spark reads the UUID columns as binary);
- the table macro ``rumq_audience(dim, ...)`` -> its body inlined as a subquery, with
  ``COLUMNS(lambda c: c = dim)`` -> the column ``dim`` names;
- ``SELECT unnest(list(x)) FROM (...)`` (a DuckDB planner hint) -> ``SELECT x FROM (...)``;
- ``list_sort(list(<struct>))`` -> ``array_sort(collect_list(...), <comparator>)`` with DuckDB's
  order (NULL fields last); list() is refused elsewhere (order, and NULL elements dropped by Spark);
- ``WITH ... AS NOT MATERIALIZED`` -> a plain CTE (a DuckDB planner hint);
- ``CAST(x AS <integer>)`` -> rounding first, as DuckDB does (DOUBLE: half to even, DECIMAL: half
  away from zero; Spark truncates), unless ``x`` is provably an integer;
- ``a // b`` only as an integer column of the events table ``//`` an integer literal (DuckDB's
  ``//`` divides DOUBLEs exactly, Spark's ``DIV`` truncates);
- ``range(a, b)`` in FROM (DuckDB's table function, end exclusive; ``generate_series`` end
  inclusive) -> Spark's table-valued ``range(a, b)`` with the same BIGINT values;
- ``len(CAST(x AS <type>[]))`` -> ``size(x)`` (NULL for a NULL list, as DuckDB; only for a value
  cast to a list: ``len`` of an untyped value may be a string's length);
- ``s GLOB p`` -> ``s LIKE p'`` with ``*`` -> ``%``, ``?`` -> ``_`` and ``%``, ``_`` escaped; a
  pattern with ``[`` or ``\\`` (DuckDB's character classes and escapes) is refused when it is a
  literal and stops the query with ``raise_error`` when it is a bound value, so a pattern Spark
  would read differently never answers;
- ``json_extract_string`` / ``->>`` with a literal or bound JSON pointer -> ``get_json_object``
  where its text is DuckDB's, ``raise_error`` where not (``rumq.engines.spark_json``);
- ``regexp_extract(s, p, ['g1', ...])`` (a struct of the groups) -> ``named_struct`` of the groups
  by index; ``regexp_extract_all`` with a literal pattern that cannot match '' (group 0), and in a
  ``list_transform`` over it the chunk's ``len(c)`` -> ``char_length``, ``c[k]`` -> ``substring``;
- ``TRY_CAST(s AS DOUBLE)`` -> NULL for Java's float suffixes (``1.5d``), a stop for ``_`` between
  digits (DuckDB reads ``1_000``);
- ``string_agg(DISTINCT c, sep ORDER BY c)`` of a text column -> ``array_join(array_sort(collect_set(c)))``
  (NULL for no value); ``string_split(s, sep)`` -> ``split(s, '\\Q<sep>\\E', -1)``; ``list_contains``
  only over ``string_split``; ``list_distinct`` only inside ``len()``/``unnest()``, NULLs dropped;
- ``epoch($duration)`` (a bound value) -> the interval's seconds as DOUBLE;
- ``date_trunc($unit, ts)`` with the unit's value checked by ``render_bound``;
  ``unnest(range(a, b, step))`` -> ``explode`` of ``sequence`` without its end (empty when ``a >= b``);
- ``rumq_user_first_seen()`` -> the view of that name ``rumq.engines.spark.register`` creates;
- ``quantile_disc(x, p)`` (one literal fraction, x a DOUBLE) -> ``percentile_disc(p) WITHIN GROUP (ORDER BY x)``;
- ``QUALIFY`` as it is (Spark 4 has it);
- ``len(s)`` / ``length(s)`` of a provable string -> ``char_length`` (code points on both);
- ``power``, ``fmod``, ``trunc``, ``abs``, ``replace``, ``concat`` of text, ``try(decode(unhex(s)))`` and
  ``CAST(<DOUBLE> AS VARCHAR)`` with DuckDB's answers at the edges (``rumq.engines.spark_scalars``);
- ``regexp_replace`` with a bound pattern (translated by ``render_bound``, ``'g'`` only);
  ``to_json(list_sort(list_distinct(list(x)))[1:n])`` of text (the pattern's samples) ->
  ``to_json(slice(array_sort(array_distinct(collect_list(x))), 1, n))``;
- ``json_valid``, ``json_type`` compared with 'OBJECT'/'ARRAY', ``CAST(json(t) AS VARCHAR)``,
  ``json_array_length``, ``CAST(json_extract(t, '$[*]') AS VARCHAR[])`` and ``to_json(<text>)``
  (``rumq.engines.spark_json``: a stop where Spark cannot tell DuckDB's answer);
- ``timezone(zone, timezone('UTC', t))`` for the zones of ``rumq.engines.spark_time.ZONES`` ->
  ``convert_timezone``, and ``strftime`` with a bound format translated in its value;
- ``$name`` -> ``:name``, bound by ``spark.sql(args=...)``.

Importing this module does not import sqlglot.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rumq.errors import UsageError
from rumq.schema import ID_STORAGE

if TYPE_CHECKING:  # pragma: no cover
    from sqlglot import exp

    from rumq.pages import PageConfig

#: The engines this module renders for.
TARGETS = ("spark",)

#: The stored 16-byte UUID columns (Spark: binary).
UUID_COLUMNS: frozenset[str] = frozenset(u.name for u, _ in ID_STORAGE.values())


class NotPortableError(UsageError):
    """A statement uses a construct that rumq cannot render exactly for the engine (exit 2)."""


def _spark_same() -> tuple[type, ...]:
    """sqlglot function nodes whose Spark rendering gives DuckDB's answer as they are.

    Checked one by one against the engines' documentation and by the
    differential tests (tests/test_engine_spark.py); anything else is refused.
    """
    from sqlglot import exp

    from rumq.engines import spark_scalars

    return (
        exp.And, exp.Or, exp.Not, exp.Case, exp.If, exp.Coalesce, exp.Nullif,
        exp.Count, exp.Sum, exp.Min, exp.Max,
        # [NOT] EXISTS (subquery): true when the subquery has a row, on both.
        exp.Exists,
        # Rewritten below: DuckDB skips rows whose value is NULL, Spark does not.
        exp.ArgMin, exp.ArgMax,
        # Units checked below.
        exp.TimestampTrunc,
        exp.RowNumber, exp.Lag, exp.Lead, exp.FirstValue,
        exp.Lower, exp.Upper, exp.StartsWith, exp.Substring, exp.SplitPart, exp.ConcatWs,
        exp.MD5, exp.Cast, exp.Struct, exp.Array,
        # Both skip NULL arguments (Trino's do not: not a Spark concern).
        exp.Least, exp.Greatest,
        # json_extract -> get_json_object: the same JSON value, as text.
        exp.JSONExtract,
        # Only as unnest(<literal array or CASE of them>) in a projection (explode).
        exp.Explode,
        # transform(l, x -> ...) and array_join skip NULLs as array_to_string does.
        exp.Transform, exp.ArrayToString,
        # Only over list(<struct>), rewritten below.
        exp.ArraySort,
        # Rewritten below before the check.
        exp.RegexpFullMatch, exp.RegexpReplace, exp.RegexpExtract, exp.Avg, exp.PercentileCont, exp.TimeToUnix,
        # Checked below: range() only as a table in FROM, len() only of a value cast to a list.
        exp.GenerateSeries, exp.Length,
        # contains/ends_with: the same on both (NULL in, NULL out; '' is in every string).
        exp.Contains, exp.EndsWith,
        # Rewritten or checked below: left() with a literal length >= 0, strftime with the formats
        # the Logs Insights compiler writes, regexp_matches (RLIKE, Java pattern), epoch_ms.
        exp.Left, exp.TimeToStr, exp.RegexpLike, exp.UnixToTime,
        # json_extract_string / ->> with a literal or bound path: rumq.engines.spark_json.
        exp.JSONExtractScalar,
        # regexp_extract_all with a literal pattern that never matches '' (checked below);
        # lpad/rpad (both pad or cut to the length).
        exp.RegexpExtractAll, exp.Pad,
        # trim/ltrim/rtrim without characters: both remove spaces (' ') only (checked below).
        exp.Trim,
        # Checked and rewritten below: string_agg(DISTINCT s, sep ORDER BY s) of a text column,
        # string_split with a literal separator, list_contains over a string_split (no NULL elements).
        exp.GroupConcat, exp.Split, exp.ArrayContains,
        # list_distinct: only where its order does not show (len(), unnest()), checked below.
        exp.ArrayDistinct,
        # quantile_disc(x, <literal fraction>): rewritten below.
        exp.PercentileDisc,
        # power, trunc, concat, try(decode(unhex())), abs, replace: checked and rendered by spark_scalars.
        *spark_scalars.classes(),
    )


#: date_trunc units whose Spark result is DuckDB's (ISO weeks start on Monday in both).
_TRUNC_UNITS = frozenset({"SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH", "QUARTER", "YEAR"})

#: Names of constructs that are refused, for the message (node class -> what the user wrote).
_NAMES = {
    "ArrayAgg": "list()/array_agg (Spark's collect_list keeps no order)",
    "Columns": "COLUMNS(...)",
    "Glob": "GLOB",
    "GenerateSeries": "range()/generate_series",
    "Length": "len() (string or list length: the type decides, unknown here)",
    "Transform": "list_transform()",
    "ArraySort": "list_sort()",
    "ArrayToString": "array_to_string()",
    "PercentileDisc": "quantile_disc()",
    "Quantile": "quantile()",
    "Qualify": "QUALIFY",
    "ReadParquet": "read_parquet()",
}


def parse(sql: str, *, what: str = "SQL") -> exp.Expression:
    """Parse one DuckDB-dialect statement.

    Raises:
        NotPortableError: sqlglot cannot parse it, or it is several statements.
    """
    import sqlglot
    from sqlglot.errors import ParseError

    try:
        trees = [t for t in sqlglot.parse(sql, read="duckdb") if t is not None]
    except ParseError as e:
        raise NotPortableError(f"{what}: cannot be parsed for another engine: {str(e).splitlines()[0]}") from None
    if len(trees) != 1:
        raise NotPortableError(f"{what}: one statement is needed for another engine, got {len(trees)}")
    return trees[0]


def render(sql: str, engine: str = "spark", *, what: str = "SQL", params: dict[str, Any] | None = None) -> str:
    """Render a DuckDB-dialect SELECT for ``engine`` with rumq's rewrites.

    ``params``, when the values are known: a parameter whose value is not a float is cast to text
    as it is (one that may be a DOUBLE has its text checked when Spark runs, ``spark_scalars``).

    Raises:
        NotPortableError: a construct that ``engine`` cannot compute exactly (named in the message).
    """
    _check_engine(engine)
    tree = parse(sql, what=what)
    from sqlglot import exp

    if not isinstance(tree, exp.Query):
        raise NotPortableError(f"{what}: only queries (SELECT/WITH) run on {engine}, not {tree.key.upper()}")
    for ph in tree.find_all(exp.Placeholder):
        if params is not None and ph.name in params and not isinstance(params[ph.name], float):
            ph.meta["not_floating"] = True
    return _rewrite_spark(tree, what).sql(dialect="spark")


def render_bound(sql: str, params: dict[str, Any], engine: str = "spark", *,
                 what: str = "SQL") -> tuple[str, dict[str, Any]]:
    """``render`` for a statement whose parameter values are known: also the values Spark must get.

    A parameter used only as the pattern of ``regexp_matches``/``regexp_extract``
    gets its RE2 value translated to Java (``java_pattern``); one used both as a
    pattern and as something else is refused.

    Raises:
        NotPortableError: as ``render``.
    """
    from sqlglot import exp

    rendered = render(sql, engine, what=what, params=params)
    tree = parse(sql, what=what)
    out = dict(params)
    regex = (exp.RegexpLike, exp.RegexpExtract, exp.RegexpReplace)
    as_pattern = {p.expression.name for p in tree.find_all(*regex) if isinstance(p.expression, exp.Placeholder)}
    for name in as_pattern:
        uses = [ph for ph in tree.find_all(exp.Placeholder) if ph.name == name]
        if any(not (isinstance(ph.parent, regex) and ph.parent.expression is ph) for ph in uses):
            raise NotPortableError(f"{what}: the parameter ${name} is both a regular expression and a value")
        if isinstance(out.get(name), str):
            out[name] = spark_pattern(out[name], what)
    for node in tree.find_all(exp.TimestampTrunc):
        unit = node.args.get("unit")
        if isinstance(unit, exp.Placeholder):
            value = out.get(unit.name)
            if not (isinstance(value, str) and value.upper() in _TRUNC_UNITS):
                raise NotPortableError(f"{what}: date_trunc to {value!r} (${unit.name}) is not rendered for Spark",
                                       hint=f"units rendered: {', '.join(sorted(_TRUNC_UNITS))}")
    from rumq.engines import spark_json, spark_time

    # A bound strftime format (formatDate's) translated to a Spark pattern; a bound zone checked.
    formats = {ph.name for n in tree.find_all(exp.TimeToStr)
               if (ph := spark_time.placeholder(n.args.get("format") or exp.Null())) is not None}
    for name in formats:
        uses = [ph for ph in tree.find_all(exp.Placeholder) if ph.name == name]
        if any(spark_time.placeholder(ph.parent if isinstance(ph.parent, exp.Cast) else ph) is None
               or not isinstance((ph.parent.parent if isinstance(ph.parent, exp.Cast) else ph.parent), exp.TimeToStr)
               for ph in uses):
            raise NotPortableError(f"{what}: the parameter ${name} is both a strftime format and a value")
        try:
            out[name] = spark_time.spark_format(str(out.get(name)))
        except spark_time.FormatError as e:
            raise NotPortableError(f"{what}: {e}") from None
    for node in tree.find_all(exp.Anonymous):
        if spark_time.is_utc_then_zone(node) and isinstance(node.expressions[0], exp.Placeholder):
            spark_time.check_zone(out.get(node.expressions[0].name), what)
    for i, node in enumerate(_bound_json_nodes(tree)):
        prefix, name = spark_json.bound_path(node.expression)
        if name not in out:
            raise NotPortableError(f"{what}: the parameter ${name} has no value")
        args = spark_json.bound_args(prefix, out[name], i)
        if args[spark_json.param_names(i)[2]] is not None and not prefix:
            # A pointer bound as it is (the Logs Insights compiler's): refused before Spark starts.
            raise NotPortableError(f"{what}: {args[spark_json.param_names(i)[2]]}")
        out.update(args)
    return rendered, out


def render_expression(sql: str, engine: str = "spark", *, what: str = "expression") -> str:
    """Render one DuckDB-dialect scalar expression for ``engine`` (see ``render``)."""
    import sqlglot

    _check_engine(engine)
    return _rewrite_spark(sqlglot.parse_one(sql, read="duckdb"), what).sql(dialect="spark")


def _check_engine(engine: str) -> None:
    if engine not in TARGETS:
        raise UsageError(f"no SQL rendering for engine {engine!r}", hint=f"engines: {', '.join(TARGETS)}")


def spark_views(cfg: PageConfig | None = None) -> dict[str, str]:
    """The analysis views (``rumq.views.view_sql``) rendered for Spark, in creation order.

    Raises:
        NotPortableError: a view uses a construct Spark cannot compute exactly.
    """
    from rumq.views import view_sql

    return {name: render(sql, "spark", what=f"view {name}") for name, sql in view_sql(cfg).items()}


def spark_query(sql: str, *, what: str) -> str:
    """A named query's body (identifiers substituted, ``$name`` parameters kept) rendered for Spark."""
    return render(sql, "spark", what=what)


# -- the rewrites -------------------------------------------------------------------------------

def _refuse(what: str, node: exp.Expression) -> NotPortableError:
    from sqlglot import exp

    name = type(node).__name__
    if isinstance(node, exp.Anonymous):
        shown = f"{node.name}()"
        if node.name.lower() == "rumq_audience":
            shown = "the table macro rumq_audience() (COLUMNS(lambda ...) has no Spark equivalent)"
    else:
        shown = _NAMES.get(name) or f"{node.sql(dialect='duckdb')[:40]} ({name})"
    return NotPortableError(f"{what}: {shown} cannot be rendered exactly for Spark",
                            hint="run it on DuckDB (the default engine); docs/engines.md lists what Spark runs")


def _expand_table_macros(tree: exp.Expression, what: str) -> exp.Expression:
    """Inline ``rumq_audience(dim, include_cookieless)`` (``rumq.views.AUDIENCE_MACRO``) as a subquery.

    ``COLUMNS(lambda c: c = dim)`` picks the column named by ``dim``, which must
    be a string literal naming a column of the canonical table; the second
    argument replaces ``include_cookieless`` wherever the body reads it.
    """
    import sqlglot
    from sqlglot import exp

    from rumq.schema import COLUMNS_BY_NAME
    from rumq.views import AUDIENCE_MACRO

    for table in list(tree.find_all(exp.Table)):
        fn = table.this
        if not (isinstance(fn, exp.Anonymous) and fn.name.lower() == "rumq_audience"):
            continue
        args = fn.expressions
        if len(args) != 2 or not (isinstance(args[0], exp.Literal) and args[0].is_string):
            raise NotPortableError(f"{what}: rumq_audience needs a column name as a string and include_cookieless")
        dim = args[0].name
        if dim not in COLUMNS_BY_NAME:
            raise NotPortableError(f"{what}: rumq_audience({dim!r}, ...): not a column of the events table")
        body = sqlglot.parse_one(AUDIENCE_MACRO.split(" AS TABLE", 1)[1], read="duckdb")
        # Spark SQL lifts the body's CTEs to the top: their names must be free there.
        taken = {c.alias_or_name for c in tree.find_all(exp.CTE)} & {c.alias_or_name for c in body.find_all(exp.CTE)}
        if taken:
            raise NotPortableError(f"{what}: the query's CTE names {sorted(taken)} clash with rumq_audience's")
        for cols in list(body.find_all(exp.Columns)):
            cols.replace(exp.column(dim))
        for col in list(body.find_all(exp.Column)):
            if not col.table and col.name in ("include_cookieless", "dim"):
                col.replace(args[1].copy() if col.name == "include_cookieless" else exp.Literal.string(dim))
        alias = table.args.get("alias") or exp.TableAlias(this=exp.to_identifier("rumq_audience"))
        new = exp.Subquery(this=body, alias=alias.copy())
        if table is tree:
            return new
        table.replace(new)
    return tree


#: DuckDB's aggregates that keep a NULL value at the smallest / largest key (rows with a NULL
#: key are skipped), as Spark's and Trino's min_by / max_by do: node class they become.
_KEEP_NULL = {"arg_min_null": "ArgMin", "arg_max_null": "ArgMax"}


def keep_null_args(tree: exp.Expression) -> exp.Expression:
    """``arg_min_null/arg_max_null(x, k)`` (anonymous to sqlglot) -> ArgMin/ArgMax nodes marked
    ``keep_null``, which the renderings write as ``min_by/max_by(x, k)`` without the guard that
    makes a NULL value skipped as DuckDB's ``arg_min`` skips it. Changes ``tree`` in place."""
    from sqlglot import exp

    for node in list(tree.find_all(exp.Anonymous)):
        kind = _KEEP_NULL.get(node.name.lower())
        if kind is not None and len(node.expressions) == 2:
            new = getattr(exp, kind)(this=node.expressions[0].copy(), expression=node.expressions[1].copy())
            new.meta["keep_null"] = True
            node.replace(new)
    return tree


def _rewrite_spark(tree: exp.Expression, what: str) -> exp.Expression:
    from sqlglot import exp

    # Bound JSON pointers are numbered on the tree as parsed; render_bound numbers them alike.
    for i, node in enumerate(_bound_json_nodes(tree)):
        node.meta["json_param"] = i
    from rumq.engines import spark_scalars, spark_time

    tree = keep_null_args(_expand_table_macros(tree.copy(), what))
    allowed = _spark_same()
    scalars = spark_scalars.classes()
    for node in tree.find_all(exp.Anonymous):
        _mark_sample_list(node)
    # Refuse first, on the tree as written: a rewrite must not hide a construct.
    for node in tree.walk():
        if node.meta.get("sample_part"):
            continue  # the wrapper of a sample list (checked as a whole by _mark_sample_list)
        if isinstance(node, exp.Anonymous) and node.name.lower() in spark_scalars.ANONYMOUS:
            continue
        if isinstance(node, (exp.Anonymous, exp.JSONType, exp.ParseJSON, exp.JSONExtract)) \
                and _json_value_check(node, what):
            continue
        if node.meta.get("tz_part"):
            continue
        if spark_time.is_utc_then_zone(node):
            # formatDate's wall-clock time in a zone (rumq.engines.spark_time): a literal zone checked now,
            # a bound one by render_bound.
            zone = node.expressions[0]
            if isinstance(zone, exp.Literal):
                spark_time.check_zone(zone.name, what)
            node.meta["tz"] = node.expressions[1].meta["tz_part"] = True
            continue
        if isinstance(node, scalars):
            spark_scalars.check(node, what, _is_double, _is_text)
        if isinstance(node, exp.Cast) and isinstance(node.this, exp.ParseJSON):
            node.meta["json_text"] = True  # checked by _json_value_check
        elif isinstance(node, exp.Cast) and node.to.is_type("varchar", "text") and not _is_uuid(node.this) \
                and not (isinstance(node.parent, exp.TimeToStr) and node.parent.args.get("format") is node):
            # A DOUBLE's text differs between the engines outside 1e-3..1e7 (spark_scalars); decided on
            # the tree as written (the argument is rewritten): a DOUBLE, maybe one (checked at run time), or not.
            node.meta["double_text"] = ("double" if _is_double(node.this) else
                                        None if _not_floating(node.this) else "typeof")
        if isinstance(node, exp.Func) and not isinstance(node, allowed):
            if isinstance(node, exp.ArrayAgg) and (_is_unnest_of_list(node.parent) or _is_sorted_struct_list(node)):
                continue
            if _is_first_seen(node) and isinstance(node.parent, exp.Table):
                continue
            raise _refuse(what, node)
        if isinstance(node, exp.ArraySort) and not _sorted_struct_list(node):
            raise NotPortableError(f"{what}: list_sort is rendered for Spark only over list(<struct>) "
                                   "(Spark's collect_list drops NULL elements, DuckDB's list keeps them)")
        # QUALIFY: Spark 4 filters on window functions after them, as DuckDB.
        if isinstance(node, (exp.Create, exp.Columns)):
            raise _refuse(what, node)
        if isinstance(node, exp.Table) and isinstance(node.this, exp.Func) \
                and not _range_table(node.this) and not _is_first_seen(node.this):
            raise _refuse(what, node.this)
        if isinstance(node, exp.GenerateSeries) and not (
                (isinstance(node.parent, exp.Table) and _range_table(node))
                or (isinstance(node.parent, exp.Explode) and node.args.get("is_end_exclusive")
                    and node.args.get("step") is not None)):
            raise _refuse(what, node)
        if isinstance(node, exp.PercentileDisc) and not _is_double(node.this):
            # Spark's percentile_disc is a DOUBLE; DuckDB's keeps the input's type (an integer stays one).
            raise NotPortableError(f"{what}: quantile_disc is rendered for Spark only of a DOUBLE value "
                                   "(Spark's result is a DOUBLE whatever the input)")
        if isinstance(node, exp.ArrayDistinct) and not _order_hidden(node):
            raise NotPortableError(f"{what}: list_distinct is rendered for Spark only inside len() or unnest() "
                                   "(the order of its elements is DuckDB's own)")
        if isinstance(node, exp.Length) and _is_text(node.this):
            node.meta["text_length"] = True  # decided on the tree as written (the argument is rewritten)
        elif isinstance(node, exp.Length) and not (_is_list_cast(node.this) or _is_chunk(node.this)
                                                   or isinstance(node.this, exp.ArrayDistinct)):
            raise _refuse(what, node)
        if isinstance(node, exp.RegexpExtractAll):
            _extract_all_check(node, what)
        if isinstance(node, exp.GroupConcat) and _distinct_sorted_text(node) is None:
            raise NotPortableError(f"{what}: string_agg is rendered for Spark only as "
                                   "string_agg(DISTINCT <text column>, '<separator>' ORDER BY <the column>)")
        if isinstance(node, exp.Split) and not (isinstance(node.expression, exp.Literal)
                                                and node.expression.is_string and node.expression.name
                                                and "\\E" not in node.expression.name):
            raise NotPortableError(f"{what}: string_split is rendered for Spark only with a literal separator")
        if isinstance(node, exp.ArrayContains) and not isinstance(node.this, exp.Split):
            # Spark's array_contains is NULL, DuckDB's list_contains false, when a NULL element is there.
            raise NotPortableError(f"{what}: list_contains is rendered for Spark only over string_split()")
        if isinstance(node, exp.Trim) and node.args.get("collation"):
            raise NotPortableError(f"{what}: trim() with a collation is not rendered for Spark")
        if isinstance(node, exp.Glob):
            _glob_literal_check(node.expression, what)
        if isinstance(node, exp.Explode) and not isinstance(node.parent, (exp.Alias, exp.Select)):
            raise _refuse(what, node)
        if isinstance(node, exp.JSONExtractScalar):
            _json_path_check(node, what)
        if isinstance(node, exp.IntDiv) and not _integer_div(node):
            raise NotPortableError(
                f"{what}: {node.sql(dialect='duckdb')}: '//' is rendered for Spark only as an integer column "
                "// an integer literal (DuckDB divides DOUBLEs exactly with '//', Spark's DIV truncates)")
    tree = tree.copy()
    for cte in tree.find_all(exp.CTE):
        cte.set("materialized", None)
    # epoch_ms's direction is decided by its argument's type, on the tree as written (the
    # rewrites below change the argument's shape).
    for node in tree.find_all(exp.UnixToTime):
        node.meta["epoch"] = ("to_ms" if _is_timestamp(node.this) else "from_ms" if _is_integer_expr(node.this)
                              or (isinstance(node.this, exp.Cast) and node.this.to.is_type("bigint")) else None)
    return rewrite_bottom_up(tree, lambda node: _node_spark(node, what))


def rewrite_bottom_up(tree: Any, rewrite: Callable[[Any], Any]) -> Any:
    """``tree`` with every node replaced by ``rewrite(node)``, children first, so that a
    rewritten node carries its rewritten arguments (the Spark and Trino renderings)."""
    for node in reversed(list(tree.dfs())):
        new = rewrite(node)
        if new is not node:
            if node is tree:
                tree = new
            else:
                node.replace(new)
    return tree


#: The Spark view that stands for DuckDB's table macro ``rumq_user_first_seen()`` (rumq.views).
FIRST_SEEN_VIEW = "rumq_user_first_seen"


def _is_first_seen(node: exp.Expression) -> bool:
    from sqlglot import exp

    return isinstance(node, exp.Anonymous) and node.name.lower() == FIRST_SEEN_VIEW and not node.expressions


def _range_table(node: exp.Expression) -> bool:
    """``range(a, b)`` / ``generate_series(a, b)`` as a table, without a step."""
    from sqlglot import exp

    return isinstance(node, exp.GenerateSeries) and node.args.get("step") is None


def _is_list_cast(node: exp.Expression) -> bool:
    from sqlglot import exp

    return isinstance(node, exp.Cast) and node.to.is_type(exp.DataType.Type.ARRAY)


#: What a GLOB pattern may hold to be rendered as a LIKE pattern: no character class, no escape.
_GLOB_REFUSED = ("[", "\\")


def _glob_literal_check(pattern: exp.Expression, what: str) -> None:
    from sqlglot import exp

    if isinstance(pattern, exp.Literal) and pattern.is_string and any(c in pattern.name for c in _GLOB_REFUSED):
        raise NotPortableError(f"{what}: the GLOB pattern {pattern.name!r} has '[' or '\\' (a character class "
                               "or an escape), which is not rendered for Spark")


def _glob(node: exp.Glob) -> exp.Expression:
    """``s GLOB p`` as ``s LIKE p'``: DuckDB's ``*`` and ``?`` become ``%`` and ``_`` (``%``, ``_`` escaped).

    A bound (non-literal) pattern with a character class or an escape stops the
    query on Spark (``raise_error``) instead of matching differently; it is
    only evaluated for rows that reach the comparison, so a query that never
    compares answers as DuckDB does.
    """
    from sqlglot import exp

    def call(name: str, *args: exp.Expression) -> exp.Expression:
        return exp.Anonymous(this=name, expressions=list(args))

    def lit(text: str) -> exp.Expression:
        return exp.Literal.string(text)

    p = node.expression
    like: exp.Expression = p.copy()
    for glob_char, like_text in (("%", "\\%"), ("_", "\\_"), ("*", "%"), ("?", "_")):
        like = call("replace", like, lit(glob_char), lit(like_text))
    out = exp.Like(this=node.this.copy(), expression=like)
    if isinstance(p, exp.Literal):
        return out
    refused = exp.or_(*[exp.GT(this=call("instr", p.copy(), lit(c)), expression=exp.Literal.number(0))
                        for c in _GLOB_REFUSED])
    message = call("concat", lit("the GLOB pattern "), p.copy(),
                   lit(" has [ or \\ (a character class or an escape), which is not rendered for Spark: "
                       "run the query on DuckDB"))
    stop = exp.Case(ifs=[exp.If(this=refused, true=call("raise_error", message))])
    return exp.Paren(this=exp.Coalesce(this=stop, expressions=[out]))


def _integer_div(node: exp.IntDiv) -> bool:
    """``<integer> // <integer literal>``: truncation on both engines.

    The integer is a column of the events table, ``epoch_ms(<timestamp>)``, or
    an integer sum of those and integer literals (``(epoch_ms(t) + 59) // 60``).
    """
    from sqlglot import exp

    lit = node.expression
    return _is_integer_expr(node.this) and isinstance(lit, exp.Literal) and lit.is_int


def _is_integer_expr(e: exp.Expression) -> bool:
    from sqlglot import exp

    from rumq.schema import COLUMNS_BY_NAME

    while isinstance(e, exp.Paren):
        e = e.this
    if isinstance(e, exp.Column) and e.name in COLUMNS_BY_NAME:
        return COLUMNS_BY_NAME[e.name].type in ("INTEGER", "BIGINT")
    if isinstance(e, exp.Literal):
        return e.is_int
    if isinstance(e, exp.UnixToTime):
        return _is_timestamp(e.this)
    if isinstance(e, (exp.Add, exp.Sub, exp.Mul)):
        return _is_integer_expr(e.this) and _is_integer_expr(e.expression)
    if isinstance(e, exp.IntDiv):
        return _integer_div(e)
    return False


def _is_timestamp(e: exp.Expression) -> bool:
    """Provably a TIMESTAMP: a TIMESTAMP column of the events table, a date_trunc, epoch_ms(<integer>)."""
    from sqlglot import exp

    from rumq.schema import COLUMNS_BY_NAME

    while isinstance(e, exp.Paren):
        e = e.this
    if isinstance(e, exp.Column) and e.name in COLUMNS_BY_NAME:
        return COLUMNS_BY_NAME[e.name].type == "TIMESTAMP"
    if isinstance(e, exp.Column):
        # A column of a CTE (the Logs Insights compiler's stages): the expression that defines it.
        defined = _cte_column(e)
        return defined is not None and _is_timestamp(defined)
    if isinstance(e, (exp.Min, exp.Max)):
        return _is_timestamp(e.this)
    if isinstance(e, exp.TimestampTrunc):
        return True
    return isinstance(e, exp.UnixToTime) and _is_integer_expr(e.this)


def _cte_column(col: exp.Column) -> exp.Expression | None:
    """The expression that defines ``col`` when its SELECT reads one CTE (no join) that names it, else None."""
    from sqlglot import exp

    sel = col.find_ancestor(exp.Select)
    frm = sel.args.get("from_") if sel is not None else None
    if frm is None or sel.args.get("joins") or not isinstance(frm.this, exp.Table) or frm.this.db \
            or (col.table and col.table != frm.this.alias_or_name):
        return None
    found = [p for cte in col.root().find_all(exp.CTE) if cte.alias_or_name == frm.this.name
             and isinstance(cte.this, exp.Select) for p in cte.this.expressions if p.alias_or_name == col.name]
    if len(found) != 1:
        return None
    return found[0].this if isinstance(found[0], exp.Alias) else found[0]


def _epoch_ms(node: exp.UnixToTime, what: str) -> exp.Expression:
    """DuckDB's ``epoch_ms`` both ways: of a TIMESTAMP the BIGINT milliseconds, of an integer the
    naive TIMESTAMP (sqlglot reads both as one node; the argument's type decides, refused when unknown)."""
    from sqlglot import exp

    x = node.this.copy()
    scale = node.args.get("scale")
    if scale is not None and scale.name not in ("3", "millis"):
        raise NotPortableError(f"{what}: {node.sql(dialect='duckdb')} is not rendered for Spark")
    if node.meta.get("epoch") == "to_ms":
        return exp.Anonymous(this="unix_millis", expressions=[exp.cast(x, "TIMESTAMP")])
    if node.meta.get("epoch") == "from_ms":
        # timestamp_millis gives a zoned TIMESTAMP; in the UTC session its naive value is UTC.
        return exp.cast(exp.Anonymous(this="timestamp_millis", expressions=[x]),
                        exp.DataType.build("TIMESTAMP_NTZ", dialect="spark"))
    raise NotPortableError(f"{what}: {node.sql(dialect='duckdb')[:60]}: epoch_ms of an argument whose type "
                           "(TIMESTAMP or integer) is not known is not rendered for Spark")


#: strftime formats rendered (the Logs Insights compiler's), as Spark date_format patterns.
#: DuckDB's %g is the milliseconds, truncated, as Spark's SSS.
_STRFTIME = {
    "%Y-%m-%d %H:%M:%S.%g": "yyyy-MM-dd HH:mm:ss.SSS",
    "%Y-%m-%d %H:%M:%S": "yyyy-MM-dd HH:mm:ss",
    "%Y-%m-%d": "yyyy-MM-dd",
}


def _strftime(node: exp.Expression, what: str) -> exp.Expression:
    from sqlglot import exp

    from rumq.engines import spark_time

    fmt = node.args.get("format")
    if fmt is not None and spark_time.placeholder(fmt) is not None:
        return spark_time.formatted(node.this.copy(), fmt.copy())  # its value translated by render_bound
    if not (isinstance(fmt, exp.Literal) and fmt.is_string and fmt.name in _STRFTIME):
        raise NotPortableError(f"{what}: strftime with the format {fmt.sql() if fmt is not None else '?'} "
                               "is not rendered for Spark", hint=f"formats rendered: {', '.join(_STRFTIME)}")
    return exp.Anonymous(this="date_format", expressions=[node.this.copy(), exp.Literal.string(_STRFTIME[fmt.name])])


def _regexp_matches(node: exp.Expression, what: str) -> exp.Expression:
    """``regexp_matches(s, p)`` (a match anywhere) -> ``s RLIKE p`` (Java's find: anywhere too).

    A literal pattern is translated here (``java_pattern``); a bound one
    (``$p``) is translated by ``render_bound`` in the parameter's value.
    """
    from sqlglot import exp

    p = node.expression
    if node.args.get("flag") is not None:
        raise NotPortableError(f"{what}: regexp_matches with options is not rendered for Spark")
    if isinstance(p, exp.Literal) and p.is_string:
        return exp.RegexpLike(this=node.this.copy(), expression=exp.Literal.string(spark_pattern(p.name, what)))
    if isinstance(p, exp.Placeholder) and p.name:
        return node
    raise NotPortableError(f"{what}: regexp_matches needs a literal or bound pattern to render for Spark")


def _bound_json_nodes(tree: exp.Expression) -> list[exp.JSONExtractScalar]:
    """The ``->>`` whose path is built from a bound parameter, in a fixed order (``spark_json``)."""
    from sqlglot import exp

    from rumq.engines.spark_json import bound_path

    return [n for n in tree.find_all(exp.JSONExtractScalar) if bound_path(n.expression) is not None]


def _json_path_check(node: exp.JSONExtractScalar, what: str) -> None:
    from rumq.engines.spark_json import PathError, bound_path, literal_paths

    if bound_path(node.expression) is not None:
        return
    try:
        literal_paths(node.expression)
    except PathError as e:
        raise NotPortableError(f"{what}: ->> (json_extract_string) with the path "
                               f"{node.expression.sql(dialect='duckdb')[:60]}: the path {e}") from None


def _json_text(node: exp.JSONExtractScalar) -> exp.Expression:
    """``x ->> path`` for Spark (``rumq.engines.spark_json``): literal paths inline, bound ones as parameters."""
    from sqlglot import exp

    from rumq.engines import spark_json

    i = node.meta.get("json_param")
    if i is not None:
        a, b, err = (exp.Placeholder(this=n) for n in spark_json.param_names(i))
        return spark_json.render(node.this, a, b, err)
    pa, pb = spark_json.literal_paths(node.expression)
    return spark_json.render(node.this, exp.Literal.string(pa), exp.Literal.string(pb), None)


#: Text that Spark's cast reads as a number and DuckDB's does not: Java's float suffixes (1.5d, 2f).
_JAVA_FLOAT_SUFFIX = r"[0-9.][dDfF][ \t\n\r]*$"


def _try_double(node: exp.TryCast) -> exp.Expression:
    """``TRY_CAST(s AS DOUBLE)`` with DuckDB's answers: NULL for ``1.5d`` (Spark reads Java's suffixes);
    text with ``_`` that reads as a number without it (DuckDB takes ``1_000``) stops the query."""
    import sqlglot
    from sqlglot import exp

    x = node.this.sql(dialect="spark")
    lit = lambda t: exp.Literal.string(t).sql(dialect="spark")  # noqa: E731
    # transform(array(s), rumq_s -> ...)[1] names the text once (Spark SQL has no LET).
    return sqlglot.parse_one(
        f"element_at(transform(array(CAST({x} AS STRING)), rumq_s -> CASE "
        f"WHEN rumq_s RLIKE {lit(_JAVA_FLOAT_SUFFIX)} THEN CAST(NULL AS DOUBLE) "
        f"WHEN instr(rumq_s, '_') > 0 AND TRY_CAST(replace(rumq_s, '_', '') AS DOUBLE) IS NOT NULL "
        f"THEN raise_error(concat('the text ', rumq_s, ' has _ between digits, which DuckDB reads as a number '"
        f"'and Spark does not: run the query on DuckDB')) "
        f"ELSE TRY_CAST(rumq_s AS DOUBLE) END), 1)", read="spark")


def _extract_all_check(node: exp.RegexpExtractAll, what: str) -> None:
    """``regexp_extract_all(s, '<literal>')`` (group 0) whose pattern never matches '' (RE2 and
    Java step over empty matches differently)."""
    from sqlglot import exp

    p, group = node.expression, node.args.get("group")
    if not (isinstance(p, exp.Literal) and p.is_string) or (
            group is not None and not (isinstance(group, exp.Literal) and group.name == "0")):
        raise NotPortableError(f"{what}: regexp_extract_all is rendered for Spark only with a literal pattern "
                               "and the whole match (group 0)")
    try:
        empty = re.fullmatch(p.name, "") is not None
    except re.error:
        empty = True
    if empty:
        raise NotPortableError(f"{what}: regexp_extract_all with the pattern {p.name!r}, which can match '', "
                               "is not rendered for Spark")
    java_pattern(p.name, what)


def _distinct_sorted_text(node: exp.GroupConcat) -> exp.Column | None:
    """The text column of ``string_agg(DISTINCT c, '<sep>' ORDER BY c)`` (ascending), else None."""
    from sqlglot import exp

    from rumq.schema import COLUMNS_BY_NAME

    order, sep = node.this, node.args.get("separator")
    if not (isinstance(order, exp.Order) and isinstance(order.this, exp.Distinct)
            and isinstance(sep, exp.Literal) and sep.is_string):
        return None
    cols = order.this.expressions
    keys = order.expressions
    if len(cols) != 1 or len(keys) != 1 or keys[0].args.get("desc") or keys[0].this != cols[0]:
        return None
    c = cols[0]
    typ = COLUMNS_BY_NAME[c.name].type if isinstance(c, exp.Column) and c.name in COLUMNS_BY_NAME else None
    return c if typ == "VARCHAR" else None


def _string_agg(node: exp.GroupConcat) -> exp.Expression:
    """``string_agg(DISTINCT c, sep ORDER BY c)``: the distinct values sorted (both compare text by
    its bytes) and joined; NULL when every value is NULL (array_join of [] would be '')."""
    import sqlglot
    from sqlglot import exp

    c = _distinct_sorted_text(node).sql(dialect="spark")
    sep = exp.Literal.string(node.args["separator"].name).sql(dialect="spark")
    return sqlglot.parse_one(f"CASE WHEN count({c}) = 0 THEN NULL "
                             f"ELSE array_join(array_sort(collect_set({c})), {sep}) END", read="spark")


def _order_hidden(node: exp.Expression) -> bool:
    """``node`` reaches a ``len()`` or an ``unnest()`` (into rows) through CASE branches only."""
    from sqlglot import exp

    up = node.parent
    while isinstance(up, (exp.If, exp.Case)):
        up = up.parent
    return isinstance(up, (exp.Length, exp.Explode))


def _range_list(node: exp.GenerateSeries) -> exp.Expression:
    """``range(a, b, step)`` (DuckDB: end exclusive, empty when ``a >= b``) as the list ``unnest``
    reads: Spark's ``sequence`` includes its end and fails when ``a > b``."""
    import sqlglot

    a, b, step = (node.args[k].sql(dialect="spark") for k in ("start", "end", "step"))
    return sqlglot.parse_one(f"CASE WHEN ({a}) < ({b}) THEN filter(sequence({a}, {b}, {step}), rumq_t -> rumq_t < ({b})) "
                             "ELSE array() END", read="spark")


def _is_double(node: exp.Expression) -> bool:
    """Provably a DOUBLE: a cast to DOUBLE, a DOUBLE column of the events table, a coalesce of those."""
    from sqlglot import exp

    from rumq.schema import COLUMNS_BY_NAME

    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Cast):
        return node.to.is_type("double")
    if isinstance(node, exp.Coalesce):
        return all(_is_double(a) for a in [node.this, *node.expressions])
    if isinstance(node, (exp.Pow, exp.Div)) or (isinstance(node, exp.Anonymous) and node.name.lower() == "fmod"):
        return True  # DOUBLE on both, whatever the arguments
    if isinstance(node, (exp.Trunc, exp.Abs, exp.Neg)):
        return _is_double(node.this)
    c = COLUMNS_BY_NAME.get(node.name) if isinstance(node, exp.Column) else None
    return c is not None and c.type == "DOUBLE"


#: DuckDB JSON functions rendered by rumq.engines.spark_json (validity, kind, compact text, length,
#: the JSON string of a text).
_JSON_VALUE_FUNCTIONS = frozenset({"json_valid", "json_array_length", "to_json"})


def _json_value_check(node: exp.Expression, what: str) -> bool:
    """True for a JSON function node that spark_json renders exactly in this place; refuses the others.

    ``json_valid(t)`` and ``json_array_length(t)`` of one argument; ``json_type(t)`` only compared
    (``=``, ``IN``) with 'OBJECT' or 'ARRAY'; ``json(t)`` only cast to VARCHAR (its compact text).
    """
    from sqlglot import exp

    if isinstance(node, exp.Anonymous):
        if node.name.lower() not in _JSON_VALUE_FUNCTIONS:
            return False
        if len(node.expressions) != 1:
            raise NotPortableError(f"{what}: {node.name}() with more than one argument is not rendered for Spark")
        if node.name.lower() == "to_json" and not _is_text(node.expressions[0]):
            raise NotPortableError(f"{what}: to_json() is rendered for Spark only of a text (or as a pattern's samples)")
        return True
    if isinstance(node, exp.JSONExtract):
        return _is_elements(node.parent)  # else checked as json_extract (get_json_object)
    if isinstance(node, exp.ParseJSON):
        if not (isinstance(node.parent, exp.Cast) and node.parent.to.is_type("varchar", "text")):
            raise NotPortableError(f"{what}: json() is rendered for Spark only as CAST(json(t) AS VARCHAR)")
        return True
    up = node.parent
    values = [up.expression] if isinstance(up, exp.EQ) else up.expressions if isinstance(up, exp.In) else None
    if not values or up.this is not node or not all(
            isinstance(v, exp.Literal) and v.is_string and v.name in ("OBJECT", "ARRAY") for v in values):
        raise NotPortableError(f"{what}: json_type() is rendered for Spark only compared with 'OBJECT' or 'ARRAY'")
    return True


def _is_elements(node: exp.Expression | None) -> bool:
    """``CAST(json_extract(t, '$[*]') AS VARCHAR[])`` (the Logs Insights unnest): marks it for spark_json."""
    from sqlglot import exp

    if not (isinstance(node, exp.Cast) and isinstance(node.this, exp.JSONExtract)
            and node.to.is_type(exp.DataType.Type.ARRAY) and node.to.expressions
            and node.to.expressions[0].is_type("varchar", "text")):
        return False
    path = node.this.expression
    parts = path.expressions if isinstance(path, exp.JSONPath) else []
    if not (len(parts) == 2 and isinstance(parts[0], exp.JSONPathRoot) and isinstance(parts[1], exp.JSONPathSubscript)
            and isinstance(parts[1].this, exp.JSONPathWildcard)):
        return False
    node.meta["json_elements"] = node.this.meta["json_elements"] = True
    return True


def _json_value_spark(node: exp.Expression) -> exp.Expression | None:
    from sqlglot import exp

    from rumq.engines import spark_json

    if isinstance(node, exp.Anonymous) and node.name.lower() == "json_valid":
        return spark_json.valid(node.expressions[0])
    if isinstance(node, exp.Anonymous) and node.name.lower() == "json_array_length":
        return spark_json.array_length(node.expressions[0])
    if isinstance(node, exp.Anonymous) and node.name.lower() == "to_json":
        return spark_json.quoted(node.expressions[0])
    if isinstance(node, exp.JSONExtract) and node.meta.get("json_elements"):
        return node  # rendered with its CAST
    if isinstance(node, exp.Cast) and node.meta.get("json_elements"):
        return spark_json.elements(node.this.this)
    if isinstance(node, exp.JSONType):
        return spark_json.kind(node.this)
    if isinstance(node, exp.ParseJSON):
        return node  # rendered with its CAST
    if isinstance(node, exp.Cast) and node.meta.get("json_text"):
        return spark_json.text(node.this.this)
    return None


def _mark_sample_list(node: exp.Expression) -> None:
    """Mark ``to_json(list_sort(list_distinct(list(x)))[1:n])`` of text ``x`` (the Logs Insights
    ``pattern``'s samples) for ``_sample_list_spark``: its wrapper nodes are not checked one by one.

    The first n distinct non-NULL values, sorted, as a JSON array: the order of ``list()`` does not
    show (the list is sorted), nor do its NULLs (``list_distinct`` drops them, ``collect_list`` too).
    """
    from sqlglot import exp

    if not (node.name.lower() == "to_json" and len(node.expressions) == 1):
        return
    b = node.expressions[0]
    if not (isinstance(b, exp.Bracket) and len(b.expressions) == 1 and isinstance(b.expressions[0], exp.Slice)):
        return
    sl = b.expressions[0]
    if not (isinstance(sl.this, exp.Literal) and sl.this.is_int and int(sl.this.name) == 1
            and isinstance(sl.expression, exp.Literal) and sl.expression.is_int and int(sl.expression.name) >= 1
            and sl.args.get("step") is None):
        return
    srt = b.this
    nulls_first = srt.args.get("nulls_first") if isinstance(srt, exp.ArraySort) else None
    if not (isinstance(srt, exp.ArraySort) and srt.expression is None
            and (nulls_first is None or not nulls_first.this)):
        return
    d = srt.this
    agg = d.this if isinstance(d, exp.ArrayDistinct) else None
    if not (isinstance(agg, exp.ArrayAgg) and not isinstance(agg.this, exp.Order) and _is_text(agg.this)):
        return
    node.meta["sample_list"] = int(sl.expression.name)
    for part in (node, b, sl, sl.this, sl.expression, srt, d, agg, *([nulls_first] if nulls_first else [])):
        part.meta["sample_part"] = True


def _sample_list_spark(node: exp.Expression) -> exp.Expression:
    """``to_json(slice(array_sort(array_distinct(collect_list(x))), 1, n))``: both engines sort text by its
    bytes and write a JSON array of strings alike (tests/test_engine_spark_scalars.py)."""
    from sqlglot import exp

    x = node.expressions[0].this.this.this.this  # Bracket -> ArraySort -> ArrayDistinct -> ArrayAgg -> x
    fn = lambda name, *a: exp.Anonymous(this=name, expressions=list(a))  # noqa: E731
    items = fn("array_sort", fn("array_distinct", fn("collect_list", x.copy())))
    return fn("to_json", fn("slice", items, exp.Literal.number(1), exp.Literal.number(node.meta["sample_list"])))


def _not_floating(node: exp.Expression) -> bool:
    """Provably not a DOUBLE or FLOAT: text, an integer, a truth value, a timestamp, a cast to another type."""
    from sqlglot import exp

    from rumq.schema import COLUMNS_BY_NAME

    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Placeholder):
        return bool(node.meta.get("not_floating"))  # its value is known not to be a float (render)
    if _is_text(node) or _is_integer(node) or _is_integer_expr(node) or _is_timestamp(node):
        return True
    if isinstance(node, exp.Column):
        c = COLUMNS_BY_NAME.get(node.name)
        return c is not None and c.type not in ("DOUBLE", "FLOAT")
    if isinstance(node, exp.Cast):
        return not node.to.is_type("double", "float", "decimal") and not node.to.is_type(*exp.DataType.FLOAT_TYPES)
    # A length is an integer on both engines (characters or elements).
    return isinstance(node, (exp.Predicate, exp.Connector, exp.Not, exp.Boolean, exp.Null, exp.Length))


def _is_text(node: exp.Expression) -> bool:
    """Provably a string: a VARCHAR column of the events table, a string literal, a cast to VARCHAR,
    ``->>``, upper/lower/trim/substring of a string, a coalesce of strings."""
    from sqlglot import exp

    from rumq.schema import COLUMNS_BY_NAME

    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Column) and node.name not in COLUMNS_BY_NAME:
        # A column of a CTE (the Logs Insights compiler's stages): the expression that defines it.
        defined = _cte_column(node)
        return defined is not None and _is_text(defined)
    if isinstance(node, exp.Column):
        return COLUMNS_BY_NAME[node.name].type == "VARCHAR"
    if isinstance(node, exp.Literal):
        return node.is_string
    if isinstance(node, exp.Cast):
        return node.to.is_type("varchar", "text")
    if isinstance(node, exp.JSONExtractScalar):
        return True
    if isinstance(node, (exp.Upper, exp.Lower, exp.Trim, exp.Substring)):
        return _is_text(node.this)
    if isinstance(node, exp.Coalesce):
        return all(_is_text(a) for a in [node.this, *node.expressions])
    if isinstance(node, exp.Case):
        return all(_is_text(i.args["true"]) for i in node.args.get("ifs") or []) and (
            node.args.get("default") is None or _is_text(node.args["default"]))
    if isinstance(node, exp.Concat) or (isinstance(node, exp.Anonymous) and node.name.lower() == "to_json"):
        return True  # concat's arguments are checked to be text (spark_scalars); to_json writes JSON text
    if isinstance(node, exp.Replace):
        return _is_text(node.this)
    return False


def _is_chunk(node: exp.Expression) -> bool:
    """The lambda variable of ``list_transform(regexp_extract_all(...), lambda c: ...)``: a string
    (so ``len(c)`` is its length and ``c[1]`` its first character, as the natural sort key uses them)."""
    from sqlglot import exp

    if not isinstance(node, (exp.Identifier, exp.Column)) or (isinstance(node, exp.Column) and node.table):
        return False
    name = node.name
    parent = node.parent
    while parent is not None:
        if isinstance(parent, exp.Lambda) and any(v.name == name for v in parent.expressions):
            t = parent.parent
            return isinstance(t, exp.Transform) and t.expression is parent \
                and isinstance(t.this, exp.RegexpExtractAll)
        parent = parent.parent
    return False


def _chunk_char(node: exp.Bracket, what: str) -> exp.Expression:
    """``c[k]`` of a string (DuckDB: the k-th character, 1-based) -> ``substring(c, k, 1)``."""
    from sqlglot import exp

    index = node.expressions[0] if len(node.expressions) == 1 else None
    if not (isinstance(index, exp.Literal) and index.is_int and int(index.name) >= 0):
        raise NotPortableError(f"{what}: {node.sql(dialect='duckdb')}: only a literal character position "
                               "is rendered for Spark")
    # sqlglot keeps a literal index 0-based; DuckDB's c[1] is the first character.
    return exp.Substring(this=node.this.copy(), start=exp.Literal.number(int(index.name) + 1),
                         length=exp.Literal.number(1))


def _is_unnest_of_list(node: exp.Expression | None) -> bool:
    """``unnest(list(x))`` as the only projection of an ungrouped SELECT (a DuckDB planner hint)."""
    from sqlglot import exp

    if not isinstance(node, exp.Explode) or not isinstance(node.this, exp.ArrayAgg):
        return False
    agg = node.this
    if not isinstance(agg.this, exp.Column):
        return False
    sel = node.parent.parent if isinstance(node.parent, exp.Alias) else node.parent
    return isinstance(sel, exp.Select) and len(sel.expressions) == 1 and not sel.args.get("group")


def _sorted_struct_list(node: exp.Expression) -> exp.ArrayAgg | None:
    """The ``list(<struct>)`` (maybe with FILTER) that ``list_sort(...)`` sorts, ascending, or None."""
    from sqlglot import exp

    if not isinstance(node, exp.ArraySort) or node.expression is not None:
        return None
    if node.args.get("nulls_first") is not None and node.args["nulls_first"].this:
        return None
    arg = node.this.this if isinstance(node.this, exp.Filter) else node.this
    if isinstance(arg, exp.ArrayAgg) and isinstance(arg.this, exp.Struct):
        return arg
    return None


def _is_sorted_struct_list(agg: exp.ArrayAgg) -> bool:
    from sqlglot import exp

    parent = agg.parent.parent if isinstance(agg.parent, exp.Filter) else agg.parent
    return isinstance(parent, exp.ArraySort) and _sorted_struct_list(parent) is agg


def _struct_sort(node: exp.ArraySort) -> exp.Expression:
    """``list_sort(list(<struct>))`` with DuckDB's order: field by field, NULL fields last.

    Spark's ``array_sort`` orders NULL struct fields first; a comparator keeps DuckDB's order.
    """
    import sqlglot
    from sqlglot import exp

    agg = _sorted_struct_list(node)
    names = [f.this.name if isinstance(f, exp.PropertyEQ) else f.alias_or_name for f in agg.this.expressions]
    def field(n: str) -> str:
        a, b = f"l.`{n}`", f"r.`{n}`"
        return (f"CASE WHEN {a} IS NULL AND {b} IS NULL THEN 0 WHEN {a} IS NULL THEN 1 WHEN {b} IS NULL THEN -1 "
                f"WHEN {a} < {b} THEN -1 WHEN {a} > {b} THEN 1 ELSE 0 END")

    cmp = "CASE " + " ".join(f"WHEN ({field(n)}) <> 0 THEN {field(n)}" for n in names) + " ELSE 0 END"
    return sqlglot.parse_one(f"array_sort({node.this.sql(dialect='spark')}, (l, r) -> {cmp})", read="spark")


def _node_spark(node: exp.Expression, what: str) -> exp.Expression:
    import sqlglot
    from sqlglot import exp

    from rumq.engines import spark_scalars

    if node.meta.get("sample_part") and not node.meta.get("sample_list"):
        return node  # rendered with its to_json() (_sample_list_spark)
    if node.meta.get("sample_list"):
        return _sample_list_spark(node)
    json_value = _json_value_spark(node)
    if json_value is not None:
        return json_value
    if node.meta.get("tz_part"):
        return node  # rendered with the timezone() around it
    if node.meta.get("tz"):
        from rumq.engines import spark_time

        return spark_time.wall_clock(node)
    scalar = spark_scalars.render(node, what)
    if scalar is not None:
        return scalar
    if isinstance(node, exp.ArraySort):
        return _struct_sort(node)
    if isinstance(node, exp.Glob):
        return _glob(node)
    if isinstance(node, exp.Left):
        n = node.expression
        if not (isinstance(n, exp.Literal) and n.is_int and int(n.name) >= 0):
            # DuckDB's left(s, -k) drops the last k characters, Spark's gives ''.
            raise NotPortableError(f"{what}: left() is rendered for Spark only with a literal length >= 0")
        return node
    if isinstance(node, exp.TimeToStr):
        return _strftime(node, what)
    if isinstance(node, exp.JSONExtractScalar):
        return _json_text(node)
    if isinstance(node, exp.TryCast) and node.to.is_type("double") and not _is_integer(node.this):
        return _try_double(node)
    if isinstance(node, exp.RegexpLike):
        return _regexp_matches(node, what)
    if isinstance(node, exp.UnixToTime):
        return _epoch_ms(node, what)
    if isinstance(node, exp.GroupConcat):
        return _string_agg(node)
    if isinstance(node, exp.Split):
        # Spark's split takes a regular expression: the separator quoted; -1 keeps trailing ''.
        sep = exp.Literal.string("\\Q" + node.expression.name + "\\E")
        return exp.Anonymous(this="split", expressions=[node.this.copy(), sep, exp.Literal.number(-1)])
    if isinstance(node, exp.TimeToUnix) and isinstance(node.this, exp.Placeholder):
        # A bound value in epoch() is a duration (rumq binds `duration` parameters as intervals):
        # its seconds as DOUBLE, as DuckDB's epoch(INTERVAL).
        micros = exp.Anonymous(this="unix_micros", expressions=[exp.Add(
            this=exp.Anonymous(this="timestamp_micros", expressions=[exp.Literal.number(0)]),
            expression=node.this.copy())])
        return exp.Paren(this=exp.Div(this=micros, expression=exp.cast(exp.Literal.number(1000000), "DOUBLE")))
    if isinstance(node, exp.ArrayDistinct):
        # DuckDB's list_distinct drops NULL elements; Spark's array_distinct keeps one.
        return sqlglot.parse_one(f"array_distinct(filter({node.this.sql(dialect='spark')}, rumq_e -> "
                                 "rumq_e IS NOT NULL))", read="spark")
    if isinstance(node, exp.Length) and (node.meta.get("text_length") or _is_chunk(node.this)):
        # A string's length in characters (code points) on both.
        return exp.Anonymous(this="char_length", expressions=[node.this.copy()])
    if isinstance(node, exp.Bracket) and _is_chunk(node.this):
        return _chunk_char(node, what)
    if isinstance(node, exp.RegexpExtractAll):
        # DuckDB's default group is 0 (every whole match), Spark's 1.
        node.set("expression", exp.Literal.string(spark_pattern(node.expression.name, what)))
        node.set("group", exp.Literal.number(0))
        return node
    if isinstance(node, exp.Length):
        x = node.this.copy()
        return exp.If(this=exp.Is(this=x, expression=exp.Null()), true=exp.Null(),
                      false=exp.Anonymous(this="size", expressions=[x.copy()]))
    if isinstance(node, exp.Table) and _is_first_seen(node.this):
        # The table macro -> the view rumq.engines.spark.register creates over the whole history.
        node.set("this", exp.to_identifier(FIRST_SEEN_VIEW))
        return node
    if isinstance(node, exp.Table) and isinstance(node.this, exp.GenerateSeries):
        g = node.this
        end = g.args["end"].copy()
        if not g.args.get("is_end_exclusive"):
            end = exp.Add(this=exp.Paren(this=end), expression=exp.Literal.number(1))
        node.set("this", exp.Anonymous(this="range", expressions=[g.args["start"].copy(), end]))
        return node
    if isinstance(node, exp.Explode) and _is_unnest_of_list(node):
        return node.this.this.copy()
    if isinstance(node, exp.Avg):
        return exp.Avg(this=exp.cast(node.this.copy(), "DOUBLE"))
    if isinstance(node, exp.PercentileDisc):
        p = node.expression
        if node.args.get("order") or not (isinstance(p, exp.Literal) and not p.is_string
                                          and 0 <= float(p.name) <= 1):
            raise NotPortableError(f"{what}: quantile_disc is rendered for Spark only with one literal fraction")

        # Both pick the first value whose cumulative share reaches p (NULLs skipped; compared on
        # 5,600 random groups and fractions, tests/test_engine_spark_queries.py).
        # Built as nodes: sqlglot reads Spark's percentile_disc text as percentile_approx.
        return exp.WithinGroup(this=exp.Anonymous(this="percentile_disc", expressions=[p.copy()]),
                               expression=exp.Order(expressions=[exp.Ordered(this=node.this.copy(),
                                                                             nulls_first=False)]))
    if isinstance(node, exp.PercentileCont):
        p = node.expression
        fractions = p.expressions if isinstance(p, exp.Array) else [p]
        if node.args.get("order") or not fractions or not all(
                isinstance(f, exp.Literal) and not f.is_string for f in fractions):
            raise NotPortableError(f"{what}: quantile_cont needs literal fractions to render for Spark")
        # percentile(x, array(...)) gives the array of exact quantiles, as quantile_cont(x, [...]).
        return exp.Anonymous(this="percentile", expressions=[node.this.copy(), p.copy()])
    if isinstance(node, exp.Bracket):
        return _element_at(node, what)
    if isinstance(node, exp.TimeToUnix):
        micros = exp.Anonymous(this="unix_micros", expressions=[exp.cast(node.this.copy(), "TIMESTAMP")])
        return exp.Paren(this=exp.Div(this=micros, expression=exp.cast(exp.Literal.number(1000000), "DOUBLE")))
    if isinstance(node, exp.Div):
        return _ieee_divide(node.this.copy(), node.expression.copy())
    if isinstance(node, exp.RegexpReplace):
        return _regexp_replace(node, what)
    if isinstance(node, exp.RegexpFullMatch):
        p = node.expression
        if not (isinstance(p, exp.Literal) and p.is_string) or node.args.get("options"):
            raise NotPortableError(f"{what}: regexp_full_match needs a literal pattern to render for Spark")
        # RLIKE finds a match anywhere: anchor the whole pattern (\z: the very end, as RE2's $).
        return exp.RegexpLike(this=node.this.copy(),
                              expression=exp.Literal.string(f"^(?:{java_pattern(p.name, what)})\\z"))
    if isinstance(node, exp.RegexpExtract):
        p = node.expression
        if isinstance(p, exp.Literal) and p.is_string:
            node.set("expression", exp.Literal.string(spark_pattern(p.name, what)))
        elif not isinstance(p, exp.Placeholder):  # a bound one is translated by render_bound
            raise NotPortableError(f"{what}: regexp_extract needs a literal or bound pattern to render for Spark")
        group = node.args.get("group")
        if isinstance(group, exp.Array) and group.expressions and all(
                isinstance(g, exp.Literal) and g.is_string for g in group.expressions):
            # regexp_extract(s, p, ['a', 'b']): DuckDB's struct of groups 1, 2, ... named a, b (the
            # Logs Insights parse); Spark's named_struct of the groups by index ('' when a group
            # takes no part, as DuckDB).
            fields: list[exp.Expression] = []
            for k, name in enumerate(group.expressions, start=1):
                one = exp.RegexpExtract(this=node.this.copy(), expression=node.expression.copy(),
                                        group=exp.Literal.number(k))
                fields += [exp.Literal.string(name.name), one]
            return exp.Anonymous(this="named_struct", expressions=fields)
        if group is not None and not (isinstance(group, exp.Literal) and group.is_int):
            raise NotPortableError(f"{what}: regexp_extract with the groups {group.sql(dialect='duckdb')} "
                                   "is not rendered for Spark")
        # DuckDB's default group is 0 (the whole match), Spark's 1: always say which.
        if node.args.get("group") is None:
            node.set("group", exp.Literal.number(0))
        return node
    if isinstance(node, (exp.ArgMin, exp.ArgMax)) and node.meta.get("keep_null"):
        return node  # arg_min_null/arg_max_null: Spark's min_by/max_by keep a NULL value too
    if isinstance(node, (exp.ArgMin, exp.ArgMax)):
        # DuckDB's arg_min/arg_max skip rows whose value (not only whose key) is NULL; Spark's
        # min_by/max_by skip NULL keys only: NULL the key where the value is NULL.
        value, key = node.this, node.expression
        guarded = exp.If(this=exp.Is(this=value.copy(), expression=exp.Null()), true=exp.Null(), false=key.copy())
        return type(node)(this=value.copy(), expression=guarded)
    if isinstance(node, exp.TimestampTrunc) and isinstance(node.args.get("unit"), exp.Placeholder):
        # A bound unit (users/retention's $period): render_bound checks its value.
        trunc = exp.Anonymous(this="date_trunc", expressions=[node.args["unit"].copy(), node.this.copy()])
        return exp.cast(trunc, exp.DataType.build("TIMESTAMP_NTZ", dialect="spark"))
    if isinstance(node, exp.GenerateSeries) and isinstance(node.parent, exp.Explode):
        return _range_list(node)
    if isinstance(node, exp.TimestampTrunc):
        unit = node.text("unit").upper()
        if unit not in _TRUNC_UNITS:
            raise NotPortableError(f"{what}: date_trunc to {unit or 'an unknown unit'} is not rendered for Spark",
                                   hint=f"units rendered: {', '.join(sorted(_TRUNC_UNITS))}")
        # Spark's date_trunc returns a zoned TIMESTAMP even for a naive one; DuckDB keeps it naive.
        return exp.cast(node.copy(), exp.DataType.build("TIMESTAMP_NTZ", dialect="spark"))
    if isinstance(node, exp.Cast) and node.to.is_type("tinyint", "smallint", "int", "bigint") \
            and not _is_integer(node.this):
        return _round_then_cast(node)
    if isinstance(node, exp.Cast) and node.to.is_type("varchar", "text") and _is_uuid(node.this):
        return _uuid_text(node.this.copy())
    return node


def _element_at(node: exp.Bracket, what: str) -> exp.Expression:
    """``l[k]`` (DuckDB: 1-based, NULL out of range) -> ``try_element_at(l, k)`` (the same in Spark).

    sqlglot stores a literal index shifted to 0-based and any other index as
    written; both are turned back into DuckDB's 1-based index here.
    """
    from sqlglot import exp

    if len(node.expressions) != 1 or isinstance(node.expressions[0], exp.Slice):
        raise NotPortableError(f"{what}: list slices ({node.sql(dialect='duckdb')}) are not rendered for Spark")
    index = node.expressions[0]
    if isinstance(index, exp.Literal) and index.is_string:
        raise NotPortableError(f"{what}: {node.sql(dialect='duckdb')}: struct or map access by key "
                               "is not rendered for Spark")
    at = lambda k: exp.Anonymous(this="try_element_at", expressions=[node.this.copy(), k])  # noqa: E731
    if isinstance(index, (exp.Literal, exp.Neg)) and index.is_number:
        written = int(index.to_py()) + 1
        if written < 1:
            raise NotPortableError(f"{what}: list index {written} in {node.sql(dialect='duckdb')} "
                                   "is not rendered for Spark")
        return at(exp.Literal.number(written))
    # DuckDB gives NULL for l[0]; Spark refuses index 0.
    # Spark's index is an INT (a list position never exceeds it; a larger one fails under ANSI).
    return exp.If(this=exp.EQ(this=index.copy(), expression=exp.Literal.number(0)), true=exp.Null(),
                  false=at(exp.cast(index.copy(), "INT")))


def _is_integer(node: exp.Expression) -> bool:
    """Provably an integer already: a count, an integer literal, an integer column of the events table."""
    from sqlglot import exp

    from rumq.schema import COLUMNS_BY_NAME

    if isinstance(node, exp.Count) or (isinstance(node, exp.Literal) and node.is_int):
        return True
    # A truth value casts to 1/0 on both (and Spark's bround would not take it).
    if isinstance(node, (exp.Predicate, exp.Connector, exp.Not, exp.Boolean)) or (
            isinstance(node, exp.Paren) and isinstance(node.this, (exp.Predicate, exp.Connector, exp.Not))):
        return True
    c = COLUMNS_BY_NAME.get(node.name) if isinstance(node, exp.Column) else None
    return c is not None and c.type in ("INTEGER", "BIGINT")


def _round_then_cast(node: exp.Cast) -> exp.Expression:
    """``CAST(x AS <integer>)`` as DuckDB computes it: a DOUBLE rounds half to even, a DECIMAL half away
    from zero (Spark's CAST truncates both); anything else casts as it is."""
    import sqlglot

    x = node.this.sql(dialect="spark")
    to = node.to.sql(dialect="spark")
    return sqlglot.parse_one(
        f"CASE WHEN typeof({x}) IN ('double', 'float') THEN CAST(bround({x}) AS {to}) "
        f"WHEN typeof({x}) LIKE 'decimal%' THEN CAST(round({x}) AS {to}) ELSE CAST({x} AS {to}) END",
        read="spark")


def _ieee_divide(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    """``a / b`` as DuckDB computes it: DOUBLE, and inf / -inf / NaN for a zero divisor."""
    from sqlglot import exp

    da, db = exp.cast(a, "DOUBLE"), exp.cast(b, "DOUBLE")
    inf = exp.cast(exp.Literal.string("Infinity"), "DOUBLE")
    zero = exp.Literal.number(0)
    by_zero = exp.Case(ifs=[
        exp.If(this=exp.GT(this=da.copy(), expression=zero.copy()), true=inf.copy()),
        exp.If(this=exp.LT(this=da.copy(), expression=zero.copy()), true=exp.Neg(this=inf.copy())),
        exp.If(this=exp.EQ(this=da.copy(), expression=zero.copy()),
               true=exp.cast(exp.Literal.string("NaN"), "DOUBLE")),
    ])
    return exp.Paren(this=exp.Case(
        ifs=[exp.If(this=exp.EQ(this=db.copy(), expression=zero.copy()), true=by_zero)],
        default=exp.Div(this=da, expression=db),
    ))


def _is_uuid(node: exp.Expression) -> bool:
    from sqlglot import exp

    if isinstance(node, (exp.Min, exp.Max)):
        node = node.this
    return isinstance(node, exp.Column) and node.name in UUID_COLUMNS


def _uuid_text(e: exp.Expression) -> exp.Expression:
    """The canonical text of a 16-byte UUID: lowercase hex in 8-4-4-4-12 groups (NULL stays NULL)."""
    import sqlglot

    h = f"lower(hex({e.sql(dialect='spark')}))"
    parts = ", '-', ".join(f"substr({h}, {s}, {n})" for s, n in ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12)))
    return sqlglot.parse_one(f"concat({parts})", read="spark")


def _regexp_replace(node: exp.Expression, what: str) -> exp.Expression:
    from sqlglot import exp

    pattern, replacement = node.expression, node.args.get("replacement")
    mods = node.args.get("modifiers")
    bound = isinstance(pattern, exp.Placeholder) and bool(pattern.name)  # translated by render_bound
    if not ((bound or (isinstance(pattern, exp.Literal) and pattern.is_string))
            and isinstance(replacement, exp.Literal) and replacement.is_string):
        raise NotPortableError(f"{what}: regexp_replace needs a literal or bound pattern and a literal replacement "
                               "to render for Spark")
    flags = mods.name if isinstance(mods, exp.Literal) else ("" if mods is None else None)
    if flags is None or set(flags) - {"g"}:
        raise NotPortableError(f"{what}: regexp_replace options {mods.sql() if mods else ''} cannot be rendered for Spark")
    if bound and "g" not in flags:
        raise NotPortableError(f"{what}: regexp_replace without 'g' is rendered for Spark only with a literal pattern")
    if bound:
        return exp.RegexpReplace(this=node.this, expression=pattern.copy(),
                                 replacement=exp.Literal.string(java_replacement(replacement.name, what)))
    if "g" not in flags and not _matches_once(pattern.name):
        raise NotPortableError(
            f"{what}: regexp_replace without 'g' replaces the first match only, and Spark replaces every match "
            f"(pattern {pattern.name!r} can match more than once)")
    return exp.RegexpReplace(
        this=node.this,
        expression=exp.Literal.string(spark_pattern(pattern.name, what)),
        replacement=exp.Literal.string(java_replacement(replacement.name, what)),
    )


def _matches_once(pattern: str) -> bool:
    """True when an RE2 pattern can match at most once in any text.

    Anchored at the start (``^``: only position 0 can match), or at the end
    (``$``) and never empty; either way without a top-level ``|`` (which would
    leave a branch unanchored).
    """
    if _top_level_bar(pattern) or re.search(r"\\[bB]", pattern):
        return False
    if pattern.startswith("^"):
        return True
    if not pattern.endswith("$") or pattern.endswith("\\$"):
        return False
    try:
        return re.fullmatch(pattern[:-1], "") is None
    except re.error:
        return False


def _top_level_bar(pattern: str) -> bool:
    depth, i, in_class = 0, 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            i += 2 if pattern.startswith(("[]", "[^"), i) else 1
            continue
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            return True
        i += 1
    return False


def java_pattern(pattern: str, what: str = "SQL") -> str:
    """An RE2 pattern as a Java regex with the same matches.

    ``$`` outside a character class is the end of the text in RE2 but also
    "before a final line break" in Java: it becomes ``\\z``. Java reads ``[`` and
    ``&&`` inside a class as union and intersection: refused.
    """
    out, i, in_class = [], 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            if c == "]" and not (out and out[-1] in ("[", "[^")):
                in_class = False
            elif c == "[" or pattern.startswith("&&", i):
                raise NotPortableError(f"{what}: the regular expression {pattern!r} has '[' or '&&' in a "
                                       "character class, which Java reads differently from RE2")
            out.append(c)
        elif c == "[":
            in_class = True
            if pattern.startswith("[^", i):
                out.append("[^")
                i += 2
                continue
            out.append(c)
        elif c == "$":
            out.append("\\z")
        else:
            out.append(c)
        i += 1
    return "".join(out)


def spark_pattern(pattern: str, what: str = "SQL") -> str:
    """An RE2 pattern as Spark's Java regex with the same matches (``java_pattern``), multi-line too.

    In multi-line mode (a leading ``(?m)``) RE2's ``^``/``$`` are line starts and
    ends at ``\\n`` only: the pattern keeps its ``$`` and gains Java's ``d``
    (UNIX_LINES) flag, so Java also ends lines at ``\\n`` only (and ``.`` stops
    at ``\\n`` only, as RE2's does).
    """
    translated = java_pattern(pattern, what)  # also refuses what Java reads differently
    m = re.match(r"\(\?([a-zA-Z]+)\)", pattern)
    if m and "m" in m.group(1):
        return f"(?{m.group(1)}d)" + pattern[m.end():]
    return translated


def java_replacement(replacement: str, what: str = "SQL") -> str:
    """An RE2 replacement (``\\1`` groups, ``\\\\`` a backslash) as a Java one (``$1``, ``\\$`` a dollar)."""
    out, i = [], 0
    while i < len(replacement):
        c = replacement[i]
        if c == "\\":
            nxt = replacement[i + 1:i + 2]
            if nxt.isdigit():
                out.append("$" + nxt)
            elif nxt == "\\":
                out.append("\\\\")
            else:
                raise NotPortableError(f"{what}: the replacement {replacement!r} has '\\{nxt}', which RE2 rejects")
            i += 2
            continue
        out.append("\\$" if c == "$" else c)
        i += 1
    return "".join(out)


def placeholders(sql: str) -> set[str]:
    """The ``$name`` parameters a DuckDB-dialect statement uses."""
    from sqlglot import exp

    return {p.name for p in parse(sql).find_all(exp.Placeholder) if p.name}


def spark_args(values: dict[str, Any]) -> dict[str, Any]:
    """Bound parameter values as ``spark.sql(args=...)`` takes them (lists as arrays)."""
    return dict(values)
