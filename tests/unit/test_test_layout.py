"""The tests' own layout holds: test modules share code only through ``tests/support``, and
nothing outside ``tests/`` imports the tests.

A test module importing another one couples two files that look independent (a helper edited
for one breaks the other), and a script importing the tests ships test code with the product.
The imports are read with ``ast``, so one inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("unit", "integration", "browser")


def imported(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every absolute import in ``path``."""
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module))
    return out


def test_the_scan_sees_a_support_import() -> None:
    """The scan itself can fail: it must find an import we know is there."""
    found = imported(ROOT / "tests" / "unit" / "test_config.py")
    assert any(module == "tests.support.configs" for _, module in found), found


def test_test_modules_import_only_the_support_package() -> None:
    files = sorted(p for folder in FOLDERS for p in (ROOT / "tests" / folder).rglob("*.py"))
    files += sorted((ROOT / "tests" / "support").rglob("*.py")) + [ROOT / "tests" / "conftest.py"]
    assert len(files) > 50, "the test folders were not found"
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in files
        for line, module in imported(path)
        if (module == "tests" or module.startswith("tests.")) and not module.startswith("tests.support")
    ]
    assert wrong == []


def test_nothing_outside_the_tests_imports_them() -> None:
    files = sorted(p for folder in ("dashboard", "layouts", "feeds", "scripts", "bench") for p in (ROOT / folder).rglob("*.py"))
    assert len(files) > 50, "the product's folders were not found"
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in files
        for line, module in imported(path)
        if module == "tests" or module.startswith("tests.")
    ]
    assert wrong == []


def test_every_test_module_is_in_one_of_the_three_folders() -> None:
    """A test dropped at the top of ``tests/`` would run, but outside the folder that says what it needs."""
    assert sorted(p.name for p in (ROOT / "tests").glob("test_*.py")) == []
    assert sorted(p.name for p in (ROOT / "tests" / "support").rglob("test_*.py")) == []
