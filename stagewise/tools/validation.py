"""`stagewise validate`: every problem of a stack file, as the program and the commands would find them.

One list, one line per problem: the file cannot be read (what it is instead), its YAML is refused
the way the engine refuses it, the project file is, or a config key is refused (each key's message
from the config model, the release checked against its stages, the tier rules). Nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stagewise.core.config import ConfigError
from stagewise.core.stackconfig import decode
from stagewise.formats import stackfile
from stagewise.formats.keys import NAMESPACE
from stagewise.formats.stackfile import StackText, read_project_text
from stagewise.tools import safefile

NOTIFY_KEY = f"{NAMESPACE}:notify"


def problems(root: Path, path: Path) -> list[str]:
    """Every problem of the stack file at `path` in the project at `root`; [] when it is valid."""
    try:
        snapshot = safefile.read(path)
    except (stackfile.StackFileError, safefile.EditError) as error:
        return [str(error)]
    except OSError as error:
        return [f"cannot read {path.name}: {error.strerror or error}"]
    found: list[str] = []
    try:
        defaults = stackfile.project_defaults(read_project_text(root))
    except stackfile.StackFileError as error:
        found.append(str(error))
        defaults = {}
    try:
        parsed = StackText.parse(snapshot.text, path.name)
    except stackfile.StackFileError as error:
        return [*found, str(error)]
    try:
        decode(defaults, parsed)
    except ConfigError as error:
        found.extend(error.problems)
    except stackfile.StackFileError as error:
        found.append(str(error))
    return found + plain_webhook_urls(parsed.config)


def plain_webhook_urls(config: Mapping[str, Any]) -> list[str]:
    """A webhook URL carries its own credential (Slack's and Teams' do): it must be stored encrypted."""
    notify = config.get(NOTIFY_KEY)
    targets = notify.get("targets") if isinstance(notify, dict) else None
    if not isinstance(targets, list):
        return []
    return [
        f"{NOTIFY_KEY}.targets[{i}].url: stored in plain text; a webhook URL is a credential: set it encrypted "
        f"with pulumi config set --secret --path '{NOTIFY_KEY}.targets[{i}].url' URL"
        for i, target in enumerate(targets)
        if isinstance(target, dict) and "url" in target and not stackfile.is_encrypted(target["url"])
    ]
