"""The shape of the package: data flows one way, one rich importer, no private cross-imports.

Imports are read statically from every module's source, function-level imports included (those
hide cycles as well as top-level ones); imports under ``if TYPE_CHECKING:`` are left out, as
they never run.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "gradcheck_cli"

# The pipeline, upstream first: a module may import its own layer and the layers before it.
LAYERS = [
    (
        "errors",
        "dtypes",
        "values",
        "options",
        "command_line",
        "roles",
        "provenance",
        "outcomes",
        "results",
        "user_code",
    ),
    ("expr",),
    ("exact",),
    ("lowering", "recording", "torch_side", "autograd_modes", "finite_difference"),
    ("losses",),
    ("rounding",),
    ("verdict",),
    ("gradients", "forward", "pipeline", "modes", "hessian"),
    ("explain",),
    ("batch",),
    ("report",),
    (
        "cli_batch",
        "cli_single",
        "cli_params",
        "cli_values",
        "cli_usage",
        "cli",
        "pytest_plugin",
        "__main__",
    ),
]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_blocks(tree: ast.AST) -> set[int]:
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(n) for n in ast.walk(node)}
    return skipped


def imports(name: str) -> list[tuple[str, str]]:
    """(module imported, name imported or '') for every gradcheck_cli import of ``name``."""
    path = MODULES[name]
    tree = ast.parse(path.read_text())
    skipped = _type_checking_blocks(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                target = f"{base}.{alias.name}"
                found.append((target if target in MODULES else base, alias.name))
        elif isinstance(node, ast.Import):
            found += [(alias.name, "") for alias in node.names]
    return [(m, n) for m, n in found if m.startswith("gradcheck_cli")]


def layer(name: str) -> int:
    first = name.split(".")[1] if "." in name else "__init__"
    for index, members in enumerate(LAYERS):
        if first in members:
            return index
    raise AssertionError(f"{name} is in no layer: add it to LAYERS")


GRAPH = {m: {t for t, _ in imports(m) if t in MODULES and t != m} for m in MODULES}


def test_every_module_has_a_layer():
    for name in MODULES:
        if name != "gradcheck_cli":
            layer(name)


@pytest.mark.parametrize("name", [m for m in MODULES if m != "gradcheck_cli"])
def test_data_flows_one_way(name):
    """No module reaches back to a later stage of the pipeline (which also rules out cycles
    between layers)."""
    later = [t for t in GRAPH[name] if t != "gradcheck_cli" and layer(t) > layer(name)]
    assert not later, f"{name} imports later stages {later}"


def test_no_import_cycles():
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(GRAPH[node] - {"gradcheck_cli"}):
            if state.get(target) == 1:
                cycles.append(stack[stack.index(target) :] + [target])
            elif target not in state:
                visit(target, stack)
        stack.pop()
        state[node] = 2

    for name in MODULES:
        if name not in state:
            visit(name, [])
    assert cycles == []


def test_no_private_names_imported_across_modules():
    private = [
        (m, target, n)
        for m in MODULES
        for target, n in imports(m)
        if n.startswith("_") and n != "__version__"
    ]
    assert private == []


def test_only_the_console_report_imports_rich():
    importers = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            modules = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(m == "rich" or m.startswith("rich.") for m in modules):
                importers.append(name)
    assert set(importers) == {"gradcheck_cli.report.console"}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_stay_small(name):
    lines = MODULES[name].read_text().count("\n")
    assert lines <= 320, f"{name} has {lines} lines: split it by responsibility"
