"""The program's edge: the stack's `stagewise:` config, read once and validated."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from stagewise.core import stackfile
from stagewise.core.config import NAMESPACE, SecretValue, StackConfig, parse


def _decode(value: str) -> Any:
    """The engine hands structured config over as JSON text and scalars as plain text."""
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


def _namespace_values() -> dict[str, Any]:
    every = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    prefix = f"{NAMESPACE}:"
    return {key[len(prefix) :]: _decode(value) for key, value in every.items() if key.startswith(prefix)}


def _encrypted_secret_names(stack: str) -> set[str]:
    """Which secrets the stack file stores encrypted: the engine decrypts them all alike."""
    path = stackfile.stack_path(stackfile.project_root(Path.cwd()), stack)
    if not path.is_file():
        return set()
    return stackfile.encrypted_secret_names(path.read_text(), path.name)


def load(encrypted: set[str] | None = None) -> StackConfig:
    """The stack's config. `encrypted` names the secrets stored encrypted; by default the
    stack file on disk says which (an offline plan of another revision passes its own)."""
    raw = _namespace_values()
    secrets = raw.get("secrets")
    if isinstance(secrets, dict):
        if encrypted is None:
            encrypted = _encrypted_secret_names(pulumi.get_stack())
        raw["secrets"] = {
            name: SecretValue(str(value)) if name in encrypted else value for name, value in secrets.items()
        }
    return parse(raw)
