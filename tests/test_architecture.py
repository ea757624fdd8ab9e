"""The arrows of DESIGN.md ("Layout") hold, and the check that enforces them can fail.

`make lint` runs import-linter on the tree as it is; this test proves the contracts bite: a copy of
the tree with one forbidden import per arrow must break exactly those contracts. It also keeps a
rule import-linter has no contract for: no module takes a private name (`_x`) of another module.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("exposure", "checks", "targets", "reports")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

#: (module file, the import appended to it, the contract it must break)
VIOLATIONS = (
    ("exposure/scan/limits.py", "from reports import words", "reports"),
    ("exposure/store/queries.py", "import checks.tls.check", "checks"),
    ("exposure/net/dns.py", "from exposure.app import summary", "faces"),
    ("exposure/sources/cache.py", "from targets import csv", "targets"),
    ("checks/mail/mx.py", "from exposure.store import db", "pure-checks"),
    ("checks/web/hsts.py", "from checks.tls import protocol", "families"),
    ("exposure/testbed/dns.py", "from checks.dns import dnssec", "testbed-imports"),
)


def _lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed")
def test_the_tree_keeps_every_contract():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed")
def test_a_forbidden_import_breaks_its_contract(tmp_path: Path):
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for file, statement, _contract in VIOLATIONS:
        with (tmp_path / file).open("a", encoding="utf-8") as handle:
            handle.write(f"\n{statement}  # noqa\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    broken = result.stdout.split("Broken contracts", 1)[-1]
    for file, statement, _contract in VIOLATIONS:
        importer = file.removesuffix(".py").replace("/", ".")
        imported = statement.split()[1]
        assert f"{importer} -> {imported}" in broken, (importer, imported, result.stdout)
    kept_or_broken = {c for _f, _s, c in VIOLATIONS}
    assert f"Contracts: {8 - len(kept_or_broken)} kept, {len(kept_or_broken)} broken." in (
        result.stdout
    )


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def test_no_module_takes_a_private_name_of_another():
    modules = _modules()
    offences: list[str] = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or node.module is None or node.level:
                continue
            if node.module == name or node.module not in modules:
                continue
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    offences.append(f"{path.relative_to(ROOT)}:{node.lineno}: {alias.name}")
    assert not offences, "\n".join(offences)
