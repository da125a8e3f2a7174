"""The command line's text forms of option values, read into what ``Options`` takes.

``--inputs a,b``, ``--at w=1,x=2``, ``--expect w=-1.4793``, ``--lower exp=mykernels:MyExp.apply``,
``--define "swish(u) = u*sigmoid(u)"``: the command line gives texts; ``from_command_line`` turns
them into names, (name, value) pairs and tuples, which ``Options`` then checks once
(``values.convert``) like every case-file value. Standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from gradcheck_cli.errors import RoleError
from gradcheck_cli.values import HAND_NAME


def from_command_line(given: Mapping[str, Any]) -> dict[str, Any]:
    """The command line's values of the options in OPTIONS, converted from their text forms
    (``--inputs a,b``, ``--at w=1``, ...), not yet checked. A ``--seeds`` sweep replaces
    ``--seed``."""
    values = dict(given)
    for name in ("inputs", "params"):
        if values.get(name) is not None:
            values[name] = tuple(p.strip() for p in values[name].split(",") if p.strip())
    values["at"] = parse_at(values.get("at") or ())
    values["expect"] = parse_expect(values.get("expect") or ())
    values["lower"] = parse_lower(values.get("lower") or ())
    values["define"] = tuple(values.get("define") or ())
    if values.get("seeds") is not None:
        values["seed"] = None
    return values


def _name_value_pairs(items: list[str] | tuple[str, ...], option: str) -> dict[str, str]:
    """``["w=0.5", "x=2,b=1"]`` -> ``{"w": "0.5", "x": "2", "b": "1"}`` (texts as typed;
    --expect also takes ``z[2]``)."""
    pairs: dict[str, str] = {}
    for item in items:
        for part in item.split(","):
            name, sep, text = part.partition("=")
            name, text = name.strip(), text.strip()
            named = HAND_NAME.fullmatch(name) if option == "--expect" else name.isidentifier()
            if not sep or not named:
                raise RoleError(f"{option} expects NAME=NUMBER, got '{part.strip()}'")
            pairs[name] = text
    return pairs


def parse_at(items: list[str] | tuple[str, ...]) -> tuple[tuple[str, float], ...]:
    """``["w=0.5", "x=2,b=1"]`` -> ``(("w", 0.5), ("x", 2.0), ("b", 1.0))``."""
    pairs: dict[str, float] = {}
    for name, text in _name_value_pairs(items, "--at").items():
        try:
            value = float(text)
        except ValueError:
            raise RoleError(f"--at {name}: '{text}' is not a number") from None
        if not math.isfinite(value):
            raise RoleError(f"--at {name}: value must be finite, got '{text}'")
        pairs[name] = value
    return tuple(pairs.items())


def parse_lower(items: list[str] | tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """``["exp=mykernels:MyExp.apply"]`` -> ``(("exp", "mykernels:MyExp.apply"),)``."""
    pairs: dict[str, str] = {}
    for item in items:
        name, sep, reference = item.partition("=")
        if not sep or not name.strip().isidentifier() or not reference.strip():
            raise RoleError(f"--lower expects NAME=MODULE:ATTR, got '{item}'")
        pairs[name.strip()] = reference.strip()
    return tuple(pairs.items())


def parse_expect(items: list[str] | tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """``["w=-1.4793", "b=1.7626"]`` -> ``(("w", "-1.4793"), ("b", "1.7626"))``, texts kept
    so that the number of decimals typed is known."""
    return tuple(_name_value_pairs(items, "--expect").items())  # checked by values.convert
