"""A named query as ONE self-contained Trino (Amazon Athena) statement, exact or refused by name.

rumq's DuckDB-dialect SQL is parsed once with sqlglot (``rumq.engines.portable``)
and goes through rewrites that keep DuckDB's answer on Trino:

- the query's ``$name`` parameters -> literals (Trino takes none): strings as
  quoted literals built by sqlglot (quotes doubled), numbers, booleans, lists
  as ``ARRAY[...]``, durations as ``INTERVAL``; never user text pasted as SQL;
- the analysis views it reads (transitively) -> CTEs, in creation order; the
  table ``rumq_events`` -> the CTE ``rumq_window`` over the Athena table (name
  from ``rumq athena ddl``'s defaults or ``--athena-table``), filtered by the
  window as *literal* ``event_date`` bounds (so Athena reads only those
  partitions) and literal ``event_time`` bounds;
- the 16-byte id columns (Glue ``binary``) -> their canonical UUID text;
- ``quantile_cont(x, p)`` (Trino has only ``approx_percentile``) -> exact
  linear interpolation over ``array_sort(array_agg(x))``, as DuckDB computes it;
- ``least``/``greatest`` (Trino: NULL if any argument is) -> each argument
  coalesced with the others, so NULLs are skipped as DuckDB does;
- ``avg(x)`` -> ``avg(CAST(x AS DOUBLE))`` (Trino's avg of a DECIMAL is a DECIMAL);
- ``a / b`` -> DOUBLE division with DuckDB's inf/-inf/NaN for a zero divisor
  (Trino truncates integers and fails on zero);
- ``regexp_replace``: RE2 -> Java pattern, ``\\1`` -> ``$1``, no ``'g'`` (Trino
  always replaces every match: without 'g' only a pattern that can match once
  is rendered); ``regexp_full_match`` -> ``regexp_like`` anchored;
- ``arg_min/arg_max`` -> ``min_by/max_by`` with the key NULLed where the value is NULL;
  ``arg_min_null/arg_max_null`` (a NULL value kept, as Trino's min_by/max_by keep it) -> ``min_by/max_by``;
- ``l[k]`` -> ``element_at`` (NULL out of range, as DuckDB);
- ``SELECT a, unnest(l) AS k FROM s, t`` -> ``SELECT a, k FROM s CROSS JOIN t CROSS JOIN UNNEST(l) AS u(k)``;
- ``list_transform(list_sort(list({...})), lambda x: x.f)`` -> ``array_agg(f ORDER BY <fields>
  NULLS LAST)``, and ``array_to_string`` of it -> ``array_join``;
- a struct key of ``arg_min``/``arg_max`` -> a ``ROW`` without NULL fields that orders as
  DuckDB's struct (``_row_key``), or, for fields of no known type, the first value of
  ``array_agg(x ORDER BY <fields>)`` (``_ordered_arg``);
- ``range(a, b[, s])`` (end exclusive) -> ``filter(sequence(...), x -> x < b)`` (``_series``),
  ``len(<list>)`` -> ``cardinality``, ``list_distinct`` -> ``array_distinct`` without NULLs;
- ``s GLOB p`` -> ``s LIKE p' ESCAPE '\\'``, every value ``p`` can take checked when rendered;
- ``WITH RECURSIVE`` -> the recursive CTE nested alone (Trino wants column aliases on every
  query of a recursive list);
- ``string_agg([DISTINCT] x, sep [ORDER BY x])`` -> ``array_join`` of the non-NULL values;
- ``rumq_user_first_seen()`` -> a CTE over the table's history up to the window's end;
- a JSON pointer built from a bound field -> a JSONPath; ``epoch(<bound duration>)`` -> seconds;
- ``TRY_CAST(text AS DOUBLE)`` -> DuckDB's reading of the text, or a cast error (``_try_double``).

Everything else must be on ``rumq.engines.portable``'s allow-list minus what Trino
computes differently; the rest raises ``NotPortableError`` naming the construct.
Running the statement against Athena is not part of rumq (it could not be tested
here): print it and run it where you run Athena queries.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rumq.engines.portable import _TRUNC_UNITS, NotPortableError, _is_uuid, rewrite_bottom_up

if TYPE_CHECKING:  # pragma: no cover
    from sqlglot import exp

    from rumq.pages import PageConfig

#: The CTE that stands for the windowed ``rumq_events`` (the Athena table keeps its own name).
WINDOW_CTE = "rumq_window"
_REFUSE_HINT = "run it on DuckDB (the default engine); docs/engines.md lists what renders for Athena"


def _refuse(what: str, shown: str) -> NotPortableError:
    return NotPortableError(f"{what}: {shown} cannot be rendered exactly for Athena/Trino", hint=_REFUSE_HINT)


def _allowed() -> tuple[type, ...]:
    """sqlglot function nodes whose Trino rendering (after the rewrites below) gives DuckDB's answer."""
    from sqlglot import exp

    return (
        exp.And, exp.Or, exp.Not, exp.Case, exp.If, exp.Coalesce, exp.Nullif,
        exp.Count, exp.Sum, exp.Min, exp.Max, exp.ArgMin, exp.ArgMax,
        exp.TimestampTrunc, exp.RowNumber, exp.Lag, exp.Lead, exp.FirstValue,
        exp.Lower, exp.Upper, exp.StartsWith, exp.Substring, exp.SplitPart,
        exp.MD5, exp.Cast, exp.ConcatWs, exp.Array, exp.Least, exp.Greatest, exp.JSONExtract,
        exp.Exists, exp.ArrayDistinct, exp.TimeToStr, exp.JSONExtractScalar, exp.RegexpLike, exp.RegexpFullMatch, exp.RegexpReplace, exp.RegexpExtract, exp.Avg, exp.PercentileCont, exp.TimeToUnix,
    )


_NAMES = {
    "ArrayAgg": "list()/array_agg",
    "ArraySort": "list_sort()",
    "Columns": "COLUMNS(...)",
    "Explode": "unnest() in a select list",
    "Glob": "GLOB",
    "GenerateSeries": "range()/generate_series",
    "Length": "len()",
    "PercentileDisc": "quantile_disc()",
    "Quantile": "quantile()",
    "Qualify": "QUALIFY",
    "Struct": "struct literals",
    "Transform": "list_transform()",
    "ArrayToString": "array_to_string()",
}


def literal(value: Any, what: str = "parameter") -> exp.Expression:
    """A bound parameter value as a Trino literal node (sqlglot quotes strings; nothing is pasted as text).

    Raises:
        NotPortableError: a value of a type with no literal here.
    """
    from sqlglot import exp

    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int):
        return exp.Literal.number(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            text = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
            return exp.cast(exp.Literal.string(text), "DOUBLE")
        return exp.cast(exp.Literal.number(repr(value)), "DOUBLE")
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.strftime("%Y-%m-%d %H:%M:%S.%f")), "TIMESTAMP")
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    if isinstance(value, dt.timedelta):
        micros = value // dt.timedelta(microseconds=1)
        if micros % 1_000_000:
            raise NotPortableError(f"{what}: a duration of a fraction of a second has no Trino literal here")
        return exp.Interval(this=exp.Literal.string(str(micros // 1_000_000)), unit=exp.var("SECOND"))
    if isinstance(value, (list, tuple)):
        items = [literal(v, what) for v in value]
        if not items:
            return exp.cast(exp.Array(expressions=[]), exp.DataType.build("ARRAY<VARCHAR>"))
        return exp.Array(expressions=items)
    raise NotPortableError(f"{what}: a {type(value).__name__} value has no Trino literal here")


# -- the rewrites -------------------------------------------------------------------------------

def rewrite(tree: exp.Expression, what: str) -> exp.Expression:
    """Check ``tree`` (DuckDB dialect) against the allow-list, then apply the Trino rewrites.

    Raises:
        NotPortableError: a construct Trino cannot compute exactly (named).
    """
    from sqlglot import exp

    from rumq.engines.portable import (
        _expand_table_macros,
        _integer_div,
        _is_unnest_of_list,
        keep_null_args,
    )

    tree = keep_null_args(_expand_table_macros(tree.copy(), what))
    allowed = _allowed()
    exempt = _exempt(tree, what)
    for node in tree.walk():
        name = type(node).__name__
        if id(node) in exempt:
            continue
        if isinstance(node, exp.Explode) and _is_unnest_of_list(node):
            continue  # SELECT unnest(list(x)) FROM ...: a DuckDB planner hint, rendered as SELECT x
        if isinstance(node, exp.ArrayAgg) and _is_unnest_of_list(node.parent):
            continue
        if isinstance(node, exp.Func) and not isinstance(node, allowed):
            if isinstance(node, exp.Anonymous):
                raise _refuse(what, f"{node.name}()")
            raise _refuse(what, _NAMES.get(name) or f"{node.sql(dialect='duckdb')[:40]} ({name})")
        if isinstance(node, (exp.Create, exp.Columns, exp.Glob, exp.Qualify)):
            raise _refuse(what, _NAMES.get(name) or name)
        if isinstance(node, exp.Table) and isinstance(node.this, exp.Func) and id(node.this) not in exempt:
            raise _refuse(what, f"the table function {node.this.sql(dialect='duckdb')[:40]}")
        if isinstance(node, exp.IntDiv) and not _integer_div(node):
            raise _refuse(what, f"{node.sql(dialect='duckdb')} ('//' other than integer column // integer literal)")
        if isinstance(node, exp.Placeholder):
            raise _refuse(what, f"the unbound parameter ${node.name}")
    for cte in tree.find_all(exp.CTE):
        cte.set("materialized", None)
    for group in list(tree.find_all(exp.Group)):
        if group.args.get("all"):
            _group_by_all(group, what)
    _nest_recursive(tree, what)
    return rewrite_bottom_up(tree, lambda node: _node(node, what))


def _nest_recursive(tree: exp.Expression, what: str) -> None:
    """``WITH RECURSIVE a AS (...), r(cols) AS (base UNION ALL step), ...`` -> a plain ``WITH`` whose
    ``r`` is ``(WITH RECURSIVE rumq_rec_r(cols) AS (base UNION ALL step) SELECT * FROM rumq_rec_r)``.

    Trino wants column aliases on every query of a ``WITH RECURSIVE`` list (the views and the
    other CTEs have none); nested, the recursive list holds only the recursive query, which
    must have them. The same rows: the nested query is the recursive CTE itself.
    """
    from sqlglot import exp

    for with_ in list(tree.find_all(exp.With)):
        if not with_.args.get("recursive"):
            continue
        with_.set("recursive", None)
        for cte in with_.expressions:
            name = cte.alias_or_name
            body = cte.this
            if not any(t.name == name and not t.db for t in body.find_all(exp.Table)):
                continue  # not recursive: a plain CTE
            cols = cte.args["alias"].columns if cte.args.get("alias") else []
            if not cols or not isinstance(body, exp.Union) or body.args.get("distinct"):
                raise _refuse(what, f"the recursive CTE {name} (Trino needs UNION ALL and a column list)")
            # The inner query gets a name of its own: no name is defined twice, whatever Trino's scoping.
            inner_name, body = f"rumq_rec_{name}", body.copy()
            for t in body.find_all(exp.Table):
                if t.name == name and not t.db:
                    if not t.args.get("alias"):
                        t.set("alias", exp.TableAlias(this=exp.to_identifier(name)))
                    t.set("this", exp.to_identifier(inner_name))
            alias = exp.TableAlias(this=exp.to_identifier(inner_name), columns=[c.copy() for c in cols])
            inner = exp.With(recursive=True, expressions=[exp.CTE(this=body, alias=alias)])
            nested = exp.select("*").from_(exp.to_identifier(inner_name))
            nested.set("with_" if "with_" in exp.Select.arg_types else "with", inner)
            cte.set("this", nested)


def _exempt(tree: exp.Expression, what: str) -> set[int]:
    """The nodes of the shapes rendered below although their functions are not on the allow-list.

    - ``SELECT ..., unnest(<list>) AS k, ... FROM <sources>`` -> ``... CROSS JOIN UNNEST(<array>) AS
      rumq_u(k)`` (``_unnest_projection``; both drop a row whose list is empty or NULL);
    - ``list_transform(list_sort(list({...}) [FILTER]), lambda x: x.f)`` -> ``array_agg(<f> ORDER BY
      <fields> NULLS LAST) [FILTER]`` (the list of one field in the struct's order; DuckDB sorts
      NULL struct fields last), and ``array_to_string`` of it -> ``array_join`` (both skip NULLs);
    - a struct literal as the key of ``arg_min``/``arg_max`` -> ``ROW(...)`` without NULL fields
      (``_row_key``: Trino's comparison of rows with NULL fields is not DuckDB's), or the ordered
      ``array_agg`` (``_ordered_arg``) when a field's type is not known here;
    - ``count(DISTINCT {...})``, ``range()`` as a table or unnested, ``len(<list>)``,
      ``string_agg`` (``_string_agg``), ``list_contains(string_split(s, '<sep>'), x)`` and
      ``GLOB`` (its pattern's values checked here, ``_glob_values``).

    The expressions inside (the list, the fields, the filter) are still checked.
    """
    from sqlglot import exp

    out: set[int] = set()
    for node in tree.walk():
        if isinstance(node, exp.Select) and _unnest_projection(node):
            out.add(id(node.expressions[1].this))
        elif isinstance(node, exp.Transform) and _field_list(node):
            sort, agg, _, _ = _field_list(node)
            out |= {id(node), id(sort), id(agg), id(agg.this)}
            if isinstance(node.parent, exp.ArrayToString) and isinstance(node.parent.expression, exp.Literal):
                out.add(id(node.parent))
        elif isinstance(node, exp.Struct) and isinstance(node.parent, (exp.ArgMin, exp.ArgMax)) \
                and node is node.parent.expression:
            try:
                _row_key(node, what)
            except NotPortableError:
                if isinstance(node.parent.parent, (exp.Filter, exp.Window)):
                    continue  # refused by the check as a struct literal, after any construct before it
                node.parent.meta["rumq_ordered"] = True  # element_at(array_agg(x ORDER BY <fields>), 1)
            out.add(id(node))
        elif isinstance(node, exp.Struct) and isinstance(node.parent, exp.Distinct) \
                and isinstance(node.parent.parent, exp.Count) and len(node.parent.expressions) == 1:
            out.add(id(node))  # count(DISTINCT {...}) -> count(DISTINCT ROW(...))
        elif isinstance(node, exp.Table) and _range_args(node.this) is not None:
            out.add(id(node.this))  # FROM range(a, b) AS r(k) -> FROM UNNEST(<array>) AS r(k)
        elif isinstance(node, exp.Length) and _is_list(node.this):
            out.add(id(node))  # len(<list>) -> cardinality
        elif isinstance(node, exp.GroupConcat) and _string_agg(node) is not None:
            out.add(id(node))
        elif isinstance(node, exp.ArrayContains) and isinstance(node.this, exp.Split) \
                and isinstance(node.this.expression, exp.Literal) and node.this.expression.name:
            out |= {id(node), id(node.this)}  # list_contains(string_split(s, ','), x): no NULL element
        elif isinstance(node, exp.Glob):
            _glob_values(node.expression, what)
            out.add(id(node))
    for node in tree.walk():
        if isinstance(node, exp.Select) and _unnest_projection(node) is not None:
            explode = node.expressions[_unnest_projection(node)].this
            out.add(id(explode))
            if _range_args(explode.this) is not None:
                out.add(id(explode.this))
    return out


def _range_args(node: exp.Expression) -> tuple[exp.Expression, exp.Expression, exp.Expression | None] | None:
    """``range(a, b[, step])`` / ``generate_series(a, b[, step])``: (a, the exclusive end, step); else None."""
    from sqlglot import exp

    if not isinstance(node, exp.GenerateSeries):
        return None
    end = node.args["end"]
    if not node.args.get("is_end_exclusive"):
        return None  # generate_series (end inclusive) is not in the library: not rendered
    return node.args["start"], end, node.args.get("step")


def _is_list(node: exp.Expression) -> bool:
    """Provably a list: a value cast to a list type, or list_distinct(...)."""
    from sqlglot import exp

    from rumq.engines.portable import _is_list_cast

    return _is_list_cast(node) or isinstance(node, exp.ArrayDistinct)


def _string_agg(node: exp.GroupConcat) -> tuple[exp.Expression, bool, bool, exp.Expression] | None:
    """``string_agg([DISTINCT] x, '<sep>' [ORDER BY x])``: (x, distinct, ordered, separator); else None.

    Only the order by the aggregated value itself, ascending (the order ``array_sort`` gives), or none
    at all when there is no DISTINCT (then DuckDB's order is unspecified too).
    """
    from sqlglot import exp

    sep = node.args.get("separator")
    sep = exp.Literal.string(",") if sep is None else sep
    if not (isinstance(sep, exp.Literal) and sep.is_string) or isinstance(node.parent, (exp.Filter, exp.Window)):
        return None
    arg, order = node.this, None
    if isinstance(arg, exp.Order):
        arg, order = arg.this, arg.expressions
    distinct = isinstance(arg, exp.Distinct)
    if distinct:
        if len(arg.expressions) != 1:
            return None
        arg = arg.expressions[0]
    if order is not None:
        if len(order) != 1 or order[0].args.get("desc") or order[0].this != arg:
            return None
    elif distinct:
        return None
    return arg, distinct, order is not None, sep


def _unnest_projection(sel: exp.Select) -> int | None:
    """``SELECT ..., unnest(<list>) AS k, ... FROM <sources> [WHERE w]``: the position of the one
    ``unnest``; else None.

    No grouping, no DISTINCT, no window, no other ``unnest`` and no aggregate in the select list, and
    ``w`` does not read ``k`` (DuckDB's WHERE may name a select alias): then the ``WHERE`` filters
    the same rows before or after the list is expanded.
    """
    from sqlglot import exp

    e = sel.expressions
    at = [i for i, x in enumerate(e) if isinstance(x, exp.Alias) and isinstance(x.this, exp.Explode)]
    if len(at) != 1 or sel.args.get("from_") is None or sel.args.get("group") or sel.args.get("distinct") \
            or sel.args.get("having") or sel.args.get("qualify"):
        return None
    k = e[at[0]].alias
    if e[at[0]].this.find(exp.AggFunc, exp.Window):
        return None  # unnest(list(x)), a planner hint, is rendered as x; any other is refused
    others = [x for i, x in enumerate(e) if i != at[0]]
    if any(x.find(exp.Explode, exp.AggFunc, exp.Window) for x in others):
        return None
    where = sel.args.get("where")
    if where is not None and any(c.name == k and not c.table for c in where.find_all(exp.Column)):
        return None
    return at[0]


def _field_list(node: exp.Transform) -> tuple[exp.Expression, exp.ArrayAgg, int, exp.Where | None] | None:
    """``list_transform(list_sort(list(<struct>) [FILTER (WHERE w)]), lambda x: x.f)``: the sort, the
    list, the index of field f and the filter; else None."""
    from sqlglot import exp

    from rumq.engines.portable import _sorted_struct_list

    sort, fn = node.this, node.expression
    agg = _sorted_struct_list(sort) if isinstance(sort, exp.ArraySort) else None
    if agg is None or not isinstance(fn, exp.Lambda) or len(fn.expressions) != 1:
        return None
    var, body = fn.expressions[0].name, fn.this
    if not (isinstance(body, exp.Dot) and isinstance(body.this, exp.Identifier) and body.this.name == var):
        return None
    names = [f.this.name if isinstance(f, exp.PropertyEQ) else None for f in agg.this.expressions]
    if body.expression.name not in names:
        return None
    where = sort.this.expression if isinstance(sort.this, exp.Filter) else None
    return sort, agg, names.index(body.expression.name), where


def _ordered_list(node: exp.Transform) -> exp.Expression:
    from sqlglot import exp

    _, agg, i, where = _field_list(node)
    fields = [f.expression for f in agg.this.expressions]
    order = exp.Order(expressions=[exp.Ordered(this=f.copy(), desc=False, nulls_first=False) for f in fields])
    out: exp.Expression = exp.ArrayAgg(this=exp.Order(this=fields[i].copy(), expressions=order.expressions))
    if where is not None:
        out = exp.Filter(this=out, expression=where.copy())
    return out


#: A value of each column type for a NULL field of a ROW key (after a flag that puts it last).
_ROW_FILL = {"BIGINT": "0", "INTEGER": "0", "DOUBLE": "0.0", "VARCHAR": "''", "BOOLEAN": "false",
             "TIMESTAMP": "TIMESTAMP '1970-01-01 00:00:00'"}


def _row_key(node: exp.Struct, what: str) -> exp.Expression:
    """A struct key as a Trino ``ROW`` that orders as DuckDB's struct: field by field, NULL last.

    A field that cannot be NULL (a literal, a ``coalesce`` ending in a literal)
    is kept; a column of the events table becomes ``(c IS NULL, coalesce(c, <fill>))``,
    so the row has no NULL field and NULL sorts after every value as in DuckDB.
    Anything else is refused.
    """
    import sqlglot
    from sqlglot import exp

    from rumq.schema import COLUMNS_BY_NAME

    parts: list[exp.Expression] = []
    for f in node.expressions:
        e = f.expression if isinstance(f, exp.PropertyEQ) else f
        last = e.expressions[-1] if isinstance(e, exp.Coalesce) and e.expressions else e
        if isinstance(last, exp.Literal):
            parts.append(e.copy())
            continue
        col = COLUMNS_BY_NAME.get(e.name) if isinstance(e, exp.Column) else None
        fill = _ROW_FILL.get(col.type) if col is not None else None
        if fill is None:
            raise _refuse(what, f"a struct key field that may be NULL ({e.sql(dialect='duckdb')[:40]})")
        parts += [exp.Is(this=e.copy(), expression=exp.Null()),
                  exp.Coalesce(this=e.copy(), expressions=[sqlglot.parse_one(fill, read="trino")])]
    return exp.Struct(expressions=parts)


def _group_by_all(group: exp.Group, what: str) -> None:
    """``GROUP BY ALL`` (DuckDB) -> the select list's expressions that hold a column and no aggregate."""
    from sqlglot import exp

    select = group.parent
    if not isinstance(select, exp.Select) or group.expressions:
        raise _refuse(what, "GROUP BY ALL")
    keys = []
    for e in select.expressions:
        inner = e.unalias() if isinstance(e, exp.Alias) else e
        if isinstance(inner, exp.Star) or (isinstance(inner, exp.Column) and inner.is_star):
            raise _refuse(what, "GROUP BY ALL with SELECT *")
        if inner.find(exp.AggFunc) or inner.find(exp.Window) or not inner.find(exp.Column):
            continue
        keys.append(inner.copy())
    if not keys:  # only aggregates and constants: DuckDB gives one row, as without GROUP BY
        group.pop()
        return
    group.set("all", None)
    group.set("expressions", keys)


def _node(node: exp.Expression, what: str) -> exp.Expression:
    from sqlglot import exp

    from rumq.engines.portable import _element_at, _ieee_divide, _is_unnest_of_list, _regexp_replace

    if isinstance(node, exp.Explode) and _is_unnest_of_list(node):
        return node.this.this.copy()
    if isinstance(node, exp.Select) and _unnest_projection(node) is not None:
        return _cross_join_unnest(node)
    if isinstance(node, exp.GenerateSeries):
        return _series(node, what)
    if isinstance(node, exp.Table) and node.this.meta.get("rumq_series"):
        alias = node.args.get("alias")
        return exp.Unnest(expressions=[node.this.copy()], alias=alias.copy() if alias else None)
    if isinstance(node, exp.Length):
        return exp.ArraySize(this=node.this.copy())
    if isinstance(node, exp.ArrayDistinct):
        # DuckDB's list_distinct drops NULL elements (its order is unspecified); Trino's keeps one NULL.
        import sqlglot

        return sqlglot.parse_one(f"array_distinct(filter({node.this.sql(dialect='trino')}, "
                                 "rumq_e -> rumq_e IS NOT NULL))", read="trino")
    if isinstance(node, exp.GroupConcat):
        return _array_join(node)
    if isinstance(node, exp.Glob):
        return _like(node)
    if isinstance(node, exp.Struct) and isinstance(node.parent, exp.Distinct):
        # count(DISTINCT ROW(...)): DISTINCT compares NULL fields as equal, as DuckDB's does for structs.
        return exp.Struct(expressions=[f.expression.copy() if isinstance(f, exp.PropertyEQ) else f.copy()
                                       for f in node.expressions])
    if isinstance(node, exp.TimeToUnix) and isinstance(node.this, exp.Interval):
        return _interval_seconds(node, what)
    if isinstance(node, (exp.ArgMin, exp.ArgMax)) and node.meta.get("rumq_ordered"):
        return _ordered_arg(node)
    if isinstance(node, exp.Struct) and isinstance(node.parent, (exp.ArgMin, exp.ArgMax)) \
            and node.parent.meta.get("rumq_ordered"):
        return node
    if isinstance(node, exp.Transform) and _field_list(node):
        return _ordered_list(node)
    if isinstance(node, exp.Struct) and isinstance(node.parent, (exp.ArgMin, exp.ArgMax)) \
            and node is node.parent.expression:
        return _row_key(node, what)
    if isinstance(node, exp.Avg):
        return exp.Avg(this=exp.cast(node.this.copy(), "DOUBLE"))
    if isinstance(node, exp.PercentileCont):
        return _quantile(node, what)
    if isinstance(node, (exp.Least, exp.Greatest)):
        args = [node.this, *node.expressions]
        if len(args) < 2:
            return node
        coalesced = [exp.Coalesce(this=a.copy(), expressions=[b.copy() for b in args if b is not a]) for a in args]
        return type(node)(this=coalesced[0], expressions=coalesced[1:])
    if isinstance(node, exp.Div):
        return _ieee_divide(node.this.copy(), node.expression.copy())
    if isinstance(node, exp.Bracket):
        out = _element_at(node, what)
        for call in out.find_all(exp.Anonymous):
            if call.name == "try_element_at":
                call.set("this", "element_at")
        return out
    if isinstance(node, exp.RegexpReplace):
        out = _regexp_replace(node, what)
        p = node.expression
        if isinstance(p, exp.Literal) and _multiline(p.name):
            out.set("expression", exp.Literal.string(trino_pattern(p.name, what)))
        return out
    if isinstance(node, exp.RegexpFullMatch):
        p = node.expression
        if not (isinstance(p, exp.Literal) and p.is_string) or node.args.get("options"):
            raise _refuse(what, "regexp_full_match with a non-literal pattern")
        return exp.RegexpLike(this=node.this.copy(),
                              expression=exp.Literal.string(f"^(?:{trino_pattern(p.name, what)})\\z"))
    if isinstance(node, exp.RegexpLike):
        p = node.expression
        if not (isinstance(p, exp.Literal) and p.is_string) or node.args.get("flag"):
            raise _refuse(what, "regexp_matches with a non-literal pattern or options")
        return exp.RegexpLike(this=node.this.copy(), expression=exp.Literal.string(trino_pattern(p.name, what)))
    if isinstance(node, exp.RegexpExtract):
        p = node.expression
        if not (isinstance(p, exp.Literal) and p.is_string) or node.args.get("parameters"):
            raise _refuse(what, "regexp_extract with a non-literal pattern or options")
        node.set("expression", exp.Literal.string(trino_pattern(p.name, what)))
        if node.args.get("group") is None:
            node.set("group", exp.Literal.number(0))
        # No match (or a group that took no part): DuckDB gives '', Trino NULL.
        return exp.Case(ifs=[exp.If(this=exp.Is(this=node.this.copy(), expression=exp.Null()), true=exp.Null())],
                        default=exp.Coalesce(this=node, expressions=[exp.Literal.string("")]))
    if isinstance(node, (exp.ArgMin, exp.ArgMax)) and node.meta.get("keep_null"):
        return node  # arg_min_null/arg_max_null: Trino's min_by/max_by keep a NULL value too
    if isinstance(node, (exp.ArgMin, exp.ArgMax)):
        value, key = node.this, node.expression
        guarded = exp.If(this=exp.Is(this=value.copy(), expression=exp.Null()), true=exp.Null(), false=key.copy())
        return type(node)(this=value.copy(), expression=guarded)
    if isinstance(node, exp.TimeToStr):
        return _strftime(node, what)
    if isinstance(node, exp.JSONExtractScalar):
        return _json_text(node, what)
    if isinstance(node, exp.TimestampTrunc):
        unit = node.text("unit").upper()
        if unit not in _TRUNC_UNITS:
            raise _refuse(what, f"date_trunc to {unit or 'an unknown unit'}")
        return node
    if isinstance(node, exp.TryCast) and node.to.is_type("double") and not _is_number(node.this):
        return _try_double(node.this)
    if isinstance(node, exp.Cast) and node.to.is_type("tinyint", "smallint", "int", "bigint"):
        from rumq.engines.portable import _is_integer

        if _is_integer(node.this) or (isinstance(node.this, exp.Coalesce) and all(
                _is_integer(a) for a in (node.this.this, *node.this.expressions))):
            return node
        return _half_even_cast(node)
    if isinstance(node, exp.Cast) and node.to.is_type("varchar", "text") and _is_uuid(node.this):
        return _uuid_text(node.this.copy())
    return node


def _cross_join_unnest(node: exp.Select) -> exp.Select:
    """``SELECT a, unnest(l) AS k FROM s`` -> ``SELECT a, k FROM s CROSS JOIN UNNEST(l) AS rumq_u(k)``.

    Both drop a row whose list is empty or NULL. Comma joins become CROSS JOINs first: Trino
    binds a comma looser than a JOIN, and the UNNEST must see every source's columns.
    """
    from sqlglot import exp

    i = _unnest_projection(node)
    alias = node.expressions[i]
    for join in node.args.get("joins") or []:
        if not join.args.get("kind") and not join.args.get("side") and not join.args.get("on") \
                and not join.args.get("using"):
            join.set("kind", "CROSS")
    join = exp.Join(kind="CROSS", this=exp.Unnest(
        expressions=[alias.this.this.copy()],
        alias=exp.TableAlias(this=exp.to_identifier("rumq_u"), columns=[exp.to_identifier(alias.alias)])))
    items = list(node.expressions)
    items[i] = exp.column(alias.alias, table="rumq_u")
    if isinstance(items[0], exp.Star) and len(items) == 2 and i == 1:
        items = [exp.Star()]  # SELECT *, unnest(l) AS k: the star takes k in too
    node.set("expressions", items)
    node.append("joins", join)
    return node


def _series(node: exp.Expression, what: str) -> exp.Expression:
    """DuckDB's ``range(a, b[, s])`` (end exclusive, empty when the step points away from ``b``) as a Trino array.

    Trino's ``sequence(a, c, s)`` includes ``c`` and fails when ``s`` points away from ``c``, so it runs
    from ``a`` to ``greatest(a, b)`` (``least`` for a negative step: ``a + s < a``, true for a number or
    an interval) and keeps the values before ``b``. The same values for BIGINTs and for TIMESTAMPs with
    an interval step; ``sequence`` refuses more than 10,000 values (an error, never fewer values).
    """
    import sqlglot

    start, end, step = _range_args(node)
    a, b = start.sql(dialect="trino"), end.sql(dialect="trino")
    s = step.sql(dialect="trino") if step is not None else "1"
    up = f"filter(sequence({a}, greatest({a}, {b}), {s}), rumq_x -> rumq_x < {b})"
    if step is None or (step.is_number and float(step.to_py()) > 0):
        out = sqlglot.parse_one(up, read="trino")
    else:
        down = f"filter(sequence({a}, least({a}, {b}), {s}), rumq_x -> rumq_x > {b})"
        out = sqlglot.parse_one(f"CASE WHEN {a} + {s} > {a} THEN {up} ELSE {down} END", read="trino")
    out.meta["rumq_series"] = True
    return out


#: What a GLOB pattern may hold to be rendered as a LIKE pattern: no character class, no escape.
_GLOB_REFUSED = ("[", "\\")


def _glob_values(pattern: exp.Expression, what: str) -> None:
    """A GLOB pattern's possible values, checked when the statement is rendered (they are literals by then).

    The pattern is a string literal (a bound ``$p``) or an element of a literal list (the funnel's
    ``($steps::VARCHAR[])[k]``); a value with ``[`` or ``\\`` (DuckDB's character classes and escapes,
    which LIKE has no twin for) is refused, and so is any other pattern expression.
    """
    from sqlglot import exp

    p = pattern
    while isinstance(p, (exp.Paren, exp.Cast)):
        p = p.this
    if isinstance(p, exp.Bracket):
        lst = p.this
        while isinstance(lst, (exp.Paren, exp.Cast)):
            lst = lst.this
        values = lst.expressions if isinstance(lst, exp.Array) else None
    else:
        values = [p]
    if values is None or not all(isinstance(v, exp.Literal) and v.is_string for v in values):
        raise _refuse(what, f"GLOB with the pattern {pattern.sql(dialect='duckdb')[:40]} "
                            "(only a literal or bound pattern, or an element of a bound list)")
    for v in values:
        if any(c in v.name for c in _GLOB_REFUSED):
            raise _refuse(what, f"the GLOB pattern {v.name!r} (a character class [...] or an escape \\ "
                                "has no LIKE equivalent)")


def _like(node: exp.Glob) -> exp.Expression:
    """``s GLOB p`` -> ``s LIKE p' ESCAPE '\\'``: ``*`` -> ``%``, ``?`` -> ``_``, and ``%``, ``_`` escaped.

    Trino's LIKE has no default escape character, hence the explicit ``ESCAPE``; the patterns were
    checked for ``[`` and ``\\`` when rendered (``_glob_values``).
    """
    from sqlglot import exp

    like: exp.Expression = node.expression.copy()
    for glob_char, like_text in (("%", "\\%"), ("_", "\\_"), ("*", "%"), ("?", "_")):
        like = exp.Anonymous(this="replace", expressions=[like, exp.Literal.string(glob_char),
                                                          exp.Literal.string(like_text)])
    return exp.Escape(this=exp.Like(this=node.this.copy(), expression=like), expression=exp.Literal.string("\\"))


def _array_join(node: exp.GroupConcat) -> exp.Expression:
    """``string_agg([DISTINCT] x, sep [ORDER BY x])`` -> ``array_join`` of the non-NULL values.

    DuckDB's string_agg skips NULLs and is NULL without a value: ``array_agg`` over no row is NULL in
    Trino and ``array_join`` of NULL is NULL. ``array_sort`` orders VARCHARs by code point, as
    DuckDB's ORDER BY does.
    """
    import sqlglot

    arg, distinct, ordered, sep = _string_agg(node)
    x = arg.sql(dialect="trino")
    agg = f"array_agg({x}) FILTER (WHERE {x} IS NOT NULL)"
    if distinct:
        agg = f"array_distinct({agg})"
    if ordered:
        agg = f"array_sort({agg})"
    return sqlglot.parse_one(f"array_join({agg}, {sep.sql(dialect='trino')})", read="trino")


def _interval_seconds(node: exp.Expression, what: str) -> exp.Expression:
    """``epoch(INTERVAL 'n' SECOND)`` (a bound duration) -> ``n`` as a DOUBLE, as DuckDB's epoch of an interval."""
    from sqlglot import exp

    iv = node.this
    n = iv.this
    if not (isinstance(n, exp.Literal) and iv.text("unit").upper() == "SECOND"):
        raise _refuse(what, f"epoch of {iv.sql(dialect='duckdb')}")
    try:
        seconds = float(n.name)
    except ValueError:
        raise _refuse(what, f"epoch of {iv.sql(dialect='duckdb')}") from None
    return exp.cast(exp.Literal.number(repr(seconds)), "DOUBLE")


def _ordered_arg(node: exp.Expression) -> exp.Expression:
    """``arg_min(x, {f1, f2, ...})`` -> ``element_at(array_agg(x ORDER BY f1, f2, ...) FILTER (x IS NOT NULL), 1)``.

    For a struct key whose fields may be NULL and have no type known here (``_row_key`` needs one):
    DuckDB compares structs field by field with NULL after every value, so the first row in
    ``ORDER BY f ASC NULLS LAST`` (``arg_max``: ``DESC NULLS FIRST``) is the one DuckDB picks, among
    the rows whose value is not NULL; no row -> NULL as in DuckDB. Ties: any of the tied rows, as in DuckDB.
    """
    from sqlglot import exp

    desc = isinstance(node, exp.ArgMax)
    fields = [f.expression if isinstance(f, exp.PropertyEQ) else f for f in node.expression.expressions]
    order = [exp.Ordered(this=f.copy(), desc=desc, nulls_first=desc) for f in fields]
    x = node.this
    agg: exp.Expression = exp.ArrayAgg(this=exp.Order(this=x.copy(), expressions=order))
    if not node.meta.get("keep_null"):  # arg_min_null/arg_max_null: the first value even when NULL
        agg = exp.Filter(this=agg, expression=exp.Where(this=exp.Not(this=exp.Is(this=x.copy(),
                                                                                 expression=exp.Null()))))
    return exp.Anonymous(this="element_at", expressions=[agg, exp.Literal.number(1)])


#: strftime formats rendered, as (DuckDB format, the same with microseconds, characters kept).
_STRFTIME = {
    "%Y-%m-%d %H:%M:%S.%g": ("%Y-%m-%d %H:%M:%S.%f", 23),  # milliseconds, truncated as DuckDB's %g
    "%Y-%m-%d %H:%M:%S": ("%Y-%m-%d %H:%M:%S", None),
    "%Y-%m-%d": ("%Y-%m-%d", None),
}


def _strftime(node: exp.Expression, what: str) -> exp.Expression:
    """``strftime(ts, fmt)`` for the formats rumq writes; Trino's date_format has no milliseconds (``%g``)."""
    from sqlglot import exp

    fmt = node.args.get("format")
    if not (isinstance(fmt, exp.Literal) and fmt.is_string and fmt.name in _STRFTIME):
        raise _refuse(what, f"strftime with the format {fmt.sql() if fmt is not None else '?'}")
    full, keep = _STRFTIME[fmt.name]
    out = exp.TimeToStr(this=node.this.copy(), format=exp.Literal.string(full))
    if keep is None:
        return out
    return exp.Substring(this=out, start=exp.Literal.number(1), length=exp.Literal.number(keep))


def _json_text(node: exp.Expression, what: str) -> exp.Expression:
    """``json_extract_string(j, path)`` / ``j ->> path``: a scalar's text, a container's JSON text, NULL for null.

    Trino's ``json_extract_scalar`` gives NULL for an object or array, so those
    fall back to ``json_format(json_extract(...))``; a JSON ``null`` is NULL as in
    DuckDB. A JSON pointer (``'/a/b'``) becomes the JSONPath ``$.a.b``.
    """
    import re

    import sqlglot
    from sqlglot import exp

    path = node.expression
    if isinstance(path, exp.DPipe) and all(isinstance(x, exp.Literal) and x.is_string for x in path.flatten()):
        # '/' || $field, the field bound: one text, known when the statement is rendered.
        path = exp.Literal.string("".join(x.name for x in path.flatten()))
    text = path.sql(dialect="trino") if isinstance(path, exp.JSONPath) else None
    if isinstance(path, exp.Literal) and path.is_string:
        p = path.name
        if p.startswith("/"):
            parts = p[1:].split("/")
            if not all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", s) for s in parts):
                if _dead(node):  # a branch the bound values never take (events/custom without a field)
                    return exp.cast(exp.Null(), "VARCHAR")
                raise _refuse(what, f"the JSON pointer {p!r} (only name segments, letters, digits and _ "
                                    "not starting with a digit, are rendered: a number would index an array "
                                    "in a JSON pointer and not in a JSONPath)")
            p = "$." + ".".join(parts)
        if not p.startswith("$"):
            raise _refuse(what, f"the JSON path {p!r}")
        text = exp.Literal.string(p).sql(dialect="trino")
    if text is None:
        raise _refuse(what, "a JSON extraction with a path that is not a literal")
    j = node.this.sql(dialect="trino")
    return sqlglot.parse_one(
        f"COALESCE(json_extract_scalar({j}, {text}), NULLIF(json_format(json_extract({j}, {text})), 'null'))",
        read="trino")


def _const_bool(e: exp.Expression) -> bool | None:
    """The value of a condition over literals only (bound parameters are literals by now), else None."""
    from sqlglot import exp

    while isinstance(e, exp.Paren):
        e = e.this
    if isinstance(e, exp.Boolean):
        return bool(e.this)
    if isinstance(e, (exp.EQ, exp.NEQ)) and all(isinstance(x, exp.Literal) for x in (e.this, e.expression)):
        a, b = e.this, e.expression
        if a.is_string != b.is_string:
            return None
        same = a.name == b.name if a.is_string else float(a.name) == float(b.name)
        return same if isinstance(e, exp.EQ) else not same
    if isinstance(e, exp.Not):
        v = _const_bool(e.this)
        return None if v is None else not v
    if isinstance(e, (exp.And, exp.Or)):
        a, b = _const_bool(e.this), _const_bool(e.expression)
        if isinstance(e, exp.Or) and True in (a, b):
            return True
        if isinstance(e, exp.And) and False in (a, b):
            return False
        return None if None in (a, b) else (a or b if isinstance(e, exp.Or) else a and b)
    return None


def _dead(node: exp.Expression) -> bool:
    """``node`` sits in a CASE branch that is never taken: an earlier WHEN is always true, or its own always false."""
    from sqlglot import exp

    child, parent = node, node.parent
    while parent is not None:
        if isinstance(parent, exp.Case) and parent.args.get("this") is None:  # CASE WHEN <condition> ...
            ifs = parent.args.get("ifs") or []
            before = ifs if child is parent.args.get("default") else ifs[:next(
                (i for i, w in enumerate(ifs) if w is child), len(ifs))]
            if any(_const_bool(w.this) is True for w in before):
                return True
            if isinstance(child, exp.If) and child in ifs and _const_bool(child.this) is False:
                return True
        child, parent = parent, parent.parent
    return False


def _is_number(e: exp.Expression) -> bool:
    """Provably a number: a numeric literal, an integer column or expression, a cast to a number."""
    from sqlglot import exp

    from rumq.engines.portable import _is_integer

    return ((isinstance(e, exp.Literal) and not e.is_string) or _is_integer(e)
            or (isinstance(e, exp.Cast) and e.to.is_type(*exp.DataType.NUMERIC_TYPES)))


#: Blanks DuckDB trims around a number, as a (Java and RE2) class.
_WS = r"[ \t\n\x0B\f\r]"
#: The decimal numbers whose text DuckDB's TRY_CAST and Java's Double.parseDouble (Trino's CAST) read alike
#: once the underscores DuckDB allows between digits are dropped (both round correctly).
_DECIMAL = r"^[+-]?([0-9]+(_[0-9]+)*(\.([0-9]+(_[0-9]+)*)?)?|\.[0-9]+(_[0-9]+)*)([eE][+-]?[0-9]+(_[0-9]+)*)?\z"


def _try_double(x: exp.Expression) -> exp.Expression:
    """``TRY_CAST(text AS DOUBLE)`` with DuckDB's answer, or the query stops.

    Trino's CAST of a VARCHAR to DOUBLE is Java's ``Double.parseDouble`` (trinodb/trino
    ``VarcharOperators.castToDouble``), which reads texts DuckDB does not ('1.5f', '0x1p3',
    '1d') and not some DuckDB reads ('1_000', 'inf'). Here, blanks trimmed: a plain decimal
    number (underscores between digits dropped) is cast; 'inf', 'infinity', 'nan' (any case,
    signed) are the special values; text without a digit is NULL (DuckDB reads no number out of
    it); anything else with a digit (e.g. '5px', '+-1') stops the query with Trino's cast error
    naming the text, rather than guess DuckDB's answer. A value that is not text casts as it is.
    """
    import sqlglot

    v = x.sql(dialect="trino")
    t = f"regexp_replace(CAST({v} AS VARCHAR), '^{_WS}+|{_WS}+\\z', '')"
    special = "regexp_like({t}, '(?i)^{sign}(inf|infinity)\\z')"
    text = (f"CASE WHEN lower(typeof({v})) NOT LIKE 'varchar%' THEN TRY_CAST({v} AS DOUBLE) "
            f"WHEN {v} IS NULL THEN NULL "
            f"WHEN regexp_like({t}, '{_DECIMAL}') THEN CAST(replace({t}, '_', '') AS DOUBLE) "
            f"WHEN {special.format(t=t, sign='[+]?')} THEN CAST('Infinity' AS DOUBLE) "
            f"WHEN {special.format(t=t, sign='-')} THEN CAST('-Infinity' AS DOUBLE) "
            f"WHEN regexp_like({t}, '(?i)^[+-]?nan\\z') THEN CAST('NaN' AS DOUBLE) "
            f"WHEN NOT regexp_like({t}, '[0-9]') THEN CAST(NULL AS DOUBLE) "
            f"ELSE CAST(concat('rumq: not read as DuckDB reads it: ', {t}) AS DOUBLE) END")
    return sqlglot.parse_one(text, read="trino")


def _half_even_cast(node: exp.Cast) -> exp.Expression:
    """``CAST(x AS <integer>)`` as DuckDB computes it: a DOUBLE rounds half to even (Trino's CAST rounds
    half away from zero, as both do for a DECIMAL); ``typeof`` tells them apart at run time."""
    import sqlglot

    x = node.this.sql(dialect="trino")
    to = node.to.sql(dialect="trino")
    return sqlglot.parse_one(
        f"CAST(CASE WHEN lower(typeof({x})) IN ('double', 'real') AND {x} - floor({x}) = 0.5 "
        f"THEN 2 * round({x} / 2) ELSE {x} END AS {to})", read="trino")


def _multiline(pattern: str) -> bool:
    import re

    m = re.match(r"\(\?([a-zA-Z]+)\)", pattern)
    return bool(m and "m" in m.group(1))


def trino_pattern(pattern: str, what: str = "SQL") -> str:
    """An RE2 pattern as Trino (Java syntax) reads it with the same matches.

    ``$`` becomes ``\\z`` (Java's ``$`` also matches before a final line break),
    except in multi-line mode (a leading ``(?m)``), where Trino, like RE2, ends
    lines at ``\\n`` only and ``$`` stays. Classes with ``[`` or ``&&`` are refused.
    """
    from rumq.engines.portable import java_pattern

    translated = java_pattern(pattern, what)  # also refuses what Java reads differently
    return pattern if _multiline(pattern) else translated


def _uuid_text(e: exp.Expression) -> exp.Expression:
    """The canonical text of a 16-byte id (Glue ``binary``): lowercase hex in 8-4-4-4-12 groups."""
    import sqlglot

    h = f"lower(to_hex({e.sql(dialect='trino')}))"
    parts = " || '-' || ".join(f"substr({h}, {s}, {n})" for s, n in ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12)))
    return sqlglot.parse_one(f"({parts})", read="trino")


def _quantile(node: exp.Expression, what: str) -> exp.Expression:
    """``quantile_cont(x, p)``, exact: DuckDB's linear interpolation between the sorted non-NULL values.

    With ``n`` values ``v[1..n]`` sorted, ``h = 1 + p * (n - 1)``; the answer is
    ``v[floor(h)] + (h - floor(h)) * (v[ceil(h)] - v[floor(h)])`` (DOUBLE), NULL when ``n = 0``.
    """
    import sqlglot
    from sqlglot import exp

    p = node.expression
    if isinstance(p, exp.Array) and p.expressions and not node.args.get("order"):
        # quantile_cont(x, [p1, p2, ...]): the list of the exact quantiles, in the order given.
        return exp.Array(expressions=[_quantile(exp.PercentileCont(this=node.this.copy(), expression=f.copy()), what)
                                      for f in p.expressions])
    if node.args.get("order") or not (isinstance(p, exp.Literal) and not p.is_string):
        raise _refuse(what, "quantile_cont with other than literal fractions")
    frac = float(p.to_py())
    if not 0 <= frac <= 1:
        raise _refuse(what, f"quantile_cont fraction {frac}")
    x = f"CAST({node.this.sql(dialect='trino')} AS DOUBLE)"
    arr = f"array_sort(array_agg({x}) FILTER (WHERE {x} IS NOT NULL))"
    n = f"cardinality({arr})"
    h = f"(1 + {frac!r} * ({n} - 1))"
    lo, hi = f"element_at({arr}, CAST(floor({h}) AS BIGINT))", f"element_at({arr}, CAST(ceiling({h}) AS BIGINT))"
    text = f"(CASE WHEN {n} = 0 THEN NULL ELSE {lo} + ({h} - floor({h})) * ({hi} - {lo}) END)"
    return sqlglot.parse_one(text, read="trino")


# -- the statement ------------------------------------------------------------------------------

def _check_constructs(sql: str, what: str) -> None:
    """The text must hold none of the DuckDB-only spellings Trino rejects (a last guard)."""
    from rumq.engines.trino_check import rejected_constructs

    found = rejected_constructs(sql)
    if found:
        raise _refuse(what, ", ".join(found))


def _bind(tree: exp.Expression, values: Mapping[str, Any], what: str) -> exp.Expression:
    from sqlglot import exp

    for ph in list(tree.find_all(exp.Placeholder)):
        if ph.name not in values:
            raise _refuse(what, f"the parameter ${ph.name} (no value)")
        new = literal(values[ph.name], f"{what}: ${ph.name}")
        if ph is tree:
            return new
        ph.replace(new)
    return tree


def _window_cte(table: str, since: dt.datetime | None, until: dt.datetime | None, app: str | None) -> str:
    """``rumq_window``: the stored columns (event_date as DATE) and the derived ones, over the window."""
    from sqlglot import exp

    from rumq.catalog import window_dates
    from rumq.engines.portable import parse
    from rumq.schema import DERIVED, PARTITION_COLUMN, STORED_COLUMNS

    derived = []
    for name, sql in DERIVED.items():
        derived.append(f"{rewrite(parse(f'SELECT {sql}'), 'derived column').expressions[0].sql(dialect='trino')}"
                       f" AS {name}")
    cols = [c.name for c in STORED_COLUMNS] + [f"CAST({PARTITION_COLUMN} AS DATE) AS {PARTITION_COLUMN}"] + derived
    start, end = window_dates(since, until)
    where = []
    # The partition column is a string in Glue: literal bounds let Athena's projection pick the days.
    if start is not None:
        where.append(f"{PARTITION_COLUMN} >= {exp.Literal.string(start.isoformat()).sql(dialect='trino')}")
    if end is not None:
        where.append(f"{PARTITION_COLUMN} <= {exp.Literal.string(end.isoformat()).sql(dialect='trino')}")
    if since is not None:
        where.append(f"event_time >= {literal(since).sql(dialect='trino')}")
    if until is not None:
        where.append(f"event_time < {literal(until).sql(dialect='trino')}")
    if app is not None:
        where.append(f"application_id = {literal(app).sql(dialect='trino')}")
    return f"SELECT {', '.join(cols)} FROM {table}" + (f" WHERE {' AND '.join(where)}" if where else "")


def statement(
    sql: str,
    values: Mapping[str, Any] | None = None,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    app: str | None = None,
    table: str = "rumq_events",
    cfg: PageConfig | None = None,
    what: str = "SQL",
    ingest_totals: Mapping[str, int | None] | None = None,
    columns: list[str] | None = None,
) -> str:
    """One self-contained Trino statement for a DuckDB-dialect query over rumq's views.

    Args:
        sql: the query (identifiers substituted; ``$name`` parameters allowed).
        values: the parameters' values, bound as literals.
        since, until: the half-open window (naive UTC), as literal bounds.
        app: the application id filter.
        table: the Athena table (``rumq athena ddl``), maybe ``database.table``.
        cfg: the page rules (rumq.toml) the views use.
        what: the query's name, for messages.
        ingest_totals: the manifest's totals, for queries that read ``ingest_totals``.
        columns: names for the result columns, in order (a Logs Insights query's own names).

    Raises:
        NotPortableError: a construct Trino cannot compute exactly (named), or a bad table name.
    """
    import sqlglot
    from sqlglot import exp

    from rumq.engines.portable import parse
    from rumq.views import view_sql

    _check_table(table)
    query = parse(sql, what=what)
    if not isinstance(query, exp.Query):
        raise NotPortableError(f"{what}: only queries (SELECT/WITH) render for Athena, not {query.key.upper()}")
    query = _bind(query, values or {}, what)
    from rumq.engines.portable import _expand_table_macros

    query = _expand_table_macros(query, what)
    views = view_sql(cfg)
    trees: dict[str, exp.Expression] = {"rumq_window": sqlglot.parse_one(
        _window_cte(table, since, until, app), read="trino")}
    from rumq.schema import COLUMNS, PARTITION_COLUMN

    trees["events"] = sqlglot.parse_one(
        f"SELECT {', '.join([c.name for c in COLUMNS] + [PARTITION_COLUMN])} FROM rumq_window", read="trino")
    _user_first_seen(query, trees, table=table, until=until, app=app, cfg=cfg, what=what)
    if ingest_totals is not None:
        cols = ", ".join(f"{literal(ingest_totals.get(k)).sql(dialect='trino')} AS {k}"
                         if ingest_totals.get(k) is not None else f"CAST(NULL AS BIGINT) AS {k}"
                         for k in ("ingests", "read", "written", "duplicates", "rejected"))
        trees["ingest_totals"] = sqlglot.parse_one(f"SELECT {cols}", read="trino")

    # The views the query reads, transitively, in creation order.
    needed: set[str] = set()
    todo = [query]
    parsed: dict[str, exp.Expression] = {}
    while todo:
        t = todo.pop()
        for tab in t.find_all(exp.Table):
            n = tab.name
            if n in views and n not in needed and not tab.db:
                needed.add(n)
                parsed[n] = parse(views[n], what=f"view {n}")
                todo.append(parsed[n])
            if n == "ingest_totals" and "ingest_totals" not in trees:
                raise _refuse(what, "the view ingest_totals (the manifest's totals: give a local dataset)")
    for n in views:
        if n in needed:
            trees[n] = rewrite(parsed[n], f"{what}: view {n}")
    body = rewrite(query, what)
    if columns is not None and isinstance(body, exp.Select) and len(body.expressions) == len(columns):
        body.set("expressions", [exp.alias_(e.unalias() if isinstance(e, exp.Alias) else e, c, quoted=True)
                                 for e, c in zip(body.expressions, columns, strict=True)])
    key = "with_" if "with_" in type(body).arg_types else "with"
    own = body.args.get(key)
    own_ctes = list(own.expressions) if own else []
    clash = {c.alias_or_name for c in own_ctes} & set(trees)
    if clash:
        raise _refuse(what, f"the CTE names {sorted(clash)} (they clash with the views)")
    if own:
        body.set(key, None)
    ctes = [exp.CTE(this=t, alias=exp.TableAlias(this=exp.to_identifier(n))) for n, t in trees.items()]
    body.set(key, exp.With(expressions=ctes + own_ctes))
    # rumq_events (the views' table) is the window CTE; the Athena table is only read by it.
    for tab in body.find_all(exp.Table):
        if tab.name == "rumq_events" and not tab.db \
                and all(tab.parent_select is not trees.get(n) for n in (WINDOW_CTE, HISTORY_CTE)):
            tab.set("this", exp.to_identifier(WINDOW_CTE))
    for node in body.walk():  # the query file's comments explain DuckDB's text, not this one
        node.comments = None
    out = body.sql(dialect="trino", pretty=True)
    _check_constructs(out, what)
    return out


#: The CTE over the dataset's whole history up to the window's end (users/*).
HISTORY_CTE = "rumq_history"


def _user_first_seen(query: exp.Expression, trees: dict[str, exp.Expression], *, table: str,
                     until: dt.datetime | None, app: str | None, cfg: PageConfig | None, what: str) -> bool:
    """``rumq_user_first_seen()`` (a DuckDB table macro over every event file up to the window's end)
    -> the CTE ``rumq_user_first_seen`` over ``rumq_history``: the Athena table up to the window's end
    (no lower bound: the whole history, as on DuckDB), with ``--app``. The macro's SQL
    (``rumq.views``) is rendered itself, its ``getvariable(...)`` bound as literals.
    """
    import sqlglot
    from sqlglot import exp

    from rumq.engines.portable import parse
    from rumq.pages import PageConfig
    from rumq.views import USER_FIRST_SEEN, user_first_seen_sql

    calls = [t for t in query.find_all(exp.Table)
             if isinstance(t.this, exp.Anonymous) and t.this.name.lower() == USER_FIRST_SEEN]
    if not calls:
        return False
    for t in calls:
        if t.this.expressions:
            raise _refuse(what, f"{USER_FIRST_SEEN}() with arguments")
        t.set("this", exp.to_identifier(USER_FIRST_SEEN))
    cfg = cfg or PageConfig()
    body = parse(user_first_seen_sql(cfg),
                 what=f"{what}: {USER_FIRST_SEEN}()")
    for t in list(body.find_all(exp.Table)):
        if isinstance(t.this, exp.Func):  # read_parquet(getvariable('rumq_history_files'), ...)
            t.replace(exp.Table(this=exp.to_identifier(HISTORY_CTE)))
    bound = {"rumq_app": literal(app), "rumq_until": literal(until)}
    for call in list(body.find_all(exp.Anonymous)):
        if call.name.lower() == "getvariable":
            var = call.expressions[0].name
            if var not in bound:
                raise _refuse(what, f"getvariable({var!r}) in {USER_FIRST_SEEN}()")
            call.replace(bound[var].copy())
    trees[HISTORY_CTE] = sqlglot.parse_one(_window_cte(table, None, until, app), read="trino")
    trees[USER_FIRST_SEEN] = rewrite(body, f"{what}: {USER_FIRST_SEEN}()")
    return True


def _check_table(table: str) -> None:
    import re

    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,127}(\.[a-z_][a-z0-9_]{0,127})?", table):
        raise NotPortableError(f"Athena table {table!r} is not a valid name",
                               hint="lowercase letters, digits and underscores; database.table to qualify it")
    if table.split(".")[-1] in ("events", WINDOW_CTE, HISTORY_CTE, "rumq_user_first_seen"):
        raise NotPortableError(f"Athena table {table!r}: the name is taken by the statement's CTEs",
                               hint="name the table as rumq athena ddl does (rumq_events)")


def query_statement(
    name: str,
    params: Mapping[str, Any] | None = None,
    *,
    data_dir: Any = None,
    since: Any = None,
    until: Any = None,
    app: str | None = None,
    table: str = "rumq_events",
    library: Any = None,
    now: dt.datetime | None = None,
) -> str:
    """A named query (SQL or Logs Insights) as one Trino statement with its parameters as literals.

    Raises:
        NotPortableError: the query uses a construct Trino cannot compute exactly.
        (and the errors of ``rumq.runner.run_query`` for names, parameters and windows)
    """
    from rumq.library import Library
    from rumq.pages import load_config
    from rumq.params import bind_values, resolve, substitute_identifiers
    from rumq.runner import window

    library = library if library is not None else Library()
    query = library.get(name)
    values = resolve(query.params, params or {}, query=query.name)
    w = window(since, until, now)
    if query.kind == "insights":
        return insights_statement(query.body, values, data_dir=data_dir, since=w.since, until=w.until, now=now, app=app, table=table,
                                  what=query.name)
    app = _app(data_dir, app)
    sql = substitute_identifiers(query.body, query.params, values)
    cfg = load_config(data_dir=data_dir) if data_dir is not None else None
    return statement(sql, bind_values(sql, query.params, values), since=w.since, until=w.until, app=app,
                     table=table, cfg=cfg, what=query.name, ingest_totals=_totals(data_dir))


def insights_statement(text: str, params: Mapping[str, Any] | None = None, *, data_dir: Any = None, since: Any = None,
                       until: Any = None, app: str | None = None, table: str = "rumq_events",
                       what: str = "insights query", now: dt.datetime | None = None) -> str:
    """A Logs Insights query compiled (``rumq.insights``) and rendered as one Trino statement.

    The columns carry the Logs Insights names (``metadata.browserName``, ``count(*)``, ...).
    As on DuckDB, a ``diff`` reads from the start of the previous period, and
    the compiler's notices are kept, as ``-- notice: ...`` comments before the statement.
    """
    from rumq import insights
    from rumq.runner import window

    w = window(since, until, now)
    app = _app(data_dir, app)
    compiled = insights.compile(text, params=dict(params) if params else None, since=w.since, until=w.until)
    read_since = compiled.read_since if compiled.read_since is not None else w.since
    sql = statement(compiled.sql, compiled.parameters, since=read_since, until=w.until, app=app, table=table,
                    what=what, columns=list(compiled.columns))
    return "".join(f"-- {line}\n" for line in compiled.notices) + sql


def sql_statement(text: str, *, data_dir: Any = None, since: Any = None, until: Any = None,
                  app: str | None = None, table: str = "rumq_events", now: dt.datetime | None = None) -> str:
    """DuckDB-dialect SQL over rumq's views (``rumq sql``) as one Trino statement."""
    from rumq.errors import UsageError
    from rumq.pages import load_config
    from rumq.runner import window

    if not text.strip():
        raise UsageError("no SQL given", hint='rumq sql --engine athena --print-sql "SELECT count(*) FROM events"')
    w = window(since, until, now)
    app = _app(data_dir, app)
    cfg = load_config(data_dir=data_dir) if data_dir is not None else None
    return statement(text, since=w.since, until=w.until, app=app, table=table, cfg=cfg,
                     ingest_totals=_totals(data_dir))


def duckdb_twin(trino_sql: str) -> str:
    """The Trino statement back in DuckDB's dialect, for the tests that compare answers.

    sqlglot's trino -> duckdb transpile plus what it leaves as written or changes:
    regexp_replace's Java replacement (``$1``, ``\\$``) -> RE2's (``\\1``, ``$``); ``min_by/max_by``
    -> ``arg_min_null/arg_max_null`` (Trino keeps a NULL value at the smallest key, as those do;
    sqlglot's ``arg_min`` skips it).
    """
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(trino_sql, read="trino")
    for node in list(tree.find_all(exp.ArgMin, exp.ArgMax)):
        name = "arg_min_null" if isinstance(node, exp.ArgMin) else "arg_max_null"
        node.replace(exp.Anonymous(this=name, expressions=[node.this.copy(), node.expression.copy()]))
    for node in tree.find_all(exp.RegexpReplace):
        r = node.args.get("replacement")
        if isinstance(r, exp.Literal) and r.is_string:
            node.set("replacement", exp.Literal.string(_re2_replacement(r.name)))
        node.set("modifiers", exp.Literal.string("g"))  # Trino replaces every match
    return tree.sql(dialect="duckdb")


def _re2_replacement(java: str) -> str:
    out, i = [], 0
    while i < len(java):
        c = java[i]
        if c == "\\" and i + 1 < len(java):
            out.append("\\\\" if java[i + 1] == "\\" else java[i + 1])
            i += 2
            continue
        if c == "$" and java[i + 1:i + 2].isdigit():
            out.append("\\" + java[i + 1])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _app(data_dir: Any, app: str | None) -> str | None:
    """``--app`` as an id: resolved against the local dataset when there is one (a name or prefix works
    there, as for DuckDB), else used as given."""
    if app is None or data_dir is None:
        return app
    from rumq.catalog import resolve_app
    from rumq.store import Store

    return resolve_app(data_dir, app) if Store(data_dir).exists() else app


def _totals(data_dir: Any) -> dict[str, int | None] | None:
    if data_dir is None:
        return None
    from rumq.store import Store

    store = Store(data_dir)
    if not store.exists():
        return None
    ingests = store.load_state().ingests
    return {"ingests": len(ingests), **{k: sum(int(i.get(k) or 0) for i in ingests)
                                        for k in ("read", "written", "duplicates", "rejected")}}
