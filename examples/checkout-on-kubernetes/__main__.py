"""Checkout's environment on the cluster of the current kube context: a namespace with a Gateway,
and the checkout service in two colours behind one weighted route."""

import pulumi

from stagewise.components import (
    BlueGreenDeployment,
    BlueGreenDeploymentArgs,
    ClusterEnvironment,
    ClusterEnvironmentArgs,
)
from stagewise.core import rollout

config = pulumi.Config("checkout")
environment = pulumi.get_stack()
hostname = config.require("hostname")

cluster = ClusterEnvironment(
    f"checkout-{environment}",
    ClusterEnvironmentArgs(
        environment=environment,
        namespace=config.require("namespace"),
        gateway_class=config.get("gatewayClass") or "stagewise",
        hostname=hostname,
    ),
)

checkout = BlueGreenDeployment(
    "checkout",
    BlueGreenDeploymentArgs(
        namespace=cluster.namespace,
        environment=environment,
        image="registry.example.com/checkout",
        image_tags={"blue": config.require("stableVersion"), "green": config.require("candidateVersion")},
        # Green is the candidate; blue gets the rest (the component refuses a share outside 0..100).
        shares=rollout.split("green", config.require_int("candidateShare")),
        gateway=cluster.gateway_name,
        hostname=hostname,
        port=8080,
        min_replicas=1,
        max_replicas=2,
        cpu_target=75,
        cpu_request="50m",
        memory_request="64Mi",
        log_level="info",
        feature_flags={"express-checkout": environment != "production"},
        secrets={"payments-api-key": config.require_secret("paymentsApiKey")},
        disruption_budget=False,
        node_selector={},
    ),
    opts=pulumi.ResourceOptions(depends_on=[cluster]),
)

pulumi.export("namespace", cluster.namespace)
pulumi.export("route", checkout.route_name)
pulumi.export("deployments", checkout.deployment_names)
