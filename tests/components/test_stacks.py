"""Each Azure stack file, evaluated by the real program under mocks."""

from collections import Counter
from pathlib import Path

import pytest

from stagewise.core import naming
from stagewise.core.config import ConfigError
from stagewise.formats import stackfile
from stagewise.formats.stackfile import SECRET_PLACEHOLDER as SECRET
from stagewise.tools.evaluate import Evaluation, evaluate_stack, run

ROOT = Path(__file__).resolve().parents[2]
PROJECT = (ROOT / "Pulumi.yaml").read_text()


def evaluate(stack: str) -> Evaluation:
    return evaluate_stack(PROJECT, (ROOT / f"Pulumi.{stack}.yaml").read_text(), stack)


def types(ev: Evaluation) -> Counter:
    return Counter(r.type.split(":")[-1] for r in ev.resources if r.custom)


# Once per stack: group, monitoring, the identity and its vault grant, the vault, the wait for the grants
# and the references check (two dynamic resources), the Front Door entry, alerts, the rollout workbook.
COMMON = {
    "ResourceGroup": 1,
    "Workspace": 1,
    "Component": 1,
    "UserAssignedIdentity": 1,
    "Vault": 1,
    "RoleAssignment": 1,
    "Resource": 2,
    "Profile": 1,
    "AFDEndpoint": 1,
    "AFDOriginGroup": 1,
    "Route": 1,
    "ActionGroup": 1,
    "ScheduledQueryRule": 4,
    "Workbook": 1,
}
# Once per region: the stamp (basic publishing credentials off for SCM and FTP on site and slot), its two Front Door
# origins (site and slot) and the health alerts of both colours.
PER_REGION = {
    "AppServicePlan": 1,
    "WebApp": 1,
    "WebAppSlot": 1,
    "WebAppSlotConfigurationNames": 1,
    "WebAppScmAllowed": 1,
    "WebAppScmAllowedSlot": 1,
    "WebAppFtpAllowed": 1,
    "WebAppFtpAllowedSlot": 1,
    "AFDOrigin": 2,
    "MetricAlert": 2,
}


def times(counts: dict, n: int) -> Counter:
    return Counter({k: v * n for k, v in counts.items()})


@pytest.mark.parametrize(
    ("stack", "regions", "extra", "per_region_extra"),
    [
        ("dev", 1, {"Secret": 1}, {}),
        ("staging", 1, {"Secret": 2, "Registry": 1, "RoleAssignment": 1}, {}),
        # Production: its own registry and the identity's AcrPull grant; a firewalled vault, so a network per
        # region (integrated by the sites' own virtualNetworkSubnetId, no connection resource); autoscale per region.
        (
            "production",
            2,
            {"Secret": 4, "Registry": 1, "RoleAssignment": 1},
            {
                "AutoscaleSetting": 1,
                "VirtualNetwork": 1,
                "Subnet": 1,
            },
        ),
    ],
)
def test_stack_evaluates_to_the_expected_resources(stack, regions, extra, per_region_extra):
    assert types(evaluate(stack)) == Counter(COMMON) + Counter(extra) + times(PER_REGION | per_region_extra, regions)


def origins(ev: Evaluation) -> dict[str, dict]:
    return {o.inputs["originName"]: o for o in ev.of_type("azure-native:cdn:AFDOrigin")}


def test_production_spans_two_regions_and_both_colours_behind_one_front_door():
    ev = production = evaluate("production")
    found = origins(production)
    # Region weights 60:40, green at 25 %: each origin weighs its region's part times its colour's share.
    assert {n: (o.inputs["weight"], o.inputs["enabledState"]) for n, o in found.items()} == {
        "westeurope-blue": (750, "Enabled"),
        "westeurope-green": (250, "Enabled"),
        "northeurope-blue": (500, "Enabled"),
        "northeurope-green": (167, "Enabled"),
    }
    sites = {r.inputs["location"]: r for r in ev.of_type("azure-native:web:WebApp")}
    slots = {r.inputs["location"]: r for r in ev.of_type("azure-native:web:WebAppSlot")}
    assert set(sites) == set(slots) == {"westeurope", "northeurope"}
    for region in sites:
        for colour, site in (("blue", sites[region]), ("green", slots[region])):
            origin = found[f"{region}-{colour}"]
            # The host name as Azure reports it (the site's or slot's defaultHostName), with a dependency.
            assert origin.inputs["hostName"] == origin.inputs["originHostHeader"] == f"{site.name}.azurewebsites.net"
            assert site.urn in origin.property_dependencies["hostName"]
    (group,) = ev.of_type("azure-native:cdn:AFDOriginGroup")
    assert group.inputs["loadBalancingSettings"]["additionalLatencyInMilliseconds"] > 0
    assert group.inputs["healthProbeSettings"]["probePath"] == "/health"
    assert ev.outputs["url"] == "https://edge-endpoint-hash.z01.azurefd.net"


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


def dynamic(ev: Evaluation, name: str):
    (found,) = [r for r in ev.of_type("pulumi-python:dynamic:Resource") if r.name == name]
    return found


def test_one_identity_granted_and_effective_before_any_site_reads_a_reference_or_pulls():
    ev = evaluate("production")
    (identity,) = ev.of_type("azure-native:managedidentity:UserAssignedIdentity")
    grants = {r.name: r for r in ev.of_type("azure-native:authorization:RoleAssignment")}
    assert set(grants) == {"secrets-reader-app", "registry-pull"}
    assert grants["secrets-reader-app"].inputs["roleDefinitionId"].endswith("4633458b-17de-408a-b874-0445c86b69e6")
    assert grants["registry-pull"].inputs["roleDefinitionId"].endswith("7f951dda-4ed3-4680-a7ca-43fe172d538d")
    (registry,) = ev.of_type("azure-native:containerregistry:Registry")
    assert grants["registry-pull"].inputs["scope"] == f"{registry.name}-id"
    assert registry.inputs["adminUserEnabled"] is False
    for grant in grants.values():
        assert grant.inputs["principalId"] == f"{identity.name}-principal"
    # The wait until the grants take effect exists after both grants, and before every site and slot.
    wait = dynamic(ev, "grants-wait")
    assert wait.inputs["propagationSeconds"] == 600
    assert {g.urn for g in grants.values()} <= set(wait.dependencies)
    sites = ev.of_type("azure-native:web:WebApp") + ev.of_type("azure-native:web:WebAppSlot")
    for site in sites:
        assert site.inputs["keyVaultReferenceIdentity"] == f"{identity.name}-id"
        assert site.inputs["siteConfig"]["acrUserManagedIdentityID"] == f"{identity.name}-client"
        assert site.inputs["siteConfig"]["linuxFxVersion"].startswith(
            f"DOCKER|{registry.inputs['registryName']}.azurecr.io/"
        )
        assert wait.urn in site.dependencies and {g.urn for g in grants.values()} <= set(site.dependencies)
    # After the sites: the check that every reference resolved, on every site and slot.
    check = dynamic(ev, "references-resolved")
    assert sorted(check.inputs["siteIds"]) == sorted(f"{s.name}-id" for s in sites)
    assert {s.urn for s in sites} <= set(check.dependencies)
    assert check.inputs["settings"] == sorted(
        ["API_KEYS", "DATABASE_CONNECTION_STRING", "EXTERNAL_SERVICE_CREDENTIALS", "JWT_SECRET"]
    )
    assert check.inputs["token"] == SECRET


def test_each_region_has_its_own_address_space_and_one_integration_mechanism():
    ev = evaluate("production")
    spaces = {
        v.inputs["location"]: v.inputs["addressSpace"]["addressPrefixes"]
        for v in ev.of_type("azure-native:network:VirtualNetwork")
    }
    assert spaces == {"westeurope": ["10.0.0.0/16"], "northeurope": ["10.1.0.0/16"]}
    assert sorted(s.inputs["addressPrefix"] for s in ev.of_type("azure-native:network:Subnet")) == [
        "10.0.0.0/24",
        "10.1.0.0/24",
    ]
    # Site and slot integrate by virtualNetworkSubnetId alone: a connection resource next to it fails to create
    # (pulumi-azure-native#866), so there is none, and each site depends on its subnet.
    assert not ev.of_type("azure-native:web:WebAppSwiftVirtualNetworkConnection")
    assert not ev.of_type("azure-native:web:WebAppSwiftVirtualNetworkConnectionSlot")
    subnets = {s.urn for s in ev.of_type("azure-native:network:Subnet")}
    for site in ev.of_type("azure-native:web:WebApp") + ev.of_type("azure-native:web:WebAppSlot"):
        assert set(site.property_dependencies["virtualNetworkSubnetId"]) & subnets


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


def test_production_is_mid_rollout_at_25_percent_in_every_region_without_a_slot_rule():
    ev = evaluate("production")
    for region in ("westeurope", "northeurope"):
        found = origins(ev)
        blue, green = found[f"{region}-blue"].inputs["weight"], found[f"{region}-green"].inputs["weight"]
        assert round(100 * green / (blue + green)) == 25
    for site in ev.of_type("azure-native:web:WebApp"):
        assert site.inputs["siteConfig"]["experiments"] == {"rampUpRules": []}
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

    from stagewise.infra import program, settings

    ev = run(lambda: program.build_stack(settings.load(encrypted=set(values))), config, secret_keys, stack="production")
    recorded = repr([r.inputs for r in ev.resources]) + repr(ev.outputs)
    for value in values.values():
        assert value not in recorded
    assert [r.inputs["properties"] for r in ev.of_type("azure-native:keyvault:Secret")] == [SECRET] * 4


def test_bad_config_is_refused_before_any_resource():
    stack_text = (ROOT / "Pulumi.production.yaml").read_text().replace("stage: quarter", "stage: quater")
    config, secret_keys = stackfile.stack_config(PROJECT, stack_text, "Pulumi.production.yaml")
    from stagewise.infra import program, settings

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


def test_globally_unique_names_carry_the_stacks_own_seed_and_an_empty_seed_keeps_the_old_names():
    text = (ROOT / "Pulumi.dev.yaml").read_text()
    other_installation = text.replace("stagewise:nameSeed: af8b2b9c", "stagewise:nameSeed: q7other1")
    pinned = text.replace("stagewise:nameSeed: af8b2b9c", "stagewise:nameSeed: ''")

    def names(stack_text: str) -> set[str]:
        ev = evaluate_stack(PROJECT, stack_text, "dev")
        (vault,) = ev.of_type("azure-native:keyvault:Vault")
        (site,) = ev.of_type("azure-native:web:WebApp")
        (endpoint,) = ev.of_type("azure-native:cdn:AFDEndpoint")
        return {vault.inputs["vaultName"], site.inputs["name"], endpoint.inputs["endpointName"]}

    ours, theirs, legacy = names(text), names(other_installation), names(pinned)
    assert not ours & theirs and not ours & legacy
    assert naming.site_name("stagewise", "dev", "westeurope") in legacy


KEY_VAULT_PROVIDER = (
    "secretsprovider: azurekeyvault://stagewise-keys.vault.azure.net/keys/stagewise\n"
    "encryptedkey: ZXhhbXBsZS1kYXRhLWtleS13cmFwcGVkLWJ5LWtleS12YXVsdA==\n"
)


@pytest.mark.parametrize("stack", ["dev", "staging", "production"])
def test_moving_to_another_secrets_provider_replaces_nothing(stack):
    # README step 3: `pulumi stack change-secrets-provider` writes a new salt (or an encrypted key). The names come
    # from the seed written in the stack file, so every resource keeps every input: no replacement, no update.
    text = (ROOT / f"Pulumi.{stack}.yaml").read_text()
    salt = next(line for line in text.splitlines() if line.startswith("encryptionsalt: "))
    moved = text.replace(salt + "\n", KEY_VAULT_PROVIDER)
    assert stackfile.StackText.parse(moved, "moved").installation != stackfile.StackText.parse(text, "t").installation

    def resources(stack_text: str) -> dict[str, dict]:
        ev = evaluate_stack(PROJECT, stack_text, stack)
        return {r.urn: r.inputs for r in ev.resources if r.custom}

    before, after = resources(text), resources(moved)
    assert before == after
    # The seed the names used to be derived from did move with the provider: that is what no longer matters.
    old = naming.installation_seed
    assert old(salt.split(": ", 1)[1]) != old(stackfile.StackText.parse(moved, "moved").installation or "")


def test_production_log_alerts_judge_a_version_only_on_the_gates_request_count():
    ev = evaluate("production")
    for rule in ev.of_type("azure-native:monitor:ScheduledQueryRule"):
        (condition,) = rule.inputs["criteria"]["allOf"]
        assert condition["query"].endswith("| where requests >= 250")


def test_front_door_probes_every_origin_over_https_whatever_the_old_probe_protocol():
    # Every site is httpsOnly: an HTTP probe would be answered with a redirect, a failure to Front Door.
    text = (
        (ROOT / "Pulumi.dev.yaml")
        .read_text()
        .replace(
            "stagewise:environment: dev\n",
            "stagewise:environment: dev\n  stagewise:traffic:\n    ttl: 30\n    probe:\n      protocol: HTTP\n      port: 80\n",
        )
    )
    (group,) = evaluate_stack(PROJECT, text, "dev").of_type("azure-native:cdn:AFDOriginGroup")
    assert group.inputs["healthProbeSettings"]["probeProtocol"] == "Https"
    assert group.inputs["loadBalancingSettings"] == {
        "sampleSize": 4,
        "successfulSamplesRequired": 3,
        "additionalLatencyInMilliseconds": 500,
    }


def at(stage: str, green: str = "1.5.0") -> Evaluation:
    """Production at another stage (and green version), as the stack file would say it."""
    text = (ROOT / "Pulumi.production.yaml").read_text()
    text = text.replace("stage: quarter", f"stage: {stage}").replace("green: 1.5.0", f"green: {green}")
    return evaluate_stack(PROJECT, text, "production")


def test_production_sites_slots_and_scm_sites_answer_only_front_door_and_the_deployers():
    ev = evaluate("production")
    (profile,) = ev.of_type("azure-native:cdn:Profile")
    sites = ev.of_type("azure-native:web:WebApp") + ev.of_type("azure-native:web:WebAppSlot")
    assert len(sites) == 4
    for site in sites:
        config = site.inputs["siteConfig"]
        (rule,) = config["ipSecurityRestrictions"]
        # This profile's own ID, read from the profile (a dependency, so the profile exists first).
        assert rule["headers"] == {"x-azure-fdid": [f"{profile.name}-fdid"]}
        assert (rule["tag"], rule["ipAddress"], rule["action"]) == ("ServiceTag", "AzureFrontDoor.Backend", "Allow")
        assert profile.urn in site.dependencies
        assert config["ipSecurityRestrictionsDefaultAction"] == config["scmIpSecurityRestrictionsDefaultAction"]
        assert config["scmIpSecurityRestrictionsDefaultAction"] == "Deny"
        assert config["scmIpSecurityRestrictionsUseMain"] is False
    policies = [r for r in ev.resources if r.type.split(":")[-1].startswith(("WebAppScmAllowed", "WebAppFtpAllowed"))]
    assert len(policies) == 8 and all(p.inputs["allow"] is False for p in policies)


def test_stack_outputs_publish_no_direct_host_name():
    for stack in ("dev", "staging", "production"):
        outputs = repr(evaluate(stack).outputs)
        assert "azurewebsites.net" not in outputs and "hostnames" not in outputs


def test_session_affinity_is_on_by_default_and_can_be_turned_off():
    (group,) = evaluate("production").of_type("azure-native:cdn:AFDOriginGroup")
    assert group.inputs["sessionAffinityState"] == "Enabled"
    text = (
        (ROOT / "Pulumi.production.yaml")
        .read_text()
        .replace("    ttl: 30\n", "    ttl: 30\n    sessionAffinity: false\n")
    )
    (group,) = evaluate_stack(PROJECT, text, "production").of_type("azure-native:cdn:AFDOriginGroup")
    assert group.inputs["sessionAffinityState"] == "Disabled"


def state(ev: Evaluation) -> dict[str, tuple[int, str, int]]:
    return {n: (o.inputs["priority"], o.inputs["enabledState"], o.inputs["weight"]) for n, o in origins(ev).items()}


def test_a_zero_percent_colour_with_a_version_is_an_enabled_fallback_at_a_lower_priority():
    # At 100 % to green, blue (1.4.2) gets nothing but stays enabled at priority 2: Front Door fails over to it
    # when green fails its probes.
    assert state(at("full")) == {
        "westeurope-blue": (2, "Enabled", 1000),
        "westeurope-green": (1, "Enabled", 1000),
        "northeurope-blue": (2, "Enabled", 667),
        "northeurope-green": (1, "Enabled", 667),
    }


def test_after_an_abort_the_candidate_is_parked_and_admits_nothing():
    # What `abort` leaves: idle, the candidate on the live version. Its slot admits no request, so an edge that still
    # routes to it (its configuration not yet propagated) sees its probes fail and drops it within a few probe
    # intervals; its origin stays an enabled fallback, so no edge is ever left without an enabled origin.
    ev = at("idle", green="1.4.2")
    assert {n: s[:2] for n, s in state(ev).items()} == {
        "westeurope-blue": (1, "Enabled"),
        "westeurope-green": (2, "Enabled"),
        "northeurope-blue": (1, "Enabled"),
        "northeurope-green": (2, "Enabled"),
    }
    for slot in ev.of_type("azure-native:web:WebAppSlot"):
        assert slot.inputs["siteConfig"]["ipSecurityRestrictions"] == []
    for site in ev.of_type("azure-native:web:WebApp"):
        assert len(site.inputs["siteConfig"]["ipSecurityRestrictions"]) == 1


def test_every_site_waits_for_the_secrets_it_references_and_probes_are_head():
    ev = evaluate("production")
    secrets = {s.urn for s in ev.of_type("azure-native:keyvault:Secret")}
    assert len(secrets) == 4
    for site in ev.of_type("azure-native:web:WebApp") + ev.of_type("azure-native:web:WebAppSlot"):
        assert secrets <= set(site.dependencies), site.name
    (group,) = ev.of_type("azure-native:cdn:AFDOriginGroup")
    assert group.inputs["healthProbeSettings"]["probeRequestType"] == "HEAD"
