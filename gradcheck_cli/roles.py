"""The roles of a model's symbols: inputs, target and parameters, and the values fixed by hand.

``x`` is the input and ``y`` the target by default; every other symbol is a parameter. What the
user names explicitly wins over the defaults. Pure standard library.
"""

from __future__ import annotations

from dataclasses import dataclass

from gradcheck_cli.errors import RoleError


@dataclass(frozen=True)
class Roles:
    inputs: tuple[str, ...]
    target: str | None
    params: tuple[str, ...]


def assign_roles(
    symbols: tuple[str, ...],
    needs_target: bool,
    inputs: tuple[str, ...] | None,
    target: str | None,
    params: tuple[str, ...] | None,
) -> Roles:
    """Decide which symbols are inputs, target and parameters (see the README)."""
    for option, names in (("--inputs", inputs), ("--params", params)):
        for name in names or ():
            if name not in symbols:
                raise RoleError(
                    f"{option} names '{name}', which is not in the model "
                    f"(symbols: {', '.join(symbols) or 'none'})"
                )
    if target is not None and not needs_target:
        raise RoleError(f"--target '{target}' given, but this loss has no target")
    target_name = (target or "y") if needs_target else None
    if target_name is not None and target_name in symbols:
        raise RoleError(
            f"the model uses the target symbol '{target_name}': the loss compares "
            "the model with the target, so name it otherwise (or use --target)"
        )
    overlap = set(inputs or ()) & set(params or ())
    if overlap:
        raise RoleError(f"'{sorted(overlap)[0]}' is named both in --inputs and in --params")
    explicit_inputs = inputs is not None
    if inputs is None:
        inputs = ("x",) if "x" in symbols and "x" not in (params or ()) else ()
    if params is None:
        params = tuple(s for s in symbols if s not in inputs)
        if not params and not needs_target and not explicit_inputs:
            inputs, params = (), symbols
    else:
        inputs = inputs + tuple(s for s in symbols if s not in inputs and s not in params)
    if not symbols:
        raise RoleError("the model has no symbols: nothing to differentiate")
    if not params:
        raise RoleError(
            "no parameters to differentiate: every symbol of the model is an input "
            f"({', '.join(inputs) or 'none'}); name some with --params"
        )
    return Roles(inputs=inputs, target=target_name, params=params)


FORWARD = ("loss", "z")  # hand values of the forward pass: the loss, the model output


def forward_sample(name: str, params: tuple[str, ...]) -> tuple[str, int] | None:
    """``loss`` -> ("loss", 0), ``z`` -> ("z", 0), ``z[2]`` -> ("z", 2): a hand value of the
    forward pass (the sample, for z); None for a parameter's gradient (a parameter named z or
    loss keeps its name)."""
    if name in params:
        return None
    base, _, index = name.partition("[")
    if base not in FORWARD or (index and base != "z"):
        return None
    return base, int(index.rstrip("]")) if index else 0


def check_expect(
    expect: tuple[tuple[str, str], ...], params: tuple[str, ...], samples: int = 1
) -> None:
    """Each --expect name is a parameter (its gradient), loss, z or z[i] for a sample i."""
    for name, _ in expect:
        forward = forward_sample(name, params)
        if name in params:
            continue
        if forward is None:
            raise RoleError(
                f"--expect names '{name}', which is not a parameter, 'loss' or 'z' "
                f"(parameters: {', '.join(params)})"
            )
        if forward[1] >= samples:
            raise RoleError(
                f"--expect names '{name}', but there {'is' if samples == 1 else 'are'} "
                f"{samples} sample{'s' if samples > 1 else ''} (z[0] .. z[{samples - 1}])"
            )


def check_fixed(
    at: tuple[tuple[str, float], ...], symbols: tuple[str, ...], target: str | None
) -> None:
    allowed = symbols + ((target,) if target else ())
    for name, _ in at:
        if name not in allowed:
            raise RoleError(
                f"--at names '{name}', which is not in the model (symbols: {', '.join(allowed)})"
            )
