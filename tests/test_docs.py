"""The README's promises: its set-up commands, and the test command that CI runs."""

import re
from pathlib import Path

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()


def commands():
    return re.findall(r"```bash\n(.+?)\n```", README)


def test_readme_starts_with_one_sentence_and_two_setup_commands():
    first = README.split("\n\n")[1]
    assert first.startswith("gradcheck verifies") and first.count(". ") == 0
    setup = commands()[:2]
    assert 'gradcheck "w*x+b" --loss mse --seed 1' in setup[0]
    assert "pytest" in setup[1]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert commands()[1] in ci


def test_readme_lists_every_function_and_loss():
    from gradcheck_cli.expr.catalog import markdown_table
    from gradcheck_cli.losses import LOSSES

    assert markdown_table().rstrip("\n") in README
    for name in LOSSES:
        assert f"| `{name}` |" in README, name


def output_blocks():
    """The README's blocks of output: ``` blocks without a language that follow a colon."""
    return re.findall(r":\n\n```\n(.+?\n)```", README, re.S)


def test_readme_output_is_the_real_output(tutorial):
    from gradcheck_cli.report.text import text

    start, brief = (b for b in output_blocks() if b.startswith("PASS: all 2 gradients"))
    assert text(tutorial, 80).startswith(start)  # "In an 80-column terminal it begins:"
    assert text(tutorial, 80, brief=True) == brief


def test_no_merge_conflict_markers_in_tracked_text():
    import subprocess

    root = Path(__file__).parent.parent
    tracked = subprocess.run(
        ["git", "ls-files", "*.md", "*.py", "*.toml", "*.txt"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    for name in tracked:
        path = root / name
        if path.is_file():
            lines = path.read_text(errors="replace").splitlines()
            marked = [i for i, t in enumerate(lines, 1) if t.startswith(("<<<<<<< ", ">>>>>>> "))]
            assert not marked, f"{name}: merge conflict markers at lines {marked}"
