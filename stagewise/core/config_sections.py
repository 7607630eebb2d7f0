"""The sections of a stack's `stagewise:` config, one model each, with the rules inside a section.

Pure: no Pulumi import. The rules across sections are StackConfig's (stagewise.core.config_stack); what a
stack file leaves out is filled by its tier's defaults (stagewise.core.defaults) before these models see
it, so a field that every tier fills has no default here.
"""

from __future__ import annotations

import ipaddress
import posixpath
from collections.abc import Sequence
from typing import Literal

from pydantic import Field, computed_field, field_validator, model_validator

from stagewise.core import edges, limits, rollout, tiers
from stagewise.core.config_types import (
    AcrId,
    AddressSpace,
    AzureRegion,
    Count,
    Emails,
    ImageTag,
    IpRanges,
    KubernetesName,
    Labels,
    Model,
    Percent,
    Port,
    Quantity,
    RegistryHost,
    Webhooks,
    key,
)
from stagewise.core.gate_config import Duration


class ReleaseConfig(Model):
    """`stagewise:release`: the rollout state."""

    image: str = Field(min_length=1, description="container image without tag")
    blue: ImageTag = Field(None, description="tag running in blue")
    green: ImageTag = Field(None, description="tag running in green")
    live: rollout.Colour = Field(description="the colour that holds the stable version")
    stage: str = Field(description="how much traffic the candidate colour gets (a stage name)")

    @field_validator("image")
    @classmethod
    def _image_without_tag(cls, image: str) -> str:
        last = image.rsplit("/", 1)[-1]
        allowed = "give the image without tag or digest (the tags go in release.blue and release.green)"
        if any(c.isspace() for c in image):
            raise ValueError(f"image {image!r} contains spaces; {allowed}")
        if "@" in image:
            raise ValueError(f"image {image!r} has a digest; {allowed}")
        if ":" in last:
            raise ValueError(f"image {image!r} has a tag; {allowed}")
        if not limits.IMAGE_NAME.match(image):
            raise ValueError(
                f"image {image!r} is not an image name: [registry[:port]/]path, with lower-case letters, "
                f"digits and single '.', '_' or '-' between them"
            )
        return image

    def to_release(self) -> rollout.Release:
        return rollout.Release(self.image, self.blue, self.green, self.live, self.stage)


class StageConfig(Model):
    """One entry of `stagewise:stages`."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    # The stack-file key stays `weight` (every user's stack file has it); the core calls it share.
    weight: int = Field(ge=0, le=100, description="the candidate colour's share of traffic, percent")
    bake: Duration | None = Field(
        None, description="minimum time at this stage before promote (default: analysis.bake)"
    )
    min_requests: int | None = Field(
        None, ge=1, description="candidate requests before promote (default: analysis.minRequests)"
    )


def stage_catalog(stages: Sequence[StageConfig]) -> rollout.Catalog:
    """The rollout model's catalog of stages (the stack-file key `weight` is the stage's share)."""
    return rollout.Catalog.of([rollout.Stage(s.name, share=s.weight) for s in stages])


class AppServiceConfig(Model):
    """`stagewise:appService`: the Linux App Service plan."""

    sku: str = Field(description="plan SKU, Standard tier or higher (deployment slots need it)")
    instances: Count = Field(description="instance count when autoscale is off")
    scm_allowed_ips: IpRanges = Field(
        default_factory=list,
        description="IPv4 addresses or CIDR ranges of the deployers allowed to reach the SCM (Kudu) site of every "
        "site and slot; empty (the default): none, the SCM site denies everyone",
    )

    @field_validator("sku")
    @classmethod
    def _known_sku_with_slots(cls, sku: str) -> str:
        tier = limits.PLAN_SKUS.get(sku)
        if tier is None:
            raise ValueError(f"unknown App Service SKU {sku!r}; allowed: {', '.join(limits.PLAN_SKUS)}")
        if tier.slots == 0:
            allowed = ", ".join(s for s, t in limits.PLAN_SKUS.items() if t.slots)
            raise ValueError(f"SKU {sku!r} ({tier.name}) has no deployment slots; use one of: {allowed}")
        return sku


class AutoscaleConfig(Model):
    """`stagewise:autoscale`: Azure Monitor autoscale on the plan."""

    enabled: bool
    minimum: Count
    default: Count
    maximum: Count
    cpu_scale_out: Percent = Field(description="scale out above this average CPU %")
    cpu_scale_in: Percent = Field(description="scale in below this average CPU %")
    cooldown_minutes: int = Field(ge=1, le=10080)

    @model_validator(mode="after")
    def _ordered(self) -> AutoscaleConfig:
        if self.minimum > self.default:
            raise ValueError(f"minimum ({self.minimum}) must be <= default ({self.default})")
        if self.default > self.maximum:
            raise ValueError(f"default ({self.default}) must be <= maximum ({self.maximum})")
        if self.cpu_scale_in >= self.cpu_scale_out:
            raise ValueError(
                f"{key('cpu_scale_in')} ({self.cpu_scale_in}) must be below {key('cpu_scale_out')} ({self.cpu_scale_out})"
            )
        return self


class ProbeConfig(Model):
    """`stagewise:traffic.probe`: Traffic Manager endpoint monitoring."""

    protocol: Literal["HTTP", "HTTPS", "TCP"]
    port: Port
    path: str = Field(pattern=r"^/")
    interval: Literal[10, 30]
    timeout: int
    tolerated_failures: int = Field(ge=limits.TOLERATED_FAILURES_MIN, le=limits.TOLERATED_FAILURES_MAX)

    @model_validator(mode="after")
    def _timeout_fits_interval(self) -> ProbeConfig:
        low, high = limits.PROBE_TIMEOUTS[self.interval]
        if not low <= self.timeout <= high:
            raise ValueError(f"timeout ({self.timeout} s) must be {low}..{high} s when interval is {self.interval} s")
        return self


class TrafficConfig(Model):
    """`stagewise:traffic`: the edge that carries the stage, its probe, and (trafficManager) its DNS TTL."""

    edge: edges.Edge = Field(
        edges.DEFAULT_EDGE,
        description="frontDoor: every region's two colours are weighted Front Door origins; trafficManager: a weighted "
        "Traffic Manager profile, one endpoint per region, the colours split by the site's slot traffic rule (which "
        "restarts the site on every stage change, and leaves the candidate slot reachable directly)",
    )
    ttl: int = Field(ge=limits.TTL_MIN, le=limits.TTL_MAX, description="DNS TTL, seconds (trafficManager)")
    probe: ProbeConfig
    session_affinity: bool = Field(
        True,
        description="Front Door keeps a client on the origin (region and colour) that served its first request, so "
        "a stage is a share of users; false: a share of requests, and one page load can mix two versions",
    )

    @model_validator(mode="after")
    def _traffic_manager_probe_is_pinned(self) -> TrafficConfig:
        if self.edge == edges.TRAFFIC_MANAGER and self.probe.protocol not in edges.PINNED_PROBE_PROTOCOLS:
            raise ValueError(
                f"probe.protocol {self.probe.protocol!r} cannot carry the header that keeps Traffic Manager's probe on "
                f"the production slot: with edge 'trafficManager' use one of {list(edges.PINNED_PROBE_PROTOCOLS)}"
            )
        return self


class RegionConfig(Model):
    """One entry of `stagewise:regions`: a stamp (plan, site and slot, autoscale) in an Azure region."""

    name: AzureRegion = Field(pattern=r"^[a-z][a-z0-9]*$", description="Azure region, e.g. westeurope")
    weight: int = Field(ge=0, le=limits.TM_MAX_WEIGHT, description="the region's part of the traffic; 0 drains it")
    address_space: AddressSpace = Field(
        None,
        description="the region's virtual network, an IPv4 range /8../24 of its own (default: 10.<index>.0.0/16); "
        "the integration subnet is its first /24",
    )


def address_spaces(regions: list[RegionConfig]) -> dict[str, str]:
    """Region -> its virtual network's range: its addressSpace, else 10.<its index>.0.0/16."""
    return {r.name: r.address_space or f"10.{i}.0.0/16" for i, r in enumerate(regions)}


def integration_subnet(address_space: str) -> str:
    """The integration subnet of a region's network: its first /24 (overview-vnet-integration.md recommends
    at least a /26, and the size cannot change once assigned)."""
    network = ipaddress.IPv4Network(address_space)
    return str(next(network.subnets(new_prefix=24)) if network.prefixlen < 24 else network)


class VaultConfig(Model):
    """`stagewise:vault`: the Key Vault."""

    name_suffix: str = Field(
        "",
        pattern=r"^[a-z0-9]{0,8}$",
        description="changes the vault's name: a stack destroyed and created again needs a new one while "
        "the old vault is soft-deleted",
    )
    retention_days: int = Field(ge=limits.RETENTION_MIN_DAYS, le=limits.RETENTION_MAX_DAYS)
    purge_protection: bool
    network_default_action: Literal["Allow", "Deny"]
    allowed_ips: IpRanges = Field(default_factory=list, description="IPv4 addresses or CIDR ranges")


Pull = Literal["anonymous", "identity", "credentials"]


class RegistryConfig(Model):
    """`stagewise:registry`: where the sites pull the image from, and how they sign in. App Service pulls
    "Each time the app restarts" and on every new instance (app-service/configure-custom-container.md), so
    a private image needs a pull path for the life of the app."""

    acr_id: AcrId = Field(None, description="resource ID of an existing Azure Container Registry")
    create_acr: bool = Field(False, description="the stack creates its own Azure Container Registry")
    server: RegistryHost = Field(None, description="host of another registry, signed in to with credentials")
    username_secret: str | None = Field(None, description="stagewise:secrets entry holding the user name")
    password_secret: str | None = Field(None, description="stagewise:secrets entry holding the password")

    @model_validator(mode="after")
    def _one_pull_path(self) -> RegistryConfig:
        paths = {"acr_id": self.acr_id, "create_acr": self.create_acr, "server": self.server}
        chosen = [key(name) for name, on in paths.items() if on]
        if len(chosen) > 1:
            raise ValueError(f"set one pull path of acrId, createAcr and server (got {' and '.join(chosen)})")
        names = {"username_secret": self.username_secret, "password_secret": self.password_secret}
        credentials = [key(name) for name, value in names.items() if value]
        if self.server and len(credentials) < 2:
            raise ValueError(
                f"server {self.server!r} needs usernameSecret and passwordSecret, the names of two stagewise:secrets "
                f"entries (got {', '.join(credentials) or 'neither'})"
            )
        if credentials and not self.server:
            raise ValueError(f"{' and '.join(credentials)} only apply to a registry named by server")
        return self

    @computed_field  # type: ignore[prop-decorator]
    @property
    def pull(self) -> Pull:
        """How the sites sign in to pull: the stack's identity (Azure Container Registry), credentials from
        Key Vault (any other registry), or not at all."""
        if self.acr_id or self.create_acr:
            return "identity"
        return "credentials" if self.server else "anonymous"


class AlertsConfig(Model):
    """`stagewise:alerts`: rollout alert thresholds and where alerts go."""

    emails: Emails
    webhooks: Webhooks
    error_rate_warning: float = Field(gt=0, le=100, description="HTTP 5xx share, percent")
    error_rate_critical: float = Field(gt=0, le=100, description="HTTP 5xx share, percent")
    latency_p95_warning_ms: int = Field(gt=0)
    latency_p95_critical_ms: int = Field(gt=0)
    health_check_min_percent: Percent = Field(description="alert when health below this")
    min_requests: int | None = Field(
        None,
        ge=tiers.ALERT_MIN_REQUESTS,
        description="fewest requests of a version in an alert's 5-minute window before the log alerts judge it "
        "(default: analysis.minRequests, the stage gate's)",
    )

    @model_validator(mode="after")
    def _warning_below_critical(self) -> AlertsConfig:
        for warning, critical in (
            ("error_rate_warning", "error_rate_critical"),
            ("latency_p95_warning_ms", "latency_p95_critical_ms"),
        ):
            low, high = getattr(self, warning), getattr(self, critical)
            if low >= high:
                raise ValueError(f"{key(warning)} ({low}) must be below {key(critical)} ({high})")
        return self


class KubernetesConfig(Model):
    """`stagewise:kubernetes`: the cluster side (the `local` stack, or any cluster)."""

    context: str | None = Field(None, description="kubeconfig context of an existing cluster to use instead")
    kubeconfig: str = Field(description="kubeconfig file of the local cluster, from the project root")
    kubeconfig_outside_project: bool = Field(description="allow a kubeconfig path outside the project")
    namespace: KubernetesName | None = Field(None, description="default: stagewise-<environment>")
    app: KubernetesName = Field(description="name of the app's objects")
    gateway_class: str = Field(description="GatewayClass of the Gateway the route attaches to")
    disruption_budget: bool = Field(description="a PodDisruptionBudget per colour")
    min_replicas: Count
    max_replicas: Count
    cpu_target: Percent
    cpu_request: Quantity
    memory_request: Quantity
    port: Port = Field(description="the port the app listens on: stagewise:port, which sets it")
    hostname: str
    node_selector: Labels = Field(description="node labels the pods must run on (the local stack: the real node)")

    @model_validator(mode="after")
    def _kubeconfig_inside_project(self) -> KubernetesConfig:
        path = self.kubeconfig
        outside = path.startswith(("/", "~")) or posixpath.normpath(path).split("/")[0] == ".."
        if outside and not self.kubeconfig_outside_project:
            raise ValueError(
                f"kubernetes.kubeconfig {path!r} is outside the project (paths are relative to the project "
                f"root); to use it anyway, set stagewise:kubernetes.kubeconfigOutsideProject: true"
            )
        return self

    @model_validator(mode="after")
    def _replicas_ordered(self) -> KubernetesConfig:
        if self.min_replicas > self.max_replicas:
            raise ValueError(f"minReplicas ({self.min_replicas}) must be <= maxReplicas ({self.max_replicas})")
        return self
