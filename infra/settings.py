"""The program's edge: the stack's `stagewise:` config, read once and validated."""

from __future__ import annotations

from pathlib import Path

import pulumi
from pulumi.runtime import config as runtime_config

from stagewise.core.config import StackConfig, from_engine
from stagewise.formats import stackfile


def _stack_file(stack: str) -> tuple[str, str] | None:
    path = stackfile.stack_path(stackfile.project_root(Path.cwd()), stack)
    return (path.read_text(), path.name) if path.is_file() else None


def load(encrypted: set[str] | None = None, installation: str | None = None) -> StackConfig:
    """The stack's config. `encrypted` names the secrets stored encrypted (the engine decrypts them
    all alike) and `installation` is what is unique to this installation of the stack (the default
    name seed); by default the stack file on disk says both (an offline plan of another revision
    passes its own)."""
    values = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    if encrypted is None:
        found = _stack_file(pulumi.get_stack())
        encrypted = stackfile.encrypted_secret_names(*found) if found else set()
        installation = stackfile.installation_key(*found) if found else None
    return from_engine(values, encrypted, installation)
