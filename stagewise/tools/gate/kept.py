"""The gate's state kept across looks and processes, so a look costs the same at hour 48 as at minute 1.

A `Judge` has taken every settled step of a stage once; the next look (in this process or a later
`stagewise analyze`) goes on from where it stopped instead of judging the stage again from step 0.
Kept in memory within a process, and on disk between them beside the settled steps
(`$STAGEWISE_CACHE/gate/`, outside the repository: stagewise.tools.gate.settled), one file per
stack, stage commit, versions, limits, step and bounds: anything that changes what the steps mean
starts a new Judge. The file is this user's own cache, written by this code, and read with pickle;
a file that does not load is ignored and replaced.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import tempfile
from pathlib import Path

from stagewise.tools.gate.judge import Judge

FORMAT = 3
"""Bumped when the Judge's state changes shape: files of another format are not read."""

_memory: dict[tuple[Path | None, str], Judge] = {}


def key(*parts: object) -> str:
    """A stable name for the state that `parts` (stack, commit, versions, limits, step, bounds) identify."""
    text = "\x1f".join(repr(part) for part in (FORMAT, *parts))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def load(folder: Path | None, name: str) -> Judge | None:
    """The Judge kept under `name`, from memory or from `folder`; None if there is none."""
    if (folder, name) in _memory:
        return _memory[folder, name]
    if folder is None:
        return None
    path = folder / f"judge-{name}.pickle"
    try:
        with path.open("rb") as handle:
            found = pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError):
        return None
    if not isinstance(found, Judge):
        return None
    _memory[folder, name] = found
    return found


def save(folder: Path | None, name: str, judge: Judge) -> None:
    """Keep `judge` under `name`; on disk atomically (a reader sees the old state or the new, never
    half). A folder that cannot be written only costs the next process a full read."""
    _memory[folder, name] = judge
    if folder is None:
        return
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".judge-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                pickle.dump(judge, out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, folder / f"judge-{name}.pickle")
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)


def forget() -> None:
    """Drop what is kept in memory (tests, and a benchmark measuring a cold process)."""
    _memory.clear()
