"""--format markdown for one check: the full report for a pull request or course notes.

The problem, the values, the forward pass, the symbolic gradients, the gradients with every
analysis column and their verdicts, the hand checks, and (with --explain) the chain rule.
Numbers in full (shortest round-trip form); pure text, drawn from the same result objects
as the table and the JSON.
"""

from __future__ import annotations

from typing import Any

from gradcheck_cli.report import explain_text
from gradcheck_cli.report.sections import problem_rows


def full(value: float | None) -> str:
    return "-" if value is None else repr(float(value))


def short(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g}"


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(header: tuple[str, ...], rows: list[tuple[str, ...]], right: int = 1) -> list[str]:
    """A markdown table; columns from ``right`` on are numbers (right-aligned)."""
    align = ["---" if k < right else "---:" for k in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    return lines + ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]


def problem(result: Any) -> list[str]:
    rows = [(t, f"`{v}`" if t == "model" else v) for t, v in problem_rows(result)]
    return table(("", ""), rows, right=2)


def values(result: Any) -> list[str]:
    roles = {n: "input" for n in result.inputs} | {n: "param" for n in result.params}
    if result.target:
        roles[result.target] = "target"
    rows = [(n, roles.get(n, ""), ", ".join(full(v) for v in vs)) for n, vs in result.values]
    forward = [
        ("z" if result.samples == 1 else f"z[{i}]", full(a), full(b))
        for i, (a, b) in enumerate(zip(result.z_exact, result.z_autograd, strict=True))
    ]
    forward.append(("loss", full(result.loss_exact), full(result.loss_autograd)))
    return [
        "### Values",
        "",
        *table(("symbol", "role", "value"), rows, right=2),
        "",
        "### Forward pass",
        "",
        *table(("quantity", "exact", "autograd"), forward),
    ]


def gradients(result: Any) -> list[str]:
    header = ("param", "exact", "autograd", "abs err", "rel err", "ulps", "bits", "bound")
    rows = []
    for g in result.gradients:
        verdict = g.verdict + (" (ill-conditioned)" if g.ill_conditioned else "")
        numbers = (g.abs_error, g.rel_error, g.ulps)
        bits = "n/a" if g.bits is None else f"{g.bits:.1f}"
        rows.append(
            (g.param, full(g.exact), full(g.autograd), *map(short, numbers), bits, short(g.bound))
            + (short(g.kappa), f"**{verdict}**")
        )
    formulas = [f"- `d loss/d {g.param} = {g.formula}`" for g in result.gradients]
    notes = [f"- {g.param}: {g.note}" for g in result.gradients if g.note]
    per = " (per sample)" if result.samples > 1 else ""
    return [
        f"### Symbolic gradients{per} (SymPy)",
        "",
        *formulas,
        "",
        "### Gradients",
        "",
        *table((*header, "kappa", "verdict"), rows),
        *(["", "Notes:", "", *notes] if notes else []),
    ]


def hand(result: Any) -> list[str]:
    rows = []
    for g in result.gradients:
        env, check = g.envelope, g.expect
        if env is None:
            continue
        verdict = "-" if check is None else check.classification
        if check is not None and check.classification == "mistake":
            verdict = f"mistake ({check.radii:.0f} envelope radii away)"
        rows.append(
            (
                g.param,
                check.text if check else "-",
                full(g.exact),
                short(check.distance) if check else "-",
                f"±{env.radius:.3g}",
                f"±{env.lenient_radius:.3g}",
                str(env.decimals),
                verdict,
            )
        )
    if not rows:
        return []
    header = ("param", "hand", "exact", "distance", "envelope", "lenient", "K", "verdict")
    return ["", "### Hand calculations", "", *table(header, rows)]


def contributions(result: Any) -> list[str]:
    out = []
    for g in result.gradients:
        if g.contributions:
            rows = [(node, op, short(a)) for node, op, a in g.contributions]
            out += ["", f"### Where d loss/d {g.param} loses bits", ""]
            out += table(("expression", "op", "contribution"), rows, right=2)
    return out


def explanation(e: Any) -> list[str]:
    rows = explain_text.edge_rows(e)
    return [
        "",
        "### Chain rule",
        "",
        "```text",
        *explain_text.chain_lines(e),
        "```",
        "",
        *table(rows[0], rows[1:], right=2),
        "",
        *(f"**{line}**" for line in explain_text.departure_lines(e)),
    ]


def report(result: Any, e: Any = None, verbose: bool = False) -> str:
    """The full markdown report of one check (with the chain rule when ``e`` is given)."""
    failed = [g.param for g in result.gradients if g.verdict != "pass"]
    status = result.status.upper() + (f" ({', '.join(failed)})" if failed else "")
    lines = [f"## gradcheck `{result.model}`: {status}", "", *problem(result), ""]
    lines += values(result) + [""] + gradients(result) + hand(result)
    if verbose:
        lines += contributions(result)
    if e is not None:
        lines += explanation(e)
    return "\n".join(lines) + "\n"
