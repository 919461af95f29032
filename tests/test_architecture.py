"""The shape of the code, guarded: the engine's core and its classes stay small, the
tests mirror the packages and never import one another or (for the engine's) the shell,
the import contracts cover every package, and the suite's one rule for "under CI"."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

from engine.runtime.state import EngineState
from tests.kit.programs import in_ci, missing, need

TESTS = Path(__file__).parent
ROOT = TESTS.parent
ENGINE = ROOT / "engine"
POLYTERM = ROOT / "polyterm"

CORE_MAX_LINES = 600  # engine/runtime/core.py, the module that holds EngineCore
CLASS_MAX_LINES = 700  # any class in engine/


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), str(path))


def _imports(path: Path) -> list[str]:
    """Every module `path` imports, relative imports resolved against its package."""
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]
    names: list[str] = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                names.append(node.module or "")
                continue
            base = ".".join(package[: len(package) - node.level + 1])
            if node.module:
                names.append(f"{base}.{node.module}")
            else:  # `from . import x`: x may itself be a module
                names.extend(f"{base}.{alias.name}" for alias in node.names)
    return names


def _test_files() -> list[Path]:
    return sorted(p for p in TESTS.rglob("test_*.py") if "__pycache__" not in p.parts)


def _packages(root: Path) -> list[str]:
    """The subpackages directly under `root` (a folder with an __init__.py)."""
    return sorted(p.parent.name for p in root.glob("*/__init__.py"))


# -- sizes ---------------------------------------------------------------------------------
def test_the_engine_core_module_stays_within_its_size() -> None:
    lines = len((ENGINE / "runtime" / "core.py").read_text().splitlines())
    assert lines <= CORE_MAX_LINES, (
        f"engine/runtime/core.py has {lines} lines (at most {CORE_MAX_LINES}): "
        "move a job of EngineCore into a component of its own"
    )


def test_no_class_in_the_engine_grows_past_its_size() -> None:
    big = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {size} lines"
        for path in sorted(ENGINE.rglob("*.py"))
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.ClassDef)
        and (size := (node.end_lineno or node.lineno) - node.lineno + 1) > CLASS_MAX_LINES
    ]
    assert not big, f"classes over {CLASS_MAX_LINES} lines (split their jobs):\n" + "\n".join(big)


def _foreign_assignments(path: Path) -> list[str]:
    """Assignments in `path` to an attribute of anything but `self` itself."""
    found = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        else:
            continue
        for target in targets:
            for part in ast.walk(target):
                if (
                    isinstance(part, ast.Attribute)
                    and isinstance(part.ctx, ast.Store)
                    and not (isinstance(part.value, ast.Name) and part.value.id == "self")
                ):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(target)}")
    return found


def test_data_intake_changes_the_book_store_only_through_its_methods() -> None:
    """The book store owns its change sets and its books' listing figures: intake asks
    it (take_dirty, take_flagged, list_book), never assigns them."""
    assert _foreign_assignments(ENGINE / "runtime" / "data.py") == []


def _engine_states_as_text(path: Path) -> list[str]:
    """Comparisons of a `.state` with an engine state's text ("running", ...)."""
    texts = {str(state) for state in EngineState}
    found = []
    for node in ast.walk(_tree(path)):
        if not isinstance(node, ast.Compare):
            continue
        sides = [node.left, *node.comparators]
        if not any(isinstance(s, ast.Attribute) and s.attr == "state" for s in sides):
            continue
        constants = [c for s in sides for c in ast.walk(s) if isinstance(c, ast.Constant)]
        if any(c.value in texts for c in constants):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(node)}")
    return found


def test_faces_compare_engine_states_through_the_enum() -> None:
    found = [
        hit
        for path in sorted((POLYTERM / "faces").glob("*.py"))
        for hit in _engine_states_as_text(path)
    ]
    assert found == [], "compare with EngineState members:\n" + "\n".join(found)


# -- how the tests are laid out --------------------------------------------------------------
def test_no_engine_test_imports_the_shell() -> None:
    bad = [
        f"{path.relative_to(TESTS)}: {name}"
        for path in sorted((TESTS / "engine").rglob("*.py"))
        for name in _imports(path)
        if name.split(".")[0] in ("polyterm", "widgets", "themes")
    ]
    assert not bad, "engine tests import the shell:\n" + "\n".join(bad)


def _is_test_module(name: str) -> bool:
    """A module of the tests other than the shared kit (or a test module by its name)."""
    in_tests = name == "tests" or name.startswith("tests.")
    in_kit = name == "tests.kit" or name.startswith("tests.kit.")
    return (in_tests and not in_kit) or name.rpartition(".")[2].startswith(("test_", "conftest"))


def test_no_test_module_imports_another() -> None:
    bad = [
        f"{path.relative_to(TESTS)}: {name}"
        for path in sorted(TESTS.rglob("*.py"))
        for name in _imports(path)
        if _is_test_module(name)
    ]
    assert not bad, "test modules importing test modules (share through tests/kit):\n" + "\n".join(
        bad
    )


def test_every_test_file_mirrors_a_package_or_is_integration() -> None:
    """tests/engine/market/test_x.py tests something of engine/market; whole-process and
    engine-against-emulator tests live under tests/integration; the files directly under
    tests/ are about the whole repository (like this one)."""
    stray = []
    for path in _test_files():
        folder = path.parent.relative_to(TESTS)
        if folder == Path(".") or folder.parts[0] == "integration":
            continue
        if not (ROOT / folder / "__init__.py").is_file():
            stray.append(str(path.relative_to(ROOT)))
    assert not stray, "test files in no package's mirror (move them):\n" + "\n".join(stray)


# -- import contracts --------------------------------------------------------------------------
def _contracts() -> list[dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts: list[dict[str, object]] = config["tool"]["importlinter"]["contracts"]
    return contracts


def _contract(name: str) -> dict[str, object]:
    found = [c for c in _contracts() if c["name"] == name]
    assert len(found) == 1, f"{len(found)} contracts named {name!r}"
    return found[0]


def test_import_contracts_have_distinct_names() -> None:
    names = [str(c["name"]) for c in _contracts()]
    assert len(names) == len(set(names)), f"contracts named twice: {names}"


def test_the_emulator_contract_forbids_every_other_part_of_polyterm() -> None:
    forbidden = _contract("The emulator imports only the engine and itself")["forbidden_modules"]
    assert isinstance(forbidden, list)
    others = {f"polyterm.{name}" for name in _packages(POLYTERM) if name != "emulator"}
    others.add("polyterm.__main__")
    assert others <= set(forbidden), f"not forbidden to the emulator: {others - set(forbidden)}"


def test_every_face_is_held_to_the_engines_public_api() -> None:
    sources = _contract("Faces use only the engine's public API")["source_modules"]
    assert isinstance(sources, list)
    faces = {f"polyterm.{name}" for name in _packages(POLYTERM) if name != "emulator"}
    faces |= {"widgets", "themes"}
    assert faces <= set(sources), f"not held to the public API: {faces - set(sources)}"


# -- the suite under CI ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "ci"),
    [
        ("1", True),
        ("true", True),
        ("TRUE", True),
        ("yes", True),
        ("", False),
        ("0", False),
        ("false", False),
        ("no", False),
    ],
)
def test_ci_is_one_true_or_yes(value: str, ci: bool) -> None:
    assert in_ci({"CI": value}) is ci
    assert in_ci({}) is False


def test_a_missing_need_fails_under_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    absent = str(tmp_path / "chromium")  # an absolute path, as the Chromium tests ask
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="not installed"):
        need(absent)
    with pytest.raises(pytest.fail.Exception, match="recorded"):
        missing("recorded frames are absent")
    monkeypatch.setenv("CI", "false")  # a developer's shell saying "not CI"
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        need("no-such-program-polyterm")
    with pytest.raises(pytest.skip.Exception, match="recorded"):
        missing("recorded frames are absent")
