"""The settled evidence steps a provider has read, kept on disk so that a new process (a watch that
restarted, the next CI job) reads only the steps after them.

A step is settled once every sample or record timestamped inside it has arrived (each provider
says when); its counts never change after that, so they are kept, not read again. The cache sits
outside the repository, beside the project's other caches: `$STAGEWISE_CACHE/gate/` (the scripts'
cache root, default `$XDG_CACHE_HOME/stagewise` or `~/.cache/stagewise`). File names are hashes of
the key (provider, queries, version, stage start, step): a provider URL may carry credentials, and
none is written.

Per key, two files: `<hash>.rows`, the settled steps' counts, appended to (one line per look that
settled steps, with the index of its first row, so a look writes what it added, not the whole
stage), and `<hash>.json`, the rest of
the provider's state (how many steps are settled, each series' last sample), replaced atomically.
Rows beyond the state's count (a look that died between the two writes) are ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

FORMAT = 2
"""Bumped when what the files hold changes; files of another format are read as absent."""


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

    def _paths(self, key: dict[str, Any]) -> tuple[Path, Path, str] | None:
        if self.folder is None:
            return None
        digest = hashlib.sha256(json.dumps({"format": FORMAT, **key}, sort_keys=True).encode()).hexdigest()
        base = self.folder / digest[:40]
        return base.with_suffix(".json"), base.with_suffix(".rows"), digest

    def load(self, key: dict[str, Any]) -> tuple[dict[str, Any], list[list[float]]] | None:
        """The state and the settled rows (as many as the state counts), or None."""
        paths = self._paths(key)
        if paths is None:
            return None
        state_path, rows_path, digest = paths
        try:
            stored = json.loads(state_path.read_text())
            if not isinstance(stored, dict) or stored.get("key") != digest or not isinstance(stored.get("state"), dict):
                return None
            count = int(stored["rows"])
            rows: list[list[float]] = []
            if count:
                with rows_path.open() as handle:
                    for line in handle:
                        first, more = json.loads(line)
                        if first > len(rows):
                            return None  # a gap: not this code's file
                        rows[first : first + len(more)] = more
                        if len(rows) >= count:
                            break
            if len(rows) < count:
                return None
        except (OSError, ValueError, KeyError, TypeError):
            return None  # absent or torn: read the steps again, which gives the same counts
        state: dict[str, Any] = stored["state"]
        return state, rows[:count]

    def save(self, key: dict[str, Any], state: dict[str, Any], rows: list[list[float]], kept: int) -> None:
        """Append `rows[kept:]` (the rows not on disk yet: `kept` are) and replace the state."""
        paths = self._paths(key)
        if paths is None:
            return
        state_path, rows_path, digest = paths
        try:
            state_path.parent.mkdir(parents=True, exist_ok=True)
            if kept == 0:
                rows_path.unlink(missing_ok=True)
            if len(rows) > kept:
                with rows_path.open("a") as handle:
                    # Each line says where its rows start: two processes appending the same steps
                    # write the same counts, and the reader places them by index.
                    handle.write(json.dumps([kept, rows[kept:]], separators=(",", ":")) + "\n")
            # Atomic replace: two watches of one stage may both write; either state is whole and right.
            with tempfile.NamedTemporaryFile("w", dir=state_path.parent, prefix=".settled-", delete=False) as temporary:
                json.dump({"key": digest, "rows": len(rows), "state": state}, temporary, separators=(",", ":"))
            os.replace(temporary.name, state_path)
        except OSError:
            pass  # a cache that cannot be written costs the next process a longer first look, nothing else
