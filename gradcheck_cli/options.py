"""What is being checked: the options of a check and the roles of the model's symbols.

Roles: ``x`` is the input and ``y`` the target by default; every other symbol is a parameter.
What the user names explicitly wins over the defaults. Pure standard library.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from gradcheck_cli.errors import RoleError, UnsupportedError

DTYPES = ("float32", "float64")
MAX_SAMPLES = 100_000


@dataclass(frozen=True)
class Options:
    """Everything about a check except the model text."""

    loss: str = "mse"
    seed: int = 0
    dtype: str = "float32"
    samples: int = 1
    reduction: str = "mean"
    inputs: tuple[str, ...] | None = None
    target: str | None = None
    params: tuple[str, ...] | None = None
    at: tuple[tuple[str, float], ...] = field(default=())
    expect: tuple[tuple[str, str], ...] = field(default=())  # hand values, as typed
    decimals: int | None = None  # inputs of hand calculations rounded to this many decimals
    loss_options: tuple[tuple[str, float | bool], ...] = ()  # --delta, --eps, --full, ...
    strict: bool = False  # a kink (no derivative at the point) counts as a failure

    def __post_init__(self) -> None:
        from gradcheck_cli.expr.losses import REDUCTIONS

        if self.dtype not in DTYPES:
            raise UnsupportedError(f"unknown dtype '{self.dtype}' (supported: {', '.join(DTYPES)})")
        if self.reduction not in REDUCTIONS:
            raise UnsupportedError(
                f"unknown reduction '{self.reduction}' (supported: {', '.join(REDUCTIONS)})"
            )
        if not 1 <= self.samples <= MAX_SAMPLES:
            raise UnsupportedError(f"samples must be between 1 and {MAX_SAMPLES}")
        if self.seed < 0:
            raise UnsupportedError("seed must be 0 or more")
        if self.decimals is not None and not 0 <= self.decimals <= 30:
            raise UnsupportedError("decimals must be between 0 and 30")


def _name_value_pairs(items: list[str] | tuple[str, ...], option: str) -> dict[str, str]:
    """``["w=0.5", "x=2,b=1"]`` -> ``{"w": "0.5", "x": "2", "b": "1"}`` (texts as typed)."""
    pairs: dict[str, str] = {}
    for item in items:
        for part in item.split(","):
            name, sep, text = part.partition("=")
            name, text = name.strip(), text.strip()
            if not sep or not name.isidentifier():
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


def parse_expect(items: list[str] | tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """``["w=-1.4793", "b=1.7626"]`` -> ``(("w", "-1.4793"), ("b", "1.7626"))``, texts kept
    so that the number of decimals typed is known."""
    pairs = _name_value_pairs(items, "--expect")
    for name, text in pairs.items():
        decimals_typed(text, name)  # refuses what is not a finite number
    return tuple(pairs.items())


def decimals_typed(text: str, name: str = "") -> int:
    """Decimals of a typed number: '-1.4793' -> 4, '2' -> 0, '1.5e-3' -> 4."""
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise RoleError(f"--expect {name}: '{text}' is not a number") from None
    if not number.is_finite():
        raise RoleError(f"--expect {name}: value must be finite, got '{text}'")
    return max(0, -int(number.as_tuple().exponent))
