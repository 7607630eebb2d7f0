"""Editing a stack file in place: the release keys only, every other byte kept.

Pure of Pulumi. The file is loaded with ruamel.yaml's round-trip loader, which keeps comments,
key order and quoting; the layout (indentation of mappings and sequences) is detected by finding
one under which the untouched file dumps back byte for byte. A file whose layout no setting
reproduces is refused rather than reformatted.

What an edit keeps: only the lines that hold an edited value change. Line endings (LF, CRLF,
even mixed), a BOM, trailing spaces and a missing final newline stay as they were on every other
line. This module turns text into text (`edit` also takes and gives the document the engine reads
from it, so that a command parses each text once); reading the file under its lock and writing the
result atomically is `stagewise.tools.safefile`'s, parsing it `stagewise.formats.stackfile`'s, and decoding
the config `stagewise.core.stackconfig`'s.
"""

from __future__ import annotations

import copy
import difflib
import io
import re
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.events import DocumentStartEvent
from ruamel.yaml.scalarstring import SingleQuotedScalarString

from stagewise.formats import stackfile, yamlv3
from stagewise.formats.keys import RELEASE_KEY
from stagewise.tools.safefile import EditError

__all__ = ["OWNED_KEYS", "RELEASE_KEY", "EditError", "edit", "edit_release"]

# The keys of stagewise:release that rollout commands write; image is never touched.
OWNED_KEYS = ("blue", "green", "live", "stage")

# (mapping indent, sequence indent, sequence dash offset) tried in turn.
_LAYOUTS = ((2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4), (4, 4, 0), (4, 2, 0), (2, 4, 0), (3, 3, 0), (3, 5, 2))


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
    """A dumper that reproduces `text` exactly, and the document it loaded. The layout settings
    only steer the dumper, so the text is loaded once and dumped with each layout in turn."""
    try:
        document = _yaml(_LAYOUTS[0]).load(text)
    except Exception as err:  # ruamel raises several unrelated error types
        raise stackfile.StackFileError(f"not valid YAML: {err}") from None
    attempts = []
    for layout in _LAYOUTS:
        yaml = _yaml(layout)
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


def _own_keys_only(values: dict[str, str]) -> None:
    unknown = set(values) - set(OWNED_KEYS)
    if unknown:
        raise ValueError(f"not a key rollout commands own: {sorted(unknown)}")


def edit_release(text: str, values: dict[str, str]) -> str:
    """`text` with stagewise:release.<key> set to each of `values` (keys from OWNED_KEYS); every
    line that holds no edited value stays byte for byte as it was."""
    _own_keys_only(values)
    try:
        document = yamlv3.load(text)
    except yamlv3.YamlError as err:
        raise stackfile.StackFileError(f"not valid YAML: {err}") from None
    return edit(text, document, values)[0]


def edit(text: str, document: Any, values: dict[str, str]) -> tuple[str, Any]:
    """`edit_release` of a text whose `document` (as the engine reads it) the caller holds already;
    returns the new text and its document, which the check that nothing else changed reads, so
    that a caller validates the result without parsing it again."""
    _own_keys_only(values)
    cut = _second_document_at(text)
    if cut is not None:
        # The engine reads the first document only (stagewise.formats.yamlv3): edit it, keep the rest.
        head, _ = edit(text[:cut], document, values)
        result = head + text[cut:]
        return result, yamlv3.load(result)
    before = copy.deepcopy(document)
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    lines = _lines(text[len(bom) :])
    # Line endings, trailing blanks and a missing final newline are not the YAML library's to
    # reproduce: the round trip works on the lines without them, and they are put back after.
    plain = [content.rstrip(" \t") for content, _ in lines]
    yaml, tree = _round_trip("".join(line + "\n" for line in plain))
    config = tree.get("config") if isinstance(tree, CommentedMap) else None
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
    dumped = _dump(yaml, tree).split("\n")[:-1]
    _only_edited_lines_change(plain, dumped, values)
    result = bom + _restore(lines, plain, dumped)
    expected = before.get("config") if isinstance(before, dict) else None
    if not isinstance(expected, dict) or not isinstance(expected.get(RELEASE_KEY), dict):
        raise EditError(f"the stack file has no {RELEASE_KEY} mapping under config to edit")
    expected[RELEASE_KEY].update(values)
    edited = yamlv3.load(result)
    if _canonical(edited) != _canonical(before):
        raise EditError(
            f"editing {RELEASE_KEY} here would change other values too (as the Pulumi engine reads the file); "
            f"nothing was written. Edit it by hand"
        )
    return result, edited


def _only_edited_lines_change(plain: list[str], dumped: list[str], values: dict[str, str]) -> None:
    """The minimal-edit promise: only the lines of the keys being set may change. An anchor on an edited
    value (`stage: &s idle`, used elsewhere as `*s`) is where it breaks: the dumper moves the anchor to
    the alias's line and rewrites it, so the edit is refused instead."""
    own = re.compile(rf"^\s+({'|'.join(re.escape(key) for key in values)}):")
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, plain, dumped, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        for number, line in [(i + 1, plain[i]) for i in range(i1, i2)] + [(i1 + 1, dumped[j]) for j in range(j1, j2)]:
            if not own.match(line):
                raise EditError(
                    f"editing {RELEASE_KEY} would rewrite line {number} ({line.strip()!r}) too: the file ties that "
                    f"line to a value being edited (a YAML anchor or alias); nothing was written. Write the value "
                    f"without the anchor or alias, or edit {RELEASE_KEY} by hand"
                )


def _second_document_at(text: str) -> int | None:
    """Where a second YAML document begins in `text` (the index of its `---`), or None if there is one
    document. Reading stops there: what follows is never the engine's to read."""
    try:
        starts = 0
        for event in YAML().parse(text):
            if isinstance(event, DocumentStartEvent):
                starts += 1
                if starts == 2:
                    return int(event.start_mark.index)
    except Exception:  # ruamel raises several unrelated error types; the edit itself reports them
        return None
    return None


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
