"""A stuck rollout, for real: the stage's metrics were in a real Prometheus, the server is stopped
mid-stage, and `stagewise watch --apply` holds on "no metrics" until the stage's deadline, then
says stuck (exit 5), notifies a webhook receiver on loopback once for no metrics and once for stuck,
and never promotes (the stack file is untouched). Takes a minute: the shortest deadline is 1m."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import promdata
import promserver
from scenarios import SCENARIOS

DEADLINES = (
    "  stagewise:rollout:\n"
    "    deadlines:\n"
    "      noMetrics: 1m\n"
    "  stagewise:notify:\n"
    "    retries: 1\n"
    "    targets:\n"
    "      - {name: hook, url: {secure: v1:AAAAAAAAAAAAAAAA:aG9vaw==}}\n"
)


def test_prometheus_stopped_mid_stage_is_stuck_after_the_deadline_notified_and_never_promoted(
    gate_repo, tmp_path_factory
):
    received: list[tuple[float, dict]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            received.append((time.time(), json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    fake = tmp_path_factory.mktemp("fake-pulumi")
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    (fake / "pulumi").write_text(f'#!/bin/sh\ncase "$*" in *"targets[0].url"*) echo "{hook}" ;; *) exit 1 ;; esac\n')
    (fake / "pulumi").chmod(0o755)

    work = tmp_path_factory.mktemp("prometheus-stopped")
    bin_dir = promserver.binaries()
    scenario = SCENARIOS["healthy"]
    promserver.backfill(bin_dir, promdata.openmetrics([scenario.live, scenario.candidate]), work / "data")
    server = promserver.start(bin_dir, work / "data", work)
    stack = gate_repo.stack(scenario, server.url, analysis=DEADLINES)
    before = (gate_repo.path / f"Pulumi.{stack}.yaml").read_bytes()
    server.stop()  # mid-stage: the stage's metrics were there, the server is gone

    env = {**os.environ, "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"}
    started = time.time()
    result = subprocess.run(
        [str(Path(sys.executable).parent / "stagewise"), "watch", "--stack", stack, "--interval", "5s",
         "--timeout", "5m", "--apply", "--json"],
        cwd=gate_repo.path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    took = time.time() - started
    receiver.shutdown()

    assert result.returncode == 5, result.stderr
    assert 60 <= took < 120, took
    assert "watch: stuck: stage canary has held on no metrics for 1m" in result.stderr
    assert "never promoted" in result.stderr
    look = json.loads(result.stdout)
    assert (look["verdict"], look["holdReason"], look["applied"]) == ("hold", "no_metrics", None)
    assert (gate_repo.path / f"Pulumi.{stack}.yaml").read_bytes() == before
    events = [body["event"] for _, body in received]
    assert events == ["no_metrics", "stuck"], received
    assert received[1][1]["summary"].startswith("stuck: stage canary has held on no metrics for 1m")
    assert hook not in result.stderr + result.stdout
