"""Every policy record of the pack, family by family, and the tables derived from them.

Pure: no pulumi_policy import. A policy is declared once, as a record in its family module
(`stagewise.policy.record`); the pack (`policies.policies`), these tables and the docs' table
(`docs`) are functions of the records, so a record added to a family's `POLICIES` shows up in all of
them with no other edit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from stagewise.policy import (
    access,
    frontdoor,
    keyvault,
    kubernetes,
    monitoring,
    tags,
    traffic_manager,
    vnet_integration,
    webapps,
)
from stagewise.policy.record import OnStack, PolicyRecord, StackRule, Twin

RECORDS: tuple[PolicyRecord, ...] = (
    *keyvault.POLICIES,
    *webapps.POLICIES,
    *access.POLICIES,
    *vnet_integration.POLICIES,
    *frontdoor.POLICIES,
    *traffic_manager.POLICIES,
    *monitoring.POLICIES,
    *kubernetes.POLICIES,
    *tags.POLICIES,
)


def stack_rules(records: Sequence[PolicyRecord] = RECORDS) -> dict[str, StackRule]:
    """The stack rules by policy name, for whatever checks a whole stack outside the engine."""
    return {r.name: r.check.rule for r in records if isinstance(r.check, OnStack)}


def validator_twins(records: Sequence[PolicyRecord] = RECORDS) -> dict[str, Twin]:
    """Each policy's twin in the config validator, by policy name."""
    return {r.name: r.twin for r in records}


def config_schema(records: Sequence[PolicyRecord] = RECORDS) -> dict[str, dict[str, Any]]:
    """One JSON schema per config key some policy reads, in the order the policies first read them."""
    return {key.name: key.json_schema for r in records for key in r.config}


STACK_RULES = stack_rules()
VALIDATOR_TWINS = validator_twins()
CONFIG_SCHEMA = config_schema()
