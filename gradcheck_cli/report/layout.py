"""Text layout that never cuts a number: tables that fit the width, or fewer columns, or a
stacked block per row. Pure standard library (no rich).

A report is a list of ``Line``s; a line is a tuple of ``(text, style)`` segments, the style a
rich style string ("bold green") or "" for plain text. ``report/console.py`` turns segments
into rich ``Text`` for a terminal; ``plain`` joins them for pipes, files, JUnit and pytest.

Widths: ``None`` means the width the content needs (nothing goes to a terminal, so nothing
may be cut or folded: every table is drawn whole). An integer is the terminal's width: a
table wider than it is drawn with fewer columns per table (``split``), without its
low-priority columns (``drop``), or as one block per row with one ``label  value`` line per
column (``stack``). A cell is never wrapped, folded or shortened; text is wrapped only at
spaces, never inside a word, so a number inside text stays whole too. A line may still be
wider than a very narrow terminal (a number longer than the width): it is then written whole
and the terminal wraps it.
"""

from __future__ import annotations

import os
import textwrap
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

Segment = tuple[str, str]  # (text, style)
Line = tuple[Segment, ...]

GAP = "  "  # between columns
INDENT = 2  # of a table, or of a block's lines under its title
BOLD = "bold"
DIM = "dim"
RULE = "─"


def cell_len(text: str) -> int:
    """Terminal cells of ``text``: wide (East Asian) characters take two."""
    if text.isascii():  # no wide character: one cell each
        return len(text)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def line_len(line: Line) -> int:
    return sum(cell_len(text) for text, _ in line)


def plain(lines: Iterable[Line]) -> str:
    """The text of the lines, without styles, one per line, no trailing spaces."""
    return "".join("".join(text for text, _ in line).rstrip() + "\n" for line in lines)


def columns_from(environ: Mapping[str, str] | None = None) -> int | None:
    """The width ``COLUMNS`` sets (a positive integer), else None."""
    value = (os.environ if environ is None else environ).get("COLUMNS", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def output_width(
    terminal_width: int | None, environ: Mapping[str, str] | None = None
) -> int | None:
    """The width to lay a report out at: ``COLUMNS`` when set (for a terminal or not), else the
    terminal's width (``terminal_width``: None when the output is not a terminal), else None,
    the width the content needs."""
    return columns_from(environ) or terminal_width


def wrap(
    text: str, width: int | None, *, indent: int = 0, hang: int | None = None, style: str = ""
) -> list[Line]:
    """``text`` as lines indented by ``indent`` (continuations by ``hang``), wrapped at spaces
    to ``width`` (None: only at its own newlines). Words, and so numbers, are never broken."""
    first, rest = " " * indent, " " * (indent if hang is None else hang)
    lines: list[Line] = []
    for paragraph in text.split("\n"):
        pieces = [first + paragraph]
        if width is not None and cell_len(pieces[0]) > width:
            pieces = textwrap.wrap(
                paragraph,
                width=max(width, 1),
                initial_indent=first,
                subsequent_indent=rest,
                break_long_words=False,
                break_on_hyphens=False,
            ) or [first]
        for k, piece in enumerate(pieces):
            lead = len(first if k == 0 else rest)
            lines.append(((piece[:lead], ""), (piece[lead:], style)))
        first = rest
    return [tuple(s for s in line if s[0]) for line in lines]


def definition(
    term: str,
    text: str,
    width: int | None,
    *,
    term_width: int,
    indent: int = INDENT,
    term_style: str = BOLD,
    style: str = "",
) -> list[Line]:
    """``term`` padded to ``term_width``, then ``text`` wrapped with a hanging indent."""
    hang = indent + term_width + len(GAP)
    body = wrap(text, width, indent=hang, style=style)
    head = (" " * indent, ""), (term.ljust(term_width), term_style), (GAP, "")
    return [head + body[0][1:], *body[1:]] if body else [head]


@dataclass(frozen=True)
class Cell:
    text: str
    style: str = ""


@dataclass(frozen=True)
class Column:
    name: str
    number: bool = True  # right-justified (digits aligned); False: left-justified text
    drop: int = 0  # fallback "drop": columns with the highest drop go first (0: never)


@dataclass
class Grid:
    """Rows of cells under column names, laid out for a width by ``lines``.

    ``keys``: the leading columns that name a row (repeated in every table of a split, on
    the head line of a stacked block). ``fallback``: what a too-wide table becomes: "stack",
    "split" (then stack if even one column does not fit) or "drop" (a single line per row,
    whatever the width: the brief report)."""

    title: str
    columns: Sequence[Column]
    rows: list[list[Cell]] = field(default_factory=list)
    keys: int = 1
    header: bool = True
    fallback: str = "stack"

    def add(self, *cells: Cell | str) -> None:
        self.rows.append([c if isinstance(c, Cell) else Cell(c) for c in cells])

    def widths(self) -> list[int]:
        return [
            max([cell_len(c.name) if self.header else 0] + [cell_len(r[i].text) for r in self.rows])
            for i, c in enumerate(self.columns)
        ]

    def table_width(self, chosen: Sequence[int]) -> int:
        widths = self.widths()
        return INDENT + sum(widths[i] for i in chosen) + len(GAP) * (len(chosen) - 1)

    def lines(self, width: int | None) -> list[Line]:
        title = wrap(self.title, width, style=BOLD) if self.title else []
        every = list(range(len(self.columns)))
        if width is None or self.table_width(every) <= width:
            return title + self.table(every)
        if self.fallback == "drop":
            return title + self.table(self.dropped(width))
        if self.fallback == "split" and (groups := self.groups(width)):
            tables = [self.table(list(range(self.keys)) + group) for group in groups]
            return title + [line for t in tables for line in [*t, ()]][:-1]
        return title + self.stack()

    def dropped(self, width: int) -> list[int]:
        chosen = list(range(len(self.columns)))
        for level in sorted({c.drop for c in self.columns if c.drop}, reverse=True):
            if self.table_width(chosen) <= width:
                break
            chosen = [i for i in chosen if self.columns[i].drop != level]
        return chosen

    def groups(self, width: int) -> list[list[int]]:
        """The columns after the keys packed greedily into tables that fit; [] if one
        column with the keys does not fit."""
        keys = list(range(self.keys))
        groups: list[list[int]] = []
        for i in range(self.keys, len(self.columns)):
            if groups and self.table_width(keys + groups[-1] + [i]) <= width:
                groups[-1].append(i)
            elif self.table_width(keys + [i]) <= width:
                groups.append([i])
            else:
                return []
        return groups

    def table(self, chosen: Sequence[int]) -> list[Line]:
        widths = self.widths()
        lines: list[Line] = []
        if self.header:
            names = [Cell(self.columns[i].name, BOLD) for i in chosen]
            lines.append(self.row_line(names, chosen, widths))
            lines.append(((" " * INDENT, ""), (RULE * (self.table_width(chosen) - INDENT), DIM)))
        lines += [self.row_line([row[i] for i in chosen], chosen, widths) for row in self.rows]
        return lines

    def row_line(self, cells: Sequence[Cell], chosen: Sequence[int], widths: list[int]) -> Line:
        segments: list[Segment] = [(" " * INDENT, "")]
        for n, (cell, i) in enumerate(zip(cells, chosen, strict=True)):
            pad = " " * (widths[i] - cell_len(cell.text))
            if n:
                segments.append((GAP, ""))
            if self.columns[i].number:
                segments += [(pad, ""), (cell.text, cell.style)]
            else:
                segments += [(cell.text, cell.style), (pad, "")]
        return _trimmed(segments)

    def stack(self) -> list[Line]:
        """One block per row: the keys on a head line, then ``label  value`` per column."""
        others = range(self.keys, len(self.columns))
        label = max((cell_len(self.columns[i].name) for i in others), default=0)
        numbers = [i for i in others if self.columns[i].number]
        value = max((cell_len(r[i].text) for r in self.rows for i in numbers), default=0)
        lines: list[Line] = []
        for row in self.rows:
            head: list[Segment] = [(" " * INDENT, "")]
            for n in range(self.keys):
                head += [(GAP, "")] * bool(n) + [(row[n].text, row[n].style or BOLD)]
            lines.append(_trimmed(head))
            for i in others:
                cell, name = row[i], self.columns[i].name
                pad = " " * (value - cell_len(cell.text)) if self.columns[i].number else ""
                segments = [(" " * 2 * INDENT, ""), (name.ljust(label), DIM), (GAP + pad, "")]
                lines.append(_trimmed([*segments, (cell.text, cell.style)]))
        return lines


def _trimmed(segments: list[Segment]) -> Line:
    """Without empty segments and trailing spaces."""
    while segments and not segments[-1][0].strip():
        segments.pop()
    return tuple(s for s in segments if s[0])


def blank_joined(sections: Iterable[list[Line]]) -> list[Line]:
    """The sections (each a list of lines) with one blank line between them; empty ones out."""
    out: list[Line] = []
    for section in sections:
        if section:
            out += [()] * bool(out) + section
    return out


__all__ = [
    "Cell",
    "Column",
    "Grid",
    "Line",
    "blank_joined",
    "cell_len",
    "columns_from",
    "definition",
    "line_len",
    "output_width",
    "plain",
    "wrap",
]
