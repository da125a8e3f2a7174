"""The catalog of functions a model may call: one entry per name, in one place.

Each entry says how the name becomes SymPy (whose derivative is exact) and how it lowers to
torch (torch's own function, so that torch's real backward is what gets verified). This module
imports neither SymPy nor torch: the builders import them when first called.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

CONSTANTS: dict[str, float] = {"pi": math.pi, "E": math.e}


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    min_args: int
    max_args: int
    torch_name: str
    sympy: Callable[..., Any]
    torch: Callable[..., Any]
    doc: str = ""


def _sympy(attr: str) -> Callable[..., Any]:
    def build(*args: Any) -> Any:
        import sympy

        return getattr(sympy, attr)(*args)

    return build


def _nn(attr: str) -> Callable[..., Any]:
    def build(*args: Any) -> Any:
        from . import nnfunctions

        return getattr(nnfunctions, attr)(*args)

    return build


def _torch(path: str) -> Callable[..., Any]:
    def lower(*args: Any) -> Any:
        import torch

        target: Any = torch
        for part in path.split("."):
            target = getattr(target, part)
        return target(*args)

    return lower


def _log_sympy(x: Any, base: Any = None) -> Any:
    import sympy

    return sympy.log(x) if base is None else sympy.log(x, base)


def _log_torch(x: Any, base: Any = None) -> Any:
    import torch

    if base is None:
        return torch.log(x)
    if isinstance(base, int | float) and base in (2, 10):
        return torch.log2(x) if base == 2 else torch.log10(x)
    return torch.log(x) / torch.log(torch.as_tensor(base, dtype=x.dtype))


def _spec(name: str, torch_path: str, sympy_builder: Callable[..., Any], doc: str = "",
          arity: tuple[int, int] = (1, 1)) -> FunctionSpec:
    return FunctionSpec(name, arity[0], arity[1], f"torch.{torch_path}", sympy_builder,
                        _torch(torch_path), doc)


FUNCTIONS: dict[str, FunctionSpec] = {
    spec.name: spec
    for spec in [
        _spec("exp", "exp", _sympy("exp")),
        FunctionSpec("log", 1, 2, "torch.log / log2 / log10", _log_sympy, _log_torch,
                     "natural log; log(x, b) is the log to base b"),
        _spec("sqrt", "sqrt", _sympy("sqrt")),
        _spec("sin", "sin", _sympy("sin")),
        _spec("cos", "cos", _sympy("cos")),
        _spec("tan", "tan", _sympy("tan")),
        _spec("tanh", "tanh", _sympy("tanh")),
        _spec("abs", "abs", _sympy("Abs")),
        _spec("relu", "relu", _nn("relu"), "max(x, 0)"),
        _spec("sigmoid", "sigmoid", _nn("sigmoid"), "1/(1+exp(-x))"),
        _spec("softplus", "nn.functional.softplus", _nn("softplus"),
              "log(1+exp(x)); x itself where x > 20, as torch (threshold=20)"),
    ]
}


def check_arity(name: str, count: int) -> str | None:
    """A message if ``name`` cannot take ``count`` arguments, else None."""
    spec = FUNCTIONS[name]
    if spec.min_args <= count <= spec.max_args:
        return None
    want = str(spec.min_args) if spec.min_args == spec.max_args else (
        f"{spec.min_args} to {spec.max_args}")
    return f"'{name}' takes {want} argument{'s' if want != '1' else ''}, got {count}"
