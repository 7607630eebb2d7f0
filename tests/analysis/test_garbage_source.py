"""`stagewise analyze` against a metrics source that answers garbage (a loopback server): every answer
gives a verdict that holds with a message, or a refusal that names the source, never "a bug in
stagewise", never a promote or an abort on data that is not data."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from scenarios import SCENARIOS, STAGE, at

VERSION_LABELS = ('service_version="1.0.0-healthy"', 'service_version="2.0.0-healthy"')


def series(version: str, values: list, **labels: str) -> dict:
    return {
        "metric": {"__name__": "http_server_request_duration_seconds_count", "service_version": version, **labels},
        "values": values,
    }


ANSWERS: dict[str, bytes] = {
    "not JSON": b"<html>502 Bad Gateway</html>",
    "a JSON list": b"[1, 2, 3]",
    "no data": json.dumps({"status": "success"}).encode(),
    "a string result": json.dumps({"status": "success", "data": {"resultType": "string", "result": "x"}}).encode(),
    "samples that are not pairs": json.dumps(
        {"status": "success", "data": {"resultType": "matrix", "result": [{"metric": {}, "values": [[1]]}]}}
    ).encode(),
    "a time that is not a number": json.dumps(
        {"status": "success", "data": {"resultType": "matrix", "result": [series("2.0.0-healthy", [["soon", "1"]])]}}
    ).encode(),
    "counts of NaN, Inf and -5": json.dumps(
        {
            "status": "success",
            "data": {
                "resultType": "matrix",
                "result": [
                    series("2.0.0-healthy", [[STAGE + 30, "NaN"], [STAGE + 90, "+Inf"]]),
                    series("1.0.0-healthy", [[STAGE + 30, "-5"], [STAGE + 90, "400000000000000000000000000000"]]),
                ],
            },
        }
    ).encode(),
    "a 400-digit count": json.dumps(
        {
            "status": "success",
            "data": {"resultType": "matrix", "result": [series("2.0.0-healthy", [[STAGE + 30, "9" * 400]])]},
        }
    ).encode(),
    "an error without a message": json.dumps({"status": "error"}).encode(),
    "a markup name": json.dumps({"status": "error", "error": "[/bold] \x1b[2J cleared"}).encode(),
}


class Garbage(BaseHTTPRequestHandler):
    answer: bytes = b""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.answer)))
        self.end_headers()
        self.wfile.write(self.answer)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def garbage():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Garbage)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    thread.join()


@pytest.mark.parametrize("kind", sorted(ANSWERS))
def test_garbage_from_the_metrics_source_holds_with_a_message(garbage, gate_repo, kind):
    # Each answer is what every request of the look gets.
    Garbage.answer = ANSWERS[kind]
    stack = gate_repo.stack(SCENARIOS["healthy"], garbage)
    result = gate_repo.run("analyze", "--stack", stack, "--json", "--at", at(2 * 3600))
    assert "a bug in stagewise" not in result.output and "Traceback" not in result.output, result.output
    report = json.loads(result.stdout)
    assert report["verdict"] == "hold" and report["holdReason"] in ("no_metrics", "bad_data", "no_candidate_traffic")
    # Two hours of nothing but garbage: the rollout may be stuck (exit 5), never judged on it.
    assert result.exit_code == (5 if report["stuck"] else 3), result.output
    assert "\x1b" not in result.output


@pytest.mark.parametrize(
    ("kind", "says"), [("counts of NaN, Inf and -5", "the sample NaN"), ("a 400-digit count", "(400 characters)")]
)
def test_counts_that_are_not_counts_are_named_in_the_reason(garbage, gate_repo, kind, says):
    Garbage.answer = ANSWERS[kind]
    stack = gate_repo.stack(SCENARIOS["healthy"], garbage)
    report = json.loads(gate_repo.run("analyze", "--stack", stack, "--json", "--at", at(2 * 3600)).stdout)
    assert report["verdict"] == "hold" and "2.0.0-healthy" in report["reason"], report["reason"]
    assert says in report["reason"], report["reason"]
