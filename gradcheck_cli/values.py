"""Value checks for options and case-file keys: converters and their messages.

Standard library only. ``convert`` checks one value against its ``Option`` (the table in
``gradcheck_cli.options``) and returns it in the form ``Options`` and ``CaseSpec`` hold
(tuples, floats), or raises ``BadValue`` with one message that names the option. The same
message is printed for a single check and for a batch (where the case-file location leads).
"""

from __future__ import annotations

import difflib
import math
import re
from collections import Counter
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from gradcheck_cli.errors import BadValue

if TYPE_CHECKING:
    from gradcheck_cli.options import Option

__all__ = [
    "MAX_SEED",
    "MAX_SEEDS",
    "HAND_NAME",
    "BadValue",
    "closest",
    "convert",
    "generator_seeds",
    "kind_of",
    "parse_seed_range",
    "suggest",
]

MAX_SEEDS = 100_000
MAX_SEED = (2**64 - 1) // 10  # inputs are seeded with 10*seed: torch's manual_seed takes < 2**64
# The parameters of seed 0: by the tutorial's rule they would come from generator seed 0, the
# stream of its inputs (x == w, y == b). 2**64 - 1 is a stream no other seed draws from: above
# every parameter seed (at most MAX_SEED) and not a multiple of 10 as every input seed is.
SEED_0_PARAMETERS = 2**64 - 1

HAND_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\[[0-9]+\])?")  # w, loss, z, z[2]
_RANGE = re.compile(r"^\s*(\S+?)\s*\.\.\s*(\S+?)\s*$")
_INTEGER = re.compile(r"[+-]?[0-9]+")


def generator_seeds(seed: int) -> tuple[int, int]:
    """The generator seeds of a draw: (inputs and target, parameters). The tutorial's rule,
    ``(10*seed, seed)``, except that seed 0 takes its parameters from ``SEED_0_PARAMETERS``."""
    return 10 * seed, seed if seed else SEED_0_PARAMETERS


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
    if stop > MAX_SEED:
        raise ValueError(f"invalid seed range {text!r}: seeds must be at most {MAX_SEED}")
    if start > stop:
        raise ValueError(f"invalid seed range {text!r}: start {start} is greater than end {stop}")
    if stop - start + 1 > MAX_SEEDS:
        raise ValueError(
            f"invalid seed range {text!r}: {stop - start + 1} seeds (at most {MAX_SEEDS})"
        )
    return range(start, stop + 1)


def convert(option: Option, value: Any) -> Any:
    """Check ``value`` against ``option``; return it converted or raise BadValue."""
    name, kind = option.name, option.kind
    if kind == "seeds":
        return _convert_seeds(name, value)
    if kind == "names":
        if not isinstance(value, list | tuple) or not all(_is_name(v) for v in value):
            raise BadValue(f"{name} must be an array of names (identifiers), got {_show(value)}")
        return tuple(value)
    if kind in ("table", "hand"):
        return _convert_table(name, value, texts=kind == "hand")
    if kind == "refs":
        return _convert_refs(name, value)
    if kind == "strings":
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not all(_is_text(v) for v in value):
            raise BadValue(f"{name} must be an array of non-empty strings, got {_show(value)}")
        return tuple(v.strip() for v in value)
    if kind == "str" and not (isinstance(value, str) and value.strip()):
        raise BadValue(f"{name} must be a non-empty string, got {_show(value)}")
    if kind == "bool" and not isinstance(value, bool):
        raise BadValue(f"{name} must be a boolean (true/false), got {_show(value)}")
    if kind == "int" and not _is_int(value):
        raise BadValue(f"{name} must be an integer, got {_show(value)}")
    if kind == "number":
        if not _is_number(value):
            raise BadValue(f"{name} must be a finite number, got {_show(value)}")
        value = float(value)
    if option.choices and value not in option.choices:
        raise BadValue(
            f"unknown {name} {value!r} (supported: {', '.join(option.choices)})"
            f"{_suggest_choice(value, option.choices)}"
        )
    if _out_of_range(option, value):
        raise BadValue(f"{name} must be {_bounds(option)}, got {value!r}")
    return value


def _out_of_range(option: Option, value: Any) -> bool:
    return (
        (option.low is not None and value < option.low)
        or (option.above is not None and value <= option.above)
        or (option.high is not None and value > option.high)
    )


def _bounds(option: Option) -> str:
    if option.low is not None and option.high is not None:
        return f"between {_number(option.low)} and {_number(option.high)}"
    if option.above is not None:
        return f"> {_number(option.above)}"
    return f"{_number(option.low)} or more"


def _number(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


def _convert_seeds(name: str, value: Any) -> tuple[int, ...]:
    if isinstance(value, range):
        value = list(value)
    if isinstance(value, str):
        try:
            return tuple(parse_seed_range(value))
        except ValueError as exc:
            raise BadValue(str(exc)) from None
    if not isinstance(value, list | tuple) or not value or not all(_is_int(v) for v in value):
        raise BadValue(
            f"{name} must be a non-empty array of integers or an 'A..B' range "
            f"string, got {_show(value)}"
        )
    if any(v < 0 or v > MAX_SEED for v in value):
        raise BadValue(f"{name} must be between 0 and {MAX_SEED}, got {_show(value)}")
    if len(value) > MAX_SEEDS:
        raise BadValue(f"{name}: {len(value)} seeds (at most {MAX_SEEDS})")
    repeated = sorted(seed for seed, count in Counter(value).items() if count > 1)
    if repeated:
        raise BadValue(f"{name} repeats seeds {repeated[:10]}")
    return tuple(value)


def _convert_table(name: str, value: Any, texts: bool) -> tuple[tuple[str, Any], ...]:
    """A table of name = number: a mapping (sorted by name) or (name, number) pairs (in order).

    ``texts``: numbers may also be given as the text typed (hand values keep their decimals).
    """
    pairs = _pairs(value, sort=True)
    if pairs is None:
        raise BadValue(f"{name} must be a table of name = number, got {_show(value)}")
    ok = _is_text_number if texts else _is_number
    named = _is_hand_name if texts else _is_name
    bad = [f"{k} = {_show(v)}" for k, v in pairs if not (named(k) and ok(v))]
    if bad:
        raise BadValue(f"{name} must map names to finite numbers; bad entries: " + ", ".join(bad))
    return tuple((k, v if isinstance(v, str) else float(v)) for k, v in pairs)


def _pairs(value: Any, sort: bool) -> list[tuple[Any, Any]] | None:
    """A table as (key, value) pairs: a mapping (sorted by key if ``sort``) or pairs in order;
    None if it is neither."""
    if isinstance(value, Mapping):
        return sorted(value.items()) if sort else list(value.items())
    if isinstance(value, list | tuple) and all(
        isinstance(p, list | tuple) and len(p) == 2 for p in value
    ):
        return [tuple(p) for p in value]
    return None


def _convert_refs(name: str, value: Any) -> tuple[tuple[str, str], ...]:
    """A table of function name = "MODULE:ATTR" (a mapping, or (name, text) pairs)."""
    pairs = _pairs(value, sort=False)
    if pairs is None:
        raise BadValue(f'{name} must be a table of NAME = "MODULE:ATTR", got {_show(value)}')
    bad = [f"{k} = {_show(v)}" for k, v in pairs if not (_is_name(k) and _is_text(v))]
    if bad:
        raise BadValue(f'{name} must map names to "MODULE:ATTR"; bad entries: ' + ", ".join(bad))
    return tuple((k, v.strip()) for k, v in pairs)


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _is_text_number(value: Any) -> bool:
    """A finite number, or its text, whose float is finite (``'1e400'`` is out of range)."""
    if not isinstance(value, str):
        return _is_number(value)
    try:
        return Decimal(value).is_finite() and math.isfinite(float(value))
    except (InvalidOperation, ValueError):
        return False


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_name(value: Any) -> bool:
    return isinstance(value, str) and value.isidentifier()


def _is_hand_name(value: Any) -> bool:
    """A name, or a name with a sample index: ``z[2]`` (the model's output at sample 2)."""
    return isinstance(value, str) and HAND_NAME.fullmatch(value) is not None


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


def _suggest_choice(word: str, choices: tuple[str, ...]) -> str:
    """A suggestion for a misspelt choice, not for another number: 'flaot32' gets 'float32',
    'float16' (a real dtype gradcheck does not support) gets no 'float64'."""
    hint = suggest(word, choices)
    letters = re.sub(r"[0-9]", "", word)
    return "" if any(re.sub(r"[0-9]", "", c) == letters for c in choices) else hint


def suggest(word: Any, candidates: Any) -> str:
    """`` (did you mean 'tanh'?)`` for a close candidate, or ''."""
    close = closest(word, candidates)
    return f" (did you mean {close!r}?)" if close else ""


def closest(word: Any, candidates: Any) -> str | None:
    """The candidate ``word`` was most likely a typo of, or None if none is close.

    difflib's close matches (and a candidate that differs only in case), ranked by edits (a
    swap of neighbours is one edit), anagrams first among equals: 'tahn' is 'tanh' (a swap)
    rather than 'tan' (a deletion), though difflib ranks 'tan' first. At most one edit per
    three letters: a suggestion must be close to be of use."""
    if not isinstance(word, str) or not word:
        return None
    pool = [c for c in candidates if isinstance(c, str)]
    close = difflib.get_close_matches(word, pool, n=5)
    close += [c for c in pool if c.lower() == word.lower() and c not in close]
    ranked = sorted(
        close, key=lambda c: (_edits(word.lower(), c.lower()), sorted(word) != sorted(c))
    )
    if ranked and _edits(word.lower(), ranked[0].lower()) <= max(1, len(word) // 3):
        return ranked[0]
    return None


def _edits(a: str, b: str) -> int:
    """Edits from ``a`` to ``b``: insertions, deletions, substitutions and swaps of neighbours
    (optimal string alignment distance)."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]
