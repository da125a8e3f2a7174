"""Every example file runs and passes; the README quotes the API example that runs here."""

import runpy
from functools import cache
from pathlib import Path

import pytest

from gradcheck_cli.batch.runner import check_file

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "examples"
CASE_FILES = sorted(EXAMPLES.glob("*.toml")) + sorted(EXAMPLES.glob("*.txt"))


@cache
def batch_of(path: Path):
    """Each example file is run once for this module (text files over seeds 0..4)."""
    defaults = {"seeds": "0..4"} if path.suffix == ".txt" else {}
    return check_file(path, **defaults)


def test_the_examples_are_there():
    names = {p.name for p in CASE_FILES}
    assert {"tutorial.toml", "losses.toml", "functions.toml", "models.txt"} <= names


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.name)
def test_every_example_case_passes(path):
    batch = batch_of(path)
    failures = [(o.case, o.status, o.error) for o in batch.outcomes if not o.ok]
    assert failures == []
    assert batch.summary()["total"] >= 5


def test_the_examples_cover_every_function_and_loss():
    from gradcheck_cli.expr.catalog import FUNCTIONS
    from gradcheck_cli.losses import LOSSES

    text = "\n".join(p.read_text() for p in CASE_FILES)
    for name in FUNCTIONS:
        assert f"{name}(" in text, name
    for name in LOSSES:
        assert f'loss = "{name}"' in text, name


def test_the_tutorial_file_holds_the_tutorial():
    batch = batch_of(EXAMPLES / "tutorial.toml")
    first = batch.outcomes[0].result.to_dict()
    assert (first["model"], first["seed"]) == ("w*x+b", 1)
    assert first["loss_value"]["autograd"] == 0.776868462562561  # the tutorial's loss
    assert batch.outcomes[1].model == "w*x**2+b"
    assert [o.seed for o in batch.outcomes[2:]] == list(range(1, 21))


def test_api_example_runs_and_the_readme_quotes_it(capsys):
    source = (EXAMPLES / "api_example.py").read_text()
    runpy.run_path(str(EXAMPLES / "api_example.py"), run_name="__main__")  # in this process
    assert capsys.readouterr().out.splitlines() == [
        "pass",
        "-1.0601369142532349",
        "{'total': 22, 'passed': 22, 'failed': 0, 'error': 0}",
        "tutorial pass 0.776868462562561",
        "tutorial second model pass 2.3053176403045654",
        "all passed",
    ]
    body = source.split('"""', 2)[2].strip()
    assert f"```python\n{body}\n```" in (ROOT / "README.md").read_text()
