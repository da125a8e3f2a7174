"""gradcheck_cli.batch.runner: running many cases, sharing prepared models, per-case errors."""

import dataclasses
import os
import subprocess
import sys

import numpy as np
import pytest

from gradcheck_cli import pipeline as core
from gradcheck_cli.batch import chunks as chunking
from gradcheck_cli.batch import runner as cases
from gradcheck_cli.batch.casefile import load_cases
from gradcheck_cli.batch.runner import BatchResult, check_file, model_cases, run_cases, spec_options
from gradcheck_cli.options import Options

MIXED = """\
[[case]]
name = "tutorial"
model = "w*x+b"
seed = 1

[[case]]
name = "undefined"
model = "log(w)"
loss = "none"
at = { w = -1 }

[[case]]
name = "bad syntax"
model = "w*x+"

[[case]]
name = "second model"
model = "w*x**2+b"
seeds = [1, 2]
"""


def specs_of(text, name="cases.toml"):
    return load_cases(name, text)


def test_outcomes_in_input_order_with_errors_recorded_and_the_rest_run():
    batch = run_cases(specs_of(MIXED))
    assert [(o.case, o.status) for o in batch.outcomes] == [
        ("tutorial", "pass"),
        ("undefined", "undefined"),
        ("bad syntax", "error"),
        ("second model[seed=1]", "pass"),
        ("second model[seed=2]", "pass"),
    ]
    assert batch.summary() == {"total": 5, "passed": 3, "failed": 0, "error": 1, "undefined": 1}
    assert not batch.ok
    undefined = batch.outcomes[1]  # a point outside the domain is a result, not an error
    assert undefined.result.gradients[0].verdict == "undefined" and not undefined.ok
    assert "undefined at this point" in undefined.result.gradients[0].note
    error = batch.outcomes[2]
    assert error.result is None and error.to_dict()["status"] == "error"
    assert "unexpected end of expression at column 5" in batch.outcomes[2].error


def test_a_passing_case_has_the_single_check_schema_plus_case_source_line(tutorial):
    outcome = run_cases(specs_of(MIXED)[:1]).outcomes[0]
    doc = outcome.to_dict()
    assert doc == {"case": "tutorial", "source": "cases.toml", "line": 1, **tutorial.to_dict()}
    assert doc["gradients"][0]["autograd"] == -1.0601369142532349  # the tutorial's number


def test_a_failing_case_counts_as_failed():
    # float32 exp(100) overflows: autograd's gradient of log(exp(w)) is NaN, the exact one 1
    text = '[[case]]\nname = "overflow"\nmodel = "log(exp(w))"\nloss = "none"\nat = {w = 100}\n'
    batch = run_cases(specs_of(text))
    assert batch.outcomes[0].status == "fail" and batch.outcomes[0].result is not None
    assert batch.summary() == {"total": 1, "passed": 0, "failed": 1, "error": 0}


def test_a_twenty_seed_sweep_prepares_the_model_once(monkeypatch):
    calls = []
    real = core.prepare
    monkeypatch.setattr(core, "prepare", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    batch = run_cases(model_cases("w*x+b", {"seeds": "1..20"}))
    assert calls == ["w*x+b"]
    assert [o.seed for o in batch.outcomes] == list(range(1, 21))
    assert batch.outcomes[0].result.to_dict()["values"]["w"] == 0.6613521575927734  # seed 1


def test_different_options_are_prepared_separately_and_errors_once(monkeypatch):
    calls = []
    real = core.prepare
    monkeypatch.setattr(core, "prepare", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    text = (
        '[[case]]\nname = "a"\nmodel = "w*x+b"\nseeds = "0..2"\n'
        '[[case]]\nname = "b"\nmodel = "w*x+b"\nseeds = "0..2"\ndtype = "float64"\n'
        '[[case]]\nname = "c"\nmodel = "w*x+"\nseeds = "0..2"\n'
    )
    batch = run_cases(specs_of(text))
    assert calls == ["w*x+b", "w*x+b", "w*x+"]
    assert batch.summary() == {"total": 9, "passed": 6, "failed": 0, "error": 3}


def test_an_unexpected_exception_is_that_cases_error_and_the_batch_goes_on(monkeypatch):
    real = core.run

    def run(prepared, seed=None, **how):
        if prepared.expr.text == "w*x**2+b" and seed == 1:
            raise ZeroDivisionError("a bug\nsecond line")
        return real(prepared, seed, **how)

    monkeypatch.setattr(core, "run", run)
    batch = run_cases(specs_of(MIXED))
    statuses = [(o.case, o.status) for o in batch.outcomes]
    assert statuses == [
        ("tutorial", "pass"),
        ("undefined", "undefined"),
        ("bad syntax", "error"),
        ("second model[seed=1]", "error"),
        ("second model[seed=2]", "pass"),  # the model is prepared again and runs
    ]
    bug = batch.outcomes[3]
    assert bug.error == "internal error in batch.runner: ZeroDivisionError: a bug"
    assert "Traceback" in bug.detail and 'raise ZeroDivisionError("a bug' in bug.detail
    assert bug.to_dict()["detail"] == bug.detail and batch.outcomes[2].to_dict()["detail"] == ""


def test_a_case_over_its_timeout_is_an_error_and_the_batch_goes_on(monkeypatch):
    import time

    real = core.run

    def run(prepared, seed=None, **how):
        if seed == 2:
            time.sleep(30)  # interrupted by the time limit
        return real(prepared, seed, **how)

    monkeypatch.setattr(core, "run", run)
    specs = model_cases("w*x+b", {"seeds": "1..3", "timeout": 0.3})
    start = time.monotonic()
    batch = run_cases(specs)
    assert time.monotonic() - start < 10
    assert [(o.status, o.error) for o in batch.outcomes] == [
        ("pass", ""),
        ("error", "timed out after 0.3 s"),
        ("pass", ""),
    ]


def test_ctrl_c_keeps_what_finished(monkeypatch):
    real = core.run

    def run(prepared, seed=None, **how):
        if seed == 3:
            raise KeyboardInterrupt
        return real(prepared, seed, **how)

    monkeypatch.setattr(core, "run", run)
    with pytest.raises(cases.BatchInterrupted) as caught:
        run_cases(model_cases("w*x+b", {"seeds": "1..5"}))
    assert [o.seed for o in caught.value.batch.outcomes] == [1, 2]
    assert caught.value.batch.total == 5


def test_on_result_sees_every_outcome_in_order():
    seen = []
    batch = run_cases(specs_of(MIXED), on_result=lambda o: seen.append(o.index))
    assert seen == [0, 1, 2, 3, 4] == [o.index for o in batch.outcomes]


def test_in_order_emitter_holds_back_later_outcomes():
    seen = []
    emitter = cases._InOrder(lambda o: seen.append(o))
    fake = [type("O", (), {"index": i})() for i in range(3)]
    emitter.add([fake[2], fake[1]])
    assert seen == []
    emitter.add([fake[0]])
    assert [o.index for o in seen] == [0, 1, 2]


def test_chunks_group_by_model_and_split_long_sweeps():
    specs = list(enumerate(specs_of(MIXED) + model_cases("w*x+b", {"seeds": "0..9"})))
    chunks = chunking.chunks(specs, workers=3)
    assert sorted(i for chunk in chunks for i, _ in chunk) == list(range(len(specs)))
    sweep = [chunk for chunk in chunks if any(s.model == "w*x+b" for _, s in chunk)]
    assert len(sweep) >= 2  # the ten seeds of one model still reach more than one worker
    for chunk in chunks:
        assert len(chunk) <= 5  # 15 cases over 3 workers


def test_chunks_pack_many_small_models():
    """1000 models of one case each: chunks of 1000 / (2 * CHUNKS_PER_WORKER) cases, not
    1000 round trips, shrinking at the end (a quarter of each worker's share of what is
    left) so that neither worker is left with a long chunk; each model in one chunk."""
    text = "\n".join(f"w*x*{k}+b" for k in range(1, 1001))
    specs = list(enumerate(load_cases("<stdin>", text=text, fmt="text")))
    chunks = chunking.chunks(specs, workers=2)
    sizes = [len(chunk) for chunk in chunks]
    assert sizes[0] == 63 == -(-1000 // (2 * chunking.CHUNKS_PER_WORKER))
    assert sizes == sorted(sizes, reverse=True) and sizes[-1] == 1 and len(sizes) <= 50
    for k, size in enumerate(sizes):  # 4 chunks a worker at most, in what is left
        assert size <= -(-sum(sizes[k:]) // 8)
    assert [i for chunk in chunks for i, _ in chunk] == list(range(1000))
    models = [{s.model for _, s in chunk} for chunk in chunks]
    assert all(not (a & b) for a, b in zip(models, models[1:], strict=False))


def test_spec_options_passes_every_field_options_knows():
    spec = specs_of(
        '[[case]]\nmodel = "w*x+b"\nseed = 3\ndtype = "float64"\nat = {w = 2}\n'
        "expect = {w = 1.5}\ndecimals = 3\n"
    )[0]
    options = spec_options(spec)
    assert dataclasses.replace(options, code_dir=None) == Options(
        seed=3, dtype="float64", at=(("w", 2.0),), expect=(("w", "1.5"),), decimals=3
    )
    # the case file's directory, where its lower / impl modules are found
    assert options.code_dir == os.path.dirname(os.path.abspath(spec.source))
    assert (spec.expect, spec.decimals) == ((("w", 1.5),), 3)
    names = spec_options(specs_of('[[case]]\nmodel = "a*t"\nparams = ["a"]\n')[0])
    assert (names.params, names.inputs) == (("a",), None)


def test_an_invalid_option_value_is_a_case_error():
    spec = dataclasses.replace(specs_of('[[case]]\nmodel = "w*x+b"\n')[0], reduction="median")
    outcome = run_cases([spec]).outcomes[0]
    assert outcome.status == "error" and "unknown reduction 'median'" in outcome.error


def test_check_file_with_defaults(tmp_path):
    path = tmp_path / "models.txt"
    path.write_text("w*x+b\n# comment\nw*x**2+b  # second\n")
    batch = check_file(path, seeds="1..2", dtype="float64")
    assert isinstance(batch, BatchResult)
    assert [(o.case, o.line, o.seed) for o in batch.outcomes] == [
        ("line 1[seed=1]", 1, 1),
        ("line 1[seed=2]", 1, 2),
        ("line 3[seed=1]", 3, 1),
        ("line 3[seed=2]", 3, 2),
    ]
    assert {o.result.dtype for o in batch.outcomes} == {"float64"} and batch.ok


def test_workers_must_be_one_or_more():
    # A pool of workers gives the same outcomes as one process: the one test that starts a
    # pool is test_batch_cli.py::test_workers_2_gives_byte_identical_json.
    with pytest.raises(ValueError):
        run_cases(specs_of(MIXED), workers=0)


def test_import_gradcheck_cli_is_light_and_exports_the_api_lazily():
    code = (
        "import sys, gradcheck_cli\n"
        "heavy = [m for m in ('torch', 'sympy', 'rich') if m in sys.modules]\n"
        "from gradcheck_cli import check, check_file\n"
        "print(heavy, check.__module__, check_file.__module__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.split() == ["[]", "gradcheck_cli.pipeline", "gradcheck_cli.batch.runner"]
    import gradcheck_cli

    with pytest.raises(AttributeError):
        gradcheck_cli.no_such_thing  # noqa: B018


def test_a_runner_asked_for_failed_formulas_only_drops_a_passed_cases():
    text = MIXED + '[[case]]\nname = "overflow"\nmodel = "log(exp(w))"\nloss = "none"\n'
    text += "at = {w = 100}\n"
    specs = specs_of(text)
    full, slim = cases.Runner(), cases.Runner(details=False)
    passed, failed = specs[0], specs[-1]
    kept, dropped = full.run(0, passed).result, slim.run(0, passed).result
    with pytest.raises(LookupError, match="formula of d loss/d w was not sent"):
        print(dropped.gradients[0].formula)
    assert [g.formula for g in kept.gradients] == ["2*x*(b + w*x - y)", "2*b + 2*w*x - 2*y"]
    for mine, theirs in zip(kept.gradients, dropped.gradients, strict=True):
        assert (mine.verdict, mine.exact, mine.autograd) == (
            theirs.verdict,
            theirs.exact,
            theirs.autograd,
        )
    assert slim.run(1, failed).result.gradients[0].formula == "1"  # d/dw log(exp(w))


LEAN = ("w*x*{k}+b", "tanh(w*x+{k})*v", "w*x**2+b*{k}", "sigmoid(w*x-{k})+b", "abs(w-{k})*x+b")
ANALYSIS = ("expression", "bound", "tolerance", "kappa", "ill_conditioned", "bound_method")
ANALYSIS += ("contributions", "note", "ladder")


def test_a_runner_without_details_leaves_out_only_bounds_no_verdict_reads():
    """details=False: a gradient autograd got as its exact value rounded (in float32, or on the
    float64 rung) passes without that bound; every other field is a full run's, and a check
    that does not pass comes whole (its report shows the analysis)."""
    models = [t.format(k=k) for k in (1, 2, 3, 100) for t in LEAN] + ["abs(w)*x+b"]
    text = "\n".join(models) + "\n"
    specs = load_cases("models.txt", text, fmt="text") + specs_of(
        '[[case]]\nmodel = "abs(w)*x+b"\nat = {w = 0}\n'
    )
    full, lean = cases.Runner(), cases.Runner(details=False)
    left_out, failed = [0, 0], 0
    for index, spec in enumerate(specs):
        whole, slim = full.run(index, spec).result, lean.run(index, spec).result
        assert slim.status == whole.status
        failed += not whole.ok
        for g, s in zip(whole.gradients, slim.gradients, strict=True):
            rest = {f.name for f in dataclasses.fields(g)} - set(ANALYSIS)
            assert {n: getattr(s, n) for n in rest} == {n: getattr(g, n) for n in rest}
            if not whole.ok:
                assert s.analysed and str(s.expression) == str(g.expression)
            if s.tolerance is None:  # only where autograd is the exact value rounded
                assert g.autograd == float(np.float32(g.exact)) and s.verdict in ("pass", "kink")
                assert s.bound is None and s.kappa is None and whole.ok
                left_out[0] += 1
            else:
                assert [getattr(s, n) for n in ANALYSIS[1:-1]] == [
                    getattr(g, n) for n in ANALYSIS[1:-1]
                ]
            if s.ladder.tolerance is None:
                assert g.ladder.autograd == g.exact and s.ladder.passed
                left_out[1] += 1
            else:
                assert s.ladder == g.ladder
            assert (s.ladder.autograd, s.ladder.abs_error) == (
                g.ladder.autograd,
                g.ladder.abs_error,
            )
    assert left_out[0] >= 3 and left_out[1] >= 10 and failed >= 1, (left_out, failed)
