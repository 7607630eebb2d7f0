"""The local stack with the real engine: deploy, stage change, revert, bad config, policy, secrets, destroy.

The steps build on each other (one deployment, walked through its life), so they run in order.
"""

from __future__ import annotations

import json

from stagewise.core.config import NAMESPACE
from stagewise.formats import stackfile
from tests.e2e.conftest import E2E_NAMESPACE as NAMESPACE_K8S

ROUTE = "demo"
OURS = "app.kubernetes.io/part-of=stagewise"
ROUTE_TYPE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"


def route_weights(project) -> dict[str, int]:
    route = project.kube_json("-n", NAMESPACE_K8S, "get", "httproute", ROUTE)
    (rule,) = route["spec"]["rules"]
    return {ref["name"]: ref["weight"] for ref in rule["backendRefs"]}


def resource_versions(project) -> dict[str, str]:
    """Every object of ours with its resourceVersion: any write to any of them changes this."""
    kinds = "deployments,services,secrets,hpa,httproutes,gateways"
    items = project.kube_json("-n", NAMESPACE_K8S, "get", kinds, "-l", OURS)["items"]
    items += project.kube_json("-n", NAMESPACE_K8S, "get", "gateways")["items"]
    return {f"{i['kind']}/{i['metadata']['name']}": i["metadata"]["resourceVersion"] for i in items}


def preview_steps(project) -> list[dict]:
    preview = json.loads(project.pulumi("preview", "--json").stdout)
    return [s for s in preview.get("steps", []) if s["op"] != "same"]


SECRET_SIG = "4dabf18193072939515e22adb298388d"


def _without_ciphertext(value):
    """A secret is stored re-encrypted on every update: compare that it is a secret, not its ciphertext.
    (The cluster objects' resourceVersions show whether a secret was really written again.)"""
    if isinstance(value, dict):
        if SECRET_SIG in value:
            return "[secret]"
        return {k: _without_ciphertext(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_ciphertext(v) for v in value]
    return value


def inputs_by_urn(project) -> dict[str, dict]:
    state = json.loads(project.pulumi("stack", "export").stdout)
    return {r["urn"]: _without_ciphertext(r.get("inputs", {})) for r in state["deployment"]["resources"]}


def secret_values(project) -> list[str]:
    result = project.pulumi("config", "get", f"{NAMESPACE}:secrets", "--json")
    return list(json.loads(json.loads(result.stdout)["value"]).values())


class TestLocalRollout:
    def test_up_from_scratch_deploys_both_colours_weighted_by_the_stage(self, project):
        project.pulumi("up", "--yes", "--skip-preview")
        for colour in ("blue", "green"):
            deployment = project.kube_json("-n", NAMESPACE_K8S, "get", "deployment", f"{ROUTE}-{colour}")
            available = {c["type"]: c["status"] for c in deployment["status"]["conditions"]}["Available"]
            assert available == "True", colour
        # Pulumi.local.yaml ships at stage `canary` of the project catalog: 10 % to the candidate (green).
        assert route_weights(project) == {"demo-blue": 90, "demo-green": 10}

    def test_second_up_reports_no_changes(self, project):
        project.pulumi("up", "--yes", "--skip-preview", "--expect-no-changes")

    def test_promote_changes_only_the_route(self, project):
        before = inputs_by_urn(project)
        project.stagewise("promote")
        project.git("commit", "-qam", "local: promote to early")
        steps = preview_steps(project)
        assert [(s["op"], s["urn"].split("::")[2].split("$")[-1]) for s in steps] == [("update", ROUTE_TYPE)]
        project.pulumi("up", "--yes", "--skip-preview")
        assert route_weights(project) == {"demo-blue": 80, "demo-green": 20}
        after = inputs_by_urn(project)
        changed = [urn for urn in before if before[urn] != after.get(urn)]
        assert [urn.split("::")[2].split("$")[-1] for urn in changed] == [ROUTE_TYPE]

    def test_revert_restores_the_previous_weights_and_nothing_else(self, project):
        versions_before = resource_versions(project)
        project.git("revert", "--no-edit", "HEAD")
        steps = preview_steps(project)
        assert [s["op"] for s in steps] == ["update"]
        project.pulumi("up", "--yes", "--skip-preview")
        assert route_weights(project) == {"demo-blue": 90, "demo-green": 10}
        versions_after = resource_versions(project)
        changed = sorted(k for k in versions_before if versions_before[k] != versions_after[k])
        assert changed == [f"HTTPRoute/{ROUTE}"]
        project.pulumi("up", "--yes", "--skip-preview", "--expect-no-changes")

    def test_report_tells_the_rollout_so_far(self, project, tmp_path):
        report = json.loads(project.stagewise("report", "--json").stdout)
        assert (report["rollout"]["version"], report["rollout"]["outcome"]) == ("1.5.0", "in progress")
        assert [(s["stage"], s["share"]) for s in report["stages"]] == [("canary", 10), ("early", 20), ("canary", 10)]
        (incident,) = report["incidents"]
        assert incident["kind"] == "rollback" and incident["reason"].startswith('Revert "local: promote to early"')
        # Metrics come from the local stack's Prometheus when one runs; without one, the report says why.
        assert report["metrics"]["available"] is (report["metrics"]["missing"] is None)
        project.stagewise("report", "--out", str(tmp_path))
        assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json", "report.md", "report.png", "report.svg"]

    def test_bad_config_is_refused_and_the_cluster_is_untouched(self, project):
        versions_before = resource_versions(project)
        text = project.stack_file.read_text()
        project.stack_file.write_text(text.replace("stage: canary", "stage: canery"))
        try:
            result = project.pulumi("preview", check=False)
            assert result.returncode != 0
            assert "stagewise:release: unknown stage 'canery'" in result.stdout + result.stderr
            result = project.pulumi("up", "--yes", "--skip-preview", check=False)
            assert result.returncode != 0
        finally:
            project.stack_file.write_text(text)
        assert resource_versions(project) == versions_before

    def test_policy_pack_passes_the_stack_and_a_violation_blocks_up(self, project):
        project.pulumi("preview", "--policy-pack", "policy")
        # Hold the local tier to production-like rules: its HPAs (minimum 1) now violate the pack.
        strict = project.path / "strict-policy.json"
        strict.write_text(json.dumps({"kubernetes-hpa-min-replicas": {"productionLikeTiers": ["local"]}}))
        versions_before = resource_versions(project)
        project.stagewise("promote")
        # `pulumi up` previews first: a mandatory violation there stops it before any change.
        result = project.pulumi(
            "up", "--yes", "--policy-pack", "policy", "--policy-pack-config", str(strict), check=False
        )
        project.git("checkout", "--", project.stack_file.name)
        assert result.returncode != 0
        assert "kubernetes-hpa-min-replicas" in result.stdout + result.stderr
        assert resource_versions(project) == versions_before

    def test_no_secret_value_in_plain_text_anywhere(self, project):
        exported = project.pulumi("stack", "export").stdout
        outputs = project.pulumi("stack", "output", "--json").stdout
        stack_file = project.stack_file.read_text()
        logs = "\n".join(project.transcript)  # every command's output so far
        values = secret_values(project)
        assert values and all(values)
        for value in values:
            assert value not in stack_file
            assert value not in exported
            assert value not in outputs
            assert value not in logs
        # The stack file holds them encrypted.
        assert stackfile.StackText.parse(stack_file, project.stack_file.name).encrypted_secret_names == {
            "jwt-secret",
            "database-connection-string",
        }

    def test_destroy_leaves_nothing_of_ours(self, project):
        project.pulumi("destroy", "--yes", "--skip-preview")
        namespaces = project.kube_json("get", "namespaces")["items"]
        assert NAMESPACE_K8S not in [
            n["metadata"]["name"] for n in namespaces if n["status"].get("phase") != "Terminating"
        ]
        leftovers = project.kube_json("get", "all,secrets,hpa,httproutes,gateways", "-A", "-l", OURS)["items"]
        assert leftovers == []
