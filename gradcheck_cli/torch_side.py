"""The torch side: the expression lowered to torch, seeded draws, and autograd's run.

Lowering is gradcheck's own, not ``sympy.lambdify``: each call lowers to torch's own function for
that name (``relu`` -> ``torch.relu``), so torch's real backward formulas are what gets verified;
arithmetic is exactly what the user typed, in the order typed. ``overrides`` maps a function name
to a user implementation (for example a custom ``torch.autograd.Function``).

Seeding follows the autograd tutorial: inputs then the target come from a generator seeded with
``10*seed``, parameters from one seeded with ``seed`` (seed 0, whose two streams would be the
same, takes its parameters from ``values.SEED_0_PARAMETERS``); each symbol is one ``randn`` of
its shape, in order of first appearance. A local ``torch.Generator`` leaves torch's global RNG
untouched.
Half precision (bfloat16, float16) draws in float32 with the same seeds and rounds each value
to the dtype, so its values are the float32 check's rounded. Values are Python floats, which
hold every supported dtype's values exactly.

torch itself is imported inside the functions that need it, so that building a problem's
description stays light.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any

from gradcheck_cli.dtypes import DTYPES
from gradcheck_cli.errors import RoleError
from gradcheck_cli.expr.parse import Expr
from gradcheck_cli.lowering import attributed, lower
from gradcheck_cli.recording import Recorded, record, replay, retyped
from gradcheck_cli.roles import Roles
from gradcheck_cli.values import generator_seeds


def _is_tensor(value: Any) -> bool:
    return hasattr(value, "requires_grad")


def draw(
    roles: Roles, seed: int, samples: int, dtype: str, fixed: Mapping[str, float] | None = None
) -> dict[str, tuple[float, ...]]:
    """Name -> values (``samples`` of them for inputs and target, one for parameters)."""
    import torch

    torch_dtype = getattr(torch, dtype)
    drawn = getattr(torch, DTYPES[dtype].draw_as or dtype)  # half: float32's draws, rounded

    def randn(count: int, generator: Any) -> tuple[float, ...]:
        return tuple(torch.randn(count, generator=generator, dtype=drawn).to(torch_dtype).tolist())

    values: dict[str, tuple[float, ...]] = {}
    data_seed, weights_seed = generator_seeds(seed)
    data = torch.Generator().manual_seed(data_seed)
    for name in roles.inputs + ((roles.target,) if roles.target else ()):
        values[name] = randn(samples, data)
    weights = torch.Generator().manual_seed(weights_seed)
    for name in roles.params:
        values[name] = randn(1, weights)
    for name, value in (fixed or {}).items():
        rounded = torch.tensor(value, dtype=torch_dtype).item()
        values[name] = (rounded,) * len(values[name])
    return values


@dataclass(frozen=True)
class Sample:
    """One point, built once: the values both the exact side and the torch side read."""

    values: tuple[tuple[str, tuple[float, ...]], ...]  # name -> one value per sample
    points: Points  # per sample: name -> value (exact binary floats)
    tensors: tuple[Any, ...]  # inputs, target, params (params require grad)


class Point(Mapping[str, float]):
    """One sample's values, name -> value: a view of the draws (100000 samples are not
    100000 dicts)."""

    __slots__ = ("columns", "index")

    def __init__(self, columns: Mapping[str, tuple[float, ...]], index: int):
        self.columns, self.index = columns, index

    def __getitem__(self, name: str) -> float:
        column = self.columns[name]
        return column[self.index] if len(column) > 1 else column[0]

    def __iter__(self) -> Iterator[str]:
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    def __repr__(self) -> str:
        return repr(dict(self))


class Points(Sequence[Point]):
    """Every sample's ``Point``, made when read: none is kept (100000 samples held 9 MB of
    them through the run)."""

    __slots__ = ("columns", "count")

    def __init__(self, columns: Mapping[str, tuple[float, ...]], count: int):
        self.columns, self.count = columns, count

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self.count))]
        if not -self.count <= i < self.count:
            raise IndexError(i)
        return Point(self.columns, i % self.count)

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[Point]:
        return map(Point, repeat(self.columns, self.count), range(self.count))


def sample(
    roles: Roles, options: Any, targets: Callable[[tuple[float, ...]], tuple[float, ...]]
) -> Sample:
    """Seeded draws (with the values fixed by ``--at``; drawn targets mapped by ``targets``
    into the loss's domain), as floats and as tensors."""
    dtype = options.dtype
    values = draw(roles, options.seed, options.samples, dtype, dict(options.at))
    if roles.target and roles.target not in dict(options.at):
        values[roles.target] = targets(values[roles.target])
    for name, items in values.items():
        if not all(math.isfinite(v) for v in items):
            raise RoleError(f"value of '{name}' overflows {dtype}")
    points = Points(values, options.samples)
    tensors = build_inputs(roles, values, dtype)
    return Sample(tuple(values.items()), points, tuple(tensors))


@dataclass(frozen=True)
class AutogradRun:
    z: tuple[float, ...]
    loss: float
    grads: tuple[float | None, ...]  # None where autograd gave no gradient (unused parameter)


def build_inputs(roles: Roles, values: Mapping[str, tuple[float, ...]], dtype: str) -> list[Any]:
    """Tensors in the order inputs, target, params; parameters require grad."""
    import torch

    torch_dtype = getattr(torch, dtype)
    names = roles.inputs + ((roles.target,) if roles.target else ()) + roles.params
    return [
        torch.tensor(values[n], dtype=torch_dtype, requires_grad=n in roles.params) for n in names
    ]


def loss_function(
    model: Callable[[Mapping[str, Any]], Any],
    loss: Callable[..., Any],
    roles: Roles,
    reduction: str,
    samples: int,
) -> Callable[..., Any]:
    """A function of tensors (inputs, target, params) returning (z, loss)."""
    names = roles.inputs + ((roles.target,) if roles.target else ()) + roles.params

    def forward(*tensors: Any) -> tuple[Any, Any]:
        import torch

        env = dict(zip(names, tensors, strict=True))
        env["__dtype__"] = tensors[0].dtype
        z = model(env)
        if not isinstance(z, torch.Tensor):
            z = torch.tensor(z, dtype=tensors[0].dtype)
        z = attributed("z", lambda: torch.broadcast_to(z, (samples,)))
        target = env[roles.target] if roles.target else None
        return z, attributed("loss", lambda: loss(z, target, reduction))

    return forward


def run(forward: Callable[..., Any], tensors: list[Any], n_params: int) -> AutogradRun:
    import torch

    z, loss = forward(*tensors)
    params = tensors[len(tensors) - n_params :]
    if loss.requires_grad:
        grads = torch.autograd.grad(loss, params, allow_unused=True)
    else:
        grads = (None,) * n_params
    return AutogradRun(
        z=tuple(z.detach().tolist()),
        loss=float(loss.detach()),
        grads=tuple(None if g is None else float(g.sum()) for g in grads),
    )


class Autograd:
    """Autograd for one prepared problem: forward and backward recorded once per input shapes
    and dtypes (``recording.record``), then those ops replayed at every point (a seed sweep
    records nothing again). The same shapes in a wider dtype (the precision ladder's float64
    rung) replay the recording retyped where it carries no dtype (``recording.retyped``).

    With user implementations (``cache=False``) every point is recorded afresh: their Python
    code may branch on values, which a replayed recording would not see.
    """

    def __init__(self, forward: Callable[..., Any], n_params: int, cache: bool = True) -> None:
        self.forward, self.n_params, self.cache = forward, n_params, cache
        self._recordings: dict[Any, Recorded] = {}

    def run(self, tensors: list[Any]) -> tuple[AutogradRun, Recorded | None, str]:
        """Autograd's values at ``tensors``, the ops that computed them (None where torch
        cannot record them: then the eager run's values and why)."""
        key = tuple((t.dtype, tuple(t.shape)) for t in tensors)
        recorded = self._recordings.get(key) or self._retyped(key)
        if recorded is not None:
            try:
                outputs = replay(recorded, tensors)
            except (RuntimeError, NotImplementedError):  # a kernel's own check (bce: z in
                pass  # [0, 1]) or a kernel missing for the dtype: record afresh
            else:
                self._recordings[key] = recorded
                return self._read(outputs), recorded, ""
        wrt = list(range(len(tensors) - self.n_params, len(tensors)))
        try:
            recorded, outputs = record(self.forward, tensors, wrt)
        except (RuntimeError, NotImplementedError) as exc:  # the recording failed: run plainly
            detail = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
            return run(self.forward, tensors, self.n_params), None, f"not traceable: {detail}"
        if self.cache:
            self._recordings[key] = recorded
        return self._read(outputs), recorded, ""

    def _retyped(self, key: tuple[Any, ...]) -> Recorded | None:
        """A recording at the same shapes in another dtype, as ``record`` would make it in the
        dtype of ``key`` (the precision ladder's float64 rung of a float32 run); None where
        it may depend on its dtype (``recording.retyped``), or a user's code may."""
        if len({dtype for dtype, _ in key}) != 1:
            return None
        shapes = [shape for _, shape in key]
        for other, recorded in self._recordings.items():
            if [shape for _, shape in other] == shapes:
                return retyped(recorded, key[0][0])
        return None

    def _read(self, outputs: tuple[Any, ...]) -> AutogradRun:
        z, loss, grads = outputs[0], outputs[1], outputs[2:]
        return AutogradRun(
            z=tuple(z.tolist()),
            loss=float(loss),
            grads=tuple(None if g is None else float(g.sum()) for g in grads),
        )


def widen(tensors: list[Any], dtype: str) -> list[Any]:
    """The same tensors in a wider ``dtype`` (exactly: float32 values are float64 values)."""
    import torch

    wide = getattr(torch, dtype)
    return [t.detach().to(wide).requires_grad_(t.requires_grad) for t in tensors]


def nan_source(tree: ast.expr, names: tuple[str, ...], tensors: list[Any], n_params: int) -> str:
    """The innermost sub-expression of the model whose value or backward is not finite."""
    import torch

    env: dict[str, Any] = dict(zip(names, tensors, strict=True))
    env["__dtype__"] = tensors[0].dtype
    params = tensors[len(tensors) - n_params :]
    nodes = [n for n in ast.walk(tree) if isinstance(n, ast.Call | ast.BinOp | ast.UnaryOp)]
    nodes.reverse()  # breadth-first reversed: every node comes after all deeper ones
    values = [lower(Expr(ast.unparse(n), n, ()))(env) for n in nodes]
    for node, value in zip(nodes, values, strict=True):
        if isinstance(value, torch.Tensor) and not bool(torch.isfinite(value).all()):
            return f"'{ast.unparse(node)}' is {value.tolist()} in the forward pass"
    for node, value in zip(nodes, values, strict=True):
        if isinstance(value, torch.Tensor) and value.requires_grad:
            grads = torch.autograd.grad(value.sum(), params, allow_unused=True)
            if any(g is not None and not bool(torch.isfinite(g).all()) for g in grads):
                return f"the backward of '{ast.unparse(node)}' is not finite"
    return "the model's forward and backward are finite: the NaN comes from the loss"
