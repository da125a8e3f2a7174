"""The catalog of functions a model may call: one entry per name, in one place.

Each entry says how the name becomes SymPy (whose derivative is exact) and how it lowers to
torch (torch's own function, so that torch's real backward is what gets verified). This module
imports neither SymPy nor torch: the builders import them when first called.

Arguments after the first that are listed in ``constants`` (slopes, bounds, thresholds) must be
numbers: ``parse`` refuses a symbol there, naming the function and the argument.
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
    constants: tuple[str, ...] = ()  # names of arguments 2, 3, ... that must be numbers


def _sympy(attr: str) -> Callable[..., Any]:
    def build(*args: Any) -> Any:
        import sympy

        return getattr(sympy, attr)(*args)

    return build


def _nn(attr: str) -> Callable[..., Any]:
    def build(*args: Any) -> Any:
        from gradcheck_cli.exact import functions as nnfunctions

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


def _binary_torch(path: str) -> Callable[..., Any]:
    """Torch functions of two tensors (minimum, atan2, ...): a number becomes a tensor."""

    def lower(a: Any, b: Any) -> Any:
        import torch

        ref = a if isinstance(a, torch.Tensor) else b
        a, b = (torch.as_tensor(v, dtype=ref.dtype) for v in (a, b))
        return getattr(torch, path)(a, b)

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


def _gamma_sympy(x: Any) -> Any:
    import sympy

    from gradcheck_cli.exact import functions as nnfunctions

    return sympy.exp(nnfunctions.lgamma(x))


def _gamma_torch(x: Any) -> Any:
    import torch

    return torch.exp(torch.lgamma(x))


def _cbrt_torch(x: Any) -> Any:
    import torch

    return torch.pow(x, 1.0 / 3.0)


def _spec(
    name: str,
    torch_path: str,
    sympy_builder: Callable[..., Any],
    doc: str = "",
    arity: tuple[int, int] = (1, 1),
    constants: tuple[str, ...] = (),
) -> FunctionSpec:
    binary = torch_path in ("atan2", "minimum", "maximum", "hypot")
    lower = _binary_torch(torch_path) if binary else _torch(torch_path)
    return FunctionSpec(
        name, arity[0], arity[1], f"torch.{torch_path}", sympy_builder, lower, doc, constants
    )


_F = "nn.functional."

FUNCTIONS: dict[str, FunctionSpec] = {
    spec.name: spec
    for spec in [
        _spec("exp", "exp", _sympy("exp"), "e**x"),
        FunctionSpec(
            "log",
            1,
            2,
            "torch.log / log2 / log10",
            _log_sympy,
            _log_torch,
            "natural log; log(x, b) is the log to base b",
        ),
        _spec("log1p", "log1p", _nn("log1p"), "log(1 + x)"),
        _spec("expm1", "expm1", _nn("expm1"), "exp(x) - 1"),
        _spec("sqrt", "sqrt", _sympy("sqrt"), "x**(1/2); undefined for x < 0, gradient at 0"),
        FunctionSpec(
            "cbrt",
            1,
            1,
            "torch.pow(x, 1/3)",
            _nn("cbrt"),
            _cbrt_torch,
            "x**(1/3); torch has no cbrt and pow gives NaN for x < 0: undefined there",
        ),
        _spec("pow", "pow", _sympy("Pow"), "x**y", arity=(2, 2)),
        _spec("abs", "abs", _nn("Abs"), "|x|; torch's abs'(0) = 0"),
        _spec("sign", "sign", _sympy("sign"), "-1, 0 or 1; torch's sign' = 0 everywhere"),
        _spec("sin", "sin", _sympy("sin"), "sine"),
        _spec("cos", "cos", _sympy("cos"), "cosine"),
        _spec("tan", "tan", _sympy("tan"), "tangent"),
        _spec("asin", "asin", _sympy("asin"), "arcsine; -1 < x < 1 for a gradient"),
        _spec("acos", "acos", _sympy("acos"), "arccosine; -1 < x < 1 for a gradient"),
        _spec("atan", "atan", _sympy("atan"), "arctangent"),
        _spec(
            "atan2",
            "atan2",
            _sympy("atan2"),
            "angle of the point (x, y) for atan2(y, x)",
            arity=(2, 2),
        ),
        _spec("sinh", "sinh", _sympy("sinh"), "hyperbolic sine"),
        _spec("cosh", "cosh", _sympy("cosh"), "hyperbolic cosine"),
        _spec("tanh", "tanh", _sympy("tanh"), "hyperbolic tangent"),
        _spec("asinh", "asinh", _sympy("asinh"), "inverse hyperbolic sine"),
        _spec("acosh", "acosh", _sympy("acosh"), "inverse hyperbolic cosine; x > 1 for a gradient"),
        _spec("atanh", "atanh", _sympy("atanh"), "inverse hyperbolic tangent; -1 < x < 1"),
        _spec("erf", "special.erf", _sympy("erf"), "2/sqrt(pi) * integral of exp(-t**2), 0..x"),
        _spec("erfc", "special.erfc", _sympy("erfc"), "1 - erf(x)"),
        FunctionSpec(
            "gamma",
            1,
            1,
            "torch.exp(torch.lgamma(x))",
            _gamma_sympy,
            _gamma_torch,
            "|Gamma(x)| as exp(lgamma(x)): torch has no gamma function",
        ),
        _spec("lgamma", "lgamma", _nn("lgamma"), "log|Gamma(x)| (torch drops the sign)"),
        _spec("relu", "relu", _nn("relu"), "max(x, 0); torch's relu'(0) = 0"),
        _spec(
            "leaky_relu",
            _F + "leaky_relu",
            _nn("leaky_relu"),
            "x if x > 0 else slope*x (slope 0.01); torch's derivative at 0 is slope",
            arity=(1, 2),
            constants=("negative_slope",),
        ),
        _spec(
            "elu",
            _F + "elu",
            _nn("elu"),
            "x if x > 0 else alpha*(exp(x) - 1) (alpha 1); derivative at 0 is alpha",
            arity=(1, 2),
            constants=("alpha",),
        ),
        _spec("selu", _F + "selu", _nn("selu"), "scale * elu(x, alpha), torch's constants"),
        _spec("gelu", _F + "gelu", _nn("gelu"), "x/2 * (1 + erf(x/sqrt(2))) (exact form)"),
        _spec("silu", _F + "silu", _nn("silu"), "x * sigmoid(x)"),
        _spec("mish", _F + "mish", _nn("mish"), "x * tanh(log(1 + exp(x)))"),
        _spec("sigmoid", "sigmoid", _nn("sigmoid"), "1/(1+exp(-x))"),
        _spec("logsigmoid", _F + "logsigmoid", _nn("logsigmoid"), "-log(1 + exp(-x))"),
        _spec(
            "softplus",
            _F + "softplus",
            _nn("softplus"),
            "log(1+exp(beta*x))/beta; x itself where beta*x > threshold (beta 1, threshold 20)",
            arity=(1, 3),
            constants=("beta", "threshold"),
        ),
        _spec(
            "hardtanh",
            _F + "hardtanh",
            _nn("hardtanh"),
            "x clamped to [min_val, max_val] (-1, 1); torch's derivative is 0 at both ends",
            arity=(1, 3),
            constants=("min_val", "max_val"),
        ),
        _spec(
            "clamp",
            "clamp",
            _nn("clamp"),
            "x clamped to [min, max]; torch's derivative is 1 at both ends",
            arity=(3, 3),
            constants=("min", "max"),
        ),
        _spec(
            "min",
            "minimum",
            _sympy("Min"),
            "smaller of two; a tie splits the gradient 1/2",
            arity=(2, 2),
        ),
        _spec(
            "max",
            "maximum",
            _sympy("Max"),
            "larger of two; a tie splits the gradient 1/2",
            arity=(2, 2),
        ),
        _spec("hypot", "hypot", _nn("hypot"), "sqrt(x**2 + y**2)", arity=(2, 2)),
    ]
}


def check_arity(name: str, count: int) -> str | None:
    """A message if ``name`` cannot take ``count`` arguments, else None."""
    spec = FUNCTIONS[name]
    if spec.min_args <= count <= spec.max_args:
        return None
    want = (
        str(spec.min_args)
        if spec.min_args == spec.max_args
        else (f"{spec.min_args} to {spec.max_args}")
    )
    return f"'{name}' takes {want} argument{'s' if want != '1' else ''}, got {count}"


def constant_argument(name: str, index: int) -> str | None:
    """The name of argument ``index`` (0-based) of ``name`` if it must be a number, else None."""
    constants = FUNCTIONS[name].constants
    if index == 0 or index > len(constants):
        return None
    return constants[index - 1]


def markdown_table() -> str:
    """The catalog as a markdown table (docs/functions.md is this text)."""
    lines = ["| name | arguments | torch | definition |", "|---|---|---|---|"]
    for spec in FUNCTIONS.values():
        arity = (
            str(spec.min_args)
            if spec.min_args == spec.max_args
            else (f"{spec.min_args}-{spec.max_args}")
        )
        if spec.constants:
            arity += f" ({', '.join(spec.constants)}: numbers)"
        lines.append(f"| `{spec.name}` | {arity} | `{spec.torch_name}` | {spec.doc} |")
    lines.append("| `pi`, `E` | constants | `math.pi`, `math.e` | exact pi and e in SymPy |")
    return "\n".join(lines) + "\n"
