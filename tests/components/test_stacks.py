"""Each Azure stack file, evaluated by the real program under mocks."""

from collections import Counter
from pathlib import Path

import pytest

from stagewise.core import stackfile
from stagewise.core.config import ConfigError
from stagewise.core.stackfile import SECRET_PLACEHOLDER as SECRET
from stagewise.tools.evaluate import Evaluation, evaluate_stack, run

ROOT = Path(__file__).resolve().parents[2]
PROJECT = (ROOT / "Pulumi.yaml").read_text()


def evaluate(stack: str) -> Evaluation:
    return evaluate_stack(PROJECT, (ROOT / f"Pulumi.{stack}.yaml").read_text(), stack)


def types(ev: Evaluation) -> Counter:
    return Counter(r.type.split(":")[-1] for r in ev.resources if r.custom)


# Once per stack: group, monitoring, the identity and its one grant, the vault, the global entry, alerts.
COMMON = {
    "ResourceGroup": 1,
    "Workspace": 1,
    "Component": 1,
    "UserAssignedIdentity": 1,
    "Vault": 1,
    "RoleAssignment": 1,
    "Profile": 1,
    "ActionGroup": 1,
    "ScheduledQueryRule": 4,
}
# Once per region: the stamp, its Traffic Manager endpoint and the health alerts of both colours.
PER_REGION = {
    "AppServicePlan": 1,
    "WebApp": 1,
    "WebAppSlot": 1,
    "WebAppSlotConfigurationNames": 1,
    "Endpoint": 1,
    "MetricAlert": 2,
}


def times(counts: dict, n: int) -> Counter:
    return Counter({k: v * n for k, v in counts.items()})


@pytest.mark.parametrize(
    ("stack", "regions", "extra", "per_region_extra"),
    [
        ("dev", 1, {"Secret": 1}, {}),
        ("staging", 1, {"Secret": 2}, {}),
        # Production: a firewalled vault, so a network per region; autoscale per region.
        ("production", 2, {"Secret": 4}, {"AutoscaleSetting": 1, "VirtualNetwork": 1, "Subnet": 1}),
    ],
)
def test_stack_evaluates_to_the_expected_resources(stack, regions, extra, per_region_extra):
    assert types(evaluate(stack)) == Counter(COMMON) + Counter(extra) + times(PER_REGION | per_region_extra, regions)


def test_production_spans_two_regions_behind_one_weighted_profile():
    ev = evaluate("production")
    endpoints = {e.inputs["endpointName"]: e for e in ev.of_type("azure-native:trafficmanager:Endpoint")}
    assert {n: (e.inputs["weight"], e.inputs["endpointStatus"]) for n, e in endpoints.items()} == {
        "westeurope": (60, "Enabled"),
        "northeurope": (40, "Enabled"),
    }
    sites = {r.inputs["location"]: r for r in ev.of_type("azure-native:web:WebApp")}
    assert set(sites) == {"westeurope", "northeurope"}
    # Each endpoint targets its own region's production site, never a slot.
    for name, endpoint in endpoints.items():
        assert endpoint.inputs["targetResourceId"] == f"web-{name}-app-id"


def test_production_sites_integrate_with_subnets_the_vault_allows():
    ev = evaluate("production")
    (vault,) = ev.of_type("azure-native:keyvault:Vault")
    acls = vault.inputs["properties"]["networkAcls"]
    assert acls["defaultAction"] == "Deny"
    assert acls["ipRules"] == [{"value": "203.0.113.0/24"}]
    allowed = {rule["id"] for rule in acls["virtualNetworkRules"]}
    subnets = ev.of_type("azure-native:network:Subnet")
    assert allowed == {f"{s.name}-id" for s in subnets} and len(allowed) == 2
    for subnet in subnets:
        assert subnet.inputs["delegations"] == [{"name": "app-service", "serviceName": "Microsoft.Web/serverFarms"}]
        assert subnet.inputs["serviceEndpoints"] == [{"service": "Microsoft.KeyVault"}]
    for site in ev.of_type("azure-native:web:WebApp") + ev.of_type("azure-native:web:WebAppSlot"):
        assert site.inputs["virtualNetworkSubnetId"] in allowed
        assert site.inputs["virtualNetworkSubnetId"] == f"net-{site.inputs['location']}-apps-id"


def test_one_identity_granted_before_any_site_reads_every_reference():
    ev = evaluate("production")
    (identity,) = ev.of_type("azure-native:managedidentity:UserAssignedIdentity")
    (grant,) = ev.of_type("azure-native:authorization:RoleAssignment")
    assert grant.inputs["principalId"] == f"{identity.name}-principal"
    for site in ev.of_type("azure-native:web:WebApp") + ev.of_type("azure-native:web:WebAppSlot"):
        assert site.inputs["keyVaultReferenceIdentity"] == f"{identity.name}-id"
        assert grant.urn in site.dependencies


def test_dev_and_staging_have_no_network_of_their_own():
    for stack in ("dev", "staging"):
        ev = evaluate(stack)
        assert not ev.of_type("azure-native:network:VirtualNetwork")
        assert all("virtualNetworkSubnetId" not in s.inputs for s in ev.of_type("azure-native:web:WebApp"))


def test_production_declares_the_four_secrets_and_protects_group_and_vault():
    ev = evaluate("production")
    assert sorted(r.inputs["secretName"] for r in ev.of_type("azure-native:keyvault:Secret")) == [
        "api-keys",
        "database-connection-string",
        "external-service-credentials",
        "jwt-secret",
    ]
    protected = sorted(r.type for r in ev.resources if r.protect)
    assert protected == ["azure-native:keyvault:Vault", "azure-native:resources:ResourceGroup"]


def test_production_is_mid_rollout_at_25_percent_in_every_region():
    ev = evaluate("production")
    for site in ev.of_type("azure-native:web:WebApp"):
        (rule,) = site.inputs["siteConfig"]["experiments"]["rampUpRules"]
        assert rule == {
            "name": "green",
            "reroutePercentage": 25,
            "actionHostName": f"{site.inputs['name']}-green.azurewebsites.net",
        }
    assert ev.outputs["traffic"] == {"blue": 75, "green": 25}


def test_dev_has_no_autoscale_and_debug_logs():
    ev = evaluate("dev")
    assert not ev.of_type("azure-native:monitor:AutoscaleSetting")
    (app,) = ev.of_type("azure-native:web:WebApp")
    assert {"name": "LOG_LEVEL", "value": "debug"} in app.inputs["siteConfig"]["appSettings"]


def test_app_settings_reference_key_vault_never_values():
    ev = evaluate("production")
    app = ev.of_type("azure-native:web:WebApp")[0]
    settings = {s["name"]: s["value"] for s in app.inputs["siteConfig"]["appSettings"]}
    assert settings["JWT_SECRET"].startswith("@Microsoft.KeyVault(SecretUri=https://kv-production-")
    assert settings["JWT_SECRET"].endswith("/secrets/jwt-secret/)")


def test_secret_values_never_leave_secret_inputs_or_outputs():
    stack_text = (ROOT / "Pulumi.production.yaml").read_text()
    config, secret_keys = stackfile.stack_config(PROJECT, stack_text, "Pulumi.production.yaml")
    values = {name: f"plaintext-{name}-value" for name in config["stagewise:secrets"]}
    config["stagewise:secrets"] = values

    from infra import program, settings

    ev = run(lambda: program.build_stack(settings.load(encrypted=set(values))), config, secret_keys, stack="production")
    recorded = repr([r.inputs for r in ev.resources]) + repr(ev.outputs)
    for value in values.values():
        assert value not in recorded
    assert [r.inputs["properties"] for r in ev.of_type("azure-native:keyvault:Secret")] == [SECRET] * 4


def test_bad_config_is_refused_before_any_resource():
    stack_text = (ROOT / "Pulumi.production.yaml").read_text().replace("stage: quarter", "stage: quater")
    config, secret_keys = stackfile.stack_config(PROJECT, stack_text, "Pulumi.production.yaml")
    from infra import program, settings

    evaluation = Evaluation()
    with pytest.raises(ConfigError, match="unknown stage 'quater'"):
        run(
            lambda: program.build_stack(settings.load(encrypted=set(config["stagewise:secrets"]))),
            config,
            secret_keys,
            stack="production",
            evaluation=evaluation,
        )
    assert evaluation.resources == []


def test_local_stack_builds_the_kubernetes_side(tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    stack_text = (
        (ROOT / "Pulumi.local.yaml")
        .read_text()
        .replace(
            "    app: demo\n", f"    app: demo\n    kubeconfig: {kubeconfig}\n    kubeconfigOutsideProject: true\n"
        )
    )
    ev = evaluate_stack(PROJECT, stack_text, "local")
    kinds = Counter(r.type.split(":")[-1] for r in ev.resources if r.type.startswith("kubernetes:"))
    assert [r.type for r in ev.resources if r.type.startswith("pulumi:providers:")] == ["pulumi:providers:kubernetes"]
    assert kinds == Counter(
        {
            "Namespace": 1,
            "Gateway": 1,
            "Secret": 1,
            "Deployment": 2,
            "Service": 2,
            "HorizontalPodAutoscaler": 2,
            "HTTPRoute": 1,
        }
    )
    assert ev.outputs["traffic"] == {"blue": 90, "green": 10}


def test_local_stack_without_a_cluster_names_the_kubeconfig_key():
    stack_text = (
        (ROOT / "Pulumi.local.yaml")
        .read_text()
        .replace("    app: demo\n", "    app: demo\n    kubeconfig: no/such/kubeconfig\n")
    )
    with pytest.raises(ConfigError, match="stagewise:kubernetes.kubeconfig: no/such/kubeconfig does not exist"):
        evaluate_stack(PROJECT, stack_text, "local")
