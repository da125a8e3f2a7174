"""Value checks for case-file keys: one ``Key`` rule per key, converters, messages.

Standard library only. ``convert`` returns the checked value in CaseSpec form (tuples,
floats) or raises ``BadValue`` with a message that names the key.
"""

from __future__ import annotations

import difflib
import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_SEEDS", "BadValue", "Key", "convert", "kind_of", "parse_seed_range", "suggest"]

MAX_SEEDS = 100_000


@dataclass(frozen=True)
class Key:
    """One allowed key: its kind, the CaseSpec default, and its constraints."""

    kind: str  # "str" | "int" | "number" | "bool" | "names" | "table" | "seeds"
    default: Any = None
    low: float | None = None  # inclusive lower bound
    above: float | None = None  # exclusive lower bound
    choices: tuple[str, ...] = ()
    in_defaults: bool = True  # may appear in [defaults] / caller defaults


class BadValue(Exception):
    """One invalid value; the message names the key."""


_RANGE = re.compile(r"^\s*(\S+?)\s*\.\.\s*(\S+?)\s*$")
_INTEGER = re.compile(r"[+-]?[0-9]+")


def parse_seed_range(text: str) -> range:
    """Parse an inclusive ``"A..B"`` range of non-negative seeds; raise ValueError if bad."""
    match = _RANGE.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"invalid seed range {text!r}: expected 'A..B', e.g. '1..100'")
    if not all(_INTEGER.fullmatch(part) for part in match.groups()):
        raise ValueError(f"invalid seed range {text!r}: A and B must be integers")
    start, stop = (int(part) for part in match.groups())
    if start < 0:
        raise ValueError(f"invalid seed range {text!r}: seeds must be >= 0")
    if start > stop:
        raise ValueError(f"invalid seed range {text!r}: start {start} is greater than end {stop}")
    if stop - start + 1 > MAX_SEEDS:
        raise ValueError(
            f"invalid seed range {text!r}: {stop - start + 1} seeds (at most {MAX_SEEDS})"
        )
    return range(start, stop + 1)


def convert(key: str, rule: Key, value: Any) -> Any:
    """Check ``value`` against ``rule``; return it converted (tuples, floats) or raise BadValue."""
    kind = rule.kind
    if kind == "seeds":
        return _convert_seeds(key, value)
    if kind == "names":
        if not isinstance(value, list | tuple) or not all(_is_name(v) for v in value):
            raise BadValue(
                f"key {key!r} must be an array of names (identifiers), got {_show(value)}"
            )
        return tuple(value)
    if kind == "table":
        return _convert_table(key, value)
    if kind == "str" and not (isinstance(value, str) and value.strip()):
        raise BadValue(f"key {key!r} must be a non-empty string, got {_show(value)}")
    if kind == "bool" and not isinstance(value, bool):
        raise BadValue(f"key {key!r} must be a boolean (true/false), got {_show(value)}")
    if kind == "int" and not _is_int(value):
        raise BadValue(f"key {key!r} must be an integer{_bounds(rule)}, got {_show(value)}")
    if kind == "number":
        if not _is_number(value):
            raise BadValue(
                f"key {key!r} must be a finite number{_bounds(rule)}, got {_show(value)}"
            )
        value = float(value)
    if rule.choices and value not in rule.choices:
        options = ", ".join(repr(c) for c in rule.choices)
        raise BadValue(
            f"key {key!r} must be one of {options}, got {_show(value)}"
            f"{suggest(value, rule.choices)}"
        )
    too_low = (rule.low is not None and value < rule.low) or (
        rule.above is not None and value <= rule.above
    )
    if too_low:
        raise BadValue(f"key {key!r} is out of range: must be{_bounds(rule)}, got {_show(value)}")
    return value


def _convert_seeds(key: str, value: Any) -> tuple[int, ...]:
    if isinstance(value, range):
        value = list(value)
    if isinstance(value, str):
        try:
            return tuple(parse_seed_range(value))
        except ValueError as exc:
            raise BadValue(f"key {key!r}: {exc}") from None
    if not isinstance(value, list | tuple) or not value or not all(_is_int(v) for v in value):
        raise BadValue(
            f"key {key!r} must be a non-empty array of integers or an 'A..B' range "
            f"string, got {_show(value)}"
        )
    if any(v < 0 for v in value):
        raise BadValue(f"key {key!r} is out of range: seeds must be >= 0, got {_show(value)}")
    if len(value) > MAX_SEEDS:
        raise BadValue(f"key {key!r} has {len(value)} seeds (at most {MAX_SEEDS})")
    repeated = sorted(seed for seed, count in Counter(value).items() if count > 1)
    if repeated:
        raise BadValue(f"key {key!r} repeats seeds {repeated[:10]}")
    return tuple(value)


def _convert_table(key: str, value: Any) -> tuple[tuple[str, float], ...]:
    if not isinstance(value, Mapping):
        raise BadValue(f"key {key!r} must be a table of name = number, got {_show(value)}")
    bad = [f"{k} = {_show(v)}" for k, v in value.items() if not (_is_name(k) and _is_number(v))]
    if bad:
        raise BadValue(
            f"key {key!r} must map names to finite numbers; bad entries: " + ", ".join(bad)
        )
    return tuple(sorted((k, float(v)) for k, v in value.items()))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_name(value: Any) -> bool:
    return isinstance(value, str) and value.isidentifier()


def _bounds(rule: Key) -> str:
    if rule.above is not None:
        return f" > {rule.above:g}"
    return f" >= {rule.low:g}" if rule.low is not None else ""


def kind_of(value: Any) -> str:
    names = {
        bool: "boolean",
        int: "integer",
        float: "float",
        str: "string",
        list: "array",
        tuple: "array",
        dict: "table",
    }
    return names.get(
        type(value), "date/time" if hasattr(value, "isoformat") else type(value).__name__
    )


def _show(value: Any) -> str:
    text = str(value).lower() if isinstance(value, bool) else repr(value)
    return f"{kind_of(value)} {text if len(text) <= 40 else text[:37] + '...'}"


def suggest(word: Any, candidates: Any) -> str:
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, list(candidates), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
