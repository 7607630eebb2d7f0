"""workbook-per-environment: one workbook per Application Insights component, reading that component."""

import json

import pytest

from stagewise.core import workbook
from stagewise.policy.inputs import StackResource
from stagewise.policy.monitoring import workbook_per_environment, workbook_queries_per_version
from stagewise.policy.settings import Settings

INSIGHTS = "urn:insights"
# The engine's placeholder for a value not known during preview.
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def component(urn: str = INSIGHTS) -> StackResource:
    return StackResource(urn, "azure-native:applicationinsights:Component", urn.split(":")[-1], {}, {})


def book(name: str, source: str | None = INSIGHTS, type_: str = "azure-native:applicationinsights:Workbook"):
    deps = {"sourceId": [source]} if source else {}
    return StackResource(f"urn:{name}", type_, name, {"sourceId": "id-from-elsewhere"}, deps)


def test_one_workbook_over_the_component_passes():
    assert workbook_per_environment([component(), book("dashboard")]) == []
    # The v2 token, still an alias of the same resource.
    assert workbook_per_environment([component(), book("dashboard", type_="azure-native:insights:Workbook")]) == []


def test_a_stack_without_application_insights_needs_no_workbook():
    assert workbook_per_environment([]) == []


def test_a_component_without_a_workbook_is_refused():
    (violation,) = workbook_per_environment([component()])
    assert violation.urn == INSIGHTS
    assert "must have exactly one workbook" in violation.message and "found 0" in violation.message


def test_two_workbooks_over_one_component_are_refused():
    (violation,) = workbook_per_environment([component(), book("a"), book("b")])
    assert violation.urn == INSIGHTS and "found 2: 'a', 'b'" in violation.message


def test_a_workbook_over_something_else_is_refused_and_leaves_the_component_without_one():
    violations = workbook_per_environment([component(), book("stray", source=None)])
    assert sorted(v.urn for v in violations) == [INSIGHTS, "urn:stray"]
    (stray,) = [v for v in violations if v.urn == "urn:stray"]
    assert "set sourceId to the component's id (got 'id-from-elsewhere')" in stray.message


SETTINGS = Settings()


def document(*queries: str) -> dict:
    items = [{"type": 1, "name": "text", "content": {"json": "## requests by nothing"}}]
    items += [{"type": 3, "name": f"q{i}", "content": {"query": q}} for i, q in enumerate(queries)]
    return {"serializedData": json.dumps({"version": "Notebook/1.0", "items": items})}


def test_the_workbooks_own_queries_pass():
    data = workbook.serialized(stack="s", stages=[("idle", 0)], links={"edge": "/subscriptions/x"})
    assert workbook_queries_per_version({"serializedData": data}, SETTINGS) == []
    assert workbook_queries_per_version({"serializedData": UNKNOWN}, SETTINGS) == []


@pytest.mark.parametrize(
    ("query", "fragments"),
    [
        (
            'requests | where tostring(parse_url(url).Path) != "/health" | summarize count() by bin(timestamp, 5m)',
            ["item 1 ('q0') charts requests blended across versions"],
        ),
        ("requests | summarize count() by application_Version", ["item 1 ('q0') counts the health probes"]),
        (
            "let r = requests | summarize n = count() by bin(timestamp, 5m); r",
            ["blended across versions", "counts the health probes"],
        ),
    ],
)
def test_a_blended_or_probe_counting_chart_is_refused(query, fragments):
    messages = workbook_queries_per_version(document(query), SETTINGS)
    assert len(messages) == len(fragments)
    for message, fragment in zip(messages, fragments, strict=True):
        assert fragment in message


def test_a_query_over_another_table_is_not_judged():
    assert workbook_queries_per_version(document("traces | summarize count()"), SETTINGS) == []


@pytest.mark.parametrize("data", ["not json", json.dumps({"version": "Notebook/1.0"}), None])
def test_serialized_data_that_is_no_workbook_document_is_refused(data):
    (message,) = workbook_queries_per_version({"serializedData": data}, SETTINGS)
    assert message.startswith("workbook serializedData must be a workbook document with items")
