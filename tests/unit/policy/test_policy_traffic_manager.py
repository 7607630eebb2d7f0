"""Traffic Manager: health probe path, production TTL, endpoint weights, and an enabled endpoint per profile."""

import pytest

from stagewise.policy.inputs import StackResource, StackViolation
from stagewise.policy.settings import Settings
from stagewise.policy.traffic_manager import (
    traffic_manager_enabled_endpoint,
    traffic_manager_endpoint_weight,
    traffic_manager_health_path,
    traffic_manager_production_ttl,
)

SETTINGS = Settings()
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
PROFILE_TYPE = "azure-native:trafficmanager:Profile"
ENDPOINT_TYPE = "azure-native:trafficmanager:Endpoint"


def profile(environment="production", ttl=30, path="/health") -> dict:
    props = {
        "trafficRoutingMethod": "Weighted",
        "dnsConfig": {"relativeName": "stagewise-production", "ttl": None if ttl is None else float(ttl)},
        "monitorConfig": {"protocol": "HTTPS", "port": 443.0, "path": path},
        "tags": {"environment": environment},
    }
    if path is None:
        del props["monitorConfig"]["path"]
    if ttl is None:
        del props["dnsConfig"]["ttl"]
    return props


# Probe path


def test_health_path_passes():
    assert traffic_manager_health_path(profile(), SETTINGS) == []


def test_other_probe_path_fails():
    assert traffic_manager_health_path(profile(path="/"), SETTINGS) == [
        "Traffic Manager must probe the app's health endpoint: set monitorConfig.path to '/health' (got '/')"
    ]


def test_probe_path_not_set_fails():
    [message] = traffic_manager_health_path(profile(path=None), SETTINGS)
    assert message.endswith("(got not set)")


def test_profile_without_monitor_config_fails_rather_than_crashing():
    [message] = traffic_manager_health_path({"tags": {"environment": "dev"}}, SETTINGS)
    assert message.endswith("(got not set)")


def test_probe_path_comes_from_config():
    settings = Settings.from_config({"healthPath": "/healthz"})
    assert traffic_manager_health_path(profile(path="/healthz"), settings) == []


# TTL


@pytest.mark.parametrize("ttl", [0, 30, 60])
def test_production_ttl_up_to_a_minute_passes(ttl):
    assert traffic_manager_production_ttl(profile(ttl=ttl), SETTINGS) == []


def test_production_ttl_above_a_minute_fails():
    assert traffic_manager_production_ttl(profile(ttl=300), SETTINGS) == [
        "Traffic Manager in production must let a rollback reach clients within 60 s: "
        "set dnsConfig.ttl to at most 60 (got 300)"
    ]


def test_production_ttl_not_set_fails():
    # Azure's default TTL (300 s) is far above the limit.
    [message] = traffic_manager_production_ttl(profile(ttl=None), SETTINGS)
    assert message.endswith("(got not set)")


@pytest.mark.parametrize("environment", ["dev", "staging"])
def test_other_tiers_may_cache_longer(environment):
    assert traffic_manager_production_ttl(profile(environment, ttl=300), SETTINGS) == []


def test_ttl_limit_comes_from_config():
    settings = Settings.from_config({"maxTtlSeconds": 20.0})
    [message] = traffic_manager_production_ttl(profile(ttl=30), settings)
    assert "within 20 s" in message


def test_unknown_ttl_is_left_for_up():
    props = profile()
    props["dnsConfig"]["ttl"] = "3eeb2bf0-c639-47a8-9e75-3b44932eb421"
    assert traffic_manager_production_ttl(props, SETTINGS) == []


# Endpoint weight


def endpoint(weight=500.0, status="Enabled", profile_name="tm-profile") -> dict:
    props = {
        "endpointType": "AzureEndpoints",
        "profileName": profile_name,
        "resourceGroupName": "rg",
        "targetResourceId": "/subscriptions/x/.../sites/app",
        "weight": weight,
        "endpointStatus": status,
    }
    return {k: v for k, v in props.items() if v is not None}


@pytest.mark.parametrize("weight", [1.0, 500.0, 1000.0])
def test_weight_in_range_passes(weight):
    assert traffic_manager_endpoint_weight(endpoint(weight), SETTINGS) == []


@pytest.mark.parametrize("weight", [0.0, 1001.0, -5.0, 2.5, "100"])
def test_weight_out_of_range_or_not_integer_fails(weight):
    [message] = traffic_manager_endpoint_weight(endpoint(weight), SETTINGS)
    assert message.startswith(
        "Traffic Manager endpoint weight must be an integer 1..1000; "
        "to send no traffic set endpointStatus to 'Disabled' instead"
    )


def test_weight_zero_message():
    assert traffic_manager_endpoint_weight(endpoint(0.0), SETTINGS) == [
        "Traffic Manager endpoint weight must be an integer 1..1000; "
        "to send no traffic set endpointStatus to 'Disabled' instead (got 0)"
    ]


def test_weight_zero_fails_on_a_disabled_endpoint_too():
    # Azure validates the weight whatever the status; 0 % is the Disabled status, never weight 0.
    assert len(traffic_manager_endpoint_weight(endpoint(0.0, status="Disabled"), SETTINGS)) == 1


def test_weight_not_set_passes():
    # Azure gives an endpoint without a weight the weight 1, which is valid.
    assert traffic_manager_endpoint_weight(endpoint(weight=None), SETTINGS) == []


# At least one enabled endpoint per profile (stack policy)

PROFILE_URN = "urn:pulumi:production::stagewise::stagewise:traffic_split:TrafficSplit$azure-native:trafficmanager:Profile::traffic-profile"


def stack(*endpoint_props, linked_by_dependency=True, profile_props=None) -> list[StackResource]:
    resources = [
        StackResource(
            urn=PROFILE_URN,
            type=PROFILE_TYPE,
            name="traffic-profile",
            props=profile_props or {**profile(), "profileName": "tm-profile", "resourceGroupName": "rg"},
            property_dependencies={},
        )
    ]
    for i, props in enumerate(endpoint_props):
        resources.append(
            StackResource(
                urn=f"urn:pulumi:production::stagewise::azure-native:trafficmanager:Endpoint::ep{i}",
                type=ENDPOINT_TYPE,
                name=f"ep{i}",
                props=props,
                property_dependencies={"profileName": [PROFILE_URN]} if linked_by_dependency else {},
            )
        )
    return resources


def test_profile_with_an_enabled_endpoint_passes():
    assert traffic_manager_enabled_endpoint(stack(endpoint(status="Disabled"), endpoint(status="Enabled"))) == []


def test_profile_with_all_endpoints_disabled_fails():
    assert traffic_manager_enabled_endpoint(stack(endpoint(status="Disabled"), endpoint(status="Disabled"))) == [
        StackViolation(
            "Traffic Manager profile 'traffic-profile' has no enabled endpoint, so it would answer no DNS "
            "queries: keep at least one endpoint with endpointStatus 'Enabled' "
            "(an abort sends all traffic to the live colour, it never disables both)",
            PROFILE_URN,
        )
    ]


def test_profile_without_endpoints_fails():
    assert len(traffic_manager_enabled_endpoint(stack())) == 1


def test_endpoint_without_status_counts_as_enabled():
    # Azure's default endpointStatus is Enabled.
    assert traffic_manager_enabled_endpoint(stack(endpoint(status=None))) == []


def test_endpoints_are_matched_by_profile_name_without_dependencies():
    resources = stack(endpoint(status="Enabled", profile_name="tm-profile"), linked_by_dependency=False)
    assert traffic_manager_enabled_endpoint(resources) == []


def test_enabled_endpoint_of_another_profile_does_not_count():
    resources = stack(endpoint(status="Disabled"))
    resources.append(
        StackResource(
            urn="urn:other",
            type=ENDPOINT_TYPE,
            name="other",
            props=endpoint(status="Enabled", profile_name="another-profile"),
            property_dependencies={},
        )
    )
    assert len(traffic_manager_enabled_endpoint(resources)) == 1


def test_same_profile_name_in_another_resource_group_does_not_count():
    other_group = {**endpoint(status="Enabled"), "resourceGroupName": "rg-other"}
    resources = stack(endpoint(status="Disabled"), other_group, linked_by_dependency=False)
    assert len(traffic_manager_enabled_endpoint(resources)) == 1


def test_endpoints_defined_inline_in_the_profile_count():
    props = {**profile(), "endpoints": [{"name": "blue", "endpointStatus": "Enabled", "weight": 1000.0}]}
    assert traffic_manager_enabled_endpoint(stack(profile_props=props)) == []


def test_endpoint_whose_profile_is_unknown_in_preview_does_not_fail_the_stack():
    resources = stack(endpoint(status="Enabled", profile_name=UNKNOWN_STRING), linked_by_dependency=False)
    assert traffic_manager_enabled_endpoint(resources) == []


def test_unknown_status_counts_as_possibly_enabled():
    assert traffic_manager_enabled_endpoint(stack(endpoint(status=UNKNOWN_STRING))) == []


def test_stack_without_traffic_manager_passes():
    assert traffic_manager_enabled_endpoint([]) == []


def test_endpoint_of_an_autonamed_profile_without_dependencies_does_not_fail_the_stack():
    # Neither a dependency nor a name links them; the rule cannot tell, so it does not fail.
    autonamed = {**profile(), "resourceGroupName": "rg"}
    resources = stack(endpoint(status="Enabled"), linked_by_dependency=False, profile_props=autonamed)
    assert traffic_manager_enabled_endpoint(resources) == []
