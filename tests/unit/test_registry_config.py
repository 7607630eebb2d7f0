"""stagewise:registry: every image has a pull path, and production pulls with authentication."""

from __future__ import annotations

import pytest
from test_config import problems, valid

from stagewise.core import naming
from stagewise.core.config import parse

ACR_ID = "/subscriptions/0000/resourceGroups/platform/providers/Microsoft.ContainerRegistry/registries/teamregistry"


def stack(environment: str = "production", image: str = "demo", registry: dict | None = None) -> dict:
    raw = valid()
    raw["environment"] = environment
    raw["release"]["image"] = image
    if registry is not None:
        raw["registry"] = registry
    return raw


def test_production_creates_and_pulls_from_its_own_registry_by_default():
    cfg = parse(stack())
    assert cfg.registry.pull == "identity" and cfg.registry.create_acr
    assert cfg.login_server("stagewise", "production") == naming.acr_login_server(
        naming.registry_name("stagewise", "production", cfg.name_seed or "")
    )
    assert cfg.name_seed  # the registry's global name carries the stack's own seed


def test_an_existing_registry_by_id_replaces_the_tier_default_and_gives_its_login_server():
    cfg = parse(stack(registry={"acrId": ACR_ID}))
    assert not cfg.registry.create_acr
    assert cfg.login_server("p", "s") == "teamregistry.azurecr.io"
    assert naming.pulled_image("team/app", cfg.login_server("p", "s")) == "teamregistry.azurecr.io/team/app"


def test_other_registries_sign_in_with_two_secrets():
    raw = stack(
        image="ghcr.io/org/app",
        registry={"server": "ghcr.io", "usernameSecret": "jwt-secret", "passwordSecret": "jwt-secret"},
    )
    assert parse(raw).registry.pull == "credentials"


def test_dev_may_pull_a_public_docker_hub_image_anonymously():
    assert parse(stack("dev", image="library/nginx")).registry.pull == "anonymous"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            stack("dev", image="ghcr.io/org/app"),
            ["stagewise:release.image", "'ghcr.io/org/app'", "cannot sign in", "registry.server"],
        ),
        (
            stack("dev", image="teamregistry.azurecr.io/app"),
            ["stagewise:release.image", "Azure Container Registry teamregistry.azurecr.io", "registry.acrId"],
        ),
        (
            stack(registry={}),
            [
                "stagewise:registry: must be a pull that signs in",
                "in production",
                "'anonymous'",
                "registry.acrId, registry.createAcr or registry.server",
            ],
        ),
        (
            stack(image="ghcr.io/org/app"),
            ["stagewise:release.image", "registry.createAcr", "without a registry host"],
        ),
        (
            stack(image="other.azurecr.io/app", registry={"acrId": ACR_ID}),
            ["stagewise:release.image", "other.azurecr.io", "teamregistry.azurecr.io"],
        ),
        (
            stack(registry={"acrId": "teamregistry"}),
            ["stagewise:registry.acrId", "'teamregistry'", "resource ID"],
        ),
        (
            stack(registry={"acrId": ACR_ID, "createAcr": True}),
            ["stagewise:registry", "one pull path", "acrId and createAcr"],
        ),
        (
            stack(image="ghcr.io/org/app", registry={"server": "ghcr.io", "usernameSecret": "jwt-secret"}),
            ["stagewise:registry", "'ghcr.io'", "usernameSecret and passwordSecret", "got usernameSecret"],
        ),
        (
            stack(registry={"server": "https://ghcr.io"}),
            ["stagewise:registry.server", "'https://ghcr.io'", "host"],
        ),
        (
            stack(
                image="ghcr.io/org/app",
                registry={"server": "ghcr.io", "usernameSecret": "u", "passwordSecret": "jwt-secret"},
            ),
            ["stagewise:registry.usernameSecret", "'u'", "stagewise:secrets", "jwt-secret"],
        ),
    ],
    ids=[
        "private-host-without-pull-path",
        "acr-image-without-acr-id",
        "production-anonymous",
        "own-registry-with-foreign-host",
        "acr-id-other-registry",
        "acr-id-not-an-id",
        "two-pull-paths",
        "credentials-incomplete",
        "server-with-scheme",
        "credential-not-a-secret",
    ],
)
def test_each_pull_path_rule_is_refused_with_its_key(raw: dict, expected: list[str]):
    message = problems(raw)
    for part in expected:
        assert part in message, message


@pytest.mark.parametrize(
    ("image", "host"),
    [
        ("demo", None),
        ("org/app", None),
        ("docker.io/library/app", "docker.io"),
        ("localhost/app", "localhost"),
        ("registry.example.com:5000/a/b", "registry.example.com:5000"),
        ("GHCR.io/x", "ghcr.io"),
    ],
)
def test_image_registry(image: str, host: str | None):
    assert naming.image_registry(image) == host


def test_an_image_without_a_host_beside_registry_server_is_refused():
    # It would be pulled from Docker Hub, offered the other registry's credentials.
    raw = stack(
        image="org/app", registry={"server": "ghcr.io", "usernameSecret": "jwt-secret", "passwordSecret": "jwt-secret"}
    )
    message = problems(raw)
    assert "stagewise:release.image: 'org/app' names no registry, but registry.server signs in to ghcr.io" in message
    assert "ghcr.io/org/app" in message


def test_staging_pulls_with_authentication_by_default():
    cfg = parse(stack(environment="staging"))
    assert cfg.registry.create_acr and cfg.registry.pull == "identity"
    message = problems(stack(environment="staging", registry={"createAcr": False}))
    assert "stagewise:registry: must be a pull that signs in" in message and "registry.pull" not in message
