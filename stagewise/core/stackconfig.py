"""A stack's config decoded from the texts of its project and stack files, the way the program
would decode it from the engine (engine encoding, secrets as stored). Pure: no Pulumi import."""

from __future__ import annotations

from stagewise.core.config import StackConfig, from_engine
from stagewise.formats import stackfile


def config_from_texts(project_text: str, stack_text: str, source: str) -> StackConfig:
    """The stack's config as the program would read it (engine encoding, secrets as stored):
    raises ConfigError exactly where the program would."""
    merged, _ = stackfile.stack_config(project_text, stack_text, source)
    return from_engine(
        stackfile.as_engine_config(merged),
        stackfile.encrypted_secret_names(stack_text, source),
        stackfile.installation_key(stack_text, source),
    )
