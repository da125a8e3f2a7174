"""Batch runs through the command line (in this process): reports, counts and exit codes.

The known case file is run once per module (``known_batch``); each report format is then
rendered by the real command line from that one batch: while the module runs,
``run_cases`` answers the known file's own cases from the cached outcomes (handing them to
``on_result`` in order, as the real one does) and runs anything else for real.
"""

import json
import re
import xml.etree.ElementTree as ET

import pytest
from conftest import gradcheck

from gradcheck_cli.batch import runner
from gradcheck_cli.batch.casefile import load_cases

# 7 cases: 4 pass, 1 fails (float32 exp(100) overflows, so autograd's gradient is NaN),
# 1 undefined (log of a negative number), 1 error (bad syntax)
KNOWN = """\
[[case]]
name = "tutorial"
model = "w*x+b"
seed = 1

[[case]]
name = "sweep"
model = "w*x**2+b"
seeds = [1, 2, 3]

[[case]]
name = "overflow"
model = "log(exp(w))"
loss = "none"
at = { w = 100 }

[[case]]
name = "undefined"
model = "log(w)"
loss = "none"
at = { w = -1 }

[[case]]
name = "bad syntax"
model = "w*x+"
"""
NAMES = [
    "tutorial",
    "sweep[seed=1]",
    "sweep[seed=2]",
    "sweep[seed=3]",
    "overflow",
    "undefined",
    "bad syntax",
]
STATUSES = ["pass", "pass", "pass", "pass", "fail", "undefined", "error"]


def run(*args, input=None):
    return gradcheck(*args, input=input)


@pytest.fixture(scope="module")
def known_batch(tmp_path_factory):
    """Run the known file once; then, for this module, the same cases are not run again.

    ``gradcheck_cli.batch.runner.run_cases`` is wrapped: a call with exactly the cases of an
    earlier call (one worker) replays that call's outcomes through ``on_result``, in order,
    and returns its batch; anything else runs for real. Yields the known file, its batch and
    the list of replays. (Should the command line stop calling ``run_cases`` through that
    module, nothing is replayed: every test still runs the cases for real, and
    test_the_batch_runs_once_and_every_report_renders_it says so.)
    """
    path = tmp_path_factory.mktemp("batch") / "known.toml"
    path.write_text(KNOWN)
    real = runner.run_cases
    done = {}
    replays = []

    def run_cases(specs, workers=1, on_result=None, details=True):
        key = repr(list(specs))  # CaseSpec is a dataclass: its repr shows every field
        if workers != 1 or key not in done:
            batch = real(specs, workers=workers, on_result=on_result, details=details)
            if workers == 1:
                done[key] = batch
            return batch
        replays.append(key)
        for outcome in done[key].outcomes:
            if on_result is not None:
                on_result(outcome)
        return done[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner, "run_cases", run_cases)
        first = run("--file", path, "--format", "jsonl")
        assert first.exit_code == 1, first.stderr
        batches = list(done.values()) or [real(load_cases(str(path)))]
        yield path, batches[0], replays


@pytest.fixture
def known(known_batch):
    return known_batch[0]


def test_the_batch_runs_once_and_every_report_renders_it(known_batch):
    path, batch, replays = known_batch
    assert [(o.case, o.status) for o in batch.outcomes] == list(zip(NAMES, STATUSES, strict=True))
    before = len(replays)
    out = run("--file", path, "--format", "json")
    assert len(replays) == before + 1, "the command line no longer calls runner.run_cases"
    assert json.loads(out.stdout)["cases"] == [o.to_dict() for o in batch.outcomes]


def test_table_lists_every_case_counts_them_and_draws_the_failures(known):
    out = run("--file", known)
    assert out.exit_code == 1, out.stderr
    assert out.stderr == ""
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["PASS", "tutorial", "w*x+b", "mse", "float32"]
    assert [line.split()[0] for line in lines[:7]] == [s.upper() for s in STATUSES]
    assert lines[5].startswith("UNDEFINED") and "log(w)" in lines[5]
    assert lines[7] == "4 passed, 1 failed, 1 error, 1 undefined"
    details = "\n".join(lines[8:])
    assert "z = log(exp(w))" in details and "FAIL: 1 of 1 gradients disagree (w)" in details
    assert "z = w*x+b" not in details  # passing cases are not drawn again


def test_quiet_table_shows_only_what_did_not_pass(known):
    out = run("--file", known, "--quiet")
    assert out.exit_code == 1
    assert [line.split()[0] for line in out.stdout.splitlines()[:4]] == [
        "FAIL",
        "UNDEFINED",
        "ERROR",
        "4",
    ]


def test_json_document(known, tutorial):
    out = run("--file", known, "--format", "json")
    assert out.exit_code == 1
    doc = json.loads(out.stdout)
    assert set(doc) == {"cases", "summary", "versions"}
    assert doc["summary"] == {"total": 7, "passed": 4, "failed": 1, "error": 1, "undefined": 1}
    assert [c["case"] for c in doc["cases"]] == NAMES
    assert [c["status"] for c in doc["cases"]] == STATUSES
    assert [c["line"] for c in doc["cases"]] == [1, 6, 6, 6, 11, 17, 23]
    assert {c["source"] for c in doc["cases"]} == {str(known)}
    first = doc["cases"][0]
    assert first == {"case": "tutorial", "source": str(known), "line": 1, **tutorial.to_dict()}
    assert [c["seed"] for c in doc["cases"][1:4]] == [1, 2, 3]
    assert doc["cases"][6] == {
        "case": "bad syntax",
        "source": str(known),
        "line": 23,
        "status": "error",
        "model": "w*x+",
        "seed": 1,  # the default seed
        "error": "unexpected end of expression at column 5 of 'w*x+'",
        "detail": "",
    }


def test_jsonl_one_line_per_case_and_nothing_else(known):
    out = run("--file", known, "--format", "jsonl")
    assert out.exit_code == 1
    lines = out.stdout.splitlines()
    assert len(lines) == 7
    docs = [json.loads(line) for line in lines]
    assert [d["case"] for d in docs] == NAMES and [d["status"] for d in docs] == STATUSES


def test_markdown_summary_table(known):
    out = run("--file", known, "--format", "markdown")
    assert out.exit_code == 1
    lines = out.stdout.splitlines()
    assert lines[0] == "### gradcheck: 4 passed, 1 failed, 1 error, 1 undefined"
    assert lines[2] == "| status | case | model | loss | dtype | seed | detail |"
    rows = [line for line in lines[4:] if line.startswith("| ")]
    assert len(rows) == 7 and all(row.count(" | ") == 6 for row in rows)
    assert rows[0].startswith(
        "| :white_check_mark: pass | tutorial | `w*x+b` | mse | float32 | 1 |"
    )
    assert rows[4].startswith(
        "| :x: fail | overflow | `log(exp(w))` | none | float32 | 1 | w: fail"
    )
    assert rows[5].startswith("| :grey_question: undefined | undefined |")
    assert rows[6].startswith("| :warning: error | bad syntax |")


def test_junit_report(known, tmp_path):
    report = tmp_path / "junit.xml"
    out = run("--file", known, "--junit", report)
    assert out.exit_code == 1
    root = ET.parse(report).getroot()
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("7", "2", "1")
    testcases = suite.findall("testcase")
    assert [t.get("name") for t in testcases] == NAMES
    assert {t.get("classname") for t in testcases} == {str(known)}
    failure = testcases[4].find("failure")
    assert "z = log(exp(w))" in failure.text and "FAIL: 1 of 1 gradients disagree" in failure.text
    assert "\x1b[" not in failure.text  # plain text, no colour codes
    assert "undefined at this point" in testcases[5].find("failure").text
    assert "unexpected end of expression" in testcases[6].find("error").get("message")
    assert all(len(t) == 0 for t in testcases[:4])  # passed: no child elements


def test_failures_in_junit_and_the_table_have_every_number_whole(known_batch, tmp_path):
    from typer.testing import CliRunner

    from gradcheck_cli.cli import app
    from gradcheck_cli.report.text import number, text

    path, batch, _ = known_batch
    result = batch.outcomes[4].result  # overflow: fails
    report = tmp_path / "junit.xml"
    run("--file", path, "--junit", report)
    failure = ET.parse(report).getroot().find("testsuite").findall("testcase")[4][0]
    assert failure.text == text(result)  # the width the report needs: the full tables
    g = result.gradients[0]
    assert {number(g.exact), number(g.autograd)} <= set(failure.text.split())
    narrow = CliRunner().invoke(app, ["--file", str(path)], env={"COLUMNS": "40"})
    details = narrow.stdout.split("== overflow")[1].split("\n", 1)[1]
    assert details.startswith(text(result, 40))  # the terminal's width, numbers whole


def test_brief_in_a_case_file(tmp_path):
    path = tmp_path / "brief.toml"
    path.write_text(
        '[[case]]\nname = "overflow"\nmodel = "log(exp(w))"\nloss = "none"\n'
        "at = { w = 100 }\nbrief = true\n"
    )
    report = tmp_path / "junit.xml"
    out = run("--file", path, "--junit", report)
    assert out.exit_code == 1
    drawn = out.stdout.split("== overflow")[1].splitlines()[1:]
    assert drawn[0] == "FAIL: 1 of 1 gradients disagree (w)"
    assert len(drawn) == 2 and drawn[1].split()[:2] == ["w", "fail"]
    failure = ET.parse(report).getroot().find("testsuite").find("testcase")[0]
    assert failure.text.splitlines() == drawn


def test_workers_2_gives_byte_identical_json(known):
    """The one test that starts a worker pool (see also test_cases.py)."""
    models = known.parent / "models.txt"
    models.write_text("w*x+b\ntanh(w*x+b)\nexp(w)*x\n")
    args = ["--file", known, "--file", models, "--format", "json"]
    one, two = run(*args, "--workers", "1"), run(*args, "--workers", "2", "--debug")
    assert two.exit_code != 3, two.stderr
    assert one.exit_code == two.exit_code == 1
    assert one.stdout == two.stdout
    assert json.loads(one.stdout)["summary"]["total"] == 10


def test_workers_2_gives_the_same_table_and_junit(known, tmp_path):
    """Workers send passed cases without formulas for a table: nothing shown differs."""
    args = ["--file", known, "--format", "table"]
    one = run(*args, "--junit", tmp_path / "one.xml", "--workers", "1")
    two = run(*args, "--junit", tmp_path / "two.xml", "--workers", "2")
    assert one.exit_code == two.exit_code == 1, two.stderr
    assert one.stdout == two.stdout and "d loss/d w  = 1" in one.stdout
    reports = [(tmp_path / f"{n}.xml").read_text() for n in ("one", "two")]
    untimed = [re.sub(r'time="[^"]*"', "", r) for r in reports]
    assert untimed[0] == untimed[1] and "<failure" in untimed[0]


def test_all_passing_exits_0_and_stdin(tmp_path):
    out = run("--file", "-", "--format", "jsonl", input="w*x+b\nw*x**2+b\n")
    assert out.exit_code == 0, out.stderr
    docs = [json.loads(line) for line in out.stdout.splitlines()]
    assert [(d["source"], d["case"], d["status"]) for d in docs] == [
        ("<stdin>", "line 1", "pass"),
        ("<stdin>", "line 2", "pass"),
    ]


def test_seed_sweep_of_one_model():
    out = run("w*x+b", "--seeds", "1..3", "--format", "jsonl")
    assert out.exit_code == 0
    docs = [json.loads(line) for line in out.stdout.splitlines()]
    assert [(d["case"], d["seed"]) for d in docs] == [
        ("w*x+b[seed=1]", 1),
        ("w*x+b[seed=2]", 2),
        ("w*x+b[seed=3]", 3),
    ]
    assert docs[0]["gradients"][1]["autograd"] == 1.7628028392791748  # the tutorial's b


def test_command_line_options_are_defaults_under_the_file(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(
        '[[case]]\nname = "a"\nmodel = "w*x+b"\n'
        '[[case]]\nname = "b"\nmodel = "w*x+b"\ndtype = "float32"\n'
    )
    out = run("--file", path, "--dtype", "float64", "--seed", "1", "--format", "json")
    doc = json.loads(out.stdout)
    assert [(c["dtype"], c["seed"]) for c in doc["cases"]] == [("float64", 1), ("float32", 1)]


CASE_FILE_ERRORS = [
    ("syntax.toml", '[[case]]\nmodel = "w*x"\nname = \n', ["syntax.toml:3: TOML syntax error"]),
    (
        "keys.toml",
        '[[case]]\nname = "a"\nmodle = "w"\ndtyp = "float32"\n',
        [
            "keys.toml:1: case 'a': missing required key 'model'",
            "keys.toml:3: case 'a': unknown key 'modle' (did you mean 'model'?)",
            "keys.toml:4: case 'a': unknown key 'dtyp' (did you mean 'dtype'?)",
        ],
    ),
    (
        "values.toml",
        '[[case]]\nmodel = "w*x"\nseeds = "5..1"\nsamples = 0\n',
        [
            "values.toml:3: case 1: invalid seed range '5..1'",
            "values.toml:4: case 1: samples must be between 1 and 100000, got 0",
        ],
    ),
    (
        "dupes.toml",
        '[[case]]\nname = "a"\nmodel = "w*x"\n[[case]]\nname = "a"\nmodel = "w"\n',
        ["dupes.toml:4: case 'a': duplicate case name (first used at line 1)"],
    ),
    ("empty.toml", "# nothing\n", ["empty.toml:1: no cases found"]),
    (
        "root.toml",
        'cases = 1\n[[case]]\nmodel = "w"\n',
        ["root.toml:1: unknown top-level key 'cases' (did you mean 'case'?)"],
    ),
]


@pytest.mark.parametrize(
    ("name", "text", "messages"), CASE_FILE_ERRORS, ids=[c[0] for c in CASE_FILE_ERRORS]
)
def test_case_file_errors_exit_2_listing_every_error_and_write_nothing(
    tmp_path, name, text, messages
):
    path = tmp_path / name
    path.write_text(text)
    report = tmp_path / "junit.xml"
    out = run("--file", path, "--junit", report)
    assert out.exit_code == 2
    assert out.stdout == "" and not report.exists()
    lines = out.stderr.splitlines()
    assert len(lines) == len(messages)
    for line, message in zip(lines, messages, strict=True):
        assert line.startswith(f"Error: {tmp_path / message.split(':')[0]}:")
        assert message.split(":", 1)[1] in line


def test_errors_of_several_files_are_all_listed(tmp_path):
    bad1, bad2 = tmp_path / "one.toml", tmp_path / "two.txt"
    bad1.write_text("[[case]]\nmodel = 3\n")
    bad2.write_bytes(b"w*x\xff\n")
    out = run("--file", bad1, "--file", bad2, "--file", tmp_path / "missing.toml")
    assert out.exit_code == 2 and out.stdout == ""
    lines = out.stderr.splitlines()
    assert len(lines) == 3
    assert "one.toml:2: case 1: model must be a non-empty string" in lines[0]
    assert "two.txt: cannot read file: not UTF-8 text" in lines[1]
    assert "missing.toml: cannot read file: No such file or directory" in lines[2]


@pytest.mark.parametrize(
    "args",
    [
        ["--quiet"],  # options but no model (no argument at all: the short usage, test_cli)
        ["w*x+b", "--file", "x.toml"],
        ["w*x+b", "--seeds", "3"],
        ["w*x+b", "--seeds", "1..3", "--dtype", "float8"],
    ],
)
def test_usage_errors_exit_2(args):
    out = run(*args)
    assert out.exit_code == 2 and out.stdout == "" and out.stderr.startswith("Error: ")


def test_unwritable_junit_path_exits_2(known, tmp_path):
    out = run("--file", known, "--junit", tmp_path / "no" / "dir" / "junit.xml", "-q")
    assert out.exit_code == 2 and "cannot write JUnit report" in out.stderr


def test_case_file_expect_tells_rounding_from_mistake(tmp_path):
    cases = tmp_path / "hand.toml"
    cases.write_text(
        '[[case]]\nname = "hand"\nmodel = "w*x+b"\nseed = 1\nexpect = { w = -1.4793, b = 1.7626 }\n'
    )
    out = run("--file", cases, "--format", "json")
    assert out.exit_code == 1
    case = json.loads(out.stdout)["cases"][0]
    hand = {g["param"]: g["expect"]["classification"] for g in case["gradients"]}
    assert hand == {"w": "mistake", "b": "rounding"}
