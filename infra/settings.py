"""The program's edge: the stack's `stagewise:` config, read once and validated.

The config values come from the engine. Two facts about the stack file do not, so the program reads
its stack file for them (once, parsed once):

- which names under `stagewise:secrets` are stored encrypted: the engine decrypts every secret alike
  and names its secret keys whole (PULUMI_CONFIG_SECRET_KEYS, pulumi.runtime.is_config_secret: pulumi
  sdk/go/common/resource/config/map.go, SecureKeys), so it says that `stagewise:secrets` holds a
  secret, never which of its names is one; the validator refuses each name stored in plain text.
- the installation key (`encryptionsalt` or `encryptedkey`), the secrets provider's own, which the
  engine keeps to itself; it seeds the default name seed.
"""

from __future__ import annotations

from pathlib import Path

import pulumi
from pulumi.runtime import config as runtime_config

from stagewise.core.config import StackConfig, from_engine
from stagewise.formats import stackfile
from stagewise.formats.stackfile import StackText


def _stack_file(stack: str) -> StackText | None:
    path = stackfile.stack_path(stackfile.project_root(Path.cwd()), stack)
    return StackText.parse(path.read_text(), path.name) if path.is_file() else None


def load(encrypted: set[str] | None = None, installation: str | None = None) -> StackConfig:
    """The stack's config. `encrypted` names the secrets stored encrypted (the engine decrypts them
    all alike) and `installation` is what is unique to this installation of the stack (the default
    name seed); by default the stack file on disk says both (an offline plan of another revision
    passes its own)."""
    values = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    if encrypted is None:
        found = _stack_file(pulumi.get_stack())
        encrypted = found.encrypted_secret_names if found else set()
        installation = found.installation if found else None
    return from_engine(values, encrypted, installation)
