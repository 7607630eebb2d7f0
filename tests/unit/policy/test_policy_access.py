"""Who may reach a web app: only this stack's Front Door, the deployers on the SCM site, no basic authentication."""

import pytest

from stagewise.policy.access import webapp_basic_auth_off, webapp_front_door_only, webapp_scm_restricted
from stagewise.policy.inputs import StackResource
from stagewise.policy.settings import Settings

SETTINGS = Settings()
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
FRONT_DOOR = {
    "name": "front-door",
    "action": "Allow",
    "tag": "ServiceTag",
    "ipAddress": "AzureFrontDoor.Backend",
    "headers": {"x-azure-fdid": ["fdid"]},
    "priority": 100,
}


def site(**config) -> dict:
    base = {
        "ipSecurityRestrictions": [FRONT_DOOR],
        "ipSecurityRestrictionsDefaultAction": "Deny",
        "scmIpSecurityRestrictions": [{"action": "Allow", "ipAddress": "203.0.113.7/32"}],
        "scmIpSecurityRestrictionsDefaultAction": "Deny",
        "scmIpSecurityRestrictionsUseMain": False,
    }
    return {"siteConfig": {**base, **config}}


def test_front_door_only_passes_the_profile_rule_a_parked_site_and_unknown_values():
    assert webapp_front_door_only(site(), SETTINGS) == []
    assert webapp_front_door_only(site(ipSecurityRestrictions=[]), SETTINGS) == []
    unknown_id = {**FRONT_DOOR, "headers": {"X-Azure-FDID": [UNKNOWN_STRING]}}
    assert webapp_front_door_only(site(ipSecurityRestrictions=[unknown_id]), SETTINGS) == []
    assert webapp_front_door_only(site(ipSecurityRestrictions=UNKNOWN_STRING), SETTINGS) == []


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        (
            {"ipSecurityRestrictionsDefaultAction": "Allow"},
            "ipSecurityRestrictionsDefaultAction to 'Deny' (got 'Allow')",
        ),
        ({"ipSecurityRestrictionsDefaultAction": None}, "(got not set)"),
        # The service tag alone admits every Front Door profile in Azure.
        ({"ipSecurityRestrictions": [{**FRONT_DOOR, "headers": None}]}, "'front-door' allows 'AzureFrontDoor.Backend'"),
        ({"ipSecurityRestrictions": [{**FRONT_DOOR, "headers": {"x-azure-fdid": []}}]}, "the only allow rule is"),
        ({"ipSecurityRestrictions": [{**FRONT_DOOR, "headers": {"x-forwarded-host": ["a"]}}]}, "the only allow rule"),
        ({"ipSecurityRestrictions": [{"name": "all", "ipAddress": "0.0.0.0/0"}]}, "'all' allows '0.0.0.0/0'"),
        ({"ipSecurityRestrictions": [{**FRONT_DOOR, "ipAddress": "AzureCloud"}]}, "allows 'AzureCloud'"),
    ],
)
def test_front_door_only_refuses_each_other_way_in(config, fragment):
    (message,) = webapp_front_door_only(site(**config), SETTINGS)
    assert fragment in message


def test_a_deny_rule_is_not_a_way_in():
    deny = {"action": "Deny", "ipAddress": "198.51.100.0/24"}
    assert webapp_front_door_only(site(ipSecurityRestrictions=[deny, FRONT_DOOR]), SETTINGS) == []


def test_scm_restricted_passes_the_deployers_and_none():
    assert webapp_scm_restricted(site(), SETTINGS) == []
    assert webapp_scm_restricted(site(scmIpSecurityRestrictions=[]), SETTINGS) == []


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({"scmIpSecurityRestrictionsUseMain": True}, "scmIpSecurityRestrictionsUseMain to false (got True)"),
        ({"scmIpSecurityRestrictionsDefaultAction": "Allow"}, "scmIpSecurityRestrictionsDefaultAction to 'Deny'"),
        ({"scmIpSecurityRestrictions": [{"name": "any", "ipAddress": "Any"}]}, "rule 'any' allows 'Any'"),
        ({"scmIpSecurityRestrictions": [{"name": "all", "ipAddress": "0.0.0.0/0"}]}, "allows '0.0.0.0/0'"),
        ({"scmIpSecurityRestrictions": [FRONT_DOOR]}, "rule 'front-door' allows 'AzureFrontDoor.Backend'"),
    ],
)
def test_scm_restricted_refuses_each_other_way_in(config, fragment):
    (message,) = webapp_scm_restricted(site(**config), SETTINGS)
    assert fragment in message


def resource(urn: str, type_: str, props: dict, name_from: str | None = None) -> StackResource:
    return StackResource(
        urn=urn,
        type=f"azure-native:web:{type_}",
        name=urn,
        props=props,
        property_dependencies={"name": (name_from,)} if name_from else {},
    )


def stack(allow: bool = False, leave_out: str = "") -> list[StackResource]:
    resources = [
        resource("app", "WebApp", {"name": "site"}),
        resource("slot", "WebAppSlot", {"name": "site", "slot": "green"}, "app"),
    ]
    for kind in ("Scm", "Ftp"):
        for suffix, extra in (("", {}), ("Slot", {"slot": "green"})):
            urn = f"{kind}{suffix}"
            if urn != leave_out:
                resources.append(
                    resource(urn, f"WebApp{kind}Allowed{suffix}", {"name": "site", "allow": allow, **extra}, "app")
                )
    return resources


def test_basic_auth_off_passes_both_flags_on_site_and_slot():
    assert webapp_basic_auth_off(stack()) == []


@pytest.mark.parametrize(
    ("leave_out", "fragment"),
    [
        (
            "Scm",
            "web app 'app' leaves SCM basic authentication on (the platform's default): declare a WebAppScmAllowed ",
        ),
        (
            "FtpSlot",
            "web app 'slot' leaves FTP basic authentication on (the platform's default): declare a WebAppFtpAllowedSlot",
        ),
    ],
)
def test_basic_auth_off_refuses_a_site_or_slot_without_its_flag(leave_out, fragment):
    (violation,) = webapp_basic_auth_off(stack(leave_out=leave_out))
    assert violation.message.startswith(fragment)


def test_basic_auth_off_refuses_a_flag_left_on():
    found = webapp_basic_auth_off(stack(allow=True))
    # Four flags on: each refused, and each site and slot left without a flag that is off.
    assert sum("must be off: set allow to false" in v.message for v in found) == 4
    assert sum("leaves" in v.message for v in found) == 4


def test_the_front_door_id_must_come_from_the_stacks_profile():
    from stagewise.policy.access import webapp_front_door_id_from_profile

    profile = StackResource(
        urn="profile", type="azure-native:cdn:Profile", name="edge-profile", props={}, property_dependencies={}
    )
    app = StackResource(
        urn="app",
        type="azure-native:web:WebApp",
        name="app",
        props=site(),
        property_dependencies={"siteConfig": ("profile",)},
    )
    assert webapp_front_door_id_from_profile([profile, app]) == []
    typed = StackResource(urn="app", type="azure-native:web:WebApp", name="app", props=site(), property_dependencies={})
    (violation,) = webapp_front_door_id_from_profile([profile, typed])
    assert "does not come from this stack's Front Door profile" in violation.message
    # A parked app admits no Front Door, so it needs no ID.
    parked = StackResource(
        urn="app",
        type="azure-native:web:WebApp",
        name="app",
        props=site(ipSecurityRestrictions=[]),
        property_dependencies={},
    )
    assert webapp_front_door_id_from_profile([profile, parked]) == []
