"""Seeing and steering a rollout while it runs, for real: `status --json` and the dashboard page in Debian's
headless chromium (installed by scripts/browser.sh) during a rollout on the local data plane, with real
requests; and the gate's abort of a bad candidate posted to a webhook receiver on loopback within seconds.

The first test needs no cluster: the page in a real browser, fed by a gate look as the gate documents it,
showing text from a commit as text.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from stagewise.formats import stackfile
from stagewise.tools import dashboard, session
from stagewise.tools.demo import play, traffic
from stagewise.tools.demo.workspace import Workspace
from tests.cli.test_cli_status import analysis
from tests.e2e.test_traffic import dataplane

ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = "stagewise-e2e-live"
HOSTNAME = "live.e2e.stagewise.localhost"
RATE = 20.0


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium, installed by the project's own script when missing."""
    result = subprocess.run(["bash", str(ROOT / "scripts" / "browser.sh")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def rendered(chromium: str, url: str, screenshot: Path | None = None) -> str:
    """The page's DOM after its script ran (and fetched the status) in a headless browser."""
    args = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--virtual-time-budget=8000"]
    if screenshot is not None:
        shot = subprocess.run(
            [*args, "--window-size=1400,1100", f"--screenshot={screenshot}", url],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert shot.returncode == 0, shot.stderr[-2000:]
    result = subprocess.run([*args, "--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def element(dom: str, id_: str) -> str:
    match = re.search(rf'id="{id_}"[^>]*>([^<]*)<', dom)
    assert match, f"no element #{id_} in the page"
    return html.unescape(match.group(1))


def test_the_page_in_a_browser_shows_the_stage_and_the_candidates_requests(chromium, tmp_path, monkeypatch):
    for name in ["Pulumi.yaml", "Pulumi.local.yaml"]:
        shutil.copy(ROOT / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    git = ["git", "-c", "user.name=T", "-c", "user.email=t@e", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "local: <script>document.title='owned'</script>"], check=True)
    look = analysis("hold", "samples", "2026-12-07T08:05:00Z", 1234, 9000)
    sampler = dashboard.Sampler(
        lambda: session.load("local"),
        60.0,
        analyze=lambda stack, providers: look,
        export=lambda root, stack: {"deployment": {"resources": []}},
    )
    sampler.sample()
    server = dashboard.make_server(sampler, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        dom = rendered(chromium, f"http://127.0.0.1:{server.server_address[1]}/")
    finally:
        server.shutdown()
        server.server_close()
    stage = stackfile.StackText.parse((tmp_path / "Pulumi.local.yaml").read_text(), "Pulumi.local.yaml")
    assert element(dom, "stage") == stage.config["stagewise:release"]["stage"]
    assert element(dom, "candidate-requests") == "1234"
    assert element(dom, "verdict") == "hold (samples)"
    assert "<title>stagewise dashboard</title>" in dom  # the commit's script did not run
    assert "&lt;script&gt;document.title='owned'&lt;/script&gt;" in dom  # it is shown as text


# On the real data plane.


class Receiver:
    def __init__(self) -> None:
        self.received: list[tuple[float, dict]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.received.append((time.time(), json.loads(body)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture(scope="module")
def host_dataplane(cluster):
    was_running = dataplane("status", check=False).returncode == 0
    if not was_running:
        dataplane("start")
    yield
    if not was_running:
        dataplane("stop", check=False)


@pytest.fixture(scope="module")
def ws(host_dataplane, tmp_path_factory) -> Workspace:
    path = tmp_path_factory.mktemp("live") / "project"
    workspace = Workspace.create(ROOT, path, namespace=NAMESPACE, hostname=HOSTNAME, analysis=play.ANALYSIS)
    workspace.up()
    workspace.wait_rolled_out()
    play.wait_answering(workspace.url)
    yield workspace
    workspace.destroy()


def status(ws: Workspace) -> dict:
    return json.loads(ws.stagewise("status", "--json").stdout)


class TestLiveView:
    def test_status_shows_the_candidates_live_requests_climbing(self, ws, tmp_path):
        with traffic.Load(ROOT, ws.url, RATE, tmp_path / "load.jsonl") as load:
            # The first requests reach the gate once their evidence step has settled in Prometheus.
            first = status(ws)
            for _ in range(24):
                if (first["gate"]["analysis"] or {}).get("versions", {}).get("candidate", {}).get("requests"):
                    break
                load.wait(5)
                first = status(ws)
            load.wait(45)  # three evidence steps (15 s) later
            second = status(ws)
        assert first["stage"]["name"] == "canary" and first["applied"]["differs"] is False
        assert first["applied"]["traffic"] == {"blue": 90, "green": 10}
        before = first["gate"]["analysis"]["versions"]["candidate"]["requests"]
        after = second["gate"]["analysis"]["versions"]["candidate"]["requests"]
        assert before is not None and after is not None and after > before > 0, (first["gate"], second["gate"])

    def test_the_dashboard_shows_the_stage_and_the_candidates_live_requests(self, ws, chromium, tmp_path):
        exe = str(ROOT / ".venv" / "bin" / "stagewise")
        with traffic.Load(ROOT, ws.url, RATE, tmp_path / "load.jsonl") as load:
            server = subprocess.Popen(
                [exe, "dashboard", "--stack", "local", "--port", "0", "--interval", "2s"],
                cwd=ws.path,
                env=ws.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            try:
                line = server.stdout.readline() if server.stdout else ""
                match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
                assert match, line
                url = match.group(0)
                load.wait(20)
                dom = rendered(chromium, url, tmp_path / "dashboard.png")  # kept with the test's files
                api = json.loads(
                    subprocess.run(["curl", "-fsS", f"{url}api/status"], capture_output=True, text=True).stdout
                )
            finally:
                server.terminate()
                server.wait(timeout=30)
        shown = element(dom, "candidate-requests")
        assert element(dom, "stage") == "canary"
        assert shown.isdigit() and int(shown) > 0, dom[:3000]
        assert int(shown) <= api["status"]["gate"]["analysis"]["versions"]["candidate"]["requests"]

    def test_an_abort_is_notified_within_seconds_of_the_verdict(self, ws, tmp_path):
        receiver = Receiver()
        # The URL as the stack's secret, encrypted by the engine with the stack's passphrase.
        ws.pulumi("config", "set", "--secret", "--path", "stagewise:notify.targets[0].url", receiver.url)
        ws.pulumi("config", "set", "--path", "stagewise:notify.targets[0].name", "e2e")
        assert receiver.url not in ws.stack_file.read_text()
        ws.commit("local: notify the e2e receiver")
        ws.stagewise("abort")  # back to idle (the candidate at canary was healthy) to deploy the bad one
        play.commit_and_up(ws, "local: abort 1.5.0")
        ws.wait_rolled_out()
        timeline = play.Timeline()
        with traffic.Load(ROOT, ws.url, RATE, tmp_path / "load.jsonl"):
            play.deploy_bad(ws, play.BAD["errors"], timeline)
            verdict = play.watch(ws, interval="5s")
        assert verdict.report["verdict"] == "abort", verdict.report
        aborts = [(t, body) for t, body in receiver.received if body["event"] == "abort"]
        assert len(aborts) == 1, receiver.received
        assert aborts[0][0] - verdict.at < 10  # posted before watch returned, or just after
        assert aborts[0][1]["stack"] == "local" and aborts[0][1]["stage"] == "canary"
        receiver.server.shutdown()
