import pytest

from components.traffic_split import TrafficSplit, TrafficSplitArgs
from tests.components.conftest import only, refused_before_any_resource


def split_args(**overrides) -> TrafficSplitArgs:
    values = dict(resource_group_name="rg", dns_label="app-prod", targets={"blue": "app-id", "green": "slot-id"},
                  percent={"blue": 75, "green": 25}, ttl=30, probe_interval=10, probe_timeout=5)
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


def test_one_azure_endpoint_per_colour_weighted_by_share(record):
    ev = record(lambda: TrafficSplit("traffic", split_args()) and None)
    found = endpoints(ev)
    assert found["blue"]["targetResourceId"] == "app-id" and found["green"]["targetResourceId"] == "slot-id"
    assert (found["blue"]["weight"], found["blue"]["endpointStatus"]) == (750, "Enabled")
    assert (found["green"]["weight"], found["green"]["endpointStatus"]) == (250, "Enabled")


def test_zero_percent_disables_the_endpoint_never_weight_zero(record):
    ev = record(lambda: TrafficSplit("traffic", split_args(percent={"blue": 100, "green": 0})) and None)
    green = endpoints(ev)["green"]
    assert green["endpointStatus"] == "Disabled"
    assert green["weight"] >= 1


@pytest.mark.parametrize(("overrides", "message"), [
    ({"percent": {"blue": 60, "green": 30}}, "summing to 100"),
    ({"probe_interval": 20}, "probe_interval must be one of"),
    ({"probe_timeout": 10}, "probe_timeout must be 5..9 s at interval 10 s"),
])
def test_invalid_args_fail_before_any_resource(overrides, message):
    refused_before_any_resource(lambda: TrafficSplit("traffic", split_args(**overrides)), message)
