"""What produced a result: the versions of gradcheck, torch and SymPy (in every JSON report)."""

from __future__ import annotations

import sys
from functools import cache


@cache
def versions() -> dict[str, str | None]:
    """The versions of gradcheck, torch and sympy: the modules' own when imported (they are,
    once a check ran), else the installed distributions' (None if not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    from gradcheck_cli import __version__

    found: dict[str, str | None] = {"gradcheck": __version__}
    for name in ("torch", "sympy"):
        module = sys.modules.get(name)
        try:
            found[name] = module.__version__ if module else version(name)
        except PackageNotFoundError:
            found[name] = None
    return found
