"""The rules that hold for one edge only read which edge from the stack's resources (stagewise.core.edges.stack_edge):
Front Door's restrictions and its ban on slot traffic rules, Traffic Manager's public sites and pinned probes."""

import pytest

from stagewise.policy.access import webapp_front_door_only_on_stack, webapp_traffic_manager_probes
from stagewise.policy.inputs import StackResource
from stagewise.policy.settings import Settings
from stagewise.policy.traffic_manager import traffic_manager_probe_pinned, traffic_manager_weighted
from stagewise.policy.webapps import webapp_no_slot_traffic_rule_on_stack

SETTINGS = Settings()
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
FRONT_DOOR_RULE = {
    "action": "Allow",
    "tag": "ServiceTag",
    "ipAddress": "AzureFrontDoor.Backend",
    "headers": {"x-azure-fdid": ["fdid"]},
}
PROBES_RULE = {
    "name": "traffic-manager-probes",
    "action": "Allow",
    "tag": "ServiceTag",
    "ipAddress": "AzureTrafficManager",
}
RULE = {"name": "green", "reroutePercentage": 5, "actionHostName": "site-green.azurewebsites.net"}


def res(type_: str, resource: str, **props) -> StackResource:
    return StackResource(
        urn=f"urn:pulumi:p::s::{type_}::{resource}", type=type_, name=resource, props=props, property_dependencies={}
    )


def site(rules, default, ramp=()) -> StackResource:
    return res(
        "azure-native:web:WebApp",
        "web-westeurope-app",
        name="site",
        siteConfig={
            "ipSecurityRestrictions": rules,
            "ipSecurityRestrictionsDefaultAction": default,
            "experiments": {"rampUpRules": list(ramp)},
        },
    )


FRONT_DOOR = res("azure-native:cdn:Profile", "edge-profile")
TRAFFIC_MANAGER = res("azure-native:trafficmanager:Profile", "traffic-profile")
PUBLIC_SITE = site([PROBES_RULE], "Allow", [RULE])
FRONT_DOOR_SITE = site([FRONT_DOOR_RULE], "Deny")


def names(violations) -> list[str]:
    return [v.message.split(":")[0] for v in violations]


@pytest.mark.parametrize(
    ("profiles", "found"),
    [
        ((FRONT_DOOR,), 2),  # default action Allow, and an allow rule that is not Front Door's
        ((), 2),  # no profile at all: the default edge, Front Door, the stricter
        ((FRONT_DOOR, TRAFFIC_MANAGER), 2),  # mid-switch: Front Door's rules
        ((TRAFFIC_MANAGER,), 0),
    ],
)
def test_front_door_only_holds_on_the_front_door_edge(profiles, found):
    assert len(webapp_front_door_only_on_stack([*profiles, PUBLIC_SITE])) == found
    assert webapp_front_door_only_on_stack([*profiles, FRONT_DOOR_SITE]) == []


def test_a_front_door_violation_names_the_app():
    (first, *_) = webapp_front_door_only_on_stack([FRONT_DOOR, PUBLIC_SITE])
    assert first.message.startswith("web app 'web-westeurope-app': web app must answer only Front Door")
    assert first.urn == PUBLIC_SITE.urn


@pytest.mark.parametrize(("profiles", "found"), [((FRONT_DOOR,), 1), ((), 1), ((TRAFFIC_MANAGER,), 0)])
def test_no_slot_traffic_rule_holds_on_the_front_door_edge(profiles, found):
    violations = webapp_no_slot_traffic_rule_on_stack([*profiles, PUBLIC_SITE])
    assert len(violations) == found
    assert all("slot traffic rule" in v.message for v in violations)


def test_traffic_manager_sites_admit_the_probes_and_the_public():
    assert webapp_traffic_manager_probes([TRAFFIC_MANAGER, PUBLIC_SITE]) == []
    # Front Door's rules on a Traffic Manager endpoint: the probes fail and the clients are refused.
    found = webapp_traffic_manager_probes([TRAFFIC_MANAGER, FRONT_DOOR_SITE])
    assert len(found) == 2
    assert "no allow rule for its probes" in found[0].message
    assert "set ipSecurityRestrictionsDefaultAction to 'Allow' (got 'Deny')" in found[1].message
    # A Deny rule on the tag does not admit the probes.
    denied = site([{**PROBES_RULE, "action": "Deny"}], "Allow")
    assert len(webapp_traffic_manager_probes([TRAFFIC_MANAGER, denied])) == 1
    # Not a Traffic Manager stack: nothing to say.
    assert webapp_traffic_manager_probes([FRONT_DOOR, TRAFFIC_MANAGER, FRONT_DOOR_SITE]) == []
    assert webapp_traffic_manager_probes([FRONT_DOOR_SITE]) == []
    # Values not known yet (preview) are not judged.
    assert webapp_traffic_manager_probes([TRAFFIC_MANAGER, site(UNKNOWN_STRING, "Deny")]) == []


def test_a_parked_slot_may_be_closed_on_the_traffic_manager_edge():
    slot = res(
        "azure-native:web:WebAppSlot",
        "web-westeurope-green",
        siteConfig={"ipSecurityRestrictions": [], "ipSecurityRestrictionsDefaultAction": "Deny"},
    )
    assert webapp_traffic_manager_probes([TRAFFIC_MANAGER, PUBLIC_SITE, slot]) == []


@pytest.mark.parametrize(
    ("method", "found"), [("Weighted", 0), (UNKNOWN_STRING, 0), ("Priority", 1), ("Performance", 1), (None, 1)]
)
def test_a_profile_routes_by_weight(method, found):
    messages = traffic_manager_weighted({"trafficRoutingMethod": method}, SETTINGS)
    assert len(messages) == found
    assert all("set trafficRoutingMethod to 'Weighted'" in m for m in messages)


@pytest.mark.parametrize(
    ("headers", "found"),
    [
        ([{"name": "Cookie", "value": "x-ms-routing-name=self"}], 0),
        ([{"name": "cookie", "value": "a=b; x-ms-routing-name=self"}], 0),
        (UNKNOWN_STRING, 0),
        ([{"name": "Cookie", "value": UNKNOWN_STRING}], 0),
        (None, 1),
        ([], 1),
        ([{"name": "Cookie", "value": "x-ms-routing-name=green"}], 1),  # pinned to the slot: the wrong colour
        ([{"name": "X-Routing", "value": "x-ms-routing-name=self"}], 1),
    ],
)
def test_the_probe_is_pinned_to_the_production_slot(headers, found):
    props = {"monitorConfig": {"path": "/health"} if headers is None else {"path": "/health", "customHeaders": headers}}
    messages = traffic_manager_probe_pinned(props, SETTINGS)
    assert len(messages) == found
    assert all("Cookie" in m and "x-ms-routing-name=self" in m for m in messages)
