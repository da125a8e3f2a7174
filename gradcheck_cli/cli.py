"""The command line: options in, one core call, output, exit code.

Imports nothing heavy at start-up: ``--help`` and parse errors never load torch or SymPy.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer

from gradcheck_cli import __version__
from gradcheck_cli.errors import ExitCode, GradcheckError

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Format(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    markdown = "markdown"


def _names(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _loss_options(**given: float | bool | None) -> tuple[tuple[str, float | bool], ...]:
    return tuple((name, value) for name, value in given.items() if value is not None)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gradcheck {__version__}")
        raise typer.Exit()


@app.command()
def gradcheck(
    model: Annotated[
        str | None, typer.Argument(help="Model expression, e.g. 'w*x+b' (or give --file).")
    ] = None,
    loss: Annotated[
        str,
        typer.Option(
            help="Loss: mse, l1 (mae), huber, smooth_l1, bce, bce_logits, soft_margin, "
            "poisson_nll, gaussian_nll, none (the model output), or an expression in z and y."
        ),
    ] = "mse",
    seed: Annotated[int, typer.Option(help="Seed: inputs from 10*seed, params from seed.")] = 0,
    dtype: Annotated[str, typer.Option(help="float32 or float64.")] = "float32",
    samples: Annotated[int, typer.Option(help="Samples of every input and target.")] = 1,
    reduction: Annotated[str, typer.Option(help="Loss reduction: mean or sum.")] = "mean",
    inputs: Annotated[str | None, typer.Option(help="Input symbols, comma-separated.")] = None,
    target: Annotated[str | None, typer.Option(help="Target symbol (default y).")] = None,
    params: Annotated[str | None, typer.Option(help="Parameters to differentiate.")] = None,
    at: Annotated[
        list[str] | None,
        typer.Option(help="Fixed values NAME=NUMBER (repeatable or comma-separated)."),
    ] = None,
    delta: Annotated[float | None, typer.Option(help="huber: delta (default 1).")] = None,
    beta: Annotated[float | None, typer.Option(help="smooth_l1: beta (default 1).")] = None,
    eps: Annotated[float | None, typer.Option(help="poisson_nll / gaussian_nll: eps.")] = None,
    var: Annotated[
        float | None, typer.Option(help="gaussian_nll: the constant variance (default 1).")
    ] = None,
    full: Annotated[
        bool | None,
        typer.Option(
            "--full/--no-full", help="poisson_nll / gaussian_nll: add the constant terms."
        ),
    ] = None,
    log_input: Annotated[
        bool | None,
        typer.Option(
            "--log-input/--no-log-input", help="poisson_nll: z is the log rate (default)."
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option(help="Count a kink (no derivative at the point) as a failure.")
    ] = False,
    expect: Annotated[
        list[str] | None,
        typer.Option(help="Hand-computed gradient NAME=VALUE: rounding or mistake? (repeatable)"),
    ] = None,
    decimals: Annotated[
        int | None,
        typer.Option(
            help="Inputs of the hand calculation rounded to K decimals (default: as typed)."
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show which operations lost the bits.")
    ] = False,
    fmt: Annotated[
        Format,
        typer.Option(
            "--format", help="Output: table, json, jsonl (one line per case) or markdown."
        ),
    ] = Format.table,
    files: Annotated[
        list[str] | None,
        typer.Option(
            "--file", help="Case file (TOML, or one model a line); repeatable; - reads stdin."
        ),
    ] = None,
    seeds: Annotated[str | None, typer.Option(help="Seed sweep 'A..B', e.g. '1..100'.")] = None,
    junit: Annotated[str | None, typer.Option(help="Also write a JUnit XML report here.")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Processes for batch runs.")] = 1,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            help="No progress bar; batch table shows only the cases that did not pass.",
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Check autograd's gradients of a model and loss against exact symbolic ones."""
    from gradcheck_cli.options import Options, parse_at, parse_expect

    if (model is None) == (not files):
        typer.echo("Error: give either a MODEL or --file (not both)", err=True)
        raise typer.Exit(int(ExitCode.USAGE))
    if files or seeds or junit or fmt in (Format.jsonl, Format.markdown):
        from gradcheck_cli import cli_batch as batchcli

        try:
            fixed = dict(parse_at(at or [])) or None
            hand = {k: float(v) for k, v in parse_expect(expect or [])} or None
        except GradcheckError as exc:
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(int(exc.exit_code)) from None
        defaults = {
            "loss": loss,
            "dtype": dtype,
            "samples": samples,
            "reduction": reduction,
            "inputs": _names(inputs),
            "target": target,
            "params": _names(params),
            "at": fixed,
            "expect": hand,
            "decimals": decimals,
            "strict": strict,
            "delta": delta,
            "beta": beta,
            "eps": eps,
            "var": var,
            "full": full,
            "log_input": log_input,
            **({"seeds": seeds} if seeds else {"seed": seed}),
        }
        raise typer.Exit(
            int(
                batchcli.run(
                    model,
                    files or [],
                    defaults,
                    fmt=fmt.value,
                    junit=junit,
                    workers=workers,
                    quiet=quiet,
                )
            )
        )
    try:
        options = Options(
            loss=loss,
            seed=seed,
            dtype=dtype,
            samples=samples,
            reduction=reduction,
            inputs=_names(inputs),
            target=target,
            params=_names(params),
            at=parse_at(at or []),
            strict=strict,
            expect=parse_expect(expect or []),
            decimals=decimals,
            loss_options=_loss_options(
                delta=delta, beta=beta, eps=eps, var=var, full=full, log_input=log_input
            ),
        )
        from gradcheck_cli.pipeline import check_options

        result = check_options(model, options)
    except GradcheckError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(int(exc.exit_code)) from None
    from gradcheck_cli.report.console import print_result

    print_result(result, fmt.value, verbose)
    raise typer.Exit(int(ExitCode.OK if result.ok else ExitCode.FAILED))


def main() -> None:
    app(prog_name="gradcheck")


if __name__ == "__main__":
    sys.exit(main())
