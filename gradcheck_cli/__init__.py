"""gradcheck: verify autograd gradients against exact symbolic differentiation.

``check`` and ``check_file`` are imported on first use, so ``import gradcheck_cli`` stays
light (no torch, SymPy or rich).
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["check", "check_file", "run_cases"]

_LAZY = {"check": "pipeline", "check_file": "batch.runner", "run_cases": "batch.runner"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """The ``gradcheck`` command. Its script imports only this package: a batch worker that
    runs the script again (as multiprocessing does with a main script) loads no command
    line (typer) for nothing."""
    from gradcheck_cli.cli import main as command

    command()
