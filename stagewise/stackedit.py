"""Editing a stack file in place: the release keys only, every other byte kept, written atomically.

Pure of Pulumi. The file is loaded with ruamel.yaml's round-trip loader, which keeps comments,
key order and quoting; the layout (indentation of mappings and sequences) is detected by finding
one under which the untouched file dumps back byte for byte. A file whose layout no setting
reproduces is refused rather than reformatted.

Writes go to a temporary file in the same folder, then `os.replace`, so a reader sees the old file
or the new one, never half of one. Just before the replace the file on disk is compared with what
was read (content and modification time); if someone changed it meanwhile, the write is refused.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import SingleQuotedScalarString

from stagewise import stackfile
from stagewise.config import NAMESPACE, SecretValue, StackConfig, parse

RELEASE_KEY = f"{NAMESPACE}:release"
# The keys of stagewise:release that rollout commands write; image is never touched.
OWNED_KEYS = ("blue", "green", "live", "stage")

# (mapping indent, sequence indent, sequence dash offset) tried in turn.
_LAYOUTS = ((2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4), (4, 4, 0), (4, 2, 0), (2, 4, 0), (3, 3, 0), (3, 5, 2))


class EditError(ValueError):
    """An edit refused to keep the file safe; the message says why and what to do."""


@dataclass(frozen=True)
class Snapshot:
    """A stack file as read: its text and what identifies this version on disk."""

    path: Path
    text: str
    data: bytes
    mtime_ns: int
    mode: int


def read(path: Path) -> Snapshot:
    try:
        data = path.read_bytes()
        stat = path.stat()
    except FileNotFoundError:
        raise stackfile.StackFileError(f"{path.name} does not exist in {path.parent}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise stackfile.StackFileError(f"{path.name} is not UTF-8 text: {err}") from None
    return Snapshot(path, text, data, stat.st_mtime_ns, stat.st_mode & 0o7777)


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
    for layout in _LAYOUTS:
        yaml = _yaml(layout)
        try:
            document = yaml.load(text)
        except Exception as err:  # ruamel raises several unrelated error types
            raise stackfile.StackFileError(f"not valid YAML: {err}") from None
        if _dump(yaml, document) == text:
            return yaml, document
    raise EditError(
        "cannot edit this file without reformatting it (its indentation or spacing is not one that "
        "ruamel.yaml reproduces); edit stagewise:release by hand, or reformat the file with 2-space "
        "indentation once"
    )


def _needs_quotes(tag: str) -> bool:
    """A tag such as 2.0 or 10 would read back as a number, not a string."""
    try:
        return not isinstance(YAML(typ="safe", pure=True).load(tag), str)
    except Exception:
        return True


def edit_release(text: str, values: dict[str, str]) -> str:
    """`text` with stagewise:release.<key> set to each of `values` (keys from OWNED_KEYS)."""
    unknown = set(values) - set(OWNED_KEYS)
    if unknown:
        raise ValueError(f"not a key rollout commands own: {sorted(unknown)}")
    crlf = "\r\n" in text
    source = text.replace("\r\n", "\n") if crlf else text
    yaml, document = _round_trip(source)
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
    result = _dump(yaml, document)
    return result.replace("\n", "\r\n") if crlf else result


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
    encrypted = stackfile.encrypted_secret_names(stack_text, source)
    prefix = f"{NAMESPACE}:"
    raw = {
        key[len(prefix):]: _engine_decode(value)
        for key, value in stackfile.as_engine_config(merged).items()
        if key.startswith(prefix)
    }
    secrets = raw.get("secrets")
    if isinstance(secrets, dict):
        raw["secrets"] = {
            name: SecretValue(str(value)) if name in encrypted else value for name, value in secrets.items()
        }
    return parse(raw)


def _engine_decode(value: str) -> Any:
    # As infra.settings does: structured values arrive as JSON text, scalars as plain text.
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


def unchanged_on_disk(snapshot: Snapshot) -> bool:
    try:
        return snapshot.path.stat().st_mtime_ns == snapshot.mtime_ns and snapshot.path.read_bytes() == snapshot.data
    except FileNotFoundError:
        return False


def write(snapshot: Snapshot, text: str) -> None:
    """Replace the file read as `snapshot` with `text`, atomically; refuse if it changed since."""
    folder = snapshot.path.parent
    fd, temp = tempfile.mkstemp(prefix=f".{snapshot.path.name}.", suffix=".tmp", dir=folder)
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
        os.replace(temp, snapshot.path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
