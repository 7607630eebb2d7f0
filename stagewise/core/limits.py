"""Azure limits the components must respect (Microsoft's public documentation)."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class PlanTier:
    """An App Service plan tier: how far it scales and how many deployment slots it has."""

    name: str
    max_instances: int
    slots: int


_BASIC = PlanTier("Basic", max_instances=3, slots=0)
_STANDARD = PlanTier("Standard", max_instances=10, slots=5)
_PREMIUM = PlanTier("Premium", max_instances=20, slots=20)
_PREMIUM_V2 = PlanTier("PremiumV2", max_instances=30, slots=20)
_PREMIUM_V3 = PlanTier("PremiumV3", max_instances=30, slots=20)
_ISOLATED = PlanTier("Isolated", max_instances=100, slots=20)
_FREE = PlanTier("Free", max_instances=1, slots=0)
_SHARED = PlanTier("Shared", max_instances=1, slots=0)

PLAN_SKUS: dict[str, PlanTier] = {
    "F1": _FREE,
    "D1": _SHARED,
    **{f"B{n}": _BASIC for n in (1, 2, 3)},
    **{f"S{n}": _STANDARD for n in (1, 2, 3)},
    **{f"P{n}": _PREMIUM for n in (1, 2, 3)},
    **{f"P{n}v2": _PREMIUM_V2 for n in (1, 2, 3)},
    **{f"P{n}v3": _PREMIUM_V3 for n in (0, 1, 2, 3)},
    **{f"P{n}mv3": _PREMIUM_V3 for n in (1, 2, 3, 4, 5)},
    **{f"I{n}v2": _ISOLATED for n in (1, 2, 3, 4, 5, 6)},
}

# Traffic Manager accepts weights 1..1000 (traffic-manager-routing-methods.md, "Weighted"); a
# region of weight 0 is drained by disabling its endpoint, never by weight 0.
TM_MIN_WEIGHT, TM_MAX_WEIGHT = 1, 1000
TTL_MIN, TTL_MAX = 0, 2_147_483_647
PROBE_INTERVALS = (10, 30)
PROBE_TIMEOUTS = {30: (5, 10), 10: (5, 9)}  # interval -> allowed timeout range, seconds
TOLERATED_FAILURES_MIN, TOLERATED_FAILURES_MAX = 0, 9

# Built-in role "Key Vault Secrets User": read secret values, nothing else.
SECRETS_USER_ROLE = "4633458b-17de-408a-b874-0445c86b69e6"

# App Service regional VNet integration: the subnet is delegated to this service
# (app-service/overview-vnet-integration.md, "addresses in the delegated subnet").
APP_SERVICE_DELEGATION = "Microsoft.Web/serverFarms"

# Key Vault
RETENTION_MIN_DAYS, RETENTION_MAX_DAYS = 7, 90
SECRET_NAME = re.compile(r"^[0-9A-Za-z-]{1,127}$")
VAULT_NAME = re.compile(r"^[A-Za-z](?:[0-9A-Za-z]|-(?!-)){1,22}[0-9A-Za-z]$")

# Regions: the Azure public cloud's regions by programmatic name (the display name in lower case,
# without spaces). Source: "Azure regions list" (azure-docs articles/reliability/regions-list.md;
# learn.microsoft.com/azure/reliability/regions-list adds the "Programmatic name" column and
# Belgium Central). A region opened since is added here.
AZURE_REGIONS = frozenset(
    {
        "australiacentral",
        "australiacentral2",
        "australiaeast",
        "australiasoutheast",
        "austriaeast",
        "belgiumcentral",
        "brazilsouth",
        "brazilsoutheast",
        "canadacentral",
        "canadaeast",
        "centralindia",
        "centralus",
        "eastasia",
        "eastus",
        "eastus2",
        "francecentral",
        "francesouth",
        "germanynorth",
        "germanywestcentral",
        "indonesiacentral",
        "israelcentral",
        "italynorth",
        "japaneast",
        "japanwest",
        "koreacentral",
        "koreasouth",
        "mexicocentral",
        "newzealandnorth",
        "northcentralus",
        "northeurope",
        "norwayeast",
        "norwaywest",
        "polandcentral",
        "qatarcentral",
        "southafricanorth",
        "southafricawest",
        "southcentralus",
        "southindia",
        "southeastasia",
        "spaincentral",
        "swedencentral",
        "swedensouth",
        "switzerlandnorth",
        "switzerlandwest",
        "uaecentral",
        "uaenorth",
        "uksouth",
        "ukwest",
        "westcentralus",
        "westeurope",
        "westindia",
        "westus",
        "westus2",
        "westus3",
    }
)

# Tags: "The tag name has a limit of 512 characters and the tag value has a limit of 256
# characters" (azure-docs articles/azure-resource-manager/management/tag-resources.md, Limitations).
TAG_NAME_MAX, TAG_VALUE_MAX = 512, 256

# App settings: "App setting names can contain only letters, numbers (0-9), periods (.), and
# underscores (_)" (azure-docs articles/app-service/configure-common.md, Configure app settings).
APP_SETTING_NAME = re.compile(r"^[A-Za-z0-9._]+$")

# Container images, by Docker's reference grammar (github.com/distribution/reference, regexp.go):
# a name is an optional registry host (with port) and slash-separated lower-case path components;
# a tag is at most 128 word characters, dots and dashes, not starting with a dot or dash.
IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DOMAIN = r"(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])(?:\.(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]))*(?::[0-9]+)?"
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
IMAGE_NAME = re.compile(rf"^(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*$")

# Kubernetes resource quantities, by the serialization format of k8s.io/apimachinery
# pkg/api/resource/quantity.go: <signedNumber><suffix>, suffix one of Ki Mi Gi Ti Pi Ei, m k M G T P E,
# or an exponent e<signedNumber>. A resource request must not be negative.
_NUMBER = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
QUANTITY = re.compile(rf"^[+-]?{_NUMBER}(?:[KMGTPE]i|[mkMGTPE]|[eE][+-]?{_NUMBER})?$")

# Container registries. Built-in role "AcrPull": pull images, nothing else
# (role-based-access-control/built-in-roles.md, Containers). App Service pulls "Each time the app
# restarts" and again on every new instance (app-service/configure-custom-container.md, "How container
# images are stored"), so a private image needs a pull path for the life of the app, not only at create.
ACR_PULL_ROLE = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
ACR_LOGIN_SUFFIX = "azurecr.io"
# Registry names: 5-50 letters and digits, globally unique (azure-resource-manager/management/resource-name-rules.md).
ACR_NAME = re.compile(r"^[A-Za-z0-9]{5,50}$")
ACR_ID = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.ContainerRegistry/registries/(?P<name>[A-Za-z0-9]{5,50})$",
    re.IGNORECASE,
)
DOCKER_HUB_HOSTS = frozenset(("docker.io", "index.docker.io", "registry-1.docker.io"))

# Role assignments: the issue this design answers quotes key-vault/general/rbac-guide.md, "up to 10 minutes
# (600 seconds)", for a grant to take effect; the revision of the guide we could read does not carry the
# sentence (docs/azure-request-path.md, open questions). The sites wait this long after a new grant, and a
# check that the references resolved follows, so a longer delay fails loudly instead of running on
# literal reference strings.
RBAC_PROPAGATION_SECONDS = 600

# Azure Front Door (Standard), frontdoor/routing-methods.md, "Weighted": an origin's weight "is an integer
# ranging from 1 to 1000", and "If the latency sensitivity gets set to 0 milliseconds, then this property
# doesn't take effect unless there are two origins with the same network latency". Traffic is shared by
# weight only among the origins within the latency sensitivity of the fastest one.
AFD_MIN_WEIGHT, AFD_MAX_WEIGHT = 1, 1000
AFD_LATENCY_SENSITIVITY_MS = 500
"""The origin group's additionalLatencyInMilliseconds. frontdoor/blue-green-deployment.md: "Set the latency
sensitivity to 500 milliseconds (half a second) or higher to ensure both origins are used, as one origin
might be faster than the other". A site and its slot share their plan's instances, so colour shares
always take effect; region weights take effect between regions within this much of each other, as seen
from the Front Door edge (docs/azure-request-path.md, open questions)."""

# Only Front Door reaches the apps. frontdoor/origin-security.md: use "two approaches together", the
# AzureFrontDoor.Backend service tag ("other Azure customers use the same IP addresses") and the X-Azure-FDID
# header checked against "your Front Door profile's" identifier (the profile's frontDoorId). App Service does
# both in one access restriction rule: "Restrict access to a specific Azure Front Door instance with a service
# tag rule and X-Azure-FDID header restriction" (app-service/overview-access-restrictions.md); header values
# match exactly (Microsoft.Web IpSecurityRestriction.headers).
AFD_BACKEND_SERVICE_TAG = "AzureFrontDoor.Backend"
AFD_ID_HEADER = "x-azure-fdid"
SERVICE_TAG = "ServiceTag"
"""IpSecurityRestriction.tag of a rule whose ipAddress is a service tag."""
ACCESS_DENY, ACCESS_ALLOW = "Deny", "Allow"

# Basic (publishing-credential) authentication: "For FTP deployment, basic authentication is controlled by the
# basicPublishingCredentialsPolicies/ftp flag", for the others (Kudu/SCM, Web Deploy, local Git) "by the
# basicPublishingCredentialsPolicies/scm flag" (app-service/configure-basic-auth-disable.md). Each flag is its
# own resource per site and per slot (azure-native web: WebAppScmAllowed(Slot), WebAppFtpAllowed(Slot)).
PUBLISHING_POLICIES = ("scm", "ftp")

# Front Door origin priority (Microsoft.Cdn AFDOrigin.priority, as pulumi-azure-native documents it): "Higher
# priorities will not be used for load balancing if any lower priority origin is healthy. Must be between 1 and 5".
AFD_MIN_PRIORITY, AFD_MAX_PRIORITY = 1, 5

# Front Door's origin health sampling, the values frontdoor/blue-green-deployment.md sets: an origin is healthy while
# 3 of its last 4 probes succeeded, so 2 failed probes in a row take it out (frontdoor/health-probes.md: "A 200 OK
# status code indicates the origin is healthy. Any other status code is considered a failure").
AFD_SAMPLE_SIZE, AFD_SUCCESSFUL_SAMPLES = 4, 3
