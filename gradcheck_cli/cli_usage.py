"""How the command line is used: a short usage, examples, and usage errors in one line.

typer (click) reports a usage error (an unknown option, a bad ``--format``, a flag given a
value) in a box with the usage above it; ``Command`` turns each into the same one line as every
other error of gradcheck, ``Error: ...`` on stderr with exit code 2, with a suggestion where one
is close (``--stirct``: did you mean ``--strict``?). Without any argument it prints a short usage
with examples, which ``--help`` shows too.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperCommand

from gradcheck_cli.cli_values import install
from gradcheck_cli.errors import ExitCode
from gradcheck_cli.values import closest, suggest

EXAMPLES = (
    ('gradcheck "w*x+b"', "the autograd tutorial's check"),
    ('gradcheck "tanh(w*x+b)" --seeds 1..20', "twenty seeds, one line each"),
    ('gradcheck "w*x+b" --expect w=-1.0601', "a hand value: rounding or mistake?"),
)
USAGE = "Usage: gradcheck MODEL [OPTIONS]   or   gradcheck --file CASES [OPTIONS]"


def examples(indent: str = "  ") -> str:
    width = max(len(command) for command, _ in EXAMPLES)
    return "\n".join(f"{indent}{command:<{width}}  {what}" for command, what in EXAMPLES)


def short_usage() -> str:
    """What ``gradcheck`` alone prints (to stderr, exit 2)."""
    return f"{USAGE}\n\nExamples:\n{examples()}\n\nEvery option: gradcheck --help"


EPILOG = f"Examples:\n\n\b\n{examples()}"  # \b: click keeps the lines as they are
_BOOLEANS = {"true", "false", "yes", "no", "on", "off", "1", "0"}


class Command(TyperCommand):
    """The gradcheck command: typer's, with usage errors in gradcheck's one-line style (and
    its values converted without pydantic where typer's conversion is plain, ``cli_values``)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        install(self.get_params(ctx))
        return super().parse_args(ctx, args)

    def main(  # type: ignore[override]
        self, args: Sequence[str] | None = None, prog_name: str | None = None, **extra: Any
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        name = prog_name or "gradcheck"
        completing = f"_{name}_COMPLETE".replace("-", "_").upper() in os.environ
        if not argv and not completing:
            _echo(short_usage())
            sys.exit(ExitCode.USAGE)
        extra["standalone_mode"] = False
        try:
            code = super().main(argv, name, **extra)
        except typer.Abort:
            _echo("Error: aborted")
            code = ExitCode.FAILED
        except typer.TyperException as exc:  # click's usage errors derive from it
            _echo(f"Error: {self.one_line(exc, argv)}")
            code = getattr(exc, "exit_code", ExitCode.USAGE)
        sys.exit(code if isinstance(code, int) else 0)

    def one_line(self, exc: typer.TyperException, argv: list[str]) -> str:
        """A usage error of typer as one line, with a suggestion where one is close."""
        option = getattr(exc, "option_name", None)
        if getattr(exc, "possibilities", None) is not None and option:
            close = closest(option, self.option_names())
            hint = f" (did you mean {close!r}?)" if close else " (see gradcheck --help)"
            return f"unknown option {option!r}{hint}"
        param = getattr(exc, "param", None)
        if param is not None and getattr(param, "opts", None):
            return _bad_value(exc, param, argv)
        message = exc.format_message()
        if message.startswith("Got unexpected extra argument"):
            return self.extra_arguments(argv, message)
        return message[:1].lower() + message[1:].rstrip(".")

    def option_names(self) -> list[str]:
        return [o for p in self.params for o in (*p.opts, *p.secondary_opts) if o.startswith("-")]

    def extra_arguments(self, argv: list[str], message: str) -> str:
        flags = {o for p in self.params if getattr(p, "is_flag", False) for o in p.opts}
        for before, word in zip(argv, argv[1:], strict=False):
            if before in flags and word.lower() in _BOOLEANS:
                off = before.replace("--", "--no-", 1)
                no = f" or {off}" if off in self.option_names() else ""
                return f"{before} is a flag and takes no value: write {before}{no}, not {word!r}"
        extra = message.partition("argument(s) (")[2].removesuffix(")")
        return (
            f"more than one MODEL ({extra} after the first): quote the model, "
            'e.g. gradcheck "w*x + b"'
        )


def _bad_value(exc: typer.TyperException, param: Any, argv: list[str]) -> str:
    """``--format yaml``: unknown format 'yaml' (supported: ...), as values.convert says it."""
    option = max(param.opts, key=len)
    given = _given(argv, [*param.opts, *param.secondary_opts])
    choices = getattr(getattr(param, "type_descriptor", None), "choices", None)
    if choices and given is not None:
        names = [str(getattr(c, "value", c)) for c in choices]
        hint = suggest(given, names)
        label = option.lstrip("-")
        return f"unknown {label} {given!r} (supported: {', '.join(names)}){hint}"
    reason = str(getattr(exc, "message", exc)).removeprefix("Value error, ").partition(", ")[0]
    reason = reason.replace("Input should be", "must be").rstrip(".")
    return f"{option} {reason}" + (f", got {given!r}" if given is not None else "")


def _given(argv: list[str], opts: list[str]) -> str | None:
    """The last value typed for an option (``--format yaml`` or ``--format=yaml``)."""
    found = None
    for i, word in enumerate(argv):
        name, eq, value = word.partition("=")
        if name in opts:
            found = value if eq else (argv[i + 1] if i + 1 < len(argv) else None)
    return found


def _echo(text: str) -> None:
    try:
        typer.echo(text, err=True)
    except OSError:  # stderr closed or full: the exit code still tells
        pass
