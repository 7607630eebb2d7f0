"""How long the offline plan takes, and what components cost under Pulumi's mocks.

Run: .venv/bin/python bench/plan_bench.py [--copies 1,10,50] [--repeat 3]

1. `stagewise plan --stack production`, as a user runs it (a new process), and in process.
2. The web-app stack (infra/azure.py, every component) built N times with distinct names, evaluated
   under mocks: time, and time per registered resource.
3. The same custom resources registered by a bare loop: the same azure-native classes with the same
   inputs, no components around them. The ratio of 2 to 3 is what the components cost.

Prints figures only; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from stagewise.core import stackconfig
from stagewise.formats import stackfile
from stagewise.infra import azure
from stagewise.tools import evaluate, planning

ROOT = Path(__file__).resolve().parents[1]

STACK = "production"
COMPONENTS = (
    "Environment",
    "AppIdentity",
    "RegionNetwork",
    "BlueGreenWebApp",
    "SecretVault",
    "Autoscale",
    "TrafficSplit",
    "RolloutAlerts",
)


def timed(action: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median wall time of `repeat` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


# 1. The plan.


def plan_in_new_process() -> int:
    command = [sys.executable, "-c", "from stagewise.tools.cli import app; app()", "plan", "--stack", STACK]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode not in (0, 2):
        raise SystemExit(f"stagewise plan failed (exit {result.returncode}):\n{result.stderr}")
    return result.returncode


def plan_in_process() -> Any:
    return planning.compute_plan(ROOT, STACK, "HEAD")[0]


# 2. N copies of the web-app stack.


@contextlib.contextmanager
def prefixed_components(prefix: str) -> Iterator[None]:
    """Build the program's components under names starting with `prefix`, so that copies do not
    collide: the very program, only renamed."""
    originals = {name: getattr(azure, name) for name in COMPONENTS}

    def renamed(cls: type) -> Callable[..., Any]:
        return lambda name, args, opts=None: cls(f"{prefix}{name}", args, opts)

    try:
        for name, cls in originals.items():
            setattr(azure, name, renamed(cls))
        yield
    finally:
        for name, cls in originals.items():
            setattr(azure, name, cls)


def stack_config() -> tuple[Any, dict[str, Any], set[str]]:
    project_text = (ROOT / stackfile.PROJECT_FILE).read_text()
    stack_text = stackfile.stack_path(ROOT, STACK).read_text()
    source = f"Pulumi.{STACK}.yaml"
    cfg = stackconfig.config_from_texts(project_text, stack_text, source)
    config, secret_keys = stackfile.stack_config(project_text, stack_text, source)
    return cfg, config, secret_keys


def copies_program(cfg: Any, copies: int) -> Callable[[], dict[str, Any]]:
    def program() -> dict[str, Any]:
        outputs: dict[str, Any] = {}
        for i in range(copies):
            with prefixed_components(f"c{i}-"):
                outputs.update({f"c{i}-{k}": v for k, v in azure.build(cfg, "stagewise", STACK).items()})
        return outputs

    return program


# 3. The bare loop.


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def _sdk_class(type_: str) -> type:
    _, module, name = type_.split(":")
    return getattr(importlib.import_module(f"pulumi_azure_native.{module}"), name)


# These types take the site's name as an input called `name`; for the others `name` is the resource's.
_NAME_IS_AN_INPUT = {
    "azure-native:web:WebApp",
    "azure-native:web:WebAppSlot",
    "azure-native:web:WebAppSlotConfigurationNames",
}


def bare_program(resources: list[evaluate.Resource]) -> Callable[[], dict[str, Any]]:
    """Every custom resource again, same class, same recorded inputs (nested values as recorded:
    the SDK passes camelCase keys through unchanged), no parent component, no outputs wired."""

    def program() -> dict[str, Any]:
        for resource in resources:
            kwargs = {_snake(k): v for k, v in resource.inputs.items()}
            if resource.type not in _NAME_IS_AN_INPUT:
                kwargs.pop("name", None)
            _sdk_class(resource.type)(f"bare-{resource.name}", **kwargs)
        return {}

    return program


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", default="1,10,50", help="comma-separated instance counts")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure below 50 copies (median)")
    args = parser.parse_args()
    counts = [int(c) for c in args.copies.split(",")]

    print(f"stagewise plan --stack {STACK} (vs HEAD)")
    cold, exit_code = timed(plan_in_new_process, args.repeat)
    print(f"  new process (as a user runs it): {cold:6.2f} s   exit {exit_code}")
    plan_in_process()  # warm the imports
    warm, result = timed(plan_in_process, args.repeat)
    print(
        f"  in process, imports warm:        {warm:6.2f} s   ({'no changes' if result.empty else 'changes'}; two evaluations)"
    )
    print()

    cfg, config, secret_keys = stack_config()
    header = f"{'copies':>6} {'resources':>9} {'components':>11} {'per resource':>13} {'bare loop':>10} {'per resource':>13} {'ratio':>6}"
    print("web-app stack x N under mocks (components) vs the same custom resources in a bare loop")
    print(header)
    for copies in counts:
        repeat = args.repeat if copies < 50 else 1
        with_components, evaluation = timed(
            lambda: evaluate.run(copies_program(cfg, copies), config, secret_keys, stack=STACK), repeat
        )
        custom = [r for r in evaluation.resources if r.custom]
        bare, bare_evaluation = timed(
            lambda: evaluate.run(bare_program(custom), config, secret_keys, stack=STACK), repeat
        )
        same_inputs = {r.name: r.inputs for r in custom} == {
            r.name.removeprefix("bare-"): r.inputs for r in bare_evaluation.resources
        }
        total = len(evaluation.resources)
        print(
            f"{copies:>6} {total:>9} {with_components:>10.2f}s {with_components / total * 1000:>10.1f} ms"
            f" {bare:>9.2f}s {bare / len(custom) * 1000:>10.1f} ms {with_components / bare:>6.2f}"
            + ("" if same_inputs else "  (inputs differ!)")
        )
    print()
    components = sum(1 for r in evaluation.resources if not r.custom) // max(counts[-1], 1)
    print(f"resources: custom resources plus the components ({components} per copy: production has two regions);")
    print(
        "the bare loop registers the custom ones only, with identical inputs. ratio: components time / bare loop time."
    )


if __name__ == "__main__":
    main()
