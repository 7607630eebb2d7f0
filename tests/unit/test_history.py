"""Rollout history from successive versions of a stack file (no git here: plain texts)."""

from __future__ import annotations

import pytest

from stagewise.core import rollout
from stagewise.tools import history

CATALOG = rollout.Catalog.of([rollout.Stage("canary", 10), rollout.Stage("half", 50), rollout.Stage("full", 100)])


def version(
    stage: str, live: str = "blue", blue: str | None = "1.0", green: str | None = "2.0", extra: str = ""
) -> str:
    lines = [
        "config:",
        "  stagewise:owner: team" + extra,
        "  stagewise:release:",
        "    image: app",
        f"    live: {live}",
        f"    stage: {stage}",
    ]
    lines += [f"    blue: {blue}"] if blue else []
    lines += [f"    green: {green}"] if green else []
    return "\n".join(lines) + "\n"


def actions(*texts: str | None) -> list[str]:
    return [s.action for s in history.steps(enumerate(texts), CATALOG)]


@pytest.mark.parametrize(
    "texts, expected",
    [
        ([version("idle")], ["created"]),
        ([version("idle"), version("canary")], ["created", "promote"]),
        ([version("canary"), version("full")], ["created", "promote"]),
        ([version("half"), version("canary")], ["created", "rollback"]),
        ([version("canary"), version("idle")], ["created", "rollback"]),
        ([version("half"), version("idle")], ["created", "abort"]),
        # abort as the command writes it: the live version back on the candidate.
        ([version("half"), version("idle", green="1.0")], ["created", "abort"]),
        ([version("canary"), version("idle", green="1.0")], ["created", "abort"]),
        ([version("half", live="green"), version("idle", live="green", blue="2.0")], ["created", "abort"]),
        ([version("full"), version("idle", live="green")], ["created", "finish"]),
        ([version("idle", green=None), version("idle", green="3.0")], ["created", "deploy"]),
        ([version("idle", green="2.0"), version("idle", green="3.0")], ["created", "deploy"]),
        ([version("idle"), None], ["created", "removed"]),
        # A hand edit that no command makes.
        ([version("half"), version("half", green="9.9")], ["created", "edited"]),
        ([version("half"), version("idle", green="9.9")], ["created", "edited"]),
        ([version("canary"), "config: [broken\n"], ["created", "edited"]),
    ],
)
def test_actions(texts, expected):
    assert actions(*texts) == expected


def test_versions_that_leave_the_release_alone_are_not_steps():
    texts = [version("idle"), version("idle", extra=" # reworded"), version("canary"), version("canary", extra="!")]
    steps = history.steps(enumerate(texts), CATALOG)
    assert [s.meta for s in steps] == [0, 2]
    assert (steps[1].before.stage, steps[1].after.stage) == ("idle", "canary")
    assert (steps[1].before.share, steps[1].after.share) == (0, 10)


def test_the_file_own_catalog_wins_over_the_project_default():
    own = version("quarter") + "  stagewise:stages:\n    - name: quarter\n      weight: 25\n"
    view = history.release_view(own, CATALOG)
    assert (view.share, view.position) == (25, 1)
    unknown = history.release_view(version("quarter"), CATALOG)
    assert (unknown.share, unknown.position) == (None, None)


def test_unreadable_versions_say_why():
    assert "not valid YAML" in history.release_view("config: [x\n").problem
    assert "stagewise:release" in history.release_view("config:\n  stagewise:owner: x\n").problem


def test_default_catalog_from_the_project_file():
    project = "name: p\nconfig:\n  stagewise:stages:\n    default:\n      - name: a\n        weight: 40\n      - name: b\n        weight: 100\n"
    assert history.default_catalog(project).names == ["idle", "a", "b"]
    assert history.default_catalog("name: p\n") is None


def test_traffic_comes_from_the_rollout_model():
    view = history.release_view(version("half", live="green"), CATALOG)
    release = rollout.Release("app", "1.0", "2.0", "green", "half")
    assert view.traffic == rollout.traffic(release, CATALOG) == {"blue": 50, "green": 50}
    assert history.release_view(version("canary"), CATALOG).traffic == {"green": 10, "blue": 90}
    assert history.release_view(version("canary", live="purple"), CATALOG).traffic is None


def test_a_stage_the_config_refuses_leaves_the_project_default():
    own = version("canary") + "  stagewise:stages:\n    - name: canary\n      weight: 150\n"
    view = history.release_view(own, CATALOG)
    assert (view.share, view.position) == (10, 1)
