"""What a colour's container is told, the same on Azure (app settings) and Kubernetes (env vars):
its colour, log level, feature flags and OpenTelemetry identity."""

from __future__ import annotations

from collections.abc import Mapping

from stagewise.core import naming
from stagewise.core.rollout import COLOURS, Colour

PER_COLOUR = ("STAGEWISE_COLOUR", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES")
"""Settings whose value differs between the colours."""
STICKY = ("STAGEWISE_COLOUR",)
"""The settings that stay with their slot on an Azure swap: the colour marker only. The OpenTelemetry
identity describes the image, and the image moves with a swap, so it must move too."""

APP_PORT = 8080
"""The port the app's container listens on, the same on both platforms (stagewise:port): App Service
reads it from WEBSITES_PORT, whose default the docs give as 80 (app-service/configure-custom-container.md,
"By default, App Service assumes your custom container listens on port 80") where other pages say 8080,
so it is always set."""


def colour_environment(
    colour: Colour, version: str, *, service: str, log_level: str, feature_flags: Mapping[str, bool]
) -> dict[str, str]:
    """The environment of the colour running `version`. Every colour reports its own version as
    OpenTelemetry's service.version, which the rollout alerts and the stage gate select by."""
    return {
        "STAGEWISE_COLOUR": colour,
        "LOG_LEVEL": log_level,
        **naming.otel_env(service, version),
        **{f"FEATURE_{naming.app_setting_name(flag)}": str(on).lower() for flag, on in sorted(feature_flags.items())},
    }


def check_image_tags(image_tags: Mapping[Colour, str]) -> None:
    """Both colours run a tagged image: ValueError naming the colour without one."""
    for colour in COLOURS:
        if not image_tags.get(colour):
            raise ValueError(f"image_tags needs a tag for {colour!r}")
