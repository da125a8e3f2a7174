"""The SymPy side of the catalog (``expr/catalog``), built from its entries.

An entry with derivative rules becomes its own SymPy ``Function`` class, built here with
``type``: it prints under torch's name (``sigmoid(w*x)``), differentiates by the entry's rules
(``fdiff``), evaluates numerically by the entry's evaluator (so that Max/Min can compare it)
and rewrites to its definition (``rewrite(sympy.exp)``); it carries its entry as ``spec``.
Other entries call SymPy's own function (``exp``, ``Min``) or compose SymPy (``gamma``).

``spec_of(node.func)`` is the entry of any SymPy function class: the catalog's own classes,
the SymPy classes that catalog entries name, and SymPy's functions that appear only in
derivatives (Heaviside, DiracDelta, polygamma, re, im). Evaluation, kinks and the
SymPy-fallback rounding bound dispatch through it, by class.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import sympy

from gradcheck_cli.errors import GradcheckError
from gradcheck_cli.exact.shortcuts import tanh
from gradcheck_cli.expr.catalog import FUNCTIONS, INTERNAL, FunctionSpec
from gradcheck_cli.expr.catalog import numeric as n
from gradcheck_cli.expr.catalog.spec import EXACT


class RealFunction(sympy.Function):
    """A catalog function of real arguments; ``spec`` is its catalog entry."""

    is_real = True
    spec: ClassVar[FunctionSpec]

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        rules = self.spec.derivatives
        if not 1 <= argindex <= len(rules):
            raise sympy.ArgumentIndexError(self, argindex)
        return rules[argindex - 1](NS, *sympy_args(self.spec, self.args))

    def _eval_evalf(self, prec: int) -> sympy.Expr | None:
        """Numeric value of a call on numbers (so that Max/Min can compare it)."""
        import mpmath

        try:
            with mpmath.workprec(prec + 10):
                args = [mpmath.mpf(sympy.Float(a.evalf(prec + 10), prec + 10)) for a in self.args]
                return sympy.Float(self.spec.evaluate_at(mpmath.mp, args), prec)
        except (TypeError, ValueError, ZeroDivisionError, GradcheckError):  # not a number,
            # outside the domain, or beyond the caps on magnitude
            return None

    def _eval_rewrite_as_exp(self, *args: sympy.Expr, **kwargs: object) -> sympy.Expr:
        assert self.spec.definition is not None  # tests/test_catalog.py checks every entry
        return self.spec.definition(NS, *sympy_args(self.spec, args))


def sympy_args(spec: FunctionSpec, args: Sequence[sympy.Expr]) -> tuple[sympy.Expr, ...]:
    """``args`` with the omitted constants filled in by torch's defaults, as exact numbers."""
    return spec.filled(args, lambda q: sympy.Rational(q.numerator, q.denominator))


def _own_class(spec: FunctionSpec) -> type[RealFunction]:
    low, high = spec.arity
    nargs = low if low == high else tuple(range(low, high + 1))
    namespace = {"spec": spec, "nargs": nargs, "__module__": __name__, "__doc__": spec.doc}
    return type(spec.sympy, (RealFunction,), namespace)


CLASSES: dict[str, type[RealFunction]] = {
    spec.sympy: _own_class(spec)
    for spec in [*FUNCTIONS.values(), *INTERNAL.values()]
    if spec.derivatives
}
globals().update(CLASSES)  # importable (and picklable) as gradcheck_cli.exact.functions.relu
Abs, bce = CLASSES["Abs"], CLASSES["bce"]


class _Namespace:
    """``s`` in the catalog's rules: the catalog's own classes first, then SymPy."""

    def __getattr__(self, name: str) -> Any:
        return CLASSES[name] if name in CLASSES else getattr(sympy, name)


NS = _Namespace()


def build(name: str, args: Sequence[sympy.Expr]) -> sympy.Expr:
    """The SymPy expression of the catalog function ``name`` called on ``args``."""
    spec = FUNCTIONS[name]
    if spec.compose is not None:
        return spec.compose(NS, *args)
    cls = getattr(NS, spec.sympy)
    return tanh(args[0]) if cls is sympy.tanh else cls(*args)


def _heaviside(ctx: Any, x: Any, h0: Any = None) -> Any:
    if n.decide(x > 0):
        return ctx.mpf(1)
    if n.decide(x < 0):
        return ctx.mpf(0)
    return ctx.mpf(1) / 2 if h0 is None else h0


# SymPy's functions that appear only in derivatives
_DERIVATIVE_ONLY = {
    sympy.Heaviside: FunctionSpec(
        "Heaviside",
        "step: 0 below 0, 1 above, its second argument at 0",
        _heaviside,
        arity=(1, 2),
        interval=True,
        switches=lambda x, *h0: [x],
        convention="Heaviside' = 0 (the function jumps)",
        jumps=True,
        steps=True,
        cost=EXACT,
    ),
    sympy.DiracDelta: FunctionSpec(  # the derivative of sign: torch's sign' = 0
        "DiracDelta",
        "derivative of a step",
        lambda ctx, x, k=None: ctx.mpf(0),
        arity=(1, 2),
        interval=True,
    ),
    sympy.polygamma: FunctionSpec(
        "polygamma", "polygamma(n, x)", n.psi, arity=(2, 2), interval=True
    ),
    # SymPy differentiates Abs of what it cannot prove real (acos(...)) through re/im; every
    # value here is real (the evaluator refuses anything outside a real domain)
    sympy.re: FunctionSpec("re", "real part", lambda ctx, x: x, interval=True),
    sympy.im: FunctionSpec("im", "imaginary part", lambda ctx, x: ctx.mpf(0), interval=True),
}


def _by_class() -> dict[Any, FunctionSpec]:
    table: dict[Any, FunctionSpec] = {cls: cls.spec for cls in CLASSES.values()}
    for spec in FUNCTIONS.values():
        named = getattr(sympy, spec.sympy, None) if spec.sympy and not spec.derivatives else None
        if isinstance(named, type):
            table[named] = spec  # SymPy's own exp, sin, Min, sign, ...
    table[sympy.Abs] = FUNCTIONS["abs"]  # SymPy folds sqrt(x**2) to its own Abs
    return table | _DERIVATIVE_ONLY


BY_CLASS = _by_class()


def spec_of(func: Any) -> FunctionSpec | None:
    """The catalog entry of a SymPy function class (``node.func``), or None."""
    return BY_CLASS.get(func)
