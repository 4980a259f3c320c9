"""Typed query parameters: declaration, parsing, validation and binding.

A query declares its parameters in its front matter (see docs/queries.md).
Values come from the CLI as strings (``-p top=10``) or from the Python API as
Python objects; both go through ``ParamSpec.parse`` so the rules are the same.

Value parameters reach SQL only as bound DuckDB parameters (``$name``).
Identifier parameters (those with an ``sql:`` map) select a fragment from the
header's own allow-list and are substituted as ``{{name}}``; no user text is
ever formatted into SQL.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rumq.errors import ParameterError
from rumq.timewindow import format_duration, parse_duration

TYPES = ("int", "float", "str", "bool", "date", "duration", "list")
PARAM_KEYS = frozenset({"name", "type", "default", "choices", "min", "max", "help", "sql"})
NAME_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
_TRUE = {"true", "yes", "y", "on", "1"}
_FALSE = {"false", "no", "n", "off", "0"}
_TYPE_HELP = {
    "int": "an integer",
    "float": "a number",
    "str": "a string",
    "bool": "true or false",
    "date": "a date like 2026-11-01",
    "duration": "a duration like 30m, 7d or 1h30m",
    "list": "a comma-separated list or a JSON array",
}

#: Sentinel for "no default": the parameter is required.
REQUIRED: Any = object()


class Repeated(list):
    """The CLI texts of a ``-p`` key given more than once (``parse_assignments``).

    Each text is split like a single ``-p`` value (commas, or a JSON array);
    a plain Python list from the API is taken item by item, never split.
    """


def split_list_text(text: str) -> list[str]:
    """Read the CLI text of a list: a JSON array (``["/a","/b"]``) or comma-separated items.

    Raises:
        ValueError: text that starts with ``[`` but is not a JSON array of scalars.
    """
    s = text.strip()
    if s.startswith("["):
        try:
            items = json.loads(s)
        except json.JSONDecodeError as e:
            raise ValueError(f"not a JSON array ({e.msg} at character {e.pos + 1})") from None
        if not isinstance(items, list) or any(isinstance(i, list | dict) or i is None for i in items):
            raise ValueError("a JSON array of strings or numbers is expected")
        return [i if isinstance(i, str) else json.dumps(i) for i in items]
    return [p for p in (x.strip() for x in s.split(",")) if p]


@dataclass(frozen=True)
class ParamSpec:
    """One declared query parameter.

    Attributes:
        name: the parameter name (``$name`` / ``{{name}}`` in the body).
        type: one of ``TYPES``.
        default: the parsed default, or ``REQUIRED``.
        choices: allowed values (for ``list``: allowed elements), or None.
        min: lower bound (int, float, duration), or None.
        max: upper bound, or None.
        help: one line for humans.
        sql: for identifier parameters, value -> SQL fragment allow-list.
    """

    name: str
    type: str = "str"
    default: Any = REQUIRED
    choices: tuple[Any, ...] | None = None
    min: Any = None
    max: Any = None
    help: str = ""
    sql: Mapping[Any, str] | None = field(default=None)

    @property
    def required(self) -> bool:
        """True when the parameter has no default."""
        return self.default is REQUIRED

    @property
    def is_identifier(self) -> bool:
        """True when the value selects an SQL fragment (``{{name}}``)."""
        return self.sql is not None

    @classmethod
    def from_header(cls, raw: Any) -> ParamSpec:
        """Build a spec from one entry of the front matter ``params`` list.

        Raises:
            ValueError: naming the problem (the caller adds the file name).
        """
        if not isinstance(raw, Mapping):
            raise ValueError(f"each entry of 'params' must be a mapping, got {raw!r}")
        unknown = sorted(set(raw) - PARAM_KEYS)
        name = raw.get("name")
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise ValueError(
                f"parameter name {name!r} must be lower-case letters, digits and _ "
                "(starting with a letter or _)"
            )
        if unknown:
            raise ValueError(
                f"parameter '{name}': unknown key(s) {', '.join(unknown)}; "
                f"allowed: {', '.join(sorted(PARAM_KEYS))} "
                "(in a {...} mapping, quote a value that contains a comma)"
            )
        ptype = raw.get("type", "str")
        if ptype not in TYPES:
            raise ValueError(
                f"parameter '{name}': unknown type {ptype!r}; allowed: {', '.join(TYPES)}"
            )
        sql = raw.get("sql")
        if sql is not None:
            if not isinstance(sql, Mapping) or not sql:
                raise ValueError(f"parameter '{name}': 'sql' must map each allowed value to an SQL fragment")
            if ptype not in ("str", "bool"):
                raise ValueError(f"parameter '{name}': an identifier parameter ('sql' map) must have type str or bool")
            for k, v in sql.items():
                if not isinstance(v, str) or not v.strip():
                    raise ValueError(f"parameter '{name}': sql fragment for {k!r} must be a non-empty string")
            if ptype == "bool":
                # A switch between two fragments (e.g. two sources of rows): keys true and false.
                keys = {k if isinstance(k, bool) else str(k).strip().lower() in _TRUE: k for k in sql}
                if set(keys) != {True, False} or len(sql) != 2 or not all(
                        isinstance(k, bool) or str(k).strip().lower() in _TRUE | _FALSE for k in sql):
                    raise ValueError(f"parameter '{name}': a bool identifier parameter maps exactly true and false")
                sql = {b: sql[k] for b, k in keys.items()}
            else:
                sql = {str(k): v for k, v in sql.items()}
        bare = cls(name=name, type=ptype, help=str(raw.get("help") or ""))
        choices = raw.get("choices")
        if choices is not None:
            if not isinstance(choices, list) or not choices:
                raise ValueError(f"parameter '{name}': 'choices' must be a non-empty list")
            elem = "str" if ptype == "list" else ptype
            try:
                choices = tuple(_parse_scalar(bare, elem, c) for c in choices)
            except ParameterError as e:
                raise ValueError(f"parameter '{name}': bad choice: {e.message}") from None
        elif sql is not None and ptype == "str":
            choices = tuple(sql)
        if sql is not None and choices is not None:
            missing = [c for c in choices if c not in sql]
            if missing:
                raise ValueError(
                    f"parameter '{name}': choices {missing} have no fragment in its 'sql' map"
                )
        bounds = {}
        for key in ("min", "max"):
            if raw.get(key) is None:
                bounds[key] = None
                continue
            if ptype not in ("int", "float", "duration"):
                raise ValueError(f"parameter '{name}': '{key}' applies to int, float and duration only")
            try:
                bounds[key] = _parse_scalar(bare, ptype, raw[key])
            except ParameterError as e:
                raise ValueError(f"parameter '{name}': bad {key}: {e.message}") from None
        spec = cls(
            name=name,
            type=ptype,
            choices=choices,
            min=bounds["min"],
            max=bounds["max"],
            help=bare.help,
            sql=sql,
        )
        if "default" in raw:
            try:
                default = spec.parse(raw["default"])
            except ParameterError as e:
                raise ValueError(f"bad default: {e.message}") from None
            spec = cls(**{**spec.__dict__, "default": default})
        return spec

    # -- parsing -------------------------------------------------------------

    def accepted(self) -> str:
        """Words describing the accepted values, for error messages and help."""
        if self.choices is not None:
            shown = ", ".join(self.show(c) for c in self.choices)
            if self.type == "list":
                return f"a comma-separated list (or JSON array) of: {shown}"
            return f"one of: {shown}"
        text = _TYPE_HELP[self.type]
        if self.min is not None and self.max is not None:
            text += f" from {self.show(self.min)} to {self.show(self.max)}"
        elif self.min is not None:
            text += f" >= {self.show(self.min)}"
        elif self.max is not None:
            text += f" <= {self.show(self.max)}"
        return text

    def show(self, value: Any) -> str:
        """Render a value the way a user would type it."""
        if value is REQUIRED:
            return "(required)"
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, dt.timedelta):
            return format_duration(value)
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, list | tuple):
            shown = [self.show(v) for v in value]
            if any("," in v or v.startswith("[") for v in shown):
                return json.dumps(shown)  # commas inside items: the unambiguous form
            return ",".join(shown)
        return str(value)

    def parse(self, value: Any) -> Any:
        """Parse and validate one value (a CLI string or a Python object).

        Returns:
            int, float, str, bool, ``datetime.date``, ``datetime.timedelta`` or
            ``list[str]`` according to the type.

        Raises:
            ParameterError: naming the parameter and the accepted values.
        """
        if self.type == "list":
            if isinstance(value, str):
                try:
                    items = split_list_text(value)
                except ValueError as e:
                    raise self._error(value, str(e)) from None
            elif isinstance(value, Sequence):
                # API values are items already: "a,b" stays one item.
                items = [_parse_scalar(self, "str", v) for v in value]
            else:
                raise self._error(value)
            if self.choices is not None:
                canon = [self._canonical(s) for s in items]
                bad = [s for s, c in zip(items, canon, strict=True) if c is None]
                if bad:
                    raise self._error(value, f"{bad[0]!r} is not allowed")
                items = canon
            return items
        parsed = _parse_scalar(self, self.type, value)
        if self.choices is not None:
            canon = self._canonical(parsed)
            if canon is None:
                raise self._error(value)
            parsed = canon
        if self.min is not None and parsed < self.min:
            raise self._error(value, f"below the minimum {self.show(self.min)}")
        if self.max is not None and parsed > self.max:
            raise self._error(value, f"above the maximum {self.show(self.max)}")
        return parsed

    def _canonical(self, value: Any) -> Any:
        """The declared choice ``value`` stands for, or None.

        Text choices match case-insensitively (``lcp`` is ``LCP``) unless two
        choices differ only by case; the declared spelling is returned.
        """
        assert self.choices is not None
        if value in self.choices:
            return value
        if not isinstance(value, str):
            return None
        folded = {c.casefold(): c for c in self.choices if isinstance(c, str)}
        if len(folded) != len(self.choices):
            return None  # choices differ only by case: case matters
        return folded.get(value.casefold())

    def _error(self, value: Any, why: str = "") -> ParameterError:
        why = f" ({why})" if why else ""
        return ParameterError(
            f"parameter '{self.name}': invalid value {value!r}{why}; expected {self.accepted()}"
        )


def _parse_scalar(spec: ParamSpec, ptype: str, value: Any) -> Any:
    """Parse a single value of ``ptype``; errors name ``spec``."""
    try:
        if ptype == "int":
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, int):
                return value
            if isinstance(value, float) and value.is_integer():
                return int(value)
            if isinstance(value, str):
                return int(value.strip())
            raise ValueError
        if ptype == "float":
            if isinstance(value, bool):
                raise ValueError
            out = float(value.strip()) if isinstance(value, str) else float(value)
            if not math.isfinite(out):
                raise ValueError
            return out
        if ptype == "str":
            if isinstance(value, bool):
                return "true" if value else "false"
            if isinstance(value, str | int | float):
                return str(value)
            raise ValueError
        if ptype == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
                return value.strip().lower() in _TRUE
            raise ValueError
        if ptype == "date":
            if isinstance(value, dt.datetime):
                return value.date()
            if isinstance(value, dt.date):
                return value
            if isinstance(value, str):
                return dt.date.fromisoformat(value.strip())
            raise ValueError
        if ptype == "duration":
            if isinstance(value, dt.timedelta):
                return value
            if isinstance(value, str):
                return parse_duration(value)
            raise ValueError
    except (ValueError, TypeError, OverflowError):
        pass
    raise spec._error(value) if ptype == spec.type else ParameterError(
        f"parameter '{spec.name}': invalid value {value!r}; expected {_TYPE_HELP[ptype]}"
    )


def parse_assignments(items: Sequence[str]) -> dict[str, str | list[str]]:
    """Read ``-p key=value`` options; a key given twice collects a list.

    Raises:
        ParameterError: when an item has no ``=`` or an empty key.
    """
    out: dict[str, str | list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ParameterError(
                f"parameter {item!r} must be written key=value", hint="for example: -p top=10"
            )
        if key in out:
            prev = out[key]
            out[key] = Repeated([*prev, value] if isinstance(prev, list) else [prev, value])
        else:
            out[key] = value
    return out


def resolve(specs: Sequence[ParamSpec], given: Mapping[str, Any], *, query: str = "") -> dict[str, Any]:
    """Validate user values against the declared parameters and fill in defaults.

    Args:
        specs: the query's declared parameters.
        given: name -> value (CLI strings, lists from repeated ``-p``, or Python objects).
        query: the query name, for messages.

    Returns:
        name -> parsed value for every declared parameter.

    Raises:
        ParameterError: unknown name (with a did-you-mean), missing required
            value, a repeated non-list parameter, or an invalid value.
    """
    by_name = {s.name: s for s in specs}
    where = f" of query '{query}'" if query else ""
    for key in given:
        if key not in by_name:
            import difflib  # only for the message (every command imports this module)

            close = difflib.get_close_matches(key, by_name, n=1)
            hint = f"did you mean '{close[0]}'?" if close else ""
            known = ", ".join(by_name) or "none"
            raise ParameterError(
                f"unknown parameter '{key}'{where}; its parameters are: {known}", hint=hint
            )
    out: dict[str, Any] = {}
    for spec in specs:
        if spec.name in given:
            value = given[spec.name]
            if isinstance(value, Repeated):
                if spec.type != "list":
                    raise ParameterError(f"parameter '{spec.name}' given more than once")
                # repeated -p steps=a -p 'steps=["b","c"]' -> [a, b, c]
                value = [item for text in value for item in _split_or_error(spec, text)]
            out[spec.name] = spec.parse(value)
            if spec.type == "list" and spec.required and not out[spec.name]:
                raise ParameterError(
                    f"parameter '{spec.name}'{where} needs at least one value; expected {spec.accepted()}",
                    hint=f"for example: -p {spec.name}=a,b or -p '{spec.name}=[\"a\",\"b\"]'",
                )
        elif spec.required:
            raise ParameterError(
                f"missing parameter '{spec.name}'{where}; expected {spec.accepted()}",
                hint=f"pass it with -p {spec.name}=VALUE",
            )
        else:
            out[spec.name] = spec.default
    return out


def _split_or_error(spec: ParamSpec, text: str) -> list[str]:
    try:
        return split_list_text(text)
    except ValueError as e:
        raise spec._error(text, str(e)) from None


# -- binding into SQL ------------------------------------------------------------

_MASK_RE = re.compile(
    r"'(?:[^']|'')*'"  # string literal
    r'|"(?:[^"]|"")*"'  # quoted identifier
    r"|--[^\n]*"  # line comment
    r"|/\*.*?\*/",  # block comment
    re.S,
)
_DOLLAR_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_PLACEHOLDER_RE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def _code_only(sql: str) -> str:
    return _MASK_RE.sub(" ", sql)


def referenced_names(sql: str) -> set[str]:
    """Names of the ``$name`` parameters used in SQL code (not in strings or comments)."""
    return set(_DOLLAR_RE.findall(_code_only(sql)))


def placeholders(sql: str) -> set[str]:
    """Names of the ``{{name}}`` identifier placeholders in a body."""
    return set(_PLACEHOLDER_RE.findall(sql))


def substitute_identifiers(sql: str, specs: Sequence[ParamSpec], values: Mapping[str, Any]) -> str:
    """Replace each ``{{name}}`` by the allow-listed fragment its value selects.

    Raises:
        ParameterError: a placeholder names no identifier parameter (this is a
            query definition bug, caught earlier by the library's checks).
    """
    by_name = {s.name: s for s in specs}

    def fragment(m: re.Match[str]) -> str:
        spec = by_name.get(m.group(1))
        if spec is None or spec.sql is None:
            raise ParameterError(f"placeholder {m.group(0)} names no identifier parameter")
        # The value was validated against the choices, which are the map's keys.
        return spec.sql[values[spec.name]]

    return _PLACEHOLDER_RE.sub(fragment, sql)


def bind_values(sql: str, specs: Sequence[ParamSpec], values: Mapping[str, Any]) -> dict[str, Any]:
    """The named parameters to bind for ``sql``: those whose ``$name`` occurs in it.

    DuckDB rejects unused named parameters, so only referenced ones are bound.
    ``duration`` binds as INTERVAL (timedelta), ``date`` as DATE, ``list`` as a
    list of strings (write ``$name::VARCHAR[]`` in SQL so an empty list is typed).
    """
    used = referenced_names(sql)
    return {s.name: values[s.name] for s in specs if s.name in used}
