"""A Prometheus query template the gate can count exactly: one plain counter selector.

Pure. The gate reads each series' raw samples and differences them itself (stagewise.tools.gate
.prometheus), so a template is the selector alone, `name{label="value", version_label=$version}`:
no function, no aggregation, no range. `increase()` and `rate()` extrapolate to the edges of their
window (about step / (step - scrape interval) too much), and a sum over series hides each series'
counter resets, so neither can give the counts the sequential test needs.

The grammar is PromQL's vector selector (prometheus.io, "Querying basics": "Time series selectors",
label matchers =, !=, =~, !~, values as string literals), with `$version` allowed as the value of
one `=` matcher, and no offset or @ modifier.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

COUNTER_SUFFIXES = ("_count", "_total")
BUCKET_SUFFIX = "_bucket"

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_OP = re.compile(r"=~|!~|!=|=")
_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}
VERSION = "$version"


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str
    value: str

    @cached_property
    def _pattern(self) -> re.Pattern[str]:
        return re.compile(self.value)

    def matches(self, labels: dict[str, str]) -> bool:
        """As Prometheus matches: a label that is absent has the empty value; regexes are anchored."""
        have = labels.get(self.label, "")
        if self.op == "=":
            return have == self.value
        if self.op == "!=":
            return have != self.value
        found = self._pattern.fullmatch(have) is not None
        return found if self.op == "=~" else not found

    def render(self) -> str:
        return f"{self.label}{self.op}{literal(self.value)}"


@dataclass(frozen=True)
class Selector:
    """A counter selector: its metric name, its matchers, and the label that $version sets."""

    name: str
    matchers: tuple[Matcher, ...]
    version_label: str

    def matches(self, labels: dict[str, str]) -> bool:
        """Whether a series is one of this selector's, whatever its version label."""
        return labels.get("__name__") == self.name and all(m.matches(labels) for m in self.matchers)

    def render(self, versions: tuple[str, ...], extra: tuple[Matcher, ...] = ()) -> str:
        """The selector for all `versions` at once (a regex on the version label when several)."""
        version = (
            Matcher(self.version_label, "=", versions[0])
            if len(versions) == 1
            else Matcher(self.version_label, "=~", "|".join(re.escape(v) for v in versions))
        )
        matchers = ",".join(m.render() for m in (*self.matchers, version, *extra))
        return f"{self.name}{{{matchers}}}"


def literal(value: str) -> str:
    """A PromQL double-quoted string literal."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


class SelectorError(ValueError):
    """The template is not a plain counter selector; the message says what it is instead."""


def parse(template: str, suffixes: tuple[str, ...]) -> Selector:
    """The template as a Selector; SelectorError saying why it cannot give exact counts."""
    text = template.strip()
    match = _NAME.match(text)
    if not match:
        raise SelectorError(
            "must start with the counter's metric name, e.g. http_server_request_duration_seconds_count"
        )
    name, at = match.group(), match.end()
    rest = text[at:].lstrip()
    if rest.startswith("(") or re.match(r"(by|without)\s*\(", rest):
        raise SelectorError(
            f"applies {name}() to the counter: the gate reads each series' raw samples and differences them "
            "itself, so that every event is counted once (increase() and rate() extrapolate to the window's "
            "edges, and a sum hides each series' counter resets); write the counter selector alone, e.g. "
            "http_server_request_duration_seconds_count{service_version=$version}"
        )
    if not name.endswith(suffixes):
        raise SelectorError(
            f"selects {name}, which is not a counter of this kind (its name must end with "
            f"{' or '.join(suffixes)}): only a counter's samples can be differenced into counts"
        )
    matchers: list[Matcher] = []
    version_label: str | None = None
    if rest.startswith("{"):
        body, rest = _braces(rest)
        for label, op, value in _matchers(body):
            if value is None:
                if op != "=" or version_label is not None:
                    raise SelectorError(
                        "uses $version other than as the value of one = matcher, e.g. service_version=$version"
                    )
                version_label = label
            else:
                if label in ("__name__", "le"):
                    raise SelectorError(
                        f"matches {label}: the metric name comes first"
                        if label == "__name__"
                        else "matches le: the gate asks for the bucket bounds of latencyBoundsMs itself"
                    )
                matchers.append(Matcher(label, op, value))
    if rest.strip():
        raise SelectorError(
            f"has {rest.strip()[:40]!r} after the selector: no range ([$window]), offset or operator; the gate reads "
            "the raw samples of the selector alone"
        )
    if version_label is None:
        raise SelectorError("must select the version with a matcher such as service_version=$version")
    for matcher in matchers:
        if matcher.op in ("=~", "!~"):
            try:
                re.compile(matcher.value)
            except re.error as error:
                raise SelectorError(
                    f"{matcher.label}{matcher.op}{literal(matcher.value)} is not a regex: {error}"
                ) from None
    return Selector(name, tuple(matchers), version_label)


def _braces(text: str) -> tuple[str, str]:
    quote: str | None = None
    escaped = False
    for i, char in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif char == "\\" and quote != "`":
                escaped = True
            elif char == quote:
                quote = None
        elif char in "\"'`":
            quote = char
        elif char == "}":
            return text[1:i], text[i + 1 :]
    raise SelectorError("has a { without its }")


def _matchers(body: str) -> list[tuple[str, str, str | None]]:
    """(label, op, value) per matcher; value None for $version."""
    found: list[tuple[str, str, str | None]] = []
    at = 0
    while True:
        at = _skip(body, at)
        if at >= len(body):
            return found
        label = _LABEL.match(body, at)
        if not label:
            raise SelectorError(f"has no label name at {body[at : at + 20]!r}")
        at = _skip(body, label.end())
        op = _OP.match(body, at)
        if not op:
            raise SelectorError(f"has no =, !=, =~ or !~ after {label.group()}")
        at = _skip(body, op.end())
        value: str | None
        if body.startswith(VERSION, at):
            value, at = None, at + len(VERSION)
        else:
            value, at = _string(body, at, label.group())
        found.append((label.group(), op.group(), value))
        at = _skip(body, at)
        if at < len(body):
            if body[at] != ",":
                raise SelectorError(f"has {body[at : at + 20]!r} where a , or }} belongs")
            at += 1


def _skip(text: str, at: int) -> int:
    while at < len(text) and text[at].isspace():
        at += 1
    return at


def _string(text: str, at: int, label: str) -> tuple[str, int]:
    if at >= len(text) or text[at] not in "\"'`":
        raise SelectorError(f"{label}'s value must be a quoted string or $version")
    quote, i = text[at], at + 1
    out: list[str] = []
    while i < len(text):
        char = text[i]
        if char == quote:
            return "".join(out), i + 1
        if char == "\\" and quote != "`":
            i += 1
            if i >= len(text):
                break
            nxt = text[i]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
            elif nxt in "\"'":
                out.append(nxt)
            else:
                raise SelectorError(f"{label}'s value has the escape \\{nxt}, which this check does not read")
        else:
            out.append(char)
        i += 1
    raise SelectorError(f"{label}'s value has no closing {quote}")
