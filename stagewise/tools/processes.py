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


def insights_id(root: Path, stack: str) -> str:
    """The stack's Application Insights resource ID, from its `insights_id` output."""
    exe = shutil.which("pulumi")
    hint = "set stagewise:analysis.resourceId to the resource ID to read instead"
    if exe is None:
        raise PulumiCliError(
            f"provider appinsights needs the stack's insights_id output, and there is no pulumi CLI; {hint}"
        )
    try:
        result = subprocess.run(
            [exe, "stack", "output", "insights_id", "--stack", stack, "--non-interactive"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=PULUMI_OUTPUT_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        raise PulumiCliError(
            f"pulumi stack output insights_id did not answer within {PULUMI_OUTPUT_TIMEOUT_SECONDS:g} s; {hint}"
        ) from None
    value = result.stdout.strip()
    if result.returncode != 0 or not value.startswith("/subscriptions/"):
        detail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise PulumiCliError(f"cannot read the stack's insights_id output ({detail}); {hint}")
    return value


PULUMI_CONFIG_TIMEOUT_SECONDS = 30.0


def config_secret(root: Path, stack: str, key: str) -> str:
    """The decrypted value of config `key` (a path, e.g. stagewise:secrets.prometheus-token), from
    `pulumi config get`: the stack file holds only its ciphertext. The value is never printed; a
    failure names the key, never the value."""
    exe = shutil.which("pulumi")
    if exe is None:
        raise PulumiCliError(f"{key} is a secret and there is no pulumi CLI on PATH to decrypt it")
    try:
        result = subprocess.run(
            [exe, "config", "get", "--path", key, "--stack", stack],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=PULUMI_CONFIG_TIMEOUT_SECONDS,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"},
        )
    except subprocess.TimeoutExpired:
        raise PulumiCliError(
            f"pulumi config get {key} did not answer within {PULUMI_CONFIG_TIMEOUT_SECONDS:g} s"
        ) from None
    except OSError as error:
        raise PulumiCliError(f"cannot run pulumi to decrypt {key}: {error.strerror or error}") from None
    if result.returncode != 0:
        # pulumi's message names the key, never the value; keep its last line only.
        detail = (result.stderr.strip().splitlines() or ["no output"])[-1][:200]
        raise PulumiCliError(f"pulumi config get {key} failed: {detail}")
    return result.stdout.strip()
