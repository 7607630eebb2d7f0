"""Notifications and stage deadlines around `watch`: a receiver on loopback (http.server in a thread)
gets each body; retries are bounded; a failed notification never blocks or changes the rollout and is
reported without its URL; a stage that holds past its deadline is stuck, notified, and never promoted."""

from __future__ import annotations

import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jsonschema
import pytest

from stagewise.formats import stackfile
from stagewise.tools import notify, rollout_watch, session

SCHEMA = json.loads((stackfile.project_root() / "docs" / "analysis.schema.json").read_text())


class Receiver:
    """A webhook receiver on 127.0.0.1: records every POST; answers the statuses queued, then 200."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict]] = []
        self.statuses: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length", "0"))
                outer.received.append((self.path, json.loads(self.rfile.read(length))))
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.close()


NOTIFY = """config:
  stagewise:notify:
    retries: 2
    timeout: 2s
    targets:
      - {name: generic, format: json, url: {secure: v1:AAAAAAAAAAAAAAAA:Z2VuZXJpYw==}}
      - {name: chat, format: slack, url: {secure: v1:AAAAAAAAAAAAAAAA:c2xhY2s=}, events: [abort, stuck, stage]}
      - {name: channel, format: teams, url: {secure: v1:AAAAAAAAAAAAAAAA:dGVhbXM=}}
  stagewise:rollout:
    deadlines:
      noMetrics: 10m
      notEnoughEvidence: 2h
      onStuck: {on_stuck}
"""


def _fake_pulumi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, urls: list[str]) -> Path:
    """`pulumi config get --path stagewise:notify.targets[N].url` prints urls[N], as the real CLI would
    print the decrypted value; every call is logged."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls"
    cases = "\n".join(f'  *"targets[{i}].url"*) echo "{u}" ;;' for i, u in enumerate(urls))
    script = (
        f'#!/bin/sh\necho "$@" >> "{log}"\ncase "$*" in\n{cases}\n  *) echo "error: unknown" >&2; exit 1 ;;\nesac\n'
    )
    (bin_dir / "pulumi").write_text(script)
    (bin_dir / "pulumi").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


@pytest.fixture
def notifying(repo, receiver, tmp_path_factory, monkeypatch):
    def make(on_stuck: str = "notify", urls: list[str] | None = None) -> Path:
        path = repo.file("local")
        path.write_text(path.read_text().replace("config:\n", NOTIFY.replace("{on_stuck}", on_stuck), 1))
        repo.set_release("local", blue="1.4.2", green="1.5.0", live="blue", stage="canary")
        repo.commit("local at canary, with notifications")
        targets = urls or [receiver.url("/generic"), receiver.url("/slack"), receiver.url("/teams")]
        return _fake_pulumi(tmp_path_factory.mktemp("fake"), monkeypatch, targets)

    return make


def look(verdict: str, hold: str | None, at: str, since: str = "2026-12-07T08:00:00Z", **extra: object) -> dict:
    """A look as the gate's documented JSON gives it (checked against docs/analysis.schema.json)."""
    data = {
        "schema": "stagewise.analysis/v1", "verdict": verdict, "reason": f"the gate's reason ({hold or verdict})",
        "holdReason": hold, "stack": "local", "environment": "local", "autoPromote": True, "at": at,
        "window": {"start": since, "end": at},
        "stage": {"name": "canary", "weight": 10, "next": "early", "commit": "a" * 40, "since": since,
                  "bake": "5m", "minRequests": 50},
        "provider": "prometheus http://127.0.0.1:9090",
        "evidence": {"step": "1m", "steps": 3, "falseAbortRate": 0.05, "decidedAt": None},
        "versions": {
            "candidate": {"colour": "green", "version": "1.5.0", "requests": None, "errors": None, "errorRate": None, "p95Ms": None},
            "live": {"colour": "blue", "version": "1.4.2", "requests": None, "errors": None, "errorRate": None, "p95Ms": None},
        },
        "checks": [], "applied": None, **extra,
    }  # fmt: skip
    jsonschema.validate({k: v for k, v in data.items() if k in SCHEMA["properties"]}, SCHEMA)
    return data


def test_each_format_gets_its_body(repo, receiver, notifying):
    notifying()
    loaded = session.load("local")
    sender = notify.Notifier(loaded.config.notify, loaded.root, "local", backoff=0.01)
    sender.send(notify.Event("abort", "local", "local", "canary", "gate verdict abort", "error rate 30 %", "t"))
    deliveries = sender.close(10)
    assert sorted((d.target, d.ok, d.attempts) for d in deliveries) == [
        ("channel", True, 1), ("chat", True, 1), ("generic", True, 1),
    ]  # fmt: skip
    bodies = dict(receiver.received)
    assert bodies["/generic"] == {
        "schema": "stagewise.notification/v1", "event": "abort", "stack": "local", "environment": "local",
        "stage": "canary", "summary": "gate verdict abort", "reason": "error rate 30 %", "at": "t", "details": {},
    }  # fmt: skip
    assert bodies["/slack"] == {"text": "*stagewise local: gate verdict abort*\nerror rate 30 %"}
    teams = bodies["/teams"]
    assert (teams["@type"], teams["@context"]) == ("MessageCard", "https://schema.org/extensions")
    assert teams["title"] == "stagewise local: gate verdict abort" and teams["themeColor"] == "E01E5A"
    assert {"name": "stage", "value": "canary"} in teams["sections"][0]["facts"]


def test_a_target_gets_only_its_events(repo, receiver, notifying):
    notifying()
    loaded = session.load("local")
    sender = notify.Notifier(loaded.config.notify, loaded.root, "local", backoff=0.01)
    sender.send(notify.Event("promote", "local", "local", "canary", "promote"))
    sender.close(10)
    assert sorted(path for path, _ in receiver.received) == ["/generic", "/teams"]  # chat: abort, stuck, stage


def test_retries_are_bounded_and_a_failure_is_reported_without_the_url(repo, receiver, notifying):
    notifying()
    loaded = session.load("local")
    reported: list[str] = []
    receiver.statuses = [500, 502, 200, 503, 503, 503]  # generic: 3rd attempt; then slack fails every attempt
    settings = loaded.config.notify.model_copy(update={"targets": loaded.config.notify.targets[:1]})
    sender = notify.Notifier(settings, loaded.root, "local", backoff=0.01, report=reported.append)
    sender.send(notify.Event("stuck", "local", "local", "canary", "stuck"))
    assert [(d.ok, d.attempts) for d in sender.close(10)] == [(True, 3)]
    chat = loaded.config.notify.model_copy(update={"targets": loaded.config.notify.targets[1:2]})
    failing = notify.Notifier(chat, loaded.root, "local", backoff=0.01, report=reported.append)
    failing.send(notify.Event("stuck", "local", "local", "canary", "stuck"))
    assert [(d.ok, d.attempts, d.problem) for d in failing.close(10)] == [(False, 3, "HTTP 503")]
    assert reported == ["notify: stuck to chat not delivered after 3 attempt(s): HTTP 503; the rollout goes on"]
    assert len(receiver.received) == 6


def test_an_unreachable_receiver_never_blocks_and_its_url_is_not_printed(repo, receiver, notifying):
    secret_path = "/services/T000/B000/XXXXsecretXXXX"
    notifying(urls=[f"http://127.0.0.1:9{secret_path}"] * 3)  # port 9 (discard): nothing listens
    loaded = session.load("local")
    reported: list[str] = []
    sender = notify.Notifier(loaded.config.notify, loaded.root, "local", backoff=0.01, report=reported.append)
    started = time.monotonic()
    sender.send(notify.Event("abort", "local", "local", "canary", "abort"))
    assert time.monotonic() - started < 0.5  # sent from threads: the caller goes on at once
    deliveries = sender.close(20)
    assert [d.ok for d in deliveries] == [False, False, False]
    assert len(reported) == 3 and all("not delivered after 3 attempt(s)" in line for line in reported)
    assert not any("secret" in line or "127.0.0.1" in line for line in reported), reported


def test_a_plain_text_url_is_never_used(repo, receiver, tmp_path_factory, monkeypatch):
    path = repo.file("local")
    hook = receiver.url("/plain")
    text = f"config:\n  stagewise:notify:\n    targets:\n      - {{name: ops, url: '{hook}'}}\n"
    path.write_text(path.read_text().replace("config:\n", text, 1))
    loaded = session.load("local")
    reported: list[str] = []
    sender = notify.Notifier(loaded.config.notify, loaded.root, "local", report=reported.append)
    sender.send(notify.Event("abort", "local", "local", "canary", "abort"))
    sender.close(10)
    assert receiver.received == []
    assert reported == [
        "notify: abort to ops not delivered: the URL of ops is stored in plain text; a webhook URL is a credential: "
        "set it encrypted (stagewise validate says how); the rollout goes on"
    ]
    problems = repo.run("validate", "--stack", "local")
    assert problems.exit_code == 1 and "stagewise:notify.targets[0].url: stored in plain text" in problems.stderr
    assert hook not in problems.stderr


# Deadlines and the watch.


def test_no_metrics_is_notified_once_then_stuck_after_its_deadline_and_never_promoted(repo, receiver, notifying):
    notifying()
    loaded = session.load("local")
    before = repo.read("local")
    watcher = rollout_watch.Watcher.start(loaded, backoff=0.01)
    assert watcher.look(loaded, look("hold", "no_metrics", "2026-12-07T09:00:00Z")) is None
    assert watcher.look(loaded, look("hold", "no_metrics", "2026-12-07T09:05:00Z")) is None
    stuck = watcher.look(loaded, look("hold", "no_metrics", "2026-12-07T09:10:00Z"))
    assert stuck is not None and stuck.reason == "no_metrics"
    code = watcher.end("local", look("hold", "no_metrics", "2026-12-07T09:10:00Z"), stuck, apply_verdict=True)
    assert code == rollout_watch.EXIT_STUCK
    assert repo.read("local") == before  # onStuck notify: the stack file is untouched
    events = [body["event"] for path, body in receiver.received if path == "/generic"]
    assert events == ["no_metrics", "stuck"]
    stuck_body = next(b for p, b in receiver.received if p == "/generic" and b["event"] == "stuck")
    assert stuck_body["summary"] == "stuck: stage canary has held on no metrics for 10m, past its deadline of 10m"
    assert [b["text"].splitlines()[0] for p, b in receiver.received if p == "/slack"] == [
        "*stagewise local: stuck: stage canary has held on no metrics for 10m, past its deadline of 10m*"
    ]


def test_on_stuck_abort_aborts_with_apply(repo, receiver, notifying):
    notifying(on_stuck="abort")
    loaded = session.load("local")
    watcher = rollout_watch.Watcher.start(loaded, backoff=0.01)
    data = look("hold", "samples", "2026-12-07T10:00:00Z")  # not enough evidence two hours after the start
    stuck = watcher.look(loaded, data)
    assert stuck is not None and stuck.reason == "not_enough_evidence"
    assert watcher.end("local", data, stuck, apply_verdict=True) == rollout_watch.EXIT_STUCK
    after = session.load("local").release
    assert (after.stage, after.green) == ("idle", "1.4.2")
    events = sorted(body["event"] for path, body in receiver.received if path == "/generic")
    assert events == ["abort", "stage"]


def test_the_gates_own_stuck_is_reported_as_stuck(repo, receiver, notifying):
    notifying()
    loaded = session.load("local")
    watcher = rollout_watch.Watcher.start(loaded, backoff=0.01)
    stuck = watcher.look(loaded, look("hold", "no_candidate_traffic", "2026-12-07T08:20:00Z", stuck=True))
    assert stuck is not None and stuck.reason == "no_candidate_traffic"


def test_a_promote_applied_by_the_watch_is_notified_with_the_stage_change(repo, receiver, notifying):
    notifying()
    loaded = session.load("local")
    watcher = rollout_watch.Watcher.start(loaded, backoff=0.01)
    data = look("promote", None, "2026-12-07T08:30:00Z")
    assert watcher.look(loaded, data) is None
    assert repo.run("promote", "--stack", "local").exit_code == 0  # what --apply writes
    assert watcher.end("local", data, None, apply_verdict=True) is None
    generic = {body["event"]: body for path, body in receiver.received if path == "/generic"}
    assert sorted(generic) == ["promote", "stage"]
    assert generic["promote"]["stage"] == "canary"  # the stage the gate judged, not the one it moved to
    assert generic["stage"]["summary"] == "stage canary -> early (candidate 20 %)"
    assert generic["stage"]["details"] == {"before": "canary", "after": "early"}


# `stagewise notify`, for a pipeline step after `pulumi up`.


def test_notify_command_posts_an_up_outcome(repo, receiver, notifying):
    notifying()
    result = repo.run("notify", "up-failed", "--stack", "local", "-m", "pulumi up failed: see run 123")
    assert result.exit_code == 0, result.output
    assert result.stdout == "local: up-failed sent to 2 of 3 target(s)\n"  # chat takes abort, stuck, stage only
    generic = next(body for path, body in receiver.received if path == "/generic")
    assert (generic["event"], generic["summary"]) == ("up", "pulumi up failed at stage canary")
    assert generic["reason"] == "pulumi up failed: see run 123" and generic["details"] == {"outcome": "failed"}


def test_notify_command_refuses_an_unknown_event_and_never_fails_on_delivery(repo, receiver, notifying):
    notifying(urls=["http://127.0.0.1:9/hook"] * 3)
    typo = repo.run("notify", "up-aplied", "--stack", "local")
    assert typo.exit_code == 1 and "unknown event 'up-aplied'; did you mean 'up-applied'?" in typo.stderr
    sent = repo.run("notify", "stuck", "--stack", "local")
    assert sent.exit_code == 0
    assert sent.stdout == "local: stuck sent to 0 of 3 target(s)\n"
    assert sent.stderr.count("not delivered after 3 attempt(s)") == 3 and "127.0.0.1:9" not in sent.stderr


def test_notify_command_without_targets(repo):
    result = repo.run("notify", "up-applied", "--stack", "dev")
    assert result.exit_code == 0 and result.stdout == "dev: no stagewise:notify targets; nothing sent\n"
