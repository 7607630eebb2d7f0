"""The settled evidence steps a provider has read, kept on disk so that a new process (a watch that
restarted, the next CI job) reads only the steps after them.

A step is settled once every sample or record timestamped inside it has arrived (each provider
says when); its counts never change after that, so they are kept, not read again. The cache sits
outside the repository, beside the project's other caches: `$STAGEWISE_CACHE/gate/` (the scripts'
cache root, default `$XDG_CACHE_HOME/stagewise` or `~/.cache/stagewise`), one small JSON file per
provider, query set, version, stage start and step. File names are hashes: a provider URL may carry
credentials, and none is written.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

FORMAT = 1
"""Bumped when what a file holds changes; a file of another format is read as absent."""


def default_folder() -> Path:
    root = os.environ.get("STAGEWISE_CACHE")
    if not root:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = str(Path(xdg) / "stagewise") if xdg else str(Path.home() / ".cache" / "stagewise")
    return Path(root) / "gate"


class SettledCache:
    """Settled steps by key (a JSON-able dict naming the source, the queries, the version, the stage
    start and the step). `folder=None` keeps nothing on disk."""

    def __init__(self, folder: Path | None):
        self.folder = folder

    @classmethod
    def default(cls) -> SettledCache:
        return cls(default_folder())

    def _path(self, key: dict[str, Any]) -> tuple[Path | None, str]:
        digest = hashlib.sha256(json.dumps({"format": FORMAT, **key}, sort_keys=True).encode()).hexdigest()
        return (None if self.folder is None else self.folder / f"{digest[:40]}.json"), digest

    def load(self, key: dict[str, Any]) -> dict[str, Any] | None:
        path, digest = self._path(key)
        if path is None:
            return None
        try:
            stored = json.loads(path.read_text())
        except (OSError, ValueError):
            return None  # absent or torn: read the steps again, which gives the same counts
        if not isinstance(stored, dict) or stored.get("key") != digest or not isinstance(stored.get("value"), dict):
            return None
        value: dict[str, Any] = stored["value"]
        return value

    def save(self, key: dict[str, Any], value: dict[str, Any]) -> None:
        path, digest = self._path(key)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Atomic replace: two watches of one stage may both write; either file is whole and right.
            with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=".settled-", delete=False) as handle:
                json.dump({"key": digest, "value": value}, handle, separators=(",", ":"))
            os.replace(handle.name, path)
        except OSError:
            # A cache that cannot be written costs the next process a longer first look, nothing else.
            try:
                os.unlink(handle.name)
            except (OSError, UnboundLocalError):
                pass
