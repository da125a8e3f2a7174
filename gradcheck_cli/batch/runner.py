"""Run many checks: case specs in, one outcome per case (and seed) out.

A pure library (no printing). Each distinct model and options (all but the seed) is prepared
once (parse, roles, SymPy gradients, lowering) and run for every seed that uses it. Nothing in
one case stops the others: a ``GradcheckError`` becomes that case's ``error`` outcome, and so
does any other exception (``internal error in <stage>: ...``, its traceback in ``detail``) and
a case that runs past its ``timeout`` (``timed out after N s``). With ``workers > 1`` the cases
run in worker processes (``pool.py``), grouped by model; a worker that dies costs only the case
it was running. Outcomes are always in input order, so the output does not depend on workers.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from gradcheck_cli.batch.casefile import CaseSpec, load_cases
from gradcheck_cli.batch.chunks import chunks
from gradcheck_cli.batch.guard import internal_error, time_limit
from gradcheck_cli.batch.sent import without_formulas
from gradcheck_cli.errors import GradcheckError, TimeLimit
from gradcheck_cli.options import OPTIONS, Options, make_options, with_seed
from gradcheck_cli.provenance import versions
from gradcheck_cli.results import CheckResult

__all__ = ["BatchInterrupted", "BatchResult", "CaseOutcome", "Runner", "check_file"]
__all__ += ["max_workers", "model_cases", "run_cases"]

COMMAND_LINE = "<command line>"
# A case's status is its CheckResult.status ("pass", "fail", "kink", "undefined") or "error".
# Success (exit code 0) is the result's own ``ok``: a pass, or a kink unless strict.
_SUMMARY_NAMES = {"pass": "passed", "fail": "failed", "error": "error"}


@dataclass(frozen=True)
class CaseOutcome:
    """One case at one seed: its result, or the message of the error that stopped it."""

    index: int  # position in the input: outcomes are reported in this order
    case: str
    source: str
    line: int
    seed: int
    model: str
    status: str  # "pass" | "fail" | "error" | any further status of CheckResult.status
    spec: CaseSpec = dataclasses.field(compare=False, repr=False)  # with every key, as given
    result: CheckResult | None = None
    error: str = ""
    time_s: float = dataclasses.field(default=0.0, compare=False)
    detail: str = dataclasses.field(default="", compare=False)  # an internal error's traceback

    @property
    def ok(self) -> bool:
        return self.result is not None and self.result.ok

    def to_dict(self) -> dict[str, Any]:
        head = {"case": self.case, "source": self.source, "line": self.line}
        if self.result is None:
            return {
                **head,
                "status": "error",
                "model": self.model,
                "seed": self.seed,
                "error": self.error,
                "detail": self.detail,
            }
        return {**head, **self.result.to_dict()}


@dataclass(frozen=True)
class BatchResult:
    outcomes: tuple[CaseOutcome, ...]
    total: int | None = None  # cases asked for, when fewer finished (an interrupted run)

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)

    def summary(self) -> dict[str, int]:
        """``{"total": 14, "passed": 12, "failed": 1, "error": 1}`` (+ any other status)."""
        counts = {"total": len(self.outcomes), "passed": 0, "failed": 0, "error": 0}
        for outcome in self.outcomes:
            key = _SUMMARY_NAMES.get(outcome.status, outcome.status)
            counts[key] = counts.get(key, 0) + 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        cases = [o.to_dict() for o in self.outcomes]
        return {"cases": cases, "summary": self.summary(), "versions": dict(versions())}


def spec_options(spec: CaseSpec) -> Options:
    """The ``Options`` of a case: its fields that are options (every entry of the option table
    but the case's name, model and seed sweep), the loss options grouped. ``()`` in a spec
    means "not given", which ``Options`` spells ``None`` for names."""
    values = {
        name: getattr(spec, name) for name, option in OPTIONS.items() if option.field and option.key
    }
    for key in ("inputs", "params"):
        if values.get(key) == ():
            values[key] = None
    if spec.source != "<stdin>":  # its lower / impl modules are found beside the file
        values["code_dir"] = os.path.dirname(os.path.abspath(spec.source))
    return make_options(values)


KEPT = 8  # prepared models a runner keeps (all: every full gc pass walked 1000 models)


class Runner:
    """Runs cases one by one; a (model, options but the seed) is prepared once for the cases
    that use it one after another (a chunk, a seed sweep)."""

    def __init__(self, details: bool = True) -> None:
        self._prepared: dict[Any, Any] = {}  # key -> Prepared or the GradcheckError it raised
        self.prepare_calls = 0
        # False: a passed case's result comes without what only JSON shows (``run_cases``)
        self.details = details

    def run(self, index: int, spec: CaseSpec) -> CaseOutcome:
        """One case, whatever happens in it (KeyboardInterrupt alone goes through)."""
        start = time.perf_counter()
        key = None
        try:
            options = spec_options(spec)
            key = (spec.model, with_seed(options, 0))
            with time_limit(options.timeout):
                prepared = self._prepare(key, options)
                from gradcheck_cli import pipeline as core

                result = core.run(prepared, options.seed, analysis=self.details)
        except GradcheckError as exc:
            return _outcome(index, spec, None, str(exc), time.perf_counter() - start)
        except (Exception, TimeLimit) as exc:
            # a half-prepared model (an interrupted trace) is not used again
            self._prepared.pop(key, None)
            lost = str(exc) if isinstance(exc, TimeLimit) else internal_error(exc)
            detail = getattr(lost, "detail", "")
            return _outcome(index, spec, None, str(lost), time.perf_counter() - start, detail)
        result = result if self.details or not result.ok else without_formulas(result)
        return _outcome(index, spec, result, "", time.perf_counter() - start)

    def _prepare(self, key: Any, options: Options) -> Any:
        """The prepared model of ``key``; the ``KEPT`` last used are kept, not all."""
        found = self._prepared.pop(key, None)
        if found is None:
            from gradcheck_cli import pipeline as core

            self.prepare_calls += 1
            try:
                found = core.prepare(key[0], options)
            except GradcheckError as exc:
                found = exc
        self._prepared[key] = found  # the most recent last
        if len(self._prepared) > KEPT:
            del self._prepared[next(iter(self._prepared))]
        if isinstance(found, GradcheckError):
            raise found
        return found


def _outcome(
    index: int,
    spec: CaseSpec,
    result: CheckResult | None,
    error: str,
    time_s: float,
    detail: str = "",
) -> CaseOutcome:
    return CaseOutcome(
        index=index,
        case=spec.name,
        source=spec.source,
        line=spec.line,
        seed=spec.seed,
        model=spec.model,
        status="error" if result is None else result.status,
        result=result,
        error=error,
        time_s=time_s,
        spec=spec,
        detail=detail,
    )


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl-C during ``run_cases``: ``batch`` holds the outcomes that finished before it
    (``batch.total`` the number of cases asked for)."""

    def __init__(self, batch: BatchResult) -> None:
        super().__init__()
        self.batch = batch


def max_workers() -> int:
    """The CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def run_cases(
    specs: Sequence[CaseSpec],
    workers: int = 1,
    on_result: Callable[[CaseOutcome], None] | None = None,
    *,
    worker_init: Callable[[], None] | None = None,
    details: bool = True,
) -> BatchResult:
    """Run every case; ``on_result`` is called with each outcome, in input order, as soon as
    it and all the cases before it have finished. ``workers`` is capped by the number of
    cases and of CPUs. ``worker_init`` (picklable) runs first in each worker process (tests
    use it to inject faults). ``details=False``: a passed case's result comes without what
    only JSON shows, which a report of the failed cases alone does not read: its formulas
    (printing them is a worker's costliest step after the check) and the rounding bounds a
    pass by the exact value rounded does not need (``pipeline.run``'s ``analysis``). Ctrl-C
    raises ``BatchInterrupted`` with what finished."""
    if workers < 1:
        raise ValueError(f"workers must be 1 or more, got {workers}")
    workers = min(workers, len(specs), max_workers())
    emitter = _InOrder(on_result)
    try:
        if workers <= 1:
            runner = Runner(details)
            for index, spec in enumerate(specs):
                emitter.add([runner.run(index, spec)])
        else:
            from gradcheck_cli.batch import pool

            pool.run_pool(
                chunks(list(enumerate(specs)), workers),
                workers,
                runner=partial(Runner, details),
                emit=lambda outcome: emitter.add([outcome]),
                lost=_lost,
                worker_init=worker_init,
            )
    except KeyboardInterrupt:
        done = tuple(sorted(emitter.outcomes, key=lambda o: o.index))
        raise BatchInterrupted(BatchResult(done, total=len(specs))) from None
    return BatchResult(tuple(sorted(emitter.outcomes, key=lambda o: o.index)))


def _lost(index: int, spec: CaseSpec, message: str, time_s: float) -> CaseOutcome:
    """The outcome of a case whose worker died (or was stopped) while running it."""
    return _outcome(index, spec, None, message, time_s)


class _InOrder:
    """Collects outcomes and hands them to the callback in input order."""

    def __init__(self, callback: Callable[[CaseOutcome], None] | None) -> None:
        self.callback = callback
        self.outcomes: list[CaseOutcome] = []
        self._waiting: dict[int, CaseOutcome] = {}
        self._next = 0

    def add(self, outcomes: Iterable[CaseOutcome]) -> None:
        for outcome in outcomes:
            self.outcomes.append(outcome)
            self._waiting[outcome.index] = outcome
        while self._next in self._waiting:
            outcome = self._waiting.pop(self._next)
            self._next += 1
            if self.callback is not None:
                self.callback(outcome)


def model_cases(
    model: str, defaults: Mapping[str, Any] | None = None, max_checks: int | None = None
) -> list[CaseSpec]:
    """The cases of one model given on the command line: one per seed of ``defaults["seeds"]``.

    ``defaults`` are validated as case-file keys (raises ``CaseFileError``)."""
    specs = load_cases(
        COMMAND_LINE, text="model", defaults=defaults, fmt="text", max_checks=max_checks
    )
    return [
        dataclasses.replace(spec, model=model, name=model + spec.name.removeprefix("line 1"))
        for spec in specs
    ]


def check_file(path: str | os.PathLike[str], *, workers: int = 1, **defaults: Any) -> BatchResult:
    """Load a case file (TOML, or one model a line) and run every case in it.

    ``defaults`` are case-file keys (``loss="mse"``, ``seeds="1..20"``, ...) that lie under
    the file's own values. Raises ``CaseFileError`` if the file is unreadable or invalid.
    """
    return run_cases(load_cases(os.fspath(path), defaults=defaults), workers=workers)
