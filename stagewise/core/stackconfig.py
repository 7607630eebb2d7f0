"""A stack's config decoded from its project and stack files, the way the program would decode it
from the engine (engine encoding, secrets as stored). Pure: no Pulumi import.

Reading the files (each text parsed once, the stack file held as a `stagewise.formats.stackfile.
StackText`) is the formats layer's; this module adds only what needs the config model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stagewise.core.config import StackConfig, from_engine
from stagewise.formats import stackfile
from stagewise.formats.stackfile import StackText


def decode(project_defaults: Mapping[str, Any], stack: StackText) -> StackConfig:
    """The stack's config as the program would read it (engine encoding, secrets as stored):
    raises ConfigError exactly where the program would."""
    merged, _ = stackfile.merged_config(project_defaults, stack)
    return from_engine(stackfile.as_engine_config(merged), stack.encrypted_secret_names, stack.installation)


def config_from_texts(project_text: str, stack_text: str, source: str) -> StackConfig:
    """`decode` of the two texts, each parsed once (for callers that hold only the texts)."""
    defaults = stackfile.project_defaults(project_text)
    return decode(defaults, StackText.parse(stack_text, source))
