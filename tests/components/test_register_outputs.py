"""Guard: every component's __init__ calls register_outputs exactly once, as its last statement, so the
engine knows the component is complete once its children exist; and the number of components is pinned,
so a new or removed component is a deliberate change. After data-safe-haven's
tests/infrastructure/test_component_registration.py."""

import ast
from pathlib import Path

COMPONENTS = Path(__file__).resolve().parents[2] / "components"

# Every pulumi.ComponentResource subclass under components/. Adding or removing one updates this number.
COMPONENT_COUNT = 16


def _is_component(node: ast.ClassDef) -> bool:
    return any(
        (isinstance(b, ast.Attribute) and b.attr == "ComponentResource")
        or (isinstance(b, ast.Name) and b.id == "ComponentResource")
        for b in node.bases
    )


def component_inits():
    for path in sorted(COMPONENTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and _is_component(node):
                init = next(f for f in node.body if isinstance(f, ast.FunctionDef) and f.name == "__init__")
                yield f"{path.relative_to(COMPONENTS)}:{node.name}", init


def _registrations(init: ast.FunctionDef) -> list[ast.Call]:
    return [
        call
        for call in ast.walk(init)
        if isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and isinstance(call.func.value, ast.Name)
        and call.func.value.id == "self"
        and call.func.attr == "register_outputs"
    ]


def test_there_are_components_to_check():
    assert len(list(component_inits())) >= 6


def test_the_component_count_is_pinned():
    found = [where for where, _ in component_inits()]
    assert len(found) == COMPONENT_COUNT, f"{len(found)} components, expected {COMPONENT_COUNT}: {found}"


def test_every_component_registers_outputs_once():
    for where, init in component_inits():
        calls = _registrations(init)
        assert len(calls) == 1, f"{where}: __init__ must call self.register_outputs exactly once, found {len(calls)}"


def test_every_component_registers_outputs_last():
    for where, init in component_inits():
        last = init.body[-1]
        assert (
            isinstance(last, ast.Expr)
            and isinstance(last.value, ast.Call)
            and isinstance(last.value.func, ast.Attribute)
            and last.value.func.attr == "register_outputs"
        ), f"{where}: the last statement of __init__ must be self.register_outputs(...)"
        assert last.value in _registrations(init), f"{where}: the last statement must be self.register_outputs(...)"
