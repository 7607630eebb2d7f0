import pytest

from stagewise.components.autoscale import Autoscale, AutoscaleArgs
from tests.components.conftest import only, refused_before_any_resource


def scale_args(**overrides) -> AutoscaleArgs:
    values = dict(
        resource_group_name="rg",
        location="westeurope",
        target_resource_id="plan-id",
        minimum=3,
        default=3,
        maximum=10,
        cpu_scale_out=70,
        cpu_scale_in=30,
        cooldown_minutes=5,
    )
    return AutoscaleArgs(**{**values, **overrides})


def test_capacity_and_cpu_rules(record):
    ev = record(lambda: Autoscale("scale", scale_args()) and None)
    setting = only(ev, "azure-native:monitor:AutoscaleSetting")
    assert setting.inputs["targetResourceUri"] == "plan-id"
    (profile,) = setting.inputs["profiles"]
    assert profile["capacity"] == {"minimum": "3", "default": "3", "maximum": "10"}
    rules = {r["scaleAction"]["direction"]: r for r in profile["rules"]}
    assert rules["Increase"]["metricTrigger"]["operator"] == "GreaterThan"
    assert rules["Increase"]["metricTrigger"]["threshold"] == 70
    assert rules["Decrease"]["metricTrigger"]["operator"] == "LessThan"
    assert rules["Decrease"]["metricTrigger"]["threshold"] == 30
    assert {r["scaleAction"]["cooldown"] for r in profile["rules"]} == {"PT5M"}
    assert {r["metricTrigger"]["metricName"] for r in profile["rules"]} == {"CpuPercentage"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"minimum": 4}, "minimum \\(4\\) <= default \\(3\\)"),
        ({"maximum": 2}, "default \\(3\\) <= maximum \\(2\\)"),
        ({"cpu_scale_in": 80}, "cpu_scale_in \\(80\\) must be below cpu_scale_out \\(70\\)"),
    ],
)
def test_invalid_args_fail_before_any_resource(overrides, message):
    refused_before_any_resource(lambda: Autoscale("scale", scale_args(**overrides)), message)
