"""The program's edge: the stack's `stagewise:` config, read once and validated."""

from __future__ import annotations

from pathlib import Path

import pulumi
from pulumi.runtime import config as runtime_config

from stagewise.core import stackfile
from stagewise.core.config import StackConfig, from_engine


def _encrypted_secret_names(stack: str) -> set[str]:
    """Which secrets the stack file stores encrypted: the engine decrypts them all alike."""
    path = stackfile.stack_path(stackfile.project_root(Path.cwd()), stack)
    if not path.is_file():
        return set()
    return stackfile.encrypted_secret_names(path.read_text(), path.name)


def load(encrypted: set[str] | None = None) -> StackConfig:
    """The stack's config. `encrypted` names the secrets stored encrypted; by default the
    stack file on disk says which (an offline plan of another revision passes its own)."""
    values = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    if encrypted is None:
        encrypted = _encrypted_secret_names(pulumi.get_stack())
    return from_engine(values, encrypted)
