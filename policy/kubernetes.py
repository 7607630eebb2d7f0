"""Kubernetes rules: Deployments and HorizontalPodAutoscalers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stagewise.core import config, tiers
from stagewise.policy.inputs import MISSING, as_int, dig, is_unknown, shown
from stagewise.policy.record import PolicyRecord, ResourcesOnly, Validation, each
from stagewise.policy.resource_types import DEPLOYMENT, HORIZONTAL_POD_AUTOSCALER
from stagewise.policy.settings import MIN_REPLICAS, PRODUCTION_LIKE_TIERS, Settings
from stagewise.policy.tier import kubernetes_tier


def _containers(props: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    containers = dig(props, "spec", "template", "spec", "containers")
    if not isinstance(containers, list):
        return []
    named = []
    for index, container in enumerate(containers):
        if not isinstance(container, Mapping):
            continue
        name = dig(container, "name")
        named.append((name if isinstance(name, str) else f"#{index}", container))
    return named


def deployment_readiness_probe(props: Mapping[str, Any], settings: Settings) -> list[str]:
    messages = []
    for name, container in _containers(props):
        probe = dig(container, "readinessProbe")
        if is_unknown(probe) or (isinstance(probe, Mapping) and probe):
            continue
        messages.append(
            f"container {name!r} needs a readinessProbe, or it receives traffic before it can serve: "
            "set spec.template.spec.containers[].readinessProbe (e.g. httpGet on /health)"
        )
    return messages


KUBERNETES_READINESS_PROBE = PolicyRecord(
    name="kubernetes-readiness-probe",
    description="Deployment containers have readiness probes.",
    check=each(DEPLOYMENT, deployment_readiness_probe),
    rule="every container has a `readinessProbe`",
    twin=ResourcesOnly("no config key; components/blue_green_deployment.py always sets it"),
)


REQUESTED_RESOURCES = ("cpu", "memory")


def deployment_resource_requests(props: Mapping[str, Any], settings: Settings) -> list[str]:
    messages = []
    for name, container in _containers(props):
        requests = dig(container, "resources", "requests")
        if is_unknown(requests):
            continue
        missing = [r for r in REQUESTED_RESOURCES if dig(requests, r) is MISSING]
        if missing:
            messages.append(
                f"container {name!r} must request {' and '.join(REQUESTED_RESOURCES)} so the scheduler "
                f"and the HPA can size it: set resources.requests.{', resources.requests.'.join(missing)}"
            )
    return messages


KUBERNETES_RESOURCE_REQUESTS = PolicyRecord(
    name="kubernetes-resource-requests",
    description="Deployment containers request CPU and memory.",
    check=each(DEPLOYMENT, deployment_resource_requests),
    rule="every container requests `cpu` and `memory`",
    twin=Validation(
        "kubernetes.cpuRequest and kubernetes.memoryRequest always have a value",
        (
            config.KubernetesConfig.model_fields["cpu_request"],
            config.KubernetesConfig.model_fields["memory_request"],
        ),
    ),
)


def hpa_min_replicas(props: Mapping[str, Any], settings: Settings) -> list[str]:
    tier = kubernetes_tier(props)
    value = dig(props, "spec", "minReplicas")
    if tier is None or tier.name not in settings.production_like or is_unknown(value):
        return []
    least = settings.hpa_min_replicas
    replicas = as_int(value) if not isinstance(value, str) else None
    if replicas is not None and replicas >= least:
        return []
    return [
        f"HorizontalPodAutoscaler in {tier.label} must keep at least {least} replicas "
        f"(required in {', '.join(settings.production_like)}): set spec.minReplicas to {least} or more "
        f"(got {shown(value)}{', Kubernetes defaults to 1' if value is MISSING else ''})"
    ]


KUBERNETES_HPA_MIN_REPLICAS = PolicyRecord(
    name="kubernetes-hpa-min-replicas",
    description="HorizontalPodAutoscalers in production-like tiers keep a replica floor.",
    check=each(HORIZONTAL_POD_AUTOSCALER, hpa_min_replicas),
    rule="`spec.minReplicas` is at least N",
    tiers="production-like",
    config=(MIN_REPLICAS, PRODUCTION_LIKE_TIERS),
    twin=tiers.MIN_REPLICAS_RULE,
)


POLICIES: tuple[PolicyRecord, ...] = (
    KUBERNETES_READINESS_PROBE,
    KUBERNETES_RESOURCE_REQUESTS,
    KUBERNETES_HPA_MIN_REPLICAS,
)
