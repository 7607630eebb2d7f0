"""The config models' base and one reusable type per rule (data-safe-haven `types/annotated_types.py`:
`AzureLocation = Annotated[str, AfterValidator(...)]`), so a rule that several keys share is written once.

Pure: no Pulumi import. A rule's message names what is allowed; the config key in front of it comes from
the error's location (stagewise.core.config), and a rule that names its own key takes it from the field's
alias (`key`), never from a hand-written camelCase name.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Callable
from types import UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic.alias_generators import to_camel

from stagewise.core import limits, naming
from stagewise.core.redact import redact_url

T = TypeVar("T")


def key(field_name: str | None) -> str:
    """The key a user types for a model field: the models' alias generator applied to its name."""
    return to_camel(str(field_name))


class SecretValue:
    """A value that came from encrypted config. Its repr never shows the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "SecretValue([secret])"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretValue) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def _members(annotation: Any) -> list[Any]:
    """The types of a union (`int | None` -> int, NoneType), or the annotation alone."""
    return list(get_args(annotation)) if get_origin(annotation) in (Union, UnionType) else [annotation]


def _number_kinds(annotation: Any) -> tuple[bool, bool]:
    """(the annotation is a number, it holds numbers): int or float, optionally None; a list, tuple or
    mapping of them."""
    members = _members(annotation)
    scalar = any(m in (int, float) for m in members)
    items = any(get_origin(m) in (list, tuple, dict) and any(a in (int, float) for a in get_args(m)) for m in members)
    return scalar, items


class Model(BaseModel):
    """A config section: camelCase keys (the alias generator), unknown keys refused, frozen, numbers
    finite (`.inf` and `.nan` are refused where a number is read)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        arbitrary_types_allowed=True,
        allow_inf_nan=False,
    )

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_a_number(cls, value: Any, info: ValidationInfo) -> Any:
        # pydantic would take `true` as 1 (`ttl: true` as a 1 s TTL, `errorRateRatio: true` as 1.0).
        field = cls.model_fields.get(info.field_name or "")
        if field is None:
            return value
        scalar, items = _number_kinds(field.annotation)
        kind = "a whole number" if int in _members(field.annotation) else "a number"
        if scalar and isinstance(value, bool):
            raise ValueError(f"must be {kind}, got {str(value).lower()} (a boolean)")
        if items and isinstance(value, (list, tuple, dict)):
            for item in value.values() if isinstance(value, dict) else value:
                if isinstance(item, bool):
                    raise ValueError(f"must hold numbers, got {str(item).lower()} (a boolean)")
        return _engine_boolean(value, field.annotation)


# What pulumi.Config.get_bool reads as a boolean (pulumi sdk/python lib/pulumi/config.py, _get_bool);
# pydantic alone would also take yes, on, 1, t and y.
_BOOLEANS = {"true": True, "True": True, "false": False, "False": False}


def _engine_boolean(value: Any, annotation: Any) -> Any:
    """A boolean field's (or a mapping of booleans') text read as the engine's SDK reads it: true or
    false, anything else refused."""

    def read(item: Any) -> Any:
        if isinstance(item, str):
            if item not in _BOOLEANS:
                raise ValueError(f"must be true or false, got {item!r}")
            return _BOOLEANS[item]
        return item

    members = _members(annotation)
    if bool in members:
        return read(value)
    if isinstance(value, dict) and any(get_origin(m) is dict and get_args(m)[-1:] == (bool,) for m in members):
        return {name: read(item) for name, item in value.items()}
    return value


def _each(check: Callable[[Any], None]) -> Callable[[list[T]], list[T]]:
    """A list rule from a rule for one item: the list is refused (at its own key) by its first bad item."""

    def check_all(items: list[T]) -> list[T]:
        for item in items:
            check(item)
        return items

    return check_all


# --- numbers --------------------------------------------------------------------------------------

Count = Annotated[int, Field(ge=1)]
"""A number of instances or replicas: 1 or more."""

Percent = Annotated[int, Field(ge=1, le=100)]
"""A whole percentage of CPU or health, 1..100."""

Port = Annotated[int, Field(ge=1, le=65535)]
"""A TCP port."""


# --- names ----------------------------------------------------------------------------------------


def azure_region(name: str) -> str:
    """`name` if it is an Azure region's programmatic name, else the message that says what is."""
    if name in limits.AZURE_REGIONS:
        return name
    squeezed = name.replace(" ", "").lower()
    if squeezed in limits.AZURE_REGIONS:
        raise ValueError(f"{name!r}: use the region's programmatic name {squeezed!r}")
    close = difflib.get_close_matches(squeezed, sorted(limits.AZURE_REGIONS), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"{name!r} is not an Azure region{hint} (programmatic names, as in limits.AZURE_REGIONS)")


AzureRegion = Annotated[str, AfterValidator(azure_region)]
"""An Azure region's programmatic name (westeurope), as in limits.AZURE_REGIONS."""


def _fits_a_tag(value: str) -> str:
    if len(value) > limits.TAG_VALUE_MAX:
        raise ValueError(
            f"becomes an Azure tag value, which holds at most {limits.TAG_VALUE_MAX} characters; "
            f"got {len(value)} characters"
        )
    return value


TagValue = Annotated[str, Field(min_length=1), AfterValidator(_fits_a_tag)]
"""Text that becomes an Azure tag value (owner, costCentre)."""

KubernetesName = Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
"""A Kubernetes object or namespace name (RFC 1123 label)."""


def _image_tag(tag: str | None, info: ValidationInfo) -> str | None:
    if tag is not None and not limits.IMAGE_TAG.match(tag):
        raise ValueError(
            f"{info.field_name} {tag!r} is not an image tag: letters, digits, '_', '.', '-', at most 128, "
            f"not starting with '.' or '-' (what `stagewise deploy` accepts)"
        )
    return tag


ImageTag = Annotated[str | None, AfterValidator(_image_tag)]
"""A container image tag, as `stagewise deploy` accepts it; None where a colour runs nothing."""


def _quantity(value: str, info: ValidationInfo) -> str:
    if not limits.QUANTITY.match(value):
        raise ValueError(f"{key(info.field_name)} {value!r} is not a Kubernetes quantity (like 250m, 0.5, 64Mi, 1Gi)")
    if value.startswith("-"):
        raise ValueError(f"{key(info.field_name)} {value!r} is negative; a resource request is 0 or more")
    return value


Quantity = Annotated[str, AfterValidator(_quantity)]
"""A Kubernetes resource quantity of 0 or more (250m, 64Mi)."""


# --- addresses ------------------------------------------------------------------------------------


# Ranges a virtual network cannot hold. Azure's Virtual Network FAQ ("What address ranges can I use in
# my virtual networks?", azure-docs articles/virtual-network/virtual-networks-faq.md): "you can't add
# the following address ranges: 224.0.0.0/4 (multicast), 255.255.255.255/32 (broadcast), 127.0.0.0/8
# (loopback), 169.254.0.0/16 (link local), 168.63.129.16/32 (internal DNS)". 0.0.0.0/8 is not in that
# list: it is "this network", which RFC 6890 marks not forwardable (the FAQ: other ranges "might work
# but have undesirable side effects"), so a network there could not be reached either.
RESERVED_RANGES: dict[str, str] = {
    "224.0.0.0/4": "multicast (Azure's Virtual Network FAQ)",
    "255.255.255.255/32": "broadcast (Azure's Virtual Network FAQ)",
    "127.0.0.0/8": "loopback (Azure's Virtual Network FAQ)",
    "169.254.0.0/16": "link local (Azure's Virtual Network FAQ)",
    "168.63.129.16/32": "Azure's internal DNS, DHCP and health probes (Azure's Virtual Network FAQ)",
    "0.0.0.0/8": "'this network', not forwardable (RFC 6890)",
}


def _ipv4_range(space: str | None) -> str | None:
    if space is None:
        return None
    try:
        network = ipaddress.IPv4Network(space)
    except ValueError:
        raise ValueError(f"{space!r} is not an IPv4 range with its base address (like 10.1.0.0/16)") from None
    if not 8 <= network.prefixlen <= 24:
        raise ValueError(f"{space!r}: the prefix must be /8../24, room for a /24 integration subnet")
    for reserved, why in RESERVED_RANGES.items():
        if network.overlaps(ipaddress.IPv4Network(reserved)):
            raise ValueError(
                f"{space!r} overlaps {reserved}, {why}, which a virtual network cannot hold; use a private range "
                f"(10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or 100.64.0.0/10)"
            )
    return space


AddressSpace = Annotated[str | None, AfterValidator(_ipv4_range)]
"""A virtual network's IPv4 range with its base address, /8../24 (room for a /24 subnet)."""


def _ip_or_range(ip: str) -> None:
    try:
        ipaddress.IPv4Network(ip, strict=False)
    except ValueError:
        raise ValueError(f"{ip!r} is not an IPv4 address or CIDR range") from None


# Kubernetes label syntax (kubernetes.io docs, "Labels and Selectors", Syntax and character set): a
# key is an optional DNS-subdomain prefix (at most 253 characters) and '/', then a name of at most 63
# characters, alphanumeric at both ends, with '-', '_' and '.' between; a value is empty or the same as a
# name. The API server refuses a pod whose nodeSelector breaks it.
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_LABEL_PREFIX = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def _labels(labels: dict[str, str], info: ValidationInfo) -> dict[str, str]:
    for label, value in labels.items():
        prefix, _, name = label.rpartition("/")
        if not _LABEL_NAME.match(name) or "/" in label and not (len(prefix) <= 253 and _LABEL_PREFIX.match(prefix)):
            raise ValueError(
                f"{key(info.field_name)} key {label!r} is not a Kubernetes label key: an optional DNS prefix and '/', "
                f"then 1-63 letters, digits, '-', '_' or '.', beginning and ending with a letter or digit"
            )
        if value and not _LABEL_NAME.match(value):
            raise ValueError(
                f"{key(info.field_name)} value {value!r} (of {label!r}) is not a Kubernetes label value: empty, or "
                f"at most 63 letters, digits, '-', '_' or '.', beginning and ending with a letter or digit"
            )
    return labels


Labels = Annotated[dict[str, str], AfterValidator(_labels)]
"""Kubernetes labels (a node selector) the API server accepts."""


IpRanges = Annotated[list[str], AfterValidator(_each(_ip_or_range))]
"""IPv4 addresses or CIDR ranges."""

EMAIL = re.compile(
    r"^[^@\s<>(),;:\"\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)


def _email(email: str) -> None:
    if not EMAIL.match(email):
        raise ValueError(f"{email!r} is not an e-mail address (name@domain.tld)")


Emails = Annotated[list[str], AfterValidator(_each(_email))]
"""E-mail addresses (name@domain.tld)."""


def _https_url(url: str) -> None:
    if not url.startswith("https://"):
        raise ValueError(f"webhook {redact_url(url)!r} must be an https:// URL")
    if any(c.isspace() for c in url):
        raise ValueError(f"webhook {redact_url(url)!r} holds white space; a URL writes a space as %20")
    try:
        host = urlsplit(url).hostname
    except ValueError:
        host = None
    if not host:
        raise ValueError(f"webhook {redact_url(url)!r} has no host; give https://<host>/<path>")


Webhooks = Annotated[list[str], AfterValidator(_each(_https_url))]
"""https:// URLs with a host."""


def _registry_host(server: str | None) -> str | None:
    if server is not None and naming.image_registry(f"{server}/x") != server.lower():
        raise ValueError(f"{server!r} is not a registry host: give the host (and port) only, e.g. ghcr.io")
    return server


RegistryHost = Annotated[str | None, AfterValidator(_registry_host)]
"""A container registry's host (and port), e.g. ghcr.io."""


def _acr_resource_id(acr_id: str | None) -> str | None:
    if acr_id is not None and not limits.ACR_ID.match(acr_id):
        raise ValueError(
            f"{acr_id!r} is not a container registry's resource ID: /subscriptions/<id>/resourceGroups/<group>"
            f"/providers/Microsoft.ContainerRegistry/registries/<5-50 letters and digits>"
        )
    return acr_id


AcrId = Annotated[str | None, AfterValidator(_acr_resource_id)]
"""An Azure Container Registry's resource ID."""
