"""The Stagewise program: read the stack's config, build its components, export what callers need."""

from __future__ import annotations

import pulumi

from infra import settings
from stagewise.core.config import StackConfig


def build_stack(cfg: StackConfig) -> dict[str, pulumi.Input]:
    """Every resource of the stack; returns the stack outputs."""
    # Each platform's provider SDK loads slowly: import only the one the stack runs on.
    if cfg.is_azure:
        from infra import azure

        return azure.build(cfg, pulumi.get_project(), pulumi.get_stack())
    from infra import kubernetes

    return kubernetes.build(cfg, pulumi.get_project(), pulumi.get_stack())


def main() -> None:
    for key, value in build_stack(settings.load()).items():
        pulumi.export(key, value)
