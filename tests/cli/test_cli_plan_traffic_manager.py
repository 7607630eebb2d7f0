"""`stagewise plan` on the trafficManager edge (stagewise:traffic.edge): a stage change moves each region's slot
traffic rule percentage and nothing else (the region weights are the Traffic Manager endpoints', which a stage does not
change); it is not "traffic only", because the rule is site configuration and the site restarts
(docs/azure-request-path.md). Modelled on tests/cli/test_cli_plan.py."""

from __future__ import annotations

import pytest

from tests.cli.test_cli_plan import regions, stages, start_at

STACK = "production"
TRAFFIC = "  stagewise:traffic:\n    ttl: 30\n"
RULES = "siteConfig.experiments.rampUpRules"


@pytest.fixture
def tm_repo(repo):
    path = repo.file(STACK)
    text = path.read_text()
    assert TRAFFIC in text, "Pulumi.production.yaml's traffic section moved; update this test's edit"
    path.write_text(text.replace(TRAFFIC, TRAFFIC + "    edge: trafficManager\n"))
    repo.commit("production on the trafficManager edge")
    return repo


def slot_percentage(change: dict) -> object:
    """The percentage the site's rule routes to the slot after the change: a percentage changed, or a rule added."""
    (diff,) = change["diff"]
    if diff["path"] == f"{RULES}[0].reroutePercentage":
        return diff["after"]
    assert diff["path"] == f"{RULES}[0]" and diff["kind"] == "add", diff
    return diff["after"]["reroutePercentage"]


def assert_only_slot_rules(data: dict, repo) -> None:
    summary = data["summary"]
    assert (summary["create"], summary["replace"], summary["delete"]) == (0, 0, 0), data
    assert sorted(c["name"] for c in data["changes"]) == sorted(f"web-{r}-app" for r in regions(repo, STACK)), data
    for change in data["changes"]:
        assert change["op"] == "update" and change["type"] == "azure-native:web:WebApp", change
        assert change["diff"] and all(d["path"].startswith(RULES) for d in change["diff"]), change
    # The rule is site configuration: the plan must not call it traffic only.
    assert data["trafficOnly"] is False


def test_each_step_to_the_next_stage_only_moves_the_slot_rules(tm_repo, cached_evaluations):
    start_at(tm_repo, STACK, "idle")
    for name, share in stages(tm_repo, STACK)[1:]:
        assert tm_repo.run("promote", "--stack", STACK).exit_code == 0
        code, data = tm_repo.plan(STACK)
        assert code == 2
        assert_only_slot_rules(data, tm_repo)
        assert {slot_percentage(c) for c in data["changes"]} == {share}, name
        tm_repo.commit(f"promote to {name}")


def test_each_step_back_only_moves_the_slot_rules(tm_repo, cached_evaluations):
    names = [name for name, _ in stages(tm_repo, STACK)]
    start_at(tm_repo, STACK, names[-1])
    for name in reversed(names[:-1]):
        assert tm_repo.run("rollback", "--stack", STACK).exit_code == 0
        code, data = tm_repo.plan(STACK)
        assert code == 2
        assert_only_slot_rules(data, tm_repo)
        share = dict(stages(tm_repo, STACK))[name]
        if share:
            assert {slot_percentage(c) for c in data["changes"]} == {share}, name
        else:  # back to idle: the rule is removed, never kept at an explicit 0 %
            assert {d["kind"] for c in data["changes"] for d in c["diff"]} == {"delete"}, data
        tm_repo.commit(f"roll back to {name}")


def test_finish_changes_nothing(tm_repo, cached_evaluations):
    names = [name for name, _ in stages(tm_repo, STACK)]
    start_at(tm_repo, STACK, names[-1])
    assert tm_repo.run("finish", "--stack", STACK).exit_code == 0
    code, data = tm_repo.plan(STACK)
    assert code == 0 and data["changes"] == [], data


def test_abort_removes_the_rules_and_closes_the_parked_slot(tm_repo, cached_evaluations):
    start_at(tm_repo, STACK, "quarter")
    assert tm_repo.run("abort", "--stack", STACK).exit_code == 0
    code, data = tm_repo.plan(STACK)
    assert code == 2
    summary = data["summary"]
    assert (summary["create"], summary["replace"], summary["delete"]) == (0, 0, 0), data
    by_name = {c["name"]: c for c in data["changes"]}
    names = regions(tm_repo, STACK)
    assert sorted(by_name) == sorted([f"web-{r}-app" for r in names] + [f"web-{r}-green" for r in names])
    for region in names:
        (rule,) = by_name[f"web-{region}-app"]["diff"]
        assert rule["path"] == f"{RULES}[0]" and rule["kind"] == "delete"
        slot = {d["path"]: d for d in by_name[f"web-{region}-green"]["diff"]}
        # Parked: nobody is admitted (a client the old rule still routes there gets 403, never the aborted version).
        assert slot["siteConfig.ipSecurityRestrictionsDefaultAction"]["after"] == "Deny"
        assert any(p.startswith("siteConfig.ipSecurityRestrictions[") for p in slot)
        assert "1.4.2" in slot["siteConfig.linuxFxVersion"]["after"]
    # The plan's note speaks of this edge: no Front Door, no probe interval to wait for.
    parked = [n for n in data["notes"] if "parked" in n]
    assert parked and all("answers 403" in n and "Front Door" not in n for n in parked), data["notes"]
