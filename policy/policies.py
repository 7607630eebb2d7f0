"""The pack's policies: each record of the family modules (`stagewise.policy.record`) as a pulumi_policy policy.

Importing this module builds Policy objects only; the PolicyPack (which starts the analyzer
server) is constructed in `policy/__main__.py`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from stagewise.policy.catalogue import CONFIG_SCHEMA, RECORDS, STACK_RULES, VALIDATOR_TWINS
from stagewise.policy.inputs import StackResource
from stagewise.policy.record import OnEveryResource, OnResources, OnStack, PolicyRecord, StackRule
from stagewise.policy.settings import Settings

# The tables derived from the records (stagewise.policy.catalogue), importable from here as before.
__all__ = ["CONFIG_SCHEMA", "PACK_NAME", "STACK_RULES", "VALIDATOR_TWINS", "plain", "policies", "stack_resources"]

PACK_NAME = "stagewise"

_LEVELS = {"mandatory": EnforcementLevel.MANDATORY, "advisory": EnforcementLevel.ADVISORY}


def plain(value: Any) -> Any:
    """Resource inputs as plain dicts and lists, with unknown values left as the engine's sentinels.

    The policy SDK wraps inputs in a proxy that raises on any unknown value it hands out, which
    would end the whole policy at the first one; the rules decide per value instead. The proxy
    gives its raw contents under the key "__target" (the SDK's own serializer unwraps it so).
    """
    if isinstance(value, str):
        return value
    try:
        raw = value["__target"]
    except (KeyError, IndexError, TypeError):
        raw = value
    if isinstance(raw, Mapping):
        return {key: plain(item) for key, item in raw.items()}
    if isinstance(raw, (list, tuple)):
        return [plain(item) for item in raw]
    return raw


def _schema(record: PolicyRecord) -> PolicyConfigSchema | None:
    return PolicyConfigSchema(properties={k.name: k.json_schema for k in record.config}) if record.config else None


def _resource_policy(record: PolicyRecord, check: OnResources | OnEveryResource) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if isinstance(check, OnResources):
            validator = check.validators.get(args.resource_type)
            if validator is None:
                return
            messages = validator(plain(args.props), Settings.from_config(args.get_config()))
        else:
            messages = check.check(args.resource_type, plain(args.props), Settings.from_config(args.get_config()))
        for message in messages:
            report_violation(message, None)

    return ResourceValidationPolicy(
        name=record.name,
        description=record.description,
        validate=validate,
        enforcement_level=_LEVELS[record.level],
        config_schema=_schema(record),
    )


def stack_resources(args: StackValidationArgs) -> list[StackResource]:
    return [
        StackResource(
            urn=r.urn,
            type=r.resource_type,
            name=r.name,
            props=plain(r.props),
            property_dependencies={k: [d.urn for d in deps] for k, deps in r.property_dependencies.items()},
            dependencies=[d.urn for d in r.dependencies],
        )
        for r in args.resources
    ]


def _stack_policy(record: PolicyRecord, rule: StackRule) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        for violation in rule(stack_resources(args)):
            report_violation(violation.message, violation.urn)

    return StackValidationPolicy(
        name=record.name,
        description=record.description,
        validate=validate,
        enforcement_level=_LEVELS[record.level],
    )


def policy(record: PolicyRecord) -> Policy:
    """A record as the SDK's policy: a stack policy, or a resource policy with the record's config schema."""
    if isinstance(record.check, OnStack):
        return _stack_policy(record, record.check.rule)
    return _resource_policy(record, record.check)


def policies(records: Sequence[PolicyRecord] = RECORDS) -> list[Policy]:
    """The pack's policies, one per record."""
    return [policy(r) for r in records]
