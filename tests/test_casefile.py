"""Tests for gradcheck_cli.batch.casefile: expected values are written out by hand."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys

import pytest

from gradcheck_cli.batch import casefile
from gradcheck_cli.batch.casefile import CaseFileError, CaseSpec, load_cases, parse_seed_range

VALID = """\
# gradcheck cases
[defaults]
loss = "huber"
dtype = "float64"
delta = 2

[[case]]
name = "tutorial"
model = "w*x+b"
seed = 1
expect = { w = -1.4793, b = 1.7626 }

[[case]]
name = "sweep"
model = "w*x**2+b"
seeds = "3..5"      # or seeds = [3, 4, 5]
samples = 4
at = { w = 0.5 }
loss = "mse"

[[case]]
model = "w*x"
"""


def write(tmp_path, text, name="cases.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def errors_of(path, text=None, defaults=None):
    with pytest.raises(CaseFileError) as info:
        load_cases(path, text, defaults)
    assert str(info.value) == "\n".join(info.value.errors)
    return info.value.errors


def test_valid_file_expands_sweep_and_merges_defaults(tmp_path):
    path = write(tmp_path, VALID)
    specs = load_cases(path)
    assert [s.name for s in specs] == [
        "tutorial",
        "sweep[seed=3]",
        "sweep[seed=4]",
        "sweep[seed=5]",
        "case 3",
    ]
    assert [s.line for s in specs] == [7, 13, 13, 13, 21]
    assert [s.seed for s in specs] == [1, 3, 4, 5, 1]  # case 3: the default seed
    assert {s.source for s in specs} == {path}
    tutorial, sweep3 = specs[0], specs[1]
    assert tutorial.loss == "huber" and tutorial.dtype == "float64" and tutorial.delta == 2.0
    assert tutorial.expect == (("b", 1.7626), ("w", -1.4793))
    assert tutorial.samples == 1 and tutorial.at == ()
    assert sweep3.loss == "mse" and sweep3.dtype == "float64" and sweep3.samples == 4
    assert sweep3.at == (("w", 0.5),) and sweep3.model == "w*x**2+b"
    assert specs[4].model == "w*x" and specs[4].reduction == "mean"


def test_case_spec_is_frozen_and_hashable(tmp_path):
    spec = load_cases(write(tmp_path, VALID))[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.seed = 9
    assert hash(spec) == hash(dataclasses.replace(spec))


def test_key_table_matches_case_spec_fields():
    fields = {f.name for f in dataclasses.fields(CaseSpec)}
    assert fields == (set(casefile.KEYS) - {"seeds"}) | {"source", "line"}


def test_seed_list_and_case_seed_overrides_default_seeds(tmp_path):
    text = (
        '[defaults]\nseeds = [7, 8]\n\n[[case]]\nmodel = "a*x"\n\n'
        '[[case]]\nname = "one"\nmodel = "b*x"\nseed = 2\n'
    )
    specs = load_cases(write(tmp_path, text))
    assert [(s.name, s.seed) for s in specs] == [
        ("case 1[seed=7]", 7),
        ("case 1[seed=8]", 8),
        ("one", 2),
    ]


@pytest.mark.parametrize(
    ("body", "line", "needle"),
    [
        ('model = "x"\nsed = 3\n', 4, "unknown key 'sed' (did you mean 'seed'?)"),
        ('model = "x"\nsamples = "4"\n', 4, "samples must be an integer, got string '4'"),
        ('model = "x"\nsamples = 0\n', 4, "samples must be between 1 and 100000, got 0"),
        ('model = "x"\nstrict = 1\n', 4, "strict must be a boolean"),
        ('name = "c"\nloss = "mse"\n', 2, "missing required key 'model'"),
        ('model = "x"\nseed = 1\nseeds = [1, 2]\n', 5, "'seed' and 'seeds' are mutually exclusive"),
        ('model = "x"\nseeds = "9..2"\n', 4, "invalid seed range '9..2'"),
        ('model = "x"\nseeds = "1.5..3"\n', 4, "invalid seed range '1.5..3'"),
        ('model = "x"\nseeds = "0..100000"\n', 4, "100001 seeds"),
        (
            'model = "x"\ndtype = "float8"\n',
            4,
            "unknown dtype 'float8' (supported: float32, float64, bfloat16, float16)",
        ),
        ('model = "x"\nat = { w = "big" }\n', 4, "at must map names to finite numbers"),
        ('model = "x"\ninputs = "x"\n', 4, "inputs must be an array of names"),
    ],
)
def test_each_error_names_file_line_and_key(tmp_path, body, line, needle):
    path = write(tmp_path, "# header comment\n[[case]]\n" + body)
    errors = errors_of(path)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{path}:{line}: case "), errors
    assert needle in errors[0]


def test_error_label_uses_case_name_or_index(tmp_path):
    text = (
        '[[case]]\nmodel = "x"\n\n[[case]]\nname = "b"\nmodel = "y"\nseed = -1\n'
        '\n[[case]]\nmodel = "z"\nsamples = 1.5\n'
    )
    path = write(tmp_path, text)
    assert errors_of(path) == [
        f"{path}:7: case 'b': seed must be between 0 and 1844674407370955161, got -1",
        f"{path}:11: case 3: samples must be an integer, got float 1.5",
    ]


def test_toml_syntax_error_is_reformatted_with_line(tmp_path):
    path = write(tmp_path, '[[case]]\nmodel = "x"\nseed = = 3\n')
    (error,) = errors_of(path)
    assert re.fullmatch(rf"{re.escape(path)}:3: TOML syntax error: .+ \(column \d+\)", error)


def test_three_distinct_errors_are_all_reported_in_line_order(tmp_path):
    text = (
        '[defaults]\nname = "x"\n\n[[case]]\nmodel = "w*x"\nreductoin = "sum"\n\n'
        '[[case]]\nname = "z"\n'
    )
    path = write(tmp_path, text)
    assert errors_of(path) == [
        f"{path}:2: [defaults]: key 'name' is not allowed in defaults",
        f"{path}:6: case 1: unknown key 'reductoin' (did you mean 'reduction'?)",
        f"{path}:8: case 'z': missing required key 'model'",
    ]


def test_unknown_top_level_table_and_sub_table_lines(tmp_path):
    text = '[[cases]]\nmodel = "x"\n\n[[case]]\nmodel = "y"\n\n[case.expect]\nw = "one"\n'
    path = write(tmp_path, text)
    assert errors_of(path) == [
        f"{path}:1: unknown top-level key 'cases' (did you mean 'case'?)",
        f"{path}:7: case 1: expect must map names to finite numbers; bad entries: w = string 'one'",
    ]


def test_keys_inside_multiline_array_do_not_confuse_line_numbers(tmp_path):
    text = (
        '[[case]]\nmodel = "x"\ninputs = [\n  "x",\n  "y",\n]\n'
        "seeds = [\n  1,\n  2.5,\n]\nat = [\n  [1]\n]\nsed = 1\n"
    )
    path = write(tmp_path, text)
    assert errors_of(path) == [
        f"{path}:7: case 1: seeds must be a non-empty array of integers or an "
        "'A..B' range string, got array [1, 2.5]",
        f"{path}:11: case 1: at must be a table of name = number, got array [[1]]",
        f"{path}:14: case 1: unknown key 'sed' (did you mean 'seed'?)",
    ]


def test_duplicate_names_and_empty_file(tmp_path):
    path = write(tmp_path, '[[case]]\nname = "a"\nmodel = "x"\n[[case]]\nname = "a"\nmodel = "y"\n')
    assert errors_of(path) == [f"{path}:4: case 'a': duplicate case name (first used at line 1)"]
    empty = write(tmp_path, "# nothing\n", "empty.toml")
    assert errors_of(empty) == [f"{empty}:1: no cases found"]


def test_text_format_comments_blank_lines_and_caller_defaults(tmp_path):
    text = "# models\nw*x+b   # linear\n\n   \n  # indented comment\nw*x**2\n"
    path = write(tmp_path, text, "models.txt")
    specs = load_cases(path, defaults={"loss": "l1", "samples": 3, "seed": None})
    assert [(s.name, s.line, s.model) for s in specs] == [
        ("line 2", 2, "w*x+b"),
        ("line 6", 6, "w*x**2"),
    ]
    assert all(s.loss == "l1" and s.samples == 3 and s.seed == 1 for s in specs)
    assert {s.source for s in specs} == {path}


def test_stdin_text_with_seed_range_from_caller():
    specs = load_cases("-", "a*x\n", {"seeds": parse_seed_range("2..3")})
    assert [(s.name, s.seed, s.source) for s in specs] == [
        ("line 1[seed=2]", 2, "<stdin>"),
        ("line 1[seed=3]", 3, "<stdin>"),
    ]


def test_stdin_is_read_when_no_text_given(monkeypatch):
    monkeypatch.setattr(sys, "stdin", type("S", (), {"read": lambda self, size=-1: "q*x\n"})())
    assert [s.model for s in load_cases("-")] == ["q*x"]


def test_caller_defaults_are_validated():
    errors = errors_of("-", "a*x\n", {"samples": 0, "sede": 1})
    assert errors == [
        "samples must be between 1 and 100000, got 0",
        "unknown key 'sede' (did you mean 'seed'?)",
    ]


def test_file_defaults_override_caller_defaults(tmp_path):
    path = write(tmp_path, '[defaults]\nseed = 4\n[[case]]\nmodel = "x"\n')
    (spec,) = load_cases(path, defaults={"seeds": "1..3", "loss": "l1"})
    assert (spec.name, spec.seed, spec.loss) == ("case 1", 4, "l1")


def test_unreadable_file_reports_path_and_reason(tmp_path):
    missing = str(tmp_path / "missing.toml")
    assert errors_of(missing) == [f"{missing}: cannot read file: No such file or directory"]
    directory = str(tmp_path)
    (error,) = errors_of(directory)
    assert error.startswith(f"{directory}: cannot read file: ")
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\xff\xfe\x00bad")
    (error,) = errors_of(str(binary))
    assert error.startswith(f"{binary}: cannot read file: not UTF-8 text")


def test_parse_seed_range():
    assert parse_seed_range("1..100") == range(1, 101)
    assert parse_seed_range(" 0 .. 0 ") == range(0, 1)
    assert len(parse_seed_range("1..100000")) == 100000
    for bad, why in [
        ("5..1", "greater"),
        ("a..3", "integers"),
        ("1..2..3", "integers"),
        ("1_0..20", "integers"),
        ("1.0..2", "integers"),
        ("3", "expected"),
        ("-1..2", ">= 0"),
        ("0..100000", "at most"),
    ]:
        with pytest.raises(ValueError, match=why):
            parse_seed_range(bad)


def test_line_numbers_survive_awkward_layouts(tmp_path):
    text = (
        '[defaults]\n[defaults.expect]\nw = true\n\n[[case]]\nmodel = """\nseedz = 1\n"""\n'
        'note = "a\u2028b"\nseedz = 1\n'
    )
    path = write(tmp_path, text)
    assert errors_of(path) == [
        f"{path}:2: [defaults]: expect must map names to finite numbers; "
        "bad entries: w = boolean true",
        f"{path}:9: case 1: unknown key 'note'",
        f"{path}:10: case 1: unknown key 'seedz' (did you mean 'seed'?)",
    ]


def test_inline_case_array_falls_back_to_its_line(tmp_path):
    path = write(tmp_path, '# cases\ncase = [\n  {model = "x"},\n  {model = "y", sed = 1},\n]\n')
    assert errors_of(path) == [f"{path}:2: case 2: unknown key 'sed' (did you mean 'seed'?)"]


def test_modules_import_only_the_standard_library():
    code = (
        "import sys; import gradcheck_cli.batch.casefile, gradcheck_cli.report.junit; "
        "heavy = {'torch', 'sympy', 'numpy', 'rich', 'typer', 'mpmath'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_errors_are_sorted_by_line_even_when_defaults_come_last(tmp_path):
    path = write(tmp_path, '[[case]]\nmodel = "x"\nsamples = 0\n\n[defaults]\nlos = "l1"\n')
    assert errors_of(path) == [
        f"{path}:3: case 1: samples must be between 1 and 100000, got 0",
        f"{path}:6: [defaults]: unknown key 'los' (did you mean 'loss'?)",
    ]


def test_explicit_format_overrides_extension():
    (spec,) = load_cases("-", '[[case]]\nname = "t"\nmodel = "x"\n', fmt="toml")
    assert (spec.name, spec.line, spec.source) == ("t", 1, "<stdin>")
    (spec,) = load_cases("models.toml", "x*w\n", fmt="text")
    assert (spec.name, spec.model) == ("line 1", "x*w")
    with pytest.raises(ValueError, match="fmt"):
        load_cases("-", "x\n", fmt="yaml")
