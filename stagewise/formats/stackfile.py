"""Reading Pulumi project and stack files the way the engine merges them.

Pure: no Pulumi import. Used wherever the program is evaluated without the engine (the
offline plan, the tests, the benchmarks) and by the program itself to tell which secrets
were stored encrypted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stagewise.formats import yamlv3
from stagewise.formats.keys import NAMESPACE

PROJECT_FILE = "Pulumi.yaml"

# What an encrypted value reads as when there is no key to decrypt it (offline plan, tests).
SECRET_PLACEHOLDER = "[secret]"


class StackFileError(ValueError):
    """A project or stack file that cannot be read."""


def project_root(start: Path | None = None) -> Path:
    """The nearest folder at or above `start` (default: this package) holding Pulumi.yaml."""
    here = (start or Path(__file__)).resolve()
    for folder in [here, *here.parents]:
        if (folder / PROJECT_FILE).is_file():
            return folder
    raise StackFileError(f"no {PROJECT_FILE} found above {here}")


def stack_path(root: Path, stack: str) -> Path:
    return root / f"Pulumi.{stack}.yaml"


def read_project_text(root: Path) -> str:
    """The text of the project file in `root`."""
    try:
        return (root / PROJECT_FILE).read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise StackFileError(f"{PROJECT_FILE} is not UTF-8 text: {error}") from None


def load_yaml(text: str, source: str) -> Any:
    """The document as the engine reads it (see stagewise.formats.yamlv3): refused where it is refused."""
    try:
        return yamlv3.load(text)
    except yamlv3.YamlError as err:
        raise StackFileError(f"{source} is not valid YAML: {err}") from None


def _stack_config(document: Any, source: str) -> dict[str, Any]:
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise StackFileError(f"{source}: expected a mapping at the top level")
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise StackFileError(f"{source}: 'config' must be a mapping")
    for key in config:
        if not isinstance(key, str):
            raise StackFileError(f"{source}: config key {key!r} is not a name (quote it if it is one)")
    return config


def project_defaults(project_text: str) -> dict[str, Any]:
    """Project-wide config defaults from Pulumi.yaml (`config: {key: {default: ...}}` or `{value: ...}`)."""
    config = _stack_config(load_yaml(project_text, PROJECT_FILE), PROJECT_FILE)
    defaults = {}
    for key, spec in config.items():
        full = key if ":" in key else f"{NAMESPACE}:{key}"
        if isinstance(spec, dict) and ("default" in spec or "value" in spec):
            defaults[full] = spec.get("default", spec.get("value"))
        elif not isinstance(spec, dict):
            defaults[full] = spec
    return defaults


def is_encrypted(value: Any) -> bool:
    """Exactly what the engine decrypts: a mapping whose only key is `secure`, holding a string
    (pulumi sdk/go/common/resource/config/object.go, isSecureValue). `{secure: 12345}` is not
    one: the engine hands it to the program as it stands, in plain text."""
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("secure"), str)


def encrypted_paths(value: Any, path: str = "") -> set[str]:
    """Dotted paths of every encrypted leaf below `value`."""
    if is_encrypted(value):
        return {path}
    if isinstance(value, dict):
        return set().union(*(encrypted_paths(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()))
    if isinstance(value, list):
        return set().union(*(encrypted_paths(v, f"{path}[{i}]") for i, v in enumerate(value)))
    return set()


def _without_ciphertext(value: Any) -> Any:
    if is_encrypted(value):
        return SECRET_PLACEHOLDER
    if isinstance(value, dict):
        return {k: _without_ciphertext(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_ciphertext(v) for v in value]
    return value


def stack_config(project_text: str, stack_text: str, source: str) -> tuple[dict[str, Any], set[str]]:
    """Merged config of a stack (project defaults, then the stack file) with encrypted leaves as
    SECRET_PLACEHOLDER, and the set of top-level keys that hold an encrypted value."""
    merged = project_defaults(project_text)
    merged.update(_stack_config(load_yaml(stack_text, source), source))
    secret_keys = {key for key, value in merged.items() if encrypted_paths(value)}
    return {key: _without_ciphertext(value) for key, value in merged.items()}, secret_keys


def as_engine_config(config: dict[str, Any]) -> dict[str, str]:
    """Config values as the engine hands them to a program: strings, structures as JSON."""
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()}


def encrypted_secret_names(stack_text: str, source: str) -> set[str]:
    """Names under `stagewise:secrets` that the stack file stores encrypted."""
    config = _stack_config(load_yaml(stack_text, source), source)
    secrets = config.get(f"{NAMESPACE}:secrets") or {}
    if not isinstance(secrets, dict):
        return set()
    return {str(name) for name, value in secrets.items() if is_encrypted(value)}


def installation_key(stack_text: str, source: str) -> str | None:
    """What is unique to this installation of the stack: the secrets provider's salt or wrapped key,
    which `pulumi stack init` makes anew for every stack it creates; None if the file has neither."""
    document = load_yaml(stack_text, source)
    if not isinstance(document, dict):
        return None
    for key in ("encryptionsalt", "encryptedkey"):
        if isinstance(document.get(key), str) and document[key]:
            return str(document[key])
    return None
