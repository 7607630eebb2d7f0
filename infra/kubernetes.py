"""The `local` stack (and any cluster): a ClusterEnvironment and a BlueGreenDeployment in it."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from stagewise.components.blue_green_deployment import BlueGreenDeployment, BlueGreenDeploymentArgs
from stagewise.components.cluster_environment import ClusterEnvironment, ClusterEnvironmentArgs
from stagewise.core import rollout
from stagewise.core.config import ConfigError, StackConfig
from stagewise.formats import stackfile


def provider(cfg: StackConfig) -> k8s.Provider:
    """The named context when the stack gives one; otherwise the local cluster's kubeconfig."""
    if cfg.kubernetes.context:
        return k8s.Provider("cluster", context=cfg.kubernetes.context)
    # The project being deployed (the engine runs the program there), not where this code is installed.
    path = stackfile.project_root(Path.cwd()) / Path(cfg.kubernetes.kubeconfig).expanduser()
    if not path.is_file():
        raise ConfigError(
            [
                f"stagewise:kubernetes.kubeconfig: {cfg.kubernetes.kubeconfig} does not exist; start the local "
                f"cluster (scripts/cluster.sh start) or set stagewise:kubernetes.context to an existing context"
            ]
        )
    # The contents, not the path: state must not depend on where the project is checked out.
    return k8s.Provider("cluster", kubeconfig=pulumi.Output.secret(path.read_text()))


def build(cfg: StackConfig, project: str, stack: str) -> dict[str, pulumi.Input]:
    kube = cfg.kubernetes
    release = cfg.rollout_release
    shares = rollout.traffic(release, cfg.catalog)
    on_cluster = pulumi.ResourceOptions(providers=[provider(cfg)])
    cluster = ClusterEnvironment(
        "env",
        ClusterEnvironmentArgs(
            environment=cfg.environment,
            namespace=kube.namespace or f"stagewise-{cfg.environment}",
            gateway_class=kube.gateway_class,
            hostname=kube.hostname,
        ),
        opts=on_cluster,
    )
    app = BlueGreenDeployment(
        kube.app,
        BlueGreenDeploymentArgs(
            namespace=cluster.namespace,
            environment=cfg.environment,
            image=cfg.release.image,
            image_tags=rollout.versions_by_colour(release),
            shares=shares,
            gateway=cluster.gateway_name,
            hostname=kube.hostname,
            port=kube.port,
            min_replicas=kube.min_replicas,
            max_replicas=kube.max_replicas,
            cpu_target=kube.cpu_target,
            cpu_request=kube.cpu_request,
            memory_request=kube.memory_request,
            log_level=cfg.log_level,
            feature_flags=cfg.feature_flags,
            secrets={name: pulumi.Output.secret(value.reveal()) for name, value in cfg.secrets.items()},
            disruption_budget=kube.disruption_budget,
            node_selector=kube.node_selector,
        ),
        opts=pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=[cluster])),
    )
    return {
        "namespace": cluster.namespace,
        "route": app.route_name,
        "deployments": app.deployment_names,
        "traffic": shares,
        # The Gateway's HTTP listener (port 80) on the route's host; a *.localhost host resolves to
        # this machine, where the local data plane's gateway listens (scripts/dataplane.sh).
        "url": f"http://{kube.hostname}/",
    }
