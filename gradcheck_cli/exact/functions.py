"""SymPy functions that SymPy lacks or that torch defines its own way, differentiated exactly.

Each class prints under its torch name (``sigmoid(w*x)``), differentiates exactly (``fdiff``),
and evaluates in mpmath through ``symbolic.MP_FUNCTIONS`` (keyed by the class name). Where torch
departs from the mathematics on purpose, the departure is modelled here so that it is never
reported as a failure:

- softplus returns x itself where beta*x > threshold (value and derivative);
- at a switch point the derivative is the branch torch's backward takes: relu'(0) = 0,
  leaky_relu'(0) = slope, elu'(0) = alpha, hardtanh' = 0 at both ends, clamp' = 1 at both ends;
- lgamma is log|Gamma(x)| (torch drops the sign); cbrt is pow(x, 1/3), undefined for x < 0.

Optional constant arguments (slopes, bounds) are stored only when the user gave them; the
defaults below are torch's.
"""

from __future__ import annotations

import sympy
from sympy import Piecewise

SOFTPLUS_THRESHOLD = 20
LEAKY_SLOPE = sympy.Rational(1, 100)
SELU_ALPHA = sympy.Rational("1.6732632423543772848170429916717")
SELU_SCALE = sympy.Rational("1.0507009873554804934193349852946")


class _Real(sympy.Function):
    is_real = True

    def _eval_evalf(self, prec: int) -> sympy.Expr | None:
        """Numeric value of a call on numbers (so that Max/Min can compare it)."""
        import mpmath

        from gradcheck_cli.exact.evaluate import MP_FUNCTIONS

        try:
            with mpmath.workprec(prec + 10):
                args = [mpmath.mpf(sympy.Float(a.evalf(prec + 10), prec + 10)) for a in self.args]
                return sympy.Float(MP_FUNCTIONS[type(self).__name__](mpmath.mp, *args), prec)
        except (TypeError, ValueError, ZeroDivisionError, KeyError):
            return None

    def _arg(self, index: int, default: sympy.Expr) -> sympy.Expr:
        return self.args[index] if len(self.args) > index else sympy.sympify(default)


class Abs(_Real):
    """|x| for real x, derivative sign(x) (torch's abs'(0) = 0). SymPy's own Abs goes through
    re/im when it cannot prove its argument real (acos(...)), which the evaluator cannot follow."""

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return sympy.sign(self.args[0])


class relu(_Real):  # noqa: N801 - printed as torch's name
    """max(x, 0); derivative Heaviside(x, 0): torch's relu'(0) = 0."""

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return sympy.Heaviside(self.args[0], 0)


class leaky_relu(_Real):  # noqa: N801
    """x if x > 0 else slope*x; torch takes the slope branch at 0."""

    nargs = (1, 2)

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        x, slope = self.args[0], self._arg(1, LEAKY_SLOPE)
        if argindex == 2:
            return Piecewise((0, x > 0), (x, True))
        return Piecewise((1, x > 0), (slope, True))


class elu(_Real):  # noqa: N801
    """x if x > 0 else alpha*(exp(x) - 1); torch takes the exponential branch at 0."""

    nargs = (1, 2)

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        x, alpha = self.args[0], self._arg(1, 1)
        if argindex == 2:
            return Piecewise((0, x > 0), (sympy.exp(x) - 1, True))
        return Piecewise((1, x > 0), (alpha * sympy.exp(x), True))


class selu(_Real):  # noqa: N801
    """SELU_SCALE * elu(x, SELU_ALPHA)."""

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        x = self.args[0]
        return Piecewise((SELU_SCALE, x > 0), (SELU_SCALE * SELU_ALPHA * sympy.exp(x), True))


class gelu(_Real):  # noqa: N801
    """x * Phi(x) = x/2 * (1 + erf(x/sqrt(2))), torch's approximate='none'."""

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        x = self.args[0]
        return (1 + sympy.erf(x / sympy.sqrt(2))) / 2 + x * sympy.exp(-(x**2) / 2) / sympy.sqrt(
            2 * sympy.pi
        )


class sigmoid(_Real):  # noqa: N801
    """1 / (1 + exp(-x))."""

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return sigmoid(self.args[0]) * (1 - sigmoid(self.args[0]))

    def _eval_rewrite_as_exp(self, x: sympy.Expr, **kwargs: object) -> sympy.Expr:
        return 1 / (1 + sympy.exp(-x))


class logsigmoid(_Real):  # noqa: N801
    """-log(1 + exp(-x))."""

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return sigmoid(-self.args[0])


class silu(_Real):  # noqa: N801
    """x * sigmoid(x)."""

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        x = self.args[0]
        return sigmoid(x) * (1 + x * (1 - sigmoid(x)))


class mish(_Real):  # noqa: N801
    """x * tanh(log(1 + exp(x))), with no threshold (as torch's mish kernel)."""

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        x = self.args[0]
        t = sympy.tanh(log1p(sympy.exp(x)))
        return t + x * sigmoid(x) * (1 - t**2)


class softplus(_Real):  # noqa: N801
    """log(1 + exp(beta*x))/beta, and x itself where beta*x > threshold, as torch."""

    nargs = (1, 2, 3)

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        x, beta, threshold = self.args[0], self._arg(1, 1), self._arg(2, SOFTPLUS_THRESHOLD)
        if argindex != 1:
            return sympy.S.Zero  # constants: only their rounding would flow through here
        return Piecewise((1, beta * x > threshold), (sigmoid(beta * x), True))

    def _eval_rewrite_as_exp(
        self, x: sympy.Expr, *rest: sympy.Expr, **kwargs: object
    ) -> sympy.Expr:
        beta, threshold = self._arg(1, 1), self._arg(2, SOFTPLUS_THRESHOLD)
        return Piecewise(
            (x, beta * x > threshold), (sympy.log(1 + sympy.exp(beta * x)) / beta, True)
        )


class hardtanh(_Real):  # noqa: N801
    """x clamped to [lo, hi] (default [-1, 1]); torch's derivative is 0 at lo and at hi."""

    nargs = (1, 2, 3)

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        x, lo, hi = self.args[0], self._arg(1, -1), self._arg(2, 1)
        if argindex == 2:
            return Piecewise((1, x <= lo), (0, True))
        if argindex == 3:
            return Piecewise((1, x >= hi), (0, True))
        return Piecewise((0, x <= lo), (0, x >= hi), (1, True))


class clamp(_Real):  # noqa: N801
    """x clamped to [lo, hi]; torch's derivative is 1 at lo and at hi (inclusive)."""

    nargs = 3

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        x, lo, hi = self.args
        if argindex == 2:
            return Piecewise((1, x < lo), (0, True))
        if argindex == 3:
            return Piecewise((1, x > hi), (0, True))
        return Piecewise((0, x < lo), (0, x > hi), (1, True))


class log1p(_Real):  # noqa: N801
    """log(1 + x)."""

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return 1 / (1 + self.args[0])


class expm1(_Real):  # noqa: N801
    """exp(x) - 1."""

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return sympy.exp(self.args[0])


class cbrt(_Real):  # noqa: N801
    """x**(1/3) for x >= 0 (torch.pow(x, 1/3) is NaN for x < 0); no gradient at 0."""

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return sympy.Pow(self.args[0], sympy.Rational(-2, 3)) / 3


class lgamma(_Real):  # noqa: N801
    """log|Gamma(x)|; its derivative is digamma(x) on both signs of Gamma."""

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return sympy.polygamma(0, self.args[0])


class hypot(_Real):  # noqa: N801
    """sqrt(x**2 + y**2)."""

    nargs = 2

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return self.args[argindex - 1] / hypot(*self.args)


class bce(_Real):  # noqa: N801
    """torch's binary_cross_entropy of one sample bce(z, y).

    Value: -(y*max(log z, -100) + (1-y)*max(log(1-z), -100)). Derivative in z: torch's
    backward (z - y) / max(z*(1-z), 1e-12), which is the true derivative wherever neither
    clamp is active (z*(1-z) >= 1e-12).
    """

    nargs = 2

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        z, y = self.args
        if argindex == 2:
            return sympy.Max(sympy.log(1 - z), -100) - sympy.Max(sympy.log(z), -100)
        return (z - y) / sympy.Max(z * (1 - z), BCE_EPSILON)


BCE_EPSILON = sympy.Rational(1, 10**12)
