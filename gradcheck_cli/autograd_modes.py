"""The torch side of forward mode and of second derivatives, recorded like reverse mode.

``ForwardAutograd``: forward-mode AD with ``torch.autograd.forward_ad`` dual numbers, one pass
per parameter (its tangent 1, every other tangent 0), each giving d loss / d parameter as the
tangent of the loss. ``row_function``: torch's double backward, row ``i`` of the Hessian as the
gradient of ``torch.autograd.grad(loss, params, create_graph=True)[i]``; run by
``torch_side.Autograd`` it is recorded, replayed and bounded like a gradient.

Both are recorded by ``recording.record`` (a ``TorchDispatchMode`` sees the ops that compute
the tangents and the double backward as it sees a backward), so ``rounding.trace`` bounds what
torch ran where it handles every op.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from gradcheck_cli.recording import Recorded, record, replay
from gradcheck_cli.torch_side import AutogradRun


def row_function(forward: Callable[..., Any], n_params: int, i: int) -> Callable[..., Any]:
    """A function of tensors returning (z, d loss / d param i), the gradient kept in the graph
    (``create_graph=True``) so that differentiating it again is torch's double backward."""

    def row(*tensors: Any) -> tuple[Any, Any]:
        import torch

        z, loss = forward(*tensors)
        params = tensors[len(tensors) - n_params :]
        if not loss.requires_grad:
            return z, torch.zeros_like(params[i])
        grads = torch.autograd.grad(loss, params, create_graph=True, allow_unused=True)
        return z, torch.zeros_like(params[i]) if grads[i] is None else grads[i]

    return row


def tangents(forward: Callable[..., Any], n_params: int) -> Callable[..., Any]:
    """A function of tensors returning (z, loss, then per parameter the tangent of the loss in
    that parameter's direction: None where the loss does not depend on it)."""

    def run(*tensors: Any) -> tuple[Any, ...]:
        import torch
        import torch.autograd.forward_ad as fwad

        z, loss = forward(*tensors)
        found = []
        for k in range(len(tensors) - n_params, len(tensors)):
            with fwad.dual_level(), warnings.catch_warnings():
                # make_dual's first call loads torch's jvp decompositions (torch.jit.script,
                # deprecated: a DeprecationWarning, once per process)
                warnings.simplefilter("ignore", DeprecationWarning)
                duals = list(tensors)
                duals[k] = fwad.make_dual(tensors[k], torch.ones_like(tensors[k]))
                found.append(fwad.unpack_dual(forward(*duals)[1]).tangent)
        return (z.detach(), loss.detach(), *found)

    return run


class ForwardAutograd:
    """Forward mode for one prepared problem, with ``torch_side.Autograd``'s interface: recorded
    once per input shapes and dtypes, replayed at every other point (``cache=False``, with user
    implementations: recorded afresh at every point)."""

    def __init__(self, forward: Callable[..., Any], n_params: int, cache: bool = True) -> None:
        self.fn, self.n_params, self.cache = tangents(forward, n_params), n_params, cache
        self._recordings: dict[Any, Recorded] = {}

    def run(self, tensors: list[Any]) -> tuple[AutogradRun | None, Recorded | None, str]:
        """Forward mode's values at ``tensors`` and the ops that computed them; (None, None,
        why) where torch has no forward-mode rule for a function of the model."""
        key = tuple((t.dtype, tuple(t.shape)) for t in tensors)
        recorded = self._recordings.get(key)
        if recorded is not None:
            try:
                return _read(replay(recorded, tensors)), recorded, ""
            except RuntimeError:
                pass
        plain = [t.detach() for t in tensors]  # dual numbers, not requires_grad
        try:
            recorded, outputs = record(self.fn, plain, [])
        except (RuntimeError, NotImplementedError):
            return self._eager(plain)
        wrt = tuple(range(len(tensors) - self.n_params, len(tensors)))
        recorded = replace(recorded, n_values=2, wrt=wrt)  # the tangents are the "gradients"
        if self.cache:
            self._recordings[key] = recorded
        return _read(outputs), recorded, ""

    def _eager(self, tensors: list[Any]) -> tuple[AutogradRun | None, None, str]:
        try:
            outputs = self.fn(*tensors)
        except (RuntimeError, NotImplementedError) as exc:
            detail = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
            return None, None, f"no forward-mode rule: {detail}"
        return _read(outputs), None, "forward mode could not be recorded"


def _read(outputs: tuple[Any, ...]) -> AutogradRun:
    z, loss, grads = outputs[0], outputs[1], outputs[2:]
    return AutogradRun(
        z=tuple(z.tolist()),
        loss=float(loss),
        grads=tuple(None if g is None else float(g.sum()) for g in grads),
    )
