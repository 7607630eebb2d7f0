"""ClusterEnvironment: the Kubernetes counterpart of Environment, a namespace per environment and
the Gateway that the environment's routes attach to."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from stagewise.core import tiers
from stagewise.formats import facts


@dataclass
class ClusterEnvironmentArgs:
    environment: str
    """Labelled on every object (stagewise.dev/environment)."""
    namespace: str
    """Namespace name; one per environment."""
    gateway_class: str
    """GatewayClass of the cluster's gateway controller."""
    hostname: str
    """Host the Gateway's HTTP listener accepts."""


class ClusterEnvironment(pulumi.ComponentResource):
    def __init__(self, name: str, args: ClusterEnvironmentArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("stagewise:cluster_environment:ClusterEnvironment", name, None, opts)
        labels = {facts.PART_OF_LABEL: facts.PART_OF, tiers.ENVIRONMENT_LABEL: args.environment}
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.namespace, labels=labels),
            opts=pulumi.ResourceOptions(parent=self),
        )
        gateway = k8s.apiextensions.CustomResource(
            f"{name}-gateway",
            api_version="gateway.networking.k8s.io/v1",
            kind="Gateway",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=f"{name}-gateway", namespace=namespace.metadata.name, labels=labels
            ),
            spec={
                "gatewayClassName": args.gateway_class,
                "listeners": [
                    {"name": "http", "protocol": "HTTP", "port": facts.GATEWAY_PORT, "hostname": args.hostname}
                ],
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.namespace: pulumi.Output[str] = namespace.metadata.name
        self.gateway_name: pulumi.Output[str] = gateway.metadata.apply(
            lambda m: m["name"] if isinstance(m, dict) else m.name
        )
        self.register_outputs({"namespace": self.namespace, "gateway_name": self.gateway_name})
