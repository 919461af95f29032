"""How the tests are laid out: engine tests never import the shell, and no test module
imports another (what two of them share lives in tests/kit)."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_no_engine_test_imports_the_shell() -> None:
    bad = [
        f"{path.relative_to(TESTS)}: {name}"
        for path in sorted((TESTS / "engine").rglob("*.py"))
        for name in _imports(path)
        if name == "polyterm" or name.startswith(("polyterm.", "widgets", "themes"))
    ]
    assert not bad, "engine tests import the shell:\n" + "\n".join(bad)


def test_no_test_module_imports_another() -> None:
    bad = [
        f"{path.relative_to(TESTS)}: {name}"
        for path in sorted(TESTS.rglob("*.py"))
        for name in _imports(path)
        if name.startswith("tests.") and not name.startswith("tests.kit")
    ]
    assert not bad, "test modules importing test modules:\n" + "\n".join(bad)
