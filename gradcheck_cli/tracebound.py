"""First-order rounding-error bound (E1) for the aten graph that autograd actually runs.

``rounding_bound`` traces ``torch.autograd.grad(fn(*xs), params)`` with ``make_fx`` into aten
ops, evaluates every node exactly (mpmath, 200 bits, private context), expands each aten op
into the primitive floating-point steps its CPU kernel performs, and sweeps exact adjoints
``a_i = d g / d v_i`` backwards.  For every gradient component g the bound is

    E1 = sum_i sum_elements |a_i| * err_i,   err_i = c_i * (u * |v_i| + eta)

with u the unit roundoff (2^-24 float32, 2^-53 float64) and eta the smallest subnormal
(2^-149, 2^-1074; an underflowing result is off by at most eta/2 per rounding).  Inputs are
exact binary values and contribute nothing.  Python constants baked into the graph contribute
their actual rounding ``|fl(c) - c|`` to the dtype.  A reduction ``sum`` of n terms (any
order) contributes ``(n - 1) * u * sum|x|`` (first-order bound on all partial-sum roundings).

c_i table (per primitive step; an aten op is the sum of its steps, see ``_HANDLERS``)::

    0  exact: neg, abs, relu/threshold_backward/where (selection), views, expand, detach,
       clone, constants-like (ones_like, full, scalar_tensor), comparisons, sign,
       multiply/divide by an exact power of two (only the eta term), add/sub of exact 0
    1  correctly rounded IEEE ops: + - * /, sqrt, reciprocal
    2  libm / SLEEF transcendentals exp, log, log1p, expm1, sin, cos, tanh: glibc and
       SLEEF's *_u10 kernels used by ATen are documented to <= 1 ulp, and
       1 ulp <= 2u|v|, hence c = 2
    2  division by a non-power-of-two Python scalar (ATen may multiply by the reciprocal)
    max(2,|k|)  pow(x, k) for generic k (libm pow <= 1 ulp, or |k|-1 multiplications)

Fused ops are decomposed into the order their CPU kernels round in:
sigmoid = 1/(1+exp(-x)); sigmoid_backward = (g*(1-y))*y; tanh_backward = g*(1-y*y);
softplus = log1p(exp(beta*x))/beta (x where beta*x > threshold); softplus_backward =
(g*z)/(z+1), z = exp(beta*x); mse_loss = mean((a-b)*(a-b)); mse_loss_backward =
(fl(2/N)*(a-b))*g; mean = sum/N; rsqrt = 1/sqrt; pow k=2,3,-1,-2,0.5,-0.5 as in ATen's
optimized pow kernel.

Limitations: first order only (terms O(u^2) are dropped); branch decisions (relu, where,
softplus threshold, abs) are taken at the exact values, a rounding that flips a branch is
not covered; tensors must be 0-D or 1-D of one working dtype.  An intermediate that exceeds
the dtype's finite range on a path with nonzero adjoint makes the bound +inf.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import mpmath
import torch
from torch.fx.experimental.proxy_tensor import make_fx

_PREC = 200
M = mpmath.MPContext()
M.prec = _PREC
_UNIT = {torch.float32: (2.0**-24, 2.0**-149), torch.float64: (2.0**-53, 2.0**-1074)}
_FMAX = {dt: torch.finfo(dt).max for dt in _UNIT}


class UnsupportedOp(Exception):
    """Raised for an aten op (or tensor shape / dtype) this module cannot evaluate exactly."""

    def __init__(self, op_name: str):
        super().__init__(f"unsupported aten op: {op_name}")
        self.op_name = op_name


@dataclass(frozen=True)
class NodeContribution:
    node: str
    op: str
    contribution: float


@dataclass(frozen=True)
class BoundResult:
    bounds: tuple[float, ...]
    contributions: tuple[tuple[NodeContribution, ...], ...]
    exact_outputs: tuple[tuple[float, ...], ...]
    method: str = "aten"
    elementwise_bounds: tuple[tuple[float, ...], ...] = ()
    reference_gap: tuple[float, ...] | None = None
    exact_outputs_mp: tuple[tuple[Any, ...], ...] = field(default=(), repr=False, compare=False)


class _Ref(NamedTuple):
    id: int


@dataclass
class _Prim:
    kind: str
    args: tuple[int, ...]
    val: list
    err: list
    exact: bool
    owner: tuple[str, str]
    extra: Any = None


_UNARY = {
    "neg": (lambda x: -x, lambda x, v: -1),
    "id": (lambda x: x, lambda x, v: 1),
    "sqrt": (M.sqrt, lambda x, v: 1 / (2 * v)),
    "exp": (M.exp, lambda x, v: v),
    "expm1": (M.expm1, lambda x, v: v + 1),
    "log": (M.log, lambda x, v: 1 / x),
    "log1p": (M.log1p, lambda x, v: 1 / (1 + x)),
    "sin": (M.sin, lambda x, v: M.cos(x)),
    "cos": (M.cos, lambda x, v: -M.sin(x)),
    "tanh": (M.tanh, lambda x, v: 1 - v * v),
}
_BINARY = {
    "add": (lambda a, b: a + b, lambda a, b, v: (1, 1)),
    "sub": (lambda a, b: a - b, lambda a, b, v: (1, -1)),
    "mul": (lambda a, b: a * b, lambda a, b, v: (b, a)),
    "div": (lambda a, b: a / b, lambda a, b, v: (1 / b, -v / b)),
}


def _pick(xs: list, j: int):
    return xs[0] if len(xs) == 1 else xs[j]


class _Tape:
    """Flat list of primitive steps with exact values and local absolute error bounds."""

    def __init__(self, dtype: torch.dtype):
        self.dtype = dtype
        self.u, self.eta = (M.mpf(t) for t in _UNIT[dtype])
        self.fmax = M.mpf(_FMAX[dtype])
        self.prims: list[_Prim] = []
        self.owner = ("", "")

    def _push(self, kind, args, val, err, exact, extra=None) -> int:
        self.prims.append(_Prim(kind, tuple(args), val, err, exact, self.owner, extra))
        return len(self.prims) - 1

    def leaf(self, val: list, exact: bool = True) -> int:
        return self._push("leaf", (), list(val), [M.zero] * len(val), exact)

    def const(self, x: float | int | bool, n: int = 1) -> int:
        exact_val = M.mpf(x)
        rounded = torch.tensor(float(x), dtype=torch.float64).to(self.dtype).item()
        err = abs(M.mpf(rounded) - exact_val)
        return self._push("leaf", (), [exact_val] * n, [err] * n, err == 0)

    def ref(self, x) -> int:
        return x.id if isinstance(x, _Ref) else self.const(x)

    def op(self, kind: str, args, c: float = 1, eta_count: float | None = None, extra=None):
        xs = [self.prims[a].val for a in args]
        n = max(len(x) for x in xs)
        if any(len(x) not in (1, n) for x in xs):
            raise UnsupportedOp(f"broadcast {[len(x) for x in xs]}")
        val = [_fwd(kind, [_pick(x, j) for x in xs], _pick(extra, j) if extra else None)
               for j in range(n)]
        ec = c if eta_count is None else eta_count
        err = [c * self.u * abs(v) + ec * self.eta for v in val]
        exact = c == 0 and all(self.prims[a].exact for a in args)
        return self._push(kind, args, val, err, exact, extra)

    def reduce_sum(self, a: int) -> int:
        xs = self.prims[a].val
        s = M.fsum(xs)
        err = (len(xs) - 1) * self.u * M.fsum(abs(x) for x in xs)
        return self._push("sum", (a,), [s], [err], len(xs) == 1 and self.prims[a].exact)

    def expand(self, a: int, n: int) -> int:
        p = self.prims[a]
        if len(p.val) == n:
            return a
        if len(p.val) != 1:
            raise UnsupportedOp(f"expand {len(p.val)}->{n}")
        return self._push("expand", (a,), p.val * n, [M.zero] * n, p.exact)

    def is_pow2(self, a: int) -> bool:
        p = self.prims[a]
        return p.exact and all(v != 0 and abs(v.man) == 1 for v in p.val)

    def is_zero(self, a: int) -> bool:
        p = self.prims[a]
        return p.exact and all(v == 0 for v in p.val)


def _fwd(kind: str, xs: list, extra):
    if kind in _UNARY:
        return _UNARY[kind][0](xs[0])
    if kind in _BINARY:
        return _BINARY[kind][0](*xs)
    if kind == "scale":
        return xs[0] * extra
    if kind == "powk":
        return xs[0] ** extra
    raise UnsupportedOp(kind)


def _partials(kind: str, xs: list, v, extra) -> tuple:
    if kind in _UNARY:
        return (_UNARY[kind][1](xs[0], v),)
    if kind in _BINARY:
        return _BINARY[kind][1](*xs, v)
    if kind == "scale":
        return (extra,)
    return (extra * xs[0] ** (extra - 1),)  # powk


# ---------------------------------------------------------------- aten op handlers
def _add(tp: _Tape, a: int, b: int, kind: str = "add") -> int:
    return tp.op(kind, (a, b), 0 if tp.is_zero(a) or tp.is_zero(b) else 1)


def _mul(tp: _Tape, a: int, b: int) -> int:
    if tp.is_pow2(a) or tp.is_pow2(b):
        return tp.op("mul", (a, b), 0, eta_count=1)
    return tp.op("mul", (a, b), 1)


def _div(tp: _Tape, a: int, b: int, scalar: bool = False) -> int:
    if tp.is_pow2(b):
        return tp.op("div", (a, b), 0, eta_count=1)
    return tp.op("div", (a, b), 2 if scalar else 1)


def _alpha(tp, b, kw):
    alpha = kw.get("alpha", 1)
    return b if alpha == 1 else _mul(tp, b, tp.const(alpha))


def _where(tp: _Tape, mask: list, a: int, b: int) -> int:
    sa = tp.op("scale", (a,), 0, 0, extra=[M.mpf(int(m)) for m in mask])
    sb = tp.op("scale", (b,), 0, 0, extra=[M.mpf(1 - int(m)) for m in mask])
    return tp.op("add", (sa, sb), 0, 0)


def _pow(tp: _Tape, x: int, k: float) -> int:
    one = tp.const(1)
    simple = {
        1: lambda: tp.op("id", (x,), 0, 0),
        2: lambda: _mul(tp, x, x),
        3: lambda: _mul(tp, _mul(tp, x, x), x),
        0.5: lambda: tp.op("sqrt", (x,)),
        -1: lambda: _div(tp, one, x),
        -2: lambda: _div(tp, one, _mul(tp, x, x)),
        -0.5: lambda: _div(tp, one, tp.op("sqrt", (x,))),
    }
    if k == 0:
        return tp.const(1, len(tp.prims[x].val))
    if k in simple:
        return simple[k]()
    return tp.op("powk", (x,), max(2, abs(k)), extra=[M.mpf(k)] * len(tp.prims[x].val))


def _mean(tp: _Tape, x: int) -> int:
    n = len(tp.prims[x].val)
    return _div(tp, tp.reduce_sum(x), tp.const(n), scalar=True)


def _reduce(tp: _Tape, x: int, reduction: int) -> int:
    return {0: lambda: x, 1: lambda: _mean(tp, x), 2: lambda: tp.reduce_sum(x)}[reduction]()


def _sigmoid(tp: _Tape, x: int) -> int:
    e = tp.op("exp", (tp.op("neg", (x,), 0, 0),), 2)
    return _div(tp, tp.const(1), _add(tp, e, tp.const(1)))


def _softplus(tp: _Tape, x: int, beta=1, threshold=20) -> int:
    t = _mul(tp, x, tp.const(beta))
    lp = tp.op("log1p", (tp.op("exp", (t,), 2),), 2)
    out = _div(tp, lp, tp.const(beta), scalar=True)
    return _where(tp, [v > threshold for v in tp.prims[t].val], x, out)


def _softplus_backward(tp: _Tape, g: int, x: int, beta=1, threshold=20) -> int:
    t = _mul(tp, x, tp.const(beta))
    z = tp.op("exp", (t,), 2)
    q = _div(tp, _mul(tp, g, z), _add(tp, z, tp.const(1)))
    return _where(tp, [v > threshold for v in tp.prims[t].val], tp.expand(g, len(tp.prims[q].val)), q)


def _mse_loss(tp: _Tape, a: int, b: int, reduction: int = 1) -> int:
    d = _add(tp, a, b, "sub")
    return _reduce(tp, _mul(tp, d, d), reduction)


def _mse_loss_backward(tp: _Tape, g: int, a: int, b: int, reduction: int = 1) -> int:
    n = max(len(tp.prims[a].val), len(tp.prims[b].val))
    norm = 2.0 / n if reduction == 1 else 2.0  # computed in double, then cast to dtype
    c = tp.const(norm)
    tp.prims[c].val[0] = M.mpf(2) / n if reduction == 1 else M.mpf(2)
    tp.prims[c].err[0] = abs(M.mpf(_round(norm, tp.dtype)) - tp.prims[c].val[0])
    return _mul(tp, _mul(tp, c, _add(tp, a, b, "sub")), g)


def _round(x: float, dtype: torch.dtype) -> float:
    return torch.tensor(x, dtype=torch.float64).to(dtype).item()


def _cmp(fn):
    def h(tp, node, a, b):
        xs, ys = tp.prims[tp.ref(a)].val, tp.prims[tp.ref(b)].val
        n = max(len(xs), len(ys))
        return tp.leaf([M.mpf(int(fn(_pick(xs, j), _pick(ys, j)))) for j in range(n)])
    return h


def _numel(node) -> int:
    return int(node.meta["val"].numel())


def _sign(tp, x):
    return tp.leaf([M.mpf(int(v > 0) - int(v < 0)) for v in tp.prims[x].val])


def _bin(f, scalar_div=False):
    def h(tp, node, a, b, **kw):
        ib = tp.ref(b)
        if scalar_div:
            return _div(tp, tp.ref(a), ib, scalar=not isinstance(b, _Ref))
        return f(tp, tp.ref(a), _alpha(tp, ib, kw))
    return h


def _un(kind, c):
    return lambda tp, node, x, *a, **k: tp.op(kind, (tp.ref(x),), c, None if c else 0)


def _ident(tp, node, x, *a, **k):
    return tp.ref(x)


def _constlike(value_fn):
    return lambda tp, node, *a, **k: tp.const(value_fn(a, k), _numel(node))


def _fill(a, k):
    return a[1]


_VIEWS = ["view.default", "_unsafe_view.default", "reshape.default", "squeeze.default",
          "squeeze.dim", "squeeze.dims", "unsqueeze.default", "t.default", "alias.default",
          "clone.default", "detach.default", "lift_fresh_copy.default", "permute.default",
          "contiguous.default", "_to_copy.default"]
_HANDLERS = {f"aten.{v}": _ident for v in _VIEWS}
_HANDLERS.update({
    "aten.add.Tensor": _bin(_add), "aten.add.Scalar": _bin(_add),
    "aten.sub.Tensor": _bin(lambda tp, a, b: _add(tp, a, b, "sub")),
    "aten.sub.Scalar": _bin(lambda tp, a, b: _add(tp, a, b, "sub")),
    "aten.rsub.Scalar": _bin(lambda tp, a, b: _add(tp, b, a, "sub")),
    "aten.rsub.Tensor": _bin(lambda tp, a, b: _add(tp, b, a, "sub")),
    "aten.mul.Tensor": _bin(_mul), "aten.mul.Scalar": _bin(_mul),
    "aten.div.Tensor": _bin(None, True), "aten.div.Scalar": _bin(None, True),
    "aten.reciprocal.default": lambda tp, n, x: _div(tp, tp.const(1), tp.ref(x)),
    "aten.neg.default": _un("neg", 0),
    "aten.sqrt.default": _un("sqrt", 1),
    "aten.rsqrt.default": lambda tp, n, x: _pow(tp, tp.ref(x), -0.5),
    "aten.pow.Tensor_Scalar": lambda tp, n, x, k: _pow(tp, tp.ref(x), k),
    "aten.sigmoid.default": lambda tp, n, x: _sigmoid(tp, tp.ref(x)),
    "aten.sigmoid_backward.default": lambda tp, n, g, y: _mul(
        tp, _mul(tp, tp.ref(g), _add(tp, tp.const(1), tp.ref(y), "sub")), tp.ref(y)),
    "aten.tanh_backward.default": lambda tp, n, g, y: _mul(
        tp, tp.ref(g), _add(tp, tp.const(1), _mul(tp, tp.ref(y), tp.ref(y)), "sub")),
    "aten.softplus.default": lambda tp, n, x, *a: _softplus(tp, tp.ref(x), *a),
    "aten.softplus_backward.default": lambda tp, n, g, x, *a: _softplus_backward(
        tp, tp.ref(g), tp.ref(x), *a),
    "aten.relu.default": lambda tp, n, x: tp.op(
        "scale", (tp.ref(x),), 0, 0, extra=[M.mpf(int(v > 0)) for v in tp.prims[x.id].val]),
    "aten.threshold_backward.default": lambda tp, n, g, y, t: tp.op(
        "scale", (tp.expand(g.id, len(tp.prims[y.id].val)),), 0, 0,
        extra=[M.mpf(int(v > t)) for v in tp.prims[y.id].val]),
    "aten.abs.default": lambda tp, n, x: tp.op(
        "scale", (x.id,), 0, 0, extra=[M.sign(v) for v in tp.prims[x.id].val]),
    "aten.sgn.default": lambda tp, n, x: _sign(tp, x.id),
    "aten.sign.default": lambda tp, n, x: _sign(tp, x.id),
    "aten.mse_loss.default": lambda tp, n, a, b, r=1: _mse_loss(tp, a.id, b.id, r),
    "aten.mse_loss_backward.default": lambda tp, n, g, a, b, r: _mse_loss_backward(
        tp, g.id, a.id, b.id, r),
    "aten.sum.default": lambda tp, n, x, **k: tp.reduce_sum(x.id),
    "aten.sum.dim_IntList": lambda tp, n, x, *a, **k: tp.reduce_sum(x.id),
    "aten.mean.default": lambda tp, n, x, **k: _mean(tp, x.id),
    "aten.mean.dim": lambda tp, n, x, *a, **k: _mean(tp, x.id),
    "aten.expand.default": lambda tp, n, x, size, **k: tp.expand(x.id, _numel(n)),
    "aten.ones_like.default": _constlike(lambda a, k: 1),
    "aten.zeros_like.default": _constlike(lambda a, k: 0),
    "aten.full_like.default": _constlike(_fill),
    "aten.full.default": _constlike(_fill),
    "aten.ones.default": _constlike(lambda a, k: 1),
    "aten.zeros.default": _constlike(lambda a, k: 0),
    "aten.scalar_tensor.default": _constlike(lambda a, k: a[0]),
    "aten.where.self": lambda tp, n, c, a, b: _where(
        tp, [m != 0 for m in tp.prims[c.id].val], tp.expand(tp.ref(a), _numel(n)),
        tp.expand(tp.ref(b), _numel(n))),
})
for _name, _f in {"gt": lambda a, b: a > b, "ge": lambda a, b: a >= b, "lt": lambda a, b: a < b,
                  "le": lambda a, b: a <= b, "eq": lambda a, b: a == b,
                  "ne": lambda a, b: a != b}.items():
    _HANDLERS[f"aten.{_name}.Tensor"] = _HANDLERS[f"aten.{_name}.Scalar"] = _cmp(_f)
for _k, _c in {"exp": 2, "expm1": 2, "log": 2, "log1p": 2, "sin": 2, "cos": 2, "tanh": 2}.items():
    _HANDLERS[f"aten.{_k}.default"] = _un(_k, _c)


# ---------------------------------------------------------------- tracing and evaluation
def _trace(fn, inputs: list[torch.Tensor], wrt: list[int]) -> torch.fx.GraphModule:
    def grads(*xs):
        return torch.autograd.grad(fn(*xs), [xs[i] for i in wrt], allow_unused=True)

    args = [t.detach().clone().requires_grad_(i in wrt) for i, t in enumerate(inputs)]
    return make_fx(grads, tracing_mode="real")(*args)


def _check_meta(node, dtype: torch.dtype) -> None:
    val = node.meta.get("val")
    if isinstance(val, torch.Tensor):
        if val.dim() > 1:
            raise UnsupportedOp(f"{node.target} (ndim {val.dim()})")
        if val.dtype.is_floating_point and val.dtype != dtype:
            raise UnsupportedOp(f"{node.target} ({val.dtype})")


def _evaluate(gm, inputs: list[torch.Tensor], tape: _Tape) -> list[int | None]:
    env: dict[str, Any] = {}
    feed = iter(inputs)
    for node in gm.graph.nodes:
        tape.owner = (node.name, str(node.target))
        if node.op == "placeholder":
            t = next(feed)
            env[node.name] = _Ref(tape.leaf([M.mpf(v) for v in t.reshape(-1).tolist()]))
        elif node.op == "call_function":
            handler = _HANDLERS.get(str(node.target))
            if handler is None:
                raise UnsupportedOp(str(node.target))
            _check_meta(node, tape.dtype)
            args, kwargs = torch.fx.node.map_arg((node.args, node.kwargs), lambda n: env[n.name])
            kwargs = {k: v for k, v in kwargs.items() if k not in _IGNORED_KWARGS}
            env[node.name] = _Ref(handler(tape, node, *args, **kwargs))
        elif node.op == "output":
            outs = node.args[0]
            return [None if o is None else env[o.name].id for o in outs]
        else:
            raise UnsupportedOp(node.op)
    raise UnsupportedOp("graph without output")


_IGNORED_KWARGS = {"dtype", "layout", "device", "pin_memory", "memory_format", "non_blocking"}


def _backprop(tape: _Tape, i: int, a: list, adj: list) -> None:
    p = tape.prims[i]
    if p.kind == "leaf":
        return
    if p.kind == "sum":
        _acc(adj, p.args[0], [a[0]] * len(tape.prims[p.args[0]].val))
        return
    if p.kind == "expand":
        _acc(adj, p.args[0], [M.fsum(a)])
        return
    xs = [tape.prims[g].val for g in p.args]
    for j, aj in enumerate(a):
        if aj == 0:
            continue
        parts = _partials(p.kind, [_pick(x, j) for x in xs], p.val[j],
                          _pick(p.extra, j) if p.extra else None)
        for g, x, d in zip(p.args, xs, parts, strict=True):
            _acc_one(adj, g, len(tape.prims[g].val), 0 if len(x) == 1 else j, aj * d)


def _acc(adj: list, g: int, vals: list) -> None:
    if adj[g] is None:
        adj[g] = [M.zero] * len(vals)
    adj[g] = [s + v for s, v in zip(adj[g], vals, strict=True)]


def _acc_one(adj: list, g: int, n: int, j: int, v) -> None:
    if adj[g] is None:
        adj[g] = [M.zero] * n
    adj[g][j] += v


def _sweep(tape: _Tape, out: int, j: int) -> tuple[Any, dict]:
    """Exact adjoints of component j of prim `out`; returns (E1, per-owner contributions)."""
    adj: list = [None] * (out + 1)
    adj[out] = [M.zero] * len(tape.prims[out].val)
    adj[out][j] = M.one
    per_owner: dict[tuple[str, str], Any] = {}
    for i in range(out, -1, -1):
        if adj[i] is None:
            continue
        p = tape.prims[i]
        local = M.fsum(abs(a) * e for a, e in zip(adj[i], p.err, strict=True))
        if any(a and abs(v) > tape.fmax for a, v in zip(adj[i], p.val, strict=True)):
            local = M.inf  # the float computation overflows on a path that matters
        if local:
            per_owner[p.owner] = per_owner.get(p.owner, M.zero) + local
        _backprop(tape, i, adj[i], adj)
    return M.fsum(per_owner.values()), per_owner


def _bound_one(tape: _Tape, out: int | None):
    """(max E1 over components, contributions of the worst component, elementwise E1)."""
    if out is None:
        return 0.0, (), ()
    sweeps = [_sweep(tape, out, j) for j in range(len(tape.prims[out].val))]
    worst = max(range(len(sweeps)), key=lambda j: sweeps[j][0])
    contribs = sorted((NodeContribution(n, op, float(v)) for (n, op), v in sweeps[worst][1].items()),
                      key=lambda c: -c.contribution)
    elementwise = tuple(float(s[0]) for s in sweeps)
    return elementwise[worst], tuple(contribs), elementwise


def _gap(exact: list, reference) -> float:
    ref = [M.mpf(r) if not isinstance(r, str) else M.mpf(r) for r in _flat(reference)]
    if len(ref) != len(exact):
        return math.inf
    return float(max((abs(e - r) for e, r in zip(exact, ref, strict=True)), default=M.zero))


def _flat(x) -> list:
    if isinstance(x, torch.Tensor):
        return x.reshape(-1).tolist()
    if isinstance(x, (list, tuple)):
        return [y for e in x for y in _flat(e)]
    return [x]


def rounding_bound(fn, inputs: list[torch.Tensor], wrt: list[int], dtype: torch.dtype,
                   grad_outputs_exact: list | None = None) -> BoundResult:
    """First-order bound E1 on |autograd gradient - exact gradient| for each `wrt` input.

    `inputs` are 0-D/1-D tensors of `dtype` (float32/float64), their binary values are taken
    as exact.  `grad_outputs_exact` (optional, one entry per wrt: number, mpf, decimal string
    or sequence of those) is compared with the graph's exact gradients; the largest absolute
    difference per entry is returned in `reference_gap`.  Raises UnsupportedOp for any aten
    op, shape or dtype outside the supported set.
    """
    if dtype not in _UNIT:
        raise UnsupportedOp(f"dtype {dtype}")
    inputs = [t.detach().to(dtype) for t in inputs]
    tape = _Tape(dtype)
    outs = _evaluate(_trace(fn, inputs, wrt), inputs, tape)
    results = [_bound_one(tape, o) for o in outs]
    exact_mp = tuple(tuple(tape.prims[o].val) if o is not None
                     else (M.zero,) * inputs[w].numel() for o, w in zip(outs, wrt, strict=True))
    gaps = None
    if grad_outputs_exact is not None:
        gaps = tuple(_gap(list(e), r) for e, r in zip(exact_mp, grad_outputs_exact, strict=True))
    return BoundResult(
        bounds=tuple(float(r[0]) for r in results),
        contributions=tuple(r[1] for r in results),
        exact_outputs=tuple(tuple(float(v) for v in e) for e in exact_mp),
        method="aten",
        elementwise_bounds=tuple(r[2] for r in results),
        reference_gap=gaps,
        exact_outputs_mp=exact_mp,
    )


def precision_ladder(fn, inputs: list[torch.Tensor], wrt: list[int]) -> tuple[float, ...]:
    """Autograd gradients recomputed in float64 on the same (exactly widened) inputs.

    Returns the gradient components flattened in `wrt` order (one float per wrt entry for
    shape-(1,) inputs); unused inputs give zeros.
    """
    xs = [t.detach().to(torch.float64).clone().requires_grad_(i in wrt)
          for i, t in enumerate(inputs)]
    grads = torch.autograd.grad(fn(*xs), [xs[i] for i in wrt], allow_unused=True)
    out: list[float] = []
    for g, i in zip(grads, wrt, strict=True):
        out.extend([0.0] * xs[i].numel() if g is None else g.detach().reshape(-1).tolist())
    return tuple(out)
