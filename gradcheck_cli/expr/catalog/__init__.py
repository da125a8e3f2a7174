"""The catalog of functions a model may call: one ``FunctionSpec`` entry per function.

An entry (``spec.py``) carries everything about its function: arity and numeric-constant
arguments with torch's defaults, doc, torch lowering, SymPy definition and derivative rules
(torch's conventions at switch points), the mpmath evaluator and whether it is an interval
extension, switch points, rounding cost, and the aten ops autograd emits for it. Entries live
in ``elementary.py``, ``transcendental.py`` and ``activations.py`` (the grammar, ``FUNCTIONS``)
and ``internal.py`` (functions only the losses build, ``INTERNAL``). This package imports neither
SymPy, mpmath nor torch; ``exact/functions.py`` builds the SymPy side from the entries.

Arguments after the first that are listed in ``constants`` (slopes, bounds, thresholds) must be
numbers: ``parse`` refuses a symbol there, naming the function and the argument.
"""

from __future__ import annotations

import math

from gradcheck_cli.expr.catalog import activations, elementary, internal, transcendental
from gradcheck_cli.expr.catalog.spec import FunctionSpec

__all__ = ["CONSTANTS", "FUNCTIONS", "INTERNAL", "FunctionSpec", "markdown_table"]

CONSTANTS: dict[str, float] = {"pi": math.pi, "E": math.e}

FUNCTIONS: dict[str, FunctionSpec] = {
    spec.name: spec for spec in [*elementary.ENTRIES, *transcendental.ENTRIES, *activations.ENTRIES]
}
INTERNAL: dict[str, FunctionSpec] = {spec.name: spec for spec in internal.ENTRIES}


def check_arity(name: str, count: int) -> str | None:
    """A message if ``name`` cannot take ``count`` arguments, else None."""
    spec = FUNCTIONS[name]
    if spec.min_args <= count <= spec.max_args:
        return None
    want = (
        str(spec.min_args)
        if spec.min_args == spec.max_args
        else (f"{spec.min_args} to {spec.max_args}")
    )
    return f"'{name}' takes {want} argument{'s' if want != '1' else ''}, got {count}"


def constant_argument(name: str, index: int) -> str | None:
    """The name of argument ``index`` (0-based) of ``name`` if it must be a number, else None."""
    constants = FUNCTIONS[name].constants
    if index == 0 or index > len(constants):
        return None
    return constants[index - 1]


def markdown_table() -> str:
    """The catalog as a markdown table (docs/functions.md is this text)."""
    lines = ["| name | arguments | torch | definition |", "|---|---|---|---|"]
    for spec in FUNCTIONS.values():
        arity = (
            str(spec.min_args)
            if spec.min_args == spec.max_args
            else (f"{spec.min_args}-{spec.max_args}")
        )
        if spec.constants:
            arity += f" ({', '.join(spec.constants)}: numbers)"
        lines.append(f"| `{spec.name}` | {arity} | `{spec.torch_name}` | {spec.doc} |")
    lines.append("| `pi`, `E` | constants | `math.pi`, `math.e` | exact pi and e in SymPy |")
    return "\n".join(lines) + "\n"
