"""The Stagewise program: read the stack's config, build its components, export what callers need."""

from __future__ import annotations

import pulumi

from stagewise.core.config import StackConfig
from stagewise.infra import settings


def build_stack(cfg: StackConfig) -> dict[str, pulumi.Input]:
    """Every resource of the stack; returns the stack outputs."""
    # Each platform's provider SDK loads slowly: import only the one the stack runs on.
    if cfg.is_azure:
        from stagewise.infra import azure

        return azure.build(cfg, pulumi.get_project(), pulumi.get_stack())
    from stagewise.infra import kubernetes

    return kubernetes.build(cfg, pulumi.get_project(), pulumi.get_stack())


def main() -> None:
    for key, value in build_stack(settings.load()).items():
        pulumi.export(key, value)
