"""stagewise.core.edges: what each edge asks of the sites, as tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from stagewise.core import edges, stackconfig
from stagewise.core.config import ConfigError


@pytest.mark.parametrize(
    ("edge", "colour", "parked", "expected"),
    [
        ("frontDoor", "blue", False, "frontDoor"),
        ("frontDoor", "green", False, "frontDoor"),
        ("frontDoor", "blue", True, "closed"),
        ("frontDoor", "green", True, "closed"),
        # Traffic Manager is DNS only: clients reach the sites themselves.
        ("trafficManager", "blue", False, "public"),
        ("trafficManager", "green", False, "public"),
        # Every client of a region enters through the production site's host name, the slot's share included.
        ("trafficManager", "blue", True, "public"),
        ("trafficManager", "green", True, "closed"),
    ],
)
def test_who_a_site_or_slot_admits(edge, colour, parked, expected):
    assert edges.access(edge, colour, parked) == expected


@pytest.mark.parametrize(
    ("edge", "shares", "expected"),
    [
        ("trafficManager", {"blue": 95, "green": 5}, 5),
        ("trafficManager", {"blue": 0, "green": 100}, 100),
        ("trafficManager", {"blue": 100, "green": 0}, None),  # no rule, never an explicit 0 %
        ("frontDoor", {"blue": 95, "green": 5}, None),
        ("frontDoor", {"blue": 0, "green": 100}, None),
    ],
)
def test_the_slot_rule_percentage(edge, shares, expected):
    assert edges.slot_percentage(edge, shares) == expected


@pytest.mark.parametrize(
    ("site", "slot", "expected"),
    [
        ("app-production-westeurope-1a2b3c", "green", "app-production-westeurope-1a2b3c-green.azurewebsites.net"),
        ("Site", "Green", "site-green.azurewebsites.net"),
        ("s" * 40, "green", "s" * 40 + "-green.azurewebsites.net"),
    ],
)
def test_the_slot_host_name_is_the_documented_format(site, slot, expected):
    assert edges.slot_host_name(site, slot) == expected


@pytest.mark.parametrize(("site", "slot"), [("s" * 41, "green"), ("", "green"), ("site", "g" * 20), ("site", "")])
def test_a_name_azure_would_truncate_is_refused(site, slot):
    with pytest.raises(ValueError, match="characters"):
        edges.slot_host_name(site, slot)


@pytest.mark.parametrize(
    ("front_door", "traffic_manager", "expected"),
    [
        (True, False, "frontDoor"),
        (False, True, "trafficManager"),
        (True, True, "frontDoor"),  # mid-switch: the stricter rules
        (False, False, "frontDoor"),
    ],
)
def test_the_edge_a_stack_shows(front_door, traffic_manager, expected):
    assert edges.stack_edge(front_door=front_door, traffic_manager=traffic_manager) == expected


def test_the_default_edge_is_front_door():
    from stagewise.core.config import TrafficConfig

    assert TrafficConfig.model_fields["edge"].default == edges.DEFAULT_EDGE == edges.FRONT_DOOR


ROOT = Path(__file__).resolve().parents[2]
TRAFFIC = "  stagewise:traffic:\n    ttl: 30\n"


def production(extra: str = "", regions: str | None = None):
    text = (ROOT / "Pulumi.production.yaml").read_text()
    assert TRAFFIC in text
    text = text.replace(TRAFFIC, TRAFFIC + extra)
    if regions is not None:
        text = text.replace("      weight: 40\n", f"      weight: {regions}\n", 1)
    return stackconfig.config_from_texts((ROOT / "Pulumi.yaml").read_text(), text, "Pulumi.production.yaml")


def test_the_validator_reads_the_edge():
    assert production().traffic.edge == "frontDoor"
    assert production("    edge: trafficManager\n").traffic.edge == "trafficManager"


def test_an_unknown_edge_is_refused_naming_the_key_and_the_values():
    with pytest.raises(ConfigError) as refused:
        production("    edge: azureFrontDoor\n")
    (problem,) = refused.value.problems
    assert "traffic.edge" in problem and "'frontDoor'" in problem and "'trafficManager'" in problem


def test_front_doors_minimum_weight_rule_holds_on_its_edge_only():
    # 1000 x 1/60 x 5 % is below Front Door's minimum weight of 1; Traffic Manager takes the region weight as it is.
    with pytest.raises(ConfigError, match="below Front Door's minimum of 1"):
        production(regions="1")
    assert production("    edge: trafficManager\n", regions="1").regions[1].weight == 1


def test_a_traffic_manager_probe_that_cannot_be_pinned_is_refused():
    with pytest.raises(ConfigError) as refused:
        production("    edge: trafficManager\n    probe:\n      protocol: TCP\n")
    (problem,) = refused.value.problems
    assert "probe.protocol 'TCP'" in problem and "['HTTP', 'HTTPS']" in problem
    # Front Door probes with HTTPS whatever this key says (docs/azure-request-path.md, section 1).
    assert production("    probe:\n      protocol: TCP\n").traffic.probe.protocol == "TCP"
