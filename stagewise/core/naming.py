"""Names, tags and references derived from the project, stack and component names.

Pure: no Pulumi import. Physical names that Azure wants globally unique get a short,
stable hash of where they come from, so two stacks or two components never collide.
"""

from __future__ import annotations

import hashlib
import re

from stagewise.core import limits, tiers

VAULT_DNS_SUFFIX = "vault.azure.net"
SITES_DNS_SUFFIX = "azurewebsites.net"
# deploy-staging-slots.md: a slot's URL is sitename-slotname.azurewebsites.net, "the site name is
# truncated at 40 characters, the slot name is truncated at 19 characters" (and random characters
# are added only then). Names within both limits keep the slot's host name predictable.
SITE_NAME_MAX = 40
SLOT_NAME_MAX = 19


def short_hash(*parts: str, length: int = 6) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def vault_name(project: str, stack: str, component: str, generation: str = "") -> str:
    """A Key Vault name: 3-24 letters, digits and single hyphens, starting with a letter.
    `generation` (stagewise:vault.nameSuffix) gives a new name while an old vault is soft-deleted."""
    suffix = short_hash(project, stack, component, *([generation] if generation else []))
    stem = _slug(f"kv-{stack}")[: 24 - len(suffix) - 1].rstrip("-")
    name = f"{stem}-{suffix}"
    assert limits.VAULT_NAME.match(name), name
    return name


def site_name(project: str, stack: str, region: str) -> str:
    """A region's web app name (<name>.azurewebsites.net, globally unique), at most 40 characters
    so that its slots' host names are <name>-<slot>.azurewebsites.net."""
    suffix = short_hash(project, stack, region)
    stem = _slug(f"{project}-{stack}-{region}")[: SITE_NAME_MAX - len(suffix) - 1].rstrip("-")
    return f"{stem}-{suffix}"


def slot_host_name(site: str, slot: str) -> str:
    """The default host name of a deployment slot, the target of the site's slot traffic rule."""
    if len(site) > SITE_NAME_MAX or len(slot) > SLOT_NAME_MAX:
        raise ValueError(f"site {site!r} or slot {slot!r} too long for a predictable slot host name")
    return f"{site}-{slot}.{SITES_DNS_SUFFIX}"


def dns_label(project: str, stack: str, component: str) -> str:
    """The Traffic Manager profile's DNS label (<label>.trafficmanager.net), globally unique."""
    return f"{_slug(project)}-{_slug(stack)}-{short_hash(project, stack, component)}"[:63]


def resource_tags(*, environment: str, project: str, stack: str, owner: str, cost_centre: str) -> dict[str, str]:
    return {
        tiers.ENVIRONMENT_TAG: environment,
        "project": project,
        "stack": stack,
        "owner": owner,
        "cost-centre": cost_centre,
    }


def app_setting_name(secret_name: str) -> str:
    """database-connection-string -> DATABASE_CONNECTION_STRING"""
    return secret_name.replace("-", "_").upper()


def key_vault_reference(vault: str, secret_name: str) -> str:
    """An App Service app-setting value that App Service resolves from Key Vault with its identity."""
    return f"@Microsoft.KeyVault(SecretUri=https://{vault}.{VAULT_DNS_SUFFIX}/secrets/{secret_name}/)"


def container_image(image: str, tag: str) -> str:
    return f"{image}:{tag}"


def image_registry(image: str) -> str | None:
    """The registry host an image reference names, None for Docker Hub's short form (library/app, app).
    Docker's rule (distribution/reference, normalize.go): the first component is a host if it holds a
    '.' or a ':' or is 'localhost'."""
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first.lower()
    return None


def pulled_image(image: str, login_server: str | None) -> str:
    """The image as the sites pull it: an image without a registry host lives in the stack's registry
    (`login_server`) when it has one, else on Docker Hub."""
    if login_server is None or image_registry(image) is not None:
        return image
    return f"{login_server}/{image}"


def registry_name(project: str, stack: str, seed: str = "") -> str:
    """An Azure Container Registry name: 5-50 letters and digits, globally unique."""
    suffix = short_hash(project, stack, "registry", *([seed] if seed else []), length=8)
    stem = re.sub(r"[^a-z0-9]", "", f"{project}{stack}".lower())[: 50 - len(suffix)]
    name = f"{stem or 'registry'}{suffix}"
    assert limits.ACR_NAME.match(name), name
    return name


def acr_login_server(registry: str) -> str:
    """<name>.azurecr.io: the host images of an Azure Container Registry are pulled from."""
    return f"{registry.lower()}.{limits.ACR_LOGIN_SUFFIX}"


def otel_env(service: str, version: str) -> dict[str, str]:
    """OpenTelemetry's standard variables: every colour reports its own version as service.version,
    which the stage gate's queries select by (Prometheus's service_version label; Application
    Insights' application_Version)."""
    return {"OTEL_SERVICE_NAME": service, "OTEL_RESOURCE_ATTRIBUTES": f"service.version={version}"}


def service_name(image: str) -> str:
    """The app's OpenTelemetry service name: its image's name, the same on both colours and platforms."""
    return image.rsplit("/", 1)[-1]
