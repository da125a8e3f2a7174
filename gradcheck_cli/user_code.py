"""The user's own torch code, named as ``MODULE:ATTR``: found, imported and checked here.

``MODULE`` is a dotted module importable from the base directory (the current directory on the
command line, a case file's directory in a batch) or a path to a ``.py`` file; ``ATTR`` a
dotted attribute path in it (``MyExp.apply``). Importing runs the user's module: that is the
point (it is their code under test), and it happens only for names the user gave.
Every problem is a ``UserCodeError`` naming the reference and what is wrong, in one line.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from gradcheck_cli.errors import UserCodeError
from gradcheck_cli.values import closest


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'tanh'?)`` for the closest known name (``values.closest``), or nothing."""
    close = closest(name, list(known))
    return f" (did you mean '{close}'?)" if close else ""


def split_reference(reference: str) -> tuple[str, str]:
    """``MODULE:ATTR`` -> (module, attribute path); the module may be a path with a drive or
    slashes, so the split is at the last colon."""
    module, colon, attr = reference.rpartition(":")
    if not colon or not module.strip() or not attr.strip():
        raise UserCodeError(f"'{reference}' is not MODULE:ATTR (e.g. mykernels:MyExp.apply)")
    if not all(part.isidentifier() for part in attr.split(".")):
        raise UserCodeError(f"'{reference}': '{attr}' is not a dotted attribute name")
    return module.strip(), attr.strip()


def load(reference: str, base: Path | None = None) -> Callable[..., Any]:
    """The callable ``reference`` names (``MODULE:ATTR``), imported relative to ``base``."""
    module_name, attr = split_reference(reference)
    module = _import(module_name, reference, base or Path.cwd())
    target: Any = module
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            names = [n for n in dir(target) if not n.startswith("_")]
            raise UserCodeError(
                f"'{reference}': {module_name} has no attribute '{part}'"
                + did_you_mean(part, names)
            ) from None
    if not callable(target):
        raise UserCodeError(f"'{reference}' is a {type(target).__name__}, not a callable")
    return target


def _import(name: str, reference: str, base: Path) -> Any:
    path = Path(name) if name.endswith(".py") else None
    try:
        if path is not None:
            return _import_file(path if path.is_absolute() else base / path, reference)
        if not all(part.isidentifier() for part in name.split(".")):
            raise UserCodeError(f"'{reference}': '{name}' is neither a module name nor a .py file")
        sys.path.insert(0, str(base))
        try:
            return importlib.import_module(name)
        finally:
            sys.path.remove(str(base))
    except UserCodeError:
        raise
    except ModuleNotFoundError as exc:
        raise UserCodeError(f"'{reference}': cannot import {exc.name or name} ({exc})") from None
    except Exception as exc:  # the user's module itself failed while importing
        raise UserCodeError(
            f"'{reference}': importing {name} failed: {type(exc).__name__}: {exc}"
        ) from None


def _import_file(path: Path, reference: str) -> Any:
    if not path.is_file():
        raise UserCodeError(f"'{reference}': no such file {path}")
    module_name = f"gradcheck_user_{abs(hash(str(path.resolve())))}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise UserCodeError(f"'{reference}': cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module
