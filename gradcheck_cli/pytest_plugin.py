"""pytest plugin: every ``*.gradcheck.toml`` file is a test module, each case (and seed) a test.

Registered under ``[project.entry-points.pytest11]``, so it loads in every pytest run of every
project that installs gradcheck: importing it, and looking at paths that are not case files,
imports nothing heavy. The case-file reader (standard library) is imported when a case file is
collected; torch and SymPy only when a case runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

SUFFIX = ".gradcheck.toml"


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.name.endswith(SUFFIX):
        return GradcheckFile.from_parent(parent, path=file_path)
    return None


class CaseFailed(Exception):
    """A case ran and did not pass; carries its outcome for ``repr_failure``."""

    def __init__(self, outcome: Any) -> None:
        super().__init__(outcome.case)
        self.outcome = outcome


class GradcheckFile(pytest.File):
    def collect(self) -> Any:
        from gradcheck_cli.batch.casefile import CaseFileError, load_cases

        try:
            specs = load_cases(str(self.path))
        except CaseFileError as exc:
            raise self.CollectError("gradcheck case file errors:\n" + str(exc)) from None
        for index, spec in enumerate(specs):
            yield GradcheckItem.from_parent(self, name=spec.name, spec=spec, index=index)

    def runner(self) -> Any:
        """One runner per file, so each model is prepared once for all its seeds."""
        if not hasattr(self, "_runner"):
            from gradcheck_cli.batch.runner import Runner

            self._runner = Runner()
        return self._runner


class GradcheckItem(pytest.Item):
    def __init__(self, *, spec: Any, index: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.index = index

    def runtest(self) -> None:
        outcome = self.parent.runner().run(self.index, self.spec)
        if not outcome.ok:
            raise CaseFailed(outcome)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if not isinstance(excinfo.value, CaseFailed):
            return super().repr_failure(excinfo, style)
        outcome = excinfo.value.outcome
        where = f"{outcome.source}:{outcome.line}: case {outcome.case!r} ({outcome.model})"
        if outcome.result is None:
            return f"{where}\nError: {outcome.error}" + (
                f"\n{outcome.detail}" * bool(outcome.detail)
            )
        from gradcheck_cli.report.text import text

        # the width the report needs, not pytest's: a failure's numbers are never cut
        return f"{where}\n{text(outcome.result, brief=bool(self.spec.brief))}"

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.spec.line - 1, f"gradcheck case {self.spec.name}"
