import pytest

from stagewise.formats import stackfile

PROJECT = """
name: stagewise
config:
  stagewise:stages:
    default:
      - {name: canary, weight: 10}
  plain: 3
"""

STACK = """
config:
  stagewise:environment: dev
  stagewise:secrets:
    jwt-secret:
      secure: v1:abc
    note: visible
"""


def test_stack_values_override_project_defaults_and_ciphertext_is_hidden():
    config, secret_keys = stackfile.stack_config(PROJECT, STACK, "Pulumi.dev.yaml")
    assert config["stagewise:stages"] == [{"name": "canary", "weight": 10}]
    assert config["stagewise:plain"] == 3
    assert config["stagewise:secrets"] == {"jwt-secret": stackfile.SECRET_PLACEHOLDER, "note": "visible"}
    assert secret_keys == {"stagewise:secrets"}


def test_encrypted_secret_names():
    assert stackfile.StackText.parse(STACK, "Pulumi.dev.yaml").encrypted_secret_names == {"jwt-secret"}


@pytest.mark.parametrize(
    "text, key",
    [
        ("encryptionsalt: v1:salt=\nconfig: {}\n", "v1:salt="),
        ("encryptedkey: wrapped\nconfig: {}\n", "wrapped"),
        ("encryptionsalt: ''\nencryptedkey: wrapped\n", "wrapped"),
        ("encryptionsalt: 12\n", None),
        ("config: {}\n", None),
        ("", None),
    ],
)
def test_the_installation_key_is_the_providers_salt_or_wrapped_key(text: str, key: str | None):
    assert stackfile.StackText.parse(text, "Pulumi.dev.yaml").installation == key


@pytest.mark.parametrize(
    "text, name", [("name: shop\n", "shop"), ("name: ''\n", None), ("runtime: python\n", None), ("", None)]
)
def test_the_project_name(text: str, name: str | None):
    assert stackfile.project_name(stackfile.load_yaml(text, stackfile.PROJECT_FILE)) == name


@pytest.mark.parametrize(
    "text, message",
    [
        ("[1, 2]\n", "Pulumi.dev.yaml: expected a mapping at the top level"),
        ("config: [1]\n", "Pulumi.dev.yaml: 'config' must be a mapping"),
        ("config: {1: x}\n", "Pulumi.dev.yaml: config key 1 is not a name"),
    ],
)
def test_a_config_that_is_not_a_mapping_of_names_is_refused(text: str, message: str):
    with pytest.raises(stackfile.StackFileError, match=message):
        stackfile.document_config(stackfile.load_yaml(text, "Pulumi.dev.yaml"), "Pulumi.dev.yaml")


def test_malformed_yaml_names_the_file():
    with pytest.raises(stackfile.StackFileError, match="Pulumi.dev.yaml is not valid YAML"):
        stackfile.stack_config(PROJECT, "config: [unclosed", "Pulumi.dev.yaml")


def test_engine_config_is_text():
    assert stackfile.as_engine_config({"a": "x", "b": [1], "c": 2}) == {"a": "x", "b": "[1]", "c": "2"}
