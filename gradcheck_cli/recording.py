"""What torch runs, recorded: the aten ops of autograd's forward and backward, and replayed.

A plain autograd forward and ``torch.autograd.grad`` run under a ``TorchDispatchMode`` that
notes every aten op the dispatcher sees below autograd: the op, its arguments (a recorded
tensor as a ``Slot``, anything else as given) and the shape and dtype of what it returned.
These are the ops whose rounding ``rounding.trace`` bounds, the ops ``make_fx`` would put in
a graph, recorded without a compiler: nothing here imports ``torch._dynamo`` or inductor
(the mode opts out of torch's wrapping of ``__torch_dispatch__`` in ``torch._dynamo.disable``).

A recording is replayed at other inputs of the same shapes and dtypes (``replay``): the same
kernels in the same order, so a seed sweep pays one recording and then plain kernel calls.
A recording without dtype-carrying content is also the recording at a wider dtype once its
metas say so (``retyped``): the precision ladder's float64 rung replays the float32 run's.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple

_ACTIVE: list[Any] = []  # recorders running now (``unrecorded`` pauses them)


class Slot(NamedTuple):
    """A recorded value: the index of the node that made it."""

    index: int


class Meta(NamedTuple):
    """Shape and dtype of a recorded tensor."""

    shape: tuple[int, ...]
    dtype: Any

    def numel(self) -> int:
        count = 1
        for size in self.shape:
            count *= size
        return count

    def dim(self) -> int:
        return len(self.shape)


class Node(NamedTuple):
    """One recorded step: ``placeholder`` (an input), ``constant`` (a tensor made outside the
    recording, its value in ``value``), ``call_function`` (``target`` applied to ``args``),
    ``output`` (``args[0]``: the slots returned, None where a gradient is missing)."""

    name: str
    op: str
    target: Any = None
    args: tuple[Any, ...] = ()
    kwargs: Any = None
    meta: Meta | None = None
    value: Any = None
    origin: str = ""  # the model's sub-expression it computes, or its backward ('' unknown)


@dataclass(frozen=True)
class Recorded:
    """The ops of ``fn``'s outputs followed by the gradients of its last output.

    Replaying it (``replay``) is running autograd: the same kernels in the same order, so its
    values are autograd's, and the ops the rounding analysis bounds are the ones run.
    """

    nodes: tuple[Node, ...]
    n_values: int  # outputs of fn; the len(wrt) gradients follow
    wrt: tuple[int, ...]


def record(fn: Callable[..., Any], inputs: list[Any], wrt: list[int]) -> tuple[Recorded, tuple]:
    """Run ``fn`` (returning a tensor or a tuple whose last item is differentiated) and the
    gradients of its last output in ``wrt`` under autograd, recording every aten op. Returns
    the recording and the run's outputs: fn's values, then the gradients (None if unused)."""
    import torch

    args = [t.detach().clone().requires_grad_(i in wrt) for i, t in enumerate(inputs)]
    recorder = _recorder_class()(args)
    with recorder:
        out = fn(*args)
        values = out if isinstance(out, tuple) else (out,)
        if values[-1].requires_grad:
            grads = torch.autograd.grad(values[-1], [args[i] for i in wrt], allow_unused=True)
        else:  # nothing depends on the parameters
            grads = (None,) * len(wrt)
    returned = (*values, *grads)
    output = Node("output", "output", args=(tuple(recorder.find(v) for v in returned),))
    recorded = Recorded((*recorder.nodes, output), len(values), tuple(wrt))
    return recorded, tuple(None if v is None else v.detach() for v in returned)


def replay(recorded: Recorded, inputs: list[Any]) -> tuple[Any, ...]:
    """The recorded ops run at ``inputs``: fn's values, then the gradients (None if unused)."""
    import torch

    env: list[Any] = []
    feed = iter(inputs)
    with torch.no_grad():
        for node in recorded.nodes:
            if node.op == "call_function":
                args = [env[a[0]] if type(a) is Slot else _resolve(a, env) for a in node.args]
                if node.kwargs:
                    kwargs = {k: _resolve(v, env) for k, v in node.kwargs.items()}
                    env.append(node.target(*args, **kwargs))
                else:
                    env.append(node.target(*args))
            elif node.op == "placeholder":
                env.append(next(feed).detach())
            elif node.op == "constant":
                env.append(node.value.clone())  # a copy: an in-place op must not change it
            else:
                return tuple(None if s is None else env[s.index] for s in node.args[0])
    raise ValueError("recording without output")


def retyped(recorded: Recorded, dtype: Any) -> Recorded | None:
    """The recording ``record`` makes at the same inputs widened to the floating ``dtype``, or
    None where the recording may depend on its dtype.

    Autograd runs the same aten ops at float32 and float64 unless something carries the
    dtype: a tensor made outside (a constant, its value in the old dtype), a dtype argument
    (``_to_copy``, ``full``, ``zeros``), or a floating value of another dtype (an op that
    computes in a wider type). Without those, the ops, arguments and origins are the same and
    only the dtype of the metas changes; ``tests/test_retyped.py`` checks this node for node
    against a recording made in ``dtype`` over the catalog.
    """
    first = recorded.nodes[0].meta
    source = None if first is None else first.dtype
    if source is None or not source.is_floating_point or not dtype.is_floating_point:
        return None
    metas: dict[tuple[int, ...], Meta] = {}
    nodes = []
    for node in recorded.nodes:
        if node.op == "constant" or (
            node.op == "call_function" and _carries_dtype((node.args, *node.kwargs.values()))
        ):
            return None
        meta = node.meta
        if meta is not None and meta.dtype == source:
            meta = metas.get(meta.shape) or metas.setdefault(meta.shape, Meta(meta.shape, dtype))
            node = Node(*node[:5], meta, *node[6:])  # the meta is field 5 (``_replace`` is slow)
        elif meta is not None and (meta.dtype.is_floating_point or meta.dtype.is_complex):
            return None  # an op of another floating dtype
        nodes.append(node)
    return Recorded(tuple(nodes), recorded.n_values, recorded.wrt)


def _carries_dtype(arg: Any) -> bool:
    """Whether an argument may hold a dtype: anything but a slot, a plain number, a string,
    None, a device, a layout or a memory format (and lists of those)."""
    kind = type(arg)
    if kind in _PLAIN:
        return False
    if kind is tuple or kind is list:
        return not _PLAIN.issuperset(map(type, arg)) and any(map(_carries_dtype, arg))
    return kind.__name__ not in _DTYPE_FREE


_PLAIN = frozenset((Slot, bool, int, float, str, type(None)))
_DTYPE_FREE = ("layout", "memory_format", "device")  # torch's enums an op may be given


@contextmanager
def unrecorded() -> Iterator[None]:
    """Tensor operations in this context are run but not recorded (a value read on the side,
    such as a check of the loss's input)."""
    paused = [r for r in _ACTIVE if not r.paused]
    for r in paused:
        r.paused = True
    try:
        yield
    finally:
        for r in paused:
            r.paused = False


def _resolve(arg: Any, env: list[Any]) -> Any:
    if isinstance(arg, Slot):
        return env[arg.index]
    if isinstance(arg, list | tuple) and any(isinstance(a, Slot) for a in arg):
        return type(arg)(_resolve(a, env) for a in arg)
    return arg


_CLASS: list[type] = []


def _recorder_class() -> type:
    """The recording mode, defined on first use (its base class needs torch)."""
    if not _CLASS:
        _CLASS.append(_define_recorder())
    return _CLASS[0]


def _define_recorder() -> type:
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    from gradcheck_cli.lowering import ORIGIN_KEY, current_origin

    aliases = (torch.ops.aten.detach.default, torch.ops.aten.lift_fresh.default)
    tensor = torch.Tensor
    autograd_node = torch._C._current_autograd_node

    def origin() -> str:
        """The sub-expression an op belongs to: the lowering's current one in the forward
        pass, the autograd node's (tagged by the lowering) in the backward."""
        node = autograd_node()
        return current_origin() if node is None else node.metadata.get(ORIGIN_KEY, "")

    class Recorder(TorchDispatchMode):
        """Notes every op; a tensor is known by identity (all are kept alive while recording,
        so no identity is reused, and no other live object has a kept tensor's identity)."""

        @classmethod
        def _should_skip_dynamo(cls) -> bool:  # no torch._dynamo.disable wrapper: no import
            return False

        def __init__(self, inputs: list[Any]) -> None:
            super().__init__()
            self.nodes: list[Node] = []
            self.slots: dict[int, Slot] = {}  # id of a kept tensor -> its slot
            self.kept: list[Any] = []
            self.metas: dict[tuple[Any, Any], Meta] = {}  # one Meta per shape and dtype
            self.paused = False
            for t in inputs:
                self.add(Node(f"arg{len(self.nodes)}", "placeholder", meta=_meta(t)), t)

        def __enter__(self) -> Any:
            _ACTIVE.append(self)
            return super().__enter__()

        def __exit__(self, *exc: Any) -> None:
            _ACTIVE.remove(self)
            super().__exit__(*exc)

        def add(self, node: Node, value: Any = None) -> Slot:
            slot = Slot(len(self.nodes))
            self.nodes.append(node)
            if value is not None:
                self.slots[id(value)] = slot
                self.kept.append(value)
            return slot

        def meta(self, shape: Any, dtype: Any) -> Meta:
            meta = self.metas[shape, dtype] = Meta(tuple(shape), dtype)
            return meta

        def find(self, value: Any) -> Slot | None:
            return None if value is None else self.slots[id(value)]

        def ref(self, x: Any) -> Any:
            slot = self.slots.get(id(x))
            if slot is not None:
                return slot
            if isinstance(x, tensor):  # made outside the recording: its value is a constant
                value = x.detach().clone()
                node = Node(f"c{len(self.nodes)}", "constant", None, (), None, _meta(x), value)
                return self.add(node, x)
            if isinstance(x, list | tuple):
                return type(x)(self.ref(v) for v in x)
            return x

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
            if self.paused:
                return func(*args, **(kwargs or {}))
            slots = self.slots
            refs = tuple(map(slots.get, map(id, args)))  # all recorded tensors, usually
            if None in refs:
                refs = tuple(map(self.ref, args))
            krefs = {k: self.ref(v) for k, v in kwargs.items()} if kwargs else {}
            out = func(*args, **kwargs) if kwargs else func(*args)
            if func in aliases:  # a tensor autograd saves, a constant made: the same value
                slots[id(out)] = refs[0]
                self.kept.append(out)
                return out
            index = len(self.nodes)
            if isinstance(out, tensor):
                shape, dtype = out.shape, out.dtype
                meta = self.metas.get((shape, dtype)) or self.meta(shape, dtype)
                node = Node(f"op{index}", "call_function", func, refs, krefs, meta, None, origin())
                self.nodes.append(node)
                slots[id(out)] = Slot(index)
                self.kept.append(out)
            else:
                self.many(func, refs, krefs, out)
            return out

        def many(self, func: Any, refs: tuple[Any, ...], krefs: Any, out: Any) -> None:
            """An op returning several tensors (or none): each tensor is a getitem node."""
            name = f"op{len(self.nodes)}"
            slot = self.add(Node(name, "call_function", func, refs, krefs))
            for i, item in enumerate(out if isinstance(out, list | tuple) else ()):
                if isinstance(item, tensor):
                    getitem = (f"{name}_{i}", "call_function", operator.getitem, (slot, i))
                    self.add(Node(*getitem, {}, _meta(item)), item)

    return Recorder


def _meta(t: Any) -> Meta:
    return Meta(tuple(t.shape), t.dtype)
