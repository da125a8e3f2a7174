"""Instructions per batch case, counted by callgrind: a measure the machine's drift leaves alone.

Wall time on the 2-core machine drifts by a third within an hour; callgrind counts the
instructions a process runs, the same however busy the machine is. Each tree runs a batch
``Runner`` (as a worker does, details off) over the first N models of the speed benchmark's
file, and over none; the difference over N is the work of a case. With ``--baseline TREE``
(another checkout's directory holding ``gradcheck_cli``) the same is counted for it, and the
ratio printed. Needs valgrind (Debian's package); each tree takes minutes.

    .venv/bin/python benchmarks/instructions.py --cases 150 --baseline /path/to/old/checkout
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from speed import batch_file

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = """
import sys
import gradcheck_cli.batch.warm
from gradcheck_cli.batch import runner
from gradcheck_cli.batch.casefile import load_cases
path, n = sys.argv[1], int(sys.argv[2])
specs = load_cases(path, text=open(path).read(), fmt="text")[:n]
r = runner.Runner(False)  # details off (named formulas in older trees)
for i, s in enumerate(specs):
    r.run(i, s)
"""


def collected(tree: Path, cases: int, models: Path, script: Path) -> int:
    """Instructions callgrind counts for the script over ``cases`` models, ``tree`` first on
    the path (run outside any checkout, so that the current directory does not shadow it)."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            str(script),
            str(models),
            str(cases),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tempfile.gettempdir(),
        check=True,
    )
    return int(re.search(r"Collected : (\d+)", done.stderr).group(1))


def per_case(tree: Path, cases: int, models: Path, script: Path) -> float:
    return (collected(tree, cases, models, script) - collected(tree, 0, models, script)) / cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=150)
    parser.add_argument("--baseline", type=Path, help="another tree holding gradcheck_cli")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        models, script = Path(tmp, "models.txt"), Path(tmp, "cases.py")
        models.write_text(batch_file(args.cases))
        script.write_text(SCRIPT)
        now = per_case(ROOT, args.cases, models, script)
        print(f"this tree: {now / 1e6:.2f} million instructions a case ({args.cases} cases)")
        if args.baseline:
            base = per_case(args.baseline.resolve(), args.cases, models, script)
            print(f"baseline:  {base / 1e6:.2f} million instructions a case")
            print(f"ratio:     {now / base:.2f}x")


if __name__ == "__main__":
    main()
