"""What is wrong with the text of an expression, said the way the user can fix it.

Checks of the raw characters before Python's tokenizer sees them, and the messages for syntax
Python refuses ('2x' -> write 2*x, 'w x' -> a missing operator) or names gradcheck does not know
('tahn' -> did you mean 'tanh'). Standard library only, like the parser.
"""

from __future__ import annotations

import re
from typing import Any

from gradcheck_cli.errors import ParseError
from gradcheck_cli.expr.catalog import FUNCTIONS
from gradcheck_cli.values import closest

# A number run into a name, as in '2x' or '1.5e3w' (Python: "invalid decimal literal").
_NUMBER_NAME = re.compile(
    r"(?<![\w.])((?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)([A-Za-z_]\w*)"
)
_GAP = re.compile(r"[\w).]\s+(?=[\w(.])")  # two terms side by side: 'w x', '2 (x+1)'


# Operators Python has and gradcheck does not; '^' is a power elsewhere, not in Python.
def syntax_error(exc: SyntaxError, text: str, shift: int) -> ParseError:
    """Python's complaint, or what was meant: '2x' is 2*x, 'w x' lacks an operator."""
    source = text.strip()
    if not exc.offset or exc.offset > len(source):
        return ParseError("unexpected end of expression", text, len(text) + 1)
    if "literal" in exc.msg:
        for match in _NUMBER_NAME.finditer(source):
            if match.start() < exc.offset <= match.end():
                product = "*".join(match.groups())
                return ParseError(f"write {product} for a product", text, match.start() + 1 + shift)
    if exc.msg.startswith("invalid syntax"):  # 'w x', or 'tanh(w x)' ("forgot a comma?")
        last = (exc.end_offset or exc.offset) - 1
        gap = next((g for g in _GAP.finditer(source) if exc.offset - 1 <= g.end() <= last), None)
        if gap:
            return ParseError(
                "missing operator between two terms (write * for a product)",
                text,
                gap.end() + 1 + shift,
            )
    detail = "" if exc.msg == "invalid syntax" else f": {exc.msg}"
    return ParseError(f"invalid syntax{detail}", text, exc.offset + shift)


def check_characters(text: str) -> None:
    """Refuse what Python's tokenizer would drop or fold: bytes that are not UTF-8 (surrogate
    escapes from the command line), lone surrogates, non-ASCII characters (NFKC folds 'ｗ' into
    'w'), control characters and '#' comments."""
    for column, char in enumerate(text, 1):
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:
            problem = f"byte 0x{code - 0xDC00:02x} is not valid UTF-8"
        elif 0xD800 <= code <= 0xDFFF:
            problem = f"lone surrogate U+{code:04X} not allowed"
        elif code > 127:
            problem = f"non-ASCII character U+{code:04X} not allowed (names are ASCII)"
        elif (code < 32 and char != "\t") or code == 127:
            problem = f"control character U+{code:04X} not allowed"
        elif char == "#":
            problem = "comments ('#') not allowed"
        else:
            continue
        raise ParseError(problem, _printable(text), column)


def _printable(text: str) -> str:
    """``text`` for an error message, each character that is not printable ASCII shown as '?':
    the message prints under any locale and the column still counts characters."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(c if c.isascii() and c.isprintable() else "?" for c in text)


def unknown_function(name: str, definitions: Any = ()) -> str:
    """'tahn' -> did you mean 'tanh'; a name close to none -> the list (and, for a name of
    the model called like a function, how to write a product)."""
    close = closest(name, [*FUNCTIONS, *definitions])
    if close:
        return f"unknown function '{name}' (did you mean '{close}'?)"
    known = ", ".join(sorted(FUNCTIONS))
    product = f"; for a product write '{name}*(...)'" if len(name) <= 2 else ""
    return f"unknown function '{name}' (supported: {known}{product})"
