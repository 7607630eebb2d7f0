"""Values the validator used to let through, that Azure or Kubernetes would refuse or misread later:
each is refused before any resource exists, with a message naming the key, the value and what is allowed."""

from __future__ import annotations

import pytest
from test_config import problems, with_change

from stagewise.core.config import parse


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            "release.image",
            "demo:1.5.0",
            ["stagewise:release.image", "'demo:1.5.0'", "has a tag", "without tag or digest"],
        ),
        ("release.image", "demo@sha256:" + "a" * 64, ["stagewise:release.image", "has a digest"]),
        ("release.image", "my app", ["stagewise:release.image", "'my app'", "spaces"]),
        ("release.image", "Demo/App", ["stagewise:release.image", "'Demo/App'", "lower-case"]),
        (
            "release.green",
            "1.5.0 ; rm -rf /",
            ["stagewise:release.green", "'1.5.0 ; rm -rf /'", "not an image tag", "at most 128"],
        ),
        ("release.blue", "-1", ["stagewise:release.blue", "'-1'", "not an image tag"]),
        ("traffic.ttl", True, ["stagewise:traffic.ttl", "got true (a boolean)", "a whole number"]),
        ("autoscale.maximum", False, ["stagewise:autoscale.maximum", "a whole number"]),
        ("featureFlags", {"new checkout": True}, ["stagewise:featureFlags", "'new checkout'", "letters, digits"]),
        ("featureFlags", {"$(reboot)": False}, ["stagewise:featureFlags", "'$(reboot)'", "app setting"]),
        ("owner", "x" * 100_000, ["stagewise:owner", "256", "100000 characters"]),
        ("costCentre", "c" * 257, ["stagewise:costCentre", "256"]),
        ("alerts.webhooks", ["https://"], ["stagewise:alerts.webhooks", "'https://'", "no host"]),
        ("alerts.webhooks", ["https:///path"], ["stagewise:alerts.webhooks", "no host"]),
        ("alerts.emails", ["oncall"], ["stagewise:alerts.emails", "'oncall'", "not an e-mail address"]),
        ("alerts.emails", ["a@b"], ["stagewise:alerts.emails", "'a@b'", "not an e-mail address"]),
        ("location", "westeurop", ["stagewise:location", "'westeurop'", "not an Azure region", "'westeurope'"]),
        ("location", "West Europe", ["stagewise:location", "'West Europe'", "programmatic name", "'westeurope'"]),
        ("kubernetes.cpuRequest", "lots", ["stagewise:kubernetes.cpuRequest", "'lots'", "Kubernetes quantity"]),
        ("kubernetes.memoryRequest", "-5Gi", ["stagewise:kubernetes.memoryRequest", "'-5Gi'", "negative"]),
        (
            "kubernetes.kubeconfig",
            "/etc/kubernetes/admin.conf",
            ["stagewise:kubernetes.kubeconfig", "outside the project", "kubeconfigOutsideProject"],
        ),
        (
            "kubernetes.kubeconfig",
            "../elsewhere/kubeconfig",
            ["stagewise:kubernetes.kubeconfig", "outside the project"],
        ),
        ("kubernetes.kubeconfig", "~/.kube/config", ["stagewise:kubernetes.kubeconfig", "outside the project"]),
        (
            "stages",
            [{"name": "canary", "weight": 5}, {"name": "half", "weight": 50}],
            ["stagewise:stages", "last stage", "100 %", "'half'", "50"],
        ),
    ],
)
def test_each_gap_is_refused_naming_key_value_and_what_is_allowed(path: str, value, expected: list[str]):
    raw = with_change(path, value)
    if path == "stages":
        raw["release"]["stage"] = "canary"
    message = problems(raw)
    for part in expected:
        assert part in message, message


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("release.image", "registry.example.com:5000/team/demo-app"),
        ("release.image", "ghcr.io/org/app_name"),
        ("featureFlags", {"new-checkout": True, "beta.search": False, "dark_mode": True}),
        ("alerts.webhooks", ["https://hooks.example.com/x"]),
        ("alerts.emails", ["ops+rollouts@example.co.uk"]),
        ("location", "swedencentral"),
        ("kubernetes.cpuRequest", "0.5"),
        ("kubernetes.memoryRequest", "1.5Gi"),
        ("kubernetes.cpuRequest", "250m"),
        ("kubernetes.memoryRequest", "1e3"),
        ("kubernetes.kubeconfig", "config/kubeconfig"),
        ("owner", "o" * 256),
    ],
)
def test_the_values_next_to_each_limit_are_accepted(path: str, value):
    raw = with_change(path, value)
    if path == "release.image":
        # An image on a registry of its own needs a pull path (tests/unit/test_registry_config.py).
        raw["registry"] = {
            "server": value.split("/")[0],
            "usernameSecret": "jwt-secret",
            "passwordSecret": "jwt-secret",
        }
    parse(raw)


def test_a_kubeconfig_outside_the_project_is_accepted_with_the_explicit_opt_in():
    raw = with_change("kubernetes.kubeconfig", "/etc/kubernetes/admin.conf")
    raw["kubernetes"]["kubeconfigOutsideProject"] = True
    assert parse(raw).kubernetes.kubeconfig == "/etc/kubernetes/admin.conf"
