"""Layers point one way: formats <- core <- components <- program (infra) <- tools. The policy pack
reads resources and imports the core only. A module's layer is its path; this test keeps the arrows."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Layer of a module path, lowest first; each may import only layers at or below it.
LAYERS = {
    "stagewise.formats": 0,
    "stagewise.core": 1,
    "stagewise.components": 2,
    "stagewise.policy": 2,
    "stagewise.infra": 3,
    "stagewise.tools": 4,
}
# What each layer must never import, beyond the layers above it.
PULUMI = ("pulumi", "pulumi_azure_native", "pulumi_kubernetes", "pulumi_policy")
FORBIDDEN_THIRD_PARTY = {"stagewise.formats": PULUMI, "stagewise.core": PULUMI}


def _layer(module: str) -> str | None:
    return next((name for name in LAYERS if module == name or module.startswith(name + ".")), None)


# The sources of stagewise.components, .policy and .infra sit in top-level folders; the package
# links to them (stagewise/components -> ../components), so each file is walked once, here.
SOURCES = {
    "stagewise": "stagewise",
    "components": "stagewise.components",
    "policy": "stagewise.policy",
    "infra": "stagewise.infra",
}


def _modules() -> list[tuple[str, Path]]:
    found = []
    for folder, package in SOURCES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            if any(parent.is_symlink() for parent in path.parents):
                continue
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            dotted = ".".join((package, *parts))
            found.append((dotted.removesuffix(".__init__"), path))
    return found


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_every_module_has_a_layer():
    orphans = [m for m, _ in _modules() if _layer(m) is None and m not in ("stagewise",)]
    assert orphans == []


@pytest.mark.parametrize("module, path", _modules(), ids=lambda v: v if isinstance(v, str) else "")
def test_imports_point_down(module: str, path: Path):
    own = _layer(module)
    if own is None:
        return
    upward = sorted(
        name
        for name in _imports(path)
        if (target := _layer(name)) is not None and target != own and LAYERS[target] >= LAYERS[own]
    )
    assert upward == [], f"{module} ({own}) imports from a layer that is not below it"
    banned = FORBIDDEN_THIRD_PARTY.get(own, ())
    third_party = sorted(name for name in _imports(path) if name.split(".")[0] in banned)
    assert third_party == [], f"{module} is {own} and must not import pulumi"


def test_the_check_sees_an_upward_import(tmp_path: Path):
    bad = tmp_path / "bad.py"
    bad.write_text("from stagewise.tools import cli\nimport pulumi\n")
    assert {"stagewise.tools", "stagewise.tools.cli", "pulumi"} <= _imports(bad)
