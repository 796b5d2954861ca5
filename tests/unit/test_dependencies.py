"""The declared runtime dependencies are exactly the distributions the product imports.

An undeclared import works on a developer's machine (something else pulled it in) and breaks
a clean install; a declared but unused one is weight and attack surface for nothing. The
product is ``dashboard/``, ``layouts/`` and ``feeds/``: their imports, read with ``ast`` (so a
lazy import inside a function counts too), are mapped to distributions through the installed
metadata and compared with ``[project].dependencies`` in pyproject.toml.

Benchmarks live in ``bench/``, outside the product; their own needs (``psutil``) are an
optional extra, ``bench``, which ``test`` includes.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("dashboard", "layouts", "feeds")
#: Imports that stay optional at run time: tried inside a function with a fallback that
#: needs no third-party code. Each says why.
OPTIONAL: dict[str, str] = {}
#: Distributions used by name rather than imported: (file, the text that uses it).
BY_NAME = {
    "openpyxl": ("dashboard/shift_report.py", 'engine="openpyxl"'),  # pandas' Excel writer loads it
}


def _name(requirement: str) -> str:
    """``dash[fastapi]>=4.2,<5`` -> ``dash``, normalised as PyPI does."""
    return re.sub(r"[-_.]+", "-", re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0]).lower()


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {_name(r) for r in project["dependencies"]}


def imported_modules() -> dict[str, list[str]]:
    """Top-level module name -> every place it is imported, over the product's packages."""
    found: dict[str, list[str]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def imported_distributions() -> dict[str, str]:
    """Distribution -> where it is imported; the standard library and our own packages left out."""
    to_dist = importlib.metadata.packages_distributions()
    ours = set(PACKAGES) | {"assets"}
    out: dict[str, str] = {}
    for module, places in imported_modules().items():
        where = places[0]
        if module in ours or module in sys.stdlib_module_names or module == "__future__" or module in OPTIONAL:
            continue
        dists = to_dist.get(module)
        assert dists, f"{where}: no installed distribution provides {module!r}"
        for dist in dists:
            out.setdefault(_name(dist), where)
    for dist, (file, text) in BY_NAME.items():
        if text in (ROOT / file).read_text(encoding="utf-8"):
            out.setdefault(dist, file)
    return out


def test_the_scan_sees_imports_we_know_of() -> None:
    """The scan itself can fail: it must find a top-level and a lazy import."""
    modules = imported_modules()
    assert any(p.startswith("dashboard/config.py:") for p in modules["pydantic"])
    assert any(p.startswith("feeds/publish.py:") for p in modules["paho"])  # inside a function there


def test_every_import_is_declared() -> None:
    used = imported_distributions()
    missing = sorted(f"{dist} ({where})" for dist, where in used.items() if dist not in declared())
    assert missing == [], "imported but not in [project].dependencies"


def test_every_declaration_is_imported() -> None:
    used = imported_distributions()
    assert sorted(declared() - set(used)) == [], "declared in [project].dependencies but imported nowhere"


def test_benchmark_only_needs_are_an_extra_that_tests_include() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    assert "psutil" not in declared()
    assert "psutil" in {_name(r) for r in extras["bench"]}
    assert "citywall[bench]" in extras["test"]
