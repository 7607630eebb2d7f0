"""`stagewise status` with its live sources: the gate's analysis (only through its documented JSON), the
requests per look of `status --watch` refreshing in place, and a clear message for a source that cannot
be reached (a real gate look against a Prometheus address where nothing listens)."""

from __future__ import annotations

import io
import json
import os
import subprocess

import jsonschema
from rich.console import Console

from stagewise.formats import stackfile
from stagewise.tools import session
from stagewise.tools import status as status_lib

SCHEMA = json.loads((stackfile.project_root() / "docs" / "analysis.schema.json").read_text())


def analysis(verdict: str, hold: str | None, at: str, candidate: int, live: int) -> dict:
    """A look as the gate documents it; the counts are since the stage began (cumulative)."""
    data = {
        "schema": "stagewise.analysis/v1", "verdict": verdict, "reason": f"because {verdict}", "holdReason": hold,
        "stack": "local", "environment": "local", "autoPromote": True, "at": at,
        "window": {"start": "2026-12-07T08:00:00Z", "end": at},
        "stage": {"name": "canary", "weight": 10, "next": "early", "commit": "b" * 40,
                  "since": "2026-12-07T08:00:00Z", "bake": "5m", "minRequests": 50},
        "provider": "prometheus http://127.0.0.1:9090",
        "evidence": {"step": "1m", "steps": 5, "falseAbortRate": 0.05, "decidedAt": None},
        "versions": {
            "candidate": {"colour": "green", "version": "1.5.0", "requests": candidate, "errors": 1,
                          "errorRate": 100 / candidate, "p95Ms": 80.0},
            "live": {"colour": "blue", "version": "1.4.2", "requests": live, "errors": 2,
                     "errorRate": 200 / live, "p95Ms": 60.0},
        },
        "checks": [{"name": "error_rate", "description": "candidate error rate (HTTP 5xx), percent", "value": 0.5,
                    "limit": 5, "status": "pass", "pValue": 0.9, "note": "", "eValue": 1.1, "threshold": 20,
                    "detectable": 2.0}],
        "applied": None,
    }  # fmt: skip
    jsonschema.validate({k: v for k, v in data.items() if k in SCHEMA["properties"]}, SCHEMA)
    return data


def _at_canary(repo) -> None:
    repo.set_release("local", blue="1.4.2", green="1.5.0", live="blue", stage="canary")
    repo.commit("local at canary")


def _no_state(root, stack):
    raise status_lib.SourceError("no state here")


def test_status_json_carries_the_gates_analysis_as_documented(repo, monkeypatch):
    _at_canary(repo)
    look = analysis("hold", "samples", "2026-12-07T08:05:00Z", 40, 360)
    monkeypatch.setattr(status_lib, "gate_analysis", lambda stack, providers: look)
    monkeypatch.setattr(status_lib, "pulumi_export", _no_state)
    result = repo.run("status", "--json", "--stack", "local")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["gate"] == {"analysis": look, "error": None, "skipped": None}
    assert doc["recent"][0]["candidate"]["totalRequests"] == 40 and doc["recent"][0]["candidate"]["requests"] is None
    assert doc["applied"]["error"] == "no state here"
    assert doc["next"] == "stagewise watch --stack local  # the gate holds (samples)"
    assert "verdict: hold (samples): because hold" in repo.run("status", "--stack", "local").stdout
    # The view at a known width (the command's console takes the terminal's): the check's row holds its
    # value, limit, e-value, the e-value that aborts, and its result.
    screen = io.StringIO()
    Console(file=screen, width=200, color_system=None).print(status_lib.render(doc))
    row = next(line for line in screen.getvalue().splitlines() if "candidate error rate" in line)
    assert [cell.strip() for cell in row.split("│")[2:7]] == ["0.5", "<= 5", "1.1", "20", "pass"], row


def test_status_at_idle_judges_nothing(repo, monkeypatch):
    repo.set_release("local", blue="1.4.2", green="1.5.0", live="blue", stage="idle")
    monkeypatch.setattr(status_lib, "pulumi_export", _no_state)
    doc = json.loads(repo.run("status", "--json", "--stack", "local").stdout)
    assert doc["gate"] == {"analysis": None, "error": None, "skipped": "stage idle sends no traffic to judge"}


def test_watch_refreshes_in_place_with_the_requests_of_each_look(repo):
    _at_canary(repo)
    looks = iter(
        [
            analysis("hold", "samples", "2026-12-07T08:05:00Z", 40, 360),
            analysis("hold", "significance", "2026-12-07T08:05:10Z", 70, 630),
            analysis("promote", None, "2026-12-07T08:05:20Z", 100, 900),
        ]
    )
    screen = io.StringIO()
    console = Console(file=screen, width=160, force_terminal=True, color_system=None)
    status_lib.watch(
        lambda: session.load("local"),
        0.0,
        {},
        console=console,
        looks=3,
        analyze=lambda stack, providers: next(looks),
        export=lambda root, stack: {"deployment": {"resources": []}},
    )
    text = screen.getvalue()
    # Each refresh moves the cursor back up over the last one (rich's live display), not a new screen below it.
    assert text.count("\x1b[2K") > 10 and "\x1b[1A" in text
    assert "+30" in text  # the candidate's requests since the look before
    assert "verdict: hold (significance)" in text and "verdict: promote: because promote" in text
    # The next command follows the gate: keep watching while it holds, the stage's promote once it says so.
    assert "next step: stagewise watch --stack local  # the gate holds (significance)" in text
    last = text.rstrip().removesuffix("\x1b[?25h").rstrip().splitlines()[-1]
    assert last == "next step: stagewise promote --stack local  # to early, 20 %"
    assert "applied: the stack has no traffic output: it was never deployed" in text


def test_an_unreachable_prometheus_is_a_clear_message(repo, tmp_path_factory):
    path = repo.file("local")
    # Nothing listens on port 9 (discard) of the loopback: the gate's provider cannot connect.
    text = path.read_text().replace("config:\n", "config:\n  stagewise:analysis:\n    url: http://127.0.0.1:9\n", 1)
    path.write_text(text)
    repo.set_release("local", blue="1.4.2", green="1.5.7", live="blue", stage="canary")
    env = {**os.environ, "GIT_COMMITTER_DATE": "2026-12-07T06:00:00Z", "GIT_AUTHOR_DATE": "2026-12-07T06:00:00Z"}
    subprocess.run(["git", "add", "-A"], cwd=repo.path, check=True, env=env)
    subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@e", "commit", "-qm", "local at canary, an hour ago"],
        cwd=repo.path,
        check=True,
        env=env,
    )
    result = repo.run("status", "--json", "--stack", "local")
    assert result.exit_code == 0, result.output
    gate = json.loads(result.stdout)["gate"]
    shown = gate["error"] or gate["analysis"]["reason"]
    assert "127.0.0.1:9" in shown and ("connect" in shown or "reach" in shown or "refused" in shown), gate
    if gate["analysis"] is not None:
        assert gate["analysis"]["holdReason"] == "no_metrics"
