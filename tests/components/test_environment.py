from stagewise.components.environment import Environment, EnvironmentArgs
from tests.components.conftest import only

TAGS = {"environment": "dev", "project": "p", "stack": "s", "owner": "o", "cost-centre": "c"}


def test_resource_group_workspace_and_insights(record):
    ev = record(lambda: Environment("env", EnvironmentArgs(location="westeurope", tags=TAGS, protect=False)) and None)
    group = only(ev, "azure-native:resources:ResourceGroup")
    assert group.inputs["tags"] == TAGS and group.inputs["location"] == "westeurope"
    assert group.protect is False
    workspace = only(ev, "azure-native:operationalinsights:Workspace")
    insights = only(ev, "azure-native:applicationinsights:Component")
    assert insights.inputs["ingestionMode"] == "LogAnalytics"
    assert insights.inputs["workspaceResourceId"] == f"{workspace.name}-id"
    component = only(ev, "stagewise:environment:Environment")
    assert all(r.parent == component.urn for r in (group, workspace, insights))


def test_protect_guards_the_resource_group(record):
    ev = record(lambda: Environment("env", EnvironmentArgs(location="x", tags=TAGS, protect=True)) and None)
    assert only(ev, "azure-native:resources:ResourceGroup").protect is True


def test_two_environments_do_not_collide(record):
    def program():
        Environment("a", EnvironmentArgs(location="x", tags=TAGS, protect=False))
        Environment("b", EnvironmentArgs(location="x", tags=TAGS, protect=False))

    ev = record(program)
    assert len({r.urn for r in ev.resources}) == len(ev.resources) == 8
