"""Prometheus behind authentication: the gate sends the credentials the config names (a bearer token,
or basic auth), each decrypted from a stack secret, to a loopback server that refuses anything else;
the secret's value appears in no message."""

from __future__ import annotations

import base64
import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from stagewise.core.gate_config import AnalysisConfig
from stagewise.tools.gate import analysis
from stagewise.tools.gate.provider import ProviderError

TOKEN = "s3cret-token-value"
PASSWORD = "s3cret-password"
SECRETS = {"prometheus-token": TOKEN, "prometheus-password": PASSWORD}


class Guarded(BaseHTTPRequestHandler):
    """Answers an empty range vector to a request carrying the expected Authorization header, 401 otherwise."""

    expected: set[str] = set()
    seen: list[str | None] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        header = self.headers.get("Authorization")
        type(self).seen.append(header)
        ok = header in self.expected
        body = (
            {"status": "success", "data": {"resultType": "matrix", "result": []}}
            if ok
            else {"status": "error", "errorType": "unauthorized", "error": "authentication required"}
        )
        payload = json.dumps(body).encode()
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server():
    Guarded.expected = {
        f"Bearer {TOKEN}",
        "Basic " + base64.b64encode(f"gate:{PASSWORD}".encode()).decode(),
    }
    Guarded.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Guarded)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    thread.join()


def settings(url: str, **keys: str) -> AnalysisConfig:
    return AnalysisConfig.model_validate(
        {
            "provider": "prometheus",
            "url": url,
            "bake": "5m",
            "minRequests": 50,
            "errorRateWarning": 1,
            "errorRateAbort": 5,
            "latencyP95WarningMs": 500,
            "latencyP95AbortMs": 2500,
            "errorRateRatio": 1.25,
            "slowRequestsRatio": 1.5,
            "falseAbortRate": 0.02,
            **keys,
        }
    )


def look(provider) -> None:
    start = datetime.now(UTC) - timedelta(hours=1)
    provider.steps_for(("1.5.0", "1.4.2"), start, 10, timedelta(minutes=1))


@pytest.mark.parametrize(
    "keys",
    [
        {"bearerTokenSecret": "prometheus-token"},
        {"basicAuthUser": "gate", "basicAuthPasswordSecret": "prometheus-password"},
    ],
    ids=["bearer", "basic"],
)
def test_the_credentials_a_stack_names_reach_prometheus_from_its_secrets(server, keys):
    provider = analysis.provider_for(settings(server, **keys), secret=SECRETS.__getitem__)
    look(provider)
    assert Guarded.seen and set(Guarded.seen) <= Guarded.expected


def test_without_the_credentials_prometheus_refuses_and_the_message_carries_no_secret(server):
    provider = analysis.provider_for(settings(server), secret=SECRETS.__getitem__)
    with pytest.raises(ProviderError) as refused:
        look(provider)
    assert "unauthorized" in str(refused.value) and TOKEN not in str(refused.value)
    assert Guarded.seen == [None]


def test_credentials_without_a_way_to_decrypt_them_are_refused_before_any_request(server):
    with pytest.raises(analysis.GateError, match="stack secrets"):
        analysis.provider_for(settings(server, bearerTokenSecret="prometheus-token"))
    assert Guarded.seen == []
