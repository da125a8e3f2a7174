"""Reading user-defined functions: ``NAME(a, b) = EXPRESSION``, by the model's own parser."""

from __future__ import annotations

import re
from collections.abc import Mapping

from gradcheck_cli.errors import ParseError, UnsupportedError
from gradcheck_cli.expr.catalog import CONSTANTS, FUNCTIONS
from gradcheck_cli.expr.define import Definition
from gradcheck_cli.expr.parse import parse

_HEAD = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*\(([^()]*)\)\s*=(?!=)(.*)$")


def parse_definition(text: str, earlier: Mapping[str, Definition] | None = None) -> Definition:
    """Parse one ``NAME(a, b) = EXPRESSION``; raise ParseError naming what is wrong."""
    earlier = dict(earlier or {})
    match = _HEAD.match(text) if isinstance(text, str) else None
    if match is None:
        raise ParseError(f"a definition is NAME(a, b) = EXPRESSION, got {text!r}")
    name, params_text, body_text = match.groups()
    body_text = body_text.strip()
    params = tuple(p.strip() for p in params_text.split(",")) if params_text.strip() else ()
    _check_head(text, name, params, earlier)
    if re.search(rf"\b{name}\s*\(", body_text):
        raise ParseError(f"'{name}' may not call itself (definitions cannot recurse)")
    try:
        body = parse(body_text, definitions=earlier)
    except (ParseError, UnsupportedError) as exc:
        raise type(exc)(f"in the definition of '{name}': {exc}") from None
    stray = [s for s in body.symbols if s not in params]
    if stray:
        raise ParseError(
            f"the definition of '{name}' uses '{stray[0]}', which is not one of its "
            f"arguments ({', '.join(params) or 'none'})"
        )
    return Definition(name, params, body.tree, text.strip())


def _check_head(
    text: str, name: str, params: tuple[str, ...], earlier: Mapping[str, Definition]
) -> None:
    if name in FUNCTIONS:
        raise ParseError(f"'{name}' is a built-in function; give the definition another name")
    if name in CONSTANTS:
        raise ParseError(f"'{name}' is a constant; give the definition another name")
    if name in earlier:
        raise ParseError(f"'{name}' is defined twice")
    if not params:
        raise ParseError(f"'{name}' needs at least one argument: {text.strip()!r}")
    for param in params:
        if not param.isidentifier() or param.startswith("_") or not param.isascii():
            raise ParseError(f"'{name}': argument '{param}' is not a name")
        if param in FUNCTIONS or param in CONSTANTS or param in earlier:
            raise ParseError(f"'{name}': argument '{param}' is already a function or constant")
    if len(set(params)) != len(params):
        raise ParseError(f"'{name}': an argument is named twice")


def parse_definitions(texts: list[str] | tuple[str, ...]) -> dict[str, Definition]:
    """Definitions in order, each able to use the ones before it."""
    found: dict[str, Definition] = {}
    for text in texts:
        definition = parse_definition(text, found)
        found[definition.name] = definition
    return found
