"""First-order rounding-error bound (E1) for the aten graph that autograd actually runs.

``rounding_bound`` records ``torch.autograd.grad(fn(*xs), params)`` as aten ops
(``gradcheck_cli.recording``), evaluates every node exactly (mpmath, 200 bits, private
context), expands each aten op into the primitive floating-point steps its CPU kernel
performs, and sweeps exact adjoints ``a_i = d g / d v_i`` backwards (``rounding.sweep``:
every gradient component in one pass).  For every gradient component g the bound is

    E1 = sum_i sum_elements |a_i| * err_i,   err_i = c_i * (u * |v_i| + eta)

with u the unit roundoff (2^-24 float32, 2^-53 float64, 2^-8 bfloat16, 2^-11 float16) and eta
the smallest subnormal (2^-149, 2^-1074, 2^-133, 2^-24; an underflowing result is off by at
most eta/2 per rounding). In half precision a reduction accumulates in float32 and rounds once
(``(n - 1) * u32 * sum|x| + u * |total|``), and only the ops of ``aten_ops.HALF_OPS``, whose
kernels were measured, are modelled: any other op falls back to the SymPy bound.  Inputs are
exact binary values and contribute nothing.  Python constants baked into the graph contribute
their actual rounding ``|fl(c) - c|`` to the dtype.  A reduction ``sum`` of n terms (any
order) contributes ``(n - 1) * u * sum|x|`` (first-order bound on all partial-sum roundings).

c_i table (per primitive step; an aten op is the sum of its steps, see ``HANDLERS``)::

    0  exact: neg, abs, relu/threshold_backward/where (selection), views, expand, detach,
       clone, constants-like (ones_like, full, scalar_tensor), comparisons, sign,
       multiply/divide by an exact power of two (only the eta term), add/sub of exact 0
    1  correctly rounded IEEE ops: + - * /, sqrt, reciprocal
    2  libm / SLEEF transcendentals exp, log, log1p, expm1, sin, cos, tanh: glibc and
       SLEEF's *_u10 kernels used by ATen are documented to <= 1 ulp, and
       1 ulp <= 2u|v|, hence c = 2
    2  division by a non-power-of-two Python scalar or by N in mean (ATen may multiply by
       the reciprocal, rounding twice)
    2  tan, asin, acos, atan, erf, log10, atan2, hypot (glibc / SLEEF u10, u05: <= 1 ulp)
    4  sinh, cosh, asinh, acosh, atanh (glibc documents up to 2 ulps)
    10 erfc (SLEEF u15 is 1.5 ulp, glibc's double erfc up to 5 ulps)
    max(2,|k|)  pow(x, k) for generic k (libm pow <= 1 ulp, or |k|-1 multiplications)
    2  pow(x, y) with a tensor exponent (aten.pow.Tensor_Tensor, aten.pow.Scalar): libm pow

The per-op semantics live in ``rounding/aten_ops.py`` (``HANDLERS``), the fused activation and
loss kernels in ``rounding/aten_nn.py`` (elu/selu, leaky_relu, gelu, silu, mish, logsigmoid,
hardtanh, clamp, huber, smooth_l1, soft_margin, bce, bce with logits), each as the steps of its
scalar CPU loop; the steps themselves in ``rounding/steps.py``. A lane a kernel masks off may
hold NaN (the Stirling term of poisson_nll at y <= 1): refused only where a returned value or
the gradient depends on it. In-place ops rebind the tensor they mutate.

``lgamma`` and ``digamma`` (gamma, lgamma): ``rounding/aten_gamma.py``, for arguments > 0
(glibc's lgamma at 8 ulps; ATen's calc_digamma bounded step by step with its truncation);
negative arguments fall back to the SymPy bound.
Fused ops are decomposed into the order their CPU kernels round in:
sigmoid = 1/(1+exp(-x)); sigmoid_backward = (g*(1-y))*y; tanh_backward = g*(1-y*y);
softplus = log1p(exp(beta*x))/beta (x where beta*x > threshold); softplus_backward =
(g*z)/(z+1), z = exp(beta*x); mse_loss = mean((a-b)*(a-b)); mse_loss_backward =
(fl(2/N)*(a-b))*g; mean = sum/N; rsqrt = 1/sqrt; pow k=2,3,-1,-2,0.5,-0.5 as ATen's pow.

Limitations: first order only (terms O(u^2) are dropped); branch decisions (relu, where,
softplus threshold, abs) are taken at the exact values, a rounding that flips a branch is
not covered; tensors must be 0-D or 1-D of one working dtype.  Ops outside ``HANDLERS``
raise ``UnsupportedOp`` (the caller can fall back); an exact intermediate that is undefined
or not real (log of a negative, 1/0, sqrt'(0)) raises ``OutOfDomain``.  An intermediate
that exceeds the dtype's finite range on a path with nonzero adjoint makes the bound +inf.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from mpmath.libmp import from_float

from gradcheck_cli.recording import Meta, Recorded, Slot, record
from gradcheck_cli.rounding import sweep, vsweep
from gradcheck_cli.rounding.aten_ops import HANDLERS, check_half
from gradcheck_cli.rounding.intervals import Undecided
from gradcheck_cli.rounding.tape import (
    UNIT,
    M,
    OutOfDomain,
    Ref,
    Tape,
    UnsupportedOp,
)
from gradcheck_cli.rounding.vector import VecTape

__all__ = [
    "BoundResult",
    "NodeContribution",
    "OutOfDomain",
    "UnsupportedOp",
    "bound",
    "fast_bound",
    "rounding_bound",
]


@dataclass(frozen=True)
class NodeContribution:
    node: str
    op: str
    contribution: float


@dataclass(frozen=True)
class BoundResult:
    """Per gradient: the bound (worst component), its largest terms, each component's bound,
    and the exact gradient of the graph (mpmath numbers at 200 bits)."""

    bounds: tuple[float, ...]
    contributions: tuple[tuple[NodeContribution, ...], ...]
    elementwise_bounds: tuple[tuple[float, ...], ...]
    exact: tuple[tuple[Any, ...], ...] = field(repr=False, compare=False)


def bound(traced: Recorded, inputs: list[torch.Tensor], dtype: torch.dtype) -> BoundResult:
    """First-order bound E1 on |autograd gradient - exact gradient| for each ``wrt`` input.

    ``inputs`` are 0-D/1-D tensors of ``dtype`` (any of ``DTYPES``) whose binary values are
    taken as exact. Raises UnsupportedOp for an aten op, shape or dtype outside the supported
    set, OutOfDomain where an exact intermediate is undefined.
    """
    if dtype not in UNIT:
        raise UnsupportedOp(f"dtype {dtype}")
    inputs = [t.detach().to(dtype) for t in inputs]
    tape = Tape(dtype)
    outs = _evaluate(traced, inputs, tape)
    for o in outs:  # NaN may sit in a lane a kernel masks off, never in what the graph returns
        if o is not None and any(M.isnan(v) for v in tape.prims[o].val):
            p = next(p for p in tape.prims if any(M.isnan(v) for v in p.val))  # its origin
            raise OutOfDomain(f"{p.owner[0]} ({p.owner[1]}): {p.kind} has no finite real value")
    outs = outs[traced.n_values :]
    results = _exact_bounds(tape, outs)
    exact = tuple(
        tuple(tape.prims[o].val) if o is not None else (M.zero,) * inputs[w].numel()
        for o, w in zip(outs, traced.wrt, strict=True)
    )
    return BoundResult(
        bounds=tuple(float(r[0]) for r in results),
        contributions=tuple(r[1] for r in results),
        elementwise_bounds=tuple(r[2] for r in results),
        exact=exact,
    )


FAST_LANES = 4  # measured: at 4 lanes the two tapes cost the same, at 16 intervals 2x less


def fast_bound(traced: Recorded, inputs: list[torch.Tensor], dtype: torch.dtype) -> BoundResult:
    """``bound`` computed on interval vectors (``rounding.vector``): the same bounds (an upper
    bound of each, within ``vector.WIDTH`` relative), without the exact gradient (``exact``
    is empty); where the intervals cannot decide, ``bound`` itself, and below ``FAST_LANES``
    samples too (numpy's cost per call outweighs mpmath's per lane there), and in half."""
    if dtype not in UNIT:
        raise UnsupportedOp(f"dtype {dtype}")
    inputs = [t.detach().to(dtype) for t in inputs]
    small = max((t.numel() for t in inputs), default=0) < FAST_LANES
    if small or dtype not in (torch.float32, torch.float64):  # half: the exact tape's model
        return bound(traced, inputs, dtype)
    try:
        tape = VecTape(dtype)
        outs = _evaluate(traced, inputs, tape)[traced.n_values :]
        results = [
            _summaries([vsweep.sweep(tape, o, j) for j in range(len(tape.prims[o].val))])
            if o is not None
            else _summaries([])
            for o in outs
        ]
    except Undecided:
        return bound(traced, inputs, dtype)
    return BoundResult(
        bounds=tuple(float(r[0]) for r in results),
        contributions=tuple(r[1] for r in results),
        elementwise_bounds=tuple(r[2] for r in results),
        exact=(),
    )


def rounding_bound(fn, inputs: list[torch.Tensor], wrt: list[int], dtype) -> BoundResult:
    """``bound(record(fn, inputs, wrt)[0], inputs, dtype)``: record and bound in one call."""
    inputs = [t.detach().to(dtype) for t in inputs]
    return bound(record(fn, inputs, wrt)[0], inputs, dtype)


# ---------------------------------------------------------------- evaluation
def _check_meta(meta: Meta | None, dtype: torch.dtype, target: Any) -> None:
    if meta is not None:
        if meta.dim() > 1:
            raise UnsupportedOp(f"{target} (ndim {meta.dim()})")
        if meta.dtype.is_floating_point and meta.dtype != dtype:
            raise UnsupportedOp(f"{target} ({meta.dtype})")


def _evaluate(recorded: Recorded, inputs: list[torch.Tensor], tape: Tape) -> list[int | None]:
    env: list[Any] = []
    feed = iter(inputs)
    for node in recorded.nodes:
        op = node.op
        if op == "call_function":
            target, handler, in_place = _dispatch(node.target)
            tape.owner = (node.origin or node.name, target)
            env.append(_call(tape, node, target, handler, env))
            if in_place and isinstance(node.args[0], Slot):  # later readers of the mutated
                env[node.args[0].index] = env[-1]  # tensor see the new value
            continue
        tape.owner = (node.origin or node.name, str(node.target))
        if op == "placeholder":
            t = next(feed)
            env.append(Ref(_leaf(tape, t)))
        elif op == "constant":  # a constant tensor (a number given to a function):
            t = node.value  # its rounding is the caller's constant term
            env.append(Ref(tape.leaf([M.mpf(v) for v in t.reshape(-1).tolist()])))
        elif op == "output":
            return [None if o is None else env[o.index].id for o in node.args[0]]
        else:
            raise UnsupportedOp(op)
    raise UnsupportedOp("recording without output")


_DISPATCH: dict[Any, tuple[str, Any, bool]] = {}


def _dispatch(target: Any) -> tuple[str, Any, bool]:
    """An aten op's name, its handler (None: unsupported) and whether it works in place."""
    found = _DISPATCH.get(target)
    if found is None:
        name = str(target)
        found = _DISPATCH[target] = (name, HANDLERS.get(name), _in_place(name))
    return found


def _call(tape: Tape, node: Any, target: str, handler: Any, env: list[Any]) -> Any:
    """The steps of one aten op (``target``: its name) on the tape: a Ref, or a tuple of them."""
    if handler is None:
        raise UnsupportedOp(target)
    meta = node.meta
    if meta is not None and (len(meta.shape) > 1 or meta.dtype != tape.dtype):
        _check_meta(meta, tape.dtype, target)
    args = [env[a.index] if type(a) is Slot else _lookup(a, env) for a in node.args]
    kwargs = {k: _lookup(v, env) for k, v in node.kwargs.items()} if node.kwargs else {}
    if tape.half:
        check_half(target, args, kwargs, tape.dtype)
    if kwargs:
        kwargs = {k: v for k, v in kwargs.items() if k not in _IGNORED_KWARGS}
    out = handler(tape, node, *args, **kwargs)
    return tuple(map(Ref, out)) if isinstance(out, tuple) else Ref(out)


def _leaf(tape: Any, t: torch.Tensor) -> int:
    if isinstance(tape, VecTape):
        return tape.leaf_array(t.reshape(-1).to(torch.float64).numpy())
    values = (t.reshape(-1) if t.dim() > 1 else t).tolist()  # a float for a 0-D tensor
    values = values if isinstance(values, list) else [values]
    return tape.leaf([M.make_mpf(from_float(v)) for v in values])  # M.mpf(v), exact


def _lookup(arg: Any, env: list[Any]) -> Any:
    if isinstance(arg, Slot):
        return env[arg.index]
    if isinstance(arg, list | tuple):
        return type(arg)(_lookup(a, env) for a in arg)
    return arg


def _in_place(target: str) -> bool:
    name = target.split(".")
    return len(name) == 3 and name[1].endswith("_")


_IGNORED_KWARGS = {"dtype", "layout", "device", "pin_memory", "memory_format", "non_blocking"}


def _summaries(sweeps: list) -> tuple:
    """(max E1 over components, contributions of the worst component, elementwise E1) from
    each component's (E1, per-owner parts)."""
    if not sweeps:
        return 0.0, (), ()
    worst = max(range(len(sweeps)), key=lambda j: sweeps[j][0])
    items = sweeps[worst][1].items()
    contribs = sorted(
        (NodeContribution(n, op, float(v)) for (n, op), v in items), key=lambda c: -c.contribution
    )
    elementwise = tuple(float(s[0]) for s in sweeps)
    return elementwise[worst], tuple(contribs), elementwise


def _exact_bounds(tape: Tape, outs: list[int | None]) -> list[tuple]:
    """``_summaries`` of each output, every component of every output in one exact sweep."""
    seeds = [(o, j) for o in outs if o is not None for j in range(len(tape.prims[o].val))]
    swept = iter(sweep.sweep(tape, seeds))
    return [
        _summaries([next(swept) for _ in range(len(tape.prims[o].val))] if o is not None else [])
        for o in outs
    ]
