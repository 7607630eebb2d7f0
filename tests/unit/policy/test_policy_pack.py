"""The pack as the engine drives it: requests go through pulumi_policy's analyzer service, which
deserializes inputs and wraps them in its unknown-checking proxy before our policies see them."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from google.protobuf import struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer
from pulumi_policy.proxy import unknown_checking_proxy

from stagewise.policy.policies import CONFIG_SCHEMA, PACK_NAME, STACK_RULES, plain, policies
from stagewise.policy.resource_types import (
    APP_SETTINGS_RESOURCES,
    AUTOSCALE_SETTING,
    KEY_VAULT,
    ROLE_ASSIGNMENT,
    SCHEDULED_QUERY_RULE,
    SUBNET,
    TRAFFIC_MANAGER_ENDPOINT,
    TRAFFIC_MANAGER_PROFILE,
    USER_ASSIGNED_IDENTITY,
    WEB_APPS,
)
from stagewise.policy.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
REFERENCE = "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/jwt-secret/)"


def servicer(config: dict | None = None) -> _PolicyAnalyzerServicer:
    service = _PolicyAnalyzerServicer(PACK_NAME, "0.1.0", policies(), EnforcementLevel.MANDATORY)
    if config:
        request = proto.ConfigureAnalyzerRequest()
        for policy_name, properties in config.items():
            entry = request.policyConfig[policy_name]
            entry.enforcementLevel = proto.MANDATORY
            entry.properties.update(properties)
        service.Configure(request, None)
    return service


def struct(props: dict) -> struct_pb2.Struct:
    value = struct_pb2.Struct()
    value.update(props)
    return value


def analyze(resource_type: str, props: dict, config: dict | None = None) -> dict[str, list[str]]:
    """policy name -> violation messages (the SDK prefixes each with the policy's description)."""
    request = proto.AnalyzeRequest(
        type=resource_type, properties=struct(props), urn=f"urn:x::{resource_type}::r", name="r"
    )
    response = servicer(config).Analyze(request, None)
    found: dict[str, list[str]] = {}
    for d in response.diagnostics:
        found.setdefault(d.policyName, []).append(d.message.split("\n", 1)[1] if "\n" in d.message else d.message)
    return found


TAGS = {"environment": "production", "owner": "platform-team", "cost-centre": "cc-1"}


def compliant_webapp() -> dict:
    return {
        "httpsOnly": True,
        "identity": {"type": "SystemAssigned"},
        "siteConfig": {
            "minTlsVersion": "1.2",
            "ftpsState": "Disabled",
            "appSettings": [{"name": "JWT_SECRET", "value": REFERENCE}],
            "ipSecurityRestrictions": [
                {
                    "action": "Allow",
                    "tag": "ServiceTag",
                    "ipAddress": "AzureFrontDoor.Backend",
                    "headers": {"x-azure-fdid": ["00000000-0000-0000-0000-000000000001"]},
                }
            ],
            "ipSecurityRestrictionsDefaultAction": "Deny",
            "scmIpSecurityRestrictionsDefaultAction": "Deny",
            "scmIpSecurityRestrictionsUseMain": False,
        },
        "tags": TAGS,
    }


def test_policy_names_are_unique():
    names = [p.name for p in policies()]
    assert len(names) == len(set(names))


def test_only_required_tags_is_advisory():
    levels = {p.name: p.enforcement_level for p in policies()}
    assert {n for n, level in levels.items() if level != EnforcementLevel.MANDATORY} == {"required-tags"}


def test_config_schema_defaults_are_the_rule_defaults():
    assert Settings.from_config({k: s["default"] for k, s in CONFIG_SCHEMA.items()}) == Settings()


def test_every_config_key_is_read_by_the_rules():
    assert set(CONFIG_SCHEMA) == set(Settings.CONFIG_KEYS)


def test_compliant_web_app_has_no_violations():
    assert analyze("azure-native:web:WebApp", compliant_webapp()) == {}


@pytest.mark.parametrize("resource_type", ["azure-native:web:WebApp", "azure-native:web:WebAppSlot"])
def test_non_compliant_web_app_and_slot_violate_each_web_policy(resource_type):
    props = {
        "httpsOnly": False,
        "siteConfig": {
            "minTlsVersion": "1.0",
            "ftpsState": "AllAllowed",
            "appSettings": [{"name": "DB_PASSWORD", "value": "p4ssw0rd!"}],
        },
        "tags": TAGS,
    }
    assert set(analyze(resource_type, props)) == {
        "webapp-https-only",
        "webapp-min-tls",
        "webapp-ftps-disabled",
        "webapp-managed-identity",
        "webapp-no-plaintext-secrets",
        # webapp-front-door-only is a stack policy now (it holds on the frontDoor edge only): tests/unit/policy/test_policy_edges.py
        "webapp-scm-restricted",
    }


def test_violation_message_reaches_the_engine_after_the_description():
    request = proto.AnalyzeRequest(
        type="azure-native:web:WebApp", properties=struct({**compliant_webapp(), "httpsOnly": False}), urn="u", name="r"
    )
    [diagnostic] = servicer().Analyze(request, None).diagnostics
    assert diagnostic.message == (
        "Web apps and slots serve HTTPS only.\nweb app must redirect HTTP to HTTPS: set httpsOnly to true (got False)"
    )
    assert diagnostic.enforcementLevel == proto.MANDATORY


def test_unknown_value_skips_only_that_value():
    # The SDK would raise on the first unknown it hands out and report "can't run policy";
    # the pack unwraps its proxy so the other settings are still checked.
    props = compliant_webapp()
    props["siteConfig"]["appSettings"] = [
        {"name": "JWT_SECRET", "value": UNKNOWN_STRING},
        {"name": "DB_PASSWORD", "value": "p4ssw0rd!"},
    ]
    found = analyze("azure-native:web:WebApp", props)
    assert list(found) == ["webapp-no-plaintext-secrets"]
    assert found["webapp-no-plaintext-secrets"][0].startswith("app setting 'DB_PASSWORD'")


# The types each policy is wired to: current azure-native v3 tokens and their v2 aliases.
WIRING = {
    "keyvault-rbac-authorization": ("azure-native:keyvault:Vault", {"properties": {}, "tags": TAGS}),
    "autoscale-production-minimum": (
        "azure-native:monitor:AutoscaleSetting",
        {"profiles": [{"capacity": {"minimum": "1"}}], "tags": TAGS},
    ),
    "traffic-manager-production-ttl": (
        "azure-native:trafficmanager:Profile",
        {"dnsConfig": {"ttl": 300}, "monitorConfig": {"path": "/health"}, "tags": TAGS},
    ),
    "traffic-manager-endpoint-weight": ("azure-native:trafficmanager:Endpoint", {"weight": 0}),
    "kubernetes-readiness-probe": (
        "kubernetes:apps/v1:Deployment",
        {"spec": {"template": {"spec": {"containers": [{"name": "app"}]}}}},
    ),
    "kubernetes-hpa-min-replicas": ("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", {"spec": {"minReplicas": 1}}),
    "webapp-no-plaintext-secrets": (
        "azure-native:web:WebAppApplicationSettings",
        {"properties": {"DB_PASSWORD": "x1y2z3!"}},
    ),
    "required-tags": ("azure-native:web:AppServicePlan", {"tags": {"environment": "dev"}}),
    "webapp-slot-rule-percentage": (
        "azure-native:web:WebApp",
        {
            **compliant_webapp(),
            "siteConfig": {
                **compliant_webapp()["siteConfig"],
                "experiments": {"rampUpRules": [{"reroutePercentage": 0}]},
            },
        },
    ),
    "webapp-slot-rule-target": (
        "azure-native:web:WebApp",
        {
            **compliant_webapp(),
            "name": "site",
            "siteConfig": {
                **compliant_webapp()["siteConfig"],
                "experiments": {
                    "rampUpRules": [{"reroutePercentage": 5, "actionHostName": "other-green.azurewebsites.net"}]
                },
            },
        },
    ),
    "log-alert-split-by-version": (
        "azure-native:monitor:ScheduledQueryRule",
        {"criteria": {"allOf": [{"query": 'requests | where url != "/health" | summarize n = count()'}]}, "tags": TAGS},
    ),
    "log-alert-excludes-health-probe": (
        "azure-native:monitor:ScheduledQueryRule",
        {
            "criteria": {
                "allOf": [
                    {
                        "query": "requests | summarize n = count() by application_Version",
                        "dimensions": [{"name": "application_Version", "operator": "Include"}],
                    }
                ]
            },
            "tags": TAGS,
        },
    ),
}


@pytest.mark.parametrize("policy_name", WIRING)
def test_policy_is_wired_to_its_resource_type(policy_name):
    resource_type, props = WIRING[policy_name]
    assert policy_name in analyze(resource_type, props)


@pytest.mark.parametrize(
    ("legacy", "props"),
    [
        ("azure-native:insights:AutoscaleSetting", {"profiles": [{"capacity": {"minimum": "1"}}], "tags": TAGS}),
        ("azure-native:network:Profile", {"dnsConfig": {"ttl": 300}, "tags": TAGS}),
        ("azure-native:network:Endpoint", {"weight": 0}),
    ],
)
def test_v2_type_aliases_are_checked_too(legacy, props):
    assert analyze(legacy, props) != {}


@pytest.mark.parametrize(
    ("module", "tokens"),
    [
        ("pulumi_azure_native.keyvault.vault", KEY_VAULT),
        ("pulumi_azure_native.web.web_app", WEB_APPS),
        ("pulumi_azure_native.web.web_app_slot", WEB_APPS),
        ("pulumi_azure_native.web.web_app_application_settings", APP_SETTINGS_RESOURCES),
        ("pulumi_azure_native.monitor.autoscale_setting", AUTOSCALE_SETTING),
        ("pulumi_azure_native.trafficmanager.profile", TRAFFIC_MANAGER_PROFILE),
        ("pulumi_azure_native.trafficmanager.endpoint", TRAFFIC_MANAGER_ENDPOINT),
        ("pulumi_azure_native.monitor.scheduled_query_rule", SCHEDULED_QUERY_RULE),
        ("pulumi_azure_native.network.subnet", SUBNET),
        ("pulumi_azure_native.managedidentity.user_assigned_identity", USER_ASSIGNED_IDENTITY),
        ("pulumi_azure_native.authorization.role_assignment", ROLE_ASSIGNMENT),
    ],
)
def test_rules_know_the_type_token_the_pinned_sdk_registers(module, tokens):
    # Read, not imported: the token is what the resource class passes to the engine.
    source = Path(importlib.util.find_spec(module).origin).read_text()
    registered = re.search(r"super\(\w+, __self__\).__init__\(\s*'([^']+)'", source).group(1)
    assert registered in tokens


def test_policy_config_reaches_the_rule():
    props = {"profiles": [{"capacity": {"minimum": "4"}}], "tags": TAGS}
    assert analyze("azure-native:monitor:AutoscaleSetting", props) == {}
    found = analyze(
        "azure-native:monitor:AutoscaleSetting", props, config={"autoscale-production-minimum": {"minimumInstances": 5}}
    )
    assert "must keep at least 5 instances" in found["autoscale-production-minimum"][0]


def stack_request(*resources: tuple[str, str, dict, dict]) -> proto.AnalyzeStackRequest:
    request = proto.AnalyzeStackRequest()
    for urn, resource_type, props, deps in resources:
        resource = request.resources.add(
            urn=urn, type=resource_type, name=urn.rsplit("::", 1)[1], properties=struct(props)
        )
        for key, urns in deps.items():
            resource.propertyDependencies[key].urns.extend(urns)
    return request


def test_stack_policy_sees_endpoints_through_property_dependencies():
    profile_urn = "urn:pulumi:production::stagewise::azure-native:trafficmanager:Profile::traffic-profile"
    endpoint = (
        "azure-native:trafficmanager:Endpoint",
        {"profileName": UNKNOWN_STRING, "weight": 1, "endpointStatus": "Disabled"},
    )
    request = stack_request(
        (profile_urn, "azure-native:trafficmanager:Profile", {"tags": TAGS}, {}),
        (
            "urn:pulumi:production::stagewise::azure-native:trafficmanager:Endpoint::blue",
            *endpoint,
            {"profileName": [profile_urn]},
        ),
        (
            "urn:pulumi:production::stagewise::azure-native:trafficmanager:Endpoint::green",
            *endpoint,
            {"profileName": [profile_urn]},
        ),
    )
    [diagnostic] = servicer().AnalyzeStack(request, None).diagnostics
    assert diagnostic.policyName == "traffic-manager-enabled-endpoint"
    assert diagnostic.urn == profile_urn


def test_every_stack_rule_is_a_mandatory_stack_policy():
    stack_policies = {p.name for p in policies() if p.name in STACK_RULES}
    assert stack_policies == set(STACK_RULES)


@pytest.mark.parametrize(
    "name",
    [
        "traffic-manager-one-web-app-per-region",
        "keyvault-firewall-allows-app-subnets",
        "keyvault-reference-identity-granted-first",
        "webapp-integration-subnet-delegated",
        "webapp-integration-subnet-one-plan",
        "webapp-integration-subnet-same-region",
        "webapp-slot-rule-percentage",
        "webapp-slot-rule-target",
        "log-alert-split-by-version",
        "log-alert-excludes-health-probe",
        "webapp-image-pull-path",
        "webapp-no-slot-traffic-rule",
        "webapp-waits-for-effective-grants",
        "webapp-references-checked",
        "frontdoor-origin-weight",
        "frontdoor-origin-priority",
        "frontdoor-weights-take-effect",
        "frontdoor-origin-host-header",
        "webapp-front-door-only",
        "webapp-traffic-manager-probes",
        "webapp-scm-restricted",
        "webapp-basic-auth-off",
        "traffic-manager-weighted",
        "traffic-manager-probe-pinned",
    ],
)
def test_each_platform_policy_names_its_microsoft_doc(name):
    (policy,) = [p for p in policies() if p.name == name]
    assert re.search(r"[a-z-]+/[a-z0-9-]+\.md", policy.description), policy.description


def test_stack_policy_sees_dependencies_the_engine_sends():
    identity = "urn:pulumi:p::s::azure-native:managedidentity:UserAssignedIdentity::app-id"
    grant = "urn:pulumi:p::s::azure-native:authorization:RoleAssignment::reader"
    site = "urn:pulumi:p::s::azure-native:web:WebApp::site"
    wait = "urn:pulumi:p::s::pulumi-python:dynamic:Resource::grants-wait"
    check = "urn:pulumi:p::s::pulumi-python:dynamic:Resource::references-resolved"
    app = {**compliant_webapp(), "keyVaultReferenceIdentity": UNKNOWN_STRING}

    def request(site_dependencies):
        made = stack_request(
            (identity, "azure-native:managedidentity:UserAssignedIdentity", {"tags": TAGS}, {}),
            (
                grant,
                "azure-native:authorization:RoleAssignment",
                {"principalId": UNKNOWN_STRING},
                {"principalId": [identity]},
            ),
            (site, "azure-native:web:WebApp", app, {"keyVaultReferenceIdentity": [identity]}),
            (wait, "pulumi-python:dynamic:Resource", {"grants": [UNKNOWN_STRING], "propagationSeconds": 600.0}, {}),
            (
                check,
                "pulumi-python:dynamic:Resource",
                {"siteIds": [UNKNOWN_STRING], "settings": ["JWT_SECRET"]},
                {"siteIds": [site]},
            ),
            # Basic authentication off on the site (policy webapp-basic-auth-off), both flags naming it.
            (f"{site}-scm", "azure-native:web:WebAppScmAllowed", {"name": "site", "allow": False}, {"name": [site]}),
            (f"{site}-ftp", "azure-native:web:WebAppFtpAllowed", {"name": "site", "allow": False}, {"name": [site]}),
        )
        made.resources[2].dependencies.extend(site_dependencies)
        made.resources[3].dependencies.append(grant)
        return made

    assert servicer().AnalyzeStack(request([identity, grant, wait]), None).diagnostics == []
    [diagnostic] = servicer().AnalyzeStack(request([identity, wait]), None).diagnostics
    assert diagnostic.policyName == "keyvault-reference-identity-granted-first" and diagnostic.urn == site
    [diagnostic] = servicer().AnalyzeStack(request([identity, grant]), None).diagnostics
    assert diagnostic.policyName == "webapp-waits-for-effective-grants" and diagnostic.urn == site


def test_plain_unwraps_the_sdk_proxy_without_raising_on_unknowns():
    raw = {"a": [{"b": UNKNOWN_STRING}], "c": {"d": 1.0}}
    assert plain(unknown_checking_proxy(raw)) == raw


def test_pack_project_file_uses_the_repository_environment():
    project = yaml.safe_load((ROOT / "policy" / "PulumiPolicy.yaml").read_text())
    assert project["runtime"]["name"] == "python"
    assert (ROOT / "policy" / project["runtime"]["options"]["virtualenv"]).resolve() == ROOT / ".venv"


def test_entry_point_starts_the_analyzer_server():
    # The language host runs `python policy/` and reads the port from the first line of stdout.
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "policy")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd="/"
    )
    try:
        line = process.stdout.readline().decode()
        assert re.fullmatch(r"\d+\n", line), process.stderr.read1().decode() if process.poll() is not None else line
    finally:
        process.kill()
        process.wait()


SECRET_SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}


def test_secret_wrapped_inputs_are_checked_through_the_secret():
    # One secret app setting makes the program send the whole siteConfig as a secret; the
    # policies must still see inside it.
    props = compliant_webapp()
    props["siteConfig"] = {**SECRET_SIG, "value": {**props["siteConfig"], "minTlsVersion": "1.0"}}
    assert list(analyze("azure-native:web:WebApp", props)) == ["webapp-min-tls"]
