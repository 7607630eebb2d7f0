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
    assert stackfile.encrypted_secret_names(STACK, "Pulumi.dev.yaml") == {"jwt-secret"}


def test_malformed_yaml_names_the_file():
    with pytest.raises(stackfile.StackFileError, match="Pulumi.dev.yaml is not valid YAML"):
        stackfile.stack_config(PROJECT, "config: [unclosed", "Pulumi.dev.yaml")


def test_engine_config_is_text():
    assert stackfile.as_engine_config({"a": "x", "b": [1], "c": 2}) == {"a": "x", "b": "[1]", "c": "2"}
