"""The reusable config types, one rule each: what each refuses and its message, apart from any section."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from stagewise.core import config_types as t
from stagewise.core.limits import TAG_VALUE_MAX


class Holder(BaseModel):
    """Fields named as the sections name them, since some messages name their key."""

    location: t.AzureRegion = "westeurope"
    owner: t.TagValue = "team"
    blue: t.ImageTag = None
    cpu_request: t.Quantity = "100m"
    address_space: t.AddressSpace = None
    allowed_ips: t.IpRanges = []
    emails: t.Emails = []
    webhooks: t.Webhooks = []
    server: t.RegistryHost = None
    acr_id: t.AcrId = None
    port: t.Port = 8080
    cpu_target: t.Percent = 70
    minimum: t.Count = 1


def refusal(**value: Any) -> str:
    with pytest.raises(ValidationError) as err:
        Holder(**value)
    (error,) = err.value.errors(include_url=False)
    return str(error["msg"]).removeprefix("Value error, ")


def test_key_is_the_alias_a_user_types():
    assert [t.key(n) for n in ("cpu_request", "latency_p95_warning_ms", "acr_id")] == [
        "cpuRequest",
        "latencyP95WarningMs",
        "acrId",
    ]


def test_every_default_passes():
    Holder()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"location": "West Europe"}, "'West Europe': use the region's programmatic name 'westeurope'"),
        ({"location": "westeurop"}, "'westeurop' is not an Azure region; did you mean 'westeurope'?"),
        (
            {"owner": "x" * (TAG_VALUE_MAX + 1)},
            f"becomes an Azure tag value, which holds at most {TAG_VALUE_MAX} characters; "
            f"got {TAG_VALUE_MAX + 1} characters",
        ),
        ({"owner": ""}, "String should have at least 1 character"),
        ({"blue": ".1"}, "blue '.1' is not an image tag"),
        ({"cpu_request": "lots"}, "cpuRequest 'lots' is not a Kubernetes quantity"),
        ({"cpu_request": "-1"}, "cpuRequest '-1' is negative; a resource request is 0 or more"),
        ({"address_space": "10.0.0.1/16"}, "'10.0.0.1/16' is not an IPv4 range with its base address"),
        ({"address_space": "10.0.0.0/25"}, "'10.0.0.0/25': the prefix must be /8../24"),
        ({"allowed_ips": ["10.0.0.0/8", "nope"]}, "'nope' is not an IPv4 address or CIDR range"),
        ({"emails": ["oncall"]}, "'oncall' is not an e-mail address (name@domain.tld)"),
        ({"webhooks": ["http://x.example"]}, "webhook 'http://x.example' must be an https:// URL"),
        ({"webhooks": ["https://"]}, "webhook 'https://' has no host"),
        ({"server": "ghcr.io/team"}, "'ghcr.io/team' is not a registry host"),
        ({"acr_id": "registry"}, "'registry' is not a container registry's resource ID"),
        ({"port": 0}, "Input should be greater than or equal to 1"),
        ({"cpu_target": 101}, "Input should be less than or equal to 100"),
        ({"minimum": 0}, "Input should be greater than or equal to 1"),
    ],
    ids=lambda v: next(iter(v)) if isinstance(v, dict) else "",
)
def test_each_type_refuses_with_its_message(value: dict[str, Any], message: str):
    assert refusal(**value).startswith(message)


def test_a_list_rule_is_refused_at_the_list():
    with pytest.raises(ValidationError) as err:
        Holder(emails=["a@b.io", "nope"])
    assert [e["loc"] for e in err.value.errors()] == [("emails",)]
