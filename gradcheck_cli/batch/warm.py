"""Imported by the forkserver before it forks batch workers (``pool.py``), and by a batch run
in its own process, so every worker starts warm: every module a check uses is imported, and a
model is prepared once, its SymPy gradients and their program included (a check builds them
only when it needs them), which does SymPy's first-call work (its first derivative imports
sympy.sets, sympy.tensor and sympy.combinatorics). No torch operation runs here: torch's thread
pools do not survive a fork, which is why workers fork from this server in the first place.

The imports run without the cyclic garbage collector: its passes over the objects torch and
SymPy build as they import found nothing to free and cost a sixth of the import time. What
they built is then frozen (``gc.freeze``): out of every later collection, which would otherwise
walk those hundreds of thousands of objects again while the cases run.
"""

from __future__ import annotations

import gc

gc.disable()
try:
    import torch  # noqa: F401

    from gradcheck_cli import gradients, recording, torch_side, verdict  # noqa: F401
    from gradcheck_cli.exact import evaluate, kinks, typed  # noqa: F401
    from gradcheck_cli.options import Options
    from gradcheck_cli.pipeline import prepare
    from gradcheck_cli.rounding import bounds, hand, trace  # noqa: F401

    _ = prepare("relu(v*tanh(w*x + b) + c)", Options()).sympy_program  # SymPy's side too
finally:
    gc.freeze()
    gc.enable()
