"""Stack configuration: read once, at the program's edge, into validated models.

Pure: no Pulumi import. `parse` takes the `stagewise:` keys of a stack (namespace stripped,
values already decoded from YAML/JSON) and returns a `StackConfig`, or raises `ConfigError`
listing every bad value with its key, the value and what is allowed.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import posixpath
import re
from collections.abc import Collection, Mapping, Sequence
from functools import cached_property
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    computed_field,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from stagewise.core import app_environment, limits, naming, rollout, tiers
from stagewise.core.defaults import with_tier_defaults
from stagewise.core.gate_config import AnalysisConfig, Duration
from stagewise.formats.keys import NAMESPACE

Environment = tiers.Environment
AZURE_ENVIRONMENTS = ("dev", "staging", "production")


class ConfigError(ValueError):
    """Stack config that is refused. `problems` holds one line per bad value."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid stack config:\n" + "\n".join(f"  - {p}" for p in problems))


class SecretValue:
    """A value that came from encrypted config. Its repr never shows the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "SecretValue([secret])"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretValue) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        arbitrary_types_allowed=True,
    )

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_a_number(cls, value: Any, info: ValidationInfo) -> Any:
        # pydantic would take `true` as 1 (`ttl: true` as a 1 s TTL).
        field = cls.model_fields.get(info.field_name or "")
        if isinstance(value, bool) and field is not None and field.annotation is int:
            raise ValueError(f"must be a whole number, got {value}")
        return value


EMAIL = re.compile(
    r"^[^@\s<>(),;:\"\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)


def _image_tag(key: str, tag: str | None) -> str | None:
    if tag is not None and not limits.IMAGE_TAG.match(tag):
        raise ValueError(
            f"{key} {tag!r} is not an image tag: letters, digits, '_', '.', '-', at most 128, "
            f"not starting with '.' or '-' (what `stagewise deploy` accepts)"
        )
    return tag


def azure_region(name: str) -> str:
    """`name` if it is an Azure region's programmatic name, else the message that says what is."""
    if name in limits.AZURE_REGIONS:
        return name
    squeezed = name.replace(" ", "").lower()
    if squeezed in limits.AZURE_REGIONS:
        raise ValueError(f"{name!r}: use the region's programmatic name {squeezed!r}")
    close = difflib.get_close_matches(squeezed, sorted(limits.AZURE_REGIONS), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"{name!r} is not an Azure region{hint} (programmatic names, as in limits.AZURE_REGIONS)")


def _quantity(key: str, value: str) -> str:
    if not limits.QUANTITY.match(value):
        raise ValueError(f"{key} {value!r} is not a Kubernetes quantity (like 250m, 0.5, 64Mi, 1Gi)")
    if value.startswith("-"):
        raise ValueError(f"{key} {value!r} is negative; a resource request is 0 or more")
    return value


class ReleaseConfig(Model):
    """`stagewise:release`: the rollout state."""

    image: str = Field(min_length=1, description="container image without tag")
    blue: str | None = Field(None, description="tag running in blue")
    green: str | None = Field(None, description="tag running in green")
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

    @field_validator("blue", "green")
    @classmethod
    def _colour_tag(cls, tag: str | None, info: ValidationInfo) -> str | None:
        return _image_tag(str(info.field_name), tag)

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


class AppServiceConfig(Model):
    """`stagewise:appService`: the Linux App Service plan."""

    sku: str = Field(description="plan SKU, Standard tier or higher (deployment slots need it)")
    instances: int = Field(ge=1, description="instance count when autoscale is off")

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
    minimum: int = Field(ge=1)
    default: int = Field(ge=1)
    maximum: int = Field(ge=1)
    cpu_scale_out: int = Field(70, ge=1, le=100, description="scale out above this average CPU %")
    cpu_scale_in: int = Field(30, ge=1, le=100, description="scale in below this average CPU %")
    cooldown_minutes: int = Field(5, ge=1, le=10080)

    @model_validator(mode="after")
    def _ordered(self) -> AutoscaleConfig:
        if self.minimum > self.default:
            raise ValueError(f"minimum ({self.minimum}) must be <= default ({self.default})")
        if self.default > self.maximum:
            raise ValueError(f"default ({self.default}) must be <= maximum ({self.maximum})")
        if self.cpu_scale_in >= self.cpu_scale_out:
            raise ValueError(f"cpuScaleIn ({self.cpu_scale_in}) must be below cpuScaleOut ({self.cpu_scale_out})")
        return self


class ProbeConfig(Model):
    """`stagewise:traffic.probe`: Traffic Manager endpoint monitoring."""

    protocol: Literal["HTTP", "HTTPS", "TCP"] = "HTTPS"
    port: int = Field(443, ge=1, le=65535)
    path: str = Field(tiers.HEALTH_PATH, pattern=r"^/")
    interval: Literal[10, 30] = 30
    timeout: int = 10
    tolerated_failures: int = Field(3, ge=limits.TOLERATED_FAILURES_MIN, le=limits.TOLERATED_FAILURES_MAX)

    @model_validator(mode="after")
    def _timeout_fits_interval(self) -> ProbeConfig:
        low, high = limits.PROBE_TIMEOUTS[self.interval]
        if not low <= self.timeout <= high:
            raise ValueError(f"timeout ({self.timeout} s) must be {low}..{high} s when interval is {self.interval} s")
        return self


class TrafficConfig(Model):
    """`stagewise:traffic`: the Traffic Manager profile."""

    ttl: int = Field(ge=limits.TTL_MIN, le=limits.TTL_MAX, description="DNS TTL, seconds")
    probe: ProbeConfig = ProbeConfig()


class RegionConfig(Model):
    """One entry of `stagewise:regions`: a stamp (plan, site and slot, autoscale) in an Azure region."""

    name: str = Field(pattern=r"^[a-z][a-z0-9]*$", description="Azure region, e.g. westeurope")
    weight: int = Field(ge=0, le=limits.TM_MAX_WEIGHT, description="the region's part of the traffic; 0 drains it")
    address_space: str | None = Field(
        None,
        description="the region's virtual network, an IPv4 range /8../24 of its own (default: 10.<index>.0.0/16); "
        "the integration subnet is its first /24",
    )

    @field_validator("name")
    @classmethod
    def _known_region(cls, name: str) -> str:
        return azure_region(name)

    @field_validator("address_space")
    @classmethod
    def _ipv4_range(cls, space: str | None) -> str | None:
        if space is None:
            return None
        try:
            network = ipaddress.IPv4Network(space)
        except ValueError:
            raise ValueError(f"{space!r} is not an IPv4 range with its base address (like 10.1.0.0/16)") from None
        if not 8 <= network.prefixlen <= 24:
            raise ValueError(f"{space!r}: the prefix must be /8../24, room for a /24 integration subnet")
        return space


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
    allowed_ips: list[str] = Field(default_factory=list, description="IPv4 addresses or CIDR ranges")

    @field_validator("allowed_ips")
    @classmethod
    def _ip_ranges(cls, ips: list[str]) -> list[str]:
        for ip in ips:
            try:
                ipaddress.IPv4Network(ip, strict=False)
            except ValueError:
                raise ValueError(f"{ip!r} is not an IPv4 address or CIDR range") from None
        return ips


Pull = Literal["anonymous", "identity", "credentials"]


class RegistryConfig(Model):
    """`stagewise:registry`: where the sites pull the image from, and how they sign in. App Service pulls
    "Each time the app restarts" and on every new instance (app-service/configure-custom-container.md), so
    a private image needs a pull path for the life of the app."""

    acr_id: str | None = Field(None, description="resource ID of an existing Azure Container Registry")
    create_acr: bool = Field(False, description="the stack creates its own Azure Container Registry")
    server: str | None = Field(None, description="host of another registry, signed in to with credentials")
    username_secret: str | None = Field(None, description="stagewise:secrets entry holding the user name")
    password_secret: str | None = Field(None, description="stagewise:secrets entry holding the password")

    @field_validator("acr_id")
    @classmethod
    def _acr_resource_id(cls, acr_id: str | None) -> str | None:
        if acr_id is not None and not limits.ACR_ID.match(acr_id):
            raise ValueError(
                f"{acr_id!r} is not a container registry's resource ID: /subscriptions/<id>/resourceGroups/<group>"
                f"/providers/Microsoft.ContainerRegistry/registries/<5-50 letters and digits>"
            )
        return acr_id

    @field_validator("server")
    @classmethod
    def _registry_host(cls, server: str | None) -> str | None:
        if server is not None and naming.image_registry(f"{server}/x") != server.lower():
            raise ValueError(f"{server!r} is not a registry host: give the host (and port) only, e.g. ghcr.io")
        return server

    @model_validator(mode="after")
    def _one_pull_path(self) -> RegistryConfig:
        chosen = [
            k for k, on in (("acrId", self.acr_id), ("createAcr", self.create_acr), ("server", self.server)) if on
        ]
        if len(chosen) > 1:
            raise ValueError(f"set one pull path of acrId, createAcr and server (got {' and '.join(chosen)})")
        credentials = [
            k for k, v in (("usernameSecret", self.username_secret), ("passwordSecret", self.password_secret)) if v
        ]
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

    emails: list[str] = Field(default_factory=list)
    webhooks: list[str] = Field(default_factory=list)
    error_rate_warning: float = Field(gt=0, le=100, description="HTTP 5xx share, percent")
    error_rate_critical: float = Field(gt=0, le=100, description="HTTP 5xx share, percent")
    latency_p95_warning_ms: int = Field(gt=0)
    latency_p95_critical_ms: int = Field(gt=0)
    health_check_min_percent: int = Field(ge=1, le=100, description="alert when health below this")
    min_requests: int | None = Field(
        None,
        ge=tiers.ALERT_MIN_REQUESTS,
        description="fewest requests of a version in an alert's 5-minute window before the log alerts judge it "
        "(default: analysis.minRequests, the stage gate's)",
    )

    @field_validator("webhooks")
    @classmethod
    def _https_webhooks(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not url.startswith("https://"):
                raise ValueError(f"webhook {url!r} must be an https:// URL")
            try:
                host = urlsplit(url).hostname
            except ValueError:
                host = None
            if not host:
                raise ValueError(f"webhook {url!r} has no host; give https://<host>/<path>")
        return urls

    @field_validator("emails")
    @classmethod
    def _addresses(cls, emails: list[str]) -> list[str]:
        for email in emails:
            if not EMAIL.match(email):
                raise ValueError(f"{email!r} is not an e-mail address (name@domain.tld)")
        return emails

    @model_validator(mode="after")
    def _warning_below_critical(self) -> AlertsConfig:
        if self.error_rate_warning >= self.error_rate_critical:
            raise ValueError(
                f"errorRateWarning ({self.error_rate_warning}) must be below "
                f"errorRateCritical ({self.error_rate_critical})"
            )
        if self.latency_p95_warning_ms >= self.latency_p95_critical_ms:
            raise ValueError(
                f"latencyP95WarningMs ({self.latency_p95_warning_ms}) must be below "
                f"latencyP95CriticalMs ({self.latency_p95_critical_ms})"
            )
        return self


class KubernetesConfig(Model):
    """`stagewise:kubernetes`: the cluster side (the `local` stack, or any cluster)."""

    context: str | None = Field(None, description="kubeconfig context of an existing cluster to use instead")
    kubeconfig: str = Field(
        ".cluster/kubeconfig", description="kubeconfig file of the local cluster, from the project root"
    )
    kubeconfig_outside_project: bool = Field(False, description="allow a kubeconfig path outside the project")
    namespace: str | None = Field(
        None, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", description="default: stagewise-<environment>"
    )
    app: str = Field("app", pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", description="name of the app's objects")
    gateway_class: str = Field("stagewise", description="GatewayClass of the Gateway the route attaches to")
    disruption_budget: bool = Field(False, description="a PodDisruptionBudget per colour")
    min_replicas: int = Field(1, ge=1)
    max_replicas: int = Field(3, ge=1)
    cpu_target: int = Field(70, ge=1, le=100)
    cpu_request: str = "100m"
    memory_request: str = "64Mi"
    port: int = Field(8080, ge=1, le=65535)
    hostname: str = "app.local.stagewise.dev"
    node_selector: dict[str, str] = Field(
        default_factory=dict, description="node labels the pods must run on (the local stack: the real node)"
    )

    @field_validator("cpu_request", "memory_request")
    @classmethod
    def _quantities(cls, value: str, info: ValidationInfo) -> str:
        return _quantity("cpuRequest" if info.field_name == "cpu_request" else "memoryRequest", value)

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


def stage_catalog(stages: Sequence[StageConfig]) -> rollout.Catalog:
    """The rollout model's catalog of stages (the stack-file key `weight` is the stage's share)."""
    return rollout.Catalog.of([rollout.Stage(s.name, share=s.weight) for s in stages])


_STAGE_LIST = TypeAdapter(list[StageConfig])


def stage_entries(raw: Any) -> rollout.Catalog:
    """The catalog of a `stagewise:stages` list read on its own (a past version of a stack file, the
    project's default), each entry checked as StackConfig checks it (name, share 0..100, a whole
    number). The rules across the list (rising to 100) are StackConfig's alone: a reader of history
    still reads past versions that they would refuse. ConfigError when an entry is refused."""
    try:
        return stage_catalog(_STAGE_LIST.validate_python(raw))
    except ValidationError as err:
        raise ConfigError(
            [_problem({**e, "loc": ("stages", *e["loc"])}) for e in err.errors(include_url=False)]
        ) from None


class StackConfig(Model):
    """The whole `stagewise:` namespace of one stack, after tier defaults are applied."""

    environment: Environment
    location: str
    regions: list[RegionConfig] = Field(default_factory=list, description="default: [{name: location, weight: 100}]")
    owner: str = Field(min_length=1)
    cost_centre: str = Field(min_length=1)
    release: ReleaseConfig
    stages: list[StageConfig] = Field(min_length=1)
    app_service: AppServiceConfig
    autoscale: AutoscaleConfig
    log_level: Literal["debug", "info", "warning", "error"]
    port: int = Field(
        app_environment.APP_PORT, ge=1, le=65535, description="the port the app's container listens on (both platforms)"
    )
    feature_flags: dict[str, bool] = Field(default_factory=dict)
    traffic: TrafficConfig
    vault: VaultConfig
    registry: RegistryConfig = RegistryConfig()
    secrets: dict[str, SecretValue] = Field(default_factory=dict)
    alerts: AlertsConfig
    protect: bool
    kubernetes: KubernetesConfig = KubernetesConfig()
    analysis: AnalysisConfig
    name_seed: str = Field(
        "",
        pattern=r"^[a-z0-9]{0,16}$",
        description="part of every globally unique name, unique to the installation; default: derived from the "
        "stack file's encryptionsalt (or encryptedkey); '' keeps the names of stacks created before it existed",
    )

    @field_validator("stages")
    @classmethod
    def _strictly_increasing(cls, stages: list[StageConfig]) -> list[StageConfig]:
        names = [s.name for s in stages]
        for dup in {n for n in names if names.count(n) > 1}:
            raise ValueError(f"stage name {dup!r} appears more than once")
        for stage in stages:
            if stage.name == rollout.IDLE and stage.weight != 0:
                raise ValueError(f"stage {rollout.IDLE!r} is always 0 %, got {stage.weight}")
        shares = [s.weight for s in stages if s.name != rollout.IDLE]
        if shares and shares[0] == 0:
            raise ValueError(f"only stage {rollout.IDLE!r} may be 0 %; weights must rise from 1 to 100")
        for before, after in zip(shares, shares[1:]):
            if after <= before:
                raise ValueError(f"weights must be strictly increasing, got {shares}")
        last = stages[-1]
        if last.weight != 100:
            raise ValueError(
                f"the last stage must send 100 % to the candidate (finish needs it); "
                f"the last stage is {last.name!r} at {last.weight} %"
            )
        return stages

    @field_validator("regions")
    @classmethod
    def _address_spaces_apart(cls, regions: list[RegionConfig]) -> list[RegionConfig]:
        # Overlapping networks cannot be peered (the regions' networks are meant to be able to).
        spaces = [ipaddress.IPv4Network(space) for space in address_spaces(regions).values()]
        for i, (region, space) in enumerate(zip(regions, spaces)):
            for other, other_space in list(zip(regions, spaces))[:i]:
                if space.overlaps(other_space):
                    raise ValueError(
                        f"regions {other.name!r} ({other_space}) and {region.name!r} ({space}) have overlapping "
                        f"address spaces: give each region an addressSpace of its own"
                    )
        return regions

    @field_validator("regions")
    @classmethod
    def _regions_distinct_and_serving(cls, regions: list[RegionConfig]) -> list[RegionConfig]:
        names = [r.name for r in regions]
        for dup in sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"region {dup!r} appears more than once")
        if regions and not any(r.weight for r in regions):
            raise ValueError("every region has weight 0; at least one region must take traffic")
        return regions

    @model_validator(mode="before")
    @classmethod
    def _one_port_for_both_platforms(cls, raw: Any) -> Any:
        # The container listens on one port whichever platform runs it: stagewise:port, which the
        # Kubernetes side reads as kubernetes.port (set here unless the stack sets it, and then equal).
        if not isinstance(raw, dict) or "port" not in raw:
            return raw
        kube = raw.get("kubernetes")
        if kube is None or (isinstance(kube, dict) and "port" not in kube):
            return {**raw, "kubernetes": {**(kube or {}), "port": raw["port"]}}
        if isinstance(kube, dict) and kube["port"] != raw["port"]:
            raise ValueError(
                f"kubernetes.port ({kube['port']}) differs from port ({raw['port']}): the app listens on one port "
                f"on both platforms; set port only"
            )
        return raw

    @model_validator(mode="before")
    @classmethod
    def _one_region_by_default(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and not raw.get("regions") and isinstance(raw.get("location"), str):
            return {**raw, "regions": [{"name": raw["location"], "weight": 100}]}
        return raw

    @field_validator("owner", "cost_centre")
    @classmethod
    def _fits_a_tag(cls, value: str) -> str:
        if len(value) > limits.TAG_VALUE_MAX:
            raise ValueError(
                f"becomes an Azure tag value, which holds at most {limits.TAG_VALUE_MAX} characters; "
                f"got {len(value)} characters"
            )
        return value

    @field_validator("location")
    @classmethod
    def _azure_region(cls, location: str) -> str:
        return azure_region(location)

    @field_validator("feature_flags")
    @classmethod
    def _flag_names(cls, flags: dict[str, bool]) -> dict[str, bool]:
        for flag in flags:
            if not limits.APP_SETTING_NAME.match(naming.app_setting_name(str(flag))):
                raise ValueError(
                    f"feature flag {flag!r} cannot become an app setting name: use letters, digits, '-', '_' and '.'"
                )
        return flags

    @field_validator("secrets", mode="before")
    @classmethod
    def _secrets_encrypted(cls, secrets: Any) -> Any:
        if not isinstance(secrets, dict):
            return secrets
        for name, value in secrets.items():
            if not limits.SECRET_NAME.match(str(name)):
                raise ValueError(
                    f"secret name {name!r} is not allowed by Key Vault: use 1-127 letters, digits and hyphens"
                )
            if not isinstance(value, SecretValue):
                raise ValueError(
                    f"secret {name!r} is in plain text; set it encrypted with "
                    f"pulumi config set --secret --path '{NAMESPACE}:secrets.{name}'"
                )
        return secrets

    @cached_property
    def catalog(self) -> rollout.Catalog:
        return stage_catalog(self.stages)

    @cached_property
    def rollout_release(self) -> rollout.Release:
        """`release` as the rollout model's value, built once."""
        return self.release.to_release()

    @property
    def is_azure(self) -> bool:
        return self.environment in AZURE_ENVIRONMENTS

    @model_validator(mode="after")
    def _release_fits_catalog(self) -> StackConfig:
        try:
            rollout.check(self.rollout_release, self.catalog)
        except rollout.RolloutError as err:
            raise ValueError(f"release: {err}") from None
        return self

    @model_validator(mode="after")
    def _analysis_provider_fits(self) -> StackConfig:
        if self.analysis.provider == "appinsights" and not self.is_azure:
            raise ValueError(
                f"analysis.provider: appinsights reads an Azure stack's Application Insights; the "
                f"{self.environment} stack has none, use prometheus"
            )
        if self.analysis.auto_promote and self.environment == "production":
            raise ValueError(
                "analysis.autoPromote: production is promoted through a reviewed pull request; it must be false"
            )
        return self

    def login_server(self, project: str, stack: str) -> str | None:
        """The Azure Container Registry host the sites pull from with the stack's identity, if any."""
        if self.registry.acr_id:
            match = limits.ACR_ID.match(self.registry.acr_id)
            assert match, self.registry.acr_id
            return naming.acr_login_server(match["name"])
        if self.registry.create_acr:
            return naming.acr_login_server(naming.registry_name(project, stack, self.name_seed))
        return None

    @model_validator(mode="after")
    def _registry_credentials_are_secrets(self) -> StackConfig:
        for key, name in (
            ("usernameSecret", self.registry.username_secret),
            ("passwordSecret", self.registry.password_secret),
        ):
            if name is not None and name not in self.secrets:
                raise ValueError(
                    f"registry.{key}: {name!r} is not an entry of stagewise:secrets "
                    f"(entries: {', '.join(sorted(self.secrets)) or 'none'})"
                )
        return self

    @model_validator(mode="after")
    def _image_has_a_pull_path(self) -> StackConfig:
        image, registry = self.release.image, self.registry
        host = naming.image_registry(image)
        if registry.create_acr and host is not None:
            raise ValueError(
                f"release.image: {image!r} names registry {host}, but registry.createAcr pulls from the stack's own "
                f"registry: give the image without a registry host (the stack's registry is prefixed)"
            )
        if registry.acr_id:
            match = limits.ACR_ID.match(registry.acr_id)
            login = naming.acr_login_server(match["name"]) if match else None
            if host is not None and host != login:
                raise ValueError(
                    f"release.image: {image!r} is on {host}, but registry.acrId pulls from {login}: give the image "
                    f"without a registry host, or on {login}"
                )
            return self
        if host is None or host in limits.DOCKER_HUB_HOSTS or host == (registry.server or "").lower():
            return self
        if host.endswith(f".{limits.ACR_LOGIN_SUFFIX}"):
            raise ValueError(
                f"release.image: {image!r} is in Azure Container Registry {host}, which the sites cannot pull from: "
                f"set registry.acrId to that registry's resource ID (pulled with the stack's identity)"
            )
        raise ValueError(
            f"release.image: {image!r} is on registry {host}, which the sites cannot sign in to: set registry.server "
            f"to {host!r} with registry.usernameSecret and registry.passwordSecret, or move the image to an Azure "
            f"Container Registry (registry.acrId)"
        )

    @property
    def alert_min_requests(self) -> int:
        """The log alerts' request floor: alerts.minRequests, else the stage gate's analysis.minRequests."""
        return self.alerts.min_requests if self.alerts.min_requests is not None else self.analysis.min_requests

    @model_validator(mode="after")
    def _alerts_judge_enough_requests(self) -> StackConfig:
        if self.alerts.min_requests is None and self.analysis.min_requests < tiers.ALERT_MIN_REQUESTS:
            raise ValueError(
                f"alerts.minRequests: defaults to analysis.minRequests ({self.analysis.min_requests}), below the "
                f"{tiers.ALERT_MIN_REQUESTS} requests a log alert needs to judge a version; set alerts.minRequests "
                f"to {tiers.ALERT_MIN_REQUESTS} or more"
            )
        return self

    @model_validator(mode="after")
    def _instances_fit_sku(self) -> StackConfig:
        tier = limits.PLAN_SKUS[self.app_service.sku]
        most = self.autoscale.maximum if self.autoscale.enabled else self.app_service.instances
        key = "autoscale.maximum" if self.autoscale.enabled else "appService.instances"
        if most > tier.max_instances:
            raise ValueError(
                f"{key} ({most}) is above the {tier.max_instances} instances that SKU "
                f"{self.app_service.sku} ({tier.name}) allows"
            )
        return self


def _key(loc: tuple[Any, ...]) -> str:
    """pydantic's error location -> the config key a user types, e.g. stagewise:autoscale.maximum."""
    parts = [str(p) for p in loc]
    return f"{NAMESPACE}:{parts[0]}" + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in parts[1:])


def _problem(error: Mapping[str, Any]) -> str:
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return f"{_key(error['loc'])}: unknown key"
    value = error.get("input")
    if not error["loc"]:  # a rule across sections: its message starts with the key
        return f"{NAMESPACE}:{message}"
    hidden = isinstance(value, (dict, list)) or error["type"] == "value_error" or error["loc"][0] == "secrets"
    shown = "" if hidden else f" (got {value!r})"  # a secret's value is never echoed
    return f"{_key(error['loc'])}: {message}{shown}"


def from_engine(values: Mapping[str, str], encrypted: Collection[str], installation: str | None = None) -> StackConfig:
    """The stack's config from the engine's flat config (`namespace:key` -> text), as the program
    receives it: structured values arrive as JSON text and scalars as plain text. `encrypted` names
    the secrets the stack file stores encrypted (the engine hands them over decrypted, like the rest).
    `installation` (stackfile.installation_key) gives nameSeed its default."""
    prefix = f"{NAMESPACE}:"
    raw = {key[len(prefix) :]: _engine_decode(value) for key, value in values.items() if key.startswith(prefix)}
    if installation and "nameSeed" not in raw:
        raw["nameSeed"] = naming.installation_seed(installation)
    secrets = raw.get("secrets")
    if isinstance(secrets, dict):
        raw["secrets"] = {
            name: SecretValue(str(value)) if name in encrypted else value for name, value in secrets.items()
        }
    return parse(raw)


def _engine_decode(value: str) -> Any:
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


def parse(raw: dict[str, Any]) -> StackConfig:
    """Validate the `stagewise:` keys of a stack (namespace stripped) after tier defaults."""
    environment = raw.get("environment")
    try:
        # The tier defaults hang on the environment: without a valid one, every other
        # missing key would be reported too, hiding the one that matters.
        TypeAdapter(Environment).validate_python(environment)
    except ValidationError as err:
        raise ConfigError([_problem({**e, "loc": ("environment",)}) for e in err.errors(include_url=False)]) from None
    try:
        cfg = StackConfig.model_validate(with_tier_defaults(environment, raw))
    except ValidationError as err:
        raise ConfigError([_problem(e) for e in err.errors(include_url=False)]) from None
    problems = tiers.problems(cfg.environment, _flat(cfg.model_dump(by_alias=True, exclude={"secrets"})))
    if problems:
        raise ConfigError([f"{NAMESPACE}:{p}" for p in problems])
    return cfg


def _flat(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"traffic": {"ttl": 30}} -> {"traffic.ttl": 30}: the keys a user types."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
