"""What the tools ask the Pulumi CLI (the selected stack, a stack output), each bounded in time."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

DEFAULT_STACK = "dev"
STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


class PulumiCliError(RuntimeError):
    """The Pulumi CLI is missing, did not answer in time, or gave no usable answer."""


# `pulumi stack --show-name` can be slow (or wait on a backend); never let it hold a command up.
PULUMI_LOOKUP_TIMEOUT_SECONDS = 3.0


def default_stack(root: Path) -> str:
    """The selected Pulumi stack if a pulumi CLI is on PATH and answers quickly, else `dev`."""
    exe = shutil.which("pulumi")
    if exe is None:
        return DEFAULT_STACK
    try:
        # A session of its own, so that on timeout the whole process group (plugins too) goes.
        process = subprocess.Popen(
            [exe, "stack", "--show-name", "--non-interactive"],
            cwd=root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"},
            start_new_session=True,
        )
    except OSError:
        return DEFAULT_STACK
    try:
        stdout, _ = process.communicate(timeout=PULUMI_LOOKUP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return DEFAULT_STACK
    lines = stdout.strip().splitlines()
    name = lines[-1].strip().rsplit("/", 1)[-1] if process.returncode == 0 and lines else ""
    return name if STACK_NAME.match(name) else DEFAULT_STACK


PULUMI_OUTPUT_TIMEOUT_SECONDS = 60.0
PULUMI_CONFIG_TIMEOUT_SECONDS = 30.0
PULUMI_EXPORT_TIMEOUT_SECONDS = 30.0


def pulumi(root: Path, args: list[str], timeout: float) -> str:
    """`pulumi <args>` in `root`, bounded by `timeout` seconds: its standard output. PulumiCliError
    when there is no CLI, it does not answer in time, or it fails (with the last line it wrote to
    standard error, which names keys, never secret values)."""
    exe = shutil.which("pulumi")
    what = f"pulumi {' '.join(args[:2])}"
    if exe is None:
        raise PulumiCliError(f"{what} needs the pulumi CLI, and there is none on PATH (. scripts/env.sh puts it there)")
    try:
        result = subprocess.run(
            [exe, *args],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"},
        )
    except subprocess.TimeoutExpired:
        raise PulumiCliError(f"{what} did not answer within {timeout:g} s") from None
    except OSError as error:
        raise PulumiCliError(f"cannot run pulumi: {error.strerror or error}") from None
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["no output"])[-1][:300]
        raise PulumiCliError(f"{what} failed: {detail}")
    return result.stdout


def insights_id(root: Path, stack: str) -> str:
    """The stack's Application Insights resource ID, from its `insights_id` output."""
    hint = "set stagewise:analysis.resourceId to the resource ID to read instead"
    try:
        value = pulumi(
            root,
            ["stack", "output", "insights_id", "--stack", stack, "--non-interactive"],
            PULUMI_OUTPUT_TIMEOUT_SECONDS,
        ).strip()
    except PulumiCliError as error:
        raise PulumiCliError(f"provider appinsights needs the stack's insights_id output: {error}; {hint}") from None
    if not value.startswith("/subscriptions/"):
        raise PulumiCliError(f"the stack's insights_id output is not a resource ID; {hint}")
    return value


def config_secret(root: Path, stack: str, key: str) -> str:
    """The decrypted value of config `key` (a path, e.g. stagewise:secrets.prometheus-token), from
    `pulumi config get`: the stack file holds only its ciphertext. The value is never printed; a
    failure names the key, never the value."""
    try:
        return pulumi(root, ["config", "get", "--path", key, "--stack", stack], PULUMI_CONFIG_TIMEOUT_SECONDS).strip()
    except PulumiCliError as error:
        raise PulumiCliError(f"cannot decrypt {key}: {error}") from None


def stack_export(root: Path, stack: str) -> str:
    """`pulumi stack export --stack S`: the engine's state of the stack, as JSON text (no secret is
    decrypted)."""
    return pulumi(root, ["stack", "export", "--stack", stack, "--non-interactive"], PULUMI_EXPORT_TIMEOUT_SECONDS)
