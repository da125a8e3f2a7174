"""The layout under every report: tables fitted to a width without cutting a number."""

import io

from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from gradcheck_cli.report.console import terminal_width
from gradcheck_cli.report.layout import (
    Cell,
    Column,
    Grid,
    cell_len,
    output_width,
    plain,
    wrap,
)


def grid(fallback="stack", header=True):
    g = Grid(
        "Numbers",
        [Column("name", False), Column("first"), Column("second")],
        fallback=fallback,
        header=header,
    )
    g.add(Cell("a", "bold"), "-1.0601369142532349", "7.54e-08")
    g.add(Cell("bb", "bold"), "1.5", "2.4999981250015624e-10")
    return g


def text(g, width):
    return plain(g.lines(width))


def test_a_table_that_fits_is_drawn_whole_with_numbers_right_justified():
    assert (
        text(grid(), None)
        == text(grid(), 51)
        == (
            "Numbers\n"
            "  name                first                  second\n"
            "  ─────────────────────────────────────────────────\n"
            "  a     -1.0601369142532349                7.54e-08\n"
            "  bb                    1.5  2.4999981250015624e-10\n"
        )
    )


def test_too_wide_a_table_is_stacked_one_block_per_row():
    assert text(grid(), 50) == (
        "Numbers\n"
        "  a\n"
        "    first      -1.0601369142532349\n"
        "    second                7.54e-08\n"
        "  bb\n"
        "    first                      1.5\n"
        "    second  2.4999981250015624e-10\n"
    )


def test_split_repeats_the_key_column_in_each_table():
    assert text(grid("split"), 40) == (
        "Numbers\n"
        "  name                first\n"
        "  ─────────────────────────\n"
        "  a     -1.0601369142532349\n"
        "  bb                    1.5\n"
        "\n"
        "  name                  second\n"
        "  ────────────────────────────\n"
        "  a                   7.54e-08\n"
        "  bb    2.4999981250015624e-10\n"
    )
    assert text(grid("split"), 20) == text(grid(), 20)  # one column does not fit: stacked


def test_drop_leaves_out_columns_by_priority_and_keeps_one_line_per_row():
    g = Grid("", [Column("k", False), Column("a", drop=1), Column("b", drop=2)], header=False)
    g.fallback = "drop"
    g.add("x", "1.25", "1234567.5")
    assert text(g, 20) == "  x  1.25  1234567.5\n"
    assert text(g, 12) == "  x  1.25\n"
    assert text(g, 3) == "  x\n"


def test_wrap_breaks_at_spaces_only():
    lines = plain(wrap("a gradient of -2.4999981250015624e-10 and 1e-05", 20, hang=2))
    assert lines == "a gradient of\n  -2.4999981250015624e-10\n  and 1e-05\n"
    assert plain(wrap("one\ntwo", None, indent=1)) == " one\n two\n"


def test_the_width_columns_then_the_terminal_then_the_content():
    assert output_width(None, {}) is None  # a pipe or a file: the width the content needs
    assert output_width(100, {}) == 100  # a terminal
    assert output_width(100, {"COLUMNS": "60"}) == output_width(None, {"COLUMNS": "60"}) == 60
    assert output_width(None, {"COLUMNS": "wide"}) is None
    assert output_width(None, {"COLUMNS": "0"}) is None


def test_a_terminal_is_a_real_one_not_forced_colour(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delenv("COLUMNS", raising=False)
    assert terminal_width(Console(width=72), Tty()) == 72
    assert terminal_width(Console(width=72, force_terminal=True), io.StringIO()) is None
    monkeypatch.setenv("COLUMNS", "44")
    assert terminal_width(Console(width=72), io.StringIO()) == 44


def test_wide_characters_take_two_cells():
    assert cell_len("θ*x") == 3 and cell_len("重*x") == 4


NUMBERS = st.floats(allow_nan=False, allow_infinity=False).map(repr)


@given(
    rows=st.lists(st.lists(NUMBERS, min_size=3, max_size=3), min_size=1, max_size=4),
    width=st.integers(min_value=1, max_value=160) | st.none(),
    fallback=st.sampled_from(["stack", "split"]),
)
def test_every_number_is_whole_at_every_width(rows, width, fallback):
    g = Grid("t", [Column("k", False)] + [Column(f"c{i}") for i in range(3)], fallback=fallback)
    for n, row in enumerate(rows):
        g.add(f"r{n}", *row)
    out = text(g, width)
    tokens = out.split()
    assert all(number in tokens for row in rows for number in row)
    longest = max(len(n) for row in rows for n in row)
    if width is not None and width >= 2 * 2 + 2 + 2 + longest:  # a stacked line fits
        assert max(len(line) for line in out.splitlines()) <= width
