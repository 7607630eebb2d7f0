"""workbook-per-environment: one workbook per Application Insights component, reading that component."""

from stagewise.policy.inputs import StackResource
from stagewise.policy.monitoring import workbook_per_environment

INSIGHTS = "urn:insights"


def component(urn: str = INSIGHTS) -> StackResource:
    return StackResource(urn, "azure-native:applicationinsights:Component", urn.split(":")[-1], {}, {})


def workbook(name: str, source: str | None = INSIGHTS, type_: str = "azure-native:applicationinsights:Workbook"):
    deps = {"sourceId": [source]} if source else {}
    return StackResource(f"urn:{name}", type_, name, {"sourceId": "id-from-elsewhere"}, deps)


def test_one_workbook_over_the_component_passes():
    assert workbook_per_environment([component(), workbook("dashboard")]) == []
    # The v2 token, still an alias of the same resource.
    assert workbook_per_environment([component(), workbook("dashboard", type_="azure-native:insights:Workbook")]) == []


def test_a_stack_without_application_insights_needs_no_workbook():
    assert workbook_per_environment([]) == []


def test_a_component_without_a_workbook_is_refused():
    (violation,) = workbook_per_environment([component()])
    assert violation.urn == INSIGHTS
    assert "must have exactly one workbook" in violation.message and "found 0" in violation.message


def test_two_workbooks_over_one_component_are_refused():
    (violation,) = workbook_per_environment([component(), workbook("a"), workbook("b")])
    assert violation.urn == INSIGHTS and "found 2: 'a', 'b'" in violation.message


def test_a_workbook_over_something_else_is_refused_and_leaves_the_component_without_one():
    violations = workbook_per_environment([component(), workbook("stray", source=None)])
    assert sorted(v.urn for v in violations) == [INSIGHTS, "urn:stray"]
    (stray,) = [v for v in violations if v.urn == "urn:stray"]
    assert "set sourceId to the component's id (got 'id-from-elsewhere')" in stray.message
