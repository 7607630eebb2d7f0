"""Each Azure stack file, evaluated by the real program under mocks."""

from collections import Counter
from pathlib import Path

import pytest

from stagewise import stackfile
from stagewise.config import ConfigError
from stagewise.evaluate import SECRET, Evaluation, evaluate_stack, run

ROOT = Path(__file__).resolve().parents[2]
PROJECT = (ROOT / "Pulumi.yaml").read_text()


def evaluate(stack: str) -> Evaluation:
    return evaluate_stack(PROJECT, (ROOT / f"Pulumi.{stack}.yaml").read_text(), stack)


def types(ev: Evaluation) -> Counter:
    return Counter(r.type.split(":")[-1] for r in ev.resources if r.custom)


COMMON = {"ResourceGroup": 1, "Workspace": 1, "Component": 1, "AppServicePlan": 1, "WebApp": 1, "WebAppSlot": 1,
          "WebAppSlotConfigurationNames": 1, "Vault": 1, "RoleAssignment": 2, "Profile": 1, "Endpoint": 2,
          "ActionGroup": 1, "ScheduledQueryRule": 4, "MetricAlert": 2}


@pytest.mark.parametrize(("stack", "extra"), [
    ("dev", {"Secret": 1}),
    ("staging", {"Secret": 2}),
    ("production", {"Secret": 4, "AutoscaleSetting": 1}),
])
def test_stack_evaluates_to_the_expected_resources(stack, extra):
    assert types(evaluate(stack)) == Counter(COMMON | extra)


def test_production_declares_the_four_secrets_and_protects_group_and_vault():
    ev = evaluate("production")
    assert sorted(r.inputs["secretName"] for r in ev.of_type("azure-native:keyvault:Secret")) == [
        "api-keys", "database-connection-string", "external-service-credentials", "jwt-secret"]
    protected = sorted(r.type for r in ev.resources if r.protect)
    assert protected == ["azure-native:keyvault:Vault", "azure-native:resources:ResourceGroup"]


def test_production_is_mid_rollout_at_25_percent():
    ev = evaluate("production")
    weights = {e.inputs["endpointName"]: (e.inputs["weight"], e.inputs["endpointStatus"])
               for e in ev.of_type("azure-native:trafficmanager:Endpoint")}
    assert weights == {"blue": (750, "Enabled"), "green": (250, "Enabled")}
    assert ev.outputs["traffic"] == {"blue": 75, "green": 25}


def test_dev_has_no_autoscale_and_debug_logs():
    ev = evaluate("dev")
    assert not ev.of_type("azure-native:monitor:AutoscaleSetting")
    (app,) = ev.of_type("azure-native:web:WebApp")
    assert {"name": "LOG_LEVEL", "value": "debug"} in app.inputs["siteConfig"]["appSettings"]


def test_app_settings_reference_key_vault_never_values():
    ev = evaluate("production")
    (app,) = ev.of_type("azure-native:web:WebApp")
    settings = {s["name"]: s["value"] for s in app.inputs["siteConfig"]["appSettings"]}
    assert settings["JWT_SECRET"].startswith("@Microsoft.KeyVault(SecretUri=https://kv-production-")
    assert settings["JWT_SECRET"].endswith("/secrets/jwt-secret/)")


def test_secret_values_never_leave_secret_inputs_or_outputs():
    stack_text = (ROOT / "Pulumi.production.yaml").read_text()
    config, secret_keys = stackfile.stack_config(PROJECT, stack_text, "Pulumi.production.yaml")
    values = {name: f"plaintext-{name}-value" for name in config["stagewise:secrets"]}
    config["stagewise:secrets"] = values

    from infra import program, settings

    ev = run(lambda: program.build_stack(settings.load(encrypted=set(values))), config, secret_keys,
             stack="production")
    recorded = repr([r.inputs for r in ev.resources]) + repr(ev.outputs)
    for value in values.values():
        assert value not in recorded
    assert [r.inputs["properties"] for r in ev.of_type("azure-native:keyvault:Secret")] == [SECRET] * 4


def test_bad_config_is_refused_before_any_resource():
    stack_text = (ROOT / "Pulumi.production.yaml").read_text().replace("stage: quarter", "stage: quater")
    config, secret_keys = stackfile.stack_config(PROJECT, stack_text, "Pulumi.production.yaml")
    from infra import program, settings

    evaluation = Evaluation()
    with pytest.raises(ConfigError, match="unknown stage 'quater'"):
        run(lambda: program.build_stack(settings.load(encrypted=set(config["stagewise:secrets"]))),
            config, secret_keys, stack="production", evaluation=evaluation)
    assert evaluation.resources == []


def test_local_stack_builds_the_kubernetes_side(tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    stack_text = (ROOT / "Pulumi.local.yaml").read_text().replace(
        "    app: demo\n", f"    app: demo\n    kubeconfig: {kubeconfig}\n")
    ev = evaluate_stack(PROJECT, stack_text, "local")
    kinds = Counter(r.type.split(":")[-1] for r in ev.resources if r.type.startswith("kubernetes:"))
    assert [r.type for r in ev.resources if r.type.startswith("pulumi:providers:")] == ["pulumi:providers:kubernetes"]
    assert kinds == Counter({"Namespace": 1, "Gateway": 1, "Secret": 1, "Deployment": 2,
                             "Service": 2, "HorizontalPodAutoscaler": 2, "HTTPRoute": 1})
    assert ev.outputs["traffic"] == {"blue": 90, "green": 10}


def test_local_stack_without_a_cluster_names_the_kubeconfig_key():
    stack_text = (ROOT / "Pulumi.local.yaml").read_text().replace(
        "    app: demo\n", "    app: demo\n    kubeconfig: no/such/kubeconfig\n")
    with pytest.raises(ConfigError, match="stagewise:kubernetes.kubeconfig: no/such/kubeconfig does not exist"):
        evaluate_stack(PROJECT, stack_text, "local")
