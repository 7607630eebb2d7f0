"""What another team imports: `from stagewise.components import BlueGreenDeployment` for every public
class of every module under components/ (the components, their Args and the Args' input types), each
the very class its module defines."""

import ast
import importlib
from pathlib import Path

import pytest

import stagewise.components as public

COMPONENTS = Path(__file__).resolve().parents[2] / "components"


def _defined() -> list[tuple[str, str]]:
    """(module, class) of every public class, read from the sources."""
    return [
        (path.stem, node.name)
        for path in sorted(COMPONENTS.glob("[!_]*.py"))
        for node in ast.parse(path.read_text()).body
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_")
    ]


def test_sources_define_components():
    assert len(_defined()) >= 20


@pytest.mark.parametrize("module, name", _defined(), ids=lambda v: v)
def test_every_public_class_is_importable_from_the_package(module: str, name: str):
    assert name in public.__all__
    assert getattr(public, name) is getattr(importlib.import_module(f"stagewise.components.{module}"), name)


def test_public_names_are_only_those():
    assert sorted(public.__all__) == sorted(name for _, name in _defined())
