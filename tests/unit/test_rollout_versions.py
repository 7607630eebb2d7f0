"""Which of two versions is older, and when a stack is at rest (its next step is a deploy)."""

from __future__ import annotations

import pytest

from stagewise import rollout


@pytest.mark.parametrize(
    ("tag", "than", "is_older"),
    [
        ("1.4.2", "1.5.0", True), ("1.10.0", "1.9.9", False), ("v1.2", "1.2.1", True), ("2", "1.9", False),
        ("1.5.0-rc1", "1.5.0", True), ("1.5.0", "1.5.0-rc1", False), ("1.5.0", "1.5.0", False),
        ("latest", "1.5.0", False), ("1.5.0", "main", False),
    ],
)
def test_older_compares_numbers_and_knows_when_it_cannot_tell(tag: str, than: str, is_older: bool):
    assert rollout.older(tag, than) is is_older


@pytest.mark.parametrize(
    ("blue", "green", "stage", "rest"),
    [
        ("1.4.2", None, "idle", True),      # nothing deployed yet
        ("1.4.2", "1.4.2", "idle", True),   # the same version on both
        ("1.4.2", "1.5.0", "idle", False),  # deployed, ready to promote
        ("1.6.0", "1.5.0", "idle", True),   # after finish: the candidate keeps the previous version
        ("1.4.2", "1.5.0", "canary", False),
    ],
)
def test_at_rest(blue, green, stage, rest):
    live = "green" if blue == "1.6.0" else "blue"
    release = rollout.Release("app", blue, green, live, stage)
    if live == "green":
        release = rollout.Release("app", "1.5.0", "1.6.0", "green", stage)
    assert rollout.at_rest(release) is rest
