"""`stagewise dashboard`'s server on loopback: the page and its JSON, read-only, nothing from elsewhere,
no request from another site's host name; the series the charts draw. (The page in a real browser:
tests/e2e/test_live_view.py.)"""

from __future__ import annotations

import http.client
import json
import re
import threading

import pytest

from stagewise.tools import dashboard, session
from tests.cli.test_cli_status import analysis


def _no_state(root, stack):
    return {"deployment": {"resources": []}}


@pytest.fixture
def served(repo):
    repo.set_release("local", blue="1.4.2", green="1.5.3", live="blue", stage="canary")
    repo.commit("local: promote to canary <script>alert(1)</script>")
    looks = iter(
        [
            analysis("hold", "samples", "2026-12-07T08:05:00Z", 40, 360),
            analysis("hold", "significance", "2026-12-07T08:05:10Z", 70, 630),
        ]
    )
    sampler = dashboard.Sampler(
        lambda: session.load("local"), 60.0, analyze=lambda stack, providers: next(looks), export=_no_state
    )
    sampler.sample()
    sampler.sample()
    server = dashboard.make_server(sampler, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def get(port: int, path: str, host: str | None = None, method: str = "GET") -> tuple[int, dict, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(method, path, headers={"Host": host or f"127.0.0.1:{port}"})
    response = connection.getresponse()
    return response.status, dict(response.getheaders()), response.read()


def test_the_page_loads_nothing_from_elsewhere_and_runs_only_its_own_script(served):
    status, headers, body = get(served, "/")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    page = body.decode()
    nonce = re.search(r"script-src 'nonce-([A-Za-z0-9_-]+)'", headers["Content-Security-Policy"]).group(1)
    assert headers["Content-Security-Policy"].startswith("default-src 'none';")
    assert f'<script nonce="{nonce}">' in page and page.count("<script") == 1
    assert not re.search(r"\b(src|href)=", page)  # no external script, style, font or image
    assert "innerHTML" not in page  # text from outside is set with textContent
    assert headers["X-Frame-Options"] == "DENY" and headers["Cache-Control"] == "no-store"


def test_the_json_is_the_status_with_its_series_and_timeline(served):
    status, _, body = get(served, "/api/status")
    assert status == 200
    view = json.loads(body)
    assert view["schema"] == "stagewise.dashboard/v1" and view["error"] is None
    assert view["status"]["stage"]["name"] == "canary"
    assert [p["versions"]["candidate"]["requests"] for p in view["series"]] == [40, 70]
    assert [p["versions"]["candidate"]["perLook"] for p in view["series"]] == [None, 30]
    assert view["series"][-1]["checks"] == [{"name": "error_rate", "eValue": 1.1, "threshold": 20, "status": "pass"}]
    last = view["timeline"][-1]
    assert (last["stage"], last["weight"]) == ("canary", 10)
    assert last["subject"] == "local: promote to canary <script>alert(1)</script>"  # data, shown as text


def test_read_only_and_only_for_this_host(served):
    assert get(served, "/api/status", method="POST")[0] == 405
    assert get(served, "/api/status", method="DELETE")[0] == 405
    assert get(served, "/../Pulumi.local.yaml")[0] == 404
    assert get(served, "/api/status", host="attacker.example")[0] == 421  # DNS rebinding
    assert get(served, "/api/status", host=f"localhost:{served}")[0] == 200


def test_a_stack_that_cannot_be_read_is_said_on_the_page(repo):
    sampler = dashboard.Sampler(lambda: session.load("nothing"), 60.0, export=_no_state)
    sampler.sample()
    view = sampler.view()
    assert view["status"] is None and view["error"].startswith("cannot read the stack: unknown stack 'nothing'")


def test_a_taken_port_is_refused_with_one_line(repo):
    blocker = dashboard.make_server(dashboard.Sampler(lambda: session.load("local"), 60.0), 0)
    try:
        result = repo.run("dashboard", "--stack", "local", "--port", str(blocker.server_address[1]))
    finally:
        blocker.server_close()
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: cannot listen on 127.0.0.1:{blocker.server_address[1]}:")
    assert "--port 0" in result.stderr
    assert repo.run("dashboard", "--port", "70000").exit_code == 1
