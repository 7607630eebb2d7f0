"""Property: every config the validator accepts for a tier passes that tier's mandatory policies.

Configs are drawn across the keys the tier rules and the policy pack look at (values on both
sides of each limit), written into the tier's shipped stack file, evaluated under mocks and run
through the pack as the engine would (tests/components/test_stacks_policy.py). A config the
validator refuses is the other half of the property: it never reaches the engine.
"""

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from test_stacks_policy import violations

from stagewise.core.config import ConfigError
from stagewise.tools.evaluate import evaluate_stack

ROOT = Path(__file__).resolve().parents[2]

# Each example draws its values either from what its tier allows (boundaries included), so that
# accepted configs cover that whole region, or from anywhere in the platform's range, so that the
# validator's refusals are exercised too.
from stagewise.core import tiers  # noqa: E402

ANYWHERE = {
    "ttl": st.sampled_from([30, 0, 60, 61, 300, 2_147_483_647]),
    "path": st.sampled_from(["/health", "/healthz"]),
    "purge": st.booleans(),
    "action": st.sampled_from(["Deny", "Allow"]),
    "floor": st.just(1),
}


def inside(stack: str) -> dict:
    production, like = stack == tiers.PRODUCTION, stack in tiers.PRODUCTION_LIKE
    return {
        "ttl": st.integers(0, tiers.PRODUCTION_MAX_TTL) if production else ANYWHERE["ttl"],
        "path": st.just(tiers.HEALTH_PATH),
        "purge": st.just(True) if like else st.booleans(),
        "action": st.just("Deny") if production else ANYWHERE["action"],
        "floor": st.just(tiers.PRODUCTION_MIN_INSTANCES if production else tiers.MIN_REPLICAS if like else 1),
    }


@st.composite
def azure_values(draw, stack: str) -> dict:
    pick = draw(st.sampled_from([inside(stack), ANYWHERE]))
    floor = draw(pick["floor"])
    low, mid, high = sorted(draw(st.lists(st.integers(floor, 10), min_size=3, max_size=3)))
    values = {
        "stagewise:traffic": {"ttl": draw(pick["ttl"]), "probe": {"path": draw(pick["path"])}},
        "stagewise:vault": {"purgeProtection": draw(pick["purge"]), "networkDefaultAction": draw(pick["action"])},
        "stagewise:autoscale": {"enabled": draw(st.booleans()), "minimum": low, "default": mid, "maximum": high},
        "stagewise:appService": {
            "sku": draw(st.sampled_from(["P1v3", "S1"])),
            "instances": draw(st.integers(floor, 5)),
        },
    }
    if stack == "production":
        values["stagewise:regions"] = [
            {"name": "westeurope", "weight": draw(st.sampled_from([60, 1, 1000, 0]))},
            {"name": "northeurope", "weight": draw(st.sampled_from([40, 1000, 0]))},
        ]
    return values


@st.composite
def local_values(draw) -> dict:
    pick = draw(st.sampled_from([inside("local"), ANYWHERE]))
    low, high = sorted(draw(st.lists(st.integers(draw(pick["floor"]), 5), min_size=2, max_size=2)))
    return {
        "stagewise:traffic": {"ttl": draw(pick["ttl"]), "probe": {"path": draw(pick["path"])}},
        "stagewise:vault": {"purgeProtection": draw(pick["purge"]), "networkDefaultAction": draw(pick["action"])},
        "stagewise:kubernetes": {"minReplicas": low, "maxReplicas": high},
    }


def stack_text(stack: str, values: dict, extra_kubernetes: dict | None = None) -> str:
    yaml = YAML()
    document = yaml.load((ROOT / f"Pulumi.{stack}.yaml").read_text())
    config = document["config"]
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key].update(value)
        else:
            config[key] = value
    if extra_kubernetes:
        config["stagewise:kubernetes"].update(extra_kubernetes)
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


COUNTS = {"dev": 6, "staging": 8, "production": 14}


def check(stack: str, text: str, accepted: list) -> None:
    try:
        ev = evaluate_stack((ROOT / "Pulumi.yaml").read_text(), text, stack)
    except ConfigError:
        return  # refused before any resource is touched
    accepted.append(text)
    assert violations(ev) == []


@pytest.mark.parametrize("stack", sorted(COUNTS))
def test_every_azure_config_the_validator_accepts_passes_the_pack(stack):
    accepted: list[str] = []

    @settings(max_examples=COUNTS[stack], deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
    @given(azure_values(stack))
    def property_(values):
        check(stack, stack_text(stack, values), accepted)

    property_()
    assert accepted, "no drawn config was accepted, so the property says nothing"


def test_every_local_config_the_validator_accepts_passes_the_pack(tmp_path_factory):
    kubeconfig = tmp_path_factory.mktemp("kube") / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    accepted: list[str] = []

    @settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
    @given(local_values())
    def property_(values):
        text = stack_text("local", values, {"kubeconfig": str(kubeconfig), "kubeconfigOutsideProject": True})
        check("local", text, accepted)

    property_()
    assert accepted, "no drawn config was accepted, so the property says nothing"
