"""Names, tags and references derived from the project, stack and component names.

Pure: no Pulumi import. Physical names that Azure wants globally unique get a short,
stable hash of where they come from, so two stacks or two components never collide. The hash
includes the installation's seed (stagewise:nameSeed), so two installations of the program (another
subscription or tenant, the same project and stack names) never collide either. An empty seed gives the
names of stacks created before the seed existed.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import secrets
import sys
from pathlib import Path

from stagewise.core import limits, tiers
from stagewise.formats.stackfile import StackText

VAULT_DNS_SUFFIX = "vault.azure.net"
SITES_DNS_SUFFIX = "azurewebsites.net"
# deploy-staging-slots.md: a slot's URL is sitename-slotname.azurewebsites.net, and "the site name is
# truncated at 40 characters. The combined site name and slot name must be fewer than 59 characters."
# Names stay within both; the program still reads every host name back from Azure (default_host_name).
SITE_NAME_MAX = 40
SLOT_NAME_MAX = 19


def short_hash(*parts: str, length: int = 6) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _seeded(*parts: str, seed: str = "") -> tuple[str, ...]:
    return (*parts, f"seed:{seed}") if seed else parts


def installation_seed(installation_key: str) -> str:
    """The stagewise:nameSeed that stacks deployed before the seed was written in their stack file were given: a
    short hash of their stack file's encryptionsalt (or encryptedkey). It moved with the secrets provider, so it is
    no longer a default; `python3 -m stagewise.core.naming <stack file>` prints it, to be written in the file."""
    return short_hash("installation", installation_key, length=8)


def new_seed() -> str:
    """A fresh stagewise:nameSeed: 8 random lower-case letters and digits, the first a letter so that YAML never
    reads it as a number (`12e45678` is a float): two installations meet with odds of one in 2 * 10^12."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    return secrets.choice(letters) + "".join(secrets.choice(letters + "0123456789") for _ in range(7))


NEW_SEED_COMMAND = "$(python3 -m stagewise.core.naming --new)"
"""The shell words that give a fresh seed, as the validator's message quotes them."""


def vault_name(project: str, stack: str, component: str, generation: str = "", seed: str = "") -> str:
    """A Key Vault name: 3-24 letters, digits and single hyphens, starting with a letter.
    `generation` (stagewise:vault.nameSuffix) gives a new name while an old vault is soft-deleted."""
    suffix = short_hash(*_seeded(project, stack, component, *([generation] if generation else []), seed=seed))
    stem = _slug(f"kv-{stack}")[: 24 - len(suffix) - 1].rstrip("-")
    name = f"{stem}-{suffix}"
    assert limits.VAULT_NAME.match(name), name
    return name


def site_name(project: str, stack: str, region: str, seed: str = "") -> str:
    """A region's web app name (<name>.azurewebsites.net, globally unique), at most 40 characters
    (deploy-staging-slots.md truncates longer names for a slot's host name; the origins use the host
    name Azure reports anyway)."""
    suffix = short_hash(*_seeded(project, stack, region, seed=seed))
    stem = _slug(f"{project}-{stack}-{region}")[: SITE_NAME_MAX - len(suffix) - 1].rstrip("-")
    return f"{stem}-{suffix}"


def dns_label(project: str, stack: str, component: str, seed: str = "") -> str:
    """A DNS label of the stack's own (a Front Door endpoint's name), unique per installation."""
    return f"{_slug(project)}-{_slug(stack)}-{short_hash(*_seeded(project, stack, component, seed=seed))}"[:63]


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
    suffix = short_hash(*_seeded(project, stack, "registry", seed=seed), length=8)
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


def cidr(address: str) -> str:
    """An IPv4 address or range as CIDR: an App Service access restriction's ipAddress is "pure ipv4 address
    (required SubnetMask property) or CIDR notation" (Microsoft.Web IpSecurityRestriction), so a bare
    address becomes a /32."""
    return str(ipaddress.IPv4Network(address, strict=False))


def main(argv: list[str]) -> int:
    """`--new`: a fresh seed. `<stack file>`: the seed a stack deployed before carries (from its salt), to write in
    that stack file before its secrets provider changes."""
    if argv == ["--new"]:
        print(new_seed())
        return 0
    if len(argv) == 1 and Path(argv[0]).is_file():
        key = StackText.parse(Path(argv[0]).read_text(), Path(argv[0]).name).installation
        if key is None:
            print(f"{argv[0]}: no encryptionsalt or encryptedkey; its names carry no seed", file=sys.stderr)
            return 1
        print(installation_seed(key))
        return 0
    print("usage: python3 -m stagewise.core.naming --new | <Pulumi.<stack>.yaml>", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
