from typing import Any, Callable

import pytest

from stagewise import evaluate


@pytest.fixture
def record() -> Callable[[Callable[[], Any]], evaluate.Evaluation]:
    """Run a program that builds components under Pulumi's mocks; return what it registered."""

    def run(program: Callable[[], Any]) -> evaluate.Evaluation:
        return evaluate.run(lambda: program() or {}, {}, set())

    return run


def only(evaluation: evaluate.Evaluation, type_: str) -> evaluate.Resource:
    found = evaluation.of_type(type_)
    assert len(found) == 1, [r.name for r in found]
    return found[0]
