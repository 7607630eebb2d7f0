"""Advisory: taggable Azure resources carry the required tags (default owner and cost-centre)."""

import pytest

from stagewise.policy.settings import Settings
from stagewise.policy.tags import required_tags

SETTINGS = Settings()
TAGS = {"environment": "dev", "owner": "platform-team", "cost-centre": "cc-1"}


def test_resource_with_required_tags_passes():
    assert required_tags("azure-native:web:AppServicePlan", {"tags": TAGS}, SETTINGS) == []


def test_missing_tags_are_named():
    assert required_tags("azure-native:web:AppServicePlan", {"tags": {"environment": "dev"}}, SETTINGS) == [
        "resource is missing required tags (who owns it, who pays for it): set tags.owner, tags.cost-centre"
    ]


def test_empty_tag_value_counts_as_missing():
    [message] = required_tags("azure-native:web:AppServicePlan", {"tags": {**TAGS, "owner": " "}}, SETTINGS)
    assert message.endswith("set tags.owner")


def test_known_taggable_type_without_tags_input_fails():
    [message] = required_tags("azure-native:keyvault:Vault", {"properties": {}}, SETTINGS)
    assert message.endswith("set tags.owner, tags.cost-centre")


def test_any_azure_resource_with_a_tags_input_is_checked():
    assert len(required_tags("azure-native:cdn:Profile", {"tags": {}}, SETTINGS)) == 1


@pytest.mark.parametrize(
    "resource_type",
    ["azure-native:trafficmanager:Endpoint", "azure-native:authorization:RoleAssignment"],
)
def test_resources_that_take_no_tags_are_skipped(resource_type):
    assert required_tags(resource_type, {"weight": 1.0}, SETTINGS) == []


@pytest.mark.parametrize("resource_type", ["kubernetes:apps/v1:Deployment", "pulumi:providers:azure-native"])
def test_non_azure_resources_are_skipped(resource_type):
    assert required_tags(resource_type, {"tags": {}}, SETTINGS) == []


def test_unknown_tags_are_left_for_up():
    props = {"tags": "dd056dcd-154b-4c76-9bd3-c8f88648b5ff"}
    assert required_tags("azure-native:web:AppServicePlan", props, SETTINGS) == []


def test_required_tags_come_from_config():
    settings = Settings.from_config({"requiredTags": ["owner", "data-classification"]})
    [message] = required_tags("azure-native:web:AppServicePlan", {"tags": TAGS}, settings)
    assert message.endswith("set tags.data-classification")
