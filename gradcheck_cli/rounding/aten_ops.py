"""Exact (mpmath) semantics of the aten ops autograd emits, as a tape of rounding steps.

Each supported aten op is expanded into the primitive floating-point steps its ATen CPU
kernel performs; every step records its exact value and a local absolute error bound
``c * (u*|v| + eta)`` (see the table in ``gradcheck_cli.tracebound``).
"""

from __future__ import annotations

import torch

from gradcheck_cli.rounding.tape import M, Ref, Tape, pick


# ---------------------------------------------------------------- aten op handlers
def _add(tp: Tape, a: int, b: int, kind: str = "add") -> int:
    return tp.op(kind, (a, b), 0 if tp.is_zero(a) or tp.is_zero(b) else 1)


def _mul(tp: Tape, a: int, b: int) -> int:
    if tp.is_pow2(a) or tp.is_pow2(b):
        return tp.op("mul", (a, b), 0, eta_count=1)
    return tp.op("mul", (a, b), 1)


def _div(tp: Tape, a: int, b: int, scalar: bool = False) -> int:
    if tp.is_pow2(b):
        return tp.op("div", (a, b), 0, eta_count=1)
    return tp.op("div", (a, b), 2 if scalar else 1)


def _alpha(tp, b, kw):
    alpha = kw.get("alpha", 1)
    return b if alpha == 1 else _mul(tp, b, tp.const(alpha))


def _where(tp: Tape, mask: list, a: int, b: int) -> int:
    sa = tp.op("scale", (a,), 0, 0, extra=[M.mpf(int(m)) for m in mask])
    sb = tp.op("scale", (b,), 0, 0, extra=[M.mpf(1 - int(m)) for m in mask])
    return tp.op("add", (sa, sb), 0, 0)


def _pow(tp: Tape, x: int, k: float) -> int:
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


def _mean(tp: Tape, x: int) -> int:
    n = len(tp.prims[x].val)
    return _div(tp, tp.reduce_sum(x), tp.const(n), scalar=True)


def _reduce(tp: Tape, x: int, reduction: int) -> int:
    return {0: lambda: x, 1: lambda: _mean(tp, x), 2: lambda: tp.reduce_sum(x)}[reduction]()


def _sigmoid(tp: Tape, x: int) -> int:
    e = tp.op("exp", (tp.op("neg", (x,), 0, 0),), 2)
    return _div(tp, tp.const(1), _add(tp, e, tp.const(1)))


def _softplus(tp: Tape, x: int, beta=1, threshold=20) -> int:
    t = _mul(tp, x, tp.const(beta))
    lp = tp.op("log1p", (tp.op("exp", (t,), 2),), 2)
    out = _div(tp, lp, tp.const(beta), scalar=True)
    return _where(tp, [v > threshold for v in tp.prims[t].val], x, out)


def _softplus_backward(tp: Tape, g: int, x: int, beta=1, threshold=20) -> int:
    t = _mul(tp, x, tp.const(beta))
    z = tp.op("exp", (t,), 2)
    q = _div(tp, _mul(tp, g, z), _add(tp, z, tp.const(1)))
    mask = [v > threshold for v in tp.prims[t].val]
    return _where(tp, mask, tp.expand(g, len(tp.prims[q].val)), q)


def _mse_loss(tp: Tape, a: int, b: int, reduction: int = 1) -> int:
    d = _add(tp, a, b, "sub")
    return _reduce(tp, _mul(tp, d, d), reduction)


def _mse_loss_backward(tp: Tape, g: int, a: int, b: int, reduction: int = 1) -> int:
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
        return tp.leaf([M.mpf(int(fn(pick(xs, j), pick(ys, j)))) for j in range(n)])

    return h


def _numel(node) -> int:
    return int(node.meta["val"].numel())


def _sign(tp, x):
    return tp.leaf([M.mpf(int(v > 0) - int(v < 0)) for v in tp.prims[x].val])


def _bin(f, scalar_div=False):
    def h(tp, node, a, b, **kw):
        ib = tp.ref(b)
        if scalar_div:
            return _div(tp, tp.ref(a), ib, scalar=not isinstance(b, Ref))
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


_VIEWS = [
    "view.default",
    "_unsafe_view.default",
    "reshape.default",
    "squeeze.default",
    "squeeze.dim",
    "squeeze.dims",
    "unsqueeze.default",
    "t.default",
    "alias.default",
    "clone.default",
    "detach.default",
    "lift_fresh_copy.default",
    "permute.default",
    "contiguous.default",
    "_to_copy.default",
]
HANDLERS = {f"aten.{v}": _ident for v in _VIEWS}
HANDLERS.update(
    {
        "aten.add.Tensor": _bin(_add),
        "aten.add.Scalar": _bin(_add),
        "aten.sub.Tensor": _bin(lambda tp, a, b: _add(tp, a, b, "sub")),
        "aten.sub.Scalar": _bin(lambda tp, a, b: _add(tp, a, b, "sub")),
        "aten.rsub.Scalar": _bin(lambda tp, a, b: _add(tp, b, a, "sub")),
        "aten.rsub.Tensor": _bin(lambda tp, a, b: _add(tp, b, a, "sub")),
        "aten.mul.Tensor": _bin(_mul),
        "aten.mul.Scalar": _bin(_mul),
        "aten.div.Tensor": _bin(None, True),
        "aten.div.Scalar": _bin(None, True),
        "aten.reciprocal.default": lambda tp, n, x: _div(tp, tp.const(1), tp.ref(x)),
        "aten.neg.default": _un("neg", 0),
        "aten.sqrt.default": _un("sqrt", 1),
        "aten.rsqrt.default": lambda tp, n, x: _pow(tp, tp.ref(x), -0.5),
        "aten.pow.Tensor_Scalar": lambda tp, n, x, k: _pow(tp, tp.ref(x), k),
        "aten.sigmoid.default": lambda tp, n, x: _sigmoid(tp, tp.ref(x)),
        "aten.sigmoid_backward.default": lambda tp, n, g, y: _mul(
            tp, _mul(tp, tp.ref(g), _add(tp, tp.const(1), tp.ref(y), "sub")), tp.ref(y)
        ),
        "aten.tanh_backward.default": lambda tp, n, g, y: _mul(
            tp, tp.ref(g), _add(tp, tp.const(1), _mul(tp, tp.ref(y), tp.ref(y)), "sub")
        ),
        "aten.softplus.default": lambda tp, n, x, *a: _softplus(tp, tp.ref(x), *a),
        "aten.softplus_backward.default": lambda tp, n, g, x, *a: _softplus_backward(
            tp, tp.ref(g), tp.ref(x), *a
        ),
        "aten.relu.default": lambda tp, n, x: tp.op(
            "scale", (tp.ref(x),), 0, 0, extra=[M.mpf(int(v > 0)) for v in tp.prims[x.id].val]
        ),
        "aten.threshold_backward.default": lambda tp, n, g, y, t: tp.op(
            "scale",
            (tp.expand(g.id, len(tp.prims[y.id].val)),),
            0,
            0,
            extra=[M.mpf(int(v > t)) for v in tp.prims[y.id].val],
        ),
        "aten.abs.default": lambda tp, n, x: tp.op(
            "scale", (x.id,), 0, 0, extra=[M.sign(v) for v in tp.prims[x.id].val]
        ),
        "aten.sgn.default": lambda tp, n, x: _sign(tp, x.id),
        "aten.sign.default": lambda tp, n, x: _sign(tp, x.id),
        "aten.mse_loss.default": lambda tp, n, a, b, r=1: _mse_loss(tp, a.id, b.id, r),
        "aten.mse_loss_backward.default": lambda tp, n, g, a, b, r: _mse_loss_backward(
            tp, g.id, a.id, b.id, r
        ),
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
            tp,
            [m != 0 for m in tp.prims[c.id].val],
            tp.expand(tp.ref(a), _numel(n)),
            tp.expand(tp.ref(b), _numel(n)),
        ),
    }
)
for _name, _f in {
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
}.items():
    HANDLERS[f"aten.{_name}.Tensor"] = HANDLERS[f"aten.{_name}.Scalar"] = _cmp(_f)
for _k, _c in {"exp": 2, "expm1": 2, "log": 2, "log1p": 2, "sin": 2, "cos": 2, "tanh": 2}.items():
    HANDLERS[f"aten.{_k}.default"] = _un(_k, _c)
