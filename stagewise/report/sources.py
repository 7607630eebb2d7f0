"""The metrics source for a stack: the provider its stage gates read (`stagewise:analysis`)."""

from __future__ import annotations

from pathlib import Path

from stagewise.report.metrics import MetricsSource


def for_stack(root: Path, stack: str) -> tuple[MetricsSource | None, str | None]:
    """The stack's metrics source, or None and why there is none."""
    return None, f"no metrics provider: Pulumi.{stack}.yaml sets no stagewise:analysis"
