"""The rollout workbook: one per Azure stack, over its Application Insights, running the alerts' queries."""

import json
from pathlib import Path

import pytest

from stagewise.components.rollout_workbook import RolloutWorkbook, RolloutWorkbookArgs
from stagewise.core import alert_rules, workbook
from stagewise.tools.evaluate import evaluate_stack
from tests.components.conftest import only, refused_before_any_resource
from tests.components.test_traffic_manager_edge import production as trafficmanager_production

ROOT = Path(__file__).resolve().parents[2]
PROJECT = (ROOT / "Pulumi.yaml").read_text()
WORKBOOK = "azure-native:applicationinsights:Workbook"


def production_text(stage: str | None = None) -> str:
    text = (ROOT / "Pulumi.production.yaml").read_text()
    if stage is None:
        return text
    lines = text.splitlines(keepends=True)
    (at,) = [i for i, line in enumerate(lines) if line.lstrip().startswith("stage:")]
    indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
    lines[at] = f"{indent}stage: {stage}\n"
    return "".join(lines)


def the_workbook(text: str):
    return only(evaluate_stack(PROJECT, text, "production"), WORKBOOK)


@pytest.fixture(scope="module")
def book():
    return the_workbook(production_text())


def test_production_has_one_shared_workbook_over_its_application_insights(book):
    assert book.inputs["kind"] == "shared"
    assert book.inputs["category"] == "workbook"
    assert book.inputs["sourceId"] == "env-insights-id"
    assert book.inputs["resourceName"] == workbook.workbook_name("stagewise", "production")


def test_the_workbook_runs_the_alerts_queries_per_version_and_time_bin(book):
    data = json.loads(book.inputs["serializedData"])
    assert data["version"] == "Notebook/1.0"
    queries = {i["name"]: i["content"]["query"] for i in data["items"] if i["type"] == workbook.QUERY_ITEM}
    assert set(queries) == {"served-share", "requests", "error-share", "p95"}
    errors = alert_rules.per_version_query("error_share", "/health", 5)
    assert queries["error-share"].startswith(errors) and queries["requests"].startswith(errors)
    assert queries["p95"].startswith(alert_rules.per_version_query("p95_ms", "/health", 5))
    assert all("by application_Version, bin(timestamp, 5m)" in q for q in queries.values())
    # The alerts' query is the same text without the time bin.
    assert errors.replace(", bin(timestamp, 5m)", "") == alert_rules.ERROR_SHARE_QUERY


def test_the_workbook_lists_the_stages_and_links_the_edge_and_each_site(book):
    data = json.loads(book.inputs["serializedData"])
    texts = {i["name"]: i["content"]["json"] for i in data["items"] if i["type"] == workbook.TEXT_ITEM}
    assert "| canary |" in texts["stages"] and "| idle | 0 |" in texts["stages"]
    assert "[Front Door](https://portal.azure.com/#resourceedge-profile-id)" in texts["links"]
    assert "site westeurope \\(green\\)" in texts["links"]


def test_a_stage_change_leaves_the_workbook_as_it_is(book):
    """The stage is kept out of the document, so a stage change stays a change of traffic weights only."""
    moved = the_workbook(production_text("full"))
    assert moved.inputs == book.inputs


def test_a_catalogue_change_alters_only_the_serialized_content(book):
    """What may change the workbook changes only serializedData, which azure-native updates in place (see the
    component's comment); its name, source and kind stay."""
    text = production_text()
    assert "      weight: 5\n" in text, "Pulumi.production.yaml's canary moved; update this test's edit"
    changed = the_workbook(text.replace("      weight: 5\n", "      weight: 2\n", 1))
    assert {k for k in book.inputs if book.inputs[k] != changed.inputs.get(k)} == {"serializedData"}
    assert "| canary | 2 |" in changed.inputs["serializedData"]


def test_the_traffic_manager_edge_links_its_profile():
    ev = trafficmanager_production()
    texts = [i["content"].get("json", "") for i in json.loads(only(ev, WORKBOOK).inputs["serializedData"])["items"]]
    assert any("[Traffic Manager](https://portal.azure.com/#resource" in t for t in texts)


def args(**overrides) -> RolloutWorkbookArgs:
    values = dict(
        resource_group_name="rg",
        location="westeurope",
        workbook_name=workbook.workbook_name("p", "s"),
        display_name="p s: rollout",
        stack="s",
        insights_id="ai-id",
        stages=[("idle", 0), ("canary", 5)],
        links={"Front Door": "fd-id"},
        health_path="/health",
    )
    return RolloutWorkbookArgs(**{**values, **overrides})


def test_a_name_that_is_not_a_guid_is_refused_before_any_resource():
    refused_before_any_resource(lambda: RolloutWorkbook("wb", args(workbook_name="rollout")), "must be a GUID")


def test_the_name_is_a_stable_guid_per_stack():
    assert workbook.workbook_name("p", "s") == workbook.workbook_name("p", "s")
    assert workbook.workbook_name("p", "s") != workbook.workbook_name("p", "t")
    workbook.check_name(workbook.workbook_name("p", "s"))


def test_stage_names_are_shown_literally():
    assert "\\[x\\]\\(http://evil\\)" in workbook.stages_markdown("s", [("[x](http://evil)", 5)])


def test_the_served_share_is_each_versions_part_of_the_requests_in_its_bin():
    query = alert_rules.served_share_query("/health", 5)
    assert query.startswith(f"let served = {alert_rules.per_version_query('error_share', '/health', 5)};")
    assert "summarize total = sum(requests) by timestamp" in query
    assert query.endswith("share = round(100.0 * requests / total, 1)")


@pytest.mark.parametrize("minutes", [0, -5])
def test_a_time_bin_under_a_minute_is_refused(minutes):
    with pytest.raises(ValueError, match="bin_minutes"):
        alert_rules.per_version_query("p95_ms", "/health", minutes)
