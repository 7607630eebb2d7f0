"""Reading Pulumi project and stack files the way the engine merges them.

Pure: no Pulumi import. Used wherever the program is evaluated without the engine (the
offline plan, the tests, the benchmarks) and by the program itself to tell which secrets
were stored encrypted.

Each text is parsed once (`load_yaml`); every rule below reads the parsed document. `StackText`
holds a stack file's text with its document, and everything a command takes from the file (the
config, which secrets are stored encrypted, the installation key, the ciphertexts) is derived from
that one document. A command parses both files when it reads the stack and passes them down; an
edit yields the new text already parsed (stagewise.tools.stackedit).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from stagewise.formats import yamlv3
from stagewise.formats.keys import NAMESPACE, SECRETS_KEY

PROJECT_FILE = "Pulumi.yaml"

# What an encrypted value reads as when there is no key to decrypt it (offline plan, tests).
SECRET_PLACEHOLDER = "[secret]"

# The keys of a stack file the secrets provider writes when `pulumi stack init` creates the stack:
# a passphrase provider's salt, or a cloud provider's wrapped data key.
INSTALLATION_KEYS = ("encryptionsalt", "encryptedkey")


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


def document_config(document: Any, source: str) -> dict[str, Any]:
    """The `config` mapping of a parsed project or stack file, as written (encrypted values as
    `{secure: ...}`); StackFileError for a document or config that is not a mapping of names."""
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


# The project file.


def project_name(document: Any) -> str | None:
    """The `name` of a parsed Pulumi.yaml; None if it has none."""
    name = document.get("name") if isinstance(document, dict) else None
    return str(name) if name else None


def project_defaults_of(document: Any) -> dict[str, Any]:
    """Project-wide config defaults of a parsed Pulumi.yaml (`config: {key: {default: ...}}` or `{value: ...}`)."""
    defaults = {}
    for key, spec in document_config(document, PROJECT_FILE).items():
        full = key if ":" in key else f"{NAMESPACE}:{key}"
        if isinstance(spec, dict) and ("default" in spec or "value" in spec):
            defaults[full] = spec.get("default", spec.get("value"))
        elif not isinstance(spec, dict):
            defaults[full] = spec
    return defaults


def project_defaults(project_text: str) -> dict[str, Any]:
    """`project_defaults_of` the text of Pulumi.yaml (for callers that need nothing else of it)."""
    return project_defaults_of(load_yaml(project_text, PROJECT_FILE))


# Encrypted values.


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


def ciphertexts(config: Mapping[str, Any]) -> dict[str, str]:
    """The encrypted values of a stack file's `config` mapping: dotted path -> ciphertext (the
    offline plan compares them, since it cannot compare the values)."""
    found: dict[str, str] = {}

    def walk(value: Any, path: str) -> None:
        if is_encrypted(value):
            found[path] = str(value["secure"])
        elif isinstance(value, Mapping):
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{path}[{i}]")

    walk(config, "")
    return found


# The stack file.


def encrypted_secret_names(config: Mapping[str, Any]) -> set[str]:
    """Names under `stagewise:secrets` that a stack file's `config` mapping (document_config)
    stores encrypted."""
    secrets = config.get(SECRETS_KEY) or {}
    if not isinstance(secrets, dict):
        return set()
    return {str(name) for name, value in secrets.items() if is_encrypted(value)}


def installation_key(document: Any) -> str | None:
    """What is unique to this installation of the stack, read from its parsed stack file: the
    secrets provider's salt or wrapped key, which `pulumi stack init` makes anew for every stack it
    creates; None if the file has neither."""
    if not isinstance(document, dict):
        return None
    for key in INSTALLATION_KEYS:
        value = document.get(key)
        if isinstance(value, str) and value:
            return value
    return None


@dataclass(frozen=True, eq=False)
class StackText:
    """A stack file's text and its document as the engine decodes it (stagewise.formats.yamlv3)."""

    text: str
    source: str
    """The file's name, for messages."""
    document: Any

    @classmethod
    def parse(cls, text: str, source: str) -> StackText:
        """`text` parsed once; StackFileError where the engine refuses it."""
        return cls(text, source, load_yaml(text, source))

    @cached_property
    def config(self) -> dict[str, Any]:
        """The file's `config` mapping (document_config), checked once."""
        return document_config(self.document, self.source)

    @property
    def encrypted_secret_names(self) -> set[str]:
        return encrypted_secret_names(self.config)

    @property
    def installation(self) -> str | None:
        return installation_key(self.document)

    @property
    def ciphertexts(self) -> dict[str, str]:
        return ciphertexts(self.config)


def merged_config(project_defaults: Mapping[str, Any], stack: StackText) -> tuple[dict[str, Any], set[str]]:
    """The stack's config as the engine merges it (the project's defaults, then the stack file) with
    encrypted leaves as SECRET_PLACEHOLDER, and the top-level keys that hold an encrypted value
    (what the engine hands a program as its secret keys)."""
    merged = {**project_defaults, **stack.config}
    secret_keys = {key for key, value in merged.items() if encrypted_paths(value)}
    return {key: _without_ciphertext(value) for key, value in merged.items()}, secret_keys


def stack_config(project_text: str, stack_text: str, source: str) -> tuple[dict[str, Any], set[str]]:
    """`merged_config` of the two texts, each parsed once (for callers that hold only the texts)."""
    return merged_config(project_defaults(project_text), StackText.parse(stack_text, source))


def as_engine_config(config: dict[str, Any]) -> dict[str, str]:
    """Config values as the engine hands them to a program: strings, structures as JSON."""
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()}
