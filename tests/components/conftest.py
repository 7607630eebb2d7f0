from collections.abc import Callable
from typing import Any

import pytest

from stagewise.tools import evaluate


@pytest.fixture
def record() -> Callable[[Callable[[], Any]], evaluate.Evaluation]:
    """Run a program that builds components under Pulumi's mocks; return what it registered."""

    def run(program: Callable[[], Any]) -> evaluate.Evaluation:
        return evaluate.run(lambda: program() or {}, {}, set())

    return run


def refused_before_any_resource(build: Callable[[], Any], message: str) -> None:
    """`build` raises ValueError matching `message`, and no resource was registered first."""
    evaluation = evaluate.Evaluation()
    with pytest.raises(ValueError, match=message):
        evaluate.run(lambda: build() and {}, {}, set(), evaluation=evaluation)
    assert evaluation.resources == []


def only(evaluation: evaluate.Evaluation, type_: str) -> evaluate.Resource:
    found = evaluation.of_type(type_)
    assert len(found) == 1, [r.name for r in found]
    return found[0]
