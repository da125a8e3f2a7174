"""The core check: text -> expression -> gradients -> comparison -> result.

``prepare`` does the work that depends only on the model and its options (parse, roles, the
exact program, lowering); ``run`` evaluates a prepared problem at one seed. ``check`` does both.
Batch runs prepare each distinct model once and run it for many seeds.

The exact program comes from the tree (``exact/adjoint.py``); SymPy's expressions of the model,
the loss and the gradients (``Prepared.sym``) are built when something reads them: a formula
printed, a point that program leaves open, a kink to look for, a bound's SymPy fallback.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from gradcheck_cli.errors import UserCodeError
from gradcheck_cli.expr.definitions import parse_definitions
from gradcheck_cli.expr.parse import Expr, parse
from gradcheck_cli.forward import forward_hands, impl_forward
from gradcheck_cli.gradients import Gradients, exact_or_undefined
from gradcheck_cli.losses import draw_targets, loss_spec
from gradcheck_cli.options import Options, make_options, with_seed
from gradcheck_cli.results import CheckResult
from gradcheck_cli.roles import Roles, assign_roles, check_expect, check_fixed


@dataclass(frozen=True)
class Prepared:
    """A model ready to run: its symbolic gradients and its compiled torch function."""

    expr: Expr
    options: Options
    roles: Roles
    sym: Any  # exact.symbolic.Lazy: the SymPy model, loss and gradients, built when read
    forward: Callable[..., Any]
    loss: Any = None  # the bound LossSpec
    constants: Any = ()  # per gradient: (symbolic.Constant, d gradient / d constant) pairs
    autograd: Any = None  # torch_side.Autograd: the traced graph, cached across seeds
    program: Any = None  # exact.program.Program: loss, model, gradients, the tree as typed
    lowerings: Any = None  # the user's implementations of functions (None: torch's own)
    impl: Any = None  # the user's whole model function (--impl), checked against the model
    forward_mode: Any = None  # autograd_modes.ForwardAutograd (--mode forward or both)
    second: Any = None  # hessian.Second (--order 2)
    smooth: bool = False  # neither the model nor the loss has a switch (``exact.plain``)

    @property
    def z_expr(self) -> Any:
        """SymPy: the model."""
        return self.sym.z

    @property
    def loss_expr(self) -> Any:
        """SymPy: the per-sample loss."""
        return self.sym.loss

    @property
    def grads(self) -> tuple[Any, ...]:
        """SymPy: the per-sample gradient of the loss, one per parameter."""
        return self.sym.grads

    @property
    def sympy_program(self) -> Any:
        """The program compiled from the SymPy expressions (``program`` may be the tree's)."""
        return _sympy_program(self.sym, self.expr.tree)


def _sympy_program(sym: Any, tree: ast.AST) -> Any:
    if sym.built is None:
        from gradcheck_cli.exact.program import compile_program

        sym.built = compile_program([sym.loss, sym.z, *sym.grads], tree)
    return sym.built


def prepare(
    model: str,
    options: Options,
    lowerings: Mapping[str, Callable[..., Any]] | None = None,
    impl: Callable[..., Any] | None = None,
) -> Prepared:
    spec = loss_spec(options.loss, options.loss_options)
    definitions = parse_definitions(options.define) if options.define else {}
    expr = parse(model, dtype=options.dtype, definitions=definitions)
    roles = assign_roles(
        expr.symbols, spec.needs_target, options.inputs, options.target, options.params
    )
    check_fixed(options.at, expr.symbols, roles.target)
    check_expect(options.expect, roles.params, options.samples)
    from gradcheck_cli import lowering, torch_side  # heavy: only once the input is known good
    from gradcheck_cli.exact import adjoint, plain, symbolic

    sym = symbolic.Lazy(expr, spec.formula, roles.target, roles.params)
    loss_key = (options.loss, options.loss_options)
    plain_model = plain.plain(expr.tree)  # else SymPy may fold a part to a constant
    if not plain_model:
        _ = sym.z  # undefined everywhere (1/(x-x)): an error now, before any run
    smooth = plain_model and plain.smooth_loss(loss_key, spec.formula)
    lowerings, impl = user_code(options, definitions, lowerings, impl)
    lowered = lowering.lower_impl(impl, expr.symbols) if impl else lowering.lower(expr, lowerings)
    forward = torch_side.loss_function(
        lowered, spec.torch, roles, options.reduction, options.samples
    )
    inexact = plain.inexact_constant(expr.tree)
    constants = _constant_sensitivities(expr, spec, roles.target, roles.params) if inexact else ()
    cache = not lowerings and impl is None  # user code may branch on values: record afresh
    autograd = torch_side.Autograd(forward, len(roles.params), cache=cache)
    from_tree = adjoint.compile_adjoint(
        expr.tree, (loss_key, spec.formula), roles.params, roles.target
    )
    prepared = Prepared(
        expr,
        options,
        roles,
        sym,
        forward,
        spec,
        constants,
        autograd,
        from_tree or _sympy_program(sym, expr.tree),
        lowerings,
        impl,
        smooth=smooth,
    )
    return _higher(prepared, options)


def _higher(prepared: Prepared, options: Options) -> Prepared:
    """Forward mode (``--mode``) and the second derivatives (``--order 2``), if asked for."""
    from gradcheck_cli import hessian, modes

    if options.mode != "reverse":
        prepared = replace(prepared, forward_mode=modes.engine(prepared))
    if options.order == 2:
        prepared = replace(prepared, second=hessian.prepare(prepared))
    return prepared


def user_code(
    options: Options,
    definitions: Mapping[str, Any],
    lowerings: Mapping[str, Callable[..., Any]] | None,
    impl: Callable[..., Any] | None,
) -> tuple[dict[str, Callable[..., Any]], Callable[..., Any] | None]:
    """The user's implementations (``--lower`` references loaded, beside the case file for a
    batch, then the API's ``lowerings``) and whole model (``--impl``). A name that is neither
    a function of the grammar nor defined is an error: a typo must not test nothing."""
    from pathlib import Path

    from gradcheck_cli.expr.catalog import FUNCTIONS
    from gradcheck_cli.user_code import did_you_mean, load

    base = Path(options.code_dir) if options.code_dir else None
    found = {name: load(reference, base) for name, reference in options.lower}
    found.update(lowerings or {})
    known = {*FUNCTIONS, *definitions}
    for name, function in found.items():
        if name not in known:
            raise UserCodeError(
                f"lower {name}: no function '{name}' in the grammar{did_you_mean(name, known)}"
            )
        if not callable(function):
            raise UserCodeError(f"lower {name}: {type(function).__name__} is not callable")
    if impl is None and options.impl:
        impl = load(options.impl, base)
    return found, impl


def _constant_sensitivities(
    expr: Expr, spec: Any, target: str | None, params: tuple[str, ...]
) -> Any:
    """For each gradient: the gradient with every constant torch holds inexactly as a symbol,
    and its derivative in each such constant."""
    from gradcheck_cli.exact import symbolic

    z_c, constants = symbolic.to_sympy_with_constants(expr)
    if not constants:
        return ()
    y = symbolic.symbol(target) if target else None
    grads_c = symbolic.gradients(spec.formula(z_c, y), params)
    return tuple(
        (g, tuple((c, symbolic.sympy.diff(g, symbolic.symbol(c.name))) for c in constants))
        for g in grads_c
    )


def run(prepared: Prepared, seed: int | None = None, analysis: bool = True) -> CheckResult:
    """Evaluate a prepared problem at ``seed`` (default: the options' seed). Without
    ``analysis``, a passed check's gradients may come without their rounding analysis (a
    gradient autograd got as its exact value rounded: ``gradients.Gradients``)."""
    from gradcheck_cli import hessian, modes, torch_side, verdict
    from gradcheck_cli.exact import kinks, typed
    from gradcheck_cli.exact.certified import certified

    options = prepared.options if seed is None else with_seed(prepared.options, seed)
    targets = partial(draw_targets, prepared.loss, dtype=options.dtype)
    point = torch_side.sample(prepared.roles, options, targets)
    got, traced, reason = prepared.autograd.run(list(point.tensors))
    program = prepared.program
    found = certified(
        program,
        None if program is prepared.sym.built else lambda: prepared.sympy_program,
        point.points,
        len(prepared.roles.params),
        options.reduction,
        options.dtype,
    )
    loss_exact, loss_problem = exact_or_undefined(
        lambda: prepared.loss_expr, point.points, options, found.loss
    )
    if not found.defined and (problem := typed.undefined_where(prepared.expr, list(point.points))):
        loss_exact, loss_problem = None, f"{problem}: try another point (--at) or seed (--seed)"
    lean = not analysis and options.mode == "reverse" and not options.fd
    step = Gradients(prepared, options, point, got, traced, reason, found.grads, not lean)
    n = len(prepared.roles.params)
    gradients = modes.results(
        prepared,
        options,
        point,
        found.grads,
        loss_problem,
        lambda: tuple(step.result(i, loss_problem) for i in range(n)),
    )
    second = prepared.second and hessian.results(prepared.second, options, point, loss_problem)
    forward = forward_hands(prepared, options, point.points, loss_exact)
    z_exact = tuple(
        kinks.exact_or_nan(prepared.z_expr, p) if z is None else z.value
        for z, p in zip(found.z, point.points, strict=True)
    )
    impl = impl_forward(prepared, options, point.points, z_exact, got.z) if prepared.impl else ()

    def status_of(gradients: tuple[Any, ...]) -> str:
        hands = [g.expect for g in gradients] + list(forward)
        judged = [*gradients, *(h.entry for h in second or ())]
        judged += [g.forward for g in gradients if g.forward and options.mode == "both"]
        return verdict.overall([*(f.verdict for f in impl), *(g.verdict for g in judged)], hands)

    status = status_of(gradients)
    if lean and not verdict.success(status, options.strict):  # its report shows the analysis
        step.analysis = True  # the same verdicts, now with every bound
        gradients = tuple(
            g if g.analysed else step.result(i, loss_problem) for i, g in enumerate(gradients)
        )
        status = status_of(gradients)
    roles = prepared.roles
    return CheckResult(
        model=prepared.expr.text,
        loss=options.loss,
        reduction=options.reduction,
        dtype=options.dtype,
        seed=options.seed,
        samples=options.samples,
        inputs=roles.inputs,
        target=roles.target,
        params=roles.params,
        values=point.values,
        z_exact=tuple(float(z) for z in z_exact),
        z_autograd=got.z,
        loss_exact=math.nan if loss_exact is None else float(loss_exact.value),
        loss_autograd=got.loss,
        gradients=gradients,
        forward_expect=forward,
        impl_forward=impl,
        status=str(status),
        ok=verdict.success(status, options.strict),
        strict=options.strict,
        mode=options.mode,
        hessian=second or (),
    )


def check(
    model: str,
    *,
    lowerings: Mapping[str, Callable[..., Any]] | None = None,
    defines: Any = None,
    impl: Any = None,
    **options: Any,
) -> CheckResult:
    """Check every gradient of ``model`` under ``options`` (see ``Options``; ``at`` may be a
    mapping, ``inputs``/``params`` any sequence of names, loss options such as ``delta`` or
    ``log_input`` keywords of their own). ``lowerings``: function name -> your torch code;
    ``defines``: definitions ``"NAME(a) = EXPRESSION"``; ``impl``: your whole model, a
    callable or ``"MODULE:FUNC"``."""
    if defines is not None:
        options["define"] = [defines] if isinstance(defines, str) else list(defines)
    if isinstance(impl, str):
        options["impl"], impl = impl, None
    built = Options(**options) if "loss_options" in options else make_options(options)
    return check_options(model, built, lowerings, impl)


def check_options(
    model: str,
    options: Options,
    lowerings: Mapping[str, Callable[..., Any]] | None = None,
    impl: Callable[..., Any] | None = None,
) -> CheckResult:
    return run(prepare(model, options, lowerings, impl))
