"""YAML read the way the Pulumi engine reads a stack file, so that we accept, refuse and type
values exactly where it does.

Pure: no Pulumi import. The engine loads `Pulumi.<stack>.yaml` with gopkg.in/yaml.v3 (v3.0.1),
decoding the first document into `any` (pulumi sdk/go/common/workspace/loaders.go,
LoadProjectStackBytes; encoding/marshal.go), after stripping a UTF-8 BOM. ruamel.yaml does the
scanning and parsing here (events only); building nodes and decoding them is a port of yaml.v3's
decode.go and resolve.go:

- plain scalars are typed by yaml.v3's `resolve` (resolve.go): `true`/`True`/`TRUE`,
  `false`/..., `~`/`null`/`Null`/`NULL`/empty, `.inf`/`.nan` spellings, and for a scalar that
  starts with a digit, a sign or a dot: a timestamp (`2024-1-2`, ...), an integer after removing
  every `_` (Go's base prefixes `0x`, `0o`, `0b`, and a leading `0` meaning octal), or a float.
  `yes`, `no`, `on`, `off`, `y`, `n` stay strings.
- "document contains excessive aliasing": the decoder counts every node it decodes and those it
  decodes through an alias, and fails when more than 100 come through aliases, more than 1000
  in all, and the share through aliases exceeds allowedAliasRatio (decode.go).
- "anchor '<name>' value contains itself" for an alias inside its own anchor (decode.go, alias).
- "mapping key ... already defined" for a repeated key (decode.go, mapping: uniqueKeys).
- `<<` merge keys, as decode.go's `merge`.

What the program finally receives is what the engine's config layer makes of these values
(sdk/go/common/resource/config/object.go, unmarshalObject): a timestamp becomes the text of Go's
`time.Time.String()`, which is what `timestamp_text` reproduces (for an engine running in UTC).
"""

from __future__ import annotations

import base64
import io
import math
import re
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml import events as ev

# Deeper than this is refused with a message rather than risking Python's recursion limit;
# no stack file comes near it.
MAX_DEPTH = 200

# decode.go: allowedAliasRatio and the bounds of its range.
ALIAS_RATIO_RANGE_LOW = 400_000
ALIAS_RATIO_RANGE_HIGH = 4_000_000

_SCALAR, _MAPPING, _SEQUENCE, _ALIAS, _DOCUMENT = "scalar", "mapping", "sequence", "alias", "document"

NULL, BOOL, STR, INT, FLOAT, TIMESTAMP, SEQ, MAP, BINARY, MERGE = (
    "!!null",
    "!!bool",
    "!!str",
    "!!int",
    "!!float",
    "!!timestamp",
    "!!seq",
    "!!map",
    "!!binary",
    "!!merge",
)
_LONG_PREFIX = "tag:yaml.org,2002:"

_RESOLVE_MAP: dict[str, tuple[str, Any]] = {
    **{s: (BOOL, True) for s in ("true", "True", "TRUE")},
    **{s: (BOOL, False) for s in ("false", "False", "FALSE")},
    **{s: (NULL, None) for s in ("", "~", "null", "Null", "NULL")},
    **{s: (FLOAT, math.nan) for s in (".nan", ".NaN", ".NAN")},
    **{s: (FLOAT, math.inf) for s in (".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF")},
    **{s: (FLOAT, -math.inf) for s in ("-.inf", "-.Inf", "-.INF")},
    "<<": (MERGE, "<<"),
}
_YAML_STYLE_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
# Go's strconv.ParseFloat on a scalar that starts with '.' (and is not in the map above).
_DOT_FLOAT = re.compile(r"^\.[0-9]+([eE][-+]?[0-9]+)?$")
_INT64_MIN, _INT64_MAX, _UINT64_MAX = -(2**63), 2**63 - 1, 2**64 - 1


class YamlError(ValueError):
    """Text the engine's YAML reader refuses; the message is the reason, as yaml.v3 words it."""


def short_tag(tag: str) -> str:
    return "!!" + tag[len(_LONG_PREFIX) :] if tag.startswith(_LONG_PREFIX) else tag


def _hint(text: str) -> str:
    if text == "":
        return "N"
    first = text[0]
    if first in "+-":
        return "S"
    if first.isascii() and first.isdigit():
        return "D"
    if first in "yYnNtTfFoO~":
        return "M"
    return "." if first == "." else ""


def _go_parse_uint(text: str, base: int) -> int | None:
    """strconv.ParseUint(text, base, 64); base 0 reads Go's prefixes (0x, 0o, 0b, leading 0)."""
    if text == "":
        return None
    if base == 0:
        base = 10
        if text[0] == "0":
            prefix = text[1:2].lower()
            if len(text) >= 3 and prefix in ("b", "o", "x"):
                base, text = {"b": 2, "o": 8, "x": 16}[prefix], text[2:]
            else:
                base, text = 8, text[1:]
    digits = "0123456789abcdef"[:base]
    if any(c.lower() not in digits for c in text):
        return None
    value = int(text, base) if text else 0
    return value if value <= _UINT64_MAX else None


def _go_parse_int(text: str, base: int = 0) -> int | None:
    """strconv.ParseInt(text, base, 64)."""
    sign, body = (text[0], text[1:]) if text[:1] in ("+", "-") else ("", text)
    magnitude = _go_parse_uint(body, base)
    if magnitude is None:
        return None
    value = -magnitude if sign == "-" else magnitude
    return value if _INT64_MIN <= value <= _INT64_MAX else None


def _go_parse_float(text: str) -> float | None:
    """strconv.ParseFloat(text, 64) for the decimal forms resolve reaches; out of range fails."""
    try:
        value = float(text)
    except ValueError:
        return None
    return None if math.isinf(value) else value


_TIMESTAMP_FORMATS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[Tt](\d{1,2}):(\d{1,2}):(\d{1,2})(?:[.,](\d+))?(Z|[+-]\d{2}:\d{2})$"),
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{1,2}):(\d{1,2})(?:[.,](\d+))?()$"),
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})()()()()()$"),
)
_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@dataclass(frozen=True)
class Timestamp:
    """A plain scalar yaml.v3 reads as a time (resolve.go, allowedTimestampFormats)."""

    year: int
    month: int
    day: int
    hour: int
    minute: int
    second: int
    nanosecond: int
    offset_minutes: int

    def text(self) -> str:
        """Go's time.Time.String(), as the engine's config layer hands the value to a program."""
        fraction = f".{self.nanosecond:09d}".rstrip("0") if self.nanosecond else ""
        sign = "-" if self.offset_minutes < 0 else "+"
        hours, minutes = divmod(abs(self.offset_minutes), 60)
        zone = "UTC" if self.offset_minutes == 0 else f"{sign}{hours:02d}{minutes:02d}"
        return (
            f"{self.year:04d}-{self.month:02d}-{self.day:02d} "
            f"{self.hour:02d}:{self.minute:02d}:{self.second:02d}{fraction} {sign}{hours:02d}{minutes:02d} {zone}"
        )


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def parse_timestamp(text: str) -> Timestamp | None:
    for pattern in _TIMESTAMP_FORMATS:
        match = pattern.match(text)
        if not match:
            continue
        year, month, day = (int(match[i]) for i in (1, 2, 3))
        hour, minute, second = (int(match[i] or 0) for i in (4, 5, 6))
        nanosecond = int((match[7] or "0")[:9].ljust(9, "0"))
        zone = match[8] or "Z"
        offset = 0 if zone == "Z" else (1 if zone[0] == "+" else -1) * (int(zone[1:3]) * 60 + int(zone[4:6]))
        days = 28 if month == 2 and not _leap(year) else _DAYS[month - 1] if 1 <= month <= 12 else 0
        if not (1 <= day <= days and hour < 24 and minute < 60 and second < 60):
            return None
        return Timestamp(year, month, day, hour, minute, second, nanosecond, offset)
    return None


def resolve(tag: str, text: str) -> tuple[str, Any]:
    """yaml.v3's resolve(tag, in): the tag a scalar resolves to and its value."""
    tag = short_tag(tag)
    if tag not in ("", STR, BOOL, INT, FLOAT, NULL, TIMESTAMP):
        return tag, text
    rtag, out = _resolve_untyped(tag, text)
    if tag in ("", rtag, STR):
        return rtag, out
    if tag == FLOAT and rtag == INT:
        return FLOAT, float(out)
    raise YamlError(f"cannot decode {rtag} `{text}` as a {tag}")


def _resolve_untyped(tag: str, text: str) -> tuple[str, Any]:
    hint = _hint(text)
    if not hint or tag == STR:
        return STR, text
    if text in _RESOLVE_MAP:
        return _RESOLVE_MAP[text]
    if hint == ".":
        if _DOT_FLOAT.match(text) and (value := _go_parse_float(text)) is not None:
            return FLOAT, value
    elif hint in ("D", "S"):
        if tag in ("", TIMESTAMP) and (stamp := parse_timestamp(text)) is not None:
            return TIMESTAMP, stamp
        plain = text.replace("_", "")
        if (number := _go_parse_int(plain)) is not None:
            return INT, number
        if (unsigned := _go_parse_uint(plain, 0)) is not None:
            return INT, unsigned
        if _YAML_STYLE_FLOAT.match(plain) and (real := _go_parse_float(plain)) is not None:
            return FLOAT, real
        for prefix, base in (("0b", 2), ("-0b", 2), ("0o", 8), ("-0o", 8)):
            if plain.startswith(prefix):
                sign = "-" if prefix[0] == "-" else ""
                digits = plain[len(prefix) :]
                if (number := _go_parse_int(sign + digits, base)) is not None:
                    return INT, number
                if not sign and (unsigned := _go_parse_uint(digits, base)) is not None:
                    return INT, unsigned
                break
    return STR, text


def plain_text_is_string(text: str) -> bool:
    """Whether `text`, written as a plain (unquoted) scalar, reaches a program as that same string."""
    return resolve("", text) == (STR, text)


# Nodes, as yaml.v3's parser builds them from the event stream.


@dataclass(eq=False)
class Node:
    kind: str
    tag: str = ""
    value: str = ""
    quoted: bool = False
    """Single- or double-quoted, literal or folded: a style that makes a scalar a string."""
    line: int = 0
    content: list[Node] = field(default_factory=list)
    alias: Node | None = None

    def indicated_string(self) -> bool:
        return self.kind == _SCALAR and (short_tag(self.tag) == STR or (self.tag in ("", "!") and self.quoted))

    def short_tag(self) -> str:
        if self.indicated_string():
            return STR
        if self.tag in ("", "!"):
            if self.kind == _MAPPING:
                return MAP
            if self.kind == _SEQUENCE:
                return SEQ
            if self.kind == _ALIAS and self.alias is not None:
                return self.alias.short_tag()
            if self.kind == _SCALAR:
                return resolve("", self.value)[0]
            return ""
        return short_tag(self.tag)


def _node(kind: str, event: Any, default_tag: str = "", value: str = "") -> Node:
    tag = str(event.tag) if getattr(event, "tag", None) else ""
    if tag not in ("", "!"):
        tag = short_tag(tag)
    elif default_tag:
        tag = default_tag
    elif kind == _SCALAR:
        tag = resolve("", value)[0]
    return Node(kind, tag, value, line=event.start_mark.line + 1)


def parse_first_document(text: str) -> Node | None:
    """The first document's node tree (yaml.v3 reads no further), or None for an empty stream."""
    anchors: dict[str, Node] = {}
    stack: list[Node] = []
    document: Node | None = None
    try:
        for event in YAML(typ="safe", pure=True).parse(io.StringIO(text)):
            if isinstance(event, ev.DocumentStartEvent):
                document = Node(_DOCUMENT, line=event.start_mark.line + 1)
                stack = [document]
                continue
            if isinstance(event, ev.DocumentEndEvent):
                return document
            if isinstance(event, (ev.StreamStartEvent, ev.StreamEndEvent)) or not stack:
                continue
            if isinstance(event, (ev.SequenceEndEvent, ev.MappingEndEvent)):
                stack.pop()
                continue
            if isinstance(event, ev.AliasEvent):
                node = Node(_ALIAS, value=str(event.anchor), line=event.start_mark.line + 1)
                node.alias = anchors.get(node.value)
                if node.alias is None:
                    raise YamlError(f"unknown anchor '{node.value}' referenced")
            elif isinstance(event, ev.ScalarEvent):
                plain = event.style is None
                default = (MERGE if event.value == "<<" else "") if plain else STR
                node = _node(_SCALAR, event, default, event.value)
                node.quoted = not plain
            elif isinstance(event, ev.SequenceStartEvent):
                node = _node(_SEQUENCE, event, SEQ)
            elif isinstance(event, ev.MappingStartEvent):
                node = _node(_MAPPING, event, MAP)
            else:  # comments and the like carry nothing to decode
                continue
            if getattr(event, "anchor", None) is not None and node.kind != _ALIAS:
                anchors[str(event.anchor)] = node
            stack[-1].content.append(node)
            if node.kind in (_SEQUENCE, _MAPPING):
                if len(stack) > MAX_DEPTH:
                    raise YamlError(f"line {node.line}: nested more than {MAX_DEPTH} levels deep")
                stack.append(node)
    except YamlError:
        raise
    except Exception as err:  # ruamel raises several unrelated error types
        raise YamlError(str(err)) from None
    return document


# Decoding into `any`, as yaml.v3's decoder does.


def allowed_alias_ratio(decode_count: int) -> float:
    if decode_count <= ALIAS_RATIO_RANGE_LOW:
        return 0.99
    if decode_count >= ALIAS_RATIO_RANGE_HIGH:
        return 0.10
    span = ALIAS_RATIO_RANGE_HIGH - ALIAS_RATIO_RANGE_LOW
    return 0.99 - 0.89 * ((decode_count - ALIAS_RATIO_RANGE_LOW) / span)


def _hashable(value: Any) -> bool:
    return not isinstance(value, (dict, list))


def _is_merge(node: Node) -> bool:
    return node.kind == _SCALAR and node.value == "<<" and (node.tag in ("", "!") or short_tag(node.tag) == MERGE)


class _Decoder:
    def __init__(self) -> None:
        self.decode_count = 0
        self.alias_count = 0
        self.alias_depth = 0
        self.active_aliases: set[int] = set()
        self.merged_fields: set[Any] | None = None

    def unmarshal(self, node: Node, into: dict[Any, Any] | None = None) -> Any:
        self.decode_count += 1
        if self.alias_depth > 0:
            self.alias_count += 1
        if (
            self.alias_count > 100
            and self.decode_count > 1000
            and self.alias_count / self.decode_count > allowed_alias_ratio(self.decode_count)
        ):
            raise YamlError("document contains excessive aliasing")
        if node.kind == _DOCUMENT:
            return self.unmarshal(node.content[0]) if len(node.content) == 1 else None
        if node.kind == _ALIAS:
            return self.alias(node, into)
        if node.kind == _SCALAR:
            return self.scalar(node)
        if node.kind == _MAPPING:
            return self.mapping(node, into)
        return [self.unmarshal(child) for child in node.content]

    def alias(self, node: Node, into: dict[Any, Any] | None) -> Any:
        if id(node) in self.active_aliases:
            raise YamlError(f"anchor '{node.value}' value contains itself")
        assert node.alias is not None
        self.active_aliases.add(id(node))
        self.alias_depth += 1
        try:
            return self.unmarshal(node.alias, into)
        finally:
            self.alias_depth -= 1
            self.active_aliases.discard(id(node))

    def scalar(self, node: Node) -> Any:
        if node.indicated_string():
            return node.value
        tag, value = resolve(node.tag, node.value)
        if tag == BINARY:
            try:
                data = base64.b64decode(re.sub(r"[\r\n]", "", value), validate=True)
            except ValueError:
                raise YamlError(f"line {node.line}: !!binary value contains invalid base64 data") from None
            return data.decode("utf-8", errors="replace")
        if isinstance(value, Timestamp):
            return value.text()
        return value

    def mapping(self, node: Node, into: dict[Any, Any] | None) -> dict[Any, Any]:
        seen: dict[tuple[str, str], Node] = {}
        for key in node.content[::2]:
            first = seen.setdefault((key.kind, key.value), key)
            if first is not key:
                raise YamlError(f"line {key.line}: mapping key {key.value!r} already defined at line {first.line}")
        out: dict[Any, Any] = {} if into is None else into
        merged_fields, self.merged_fields = self.merged_fields, None
        merge_node = None
        for key_node, value_node in zip(node.content[::2], node.content[1::2]):
            if _is_merge(key_node):
                merge_node = value_node
                continue
            key = self.unmarshal(key_node)
            if not _hashable(key):
                raise YamlError(f"line {key_node.line}: invalid map key: a mapping or sequence cannot be a key")
            if merged_fields is not None:
                if key in merged_fields:
                    continue
                merged_fields.add(key)
            out[key] = self.unmarshal(value_node)
        self.merged_fields = merged_fields
        if merge_node is not None:
            self.merge(node, merge_node, out)
        return out

    def merge(self, parent: Node, merge: Node, out: dict[Any, Any]) -> None:
        merged_fields = self.merged_fields
        if merged_fields is None:
            self.merged_fields = set()
            for key_node in parent.content[::2]:
                key = self.unmarshal(key_node)
                if _hashable(key):
                    self.merged_fields.add(key)
        want_map = YamlError(f"line {merge.line}: map merge requires map or sequence of maps as the value")
        if merge.kind == _MAPPING:
            self.unmarshal(merge, out)
        elif merge.kind == _ALIAS:
            if merge.alias is not None and merge.alias.kind != _MAPPING:
                raise want_map
            self.unmarshal(merge, out)
        elif merge.kind == _SEQUENCE:
            for item in merge.content:
                if item.kind == _ALIAS:
                    if item.alias is not None and item.alias.kind != _MAPPING:
                        raise want_map
                elif item.kind != _MAPPING:
                    raise want_map
                self.unmarshal(item, out)
        else:
            raise want_map
        self.merged_fields = merged_fields


def load(text: str) -> Any:
    """The first YAML document of `text` decoded as the engine decodes a stack file, or YamlError."""
    document = parse_first_document(text.removeprefix("\ufeff"))
    if document is None:
        return None
    try:
        return _Decoder().unmarshal(document)
    except RecursionError:
        raise YamlError("aliases nest too deeply to read") from None
