"""The whole `stagewise:` namespace of one stack, and the rules across its sections.

Pure: no Pulumi import. The sections and their own rules are in stagewise.core.config_sections; reading a
stack's keys into this model (tier defaults, one error path) is stagewise.core.config.
"""

from __future__ import annotations

import ipaddress
from functools import cached_property
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from stagewise.core import app_environment, edges, limits, naming, origins, rollout, tiers
from stagewise.core.config_rollout import NotifyConfig, RolloutConfig
from stagewise.core.config_sections import (
    AlertsConfig,
    AppServiceConfig,
    AutoscaleConfig,
    KubernetesConfig,
    RegionConfig,
    RegistryConfig,
    ReleaseConfig,
    StageConfig,
    TrafficConfig,
    VaultConfig,
    address_spaces,
    stage_catalog,
)
from stagewise.core.config_types import AzureRegion, Model, Port, SecretValue, TagValue, key
from stagewise.core.defaults import common_section
from stagewise.core.gate_config import AnalysisConfig
from stagewise.formats.keys import NAMESPACE

Environment = tiers.Environment
AZURE_ENVIRONMENTS = ("dev", "staging", "production")


class StackConfig(Model):
    """The whole `stagewise:` namespace of one stack, after tier defaults are applied."""

    environment: Environment
    location: AzureRegion
    regions: list[RegionConfig] = Field(default_factory=list, description="default: [{name: location, weight: 100}]")
    owner: TagValue
    cost_centre: TagValue
    release: ReleaseConfig
    stages: list[StageConfig] = Field(min_length=1)
    app_service: AppServiceConfig
    autoscale: AutoscaleConfig
    log_level: Literal["debug", "info", "warning", "error"]
    port: Port = Field(app_environment.APP_PORT, description="the port the app's container listens on (both platforms)")
    feature_flags: dict[str, bool]
    traffic: TrafficConfig
    vault: VaultConfig
    registry: RegistryConfig = RegistryConfig()
    secrets: dict[str, SecretValue] = Field(default_factory=dict)
    alerts: AlertsConfig
    protect: bool
    kubernetes: KubernetesConfig
    analysis: AnalysisConfig
    # Not named `rollout`: that would hide the rollout module from the annotations below.
    rollout_rules: RolloutConfig = Field(RolloutConfig(), alias="rollout", description="deploy windows, deadlines")
    notify: NotifyConfig = NotifyConfig()
    name_seed: str | None = Field(
        None,
        pattern=r"^[a-z0-9]{0,16}$",
        description="part of every globally unique name, unique to the installation and written in the stack file "
        "(required on Azure stacks); '' keeps the names of stacks created before it existed",
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
        if not isinstance(raw, dict):
            return raw
        kube = raw.get("kubernetes")
        if kube is None and "port" in raw:
            # `kubernetes:` left empty beside port: the section's common defaults, as it has always read.
            return {**raw, "kubernetes": {**common_section("kubernetes"), "port": raw["port"]}}
        if isinstance(kube, dict) and "port" not in kube:
            port = raw.get("port", cls.model_fields["port"].default)
            return {**raw, "kubernetes": {**kube, "port": port}}
        return raw

    @model_validator(mode="after")
    def _keys_mean_something_on_the_platform(self) -> StackConfig:
        # A key the stack's program never reads would be ignored in silence (infra/azure.py builds the
        # regions' networks only for a firewalled vault; infra/kubernetes.py reads nodeSelector; the
        # local stack makes no Azure registry).
        if self.is_azure and self.kubernetes.node_selector:
            raise ValueError(
                f"kubernetes.nodeSelector: the {self.environment} stack runs on Azure App Service, which has no "
                f"nodes to select; it is read by the local stack only: remove it"
            )
        if not self.is_azure and self.registry.create_acr:
            raise ValueError(
                f"registry.createAcr: the {self.environment} stack runs on Kubernetes and makes no Azure Container "
                f"Registry; give registry.server (or an image its cluster can pull): remove createAcr"
            )
        with_space = [r.name for r in self.regions if r.address_space]
        if with_space and (not self.is_azure or self.vault.network_default_action != "Deny"):
            raise ValueError(
                f"regions.addressSpace (region {with_space[0]!r}): the {self.environment} stack builds no virtual "
                f"network (one is built per region only when vault.networkDefaultAction is Deny): remove it"
            )
        return self

    @model_validator(mode="after")
    def _ports_agree(self) -> StackConfig:
        # Compared as read (8080 and "8080" are one port); only a stack that sets both can differ.
        if "port" in self.model_fields_set and self.kubernetes.port != self.port:
            raise ValueError(
                f"kubernetes.port ({self.kubernetes.port}) differs from port ({self.port}): the app listens on one "
                f"port on both platforms; set port only"
            )
        return self

    @model_validator(mode="before")
    @classmethod
    def _one_region_by_default(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and not raw.get("regions") and isinstance(raw.get("location"), str):
            return {**raw, "regions": [{"name": raw["location"], "weight": 100}]}
        return raw

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
    def _deadlines_name_stages(self) -> StackConfig:
        for stage in self.rollout_rules.deadlines.stages:
            if stage not in self.catalog.names:
                raise ValueError(
                    f"rollout.deadlines.stages: {stage!r} is not a stage (stages: {', '.join(self.catalog.names)})"
                )
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
            return naming.acr_login_server(naming.registry_name(project, stack, self.name_seed or ""))
        return None

    @model_validator(mode="after")
    def _every_stage_reaches_every_region(self) -> StackConfig:
        # Front Door weights are 1..1000 (frontdoor/routing-methods.md): a product below 1 would round up and give
        # the region's candidate more than the stage says. Under Traffic Manager the region weights are endpoint
        # weights of their own and the colours a percentage, so no product is formed.
        if self.is_azure and self.regions and self.traffic.edge == edges.FRONT_DOOR:
            found = origins.below_one({r.name: r.weight for r in self.regions}, self.catalog)
            if found is not None:
                region, share, exact = found
                raise ValueError(
                    f"regions: region {region!r}'s weight times the smallest stage ({share} %) gives a Front Door weight "
                    f"of {exact:.2f}, below Front Door's minimum of 1: raise the region's weight to at least 1/"
                    f"{limits.AFD_MAX_WEIGHT * share // 100} of the heaviest region's, drain it (weight 0), or make the first stage larger"
                )
        return self

    @model_validator(mode="after")
    def _azure_stack_has_its_own_name_seed(self) -> StackConfig:
        # Written in the stack file, never derived: a seed hashed from the secrets provider's salt moved with
        # `pulumi stack change-secrets-provider` (every global name replaced, the protected vault included), and
        # every clone that kept the shipped stack files shared it.
        if self.is_azure and self.name_seed is None:
            raise ValueError(
                f"{key('name_seed')} is missing: an Azure stack needs a seed of its own in its stack file, so that its "
                "globally unique names never move. A new stack: `pulumi config set stagewise:nameSeed "
                f"{naming.NEW_SEED_COMMAND}`. A stack deployed before: the seed its names carry today, printed by "
                "`python3 -m stagewise.core.naming Pulumi.<stack>.yaml` ('' if it predates nameSeed)"
            )
        return self

    @model_validator(mode="after")
    def _credentials_are_secrets(self) -> StackConfig:
        """A key that names a credential names an entry of stagewise:secrets (the registry's, Prometheus's)."""
        named = (
            ("registry", self.registry, ("username_secret", "password_secret")),
            ("analysis", self.analysis, ("bearer_token_secret", "basic_auth_password_secret")),
        )
        for section, model, fields in named:
            for field in fields:
                name = getattr(model, field)
                if name is not None and name not in self.secrets:
                    raise ValueError(
                        f"{section}.{key(field)}: {name!r} is not an entry of stagewise:secrets "
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
        if host is None and registry.server:
            # Without a host the image is on Docker Hub, and the sites would offer registry.server's credentials
            # to Docker Hub (configure-custom-container.md: DOCKER_REGISTRY_SERVER_URL names the registry signed in to).
            raise ValueError(
                f"release.image: {image!r} names no registry, but registry.server signs in to {registry.server}: write "
                f"the image on that server, {registry.server}/{image}"
            )
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
