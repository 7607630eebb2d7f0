"""BlueGreenDeployment: two colours of an app on Kubernetes, traffic split by a Gateway API HTTPRoute.

Usable on any cluster (AKS or the local control plane). The route's backend weights are the
colours' shares of traffic (0..100), from the same rollout model as the Azure slot traffic rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from stagewise.core import app_environment, naming, tiers
from stagewise.core.rollout import COLOURS, Colour
from stagewise.formats import facts

SERVICE_PORT = 80


@dataclass(kw_only=True)
class BlueGreenDeploymentArgs:
    namespace: pulumi.Input[str]
    environment: str
    """Labelled on every object (stagewise.dev/environment)."""
    image: str
    """Container image without tag."""
    image_tags: dict[Colour, str]
    """Image tag per colour."""
    shares: dict[Colour, int]
    """Share of traffic per colour, 0..100, from the rollout model (rollout.traffic); sums to 100."""
    gateway: pulumi.Input[str]
    """Name of the Gateway (in `namespace`) the HTTPRoute attaches to."""
    hostname: str
    """The HTTPRoute's host name (stagewise:kubernetes.hostname)."""
    port: int
    """Container port serving the app, /ready and /health (stagewise:port)."""
    min_replicas: int
    """HPA bounds per colour (stagewise:kubernetes.minReplicas, .maxReplicas)."""
    max_replicas: int
    cpu_target: int
    """HPA target average CPU utilisation, percent of the request (stagewise:kubernetes.cpuTarget)."""
    cpu_request: str
    """Resource requests per pod, Kubernetes quantities (stagewise:kubernetes.cpuRequest, .memoryRequest)."""
    memory_request: str
    log_level: str
    """LOG_LEVEL of both colours (stagewise:logLevel)."""
    feature_flags: dict[str, bool]
    """Become FEATURE_<NAME>=true|false environment variables (stagewise:featureFlags)."""
    secrets: dict[str, pulumi.Input[str]]
    """Secret name -> value (secret Outputs); one Kubernetes Secret, read by both colours (stagewise:secrets)."""
    disruption_budget: bool
    """A PodDisruptionBudget per colour (stagewise:kubernetes.disruptionBudget)."""
    node_selector: dict[str, str]
    """Node labels the pods must run on (stagewise:kubernetes.nodeSelector; the local stack: the node that
    runs real containers)."""


def colour_labels(name: str, colour: Colour) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "stagewise.dev/colour": colour}


class BlueGreenDeployment(pulumi.ComponentResource):
    def __init__(self, name: str, args: BlueGreenDeploymentArgs, opts: pulumi.ResourceOptions | None = None):
        if set(args.shares) != set(COLOURS) or sum(args.shares.values()) != 100:
            raise ValueError(f"shares {args.shares} must give blue and green a share, summing to 100")
        if any(not 0 <= s <= 100 for s in args.shares.values()):
            raise ValueError(f"shares {args.shares}: each share must be 0..100")
        app_environment.check_image_tags(args.image_tags)
        if not 1 <= args.min_replicas <= args.max_replicas:
            raise ValueError(f"need 1 <= min_replicas ({args.min_replicas}) <= max_replicas ({args.max_replicas})")
        super().__init__("stagewise:blue_green_deployment:BlueGreenDeployment", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        common = {facts.PART_OF_LABEL: facts.PART_OF, tiers.ENVIRONMENT_LABEL: args.environment}

        def meta(object_name: str, labels: dict[str, str] | None = None) -> k8s.meta.v1.ObjectMetaArgs:
            return k8s.meta.v1.ObjectMetaArgs(
                name=object_name, namespace=args.namespace, labels={**common, **(labels or {})}
            )

        secret = k8s.core.v1.Secret(
            f"{name}-secrets",
            metadata=meta(f"{name}-secrets", {"app.kubernetes.io/name": name}),
            type="Opaque",
            string_data={key: pulumi.Output.secret(value) for key, value in args.secrets.items()},
            opts=child,
        )
        self.deployments: dict[Colour, k8s.apps.v1.Deployment] = {}
        self.services: dict[Colour, k8s.core.v1.Service] = {}
        for colour in COLOURS:
            labels = colour_labels(name, colour)
            object_name = f"{name}-{colour}"
            container = k8s.core.v1.ContainerArgs(
                name="app",
                image=naming.container_image(args.image, args.image_tags[colour]),
                ports=[k8s.core.v1.ContainerPortArgs(name="http", container_port=args.port)],
                env=[
                    k8s.core.v1.EnvVarArgs(name=key, value=value)
                    for key, value in app_environment.colour_environment(
                        colour,
                        args.image_tags[colour],
                        service=naming.service_name(args.image),
                        log_level=args.log_level,
                        feature_flags=args.feature_flags,
                    ).items()
                ],
                env_from=[
                    k8s.core.v1.EnvFromSourceArgs(secret_ref=k8s.core.v1.SecretEnvSourceArgs(name=secret.metadata.name))
                ],
                readiness_probe=k8s.core.v1.ProbeArgs(
                    http_get=k8s.core.v1.HTTPGetActionArgs(path="/ready", port="http"), period_seconds=5
                ),
                liveness_probe=k8s.core.v1.ProbeArgs(
                    http_get=k8s.core.v1.HTTPGetActionArgs(path=tiers.HEALTH_PATH, port="http"), period_seconds=10
                ),
                resources=k8s.core.v1.ResourceRequirementsArgs(
                    requests={"cpu": args.cpu_request, "memory": args.memory_request},
                    limits={"memory": args.memory_request},
                ),
            )
            deployment = k8s.apps.v1.Deployment(
                object_name,
                metadata=meta(object_name, labels),
                spec=k8s.apps.v1.DeploymentSpecArgs(
                    # No replica count: the HPA owns it.
                    selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
                    # A new pod is ready before an old one goes, so a colour never has no pod serving.
                    strategy=k8s.apps.v1.DeploymentStrategyArgs(
                        type="RollingUpdate",
                        rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(max_surge=1, max_unavailable=0),
                    ),
                    template=k8s.core.v1.PodTemplateSpecArgs(
                        metadata=k8s.meta.v1.ObjectMetaArgs(labels={**common, **labels}),
                        spec=k8s.core.v1.PodSpecArgs(containers=[container], node_selector=args.node_selector or None),
                    ),
                ),
                opts=child,
            )
            self.deployments[colour] = deployment
            self.services[colour] = k8s.core.v1.Service(
                object_name,
                metadata=meta(object_name, labels),
                spec=k8s.core.v1.ServiceSpecArgs(
                    selector=labels,
                    ports=[k8s.core.v1.ServicePortArgs(name="http", port=SERVICE_PORT, target_port="http")],
                ),
                opts=child,
            )
            k8s.autoscaling.v2.HorizontalPodAutoscaler(
                object_name,
                metadata=meta(object_name, labels),
                spec=k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
                    scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(
                        api_version="apps/v1", kind="Deployment", name=deployment.metadata.name
                    ),
                    min_replicas=args.min_replicas,
                    max_replicas=args.max_replicas,
                    metrics=[
                        k8s.autoscaling.v2.MetricSpecArgs(
                            type="Resource",
                            resource=k8s.autoscaling.v2.ResourceMetricSourceArgs(
                                name="cpu",
                                target=k8s.autoscaling.v2.MetricTargetArgs(
                                    type="Utilization", average_utilization=args.cpu_target
                                ),
                            ),
                        )
                    ],
                ),
                opts=child,
            )
            if args.disruption_budget:
                k8s.policy.v1.PodDisruptionBudget(
                    object_name,
                    metadata=meta(object_name, labels),
                    spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                        max_unavailable=1, selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels)
                    ),
                    opts=child,
                )

        route = k8s.apiextensions.CustomResource(
            f"{name}-route",
            api_version="gateway.networking.k8s.io/v1",
            kind="HTTPRoute",
            metadata=meta(name, {"app.kubernetes.io/name": name}),
            spec={
                "parentRefs": [{"name": args.gateway}],
                "hostnames": [args.hostname],
                "rules": [
                    {
                        "backendRefs": [
                            {
                                "name": self.services[colour].metadata.name,
                                "port": SERVICE_PORT,
                                "weight": args.shares[colour],  # HTTPRoute backend weight = the share
                            }
                            for colour in COLOURS
                        ],
                    }
                ],
            },
            opts=child,
        )

        self.route_name: pulumi.Output[str] = route.metadata.apply(
            lambda m: m["name"] if isinstance(m, dict) else m.name
        )
        self.deployment_names: dict[Colour, pulumi.Output[str]] = {
            c: d.metadata.name for c, d in self.deployments.items()
        }
        self.register_outputs({"route_name": self.route_name, "deployment_names": self.deployment_names})
