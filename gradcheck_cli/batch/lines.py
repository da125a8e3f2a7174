"""Find line numbers of keys in a case file's raw TOML text (tomllib reports none).

A light line scanner, not a TOML parser: it tracks ``[defaults]`` / ``[[case]]`` /
``[case.sub]`` headers, skips multi-line arrays and multi-line strings, and records the
first line of each ``key =`` (or dotted ``key.sub =``) in every block. Only used for
messages, so an approximation falls back to the block's header line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Block", "Layout", "scan_layout"]


@dataclass
class Block:
    """A table in the file: its header line and the first line of each of its keys."""

    line: int
    keys: dict[str, int] = field(default_factory=dict)

    def key_line(self, key: str) -> int:
        return self.keys.get(key, self.line)


@dataclass
class Layout:
    """Where things are: top-level keys/tables, the defaults block, each [[case]] block."""

    root: dict[str, int] = field(default_factory=dict)
    defaults: Block = field(default_factory=lambda: Block(1))
    cases: list[Block] = field(default_factory=list)


_HEADER = re.compile(r"^\s*(\[\[?)([^\[\]]+)\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"""^\s*("[^"\n]*"|'[^'\n]*'|[A-Za-z0-9_-]+)\s*[.=]""")
_STRING = re.compile(r""""(?:[^"\\]|\\.)*"?|'[^']*'?""")


def _unquote(part: str) -> str:
    part = part.strip()
    return part[1:-1] if len(part) >= 2 and part[0] == part[-1] and part[0] in "\"'" else part


def _brackets(line: str) -> int:
    """Net count of opening minus closing brackets outside strings and comments."""
    code = _STRING.sub('""', line).split("#", 1)[0]
    return code.count("[") + code.count("{") - code.count("]") - code.count("}")


def scan_layout(text: str) -> Layout:
    """Scan ``text`` and return the Layout of its defaults and case blocks."""
    layout = Layout()
    current: Block | None = None  # None: at the root (or inside an unknown table)
    at_root, sub, depth, in_string = True, None, 0, ""
    for number, line in enumerate(text.split("\n"), 1):  # TOML lines end at \n only
        if in_string:  # inside a multi-line string: look for its end only
            if line.count(in_string) % 2:
                in_string = ""
            continue
        header = _HEADER.match(line) if depth == 0 else None
        if header:
            parts = [_unquote(p) for p in header.group(2).split(".")]
            current, sub = _enter(layout, parts, header.group(1) == "[[", number)
            at_root = False
            continue
        key = _KEY.match(line) if depth == 0 else None
        if key:
            name = _unquote(key.group(1))
            if at_root:
                layout.root.setdefault(name, number)
            elif current is not None and sub is None:
                current.keys.setdefault(name, number)
        for quote in ('"""', "'''"):
            if line.count(quote) % 2:
                in_string = quote
                break
        depth = max(depth + _brackets(line), 0) if not in_string else depth
    if "defaults" in layout.root and layout.defaults.line == 1 and not layout.defaults.keys:
        layout.defaults = Block(layout.root["defaults"])
    return layout


def _enter(
    layout: Layout, parts: list[str], is_array: bool, number: int
) -> tuple[Block | None, str | None]:
    """Handle a table header; return the block its keys belong to and the sub-table name."""
    layout.root.setdefault(parts[0], number)
    if parts == ["case"] and is_array:
        layout.cases.append(Block(number))
        return layout.cases[-1], None
    if parts == ["defaults"] and not is_array:
        layout.defaults = Block(number)
        return layout.defaults, None
    owner = {"case": layout.cases[-1] if layout.cases else None, "defaults": layout.defaults}.get(
        parts[0]
    )
    if owner is None or len(parts) < 2:
        return None, None
    owner.keys.setdefault(parts[1], number)  # [case.at]: the key 'at' is on this line
    return owner, parts[1]
