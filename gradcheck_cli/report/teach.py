"""The reports of a check with its explanation: --explain, --graph, --format latex/markdown."""

from __future__ import annotations

import json
from typing import Any

from gradcheck_cli.report import explain_text, graph, latex, markdown
from gradcheck_cli.report.console import print_result


def write(
    result: Any, explanation: Any, fmt: str, verbose: bool, explain: bool, graph_path: str | None
) -> None:
    """Print the report in ``fmt`` (with the explanation where asked), write the graph."""
    if graph_path is not None:
        graph.write(graph_path, result, explanation)
    if fmt == "latex":
        print(latex.document(result, explanation), end="")
    elif fmt == "markdown":
        print(markdown.report(result, explanation if explain else None, verbose), end="")
    elif fmt == "json":
        data = result.to_dict()
        if explain:
            data["explain"] = explanation.to_dict()
        print(json.dumps(data, indent=2, allow_nan=False))
    else:
        print_result(result, fmt, verbose)
        if explain:
            print()
            print(explain_text.render(explanation), end="")
