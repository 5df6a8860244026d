"""The layout holds: no module grows past 400 lines of code (one module per job), and the
layers never import upwards (import-linter's contract in pyproject.toml)."""

from __future__ import annotations

import ast
import io
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "chanpub"
LIMIT = 400


def lines_of_code(path: Path) -> int:
    """Lines holding code: not blank, not only a comment, not inside a docstring."""
    source = path.read_text(encoding="utf-8")
    docstrings: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                docstrings.update(range(value.lineno, (value.end_lineno or value.lineno) + 1))
    code: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                              tokenize.DEDENT, tokenize.ENDMARKER):  # fmt: skip
            code.update(range(token.start[0], token.end[0] + 1))
    return len(code - docstrings)


def test_counting_leaves_out_docstrings_comments_and_blank_lines(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        '"""Doc\nstring."""\n\n# note\nx = 1  # why\n\n\ndef f() -> None:\n    """Doc."""\n    return None\n'
    )
    assert lines_of_code(module) == 3


@pytest.mark.parametrize(
    "path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_no_module_is_over_400_lines_of_code(path: Path) -> None:
    assert lines_of_code(path) <= LIMIT, f"{path}: split it into modules with one job each"


def test_the_layers_never_import_upwards() -> None:
    lint = Path(sys.executable).parent / "lint-imports"  # import-linter, from the test extra
    command = [str(lint) if lint.exists() else "lint-imports", "--no-cache"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=PACKAGE.parent)
    assert result.returncode == 0, result.stdout[-3000:]


def import_cycles() -> list[list[str]]:
    """Groups of chanpub modules that import each other, directly or round about (imports
    made only for type checking left out: they never run)."""
    import grimp  # import-linter's graph of the package

    graph = grimp.build_graph("chanpub", exclude_type_checking_imports=True)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's strongly connected components
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while group[-1:] != [module]:
                group.append(stack.pop())
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return cycles


def test_no_module_imports_itself_round_about() -> None:
    assert import_cycles() == []
