"""Guard: every component's __init__ ends with register_outputs, so the engine knows it is complete."""

import ast
from pathlib import Path

COMPONENTS = Path(__file__).resolve().parents[2] / "components"


def component_inits():
    for path in sorted(COMPONENTS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(b, ast.Attribute) and b.attr == "ComponentResource" for b in node.bases
            ):
                init = next(f for f in node.body if isinstance(f, ast.FunctionDef) and f.name == "__init__")
                yield f"{path.name}:{node.name}", init


def test_there_are_components_to_check():
    assert len(list(component_inits())) >= 6


def test_every_component_registers_outputs_last():
    for where, init in component_inits():
        last = init.body[-1]
        assert (
            isinstance(last, ast.Expr)
            and isinstance(last.value, ast.Call)
            and isinstance(last.value.func, ast.Attribute)
            and last.value.func.attr == "register_outputs"
        ), f"{where}: the last statement of __init__ must be self.register_outputs(...)"
