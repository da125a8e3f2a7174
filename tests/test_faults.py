"""Nothing kills a batch, nothing hangs, nothing is lost: faults injected on purpose.

In-process (typer's CliRunner) wherever the fault can be made there: an exception inside one
case, a timeout, Ctrl-C, a broken pipe, a narrow output encoding, bad input files. A real
process only where it is the point: a worker killed by SIGKILL, a closed stdout, /dev/full.
"""

import gc
import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import gradcheck

from gradcheck_cli import pipeline as core
from gradcheck_cli.batch.guard import time_limit
from gradcheck_cli.batch.runner import model_cases, run_cases
from gradcheck_cli.errors import ExitCode, TimeLimit

GRADCHECK = Path(sys.executable).with_name("gradcheck")


def kill_on_seed_2():
    """worker_init for a worker process: the worker SIGKILLs itself on the case of seed 2."""
    from gradcheck_cli.batch import runner

    real = runner.Runner.run

    def run(self, index, spec):
        if spec.seed == 2:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(self, index, spec)

    runner.Runner.run = run


def test_a_killed_worker_costs_only_its_case():
    specs = model_cases("w*x+b", {"seeds": "1..6"})  # chunks [1, 2, 3] and [4, 5, 6]
    seen = []
    batch = run_cases(specs, workers=2, on_result=seen.append, worker_init=kill_on_seed_2)
    assert [(o.seed, o.status, o.error) for o in batch.outcomes] == [
        (1, "pass", ""),
        (2, "error", "worker died (signal 9)"),
        (3, "pass", ""),  # the rest of the dead worker's chunk ran in a fresh worker
        (4, "pass", ""),
        (5, "pass", ""),
        (6, "pass", ""),
    ]
    assert [o.seed for o in seen] == [1, 2, 3, 4, 5, 6]


def die_at_start():
    """worker_init: the worker SIGKILLs itself before it is ready."""
    os.kill(os.getpid(), signal.SIGKILL)


def test_workers_that_cannot_start_fail_every_case_once_and_stop():
    specs = model_cases("w*x+b", {"seeds": "1..4"})
    batch = run_cases(specs, workers=2, worker_init=die_at_start)
    assert [(o.status, o.error) for o in batch.outcomes] == [
        ("error", "worker could not start (signal 9)")
    ] * 4


def stuck_on_seed_2():
    """worker_init: SIGALRM blocked (as in native code, where it cannot reach Python), and
    the case of seed 2 takes 30 s."""
    from gradcheck_cli.batch import runner

    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    real = runner.Runner.run

    def run(self, index, spec):
        if spec.seed == 2:
            time.sleep(30)
        return real(self, index, spec)

    runner.Runner.run = run


def test_a_worker_stuck_past_its_case_limit_is_killed_and_costs_only_that_case(monkeypatch):
    from gradcheck_cli.batch import pool

    monkeypatch.setattr(pool, "GRACE", 0.5)
    specs = model_cases("w*x+b", {"seeds": "1..4", "timeout": 1.0})  # chunks [1, 2], [3, 4]
    start = time.monotonic()
    batch = run_cases(specs, workers=2, worker_init=stuck_on_seed_2)
    assert [(o.seed, o.status, o.error) for o in batch.outcomes] == [
        (1, "pass", ""),
        (2, "error", "timed out after 1 s"),  # killed by the parent: 1 s + GRACE after it began
        (3, "pass", ""),
        (4, "pass", ""),
    ]
    assert time.monotonic() - start < 20


@pytest.fixture
def boom_on_second_model(monkeypatch):
    real = core.run

    def run(prepared, seed=None, **how):
        if prepared.expr.text == "w*x**2+b":
            raise ValueError("injected bug")
        return real(prepared, seed, **how)

    monkeypatch.setattr(core, "run", run)


def test_an_unexpected_exception_is_one_error_and_every_report_is_written(
    tmp_path, boom_on_second_model
):
    models = tmp_path / "models.txt"
    models.write_text("w*x+b\nw*x**2+b\ntanh(w)*x\n")
    junit = tmp_path / "junit.xml"
    out = gradcheck("--file", models, "--format", "json", "--junit", junit)
    assert out.exit_code == 1, out.stderr
    doc = json.loads(out.stdout)
    assert doc["summary"] == {"total": 3, "passed": 2, "failed": 0, "error": 1}
    bad = doc["cases"][1]
    assert bad["error"] == "internal error in batch.runner: ValueError: injected bug"
    assert "Traceback" in bad["detail"] and "injected bug" in bad["detail"]
    error = ET.parse(junit).getroot().find("testsuite").findall("testcase")[1].find("error")
    assert error.get("message") == bad["error"] and "Traceback" in error.text


def test_an_unexpected_exception_in_a_single_check_is_one_line_exit_3(boom_on_second_model):
    out = gradcheck("w*x**2+b")
    assert out.exit_code == ExitCode.INTERNAL == 3
    assert out.stderr == "Error: internal error in pipeline: ValueError: injected bug\n"
    debug = gradcheck("w*x**2+b", "--debug")
    assert debug.exit_code == 3 and "Traceback (most recent call last)" in debug.stderr


def test_timeout_of_a_single_check_and_of_a_case(monkeypatch):
    real = core.run

    def slow(prepared, seed=None, **how):
        if seed in (None, 2) or prepared.options.seed == 7:
            time.sleep(30)  # interrupted by SIGALRM
        return real(prepared, seed, **how)

    monkeypatch.setattr(core, "run", slow)
    start = time.monotonic()
    single = gradcheck("w*x+b", "--seed", "7", "--timeout", "0.2")
    assert single.exit_code == ExitCode.TIMEOUT == 4
    assert single.stderr == "Error: timed out after 0.2 s (--timeout)\n"
    batch = gradcheck("w*x+b", "--seeds", "1..3", "--timeout", "0.2", "--format", "jsonl")
    assert batch.exit_code == 1
    docs = [json.loads(line) for line in batch.stdout.splitlines()]
    assert [(d["status"], d.get("error")) for d in docs] == [
        ("pass", None),
        ("error", "timed out after 0.2 s"),
        ("pass", None),
    ]
    assert time.monotonic() - start < 15


def test_a_real_long_check_is_interrupted():
    """Long mpmath arithmetic (a slow exact side) is interrupted too, not only sleeps."""
    start = time.monotonic()
    out = gradcheck("tanh(w*x+b)**3", "--samples", "20000", "--timeout", "0.5")
    assert out.exit_code == 4, out.stderr
    assert time.monotonic() - start < 10


def test_an_alarm_that_lands_where_python_swallows_it_is_followed_by_another(monkeypatch):
    """An exception raised in ``__del__`` (or a gc callback) cannot propagate: Python reports
    it as unraisable and goes on. The time limit fires again, so the check still stops."""
    swallowed = []
    monkeypatch.setattr(sys, "unraisablehook", lambda report: swallowed.append(report.exc_type))

    class SlowFinalizer:
        def __del__(self):
            time.sleep(2)  # the first alarm interrupts this sleep: its TimeLimit is swallowed

    start = time.monotonic()
    with pytest.raises(TimeLimit), time_limit(0.05):
        SlowFinalizer()  # finalized at once (no reference kept)
        time.sleep(5)
    assert swallowed == [TimeLimit]
    assert time.monotonic() - start < 2


def test_an_alarm_in_a_gc_callback_waits_for_the_next_one(monkeypatch):
    """hypothesis times the garbage collector with a gc callback: an alarm that lands there
    is not raised there (Python would swallow it and report it); the next one is."""
    swallowed = []
    monkeypatch.setattr(sys, "unraisablehook", lambda report: swallowed.append(report.exc_type))
    slept = []

    def slow_callback(phase, info):
        if not slept:
            slept.append(phase)
            time.sleep(0.3)  # the first alarm (0.05 s) lands here

    gc.callbacks.append(slow_callback)  # the list gc reads: changed in place
    start = time.monotonic()
    try:
        with pytest.raises(TimeLimit), time_limit(0.05):
            gc.collect()
            time.sleep(5)
    finally:
        gc.callbacks.remove(slow_callback)
    assert (slept, swallowed) == (["start"], [])
    assert time.monotonic() - start < 2


def test_ctrl_c_in_a_batch_exits_130_without_a_half_report(tmp_path, monkeypatch):
    real = core.run
    junit = tmp_path / "junit.xml"
    junit.write_text("old report\n")

    def run(prepared, seed=None, **how):
        if seed == 3:
            raise KeyboardInterrupt
        return real(prepared, seed, **how)

    monkeypatch.setattr(core, "run", run)
    out = gradcheck("w*x+b", "--seeds", "1..5", "--junit", junit, "--format", "jsonl")
    assert out.exit_code == ExitCode.INTERRUPTED == 130
    assert len(out.stdout.splitlines()) == 2  # what finished
    assert "interrupted: 2 of 5 cases finished (2 passed); no report written" in out.stderr
    assert junit.read_text() == "old report\n"  # untouched: complete or absent


def test_junit_may_not_overwrite_an_input(tmp_path):
    cases = tmp_path / "cases.toml"
    cases.write_text('[[case]]\nmodel = "w*x+b"\n')
    out = gradcheck("--file", cases, "--junit", cases)
    assert out.exit_code == 2
    assert out.stderr.startswith("Error: --junit ") and "would be overwritten" in out.stderr
    assert cases.read_text() == '[[case]]\nmodel = "w*x+b"\n'


def test_junit_through_a_symlink_replaces_its_target(tmp_path):
    target = tmp_path / "reports" / "junit.xml"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "junit.xml"
    link.symlink_to(target)
    out = gradcheck("w*x+b", "--junit", link)
    assert out.exit_code == 0, out.stderr
    assert link.is_symlink() and ET.parse(target).getroot().get("tests") == "1"


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda p: os.mkfifo(p), "a FIFO"),
        (lambda p: p.mkdir(), "a directory"),
        (None, "a character device"),
    ],
)
def test_case_files_must_be_regular_files(tmp_path, make, kind):
    path = tmp_path / "cases.toml"
    if make is None:
        path = Path("/dev/zero")
    else:
        make(path)
    out = gradcheck("--file", path)  # a FIFO with no writer: no wait
    assert out.exit_code == 2
    assert out.stderr == (
        f"Error: {path}: cannot read file: not a regular file ({kind}); use --file - for a pipe\n"
    )


def test_case_files_are_bounded(tmp_path):
    big = "#" * (10 * 1024 * 1024 + 1)
    out = gradcheck("--file", "-", input=big)
    assert out.stderr == "Error: <stdin>: cannot read file: larger than 10 MB\n"
    deep = tmp_path / "deep.toml"
    deep.write_text('[[case]]\nmodel = "w"\nat = ' + "[" * 3000 + "]" * 3000 + "\n")
    out = gradcheck("--file", deep)
    assert out.exit_code == 2
    assert out.stderr == f"Error: {deep}:1: TOML nested too deeply (more than 32 levels)\n"
    many = tmp_path / "many.toml"
    many.write_text('[[case]]\nmodel = "w*x+b"\nseeds = "1..60"\n' * 1)
    out = gradcheck("--file", many, "--file", many, "--max-checks", "100")
    assert out.exit_code == 2
    assert "more than 100 checks (cases x seeds) in one run" in out.stderr


def test_a_reader_that_goes_away_ends_the_run_quietly(monkeypatch):
    def gone(*args, **kwargs):
        raise BrokenPipeError(32, "Broken pipe")

    from gradcheck_cli.report import batch as batchreport

    monkeypatch.setattr(batchreport, "case_line", gone)
    out = gradcheck("w*x+b", "--seeds", "1..3")
    assert out.exit_code == ExitCode.BROKEN_PIPE == 141
    assert out.stderr == ""


def test_a_narrow_output_encoding_gets_replacement_characters():
    from typer.testing import CliRunner

    from gradcheck_cli.cli import app

    out = CliRunner(charset="ascii").invoke(
        app, ["w*x+b", "--seed", "1", "--expect", "w=-1.4793"], catch_exceptions=False
    )
    assert out.exit_code == 1  # a mistake, not an encoding error
    assert "mistake" in out.stdout and "?0.00025" in out.stdout


def test_closed_and_full_stdout_are_one_line_errors():
    """Real processes: what a closed fd 1 and /dev/full do is what is tested."""
    script = f"exec {GRADCHECK} w*x+b --seeds 1..2 >&-; "
    out = subprocess.run(["bash", "-c", script], stderr=subprocess.PIPE)
    assert out.returncode == 2
    assert out.stderr.decode() == "Error: cannot write to standard output: it is closed\n"
    if os.path.exists("/dev/full"):
        with open("/dev/full", "w") as full:
            out = subprocess.run([GRADCHECK, "--version"], stdout=full, stderr=subprocess.PIPE)
        assert out.returncode == 2
        expected = "Error: cannot write to standard output: No space left on device\n"
        assert out.stderr.decode() == expected
