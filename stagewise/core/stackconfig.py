"""A stack's config decoded from the texts of its project and stack files, the way the program
would decode it from the engine (engine encoding, secrets as stored). Pure: no Pulumi import.

Each text is parsed once. `StackText` holds a stack file's text with its document as the engine
reads it, and everything a command takes from the file (the config, which secrets are stored
encrypted, the installation key, the ciphertexts) is derived from that one document; the project
file's defaults are read once into a mapping. A command parses both when it reads the stack and
passes them down; an edit yields the new text already parsed (stagewise.tools.stackedit).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from stagewise.core.config import StackConfig, from_engine
from stagewise.formats import stackfile
from stagewise.formats.keys import NAMESPACE

SECRETS_KEY = f"{NAMESPACE}:secrets"

# The keys of a stack file the secrets provider writes when `pulumi stack init` creates the stack:
# a passphrase provider's salt, or a cloud provider's wrapped data key.
INSTALLATION_KEYS = ("encryptionsalt", "encryptedkey")


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
        return cls(text, source, stackfile.load_yaml(text, source))

    @cached_property
    def config(self) -> dict[str, Any]:
        """The file's `config` mapping, as written (encrypted values as `{secure: ...}`);
        StackFileError for a document or config that is not a mapping of names."""
        # stackfile's text-level readers parse the text on every call; this is their check of the
        # parsed document, so that a command checks one document once.
        return stackfile._stack_config(self.document, self.source)

    @property
    def encrypted_secret_names(self) -> set[str]:
        """Names under `stagewise:secrets` that the file stores encrypted."""
        secrets = self.config.get(SECRETS_KEY) or {}
        if not isinstance(secrets, dict):
            return set()
        return {str(name) for name, value in secrets.items() if stackfile.is_encrypted(value)}

    @property
    def installation(self) -> str | None:
        """What is unique to this installation of the stack: the secrets provider's salt or wrapped
        key, which `pulumi stack init` makes anew for every stack it creates; None if there is neither."""
        if not isinstance(self.document, dict):
            return None
        for key in INSTALLATION_KEYS:
            value = self.document.get(key)
            if isinstance(value, str) and value:
                return value
        return None

    @property
    def ciphertexts(self) -> dict[str, str]:
        """Each encrypted value of the file's config: dotted path -> ciphertext (the offline plan
        compares them, since it cannot compare the values)."""
        return ciphertexts(self.config)


def ciphertexts(config: Mapping[str, Any]) -> dict[str, str]:
    """The encrypted values of a stack file's `config` mapping: dotted path -> ciphertext."""
    found: dict[str, str] = {}

    def walk(value: Any, path: str) -> None:
        if stackfile.is_encrypted(value):
            found[path] = str(value["secure"])
        elif isinstance(value, Mapping):
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{path}[{i}]")

    walk(config, "")
    return found


def merged_config(project_defaults: Mapping[str, Any], stack: StackText) -> tuple[dict[str, Any], set[str]]:
    """The stack's config as the engine merges it (the project's defaults, then the stack file) with
    encrypted leaves as SECRET_PLACEHOLDER, and the top-level keys that hold an encrypted value
    (what the engine hands a program as its secret keys)."""
    merged = {**project_defaults, **stack.config}
    secret_keys = {key for key, value in merged.items() if stackfile.encrypted_paths(value)}
    return {key: stackfile._without_ciphertext(value) for key, value in merged.items()}, secret_keys


def decode(project_defaults: Mapping[str, Any], stack: StackText) -> StackConfig:
    """The stack's config as the program would read it (engine encoding, secrets as stored):
    raises ConfigError exactly where the program would."""
    merged, _ = merged_config(project_defaults, stack)
    return from_engine(stackfile.as_engine_config(merged), stack.encrypted_secret_names, stack.installation)


def config_from_texts(project_text: str, stack_text: str, source: str) -> StackConfig:
    """`decode` of the two texts, each parsed once (for callers that hold only the texts)."""
    defaults = stackfile.project_defaults(project_text)
    return decode(defaults, StackText.parse(stack_text, source))
