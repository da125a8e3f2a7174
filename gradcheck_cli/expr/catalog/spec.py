"""One record per function of the catalog: everything gradcheck knows about it.

A ``FunctionSpec`` is data and small functions only; nothing here imports SymPy, mpmath or
torch. The functions in an entry receive what they work with:

- SymPy rules get ``s``, a namespace holding the catalog's own SymPy classes and then SymPy
  itself (``s.sigmoid``, ``s.exp``, ``s.Piecewise``), followed by the arguments, optional
  constants filled in with their defaults as exact SymPy numbers;
- the evaluator gets an mpmath context ``ctx`` (``mpmath.mp`` for points, ``mpmath.iv`` for
  interval enclosures) and the arguments as ctx numbers, defaults filled in the same way;
- ``switches`` gets the SymPy arguments (defaults filled in) and returns the expressions whose
  zero is a switch point; ``torch`` gets tensors or numbers.

``exact/functions.py`` turns entries into SymPy; evaluation, kinks and the SymPy-fallback
rounding bound find an entry from a SymPy node's class (``spec_of(node.func)``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

Number = int | float | str  # a str is an exact decimal ("1.0507009873554804934193349852946")

EXACT, ROUNDED, LIBM = 0, 1, 2  # rounding cost in units of u: exact, correctly rounded, libm


@dataclass(frozen=True)
class FunctionSpec:
    name: str  # the name in the grammar (torch's name)
    doc: str  # one line for docs/functions.md
    evaluate: Callable[..., Any]  # (ctx, *args): mpmath value, for ctx mpmath.mp and mpmath.iv
    sympy: str = ""  # the SymPy function called: own class if ``derivatives``, else sympy.<name>
    derivatives: tuple[Callable[..., Any], ...] = ()  # own class: d/d argument i, (s, *args)
    definition: Callable[..., Any] | None = None  # own class: the mathematics, (s, *args)
    compose: Callable[..., Any] | None = None  # instead of one call: a SymPy expression (s, *args)
    arity: tuple[int, int] = (1, 1)
    constants: tuple[str, ...] = ()  # names of arguments 2, 3, ... that must be numbers
    defaults: tuple[Number, ...] = ()  # torch's defaults of the optional trailing arguments
    torch_name: str = ""
    torch: Callable[..., Any] | None = None  # the lowering: torch's own function
    interval: bool = False  # ``evaluate`` is a valid interval extension under mpmath.iv
    switches: Callable[..., Sequence[Any]] | None = None  # (*args): expressions zero at a switch
    convention: str = ""  # torch's derivative at a switch
    jumps: bool = False  # the function itself jumps at a switch (sign, Heaviside)
    steps: bool = False  # piecewise constant: argument errors do not carry through
    cost: int = LIBM  # rounding of one call for the SymPy-fallback bound, in units of u
    aten: tuple[str, ...] = ()  # aten ops autograd emits for it, evaluated by rounding/aten_ops
    fallback: tuple[str, ...] = ()  # aten ops it emits that aten_ops cannot evaluate: the
    # traced bound gives up and the SymPy-fallback bound is used
    constraints: Callable[..., tuple[int, str] | None] | None = None  # torch's own checks of
    # the number arguments: (*numbers, defaults filled in, as floats) -> None, or (argument
    # number, 1-based, and what torch requires) when torch would refuse them; parse.py
    # refuses them at that argument's column. Ranges of the dtype are checked for every number

    @property
    def min_args(self) -> int:
        return self.arity[0]

    @property
    def max_args(self) -> int:
        return self.arity[1]

    def filled(self, args: Sequence[Any], number: Callable[[Fraction], Any]) -> tuple[Any, ...]:
        """``args`` followed by the defaults of the omitted ones, each made by ``number``."""
        missing = self.defaults[max(len(args) - self.min_args, 0) :]
        return (*args, *(number(Fraction(str(d))) for d in missing))

    def evaluate_at(self, ctx: Any, args: Sequence[Any]) -> Any:
        """``evaluate`` on ctx numbers, omitted constants filled in exactly."""
        return self.evaluate(
            ctx, *self.filled(args, lambda q: ctx.mpf(q.numerator) / q.denominator)
        )


def lowering(path: str, binary: bool = False) -> dict[str, Any]:
    """``torch_name`` and ``torch`` for torch's function at ``path`` (``nn.functional.elu``).

    ``binary``: a function of two tensors (minimum, atan2): a number becomes a tensor."""

    def lower(*args: Any) -> Any:
        import torch

        target: Any = torch
        for part in path.split("."):
            target = getattr(target, part)
        if binary:
            ref = args[0] if isinstance(args[0], torch.Tensor) else args[1]
            args = tuple(torch.as_tensor(v, dtype=ref.dtype) for v in args)
        return target(*args)

    return {"torch_name": f"torch.{path}", "torch": lower}
