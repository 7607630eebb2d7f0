"""The required-tags rule (advisory)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stagewise.core import config
from stagewise.policy.inputs import dig, is_unknown
from stagewise.policy.record import OnEveryResource, PolicyRecord, Validation
from stagewise.policy.resource_types import AUTOSCALE_SETTING, KEY_VAULT, TRAFFIC_MANAGER_PROFILE, WEB_APPS
from stagewise.policy.settings import REQUIRED_TAGS, Settings

# Azure resource types that take tags even when a program sets none (an absent `tags` input is
# then exactly the omission the required-tags rule exists for). Any other azure-native resource
# is checked when its inputs carry `tags`.
TAGGABLE = frozenset(
    (
        *KEY_VAULT,
        *WEB_APPS,
        *AUTOSCALE_SETTING,
        *TRAFFIC_MANAGER_PROFILE,
        "azure-native:resources:ResourceGroup",
        "azure-native:web:AppServicePlan",
        "azure-native:keyvault:Secret",
        "azure-native:applicationinsights:Component",
        "azure-native:operationalinsights:Workspace",
        "azure-native:managedidentity:UserAssignedIdentity",
        "azure-native:network:VirtualNetwork",
        "azure-native:monitor:ActionGroup",
        "azure-native:monitor:MetricAlert",
        "azure-native:monitor:ScheduledQueryRule",
    )
)


def takes_tags(resource_type: str, props: Mapping[str, Any]) -> bool:
    return resource_type.startswith("azure-native:") and (resource_type in TAGGABLE or "tags" in props)


def required_tags(resource_type: str, props: Mapping[str, Any], settings: Settings) -> list[str]:
    if not takes_tags(resource_type, props) or is_unknown(dig(props, "tags")):
        return []
    missing = []
    for tag in settings.required_tags:
        value = dig(props, "tags", tag)
        if not is_unknown(value) and not (isinstance(value, str) and value.strip()):
            missing.append(tag)
    if not missing:
        return []
    return [
        f"resource is missing required tags (who owns it, who pays for it): "
        f"set {', '.join(f'tags.{t}' for t in missing)}"
    ]


REQUIRED_TAGS_POLICY = PolicyRecord(
    name="required-tags",
    description="Azure resources carry the owner and cost-centre tags.",
    check=OnEveryResource(required_tags, "Azure resources that take tags"),
    rule="each required tag is set and not empty",
    config=(REQUIRED_TAGS,),
    twin=Validation(
        "owner and costCentre are required, non-empty",
        (config.StackConfig.model_fields["owner"], config.StackConfig.model_fields["cost_centre"]),
    ),
    level="advisory",
)


POLICIES: tuple[PolicyRecord, ...] = (REQUIRED_TAGS_POLICY,)
