"""Policies as records: each declared once, beside its check, and the pack, the tables and the docs
derived from the records."""

import importlib
from dataclasses import fields
from pathlib import Path

import pytest
from google.protobuf import struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel, StackValidationPolicy
from pulumi_policy.policy import _PolicyAnalyzerServicer

from stagewise.policy import docs
from stagewise.policy.catalogue import RECORDS, config_schema, stack_rules, validator_twins
from stagewise.policy.inputs import StackViolation
from stagewise.policy.policies import CONFIG_SCHEMA, PACK_NAME, STACK_RULES, VALIDATOR_TWINS, policies
from stagewise.policy.record import OnEveryResource, OnResources, OnStack, PolicyRecord, ResourcesOnly, each
from stagewise.policy.settings import CONFIG, HEALTH_PATH, Settings

ROOT = Path(__file__).resolve().parents[3]
THING = "azure-native:test:Thing"


def thing_has_a_colour(props, settings: Settings) -> list[str]:
    return [] if props.get("colour") else [f"a thing needs a colour (probe path {settings.health_path})"]


def no_two_things(resources) -> list[StackViolation]:
    things = [r for r in resources if r.type == THING]
    return [StackViolation("more than one thing", r.urn) for r in things[1:]]


EXTRA = PolicyRecord(
    name="test-thing-colour",
    description="Things have a colour.",
    check=each((THING,), thing_has_a_colour),
    rule="`colour` is set",
    config=(HEALTH_PATH,),
    twin=ResourcesOnly("a test record"),
)
EXTRA_STACK = PolicyRecord(
    name="test-one-thing",
    description="A stack has one thing at most.",
    check=OnStack(no_two_things),
    rule="at most one thing",
    twin=ResourcesOnly("a test record"),
)


def analyze(records, props: dict, config: dict | None = None) -> dict[str, list[str]]:
    service = _PolicyAnalyzerServicer(PACK_NAME, "0.1.0", policies(records), EnforcementLevel.MANDATORY)
    if config:
        request = proto.ConfigureAnalyzerRequest()
        for name, properties in config.items():
            request.policyConfig[name].enforcementLevel = proto.MANDATORY
            request.policyConfig[name].properties.update(properties)
        service.Configure(request, None)
    values = struct_pb2.Struct()
    values.update(props)
    request = proto.AnalyzeRequest(type=THING, properties=values, urn=f"urn:x::{THING}::t", name="t")
    found: dict[str, list[str]] = {}
    for d in service.Analyze(request, None).diagnostics:
        found.setdefault(d.policyName, []).append(d.message.split("\n", 1)[-1])
    return found


def test_a_record_added_shows_up_in_the_pack_the_tables_and_the_docs():
    records = (*RECORDS, EXTRA, EXTRA_STACK)
    pack = {p.name: p for p in policies(records)}
    assert pack["test-thing-colour"].description == "Things have a colour."
    assert pack["test-thing-colour"].config_schema.properties == {"healthPath": HEALTH_PATH.json_schema}
    assert isinstance(pack["test-one-thing"], StackValidationPolicy)
    assert analyze(records, {}) == {"test-thing-colour": ["a thing needs a colour (probe path /health)"]}
    assert analyze(records, {}, {"test-thing-colour": {"healthPath": "/ready"}}) == {
        "test-thing-colour": ["a thing needs a colour (probe path /ready)"]
    }
    assert analyze(records, {"colour": "blue"}) == {}
    assert validator_twins(records)["test-thing-colour"] == ResourcesOnly("a test record")
    assert stack_rules(records)["test-one-thing"] is no_two_things
    assert "healthPath" in config_schema(records)
    assert "| `test-thing-colour` | `test:Thing` | `colour` is set | all | `healthPath` (`/health`) |" in docs.table(
        records
    )
    assert "| `test-one-thing` | the stack |" in docs.table(records)


def test_the_derived_tables_cover_every_record_and_nothing_else():
    names = [r.name for r in RECORDS]
    assert [p.name for p in policies()] == names
    assert list(VALIDATOR_TWINS) == names
    assert set(STACK_RULES) == {r.name for r in RECORDS if isinstance(r.check, OnStack)}
    assert set(CONFIG_SCHEMA) == {key.name for key in CONFIG}


def test_each_record_is_declared_beside_its_check():
    # A family module's POLICIES hold the checks defined in that module, nowhere else.
    for record in RECORDS:
        check = record.check
        if isinstance(check, OnResources):
            functions = list(check.validators.values())
        elif isinstance(check, OnEveryResource):
            functions = [check.check]
        else:
            functions = [check.rule]
        family = importlib.import_module(functions[0].__module__)
        assert record in family.POLICIES, record.name
        assert all(f.__module__ == family.__name__ for f in functions), record.name


def test_every_settings_field_has_a_config_key():
    assert {key.field for key in CONFIG} == {f.name for f in fields(Settings)}
    assert Settings.CONFIG_KEYS == {key.name: key.field for key in CONFIG}


def test_a_stack_policy_reads_no_config():
    with pytest.raises(ValueError, match="a stack policy is mandatory and reads no config"):
        PolicyRecord(
            name="test-one-thing",
            description="A stack has one thing at most.",
            check=OnStack(no_two_things),
            rule="at most one thing",
            config=(HEALTH_PATH,),
            twin=ResourcesOnly("a test record"),
        )


def test_the_docs_table_is_the_rendering_of_the_records():
    text = (ROOT / "docs" / "policy-and-workflows.md").read_text()
    assert docs.rewrite(text) == text, "run: python -m stagewise.policy.docs"
    assert docs.main(["--check", str(ROOT / "docs" / "policy-and-workflows.md")]) == 0


def test_the_docs_command_rewrites_a_stale_table(tmp_path):
    stale = tmp_path / "doc.md"
    stale.write_text(f"before\n{docs.BEGIN}\n| old |\n{docs.END}\nafter\n")
    assert docs.main(["--check", str(stale)]) == 1
    assert docs.main([str(stale)]) == 0
    assert stale.read_text() == f"before\n{docs.table()}\nafter\n"
