"""Autoscale: an Azure Monitor autoscale setting that scales an App Service plan on CPU."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pulumi
from pulumi_azure_native import monitor


@dataclass(kw_only=True)
class AutoscaleArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    target_resource_id: pulumi.Input[str]
    """The App Service plan to scale."""
    minimum: int
    default: int
    """Used when the CPU metric cannot be read."""
    maximum: int
    cpu_scale_out: int
    """Scale out by one instance when average CPU is above this percent (stagewise:autoscale.cpuScaleOut)."""
    cpu_scale_in: int
    """Scale in by one instance when average CPU is below this percent (stagewise:autoscale.cpuScaleIn)."""
    cooldown_minutes: int
    """Wait after a scale action before the next (stagewise:autoscale.cooldownMinutes)."""
    tags: dict[str, str] = field(default_factory=dict)


def cpu_rule(
    target: pulumi.Input[str], direction: Literal["Increase", "Decrease"], threshold: int, cooldown_minutes: int
) -> monitor.ScaleRuleArgs:
    return monitor.ScaleRuleArgs(
        metric_trigger=monitor.MetricTriggerArgs(
            metric_name="CpuPercentage",
            metric_resource_uri=target,
            time_grain="PT1M",
            statistic="Average",
            time_window="PT10M",
            time_aggregation="Average",
            operator="GreaterThan" if direction == "Increase" else "LessThan",
            threshold=threshold,
        ),
        scale_action=monitor.ScaleActionArgs(
            direction=direction, type="ChangeCount", value="1", cooldown=f"PT{cooldown_minutes}M"
        ),
    )


class Autoscale(pulumi.ComponentResource):
    def __init__(self, name: str, args: AutoscaleArgs, opts: pulumi.ResourceOptions | None = None):
        if not 1 <= args.minimum <= args.default <= args.maximum:
            raise ValueError(
                f"need 1 <= minimum ({args.minimum}) <= default ({args.default}) <= maximum ({args.maximum})"
            )
        if args.cpu_scale_in >= args.cpu_scale_out:
            raise ValueError(f"cpu_scale_in ({args.cpu_scale_in}) must be below cpu_scale_out ({args.cpu_scale_out})")
        super().__init__("stagewise:autoscale:Autoscale", name, None, opts)

        setting = monitor.AutoscaleSetting(
            f"{name}-cpu",
            resource_group_name=args.resource_group_name,
            location=args.location,
            target_resource_uri=args.target_resource_id,
            enabled=True,
            profiles=[
                monitor.AutoscaleProfileArgs(
                    name="cpu",
                    capacity=monitor.ScaleCapacityArgs(
                        minimum=str(args.minimum), default=str(args.default), maximum=str(args.maximum)
                    ),
                    rules=[
                        cpu_rule(args.target_resource_id, "Increase", args.cpu_scale_out, args.cooldown_minutes),
                        cpu_rule(args.target_resource_id, "Decrease", args.cpu_scale_in, args.cooldown_minutes),
                    ],
                )
            ],
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.setting_id: pulumi.Output[str] = setting.id
        self.register_outputs({"setting_id": self.setting_id})
