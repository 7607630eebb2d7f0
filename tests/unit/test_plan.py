"""The offline plan's diff logic, on plain data."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stagewise.formats import stackfile
from stagewise.tools import plan, plandiff, render
from stagewise.tools.plan import MISSING, PROTECT, PropertyChange, ResourceState
from tests.plan_oracle import inverse

ENDPOINT = "azure-native:trafficmanager:Endpoint"
VAULT = "azure-native:keyvault:Vault"
WEBAPP = "azure-native:web:WebApp"
ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def res(name: str, type_: str = ENDPOINT, protect: bool = False, inputs: dict | None = None, **more) -> ResourceState:
    return ResourceState(
        urn=f"urn:pulumi:s::p::{type_}::{name}",
        type=type_,
        name=name,
        custom=True,
        protect=protect,
        inputs={**(inputs or {}), **more},
    )


def state(*resources: ResourceState) -> dict[str, ResourceState]:
    return {r.urn: r for r in resources}


@pytest.mark.parametrize(
    "before, after, expected",
    [
        ({"a": 1}, {"a": 1}, []),
        ({"a": 1}, {"a": 2}, [("a", 1, 2)]),
        ({"a": 1}, {}, [("a", 1, MISSING)]),
        ({}, {"a": 1}, [("a", MISSING, 1)]),
        ({"a": {"b": 1, "c": 2}}, {"a": {"b": 1, "c": 3}}, [("a.c", 2, 3)]),
        ({"a": [1, 2]}, {"a": [1, 3, 4]}, [("a[1]", 2, 3), ("a[2]", MISSING, 4)]),
        ({"a": [{"v": "x"}]}, {"a": [{"v": "y"}]}, [("a[0].v", "x", "y")]),
        ({"tags": {"cost.centre": "1"}}, {"tags": {"cost.centre": "2"}}, [('tags["cost.centre"]', "1", "2")]),
        ({"tags": {"cost-centre": "1"}}, {"tags": {"cost-centre": "2"}}, [("tags.cost-centre", "1", "2")]),
        # The engine hands numbers back as floats: 750.0 and 750 are the same weight.
        ({"weight": 750.0}, {"weight": 750}, []),
        # ...but a boolean is not a number.
        ({"enabled": True}, {"enabled": 1}, [("enabled", True, 1)]),
        ({"a": {"b": 1}}, {"a": "text"}, [("a", {"b": 1}, "text")]),
        ({"v": "[secret]"}, {"v": "[secret]"}, []),
        ({"v": "plain"}, {"v": "[secret]"}, [("v", "plain", "[secret]")]),
    ],
)
def test_property_diff(before, after, expected):
    assert [(c.path, c.before, c.after) for c in plandiff.property_diff(before, after)] == expected


@pytest.mark.parametrize(
    "type_, before, after, op, forcing",
    [
        (ENDPOINT, {"weight": 750}, {"weight": 500}, "update", ()),
        (ENDPOINT, {"endpointStatus": "Enabled"}, {"endpointStatus": "Disabled"}, "update", ()),
        (ENDPOINT, {"endpointName": "blue"}, {"endpointName": "teal"}, "replace", ("endpointName",)),
        (ENDPOINT, {"profileName": "p1"}, {"profileName": "p2"}, "replace", ("profileName",)),
        (VAULT, {"vaultName": "kv-a"}, {"vaultName": "kv-b"}, "replace", ("vaultName",)),
        (
            VAULT,
            {"properties": {"sku": {"name": "standard"}}},
            {"properties": {"sku": {"name": "premium"}}},
            "update",
            (),
        ),
        # The provider-wide rule applies to types with no entry of their own.
        (
            "azure-native:monitor:ActionGroup",
            {"location": "global"},
            {"location": "westeurope"},
            "replace",
            ("location",),
        ),
        ("azure-native:monitor:ActionGroup", {"groupShortName": "a"}, {"groupShortName": "b"}, "update", ()),
        (WEBAPP, {"kind": "app,linux"}, {"kind": "app"}, "replace", ("kind",)),
        (
            WEBAPP,
            {"siteConfig": {"linuxFxVersion": "DOCKER|x:1"}},
            {"siteConfig": {"linuxFxVersion": "DOCKER|x:2"}},
            "update",
            (),
        ),
        # A key that merely starts like a replacing one does not replace.
        (WEBAPP, {"locationHint": "a"}, {"locationHint": "b"}, "update", ()),
        (
            ROUTE,
            {"metadata": {"name": "r", "labels": {"a": "1"}}},
            {"metadata": {"name": "r", "labels": {"a": "2"}}},
            "update",
            (),
        ),
        (ROUTE, {"metadata": {"name": "r"}}, {"metadata": {"name": "s"}}, "replace", ("metadata.name",)),
        (
            DEPLOYMENT,
            {"metadata": {"namespace": "a"}},
            {"metadata": {"namespace": "b"}},
            "replace",
            ("metadata.namespace",),
        ),
        (DEPLOYMENT, {"spec": {"replicas": 1}}, {"spec": {"replicas": 2}}, "update", ()),
        ("random:index:RandomId", {"location": "a"}, {"location": "b"}, "update", ()),
    ],
)
def test_update_or_replace(type_, before, after, op, forcing):
    result = plandiff.diff(state(res("r", type_, **before)), state(res("r", type_, **after)))
    assert [(c.op, c.replace_keys) for c in result.changes] == [(op, forcing)]


def test_every_replace_rule_is_a_plain_property_path():
    for type_, keys in plandiff.REPLACE_ON.items():
        assert type_.count(":") == 2 or type_.endswith(":*"), type_
        for key in keys:
            assert key and not key.startswith(".") and "[" not in key, (type_, key)


def test_create_delete_and_unchanged():
    kept, gone, new = res("kept", weight=1), res("gone", WEBAPP, kind="app"), res("new", VAULT, vaultName="kv")
    result = plandiff.diff(state(kept, gone), state(kept, new))
    assert [(c.op, c.name) for c in result.changes] == [("create", "new"), ("delete", "gone")]
    assert result.counts() == {"create": 1, "update": 0, "replace": 0, "delete": 1}
    assert result.changes[0].diff == (PropertyChange("vaultName", MISSING, "kv"),)
    assert result.changes[1].diff == (PropertyChange("kind", "app", MISSING),)


def test_no_change_is_an_empty_plan():
    resources = state(res("a", weight=1), res("b", VAULT, vaultName="kv"))
    result = plandiff.diff(resources, dict(resources), {"url": "x"}, {"url": "x"})
    assert result.empty and result.changes == () and result.outputs == ()
    assert render.summary_line(result) == "no changes"


def test_protect_change_is_shown_and_deleting_a_protected_resource_is_refused():
    result = plandiff.diff(state(res("v", VAULT, protect=True, vaultName="kv")), state(res("v", VAULT, vaultName="kv")))
    (change,) = result.changes
    assert change.op == "update" and change.diff == (PropertyChange(PROTECT, True, False),)
    assert not change.refused

    deleted = plandiff.diff(state(res("v", VAULT, protect=True, vaultName="kv")), {})
    assert deleted.changes[0].refused
    replaced = plandiff.diff(
        state(res("v", VAULT, protect=True, vaultName="a")), state(res("v", VAULT, protect=True, vaultName="b"))
    )
    assert replaced.changes[0].op == "replace" and replaced.changes[0].refused
    created = plandiff.diff({}, state(res("v", VAULT, protect=True, vaultName="a")))
    assert not created.changes[0].refused


def test_traffic_only():
    endpoint_move = plandiff.diff(state(res("e", weight=750)), state(res("e", weight=500)))
    assert endpoint_move.traffic_only
    route_move = plandiff.diff(state(res("r", ROUTE, spec={"w": 1})), state(res("r", ROUTE, spec={"w": 2})))
    assert route_move.traffic_only
    site_change = plandiff.diff(
        state(res("e", weight=1), res("w", WEBAPP, x=1)), state(res("e", weight=2), res("w", WEBAPP, x=2))
    )
    assert not site_change.traffic_only
    endpoint_created = plandiff.diff({}, state(res("e", weight=1)))
    assert not endpoint_created.traffic_only
    assert not plan.Plan().traffic_only


def test_a_site_is_never_a_traffic_change_and_an_origin_is_one_through_weight_and_state_only():
    # A slot traffic rule is site configuration: changing it restarts the app, so it is not "traffic only".
    def site(rules, image="a:1"):
        return res("w", WEBAPP, siteConfig={"linuxFxVersion": image, "experiments": {"rampUpRules": rules}})

    rule = {"name": "green", "actionHostName": "s-green.azurewebsites.net", "reroutePercentage": 25}
    moved = plandiff.diff(state(site([rule])), state(site([{**rule, "reroutePercentage": 50}])))
    assert not moved.traffic_only
    origin = "azure-native:cdn:AFDOrigin"
    weighed = plandiff.diff(
        state(res("o", origin, weight=250, enabledState="Enabled", hostName="h")),
        state(res("o", origin, weight=500, enabledState="Disabled", hostName="h")),
    )
    assert weighed.traffic_only
    moved_host = plandiff.diff(
        state(res("o", origin, weight=250, hostName="h")), state(res("o", origin, weight=500, hostName="i"))
    )
    assert not moved_host.traffic_only


def test_outputs_are_compared_whole_and_secret_outputs_masked():
    before = {"traffic": {"blue": 75, "green": 25}, "key": "s3cret", "same": "k1", "url": "u"}
    after = {"traffic": {"blue": 50, "green": 50}, "key": "other", "same": "k1", "new": 1}
    result = plandiff.diff({}, {}, before, after, secret_outputs={"key", "same"})
    assert [(c.path, c.before, c.after) for c in result.outputs] == [
        ("traffic", {"blue": 75, "green": 25}, {"blue": 50, "green": 50}),
        ("key", "[secret]", "[secret]"),
        ("url", "u", MISSING),
        ("new", MISSING, 1),
    ]
    assert "s3cret" not in json.dumps(result.to_dict()) and "other" not in json.dumps(result.to_dict())


def test_a_secret_that_changed_behind_the_mask_is_an_update():
    def secret_res(digests):
        return ResourceState(
            "urn:w", WEBAPP, "w", True, False, {"siteConfig": "[secret]", "tags": {"a": "[secret]"}}, digests
        )

    same = plandiff.diff(
        state(secret_res({("siteConfig",): "d1", ("tags", "a"): "t"})),
        state(secret_res({("siteConfig",): "d1", ("tags", "a"): "t"})),
    )
    assert same.empty
    changed = plandiff.diff(
        state(secret_res({("siteConfig",): "d1", ("tags", "a"): "t"})),
        state(secret_res({("siteConfig",): "d2", ("tags", "a"): "u"})),
    )
    (change,) = changed.changes
    assert change.op == "update"
    assert change.diff == (
        PropertyChange("siteConfig", "[secret]", "[secret]"),
        PropertyChange("tags.a", "[secret]", "[secret]"),
    )
    assert render.property_line(change.diff[0]) == "~ siteConfig: [secret] => [secret]"


def test_json_shows_integral_numbers_as_integers_and_marks_refusals():
    result = plandiff.diff(
        state(res("e", weight=750.0), res("v", VAULT, protect=True, vaultName="kv")), state(res("e", weight=500.0))
    )
    data = result.to_dict()
    assert data["summary"] == {"create": 0, "update": 1, "replace": 0, "delete": 1, "outputs": 0, "secrets": 0}
    update, delete = data["changes"]
    assert update["diff"] == [{"path": "weight", "kind": "update", "before": 750, "after": 500}]
    assert delete["protected"] is True and update["protected"] is False
    assert data["trafficOnly"] is False


def test_rendered_lines():
    assert render.property_line(PropertyChange("weight", 750.0, 500.0)) == "~ weight: 750 => 500"
    assert render.property_line(PropertyChange("value", "[secret]", MISSING)) == "- value: [secret]"
    assert render.property_line(PropertyChange("tags", MISSING, {"a": "b"})) == '+ tags: {"a": "b"}'


def test_markdown_lists_every_change_and_note():
    result = plandiff.diff(
        state(res("e", weight=750), res("old", WEBAPP, kind="a")),
        state(res("e", weight=500), res("new", VAULT, vaultName="kv")),
        notes=["something the plan cannot see"],
    )
    text = render.markdown(result, "Plan for test")
    assert text.startswith("### Plan for test\n")
    assert "| ~ update | `e` |" in text and "| + create | `new` |" in text and "| - delete | `old` |" in text
    assert "    ~ weight: 750 => 500" in text
    assert "> something the plan cannot see" in text
    assert "**1 to create, 1 to update, 1 to delete**" in text


def test_ciphertexts_and_changed_secrets():
    config = {
        "stagewise:secrets": {"a": {"secure": "v1:AAA"}, "b": {"secure": "v1:BBB"}},
        "stagewise:owner": "team",
        "other:list": [{"secure": "v1:CCC"}],
    }
    found = stackfile.ciphertexts(config)
    assert found == {"stagewise:secrets.a": "v1:AAA", "stagewise:secrets.b": "v1:BBB", "other:list[0]": "v1:CCC"}
    changed = {**found, "stagewise:secrets.b": "v1:XXX", "stagewise:secrets.c": "v1:NEW"}
    del changed["other:list[0]"]
    assert plandiff.secrets_changed(found, changed) == ["stagewise:secrets.b"]
    assert plandiff.secrets_changed(found, found) == []


def test_a_changed_secret_is_a_change_even_with_no_visible_difference():
    result = plandiff.diff({}, {}, secrets_changed=["stagewise:secrets.b"])
    assert not result.empty
    assert render.summary_line(result) == "1 secret changed"
    assert result.to_dict()["secretsChanged"] == ["stagewise:secrets.b"]
    assert "~ stagewise:secrets.b: the encrypted value changed" in render.markdown(result, "t")


# Going back is the exact inverse of going forward, whatever the two states are.

# Integers start at 2: True == 1 in Python, but the plan rightly tells them apart.
_values = st.recursive(
    st.one_of(st.integers(2, 6), st.sampled_from(["a", "b", "[secret]"]), st.booleans()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["x", "y", "z.w"]), inner, max_size=3)
    ),
    max_leaves=6,
)
_inputs = st.dictionaries(st.sampled_from(["weight", "location", "name", "tags", "vaultName"]), _values, max_size=4)
_states = st.dictionaries(
    st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.sampled_from([ENDPOINT, VAULT, WEBAPP, ROUTE])),
    st.tuples(st.booleans(), _inputs),
    max_size=4,
).map(lambda d: state(*(res(n, t, protect=p, inputs=i) for (n, t), (p, i) in d.items())))


@settings(max_examples=150, deadline=None)
@given(_states, _states)
def test_plan_back_is_the_inverse_of_plan_forward(a, b):
    forward, back = plandiff.diff(a, b), plandiff.diff(b, a)
    assert {c.urn: c for c in back.changes} == {c.urn: c for c in inverse(forward).changes}
    assert inverse(inverse(forward)) == forward
    assert forward.empty == (a == b)


def test_changes_come_in_urn_order_with_deletes_last_whatever_the_registration_order():
    a, b, c, d = (res(n, weight=1) for n in "abcd")
    moved = {r.urn: replace_weight(r) for r in (c, a)}
    result = plandiff.diff(state(d, c, b, a), {**moved, **state(res("e", weight=1))})
    assert [(x.op, x.name) for x in result.changes] == [
        ("update", "a"),
        ("update", "c"),
        ("create", "e"),
        ("delete", "b"),
        ("delete", "d"),
    ]


def replace_weight(r: ResourceState) -> ResourceState:
    return ResourceState(r.urn, r.type, r.name, r.custom, r.protect, {"weight": 2})


def test_a_secret_removed_from_the_stack_is_noted_as_kept_in_the_vault():
    secret = "azure-native:keyvault:Secret"
    removed = plandiff.diff(state(res("kv-old-name", secret, secretName="old-name")), {})
    assert [c.op for c in removed.changes] == ["delete"]
    assert len(removed.notes) == 1 and removed.notes[0].startswith("kv-old-name: the secret leaves the stack but stays")
    assert plandiff.diff(state(res("e", weight=1)), {}).notes == ()


def test_a_change_of_soft_delete_retention_is_noted_as_one_azure_refuses():
    vault = "azure-native:keyvault:Vault"
    changed = plandiff.diff(
        state(res("kv", vault, vaultName="kv-1", properties={"softDeleteRetentionInDays": 90})),
        state(res("kv", vault, vaultName="kv-1", properties={"softDeleteRetentionInDays": 30})),
    )
    assert [c.op for c in changed.changes] == ["update"]
    (note,) = changed.notes
    assert (
        note.startswith("kv: properties.softDeleteRetentionInDays changes, but")
        and "can't be changed afterwards" in note
    )
    renamed = plandiff.diff(
        state(res("kv", vault, vaultName="kv-1", properties={"softDeleteRetentionInDays": 90})),
        state(res("kv", vault, vaultName="kv-2", properties={"softDeleteRetentionInDays": 30})),
    )
    assert [c.op for c in renamed.changes] == ["replace"] and renamed.notes == ()


def test_a_site_that_stops_admitting_front_door_is_noted_with_the_time_until_no_edge_routes_to_it():
    door = [{"tag": "ServiceTag", "ipAddress": "AzureFrontDoor.Backend", "headers": {"x-azure-fdid": ["id"]}}]
    group = res("edge-origins", "azure-native:cdn:AFDOriginGroup", healthProbeSettings={"probeIntervalInSeconds": 10})
    slot = "azure-native:web:WebAppSlot"
    before = state(group, res("web-green", slot, siteConfig={"ipSecurityRestrictions": door}))
    after = state(group, res("web-green", slot, siteConfig={"ipSecurityRestrictions": []}))
    (note,) = plandiff.diff(before, after).notes
    assert note.startswith("web-green: parked, it answers no request from now on")
    assert "within 20 s (two failed probes at 10 s)" in note
    # Back the other way (a deploy, or a revert of the abort): no note.
    assert plandiff.diff(after, before).notes == ()


def test_an_image_moving_to_another_registry_is_noted_so_its_tags_are_pushed_first():
    def site(image: str) -> dict[str, ResourceState]:
        return state(res("web-app", WEBAPP, siteConfig={"linuxFxVersion": f"DOCKER|{image}"}))

    (note,) = plandiff.diff(site("stagewise/demo-app:1.4.2"), site("reg1.azurecr.io/stagewise/demo-app:1.4.2")).notes
    assert note.startswith("web-app: its image moves from Docker Hub to reg1.azurecr.io, and App Service pulls")
    # A new tag on the same registry is a deploy, not a move.
    assert plandiff.diff(site("reg1.azurecr.io/a:1.4.2"), site("reg1.azurecr.io/a:1.5.0")).notes == ()
