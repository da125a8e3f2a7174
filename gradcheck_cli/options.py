"""The options of a check, declared once: ``OPTIONS`` is the one table they all come from.

From the table come the command-line options (``cli.py`` builds its typer parameters from
it), ``Options`` (its fields and defaults), the case-file keys and their checks
(``batch/casefile.py``: ``KEYS``, ``CaseSpec``), ``spec_options`` and the loss options.
Every value is checked once, by ``values.convert``, with the same message for a single
check and a batch. Pure standard library: ``gradcheck --help`` imports this module.

Roles: ``x`` is the input and ``y`` the target by default; every other symbol is a parameter.
What the user names explicitly wins over the defaults.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from gradcheck_cli.dtypes import DTYPES
from gradcheck_cli.errors import RoleError
from gradcheck_cli.values import MAX_SEED, MAX_SEEDS, BadValue, convert

MAX_SAMPLES = 100_000
DEFAULT_TIMEOUT = 60.0  # seconds a check may take (--timeout; 0: no limit)
MAX_TIMEOUT = 86_400.0
MAX_CHECKS = 100_000  # checks (cases x seeds) in one batch run unless the caller allows more
REDUCTIONS = ("mean", "sum")
MODES = ("reverse", "forward", "both")  # --mode: reverse (backward), forward (dual numbers)


VALUE_NAMES = {
    "str": "NAME",
    "int": "N",
    "number": "NUMBER",
    "names": "A,B",
    "table": "NAME=NUMBER",
    "hand": "NAME=VALUE",
    "seeds": "A..B",
    "refs": "NAME=MODULE:ATTR",
    "strings": "TEXT",
}


@dataclass(frozen=True)
class Option:
    """One option of a check: a case-file key and (``cli``) a command-line option."""

    name: str  # Options field, case-file key, and --name on the command line ('_' -> '-')
    kind: str  # "str" | "int" | "number" | "bool" | "names" | "table" | "hand" | "seeds"
    # | "refs" (name = "MODULE:ATTR") | "strings" (an array of texts)
    default: Any = None  # None: not given
    help: str = ""
    low: float | None = None  # inclusive bounds
    high: float | None = None
    above: float | None = None  # exclusive lower bound
    choices: tuple[str, ...] = ()
    flag: str = ""  # command-line spelling if not --name, e.g. "--full/--no-full"
    loss: bool = False  # a loss option: goes to Options.loss_options, not a field of its own
    field: bool = True  # a field of Options (False: the case's name, model, seed sweep)
    in_defaults: bool = True  # may be set by [defaults] and the caller (not: name, model)
    cli: bool = True  # a command-line option (False: name; the model is an argument)
    key: bool = True  # a case-file key (False: set by gradcheck itself, as code_dir)
    metavar: str = ""  # its value in --help (default: its choices, or its kind's VALUE_NAMES)

    def value_name(self) -> str | None:
        """What ``--help`` shows for its value: ``--seed N``, ``--dtype float32|float64``."""
        return self.metavar or "|".join(self.choices) or VALUE_NAMES.get(self.kind)


_LOSSES = (
    "Loss: mse, l1 (mae), huber, smooth_l1, bce, bce_logits, soft_margin, poisson_nll, "
    "gaussian_nll, none (the model output), or an expression in z and y."
)

OPTIONS: dict[str, Option] = {
    o.name: o
    for o in (
        Option("name", "str", field=False, in_defaults=False, cli=False),
        Option("model", "str", field=False, in_defaults=False, cli=False),
        Option("loss", "str", "mse", _LOSSES, metavar="NAME|EXPR"),
        Option(
            "seed",
            "int",
            1,
            "Seed: inputs from 10*seed, params from seed (seed 0: from 2**64-1); 1 is the "
            "tutorial's.",
            low=0,
            high=MAX_SEED,
        ),
        Option("seeds", "seeds", None, "Seed sweep 'A..B', e.g. '1..100'.", field=False),
        Option("samples", "int", 1, "Samples of every input and target.", low=1, high=MAX_SAMPLES),
        Option("dtype", "str", "float32", " or ".join(DTYPES) + ".", choices=tuple(DTYPES)),
        Option("reduction", "str", "mean", "Loss reduction: mean or sum.", choices=REDUCTIONS),
        Option("inputs", "names", None, "Input symbols, comma-separated."),
        Option("target", "str", None, "Target symbol (default y)."),
        Option("params", "names", None, "Parameters to differentiate."),
        Option("at", "table", (), "Fixed values NAME=NUMBER (repeatable or comma-separated)."),
        Option(
            "expect",
            "hand",
            (),
            "Hand-computed value NAME=VALUE of a gradient (NAME a parameter), of the loss "
            "(loss) or of the model output (z, or z[i] for sample i): rounding or mistake? "
            "(repeatable)",
        ),
        Option(
            "decimals",
            "int",
            None,
            "Inputs of the hand calculation rounded to K decimals (default: as typed).",
            low=0,
            high=30,
            metavar="K",
        ),
        Option("strict", "bool", False, "Count a kink (no derivative at the point) as a failure."),
        Option(
            "lower",
            "refs",
            (),
            "Lower function NAME to your own torch code MODULE:ATTR (a module importable from "
            "here or a .py file), checked against its mathematics (repeatable).",
        ),
        Option(
            "define",
            "strings",
            (),
            "Define a function: 'NAME(a, b) = EXPRESSION' in the model's grammar (repeatable).",
        ),
        Option(
            "impl",
            "str",
            None,
            "The model is your torch function MODULE:FUNC, called with one keyword tensor per "
            "symbol; the MODEL expression is its specification.",
            metavar="MODULE:FUNC",
        ),
        Option("code_dir", "str", None, field=True, in_defaults=False, cli=False, key=False),
        Option(
            "timeout",
            "number",
            DEFAULT_TIMEOUT,
            f"Seconds a check may take; 0: no limit [default: {DEFAULT_TIMEOUT:g}].",
            low=0,
            high=MAX_TIMEOUT,
            metavar="SECONDS",
        ),
        Option("brief", "bool", False, "Only the verdicts: the summary and a line per gradient."),
        Option(
            "order", "int", 1, "2: also every second derivative (double backward).", low=1, high=2
        ),
        Option(
            "mode",
            "str",
            "reverse",
            "reverse (backward), forward (dual numbers) or both.",
            choices=MODES,
        ),
        Option(
            "fd",
            "bool",
            False,
            "Also finite differences as torch.autograd.gradcheck takes them (float64, eps 1e-6) "
            "and the verdict its atol 1e-5 / rtol 1e-3 would give.",
        ),
        Option("delta", "number", None, "huber: delta (default 1).", above=0, loss=True),
        Option("beta", "number", None, "smooth_l1: beta (default 1).", low=0, loss=True),
        Option("eps", "number", None, "poisson_nll / gaussian_nll: eps.", above=0, loss=True),
        Option(
            "full",
            "bool",
            None,
            "poisson_nll / gaussian_nll: add the constant terms.",
            flag="--full/--no-full",
            loss=True,
        ),
        Option(
            "log_input",
            "bool",
            None,
            "poisson_nll: z is the log rate (default).",
            flag="--log-input/--no-log-input",
            loss=True,
        ),
        Option(
            "var",
            "number",
            None,
            "gaussian_nll: the constant variance (default 1).",
            above=0,
            loss=True,
        ),
    )
}
LOSS_OPTIONS = tuple(name for name, o in OPTIONS.items() if o.loss)  # delta, beta, ...


def _check_fields(self: Any) -> None:
    """``Options.__post_init__``: check every value once; store it in its canonical form."""
    for name, option in OPTIONS.items():
        if option.field and not option.loss:
            value = getattr(self, name)
            if value is not None or option.default is not None:
                object.__setattr__(self, name, convert(option, value))
    _check_fixed_values(self.at, self.dtype)
    texts = tuple((k, v if isinstance(v, str) else repr(v)) for k, v in self.expect)
    object.__setattr__(self, "expect", texts)  # hand values as typed: their decimals count
    given = []
    for name, value in self.loss_options:
        if name not in LOSS_OPTIONS:
            known = ", ".join(LOSS_OPTIONS)
            raise BadValue(f"unknown loss option {name!r} (loss options: {known})")
        given.append((name, convert(OPTIONS[name], value)))
    object.__setattr__(self, "loss_options", tuple(given))


def _check_fixed_values(at: tuple[tuple[str, float], ...], dtype: str) -> None:
    """Values fixed by hand must be numbers of the dtype: not beyond its range, not subnormal
    (nor rounding to 0) in it."""
    info = DTYPES[dtype]
    normal = info.tiny * 2.0 ** (info.bits - 1)
    for name, value in at:
        if abs(value) > info.max:
            raise BadValue(f"at {name} = {value:g} overflows {dtype} (largest {info.max:.4g})")
        if 0 < abs(value) < normal:
            raise BadValue(
                f"at {name} = {value:g} is subnormal in {dtype} (smallest normal {normal:.4g})"
            )


Options = dataclasses.make_dataclass(
    "Options",
    [
        (name, Any, dataclasses.field(default=o.default))
        for name, o in OPTIONS.items()
        if o.field and not o.loss
    ]
    + [("loss_options", tuple[tuple[str, float | bool], ...], dataclasses.field(default=()))],
    frozen=True,
    namespace={"__post_init__": _check_fields},
)
Options.__module__ = __name__
Options.__doc__ = (
    "Everything about a check except the model text: one field per entry of OPTIONS that is "
    "a field, and loss_options ((name, value) pairs of the loss options). 'at' holds "
    "(name, float) pairs, 'expect' (name, text as typed) pairs, 'inputs'/'params' tuples of "
    "names or None."
)


def with_seed(options: Any, seed: Any) -> Any:
    """``dataclasses.replace(options, seed=seed)`` checking the seed alone (every other value
    was checked when ``options`` was made): a batch does it twice a case."""
    found = copy.copy(options)
    object.__setattr__(found, "seed", convert(OPTIONS["seed"], seed))
    return found


def make_options(values: Mapping[str, Any]) -> Any:
    """``Options`` from a mapping of option names (None: not given); loss options grouped."""
    fields = {k: v for k, v in values.items() if v is not None and k not in LOSS_OPTIONS}
    loss = tuple((k, values[k]) for k in LOSS_OPTIONS if values.get(k) is not None)
    return Options(**fields, loss_options=loss)


ASSUMED_DECIMALS = 4  # the inputs of a hand value typed without decimals ('3'): torch prints 4


def hand_decimals(text: str, name: str, decimals: int | None) -> tuple[int, int, str]:
    """(K, the decimals of the answer, where K comes from) for the hand value ``text``.

    K, the decimals the inputs were rounded to, is ``--decimals`` if given, else the decimals
    typed; an integer ('3') says nothing about the inputs, so K is ASSUMED_DECIMALS there (the
    decimals torch prints) rather than 0, which would move every input by up to 0.5."""
    typed = decimals_typed(text, name)
    if decimals is not None:
        return decimals, typed, "--decimals"
    if typed == 0:
        return ASSUMED_DECIMALS, 0, "assumed"
    return typed, typed, "typed"


def decimals_typed(text: str, name: str = "") -> int:
    """Decimals of a typed number: '-1.4793' -> 4, '2' -> 0, '1.5e-3' -> 4."""
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise RoleError(f"--expect {name}: '{text}' is not a number") from None
    if not number.is_finite():
        raise RoleError(f"--expect {name}: value must be finite, got '{text}'")
    return max(0, -int(number.as_tuple().exponent))


__all__ = [
    "ASSUMED_DECIMALS",
    "DEFAULT_TIMEOUT",
    "LOSS_OPTIONS",
    "MAX_SAMPLES",
    "MAX_SEEDS",
    "OPTIONS",
    "Option",
    "Options",
    "decimals_typed",
    "hand_decimals",
    "make_options",
]
