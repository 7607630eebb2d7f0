"""Every shipped stack, as the program builds it, passes the policy pack's mandatory policies.

The stacks are evaluated under mocks (the Azure ones cannot be deployed here) and each recorded
resource goes through pulumi_policy's own analyzer service, as the engine would send it.
"""

import json
from dataclasses import replace
from pathlib import Path

import pytest
from google.protobuf import struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer

from stagewise.policy.inputs import StackResource
from stagewise.policy.policies import PACK_NAME, STACK_RULES, policies
from stagewise.tools.evaluate import evaluate_stack

ROOT = Path(__file__).resolve().parents[2]


def stack_resources(ev) -> list[StackResource]:
    return [
        StackResource(
            urn=r.urn,
            type=r.type,
            name=r.name,
            props=r.inputs,
            property_dependencies=r.property_dependencies,
            dependencies=r.dependencies,
        )
        for r in ev.resources
        if r.custom
    ]


def violations(ev) -> list[str]:
    service = _PolicyAnalyzerServicer(PACK_NAME, "0.1.0", policies(), EnforcementLevel.MANDATORY)
    mandatory = {p.name for p in policies() if p.enforcement_level == EnforcementLevel.MANDATORY}
    found = []
    for resource in ev.resources:
        if not resource.custom:
            continue
        props = struct_pb2.Struct()
        props.update(resource.inputs)
        request = proto.AnalyzeRequest(type=resource.type, properties=props, urn=resource.urn, name=resource.name)
        found += [
            f"{resource.name}: {d.policyName}: {d.message}"
            for d in service.Analyze(request, None).diagnostics
            if d.policyName in mandatory
        ]
    stack = stack_resources(ev)
    found += [f"{name}: {v.message}" for name, rule in STACK_RULES.items() for v in rule(stack)]
    return found


@pytest.mark.parametrize("stack", ["dev", "staging", "production"])
def test_azure_stack_passes_the_policy_pack(stack):
    ev = evaluate_stack((ROOT / "Pulumi.yaml").read_text(), (ROOT / f"Pulumi.{stack}.yaml").read_text(), stack)
    assert violations(ev) == []


def test_local_stack_passes_the_policy_pack(tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    text = (
        (ROOT / "Pulumi.local.yaml")
        .read_text()
        .replace(
            "    app: demo\n", f"    app: demo\n    kubeconfig: {kubeconfig}\n    kubeconfigOutsideProject: true\n"
        )
    )
    assert violations(evaluate_stack((ROOT / "Pulumi.yaml").read_text(), text, "local")) == []


def test_the_check_sees_a_violation():
    # The program always scales origin weights into 1..1000 (tests/unit/test_rollout.py), so the violation
    # is made on the evaluated origin itself.
    ev = production()
    origin = one(ev, "edge-westeurope-green")
    ev = changed(ev, "edge-westeurope-green", inputs={**origin.inputs, "weight": 0})
    assert any("frontdoor-origin-weight" in v for v in violations(ev))


# Each platform rule blocks its counterexample, made from the real production stack by one change.


def production():
    return evaluate_stack(
        (ROOT / "Pulumi.yaml").read_text(), (ROOT / "Pulumi.production.yaml").read_text(), "production"
    )


def changed(ev, name: str, **fields):
    """The evaluation with one resource's fields replaced."""
    ev.resources[:] = [replace(r, **fields) if r.name == name else r for r in ev.resources]
    return ev


def one(ev, name: str):
    (found,) = [r for r in ev.resources if r.name == name]
    return found


def test_a_site_that_carries_a_slot_traffic_rule_is_blocked():
    ev = production()
    site = one(ev, "web-westeurope-app")
    config = site.inputs["siteConfig"]
    rule = {
        "name": "green",
        "reroutePercentage": 25,
        "actionHostName": f"{site.inputs['name']}-green.azurewebsites.net",
    }
    ev = changed(
        ev,
        "web-westeurope-app",
        inputs={**site.inputs, "siteConfig": {**config, "experiments": {"rampUpRules": [rule]}}},
    )
    found = violations(ev)
    # A stack policy (it holds on the frontDoor edge only), naming the site.
    assert len(found) == 1 and found[0].startswith("webapp-no-slot-traffic-rule: web app 'web-westeurope-app': ")


def test_an_origin_group_whose_weights_do_not_count_is_blocked():
    ev = production()
    group = one(ev, "edge-origins")
    settings = {**group.inputs["loadBalancingSettings"], "additionalLatencyInMilliseconds": 0}
    ev = changed(ev, "edge-origins", inputs={**group.inputs, "loadBalancingSettings": settings})
    found = violations(ev)
    assert len(found) == 1 and found[0].startswith("edge-origins: frontdoor-weights-take-effect: ")


def test_an_origin_that_sends_another_host_header_is_blocked():
    ev = production()
    origin = one(ev, "edge-northeurope-green")
    ev = changed(ev, "edge-northeurope-green", inputs={**origin.inputs, "originHostHeader": "edge.example.com"})
    found = violations(ev)
    assert len(found) == 1 and found[0].startswith("edge-northeurope-green: frontdoor-origin-host-header: ")


def test_a_production_site_that_pulls_without_signing_in_is_blocked():
    ev = production()
    for name in ("web-westeurope-app",):
        site = one(ev, name)
        config = {k: v for k, v in site.inputs["siteConfig"].items() if not k.startswith("acr")}
        ev = changed(ev, name, inputs={**site.inputs, "siteConfig": config})
    found = violations(ev)
    assert len(found) == 1 and found[0].startswith("web-westeurope-app: webapp-image-pull-path: ")
    assert "with no way to sign in" in found[0]


def test_sites_created_right_after_the_grants_without_the_wait_are_blocked():
    ev = production()
    wait = one(ev, "grants-wait")
    for name in ("web-northeurope-app", "web-northeurope-green"):
        site = one(ev, name)
        ev = changed(ev, name, dependencies=tuple(u for u in site.dependencies if u != wait.urn))
    found = [v for v in violations(ev) if v.startswith("webapp-waits-for-effective-grants")]
    # Each site needs two grants effective: Key Vault Secrets User and AcrPull.
    assert sorted(v.split("'")[1] for v in found) == ["web-northeurope-app"] * 2 + ["web-northeurope-green"] * 2
    assert all("is not created after a wait of at least 600 s" in v for v in found)


def test_references_no_check_confirms_are_blocked():
    ev = production()
    check = one(ev, "references-resolved")
    kept = tuple(u for u in check.property_dependencies["siteIds"] if "web-westeurope-green" not in u)
    ev = changed(ev, "references-resolved", property_dependencies={**check.property_dependencies, "siteIds": kept})
    found = [v for v in violations(ev) if v.startswith("webapp-references-checked")]
    assert len(found) == 1 and "web app 'web-westeurope-green'" in found[0] and "JWT_SECRET" in found[0]


def test_a_deny_vault_that_does_not_allow_an_apps_subnet_is_blocked():
    ev = production()
    vault = one(ev, "secrets-vault")
    acls = vault.inputs["properties"]["networkAcls"]
    kept = [rule for rule in acls["virtualNetworkRules"] if "northeurope" not in rule["id"]]
    ev = changed(
        ev,
        "secrets-vault",
        inputs={
            **vault.inputs,
            "properties": {**vault.inputs["properties"], "networkAcls": {**acls, "virtualNetworkRules": kept}},
        },
        property_dependencies={
            **vault.property_dependencies,
            "properties": tuple(u for u in vault.property_dependencies["properties"] if "net-northeurope" not in u),
        },
    )
    found = [v for v in violations(ev) if v.startswith("keyvault-firewall-allows-app-subnets")]
    assert sorted(v.split("'")[1] for v in found) == ["web-northeurope-app", "web-northeurope-green"]
    assert all("its integrated subnet is not allowed by the vault" in v for v in found)


def test_a_deny_vault_read_by_an_app_without_an_integrated_subnet_is_blocked():
    ev = production()
    app = one(ev, "web-westeurope-app")
    inputs = {k: v for k, v in app.inputs.items() if k != "virtualNetworkSubnetId"}
    ev = changed(
        ev,
        "web-westeurope-app",
        inputs=inputs,
        property_dependencies={k: v for k, v in app.property_dependencies.items() if k != "virtualNetworkSubnetId"},
    )
    found = [v for v in violations(ev) if v.startswith("keyvault-firewall-allows-app-subnets")]
    assert len(found) == 1 and "web app 'web-westeurope-app'" in found[0] and "has no integrated subnet" in found[0]


def test_references_read_by_an_identity_not_granted_first_are_blocked():
    ev = production()
    grant = one(ev, "secrets-reader-app")
    for name in ("web-westeurope-app", "web-westeurope-green"):
        site = one(ev, name)
        ev = changed(ev, name, dependencies=tuple(u for u in site.dependencies if u != grant.urn))
    found = [v for v in violations(ev) if v.startswith("keyvault-reference-identity-granted-first")]
    assert sorted(v.split("'")[1] for v in found) == ["web-westeurope-app", "web-westeurope-green"]
    assert all("before that identity is granted" in v for v in found)


def test_references_read_with_the_system_assigned_identity_are_blocked():
    ev = production()
    site = one(ev, "web-northeurope-app")
    ev = changed(
        ev, "web-northeurope-app", inputs={k: v for k, v in site.inputs.items() if k != "keyVaultReferenceIdentity"}
    )
    found = [v for v in violations(ev) if v.startswith("keyvault-reference-identity-granted-first")]
    assert len(found) == 1 and "system-assigned identity (keyVaultReferenceIdentity not set)" in found[0]


def test_a_log_alert_not_split_by_version_is_blocked():
    ev = production()
    rule = one(ev, "alerts-http-5xx-critical")
    (condition,) = rule.inputs["criteria"]["allOf"]
    blended = {k: v for k, v in condition.items() if k != "dimensions"}
    ev = changed(ev, "alerts-http-5xx-critical", inputs={**rule.inputs, "criteria": {"allOf": [blended]}})
    found = violations(ev)
    assert len(found) == 1 and found[0].startswith("alerts-http-5xx-critical: log-alert-split-by-version: ")


def test_an_explicit_zero_percent_slot_rule_is_blocked():
    ev = production()
    site = one(ev, "web-westeurope-app")
    config = site.inputs["siteConfig"]
    rule = {"name": "green", "reroutePercentage": 0, "actionHostName": f"{site.inputs['name']}-green.azurewebsites.net"}
    ev = changed(
        ev,
        "web-westeurope-app",
        inputs={**site.inputs, "siteConfig": {**config, "experiments": {"rampUpRules": [rule]}}},
    )
    found = sorted(policy_name(v) for v in violations(ev))
    # Any rule restarts the site when it changes; a rule at 0 % also keeps routing pinned clients.
    assert found == ["webapp-no-slot-traffic-rule", "webapp-slot-rule-percentage"]


def policy_name(violation: str) -> str:
    """The policy of a line of violations(): `<resource>: <policy>: ...` or, for a stack policy, `<policy>: ...`."""
    first, second = violation.split(": ")[:2]
    return first if first in STACK_RULES else second


def connection(ev, name: str, slot: str | None = None):
    """A VNet connection resource for the site (or its slot) `name`, named the way the program names the site."""
    app = one(ev, name)
    site = one(ev, "web-westeurope-app")
    inputs = {"name": app.inputs["name"], "resourceGroupName": app.inputs["resourceGroupName"]}
    inputs["subnetResourceId"] = app.inputs["virtualNetworkSubnetId"]
    kind = "WebAppSwiftVirtualNetworkConnection"
    if slot is not None:
        inputs["slot"] = slot
        kind += "Slot"
    return replace(
        app,
        urn=f"{app.urn}-vnet",
        type=f"azure-native:web:{kind}",
        name=f"{name}-vnet",
        inputs=inputs,
        property_dependencies={"name": (site.urn,)},
        dependencies=(site.urn,),
    )


@pytest.mark.parametrize(("name", "slot"), [("web-westeurope-app", None), ("web-westeurope-green", "green")])
def test_a_connection_resource_next_to_the_inline_integration_is_blocked(name, slot):
    ev = production()
    ev.resources.append(connection(ev, name, slot))
    found = violations(ev)
    assert len(found) == 1 and found[0].startswith(
        f"webapp-one-vnet-integration: web app {name!r} sets virtualNetworkSubnetId and also has the VNet connection"
    )


def test_regions_whose_networks_overlap_are_blocked():
    ev = production()
    vnet = one(ev, "net-northeurope-vnet")
    ev = changed(
        ev, "net-northeurope-vnet", inputs={**vnet.inputs, "addressSpace": {"addressPrefixes": ["10.0.128.0/17"]}}
    )
    found = violations(ev)
    assert len(found) == 1 and found[0].startswith(
        "network-address-spaces-apart: virtual networks 'net-northeurope-vnet' (10.0.128.0/17) and "
        "'net-westeurope-vnet' (10.0.0.0/16) overlap"
    )


def with_site_config(ev, name: str, **config):
    site = one(ev, name)
    return changed(ev, name, inputs={**site.inputs, "siteConfig": {**site.inputs["siteConfig"], **config}})


@pytest.mark.parametrize("name", ["web-westeurope-app", "web-northeurope-green"])
def test_a_site_or_slot_open_to_more_than_this_front_door_is_blocked(name):
    ev = production()
    (rule,) = one(ev, name).inputs["siteConfig"]["ipSecurityRestrictions"]
    # The service tag without the profile's ID admits every Front Door profile in Azure.
    ev = with_site_config(ev, name, ipSecurityRestrictions=[{k: v for k, v in rule.items() if k != "headers"}])
    found = violations(ev)
    assert len(found) == 1 and found[0].startswith(f"webapp-front-door-only: web app {name!r}: ")
    ev = with_site_config(production(), name, ipSecurityRestrictionsDefaultAction="Allow")
    found = violations(ev)
    assert len(found) == 1 and "ipSecurityRestrictionsDefaultAction to 'Deny'" in found[0]


def test_an_scm_site_on_the_main_rules_or_open_is_blocked():
    ev = with_site_config(production(), "web-westeurope-green", scmIpSecurityRestrictionsUseMain=True)
    found = violations(ev)
    assert len(found) == 1 and found[0].startswith("web-westeurope-green: webapp-scm-restricted: ")
    ev = with_site_config(production(), "web-westeurope-app", scmIpSecurityRestrictionsDefaultAction="Allow")
    found = violations(ev)
    assert len(found) == 1 and "scmIpSecurityRestrictionsDefaultAction to 'Deny'" in found[0]


@pytest.mark.parametrize(
    ("removed", "app"),
    [
        ("web-westeurope-scm-basic-auth", "web-westeurope-app"),
        ("web-northeurope-green-ftp-basic-auth", "web-northeurope-green"),
    ],
)
def test_a_site_or_slot_that_keeps_basic_authentication_is_blocked(removed, app):
    ev = production()
    ev.resources[:] = [r for r in ev.resources if r.name != removed]
    found = violations(ev)
    assert len(found) == 1 and found[0].startswith(f"webapp-basic-auth-off: web app {app!r} leaves ")


def test_basic_authentication_turned_back_on_is_blocked():
    ev = production()
    flag = one(ev, "web-westeurope-green-scm-basic-auth")
    ev = changed(ev, flag.name, inputs={**flag.inputs, "allow": True})
    found = sorted(violations(ev))
    assert len(found) == 2
    assert found[0].startswith("webapp-basic-auth-off: SCM basic authentication must be off")
    assert found[1].startswith("webapp-basic-auth-off: web app 'web-westeurope-green' leaves SCM")


def test_an_origin_priority_outside_front_doors_range_is_blocked():
    ev = production()
    origin = one(ev, "edge-westeurope-green")
    ev = changed(ev, origin.name, inputs={**origin.inputs, "priority": 0})
    found = violations(ev)
    assert len(found) == 1 and found[0].startswith("edge-westeurope-green: frontdoor-origin-priority: ")


def test_a_front_door_id_not_taken_from_the_stacks_profile_is_blocked():
    ev = production()
    site = one(ev, "web-westeurope-green")
    typed = {k: v for k, v in site.property_dependencies.items() if k != "siteConfig"}
    ev = changed(ev, site.name, property_dependencies=typed)
    found = violations(ev)
    assert len(found) == 1 and found[0].startswith(
        "webapp-front-door-id-from-profile: web app 'web-westeurope-green' admits an X-Azure-FDID that does not come"
    )


def test_a_stack_without_its_workbook_is_blocked():
    ev = production()
    ev.resources[:] = [r for r in ev.resources if r.type != "azure-native:applicationinsights:Workbook"]
    found = violations(ev)
    assert len(found) == 1 and found[0].startswith("workbook-per-environment: Application Insights 'env-insights' ")


def test_a_workbook_that_reads_another_resource_is_blocked():
    ev = production()
    book = one(ev, "dashboard-workbook")
    ev = changed(
        ev,
        "dashboard-workbook",
        inputs={
            **book.inputs,
            "sourceId": "/subscriptions/x/resourceGroups/y/providers/microsoft.insights/components/z",
        },
        property_dependencies={k: v for k, v in book.property_dependencies.items() if k != "sourceId"},
    )
    found = violations(ev)
    assert len(found) == 2, found
    assert any(v.startswith("workbook-per-environment: workbook 'dashboard-workbook' must read") for v in found)


def test_a_workbook_chart_blended_across_versions_is_blocked():
    ev = production()
    book = one(ev, "dashboard-workbook")
    data = json.loads(book.inputs["serializedData"])
    (p95,) = [item for item in data["items"] if item["name"] == "p95"]
    p95["content"]["query"] = p95["content"]["query"].replace("by application_Version, ", "by ")
    ev = changed(ev, "dashboard-workbook", inputs={**book.inputs, "serializedData": json.dumps(data)})
    found = violations(ev)
    assert len(found) == 1, found
    assert found[0].startswith("dashboard-workbook: workbook-queries-per-version: ")
    assert "workbook item 4 ('p95') charts requests blended across versions" in found[0]
