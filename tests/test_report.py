"""The table, rendered at a fixed width with colour off, against a golden file.

Regenerate after an intended change with: GRADCHECK_REGOLD=1 pytest tests/test_report.py
"""

import json
import os
from pathlib import Path

from gradcheck_cli.report.console import plain_text, render, to_json

GOLDEN = Path(__file__).parent / "golden"


def compare_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("GRADCHECK_REGOLD"):
        path.write_text(text)
    assert text == path.read_text()


def test_tutorial_table_golden(tutorial):
    text = plain_text(render(tutorial), width=120)
    assert "\x1b" not in text
    compare_golden("tutorial.txt", text)


def test_json_and_table_come_from_the_same_result(tutorial):
    doc = json.loads(to_json(tutorial))
    text = plain_text(render(tutorial), width=120)
    for g in doc["gradients"]:
        assert repr(g["exact"]) in text and repr(g["autograd"]) in text
        assert g["formula"] in text


def test_non_finite_numbers_are_valid_json():
    from gradcheck_cli.results import _number

    assert [_number(v) for v in (float("nan"), float("inf"), -float("inf"), 1.5)] == [
        "nan",
        "inf",
        "-inf",
        1.5,
    ]
