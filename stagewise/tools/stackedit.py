"""Editing a stack file in place: the release keys only, every other byte kept, written atomically.

Pure of Pulumi. The file is loaded with ruamel.yaml's round-trip loader, which keeps comments,
key order and quoting; the layout (indentation of mappings and sequences) is detected by finding
one under which the untouched file dumps back byte for byte. A file whose layout no setting
reproduces is refused rather than reformatted.

Concurrency: a command that edits holds an exclusive lock (flock) on the stack file from before
it reads the file until after it has renamed the new version into place (`editing`), so two
stagewise commands on one machine run one after the other, never interleaved; a command that
cannot get the lock within LOCK_TIMEOUT_SECONDS gives up with a message and writes nothing.
Writes go to a temporary file in the folder of the file (of a symlink's target), fsynced, then
`os.replace`d over it, so a reader sees the old file or the new one, never half of one. Just
before the replace the file on disk is compared with what was read (content and modification
time); if another program (an editor, git) changed it meanwhile, the write is refused.

What an edit keeps: only the lines that hold an edited value change. Line endings (LF, CRLF,
even mixed), a BOM, trailing spaces and a missing final newline stay as they were on every other
line; the file keeps its mode; a symlink stays a link (its target is edited). A file with other
hard links, or without write permission, is refused rather than replaced.
"""

from __future__ import annotations

import contextlib
import difflib
import errno
import fcntl
import io
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import SingleQuotedScalarString

from stagewise.core import stackfile, yamlv3
from stagewise.core.config import NAMESPACE, StackConfig, from_engine

RELEASE_KEY = f"{NAMESPACE}:release"
# The keys of stagewise:release that rollout commands write; image is never touched.
OWNED_KEYS = ("blue", "green", "live", "stage")

# How long a command waits for another one editing the same stack file.
LOCK_TIMEOUT_SECONDS = 10.0
_LOCK_POLL_SECONDS = 0.05

# (mapping indent, sequence indent, sequence dash offset) tried in turn.
_LAYOUTS = ((2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4), (4, 4, 0), (4, 2, 0), (2, 4, 0), (3, 3, 0), (3, 5, 2))


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


def _yaml(layout: tuple[int, int, int]) -> YAML:
    yaml = YAML(typ="rt", pure=True)
    yaml.preserve_quotes = True
    yaml.width = 4096
    mapping, sequence, offset = layout
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


def _dump(yaml: YAML, document: Any) -> str:
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


def _round_trip(text: str) -> tuple[YAML, Any]:
    """A loader/dumper that reproduces `text` exactly, and the document it loaded."""
    attempts = []
    for layout in _LAYOUTS:
        yaml = _yaml(layout)
        try:
            document = yaml.load(text)
        except Exception as err:  # ruamel raises several unrelated error types
            raise stackfile.StackFileError(f"not valid YAML: {err}") from None
        dumped = _dump(yaml, document)
        if dumped == text:
            return yaml, document
        attempts.append(dumped)
    raise EditError(f"cannot edit this file without reformatting it: {_first_rewritten_line(text, attempts)}")


def _first_rewritten_line(text: str, attempts: list[str]) -> str:
    """Which line the closest layout would rewrite, and how."""
    old = text.split("\n")

    def sameness(dumped: str) -> float:
        return difflib.SequenceMatcher(None, old, dumped.split("\n"), autojunk=False).ratio()

    new = max(attempts, key=sameness).split("\n")
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op != "equal":
            was = old[i1] if i1 < i2 else ""
            becomes = " / ".join(new[j1:j2]) if j1 < j2 else "(removed)"
            return (
                f"line {i1 + 1} ({was!r}) would be rewritten as {becomes!r}. Edit {RELEASE_KEY} by hand, "
                f"or write that line the way it would be rewritten (once) and run the command again"
            )
    return "its layout is not one ruamel.yaml reproduces"


_LINE = re.compile(r"([^\r\n]*)(\r\n|\r|\n|)")


def _lines(text: str) -> list[tuple[str, str]]:
    """Each line's content and its own line ending ('' for a last line without one)."""
    lines, at = [], 0
    while at < len(text):
        match = _LINE.match(text, at)
        assert match is not None
        lines.append((match[1], match[2]))
        at = match.end()
    return lines


def _restore(lines: list[tuple[str, str]], plain: list[str], edited: list[str]) -> str:
    """`edited` (lines of the normalised text after the edit) with every line that did not change
    taken back byte for byte from the original, and each changed line keeping its old ending."""
    endings = [ending for _, ending in lines if ending]
    usual = max(set(endings), key=endings.count) if endings else "\n"
    out: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, plain, edited, autojunk=False).get_opcodes():
        if op == "equal":
            out.extend(lines[i1:i2])
            continue
        for k, j in enumerate(range(j1, j2)):
            ending = lines[i1 + k][1] if i1 + k < i2 else (lines[i2 - 1][1] if i2 > i1 else usual)
            out.append((edited[j], ending))
    out = [(content, ending or usual) for content, ending in out[:-1]] + out[-1:]
    return "".join(content + ending for content, ending in out)


def _canonical(value: Any) -> Any:
    """A value to compare documents by (NaN equals NaN, key order ignored)."""
    if isinstance(value, dict):
        return sorted((repr(k), _canonical(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return repr(value)


def _needs_quotes(tag: str) -> bool:
    """A tag that a YAML reader would not read back as that same string when written plain:
    the engine's (yaml.v3: `2.0`, `1_000`, `0x1F`, `017`, `2024-01-02`, `true`, `null`, ...) or
    ruamel's, which this editor reads with."""
    if not yamlv3.plain_text_is_string(tag):
        return True
    try:
        return YAML(typ="safe", pure=True).load(tag) != tag
    except Exception:
        return True


def edit_release(text: str, values: dict[str, str]) -> str:
    """`text` with stagewise:release.<key> set to each of `values` (keys from OWNED_KEYS); every
    line that holds no edited value stays byte for byte as it was."""
    unknown = set(values) - set(OWNED_KEYS)
    if unknown:
        raise ValueError(f"not a key rollout commands own: {sorted(unknown)}")
    try:
        before = yamlv3.load(text)
    except yamlv3.YamlError as err:
        raise stackfile.StackFileError(f"not valid YAML: {err}") from None
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    lines = _lines(text[len(bom) :])
    # Line endings, trailing blanks and a missing final newline are not the YAML library's to
    # reproduce: the round trip works on the lines without them, and they are put back after.
    plain = [content.rstrip(" \t") for content, _ in lines]
    yaml, document = _round_trip("".join(line + "\n" for line in plain))
    config = document.get("config") if isinstance(document, CommentedMap) else None
    release = config.get(RELEASE_KEY) if isinstance(config, CommentedMap) else None
    if not isinstance(release, CommentedMap):
        raise EditError(f"the stack file has no {RELEASE_KEY} mapping under config to edit")
    for key, value in values.items():
        scalar: Any = SingleQuotedScalarString(value) if _needs_quotes(value) else value
        if key in release:
            old = release[key]
            # Keep the quoting style the file already uses for this key.
            release[key] = type(old)(value) if isinstance(old, str) and type(old) is not str else scalar
            _keep_comment_gap(release, key, old, release[key])
        else:
            _insert(release, key, scalar)
    result = bom + _restore(lines, plain, _dump(yaml, document).split("\n")[:-1])
    expected = before.get("config") if isinstance(before, dict) else None
    if not isinstance(expected, dict) or not isinstance(expected.get(RELEASE_KEY), dict):
        raise EditError(f"the stack file has no {RELEASE_KEY} mapping under config to edit")
    expected[RELEASE_KEY].update(values)
    if _canonical(yamlv3.load(result)) != _canonical(before):
        raise EditError(
            f"editing {RELEASE_KEY} here would change other values too (as the Pulumi engine reads the file); "
            f"nothing was written. Edit it by hand"
        )
    return result


def _rendered_length(value: Any) -> int:
    text = str(value)
    return len(text) + (2 if isinstance(value, str) and type(value) is not str else 0)


def _keep_comment_gap(release: CommentedMap, key: str, old: Any, new: Any) -> None:
    """Move a comment at the end of the edited line by as much as the value grew, so that
    editing a value and editing it back gives the same bytes."""
    entry = release.ca.items.get(key)
    token = entry[2] if entry and len(entry) > 2 else None
    if token is not None and token.value.startswith("#"):
        token.column = token.column + _rendered_length(new) - _rendered_length(old)


def _insert(release: CommentedMap, key: str, value: Any) -> None:
    """Add a colour key next to the other colour (blue before green), else before `live`."""
    keys = list(release)
    if key == "green" and "blue" in release:
        position = keys.index("blue") + 1
    elif key == "blue" and "green" in release:
        position = keys.index("green")
    elif "live" in release:
        position = keys.index("live")
    else:
        position = len(keys)
    before = keys[position - 1] if position > 0 else None
    release.insert(position, key, value)
    # Comment lines after the previous key describe the key that followed it: keep them there.
    if before is not None and before in release.ca.items:
        entry = release.ca.items[before]
        token = entry[2] if len(entry) > 2 else None
        if token is not None and "\n" in token.value:
            eol, _, rest = token.value.partition("\n")
            if rest.strip():
                if eol.strip():
                    token.value = eol + "\n"
                else:
                    entry[2] = None
                release.ca.items[key] = [None, None, type(token)("\n" + rest, token.start_mark, None), None]


def config_from_texts(project_text: str, stack_text: str, source: str) -> StackConfig:
    """The stack's config as the program would read it (engine encoding, secrets as stored):
    raises ConfigError exactly where the program would."""
    merged, _ = stackfile.stack_config(project_text, stack_text, source)
    return from_engine(
        stackfile.as_engine_config(merged),
        stackfile.encrypted_secret_names(stack_text, source),
        stackfile.installation_key(stack_text, source),
    )


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
