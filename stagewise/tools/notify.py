"""Notifications: stage changes and verdicts posted to the webhooks of `stagewise:notify`.

A notification is a side channel. Sending never blocks a rollout and never changes it: each event is
posted from a thread of its own with a bounded number of attempts (stagewise:notify.retries after the
first, 1 s, 2 s, 4 s... apart, each at most stagewise:notify.timeout), and what could not be delivered is
reported on stderr by target name. A webhook URL is a credential (Slack's and Teams' carry their key in
the path): it is read decrypted from the stack's config by `pulumi config get` when needed, and never
printed, logged or put in a body or a message.

Bodies, one per format:
- json: the event as a JSON object (`schema: stagewise.notification/v1`);
- slack: `{"text": ...}` (Slack incoming webhooks, and Mattermost's, take it);
- teams: an Office 365 connector MessageCard (`@type: MessageCard`, summary, themeColor, title, text,
  facts), which Teams incoming webhooks and Power Automate's "post to a channel" accept.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer
from rich.text import Text

from stagewise.core.config_rollout import NOTIFY_EVENTS, NotifyConfig, NotifyTarget
from stagewise.formats.keys import NAMESPACE
from stagewise.formats.stackfile import SECRET_PLACEHOLDER
from stagewise.tools import processes
from stagewise.tools.app import StackOption, app
from stagewise.tools.render import printable
from stagewise.tools.session import CliError, did_you_mean, err, load, out, reported

SCHEMA = "stagewise.notification/v1"
_COLOURS = {
    "promote": "2EB67D",
    "stage": "1D9BD1",
    "abort": "E01E5A",
    "stuck": "ECB22E",
    "no_metrics": "ECB22E",
    "up": "1D9BD1",
}


@dataclass(frozen=True)
class Event:
    """Something a person watching the rollout should know."""

    kind: str
    """One of stagewise.core.config_rollout.NOTIFY_EVENTS: stage, promote, abort, stuck, no_metrics."""
    stack: str
    environment: str
    stage: str
    summary: str
    """One line: what happened."""
    reason: str = ""
    at: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "event": self.kind,
            "stack": self.stack,
            "environment": self.environment,
            "stage": self.stage,
            "summary": self.summary,
            "reason": self.reason,
            "at": self.at,
            "details": self.details,
        }


def body(event: Event, format: str) -> dict[str, Any]:
    title = f"stagewise {event.stack}: {event.summary}"
    if format == "slack":
        text = f"*{title}*" + (f"\n{event.reason}" if event.reason else "")
        return {"text": text}
    if format == "teams":
        facts = [{"name": "stack", "value": event.stack}, {"name": "environment", "value": event.environment}]
        facts += [{"name": "stage", "value": event.stage}, {"name": "event", "value": event.kind}]
        return {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": title,
            "themeColor": _COLOURS.get(event.kind, "808080"),
            "title": title,
            "text": event.reason or event.summary,
            "sections": [{"facts": facts}],
        }
    return event.to_dict()


# The URLs.

UrlLookup = Callable[[Path, str, str], str]


def pulumi_config_url(root: Path, stack: str, key: str) -> str:
    """The decrypted value of `key` (e.g. stagewise:notify.targets[0].url), from `pulumi config get`."""
    try:
        return processes.config_secret(root, stack, key)
    except processes.PulumiCliError as error:
        raise NotifyError(printable(str(error))) from None


class NotifyError(RuntimeError):
    """A notification could not be prepared or delivered; the message never holds the URL."""


def _checked_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NotifyError("the decrypted URL is not an http(s) URL with a host")
    return url


# Sending.


Post = Callable[[str, bytes, float], int]


def http_post(url: str, data: bytes, timeout: float) -> int:
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json", "User-Agent": "stagewise"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (scheme checked)
        status: int = response.status
        return status


@dataclass
class Delivery:
    target: str
    event: str
    ok: bool
    attempts: int
    problem: str | None = None


class Notifier:
    """Posts events to the stack's targets in the background; `close` waits a bounded time and returns
    what was and was not delivered."""

    def __init__(
        self,
        settings: NotifyConfig,
        root: Path,
        stack: str,
        *,
        lookup: UrlLookup = pulumi_config_url,
        post: Post = http_post,
        backoff: float = 1.0,
        report: Callable[[str], None] | None = None,
    ):
        self.settings, self.root, self.stack = settings, root, stack
        self._lookup, self._post, self._backoff = lookup, post, backoff
        self._report = report
        self._urls: dict[str, str | NotifyError] = {}
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self.deliveries: list[Delivery] = []

    def _url(self, index: int, target: NotifyTarget) -> str:
        with self._lock:
            if target.name not in self._urls:
                try:
                    if target.url != SECRET_PLACEHOLDER:
                        raise NotifyError(
                            f"the URL of {target.name} is stored in plain text; a webhook URL is a credential: "
                            f"set it encrypted (stagewise validate says how)"
                        )
                    key = f"{NAMESPACE}:notify.targets[{index}].url"
                    self._urls[target.name] = _checked_url(self._lookup(self.root, self.stack, key))
                except NotifyError as error:
                    self._urls[target.name] = error
            found = self._urls[target.name]
        if isinstance(found, NotifyError):
            raise found
        return found

    def send(self, event: Event) -> None:
        for index, target in enumerate(self.settings.targets):
            if event.kind in target.events:
                thread = threading.Thread(target=self._deliver, args=(index, target, event), daemon=True)
                thread.start()
                self._threads.append(thread)

    def _deliver(self, index: int, target: NotifyTarget, event: Event) -> None:
        attempts, problem = 0, None
        try:
            url = self._url(index, target)
            data = json.dumps(body(event, target.format)).encode()
            timeout = self.settings.timeout.total_seconds()
            for attempt in range(self.settings.retries + 1):
                attempts = attempt + 1
                try:
                    status = self._post(url, data, timeout)
                    if 200 <= status < 300:
                        problem = None
                        break
                    problem = f"HTTP {status}"
                except urllib.error.HTTPError as error:
                    problem = f"HTTP {error.code}"
                except (urllib.error.URLError, OSError, ValueError) as error:
                    reason = getattr(error, "reason", error)
                    problem = _without(url, f"{type(error).__name__}: {reason}")
                if attempt < self.settings.retries:
                    time.sleep(self._backoff * 2**attempt)
        except NotifyError as error:
            problem = str(error)
        delivery = Delivery(target.name, event.kind, problem is None, attempts, problem)
        with self._lock:
            self.deliveries.append(delivery)
        if problem is not None and self._report is not None:
            self._report(
                f"notify: {event.kind} to {target.name} not delivered"
                + (f" after {attempts} attempt(s)" if attempts else "")
                + f": {problem}; the rollout goes on"
            )

    def close(self, wait: float | None = None) -> list[Delivery]:
        """Wait for the sends under way, at most `wait` seconds in all (default: what the attempts may take)."""
        budget = wait
        if budget is None:
            per_attempt = self.settings.timeout.total_seconds()
            budget = (self.settings.retries + 1) * per_attempt + self._backoff * (2**self.settings.retries) + 5
        end = time.monotonic() + budget
        for thread in self._threads:
            thread.join(max(0.0, end - time.monotonic()))
        self._threads = [t for t in self._threads if t.is_alive()]
        with self._lock:
            return list(self.deliveries)


def _without(url: str, message: str) -> str:
    """`message` with the URL (and its host's credentials) taken out, should a library have put it in."""
    cleaned = message.replace(url, "[url]")
    parts = urlsplit(url)
    for secret in (parts.path, parts.query, parts.password or ""):
        if len(secret) > 3:
            cleaned = cleaned.replace(secret, "[url]")
    return printable(cleaned)


# `stagewise notify`: for a pipeline step after `pulumi up` (applied or failed), or any other event.


@app.command()
def notify(
    event: Annotated[str, typer.Argument(help="up-applied, up-failed, or an event: stage, promote, abort, stuck.")],
    stack: StackOption = None,
    message: Annotated[str, typer.Option("--message", "-m", help="What happened, in one line.")] = "",
) -> None:
    """Post an event to the stack's stagewise:notify targets (for a CI step after pulumi up). A target that
    cannot be reached is reported on stderr and does not change the exit code."""
    with reported():
        kinds = {"up-applied": "up", "up-failed": "up", **{k: k for k in NOTIFY_EVENTS}}
        if event not in kinds:
            raise CliError(f"unknown event {event!r}{did_you_mean(event, list(kinds))} (events: {', '.join(kinds)})")
        loaded = load(stack)
        settings = loaded.config.notify
        if not settings.targets:
            out.print(f"{loaded.stack}: no stagewise:notify targets; nothing sent")
            return
        release = loaded.release
        summary = {
            "up-applied": f"pulumi up applied: stage {release.stage}",
            "up-failed": f"pulumi up failed at stage {release.stage}",
        }.get(event, f"{event} at stage {release.stage}")
        at = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        details = {"outcome": event.removeprefix("up-")} if event.startswith("up-") else {}
        sender = Notifier(settings, loaded.root, loaded.stack, report=lambda line: err.print(Text(line)))
        sender.send(
            Event(kinds[event], loaded.stack, loaded.config.environment, release.stage, summary, message, at, details)
        )
        delivered = [d for d in sender.close() if d.ok]
        out.print(f"{loaded.stack}: {event} sent to {len(delivered)} of {len(settings.targets)} target(s)")
