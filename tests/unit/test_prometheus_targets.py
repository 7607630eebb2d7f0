"""The data plane's Prometheus targets, from a pod list as the API returns it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "dataplane" / "prometheus_targets.py"
spec = importlib.util.spec_from_file_location("prometheus_targets", SCRIPT)
assert spec and spec.loader
prometheus_targets = importlib.util.module_from_spec(spec)
spec.loader.exec_module(prometheus_targets)


def pod(name: str, phase: str = "Running", ip: str | None = "10.214.0.7", port_name: str = "http") -> dict:
    return {
        "metadata": {
            "name": name,
            "namespace": "stagewise-local",
            "labels": {"app.kubernetes.io/name": "demo", "stagewise.dev/colour": "green"},
        },
        "spec": {"containers": [{"name": "app", "ports": [{"name": port_name, "containerPort": 8080}]}]},
        "status": {"phase": phase, **({"podIP": ip} if ip else {})},
    }


def test_a_running_pod_is_a_target_on_its_http_port_with_its_colour():
    assert prometheus_targets.targets({"items": [pod("demo-green-1")]}) == [
        {
            "targets": ["10.214.0.7:8080"],
            "labels": {"namespace": "stagewise-local", "pod": "demo-green-1", "app": "demo", "colour": "green"},
        }
    ]


def test_pods_not_running_without_an_address_or_an_http_port_are_left_out():
    items = [pod("pending", phase="Pending"), pod("no-ip", ip=None), pod("other-port", port_name="grpc")]
    assert prometheus_targets.targets({"items": items}) == []


def test_targets_come_in_a_fixed_order_whatever_the_api_order_so_an_unchanged_list_writes_nothing():
    items = [pod("b", ip="10.214.0.9"), pod("a", ip="10.214.0.10")]
    assert prometheus_targets.targets({"items": items}) == prometheus_targets.targets({"items": items[::-1]})
