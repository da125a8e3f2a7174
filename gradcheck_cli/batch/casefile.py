"""Read and validate case files (TOML or plain text) into frozen ``CaseSpec`` records.

Standard library only. Every problem in a file is collected and reported at once through
one ``CaseFileError`` whose messages look like ``cases.toml:12: case 'sweep': ...``.

Layering (lowest first): the caller's ``defaults`` mapping (CLI options), the file's
``[defaults]`` table, then the ``[[case]]`` table. A layer that sets ``seed`` or ``seeds``
replaces both keys from the layers below it.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Mapping
from typing import Any

from gradcheck_cli.batch.lines import Block, Layout, scan_layout
from gradcheck_cli.batch.source import MAX_FILE_BYTES, read_text
from gradcheck_cli.errors import BadValue, CaseFileError
from gradcheck_cli.options import MAX_CHECKS, OPTIONS, Option
from gradcheck_cli.values import MAX_SEEDS, convert, kind_of, parse_seed_range, suggest

__all__ = [
    "KEYS",
    "MAX_CHECKS",
    "MAX_FILE_BYTES",
    "MAX_NESTING",
    "MAX_SEEDS",
    "CaseFileError",
    "CaseSpec",
    "load_cases",
    "parse_seed_range",
    "read_text",
]

MAX_NESTING = 32  # arrays and tables inside each other in a TOML case file

# The allowed keys: every option of the one table in gradcheck_cli.options.
KEYS: dict[str, Option] = {k: o for k, o in OPTIONS.items() if o.key}

_PY_TYPES = {
    "str": str,
    "int": int,
    "number": float,
    "bool": bool,
    "names": tuple[str, ...],
    "table": tuple[tuple[str, float], ...],
    "hand": tuple[tuple[str, float | str], ...],
    "refs": tuple[tuple[str, str], ...],
    "strings": tuple[str, ...],
}
_FIELD_KEYS = {k: v for k, v in KEYS.items() if v.kind != "seeds"}

CaseSpec = dataclasses.make_dataclass(
    "CaseSpec",
    [("source", str), ("line", int)]
    + [
        (k, _PY_TYPES[v.kind] | None, dataclasses.field(default=v.default))
        for k, v in _FIELD_KEYS.items()
    ],
    frozen=True,
    kw_only=True,
)
CaseSpec.__module__ = __name__  # make_dataclass(module=...) needs Python 3.12
CaseSpec.__doc__ = (
    "One concrete check: a case for one seed. Fields: source, line and one per entry of "
    "KEYS except 'seeds'. 'at'/'expect' are tuples of (name, float) sorted by name ('expect' "
    "keeps a number given as text); 'inputs'/'params' are tuples of str; None or () means "
    "'not given'."
)


class _Report:
    """Collects (line, message) pairs; formats them as ``source:line: where: message``."""

    def __init__(self, source: str, max_checks: int | None = None, before: int = 0) -> None:
        self.source = source
        self.items: list[tuple[int, str]] = []
        self.max_checks = MAX_CHECKS if max_checks is None else max_checks
        self.left = self.max_checks - before  # checks still allowed

    def add(self, line: int | None, where: str, message: str) -> None:
        head = None if line is None else f"{self.source}:{line}"  # None: the caller's options
        self.items.append((line or 0, ": ".join(p for p in (head, where, message) if p)))

    def raise_if_any(self) -> None:
        if self.items:
            raise CaseFileError([msg for _, msg in sorted(self.items, key=lambda i: i[0])])


def load_cases(
    path: str,
    text: str | None = None,
    defaults: Mapping[str, Any] | None = None,
    *,
    fmt: str | None = None,
    max_checks: int | None = None,
    checks_before: int = 0,
) -> list[CaseSpec]:
    """Load cases from ``path`` (``"-"`` = stdin; pass its ``text`` to avoid reading).

    ``fmt`` is ``"toml"`` or ``"text"``; by default TOML iff the path ends in ``.toml``.
    ``defaults`` (e.g. CLI options; ``None`` values ignored) lie under the file's values.
    At most ``max_checks`` checks (cases x seeds; default ``MAX_CHECKS``) are made, less
    ``checks_before`` (those of the files before this one in the same run).
    Raises CaseFileError listing every problem found.
    """
    if fmt not in (None, "toml", "text"):
        raise ValueError(f"fmt must be 'toml', 'text' or None, got {fmt!r}")
    source = "<stdin>" if path == "-" else str(path)
    if text is None:
        text = read_text(path)
    report = _Report(source, max_checks, checks_before)
    base = _check_table(dict(defaults or {}), Block(0), "", report, options=True)
    is_toml = fmt == "toml" if fmt is not None else str(path).endswith(".toml")
    specs = _load_toml(text, base, report) if is_toml else _load_text(text, base, report)
    if not report.items and not specs:
        report.add(1, "", "no cases found")
    _check_unique(specs, report)
    report.raise_if_any()
    return specs


def _load_text(text: str, base: dict[str, Any], report: _Report) -> list[CaseSpec]:
    specs: list[CaseSpec] = []
    for number, raw in enumerate(text.split("\n"), 1):
        model = raw.split("#", 1)[0].strip()
        if model:
            specs.extend(_expand(_merge(base, {"model": model}), f"line {number}", report, number))
    return specs


_SYNTAX_POS = re.compile(r"\s*\(at line (\d+), column (\d+)\)$|\s*\(at end of document\)$")


def _load_toml(text: str, base: dict[str, Any], report: _Report) -> list[CaseSpec]:
    try:
        data = tomllib.loads(text)
        if _depth(data) > MAX_NESTING:
            raise RecursionError
    except RecursionError:
        report.add(1, "", f"TOML nested too deeply (more than {MAX_NESTING} levels)")
        return []
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _SYNTAX_POS.search(message)
        line = int(match.group(1)) if match and match.group(1) else len(text.split("\n"))
        column = f" (column {match.group(2)})" if match and match.group(2) else ""
        detail = message[: match.start()] if match else message
        report.add(line, "", f"TOML syntax error: {detail}{column}")
        return []
    layout = scan_layout(text)
    _check_root(data, layout, report)
    raw_defaults = data.get("defaults", {})
    defaults = {}
    if isinstance(raw_defaults, dict):
        defaults = _check_table(
            raw_defaults, layout.defaults, "[defaults]", report, in_defaults=True
        )
    raw_cases = data.get("case", [])
    if not isinstance(raw_cases, list) or not all(isinstance(c, dict) for c in raw_cases):
        return []
    blocks = layout.cases
    if len(blocks) != len(raw_cases):  # e.g. ``case = [{...}]``: fall back to its line
        blocks = [Block(layout.root.get("case", 1))] * len(raw_cases)
    specs: list[CaseSpec] = []
    for index, (raw, block) in enumerate(zip(raw_cases, blocks, strict=True), 1):
        specs.extend(_load_case(index, raw, block, _merge(base, defaults), report))
    return specs


def _check_root(data: dict[str, Any], layout: Layout, report: _Report) -> None:
    for key, value in data.items():
        line = layout.root.get(key, 1)
        if key not in ("defaults", "case"):
            hint = suggest(key, ["defaults", "case"])
            report.add(line, "", f"unknown top-level key {key!r}{hint}")
        elif key == "defaults" and not isinstance(value, dict):
            report.add(line, "", f"'defaults' must be a table ([defaults]), got {kind_of(value)}")
        elif key == "case" and not (
            isinstance(value, list) and all(isinstance(c, dict) for c in value)
        ):
            report.add(
                line, "", f"'case' must be an array of tables ([[case]]), got {kind_of(value)}"
            )


def _load_case(
    index: int, raw: dict[str, Any], block: Block, under: dict[str, Any], report: _Report
) -> list[CaseSpec]:
    name = raw.get("name")
    label = f"case {name!r}" if isinstance(name, str) and name.strip() else f"case {index}"
    values = _check_table(raw, block, label, report)
    if "model" not in raw:
        report.add(block.line, label, "missing required key 'model'")
        return []
    if "model" not in values:
        return []
    merged = _merge(under, values)
    return _expand(merged, values.get("name", f"case {index}"), report, block.line)


def _check_table(
    raw: dict[str, Any],
    block: Block,
    where: str,
    report: _Report,
    *,
    in_defaults: bool = False,
    options: bool = False,
) -> dict[str, Any]:
    """Validate one table; return the valid, converted values (invalid ones are reported).

    ``in_defaults``: a defaults layer (no name/model). ``options``: the caller's mapping
    (no file lines; ``None`` values skipped).
    """
    in_defaults = in_defaults or options
    allowed = [k for k, rule in KEYS.items() if rule.in_defaults or not in_defaults]
    line_of = (lambda key: None) if options else block.key_line  # noqa: E731
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if options and value is None:
            continue
        if key not in KEYS:
            report.add(line_of(key), where, f"unknown key {key!r}{suggest(key, allowed)}")
        elif key not in allowed:
            report.add(line_of(key), where, f"key {key!r} is not allowed in defaults")
        else:
            try:
                values[key] = convert(KEYS[key], value)
            except BadValue as exc:
                report.add(line_of(key), where, str(exc))
    if "seed" in raw and "seeds" in raw and raw["seed"] is not None and raw["seeds"] is not None:
        later = max(("seed", "seeds"), key=lambda k: line_of(k) or 0)
        report.add(line_of(later), where, "keys 'seed' and 'seeds' are mutually exclusive")
    return values


def _merge(*layers: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for layer in layers:
        if "seed" in layer or "seeds" in layer:
            merged.pop("seed", None)
            merged.pop("seeds", None)
        merged.update(layer)
    return merged


def _depth(data: Any) -> int:
    """How deeply arrays and tables nest in ``data`` (iteratively: no recursion limit)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, level = stack.pop()
        deepest = max(deepest, level)
        if level <= MAX_NESTING:
            children = value.values() if isinstance(value, dict) else value
            stack.extend((c, level + 1) for c in children if isinstance(c, dict | list))
    return deepest


def _expand(values: dict[str, Any], name: str, report: _Report, line: int) -> list[CaseSpec]:
    fields = {k: v for k, v in values.items() if k in _FIELD_KEYS}
    fields.update(source=report.source, line=line)
    count = len(values["seeds"]) if "seeds" in values else 1
    if count > report.left:
        if report.left >= 0:
            report.add(
                line,
                f"case {name!r}",
                f"more than {report.max_checks} checks (cases x seeds) in one run; "
                "raise --max-checks or split the run",
            )
        report.left = -1
        return []
    report.left -= count
    if "seeds" not in values:
        return [CaseSpec(**{**fields, "name": name})]
    return [
        CaseSpec(**{**fields, "name": f"{name}[seed={seed}]", "seed": seed})
        for seed in values["seeds"]
    ]


def _check_unique(specs: list[CaseSpec], report: _Report) -> None:
    first: dict[str, int] = {}
    for spec in specs:
        if spec.name in first and first[spec.name] != spec.line:
            report.add(
                spec.line,
                f"case {spec.name!r}",
                f"duplicate case name (first used at line {first[spec.name]})",
            )
        first.setdefault(spec.name, spec.line)
