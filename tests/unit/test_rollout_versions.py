"""Which of two versions is older, and when a stack is at rest (its next step is a deploy)."""

from __future__ import annotations

import pytest

from stagewise.core import rollout


@pytest.mark.parametrize(
    ("tag", "than", "is_older"),
    [
        ("1.4.2", "1.5.0", True),
        ("1.10.0", "1.9.9", False),
        ("v1.2", "1.2.1", True),
        ("2", "1.9", False),
        ("1.5.0-rc1", "1.5.0", True),
        ("1.5.0", "1.5.0-rc1", False),
        ("1.5.0", "1.5.0", False),
        ("latest", "1.5.0", False),
        ("1.5.0", "main", False),
    ],
)
def test_older_compares_numbers_and_knows_when_it_cannot_tell(tag: str, than: str, is_older: bool):
    assert rollout.older(tag, than) is is_older


@pytest.mark.parametrize(
    ("live", "blue", "green", "stage", "rest"),
    [
        ("blue", "1.4.2", None, "idle", True),  # nothing deployed yet
        ("blue", "1.4.2", "1.4.2", "idle", True),  # the same version on both
        ("blue", "1.4.2", "1.5.0", "idle", False),  # deployed, ready to promote
        ("green", "1.4.2", "1.5.0", "idle", True),  # after finish: the candidate keeps the previous version
        ("blue", "1.4.2", "1.5.0", "canary", False),
    ],
)
def test_at_rest(live, blue, green, stage, rest):
    assert rollout.at_rest(rollout.Release("app", blue, green, live, stage)) is rest
