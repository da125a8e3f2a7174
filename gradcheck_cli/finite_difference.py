"""The finite-difference column (``--fd``): what ``torch.autograd.gradcheck`` would conclude.

gradcheck's slow mode (torch/autograd/gradcheck.py, ``_compute_numerical_gradient``) perturbs
each input entry in float64, ``outa = f(p - eps)``, ``outb = f(p + eps)``, and takes the central
difference ``(outb - outa) / (2 * eps)``; it then compares autograd's float64 gradient ``a`` with
that number ``n`` by ``_allclose_with_type_promotion(a, n, rtol, atol)``, that is
``torch.allclose(a, n, rtol, atol)``: ``|a - n| <= atol + rtol * |n|``. The defaults are
``eps = 1e-6``, ``atol = 1e-5``, ``rtol = 1e-3``; this module uses them, on the check's own loss
function (the user's lowerings included) at its own point, widened exactly to float64.

An unused parameter has autograd gradient ``None``: gradcheck's analytical Jacobian is zero
there, and so is ``a`` here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gradcheck_cli.outcomes import FiniteDifference

EPS = 1e-6  # torch.autograd.gradcheck's defaults
ATOL = 1e-5
RTOL = 1e-3


def central_differences(forward: Callable[..., Any], tensors: list[Any], n_params: int) -> list:
    """``(f(p + eps) - f(p - eps)) / (2 * eps)`` in float64 for each parameter (the last
    ``n_params`` tensors, one entry each), ``f`` the loss of ``forward``; torch's order of
    operations (``orig - v``, ``orig + v`` as float64 tensors)."""
    import torch

    wide = [t.detach().to(torch.float64) for t in tensors]
    values = []
    with torch.no_grad():
        for k in range(len(wide) - n_params, len(wide)):
            orig = wide[k].clone()
            step = torch.full_like(orig, EPS)
            wide[k] = orig - step
            outa = forward(*wide)[1]
            wide[k] = orig + step
            outb = forward(*wide)[1]
            wide[k] = orig
            values.append(float(((outb - outa) / (2 * EPS)).reshape(-1)[0]))
    return values


def would_pass(analytical: float | None, numerical: float) -> bool:
    """gradcheck's comparison, by torch itself: ``torch.allclose(a, n, RTOL, ATOL)``."""
    import torch

    a = torch.tensor(0.0 if analytical is None else analytical, dtype=torch.float64)
    n = torch.tensor(numerical, dtype=torch.float64)
    return bool(torch.allclose(a, n, RTOL, ATOL))


def column(value: float, exact: Any, analytical: float | None) -> FiniteDifference:
    """One gradient's finite difference judged both ways: against the exact value
    (``abs_error``) and as gradcheck would (against autograd's float64 gradient)."""
    import mpmath

    error = float(abs(mpmath.mpf(value) - exact)) if exact is not None else float("nan")
    return FiniteDifference(
        value, EPS, error, analytical, ATOL, RTOL, would_pass(analytical, value)
    )
