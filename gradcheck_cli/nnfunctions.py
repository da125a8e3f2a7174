"""SymPy functions for neural-network activations, differentiated from their definitions.

Each class prints under its torch name (``sigmoid(w*x)``), differentiates exactly, and
evaluates in mpmath through ``symbolic.evaluate``. Where torch departs from the mathematics on
purpose (softplus returns x itself above its threshold), the departure is modelled here so that
it is never reported as a failure.
"""

from __future__ import annotations

import sympy

SOFTPLUS_THRESHOLD = 20


class relu(sympy.Function):  # noqa: N801 - printed as torch's name
    """max(x, 0); derivative Heaviside(x), which the exact evaluator takes as 1/2 at 0."""

    is_real = True

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return sympy.Heaviside(self.args[0])

    def _eval_rewrite_as_Max(self, x: sympy.Expr, **kwargs: object) -> sympy.Expr:
        return sympy.Max(x, 0)


class sigmoid(sympy.Function):  # noqa: N801
    """1 / (1 + exp(-x))."""

    is_real = True

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return sigmoid(self.args[0]) * (1 - sigmoid(self.args[0]))

    def _eval_rewrite_as_exp(self, x: sympy.Expr, **kwargs: object) -> sympy.Expr:
        return 1 / (1 + sympy.exp(-x))


class softplus(sympy.Function):  # noqa: N801
    """log(1 + exp(x)) for x <= 20 and x itself above, as torch.nn.functional.softplus."""

    is_real = True

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        x = self.args[0]
        return sympy.Piecewise((1, x > SOFTPLUS_THRESHOLD), (sigmoid(x), True))

    def _eval_rewrite_as_exp(self, x: sympy.Expr, **kwargs: object) -> sympy.Expr:
        return sympy.Piecewise((x, x > SOFTPLUS_THRESHOLD), (sympy.log(1 + sympy.exp(x)), True))
