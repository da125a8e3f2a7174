"""The command line's values as typer gives them, without importing pydantic for the usual ones.

typer (from 0.29) converts every parameter's value through a pydantic ``TypeAdapter``, which it
builds the first time a parameter is processed, default values included: importing pydantic
costs about 60 ms of every run. For the values where that conversion is plain (a string for a
``str``, strings for a ``list[str]``, decimal digits for an ``int``, a decimal number for a
``float``, a member of a choice) ``Coercion`` gives the same value itself; anything else (a bad
value, an unusual form, a range to enforce) goes to typer's own conversion, so its results and
its error messages stay typer's. ``tests/test_cli_values.py`` compares the two on every
parameter of the command.

Nothing changes with a typer that converts values some other way (``install`` does nothing).
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Any, get_args, get_origin

_INT = re.compile(r"[+-]?[0-9]{1,18}")
_FLOAT = re.compile(r"[+-]?(?:[0-9]{1,40}\.?[0-9]{0,40}|\.[0-9]{1,40})(?:[eE][+-]?[0-9]{1,4})?")
_UNKNOWN = object()  # no plain conversion: typer's own decides


def install(params: list[Any]) -> None:
    """Give each typer parameter a ``Coercion`` in place of the one typer builds lazily."""
    for param in params:
        if getattr(param, "_runtime_param", _UNKNOWN) is None and hasattr(param, "type_descriptor"):
            param._runtime_param = Coercion(param.type_descriptor)


class Coercion:
    """typer's conversion of one parameter's value, pydantic-free where it is plain."""

    def __init__(self, descriptor: Any) -> None:
        self.descriptor = descriptor
        self.full: Any = None  # typer's own, built on first need

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        multiple = param.multiple or param.nargs == -1
        if value is None:
            return () if multiple else None
        plain = _UNKNOWN if multiple and isinstance(value, str) else self.plain(value, ctx)
        if plain is not _UNKNOWN:
            return plain
        if self.full is None:
            from typer._coercion import build_runtime_param

            self.full = build_runtime_param(self.descriptor)
        return self.full.coerce(value, param=param, ctx=ctx)

    def plain(self, value: Any, ctx: Any) -> Any:
        """The converted value, or ``_UNKNOWN`` when typer's conversion must decide."""
        annotation, info = self.descriptor.annotation, self.descriptor.parameter_info
        if info.parser is not None or self.descriptor.file_annotation is not None:
            return _UNKNOWN
        if get_origin(annotation) is list and get_args(annotation) == (str,):
            plain = isinstance(value, list | tuple) and all(type(v) is str for v in value)
            return list(value) if plain else _UNKNOWN
        if annotation is str:
            return value if type(value) is str else _UNKNOWN
        if isinstance(annotation, type) and issubclass(annotation, Enum):
            return _choice(value, annotation, info.case_sensitive, ctx)
        if annotation is int or annotation is float:
            return _number(value, annotation, info)
        return _UNKNOWN


def _number(value: Any, kind: type, info: Any) -> Any:
    pattern = _INT if kind is int else _FLOAT
    if type(value) is kind:
        number = value
    elif type(value) is str and pattern.fullmatch(value):
        number = kind(value)
    else:
        return _UNKNOWN
    if info.clamp or not (kind is int or number == number):  # nan: typer's own checks
        return _UNKNOWN
    if (info.min is not None and number < info.min) or (info.max is not None and number > info.max):
        return _UNKNOWN  # out of range: typer's error message
    return number


def _choice(value: Any, choices: type[Enum], case_sensitive: bool, ctx: Any) -> Any:
    from typer._param_types import coerce_cli_choice

    try:
        return coerce_cli_choice(
            value, choices=list(choices), case_sensitive=case_sensitive, ctx=ctx
        )
    except ValueError:  # not a choice: typer's message
        return _UNKNOWN
