import pytest

from stagewise.components.traffic_split import TrafficSplit, TrafficSplitArgs
from tests.components.conftest import only, refused_before_any_resource


def split_args(**overrides) -> TrafficSplitArgs:
    values = dict(
        resource_group_name="rg",
        dns_label="app-prod",
        targets={"westeurope": "we-app-id", "northeurope": "ne-app-id"},
        weights={"westeurope": 60, "northeurope": 40},
        ttl=30,
        probe_protocol="HTTPS",
        probe_port=443,
        probe_path="/health",
        probe_interval=10,
        probe_timeout=5,
        tolerated_failures=3,
    )
    return TrafficSplitArgs(**{**values, **overrides})


def endpoints(ev) -> dict:
    return {e.inputs["endpointName"]: e.inputs for e in ev.of_type("azure-native:trafficmanager:Endpoint")}


def test_weighted_profile_with_health_monitoring(record):
    ev = record(lambda: TrafficSplit("traffic", split_args()) and None)
    profile = only(ev, "azure-native:trafficmanager:Profile")
    assert profile.inputs["trafficRoutingMethod"] == "Weighted"
    assert profile.inputs["dnsConfig"] == {"relativeName": "app-prod", "ttl": 30}
    monitor = profile.inputs["monitorConfig"]
    assert (monitor["path"], monitor["intervalInSeconds"], monitor["timeoutInSeconds"]) == ("/health", 10, 5)
    assert monitor["toleratedNumberOfFailures"] == 3


def test_one_azure_endpoint_per_region_weighted_by_the_region(record):
    ev = record(lambda: TrafficSplit("traffic", split_args()) and None)
    found = endpoints(ev)
    assert found["westeurope"]["targetResourceId"] == "we-app-id"
    assert found["northeurope"]["targetResourceId"] == "ne-app-id"
    assert {e["endpointType"] for e in found.values()} == {"AzureEndpoints"}
    assert (found["westeurope"]["weight"], found["westeurope"]["endpointStatus"]) == (60, "Enabled")
    assert (found["northeurope"]["weight"], found["northeurope"]["endpointStatus"]) == (40, "Enabled")


def test_weight_zero_drains_the_region_with_a_disabled_endpoint_never_weight_zero(record):
    ev = record(lambda: TrafficSplit("traffic", split_args(weights={"westeurope": 100, "northeurope": 0})) and None)
    drained = endpoints(ev)["northeurope"]
    assert drained["endpointStatus"] == "Disabled"
    assert drained["weight"] == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"weights": {"westeurope": 60}}, "must name the same regions"),
        ({"weights": {"westeurope": 0, "northeurope": 0}}, "at least one above 0"),
        ({"weights": {"westeurope": 1001, "northeurope": 0}}, "must be 0..1000"),
        ({"probe_interval": 20}, "probe_interval must be one of"),
        ({"probe_timeout": 10}, "probe_timeout must be 5..9 s at interval 10 s"),
        ({"probe_protocol": "TCP"}, "a TCP probe is not pinned"),
    ],
)
def test_invalid_args_fail_before_any_resource(overrides, message):
    refused_before_any_resource(lambda: TrafficSplit("traffic", split_args(**overrides)), message)
