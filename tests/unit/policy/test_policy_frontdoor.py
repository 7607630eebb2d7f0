"""Front Door rules and the web-app rules of issue 18 (pull path, no slot rule): each fails and passes."""

import pytest

from stagewise.policy.frontdoor import (
    frontdoor_origin_host_header,
    frontdoor_origin_priority,
    frontdoor_origin_weight,
    frontdoor_weights_take_effect,
)
from stagewise.policy.inputs import UNKNOWN_VALUES
from stagewise.policy.settings import Settings
from stagewise.policy.webapps import webapp_image_pull_path, webapp_no_slot_traffic_rule

UNKNOWN = min(UNKNOWN_VALUES)  # one of them, the same in every process (a set's order is not)
S = Settings()
WEB_APP = "azure-native:web:WebApp"
REFERENCE = "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/x/)"


@pytest.mark.parametrize(
    ("weight", "ok"), [(1, True), (1000, True), (250.0, True), (0, False), (1001, False), ("5", False)]
)
def test_origin_weight(weight, ok):
    assert (frontdoor_origin_weight({"weight": weight}, S) == []) is ok


def test_origin_weight_absent_or_unknown_is_not_judged():
    assert frontdoor_origin_weight({}, S) == frontdoor_origin_weight({"weight": UNKNOWN}, S) == []


@pytest.mark.parametrize(("priority", "ok"), [(1, True), (2, True), (5, True), (0, False), (6, False), ("2", False)])
def test_origin_priority(priority, ok):
    found = frontdoor_origin_priority({"priority": priority}, S)
    assert (found == []) is ok
    assert ok or "priority must be an integer 1..5" in found[0]


def test_origin_priority_absent_or_unknown_is_not_judged():
    assert frontdoor_origin_priority({}, S) == frontdoor_origin_priority({"priority": UNKNOWN}, S) == []


@pytest.mark.parametrize(("latency", "ok"), [(500, True), (1, True), (0, False), (None, False)])
def test_weights_take_effect_only_above_zero_latency_sensitivity(latency, ok):
    props = {"loadBalancingSettings": {"additionalLatencyInMilliseconds": latency}}
    found = frontdoor_weights_take_effect(props, S)
    assert (found == []) is ok
    if not ok:
        assert "additionalLatencyInMilliseconds above 0" in found[0]


@pytest.mark.parametrize(
    ("header", "ok"),
    [("app-green.azurewebsites.net", True), (UNKNOWN, True), ("app.azurewebsites.net", False), (None, False)],
)
def test_origin_sends_its_own_host_name(header, ok):
    props = {"hostName": "app-green.azurewebsites.net", "originHostHeader": header}
    assert (frontdoor_origin_host_header(props, S) == []) is ok


def site(image: str, environment: str = "dev", acr: bool = False, server: str | None = None) -> dict:
    config: dict = {"linuxFxVersion": f"DOCKER|{image}:1.0", "appSettings": []}
    if acr:
        config |= {"acrUseManagedIdentityCreds": True, "acrUserManagedIdentityID": "client"}
    if server:
        config["appSettings"] = [
            {"name": "DOCKER_REGISTRY_SERVER_URL", "value": server},
            {"name": "DOCKER_REGISTRY_SERVER_USERNAME", "value": REFERENCE},
            {"name": "DOCKER_REGISTRY_SERVER_PASSWORD", "value": REFERENCE},
        ]
    return {"siteConfig": config, "tags": {"environment": environment}}


@pytest.mark.parametrize(
    ("props", "ok"),
    [
        (site("team.azurecr.io/app", acr=True), True),
        (site("ghcr.io/org/app", server="https://ghcr.io"), True),
        (site("library/nginx"), True),
        (site("library/nginx", "production", acr=True), True),
        (site("team.azurecr.io/app"), False),
        (site("ghcr.io/org/app"), False),
        (site("ghcr.io/org/app", server="https://quay.io"), False),
        (site("library/nginx", "production"), False),
        (site("docker.io/library/nginx", "production"), False),
        (site("library/nginx", "staging"), False),
    ],
    ids=[
        "acr-identity",
        "other-credentials",
        "public-dev",
        "production-signed-in",
        "acr-without-identity",
        "private-without-credentials",
        "credentials-for-another-host",
        "production-anonymous",
        "production-anonymous-docker-io",
        "staging-anonymous",
    ],
)
def test_image_pull_path(props, ok):
    found = webapp_image_pull_path(WEB_APP)(props, S)
    assert (found == []) is ok, found


def test_no_slot_traffic_rule():
    rule = {"name": "green", "reroutePercentage": 5, "actionHostName": "a-green.azurewebsites.net"}
    assert webapp_no_slot_traffic_rule({"siteConfig": {"experiments": {"rampUpRules": []}}}, S) == []
    [message] = webapp_no_slot_traffic_rule({"siteConfig": {"experiments": {"rampUpRules": [rule]}}}, S)
    assert "restarts the live site" in message
