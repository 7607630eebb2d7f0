"""Replacing a file safely: read under a lock, written atomically, never half-written.

Pure of Pulumi. A command that edits holds an exclusive lock (flock) on the file from before it
reads the file until after it has renamed the new version into place (`editing`), so two
stagewise commands on one machine run one after the other, never interleaved; a command that
cannot get the lock within LOCK_TIMEOUT_SECONDS gives up with a message and writes nothing.
Writes go to a temporary file in the folder of the file (of a symlink's target), fsynced, then
`os.replace`d over it, so a reader sees the old file or the new one, never half of one. Just
before the replace the file on disk is compared with what was read (content and modification
time); if another program (an editor, git) changed it meanwhile, the write is refused.

The file keeps its mode; a symlink stays a link (its target is replaced). A file with other hard
links, or without write permission, is refused rather than replaced. Only regular files are read:
a directory, FIFO, socket or device is refused before it is opened.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from stagewise.formats import stackfile

# How long a command waits for another one editing the same stack file.
LOCK_TIMEOUT_SECONDS = 10.0
_LOCK_POLL_SECONDS = 0.05


class EditError(ValueError):
    """An edit refused to keep the file safe; the message says why and what to do."""


@dataclass(frozen=True)
class Snapshot:
    """A stack file as read: its text and what identifies this version on disk."""

    path: Path
    """The file the user named (maybe a symlink)."""
    text: str
    data: bytes
    mtime_ns: int
    mode: int
    target: Path | None = None
    """The regular file that holds the content (`path` itself unless it is a symlink)."""
    links: int = 1

    @property
    def real(self) -> Path:
        return self.target or self.path


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def regular_file(path: Path) -> Path:
    """The regular file `path` names (following symlinks), or StackFileError saying what it is instead.
    Never opens anything: a FIFO would block the read."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if path.is_symlink():
            raise stackfile.StackFileError(
                f"{path.name} is a symbolic link to {os.readlink(path)}, which does not exist"
            ) from None
        raise stackfile.StackFileError(f"{path.name} does not exist in {path.parent}") from None
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise stackfile.StackFileError(f"{path.name} is a symbolic link that loops back on itself") from None
        raise
    for test, kind in _KINDS:
        if test(info.st_mode):
            raise stackfile.StackFileError(f"{path.name} is {kind}, not a stack file")
    return Path(os.path.realpath(path))


def _open_regular(path: Path, target: Path) -> int:
    """A read-only descriptor of `target`, which must still be a regular file (it may have been
    swapped since it was looked at: O_NONBLOCK keeps a FIFO from blocking the open)."""
    try:
        fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise stackfile.StackFileError(f"{path.name} does not exist in {path.parent}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        regular_file(path)  # says what it is now
        raise stackfile.StackFileError(f"{path.name} is not a regular file")
    return fd


def read(path: Path, target: Path | None = None) -> Snapshot:
    """The stack file `path` names (`target`: the regular file it resolves to, if known)."""
    target = target or regular_file(path)
    with os.fdopen(_open_regular(path, target), "rb") as handle:
        data = handle.read()
        info = os.fstat(handle.fileno())
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise stackfile.StackFileError(f"{path.name} is not UTF-8 text: {err}") from None
    return Snapshot(
        path,
        text,
        data,
        info.st_mtime_ns,
        info.st_mode & 0o7777,
        target if target != path else None,
        info.st_nlink,
    )


def _lock_error(path: Path) -> EditError:
    return EditError(
        f"another command is editing {path.name} (waited {LOCK_TIMEOUT_SECONDS:g} s for it to finish); "
        f"nothing was written. Run the command again when it is done"
    )


@contextlib.contextmanager
def editing(path: Path) -> Iterator[Snapshot]:
    """The stack file, read under an exclusive lock that is held until the block ends: every
    stagewise command that edits a stack file reads, checks and writes inside one of these, so
    two of them on one machine never interleave (one waits, at most LOCK_TIMEOUT_SECONDS)."""
    deadline = time.monotonic() + LOCK_TIMEOUT_SECONDS
    while True:
        target = regular_file(path)
        fd = _open_regular(path, target)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise _lock_error(path) from None
                    time.sleep(_LOCK_POLL_SECONDS)
            # The holder we waited for may have replaced the file: lock the file now under the name.
            held = os.fstat(fd)
            try:
                current = os.stat(target)
            except FileNotFoundError:
                current = None
            if current is not None and (current.st_dev, current.st_ino) == (held.st_dev, held.st_ino):
                yield read(path, target)
                return
        finally:
            os.close(fd)  # closing releases the lock


def unchanged_on_disk(snapshot: Snapshot) -> bool:
    try:
        info = os.stat(snapshot.real)
        return info.st_mtime_ns == snapshot.mtime_ns and snapshot.real.read_bytes() == snapshot.data
    except FileNotFoundError:
        return False


def check_writable(snapshot: Snapshot) -> None:
    """Refuse files that a rename would not update faithfully, and files the user made read-only."""
    name = snapshot.path.name
    if snapshot.links > 1:
        raise EditError(
            f"{name} has {snapshot.links} hard links: replacing it would leave the other names with the old "
            f"content; nothing was written. Keep one name (use a symbolic link for the others)"
        )
    # The permission bits, not os.access: root may write anything, and should still not.
    if snapshot.mode & 0o222 == 0 or (snapshot.real.exists() and not os.access(snapshot.real, os.W_OK)):
        raise EditError(
            f"{name} is read-only (mode {snapshot.mode:04o}); nothing was written. "
            f"Make it writable (chmod u+w {name}) if it should be edited"
        )


def write(snapshot: Snapshot, text: str) -> None:
    """Replace the file read as `snapshot` with `text`, atomically; refuse if it changed since.
    Call it inside `editing` so that no other stagewise command writes between read and rename."""
    check_writable(snapshot)
    folder = snapshot.real.parent
    fd, temp = tempfile.mkstemp(prefix=f".{snapshot.real.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, snapshot.mode)
        if not unchanged_on_disk(snapshot):
            raise EditError(
                f"{snapshot.path.name} changed on disk while this command ran; nothing was written. "
                f"Run the command again on the new content"
            )
        os.replace(temp, snapshot.real)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
