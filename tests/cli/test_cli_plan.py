"""`stagewise plan`: the program evaluated under mocks for the committed and the working stack file.

The guarantees a rollout relies on: a stage change moves traffic weights and nothing else, finish
changes nothing, and a revert is the exact inverse of the commit it reverts.
"""

from __future__ import annotations

import json
import re

import pytest

from stagewise.core import naming, stackconfig
from stagewise.formats import yamlv3
from stagewise.tools import plan, planning
from tests.plan_oracle import inverse

# dev walks the project's default catalog; production its own; local is the Kubernetes program
# (its traffic resource is the HTTPRoute), on the default catalog.
CATALOG_STACKS = ["dev", "production", "local"]


def stages(repo, stack: str) -> list[tuple[str, int]]:
    project = (repo.path / "Pulumi.yaml").read_text()
    cfg = stackconfig.config_from_texts(project, repo.file(stack).read_text(), f"Pulumi.{stack}.yaml")
    return [(s.name, s.share) for s in cfg.catalog.stages]


def start_at(repo, stack: str, stage: str) -> None:
    repo.set_release(stack, blue="1.4.2", green="1.5.0", live="blue", stage=stage)
    repo.commit(f"{stack} at {stage}")


def regions(repo, stack: str) -> list[str]:
    project = (repo.path / "Pulumi.yaml").read_text()
    cfg = stackconfig.config_from_texts(project, repo.file(stack).read_text(), f"Pulumi.{stack}.yaml")
    return [r.name for r in cfg.regions] if cfg.is_azure else []


def pulled(repo, stack: str, tag: str) -> str:
    """The image a colour runs, as the platform pulls it: production from the stack's own registry."""
    project = (repo.path / "Pulumi.yaml").read_text()
    cfg = stackconfig.config_from_texts(project, repo.file(stack).read_text(), f"Pulumi.{stack}.yaml")
    image = naming.container_image(naming.pulled_image(cfg.release.image, cfg.login_server("stagewise", stack)), tag)
    return f"DOCKER|{image}" if cfg.is_azure else image


def traffic_resources(repo, stack: str) -> list[str]:
    """What a stage change may touch: on Azure each region's two Front Door origins (its site's and its
    slot's weight and state only: no site setting, so nothing restarts); on Kubernetes the HTTPRoute."""
    names = regions(repo, stack)
    return (
        sorted(f"edge-{region}-{colour}" for region in names for colour in ("blue", "green"))
        if names
        else ["demo-route"]
    )


def assert_only_traffic_updates(data: dict, repo, stack: str) -> None:
    summary = data["summary"]
    assert (summary["create"], summary["replace"], summary["delete"]) == (0, 0, 0), data
    assert sorted(c["name"] for c in data["changes"]) == traffic_resources(repo, stack), data
    for change in data["changes"]:
        assert change["op"] == "update" and change["type"] in plan.TRAFFIC_TYPES, change
        assert change["type"] not in ("azure-native:web:WebApp", "azure-native:web:WebAppSlot"), change
        if change["type"] == "azure-native:cdn:AFDOrigin":
            assert {d["path"] for d in change["diff"]} <= {"weight", "enabledState", "priority"}, change
    assert data["trafficOnly"] is True


@pytest.mark.parametrize("stack", CATALOG_STACKS)
def test_each_step_to_the_next_stage_only_updates_traffic_weights(repo, cached_evaluations, stack):
    start_at(repo, stack, "idle")
    for name, share in stages(repo, stack)[1:]:
        assert repo.run("promote", "--stack", stack).exit_code == 0
        code, data = repo.plan(stack)
        assert code == 2
        assert_only_traffic_updates(data, repo, stack)
        (traffic,) = [o for o in data["outputs"] if o["path"] == "traffic"]
        assert traffic["after"] == {"green": share, "blue": 100 - share}, name
        repo.commit(f"promote {stack} to {name}")


@pytest.mark.parametrize("stack", CATALOG_STACKS)
def test_each_step_back_only_updates_traffic_weights(repo, cached_evaluations, stack):
    names = [name for name, _ in stages(repo, stack)]
    start_at(repo, stack, names[-1])
    for name in reversed(names[:-1]):
        assert repo.run("rollback", "--stack", stack).exit_code == 0
        code, data = repo.plan(stack)
        assert code == 2
        assert_only_traffic_updates(data, repo, stack)
        repo.commit(f"roll {stack} back to {name}")


def test_plan_parses_each_text_once_per_side(repo, cached_evaluations, monkeypatch):
    """Pulumi.yaml and the stack file once as committed and once in the working tree."""
    start_at(repo, "production", "canary")
    committed = repo.file("production").read_text()
    repo.set_release("production", stage="quarter")
    real_load, read = yamlv3.load, []
    monkeypatch.setattr(yamlv3, "load", lambda text: read.append(text) or real_load(text))
    assert repo.plan("production")[0] == 2
    project, working = (repo.path / "Pulumi.yaml").read_text(), repo.file("production").read_text()
    assert sorted(read) == sorted([project, project, committed, working])


# What abort may touch besides the traffic: the candidate colour (green here), which runs the live
# version again (its image, and the version its telemetry reports), and nothing else.
CANDIDATE_RESOURCES = {"azure-native:web:WebAppSlot", "kubernetes:apps/v1:Deployment"}


@pytest.mark.parametrize("stack", CATALOG_STACKS)
def test_abort_from_any_stage_moves_traffic_and_puts_the_live_version_on_the_candidate(repo, cached_evaluations, stack):
    for name, _ in stages(repo, stack)[1:]:
        start_at(repo, stack, name)
        assert repo.run("abort", "--stack", stack).exit_code == 0
        code, data = repo.plan(stack)
        assert code == 2
        summary = data["summary"]
        assert (summary["create"], summary["replace"], summary["delete"]) == (0, 0, 0), data
        traffic = [c for c in data["changes"] if c["type"] in plan.TRAFFIC_TYPES]
        assert sorted(c["name"] for c in traffic) == traffic_resources(repo, stack)
        assert all(plan_change_is_traffic(c) for c in traffic), traffic
        candidate = [c for c in data["changes"] if c["type"] not in plan.TRAFFIC_TYPES]
        assert candidate and {c["type"] for c in candidate} <= CANDIDATE_RESOURCES, candidate
        assert all("green" in c["name"] for c in candidate), candidate
        diffs = [d for c in candidate for d in c["diff"]]
        assert {d["after"] for d in diffs if d["path"].endswith("linuxFxVersion") or d["path"].endswith("image")} == {
            pulled(repo, stack, "1.4.2")
        }
        (shares,) = [o for o in data["outputs"] if o["path"] == "traffic"]
        assert shares["after"] == {"green": 0, "blue": 100}
        repo.git("checkout", "--", f"Pulumi.{stack}.yaml")


def plan_change_is_traffic(change: dict) -> bool:
    return plan.ResourceChange(
        change["op"],
        change["urn"],
        change["type"],
        change["name"],
        tuple(
            plan.PropertyChange(d["path"], d.get("before", plan.MISSING), d.get("after", plan.MISSING))
            for d in change["diff"]
        ),
    ).traffic_only


@pytest.mark.parametrize("stack", CATALOG_STACKS)
def test_finish_is_an_empty_plan(repo, cached_evaluations, stack):
    start_at(repo, stack, "full")
    assert repo.run("finish", "--stack", stack).exit_code == 0
    assert repo.file(stack).read_bytes() != repo.git("show", f"HEAD:Pulumi.{stack}.yaml").encode()
    code, data = repo.plan(stack)
    assert code == 0
    assert data["changes"] == [] and data["outputs"] == [] and data["summary"]["update"] == 0


def test_deploy_updates_only_the_candidate_slot_in_each_region(repo, cached_evaluations):
    start_at(repo, "production", "idle")
    assert repo.run("deploy", "1.6.0", "--stack", "production").exit_code == 0
    code, data = repo.plan("production")
    assert code == 2
    assert [(c["op"], c["type"], c["name"]) for c in data["changes"]] == [
        ("update", "azure-native:web:WebAppSlot", f"web-{region}-green")
        for region in sorted(regions(repo, "production"))
    ]
    for change in data["changes"]:
        assert [(d["path"], d["before"], d["after"]) for d in change["diff"]] == [
            ("siteConfig.appSettings[3].value", "service.version=1.5.0", "service.version=1.6.0"),
            ("siteConfig.linuxFxVersion", pulled(repo, "production", "1.5.0"), pulled(repo, "production", "1.6.0")),
        ]


def test_a_revert_of_a_stage_commit_is_the_exact_inverse(repo, cached_evaluations):
    real_evaluate = cached_evaluations
    start_at(repo, "production", "quarter")
    assert repo.run("promote", "--stack", "production").exit_code == 0
    repo.commit("promote production to half")
    forward, _ = planning.compute_plan(repo.path, "production", "HEAD~1")
    assert not forward.empty

    repo.git("revert", "--no-edit", "HEAD")
    back, _ = planning.compute_plan(repo.path, "production", "HEAD~1")
    assert back == inverse(forward)
    assert back.to_dict()["summary"] == forward.to_dict()["summary"]

    # The reverted stack evaluates to the very inputs it had before the stage (evaluated afresh).
    project = (repo.path / "Pulumi.yaml").read_text()
    before_stage = real_evaluate(project, repo.git("show", "HEAD~2:Pulumi.production.yaml"), "production")
    reverted = real_evaluate(project, repo.file("production").read_text(), "production")
    # (Registration order may differ between runs: the program registers concurrently.)
    assert {r.urn: (r.protect, r.inputs, r.secret_digests) for r in reverted.resources} == {
        r.urn: (r.protect, r.inputs, r.secret_digests) for r in before_stage.resources
    }
    assert reverted.outputs == before_stage.outputs


def test_no_change_is_exit_0(repo):
    # Not cached: two separate evaluations of the same file must agree exactly.
    result = repo.run("plan", "--stack", "production")
    assert result.exit_code == 0, result.output
    assert "no changes" in result.stdout


def test_plan_output_formats(repo, cached_evaluations):
    start_at(repo, "production", "quarter")
    assert repo.run("promote", "--stack", "production").exit_code == 0

    text = repo.run("plan", "--stack", "production")
    assert text.exit_code == 2
    # Each region's two Front Door origins move (60:40 regions, green 25 % -> 50 %); no site changes.
    for region, colour, before, after in (
        ("westeurope", "blue", 750, 500),
        ("westeurope", "green", 250, 500),
        ("northeurope", "blue", 500, 333),
        ("northeurope", "green", 167, 333),
    ):
        assert f"~ azure-native:cdn:AFDOrigin  edge-{region}-{colour}  update" in text.stdout
        assert f"      ~ weight: {before} => {after}" in text.stdout
    assert "WebApp" not in text.stdout
    assert "4 to update, 1 output changed (traffic only)" in text.stdout

    markdown = repo.run("plan", "--stack", "production", "--markdown")
    assert markdown.exit_code == 2
    assert markdown.stdout.startswith("### Plan for production: HEAD (")
    assert "| ~ update | `edge-westeurope-green` | `azure-native:cdn:AFDOrigin` | `weight` |" in markdown.stdout

    as_json = repo.run("plan", "--stack", "production", "--json")
    data = json.loads(as_json.stdout)
    assert (data["stack"], data["against"], data["commit"]) == (
        "production",
        "HEAD",
        repo.git("rev-parse", "HEAD").strip(),
    )


def test_against_an_older_revision(repo, cached_evaluations):
    start_at(repo, "production", "canary")
    for _ in range(2):
        assert repo.run("promote", "--stack", "production").exit_code == 0
        repo.commit("promote")
    assert repo.plan("production")[0] == 0
    code, data = repo.plan("production", "--against", "HEAD~2")
    assert code == 2
    (traffic,) = data["outputs"]
    assert (traffic["before"], traffic["after"]) == ({"green": 5, "blue": 95}, {"green": 50, "blue": 50})


def test_a_changed_secret_is_reported_and_counts_as_a_change(repo, cached_evaluations):
    path = repo.file("production")
    path.write_text(re.sub(r"(jwt-secret:\n +secure: )\S+", r"\1v1:NEW", path.read_text()))
    code, data = repo.plan("production")
    assert code == 2
    assert data["changes"] == [] and data["secretsChanged"] == ["stagewise:secrets.jwt-secret"]
    assert "v1:NEW" not in json.dumps(data)


def test_secret_values_never_appear(repo, cached_evaluations):
    path = repo.file("production")
    path.write_text(re.sub(r"    api-keys:\n +secure: \S+\n", "", path.read_text()))
    code, data = repo.plan("production")
    assert code == 2
    (deleted,) = [c for c in data["changes"] if c["op"] == "delete" and c["type"] == "azure-native:keyvault:Secret"]
    assert deleted["name"] == "secrets-api-keys"
    assert {"path": "properties", "kind": "delete", "before": "[secret]"} in deleted["diff"]


def test_a_stack_file_new_since_the_revision_creates_everything(repo, cached_evaluations):
    repo.file("production").rename(repo.file("prod-eu"))
    code, data = repo.plan("prod-eu")
    assert code == 2
    assert data["summary"]["create"] == len(data["changes"]) > 0
    assert data["notes"] == ["Pulumi.prod-eu.yaml does not exist at HEAD: every resource is new."]


def test_a_protected_resource_that_would_be_replaced_is_flagged(repo, cached_evaluations):
    path = repo.file("production")
    path.write_text(path.read_text().replace("stagewise:location: westeurope", "stagewise:location: northeurope"))
    code, data = repo.plan("production")
    assert code == 2
    replaced = {c["name"]: c for c in data["changes"] if c["op"] == "replace"}
    assert replaced["env-rg"]["replaceKeys"] == ["location"] and replaced["env-rg"]["protected"] is True
    assert replaced["secrets-vault"]["protected"] is True
    assert "protected: pulumi up would refuse" in repo.run("plan", "--stack", "production").stdout


# Errors: exit 1, a message naming the problem.


@pytest.mark.parametrize(
    "args, message",
    [
        (["--against", "no-such-rev"], "unknown revision 'no-such-rev'"),
        (["--stack", "nope"], "unknown stack 'nope'"),
    ],
)
def test_plan_errors(repo, args, message):
    result = repo.run("plan", *(["--stack", "production"] if "--stack" not in args else []), *args)
    assert result.exit_code == 1
    assert message in result.stderr


def test_plan_outside_git(repo):
    (repo.path / ".git").rename(repo.path / "not-git")
    result = repo.run("plan", "--stack", "production")
    assert result.exit_code == 1
    assert "not inside a git repository" in result.stderr


def test_plan_of_a_config_the_program_refuses(repo, cached_evaluations):
    repo.set_release("production", stage="quater")
    result = repo.run("plan", "--stack", "production")
    assert result.exit_code == 1
    assert "the program refuses the config of production in the working tree" in result.stderr
    assert "unknown stage 'quater'" in result.stderr

    repo.commit("a broken stage")
    repo.set_release("production", stage="quarter")
    result = repo.run("plan", "--stack", "production")
    assert result.exit_code == 1
    assert "the program refuses the config of production at HEAD" in result.stderr


def test_draining_a_region_changes_only_its_front_door_origins(repo, cached_evaluations):
    path = repo.file("production")
    path.write_text(
        path.read_text().replace("- name: northeurope\n      weight: 40", "- name: northeurope\n      weight: 0")
    )
    code, data = repo.plan("production")
    assert code == 2
    assert [(c["op"], c["name"]) for c in data["changes"]] == [
        ("update", "edge-northeurope-blue"),
        ("update", "edge-northeurope-green"),
    ]
    assert {(d["path"], d["before"], d["after"]) for d in data["changes"][0]["diff"]} == {
        ("weight", 500, 1),
        ("enabledState", "Enabled", "Disabled"),
    }
    assert data["trafficOnly"] is True


def test_a_retention_change_on_an_existing_stack_is_flagged_as_one_azure_refuses(repo, cached_evaluations):
    path = repo.file("production")
    path.write_text(path.read_text().replace("  stagewise:vault:\n", "  stagewise:vault:\n    retentionDays: 30\n"))
    code, data = repo.plan("production")
    assert code == 2
    assert [(c["op"], c["name"]) for c in data["changes"]] == [("update", "secrets-vault")]
    assert any("softDeleteRetentionInDays changes, but" in note for note in data["notes"]), data["notes"]
