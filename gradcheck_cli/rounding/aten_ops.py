"""Exact (mpmath) semantics of the aten ops autograd emits, as a tape of rounding steps.

Each supported aten op is expanded into the primitive floating-point steps its ATen CPU
kernel performs; every step records its exact value and a local absolute error bound
``c * (u*|v| + eta)`` (see the table in ``gradcheck_cli.rounding.trace``).
"""

from __future__ import annotations

from typing import Any

from gradcheck_cli.rounding import steps as st
from gradcheck_cli.rounding.aten_gamma import GAMMA_HANDLERS
from gradcheck_cli.rounding.aten_nn import NN_HANDLERS
from gradcheck_cli.rounding.tape import M, Ref, UnsupportedOp, pick, signs


# ---------------------------------------------------------------- aten op handlers
def _alpha(tp, b, kw):
    alpha = kw.get("alpha", 1)
    return b if alpha == 1 else st.mul(tp, b, tp.const(alpha))


def _cmp(fn):
    def h(tp, node, a, b):
        xs, ys = tp.prims[tp.ref(a)].val, tp.prims[tp.ref(b)].val
        n = max(len(xs), len(ys))
        return tp.leaf([M.mpf(int(fn(pick(xs, j), pick(ys, j)))) for j in range(n)])

    return h


def _extreme(keep_first):
    def h(tp, node, a, b):
        n = _numel(node)
        ia, ib = tp.expand(tp.ref(a), n), tp.expand(tp.ref(b), n)
        xs, ys = tp.prims[ia].val, tp.prims[ib].val
        return st.select(tp, [keep_first(x, y) for x, y in zip(xs, ys, strict=True)], ia, ib)

    return h


def _masked_fill(tp, node, x, mask, value):
    n = _numel(node)
    flags = [m != 0 for m in tp.prims[tp.ref(mask)].val]
    return st.select(tp, flags, tp.const(value, n), tp.expand(tp.ref(x), n))


def _numel(node) -> int:
    return node.meta.numel()


def _sign(tp, x):
    return tp.leaf([M.mpf(int(v > 0) - int(v < 0)) for v in tp.prims[x].val])


def _bin(f, scalar_div=False):
    def h(tp, node, a, b, **kw):
        ib = tp.ref(b)
        if scalar_div:
            return st.div(tp, tp.ref(a), ib, scalar=not isinstance(b, Ref))
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
        "aten.add.Tensor": _bin(st.add),
        "aten.add.Scalar": _bin(st.add),
        "aten.sub.Tensor": _bin(lambda tp, a, b: st.add(tp, a, b, "sub")),
        "aten.sub.Scalar": _bin(lambda tp, a, b: st.add(tp, a, b, "sub")),
        "aten.rsub.Scalar": _bin(lambda tp, a, b: st.add(tp, b, a, "sub")),
        "aten.rsub.Tensor": _bin(lambda tp, a, b: st.add(tp, b, a, "sub")),
        "aten.mul.Tensor": _bin(st.mul),
        "aten.mul.Scalar": _bin(st.mul),
        "aten.div.Tensor": _bin(None, True),
        "aten.div.Scalar": _bin(None, True),
        "aten.reciprocal.default": lambda tp, n, x: st.div(tp, tp.const(1), tp.ref(x)),
        "aten.neg.default": _un("neg", 0),
        "aten.sqrt.default": _un("sqrt", 1),
        "aten.rsqrt.default": lambda tp, n, x: st.pow_(tp, tp.ref(x), -0.5),
        "aten.pow.Tensor_Scalar": lambda tp, n, x, k: st.pow_(tp, tp.ref(x), k),
        "aten.sigmoid.default": lambda tp, n, x: st.sigmoid(tp, tp.ref(x)),
        "aten.sigmoid_backward.default": lambda tp, n, g, y: st.mul(
            tp, st.mul(tp, tp.ref(g), st.add(tp, tp.const(1), tp.ref(y), "sub")), tp.ref(y)
        ),
        "aten.tanh_backward.default": lambda tp, n, g, y: st.mul(
            tp, tp.ref(g), st.add(tp, tp.const(1), st.mul(tp, tp.ref(y), tp.ref(y)), "sub")
        ),
        "aten.softplus.default": lambda tp, n, x, *a: st.softplus(tp, tp.ref(x), *a),
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
            "scale", (x.id,), 0, 0, extra=signs(tp.prims[x.id].val)
        ),
        "aten.sgn.default": lambda tp, n, x: _sign(tp, x.id),
        "aten.sign.default": lambda tp, n, x: _sign(tp, x.id),
        "aten.sum.default": lambda tp, n, x, **k: tp.reduce_sum(x.id),
        "aten.sum.dim_IntList": lambda tp, n, x, *a, **k: tp.reduce_sum(x.id),
        "aten.mean.default": lambda tp, n, x, **k: st.mean(tp, x.id),
        "aten.mean.dim": lambda tp, n, x, *a, **k: st.mean(tp, x.id),
        "aten.expand.default": lambda tp, n, x, size, **k: tp.expand(x.id, _numel(n)),
        "aten.ones_like.default": _constlike(lambda a, k: 1),
        "aten.zeros_like.default": _constlike(lambda a, k: 0),
        "aten.full_like.default": _constlike(_fill),
        "aten.full.default": _constlike(_fill),
        "aten.ones.default": _constlike(lambda a, k: 1),
        "aten.zeros.default": _constlike(lambda a, k: 0),
        "aten.scalar_tensor.default": _constlike(lambda a, k: a[0]),
        "aten.where.self": lambda tp, n, c, a, b: st.select(
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
HANDLERS.update(NN_HANDLERS)
HANDLERS.update(GAMMA_HANDLERS)
HANDLERS.update(
    {
        "aten.maximum.default": _extreme(lambda x, y: x >= y),
        "aten.minimum.default": _extreme(lambda x, y: x <= y),
        "aten.masked_fill.Scalar": _masked_fill,
        "aten.logical_and.default": _cmp(lambda a, b: a != 0 and b != 0),
        "aten.empty_like.default": lambda tp, n, *a, **k: tp.leaf([M.nan] * _numel(n), False),
        "aten.fill.Scalar": lambda tp, n, x, v: tp.const(v, _numel(n)),
        "<built-in function getitem>": lambda tp, n, items, i: items[i].id,
    }
)
# libm / SLEEF kernels: c = 2 for <= 1 ulp (glibc and SLEEF u10); c = 4 where glibc documents
# up to 2 ulps (sinh, cosh, asinh, acosh, atanh); erfc is SLEEF u15 (1.5 ulp) and up to 5 ulps
# in glibc's double erfc: c = 10.
_LIBM = {"exp": 2, "expm1": 2, "log": 2, "log1p": 2, "log10": 2, "sin": 2, "cos": 2, "tan": 2}
_LIBM |= {"tanh": 2, "asin": 2, "acos": 2, "atan": 2, "erf": 2, "erfc": 10}
_LIBM |= {"sinh": 4, "cosh": 4, "asinh": 4, "acosh": 4, "atanh": 4}
for _k, _c in _LIBM.items():
    HANDLERS[f"aten.{_k}.default"] = _un(_k, _c)
for _k in ("atan2", "hypot", "pow"):  # <= 1 ulp in glibc and SLEEF (u10, u05)
    for name in ("pow.Tensor_Tensor", "pow.Scalar") if _k == "pow" else (f"{_k}.default",):
        HANDLERS[f"aten.{name}"] = _bin(lambda tp, a, b, k=_k: tp.op(k, (a, b), 2))
# in-place variants: the same value, bound to the mutated tensor by trace._evaluate
for _k in ("add_.Tensor", "sub_.Tensor", "mul_.Tensor", "mul_.Scalar", "div_.Tensor"):
    HANDLERS[f"aten.{_k}"] = HANDLERS[f"aten.{_k.replace('_.', '.')}"]
for _k in ("div_.Scalar", "clamp_.default", "masked_fill_.Scalar", "fill_.Scalar"):
    HANDLERS[f"aten.{_k}"] = HANDLERS[f"aten.{_k.replace('_.', '.')}"]
HANDLERS["aten.logical_and_.default"] = HANDLERS["aten.logical_and.default"]
# forward mode (dual numbers): size checks (no value), zero tangents, the prims of tangent sums
HANDLERS.update(
    {
        "aten.is_same_size.default": lambda tp, n, *a: tp.const(0),
        "aten._has_same_storage_numel.default": lambda tp, n, *a: tp.const(0),
        "aten._efficientzerotensor.default": _constlike(lambda a, k: 0),
        "aten.to.dtype_layout": _ident,
        "prims.mul.default": _bin(st.mul),
        "prims.add.default": _bin(st.add),
    }
)

# Half precision (bfloat16, float16): the ops whose CPU kernels were measured against exact
# arithmetic (tests/test_half.py): + - * of two tensors compute in float32 and round once
# (correctly rounded), mse_loss and mse_loss_backward round after each step as in float32
# (Vectorized<BFloat16/Half> converts, computes, converts back per operation), sum and mean
# accumulate in float32 and round the total once (``Tape.reduce_sum``, ``steps.mean``), and
# the ops that move or make values exactly. Any other op in a half-precision graph falls back
# to the SymPy bound, and the note says so; so does a Python number in the arithmetic (torch
# holds it in float32 there, not in the dtype).
HALF_OPS = frozenset(
    [f"aten.{v}" for v in _VIEWS if v != "_to_copy.default"]
    + [
        f"aten.{name}"
        for name in (
            "add.Tensor",
            "sub.Tensor",
            "mul.Tensor",
            "neg.default",
            "sum.default",
            "sum.dim_IntList",
            "mean.default",
            "mean.dim",
            "expand.default",
            "ones_like.default",
            "zeros_like.default",
            "mse_loss.default",
            "mse_loss_backward.default",
        )
    ]
)


def check_half(target: str, args: list, kwargs: dict, dtype: Any) -> None:
    """Half precision: only the ops whose kernels were measured (``HALF_OPS``), and their
    arithmetic on tensors only (a Python number stays float32 inside the kernel)."""
    name = str(dtype).removeprefix("torch.")
    if target not in HALF_OPS:
        raise UnsupportedOp(f"{target}: its {name} kernel is not modelled")
    arithmetic = target.split(".")[1] in ("add", "sub", "mul")
    if arithmetic and (not all(isinstance(a, Ref) for a in args) or kwargs.get("alpha", 1) != 1):
        raise UnsupportedOp(f"{target} with a Python number: not modelled in {name}")
