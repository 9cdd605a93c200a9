"""Dependencies point one way: only dashboard/ imports Dash; geo/ imports no web framework."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["geo", "layers", "enforcement", "cityops", "data", "dashboard", "kpi"]


def imports_of(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize("package", [p for p in PACKAGES if p != "dashboard"])
def test_only_dashboard_imports_dash(package):
    offenders = [f for f, names in imports_of(package).items() if "dash" in names]
    assert offenders == []


def test_geo_imports_no_web_framework_and_nothing_above_it():
    forbidden = {"dash", "flask", "werkzeug", "layers", "dashboard", "enforcement", "cityops", "data"}
    offenders = {f: names & forbidden for f, names in imports_of("geo").items() if names & forbidden}
    assert offenders == {}


def test_lower_packages_do_not_import_dashboard():
    for package in ("layers", "data", "enforcement", "cityops", "kpi"):
        offenders = [f for f, names in imports_of(package).items() if "dashboard" in names]
        assert offenders == [], package


def test_kpi_imports_geo_and_no_web_framework():
    """KPIs read any table through SQL, but import only geo among the project's packages."""
    forbidden = {"dash", "flask", "werkzeug", "dashboard", "layers", "enforcement", "cityops", "data", "accounts"}
    offenders = {f: names & forbidden for f, names in imports_of("kpi").items() if names & forbidden}
    assert offenders == {}
