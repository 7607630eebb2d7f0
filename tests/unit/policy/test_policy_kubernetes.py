"""Kubernetes: readiness probes and resource requests on Deployment containers, an HPA replica floor."""

import pytest

from stagewise.policy.kubernetes import deployment_readiness_probe, deployment_resource_requests, hpa_min_replicas
from stagewise.policy.settings import Settings

SETTINGS = Settings()


def container(name="app", probe=True, requests=("cpu", "memory")) -> dict:
    c = {"name": name, "image": "stagewise/demo-app:1.5.0"}
    if probe:
        c["readinessProbe"] = {"httpGet": {"path": "/health", "port": 8080.0}}
    if requests is not None:
        values = {"cpu": "100m", "memory": "64Mi"}
        c["resources"] = {"requests": {r: values[r] for r in requests}}
    return c


def deployment(*containers, environment="production") -> dict:
    return {
        "metadata": {"labels": {"stagewise.dev/environment": environment}},
        "spec": {"replicas": 2.0, "template": {"spec": {"containers": list(containers) or [container()]}}},
    }


# Readiness probe


def test_container_with_readiness_probe_passes():
    assert deployment_readiness_probe(deployment(), SETTINGS) == []


def test_container_without_readiness_probe_fails():
    assert deployment_readiness_probe(deployment(container(probe=False)), SETTINGS) == [
        "container 'app' needs a readinessProbe, or it receives traffic before it can serve: "
        "set spec.template.spec.containers[].readinessProbe (e.g. httpGet on /health)"
    ]


def test_empty_readiness_probe_fails():
    c = container(probe=False)
    c["readinessProbe"] = {}
    assert len(deployment_readiness_probe(deployment(c), SETTINGS)) == 1


def test_every_container_without_a_probe_is_reported():
    props = deployment(container("app"), container("sidecar", probe=False), container("proxy", probe=False))
    messages = deployment_readiness_probe(props, SETTINGS)
    assert [m.split(" needs")[0] for m in messages] == ["container 'sidecar'", "container 'proxy'"]


def test_init_containers_need_no_probe():
    props = deployment()
    props["spec"]["template"]["spec"]["initContainers"] = [{"name": "migrate", "image": "x"}]
    assert deployment_readiness_probe(props, SETTINGS) == []


@pytest.mark.parametrize(
    "props", [{}, {"spec": {}}, {"spec": {"template": {"spec": {}}}}], ids=["empty", "no-template", "no-containers"]
)
def test_deployment_without_containers_is_handled(props):
    assert deployment_readiness_probe(props, SETTINGS) == []
    assert deployment_resource_requests(props, SETTINGS) == []


# Resource requests


def test_container_requesting_cpu_and_memory_passes():
    assert deployment_resource_requests(deployment(), SETTINGS) == []


def test_container_without_requests_fails():
    assert deployment_resource_requests(deployment(container(requests=None)), SETTINGS) == [
        "container 'app' must request cpu and memory so the scheduler and the HPA can size it: "
        "set resources.requests.cpu, resources.requests.memory"
    ]


@pytest.mark.parametrize(("requests", "missing"), [(("cpu",), "memory"), (("memory",), "cpu")])
def test_container_missing_one_request_names_it(requests, missing):
    [message] = deployment_resource_requests(deployment(container(requests=requests)), SETTINGS)
    assert message.endswith(f"set resources.requests.{missing}")


def test_limits_alone_are_not_requests():
    c = container(requests=None)
    c["resources"] = {"limits": {"cpu": "500m", "memory": "128Mi"}}
    assert len(deployment_resource_requests(deployment(c), SETTINGS)) == 1


# HPA floor


def hpa(min_replicas=2.0, environment="production") -> dict:
    props = {
        "metadata": {"labels": {"stagewise.dev/environment": environment}},
        "spec": {"maxReplicas": 10.0, "scaleTargetRef": {"kind": "Deployment", "name": "app"}},
    }
    if min_replicas is not None:
        props["spec"]["minReplicas"] = min_replicas
    return props


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_hpa_at_floor_passes(environment):
    assert hpa_min_replicas(hpa(2.0, environment), SETTINGS) == []


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_hpa_below_floor_in_production_like_tier_fails(environment):
    assert hpa_min_replicas(hpa(1.0, environment), SETTINGS) == [
        f"HorizontalPodAutoscaler in {environment} must keep at least 2 replicas "
        "(required in staging, production): set spec.minReplicas to 2 or more (got 1)"
    ]


def test_hpa_min_replicas_not_set_fails():
    [message] = hpa_min_replicas(hpa(None), SETTINGS)
    assert message.endswith("(got not set, Kubernetes defaults to 1)")


@pytest.mark.parametrize("environment", ["local", "dev"])
def test_hpa_outside_production_like_tiers_may_run_one_replica(environment):
    assert hpa_min_replicas(hpa(1.0, environment), SETTINGS) == []


def test_unlabelled_hpa_is_held_to_production():
    props = hpa(1.0)
    del props["metadata"]["labels"]
    [message] = hpa_min_replicas(props, SETTINGS)
    assert message.startswith(
        "HorizontalPodAutoscaler in production (no valid 'stagewise.dev/environment' label, so production rules apply)"
    )


def test_hpa_floor_and_tiers_come_from_config():
    settings = Settings.from_config({"minReplicas": 3, "productionLikeTiers": ["production"]})
    assert hpa_min_replicas(hpa(2.0, "staging"), settings) == []
    [message] = hpa_min_replicas(hpa(2.0, "production"), settings)
    assert "must keep at least 3 replicas (required in production)" in message
