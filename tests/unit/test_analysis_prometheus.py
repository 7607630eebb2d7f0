"""The Prometheus provider's histogram arithmetic and its answers to a server that misbehaves
(the real server's answers are tested in tests/analysis)."""

from __future__ import annotations

import math
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from stagewise.tools.analysis.prometheus import PrometheusProvider, count_above, quantile
from stagewise.tools.analysis.provider import ProviderError, Window

INF = math.inf
# 100 observations: 50 up to 0.1 s, 40 in 0.1..0.5 s, 10 in 0.5..1 s.
BUCKETS = [(0.1, 50.0), (0.5, 90.0), (1.0, 100.0), (INF, 100.0)]
WINDOW = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(("q", "expected"), [(0.5, 0.1), (0.7, 0.3), (0.95, 0.75), (0.25, 0.05)])
def test_quantile_interpolates_inside_the_bucket(q, expected):
    assert quantile(q, BUCKETS) == pytest.approx(expected)


def test_quantile_in_the_open_bucket_is_the_highest_finite_bound():
    assert quantile(0.95, [(0.1, 10.0), (0.5, 50.0), (INF, 100.0)]) == 0.5


def test_quantile_of_nothing_is_none():
    assert quantile(0.95, [(0.1, 0.0), (INF, 0.0)]) is None and quantile(0.95, []) is None


@pytest.mark.parametrize(("threshold", "expected"), [(0.1, 50.0), (0.3, 30.0), (0.75, 5.0), (2.0, 0.0), (0.05, 75.0)])
def test_count_above_interpolates_like_the_quantile(threshold, expected):
    assert count_above(threshold, BUCKETS) == pytest.approx(expected)


def test_count_above_the_highest_bound_counts_the_open_bucket():
    assert count_above(5.0, [(1.0, 90.0), (INF, 100.0)]) == 10.0


def test_buckets_that_dip_are_evened_out():
    assert quantile(0.5, [(0.1, 50.0), (0.5, 49.0), (INF, 100.0)]) == pytest.approx(0.1)


class Answer(BaseHTTPRequestHandler):
    body = b""
    status = 200

    def do_GET(self):  # noqa: N802
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    def serve(status: int, body: bytes) -> str:
        handler = type("Handler", (Answer,), {"status": status, "body": body})
        httpd = HTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_port}"

    servers: list[HTTPServer] = []
    yield serve
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (200, b"<html>not prometheus</html>", "without JSON (is it Prometheus?)"),
        (
            200,
            b'{"status": "success", "data": {"resultType": "vector", "result": [{"value": []}]}}',
            "unexpected shape",
        ),
        (200, b'{"status": "success", "data": {"resultType": "matrix", "result": []}}', "not an instant vector"),
        (
            400,
            b'{"status": "error", "errorType": "bad_data", "error": "parse error"}',
            "refused the query (bad_data: parse error)",
        ),
        (200, b"[1, 2]", "without JSON"),
    ],
    ids=["html", "malformed-sample", "range-vector", "bad-query", "json-not-an-object"],
)
def test_a_misbehaving_server_is_a_provider_error(server, status, body, message):
    provider = PrometheusProvider(server(status, body))
    with pytest.raises(ProviderError, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        provider.version_metrics("1.0.0", WINDOW)
