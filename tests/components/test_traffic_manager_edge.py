"""The production stack with `stagewise:traffic.edge: trafficManager`, under mocks: one weighted Traffic Manager
endpoint per region, each region's slot traffic rule at the stage's percentage, the probe on the production slot, the
sites public with Traffic Manager's probes admitted, and the names of the Traffic Manager the stacks before Front Door
deployed. The policy pack passes it, and refuses it done wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from stagewise.core import edges, naming
from stagewise.tools.evaluate import evaluate_stack
from tests.components.test_stacks_policy import changed, one, policy_name, violations

ROOT = Path(__file__).resolve().parents[2]
TRAFFIC = "  stagewise:traffic:\n    ttl: 30\n"


def trafficmanager_text(seed: str | None = None) -> str:
    text = (ROOT / "Pulumi.production.yaml").read_text()
    assert TRAFFIC in text, "Pulumi.production.yaml's traffic section moved; update this test's edit"
    text = text.replace(TRAFFIC, TRAFFIC + "    edge: trafficManager\n")
    if seed is not None:
        text = text.replace("stagewise:nameSeed: c3cf0d75", f"stagewise:nameSeed: '{seed}'")
    return text


def production(seed: str | None = None):
    return evaluate_stack((ROOT / "Pulumi.yaml").read_text(), trafficmanager_text(seed), "production")


@pytest.fixture(scope="module")
def ev():
    return production()


def test_one_weighted_endpoint_per_region_at_the_region_weights(ev):
    (profile,) = [r for r in ev.resources if r.type == "azure-native:trafficmanager:Profile"]
    assert profile.name == "traffic-profile"
    assert profile.inputs["trafficRoutingMethod"] == "Weighted"
    monitor = profile.inputs["monitorConfig"]
    assert monitor["path"] == "/health"
    assert monitor["customHeaders"] == [{"name": "Cookie", "value": "x-ms-routing-name=self"}]
    endpoints = {r.name: r.inputs for r in ev.resources if r.type == "azure-native:trafficmanager:Endpoint"}
    assert {name: e["weight"] for name, e in endpoints.items()} == {"traffic-westeurope": 60, "traffic-northeurope": 40}
    assert {e["endpointStatus"] for e in endpoints.values()} == {"Enabled"}
    assert {e["endpointType"] for e in endpoints.values()} == {"AzureEndpoints"}
    # Each endpoint targets its region's production site, never the slot.
    for region in ("westeurope", "northeurope"):
        site = one(ev, f"web-{region}-app")
        assert site.urn in one(ev, f"traffic-{region}").property_dependencies["targetResourceId"]


def test_no_front_door_on_the_traffic_manager_edge(ev):
    assert not [r for r in ev.resources if r.type.startswith("azure-native:cdn:")]
    assert ev.outputs["url"].startswith("https://") and ev.outputs["url"].endswith(".trafficmanager.net")


def test_each_site_routes_the_stages_percentage_to_its_slot(ev):
    # Production is at `quarter`: green (the slot) gets 25 %.
    for region in ("westeurope", "northeurope"):
        site = one(ev, f"web-{region}-app")
        (rule,) = site.inputs["siteConfig"]["experiments"]["rampUpRules"]
        assert rule == {
            "name": "green",
            "reroutePercentage": 25,
            "actionHostName": f"{site.inputs['name']}-green.azurewebsites.net",
        }
        assert "experiments" not in one(ev, f"web-{region}-green").inputs["siteConfig"]


@pytest.mark.parametrize("name", ["web-westeurope-app", "web-northeurope-green"])
def test_sites_and_slots_are_public_with_the_probes_admitted(ev, name):
    config = one(ev, name).inputs["siteConfig"]
    assert config["ipSecurityRestrictionsDefaultAction"] == "Allow"
    assert config["ipSecurityRestrictions"] == [
        {
            "action": "Allow",
            "ipAddress": "AzureTrafficManager",
            "name": "traffic-manager-probes",
            "priority": 100,
            "tag": "ServiceTag",
        }
    ]
    # The SCM site stays the deployers' only, whatever the edge.
    assert config["scmIpSecurityRestrictionsDefaultAction"] == "Deny"


def test_the_edge_passes_the_policy_pack(ev):
    assert violations(ev) == []


def test_the_names_are_those_of_the_traffic_manager_before_front_door():
    # A stack deployed before nameSeed writes the seed '' (docs/azure-request-path.md, section 6): the profile's
    # URN and DNS label are exactly what TrafficSplit("traffic", ...) made before Front Door (git 330e0cf^).
    ev = production(seed="")
    profile = one(ev, "traffic-profile")
    assert profile.urn.endswith(f"::{edges.LEGACY_TYPE}$azure-native:trafficmanager:Profile::traffic-profile")
    assert edges.LEGACY_TYPE == "stagewise:traffic_split:TrafficSplit"
    # naming.dns_label at 330e0cf^: f"{slug(project)}-{slug(stack)}-{short_hash(project, stack, component)}"
    old_label = f"stagewise-production-{naming.short_hash('stagewise', 'production', 'traffic')}"
    assert profile.inputs["dnsConfig"]["relativeName"] == old_label
    assert {r.name for r in ev.resources if r.type == "azure-native:trafficmanager:Endpoint"} == {
        "traffic-westeurope",
        "traffic-northeurope",
    }


@pytest.mark.parametrize(
    ("resource", "edit", "policy"),
    [
        ("traffic-westeurope", {"weight": 0}, "traffic-manager-endpoint-weight"),
        ("traffic-northeurope", {"weight": 1001}, "traffic-manager-endpoint-weight"),
        ("traffic-profile", {"trafficRoutingMethod": "Priority"}, "traffic-manager-weighted"),
        ("traffic-profile", {"monitorConfig": {"path": "/"}}, "traffic-manager-health-path"),
        ("traffic-profile", {"monitorConfig": {"customHeaders": []}}, "traffic-manager-probe-pinned"),
    ],
)
def test_the_policy_pack_refuses_it_done_wrong(resource, edit, policy):
    ev = production()
    found = one(ev, resource)
    inputs = dict(found.inputs)
    for key, value in edit.items():
        inputs[key] = {**inputs[key], **value} if isinstance(value, dict) else value
    ev = changed(ev, resource, inputs=inputs)
    assert [policy_name(v) for v in violations(ev)] == [policy]


def test_a_site_closed_to_all_but_front_door_is_refused_on_this_edge():
    ev = production()
    site = one(ev, "web-westeurope-app")
    config = {**site.inputs["siteConfig"], "ipSecurityRestrictionsDefaultAction": "Deny", "ipSecurityRestrictions": []}
    ev = changed(ev, "web-westeurope-app", inputs={**site.inputs, "siteConfig": config})
    found = violations(ev)
    assert [policy_name(v) for v in found] == ["webapp-traffic-manager-probes"] * 2
