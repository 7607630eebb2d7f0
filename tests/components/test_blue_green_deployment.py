import pytest

from stagewise.components.blue_green_deployment import BlueGreenDeployment, BlueGreenDeploymentArgs
from stagewise.formats.stackfile import SECRET_PLACEHOLDER as SECRET
from tests.components.conftest import only, refused_before_any_resource


def deployment_args(**overrides) -> BlueGreenDeploymentArgs:
    values = dict(
        namespace="ns",
        environment="local",
        image="demo",
        image_tags={"blue": "1.4.2", "green": "1.5.0"},
        shares={"blue": 90, "green": 10},
        gateway="gateway",
        hostname="demo.localhost",
        port=8080,
        min_replicas=2,
        max_replicas=5,
        cpu_target=60,
        cpu_request="100m",
        memory_request="64Mi",
        log_level="info",
        feature_flags={},
        secrets={"jwt-secret": "hunter2"},
        disruption_budget=False,
        node_selector={},
    )
    return BlueGreenDeploymentArgs(**{**values, **overrides})


def by_colour(ev, type_):
    return {r.inputs["metadata"]["labels"]["stagewise.dev/colour"]: r.inputs for r in ev.of_type(type_)}


def test_each_colour_runs_its_tag_with_probes_and_requests(record):
    ev = record(lambda: BlueGreenDeployment("demo", deployment_args()) and None)
    deployments = by_colour(ev, "kubernetes:apps/v1:Deployment")
    for colour, tag in (("blue", "1.4.2"), ("green", "1.5.0")):
        spec = deployments[colour]["spec"]
        (container,) = spec["template"]["spec"]["containers"]
        assert container["image"] == f"demo:{tag}"
        assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
        assert container["livenessProbe"]["httpGet"]["path"] == "/health"
        assert set(container["resources"]["requests"]) == {"cpu", "memory"}
        assert container["envFrom"][0]["secretRef"]["name"] == "demo-secrets"
        assert spec["selector"]["matchLabels"]["stagewise.dev/colour"] == colour
        assert "replicas" not in spec
        assert deployments[colour]["metadata"]["labels"]["stagewise.dev/environment"] == "local"


def test_each_colour_reports_its_own_version_to_opentelemetry(record):
    # The stage gate tells the versions apart by service.version (Prometheus: service_version).
    ev = record(lambda: BlueGreenDeployment("demo", deployment_args()) and None)
    deployments = by_colour(ev, "kubernetes:apps/v1:Deployment")
    for colour, tag in (("blue", "1.4.2"), ("green", "1.5.0")):
        (container,) = deployments[colour]["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e["value"] for e in container["env"]}
        assert env["OTEL_SERVICE_NAME"] == "demo"
        assert env["OTEL_RESOURCE_ATTRIBUTES"] == f"service.version={tag}"


def test_route_weights_follow_the_split(record):
    ev = record(lambda: BlueGreenDeployment("demo", deployment_args()) and None)
    route = only(ev, "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute")
    (rule,) = route.inputs["spec"]["rules"]
    assert {b["name"]: b["weight"] for b in rule["backendRefs"]} == {"demo-blue": 90, "demo-green": 10}
    assert route.inputs["spec"]["parentRefs"] == [{"name": "gateway"}]


def test_service_and_hpa_per_colour(record):
    ev = record(lambda: BlueGreenDeployment("demo", deployment_args()) and None)
    services = by_colour(ev, "kubernetes:core/v1:Service")
    assert services["green"]["spec"]["selector"]["stagewise.dev/colour"] == "green"
    hpas = by_colour(ev, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
    for colour, hpa in hpas.items():
        assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 5)
        assert hpa["spec"]["scaleTargetRef"]["name"] == f"demo-{colour}"
        assert hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 60


def test_secret_values_stay_secret(record):
    ev = record(lambda: BlueGreenDeployment("demo", deployment_args()) and None)
    assert only(ev, "kubernetes:core/v1:Secret").inputs["stringData"] == SECRET
    assert "hunter2" not in repr(ev.resources)


@pytest.mark.parametrize(("budget", "count"), [(True, 2), (False, 0)])
def test_disruption_budget_only_when_asked(record, budget, count):
    ev = record(lambda: BlueGreenDeployment("demo", deployment_args(disruption_budget=budget)) and None)
    assert len(ev.of_type("kubernetes:policy/v1:PodDisruptionBudget")) == count


def test_two_instances_do_not_collide(record):
    def program():
        BlueGreenDeployment("a", deployment_args())
        BlueGreenDeployment("b", deployment_args())

    ev = record(program)
    assert len({r.urn for r in ev.resources}) == len(ev.resources)
    objects = [(r.type, r.inputs["metadata"]["name"]) for r in ev.resources if r.custom]
    assert len(objects) == len(set(objects)) == 2 * 8


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"shares": {"blue": 90, "green": 20}}, "summing to 100"),
        ({"image_tags": {"blue": "1"}}, "needs a tag for 'green'"),
        ({"min_replicas": 4, "max_replicas": 3}, "min_replicas \\(4\\) <= max_replicas \\(3\\)"),
    ],
)
def test_invalid_args_fail_before_any_resource(overrides, message):
    refused_before_any_resource(lambda: BlueGreenDeployment("demo", deployment_args(**overrides)), message)


def test_cluster_environment_has_a_namespace_and_a_gateway(record):
    from stagewise.components.cluster_environment import ClusterEnvironment, ClusterEnvironmentArgs

    ev = record(
        lambda: (
            ClusterEnvironment(
                "env",
                ClusterEnvironmentArgs(
                    environment="local",
                    namespace="stagewise-local",
                    gateway_class="stagewise",
                    hostname="demo.localhost",
                ),
            )
            and None
        )
    )
    namespace = only(ev, "kubernetes:core/v1:Namespace")
    gateway = only(ev, "kubernetes:gateway.networking.k8s.io/v1:Gateway")
    assert namespace.inputs["metadata"]["labels"]["stagewise.dev/environment"] == "local"
    assert gateway.inputs["spec"]["gatewayClassName"] == "stagewise"
    assert gateway.inputs["spec"]["listeners"][0]["hostname"] == "demo.localhost"
