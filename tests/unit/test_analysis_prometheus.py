"""The Prometheus provider's histogram arithmetic and its answers to a server that misbehaves
(the real server's answers are tested in tests/analysis)."""

from __future__ import annotations

import json
import math
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from stagewise.core import counter_selector
from stagewise.core.gate_config import Queries
from stagewise.tools.gate.prometheus import PrometheusProvider, count_above, quantile
from stagewise.tools.gate.provider import ProviderError, Window
from stagewise.tools.gate.settled import SettledCache

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


# -- the gate's evidence: plain counter selectors, read sample by sample ----------------------------

SELECTOR = 'http_server_request_duration_seconds_count{service_version=$version, http_response_status_code=~"5.."}'


def test_a_counter_selector_is_parsed_into_its_name_matchers_and_version_label():
    selector = counter_selector.parse(SELECTOR, counter_selector.COUNTER_SUFFIXES)
    assert selector.name == "http_server_request_duration_seconds_count"
    assert selector.version_label == "service_version"
    assert selector.matchers == (counter_selector.Matcher("http_response_status_code", "=~", "5.."),)
    # Both versions in one selector: a regex on the version label, each version escaped.
    assert selector.render(("1.0.0", "2.0.0-rc.1")) == (
        'http_server_request_duration_seconds_count{http_response_status_code=~"5..",'
        'service_version=~"1\\\\.0\\\\.0|2\\\\.0\\\\.0\\\\-rc\\\\.1"}'
    )


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({"__name__": "http_server_request_duration_seconds_count", "http_response_status_code": "503"}, True),
        ({"__name__": "http_server_request_duration_seconds_count", "http_response_status_code": "5000"}, False),
        ({"__name__": "http_server_request_duration_seconds_count", "http_response_status_code": "200"}, False),
        ({"__name__": "http_server_request_duration_seconds_count"}, False),
        ({"__name__": "other_count", "http_response_status_code": "500"}, False),
    ],
)
def test_a_series_is_matched_as_prometheus_matches_it_anchored(labels, expected):
    selector = counter_selector.parse(SELECTOR, counter_selector.COUNTER_SUFFIXES)
    assert selector.matches(labels) is expected


def test_string_literals_with_escapes_and_other_quotes_are_read():
    selector = counter_selector.parse(
        "x_total{a='it\\'s', b=`raw\\d`, c=\"q\\\"\", v=$version,}", counter_selector.COUNTER_SUFFIXES
    )
    assert [m.value for m in selector.matchers] == ["it's", "raw\\d", 'q"']


def test_the_provider_reads_both_versions_and_all_families_with_one_selector_when_it_can():
    provider = PrometheusProvider("http://127.0.0.1:9", bounds_ms=(100, 2500), cache=SettledCache(None))
    (only,) = provider._selectors(("1.0.0", "2.0.0"))
    assert only.startswith(
        '{__name__=~"http_server_request_duration_seconds_count|http_server_request_duration_seconds_bucket"'
    )
    assert 'le=~"0\\\\.1|2\\\\.5|"' in only
    custom = Queries(requests="a_total{v=$version}", errors='b_total{v=$version, code="500"}')
    assert len(PrometheusProvider("http://127.0.0.1:9", custom, cache=SettledCache(None))._selectors(("1",))) == 3


class Slow(BaseHTTPRequestHandler):
    """Answers a range selector with one sample, after `delay` seconds."""

    delay = 0.0
    answered = 0

    def do_GET(self):  # noqa: N802
        time.sleep(self.delay)
        type(self).answered += 1
        body = {
            "status": "success",
            "data": {
                "resultType": "matrix",
                "result": [
                    {
                        "metric": {
                            "__name__": "http_server_request_duration_seconds_count",
                            "service_version": "1.0.0",
                        },
                        "values": [[1767225600 + 30, "3"]],
                    }
                ],
            },
        }
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(body).encode())

    def log_message(self, *args):
        pass


def test_the_timeout_bounds_the_whole_look_not_each_request(monkeypatch):
    from stagewise.tools.gate import prometheus as module

    handler = type("Handler", (Slow,), {"delay": 0.4, "answered": 0})
    httpd = HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        monkeypatch.setattr(module, "CHUNK", timedelta(minutes=1))  # one request per step
        start = datetime(2026, 1, 1, tzinfo=UTC)
        provider = PrometheusProvider(
            f"http://127.0.0.1:{httpd.server_port}", timeout=timedelta(seconds=1), cache=SettledCache(None)
        )
        began = time.monotonic()
        with pytest.raises(ProviderError, match="did not answer within 1 s"):
            provider.steps("1.0.0", start, 10, timedelta(minutes=1))
        # Each request took 0.4 s, well inside 1 s; the look stopped at its deadline, after 2 or 3.
        assert time.monotonic() - began < 1.5 and handler.answered <= 3
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize("value", ["NaN", "+Inf", "-1"])
def test_a_sample_no_counter_can_hold_is_a_problem(server, value):
    body = {
        "status": "success",
        "data": {
            "resultType": "matrix",
            "result": [
                {
                    "metric": {"__name__": "http_server_request_duration_seconds_count", "service_version": "1.0.0"},
                    "values": [[1767225600 + 30, "5"], [1767225600 + 60, value]],
                }
            ],
        },
    }
    provider = PrometheusProvider(server(200, json.dumps(body).encode()), cache=SettledCache(None))
    found = provider.steps("1.0.0", datetime(2026, 1, 1, tzinfo=UTC), 1, timedelta(minutes=1))
    # The bad sample, and (this server has no buckets) the histogram that is missing.
    assert [p.series for p in found.problems] == ["requests", "latency"]
    assert f"has the sample {value} at 2026-01-01T00:01:00Z" in found.problems[0].reason
    assert "served 5 requests but has no latency histogram" in found.problems[1].reason
    assert found.counts[0].requests == 5  # the first sample counted from 0 (born in the step); the bad one not


# -- settled steps on disk ------------------------------------------------------------------------

KEY = {"source": "http://user:secret@prometheus:9090", "version": "1.0.0", "start": "2026-01-01T00:00:00+00:00"}


def test_settled_steps_round_trip_and_name_no_credential(tmp_path):
    cache = SettledCache(tmp_path)
    rows = [[10.0, 1.0, 9.0], [20.0, 1.0, 18.0]]
    cache.save(KEY, {"settled": 2}, rows, 0)
    assert cache.load(KEY) == ({"settled": 2}, rows)
    # A later look appends only its rows.
    cache.save(KEY, {"settled": 3}, [*rows, [30.0, 2.0, 27.0]], 2)
    assert cache.load(KEY) == ({"settled": 3}, [*rows, [30.0, 2.0, 27.0]])
    assert all("secret" not in p.name and "secret" not in p.read_text() for p in tmp_path.iterdir())


def test_two_processes_appending_the_same_steps_are_read_by_index(tmp_path):
    # Two watches of one stage both thought 1 row was on disk and appended the same next rows.
    first, second = SettledCache(tmp_path), SettledCache(tmp_path)
    rows = [[float(i), 0.0] for i in range(4)]
    first.save(KEY, {"settled": 1}, rows[:1], 0)
    first.save(KEY, {"settled": 3}, rows[:3], 1)
    second.save(KEY, {"settled": 4}, rows[:4], 1)
    assert first.load(KEY) == ({"settled": 4}, rows)


def test_a_cache_that_lost_rows_or_was_never_written_is_read_as_absent(tmp_path):
    cache = SettledCache(tmp_path)
    cache.save(KEY, {"settled": 2}, [[1.0], [2.0]], 0)
    (rows_file,) = tmp_path.glob("*.rows")
    rows_file.write_text("")  # the state says 2 rows; none is there
    assert cache.load(KEY) is None
    assert cache.load({**KEY, "version": "2.0.0"}) is None
    SettledCache(None).save(KEY, {"settled": 1}, [[1.0]], 0)  # keeps nothing, fails nothing
    assert SettledCache(None).load(KEY) is None


def test_on_loopback_the_answer_is_asked_for_uncompressed():
    class Seen(Slow):
        encodings: list[str] = []

        def do_GET(self):  # noqa: N802
            type(self).encodings.append(self.headers.get("Accept-Encoding", ""))
            super().do_GET()

    httpd = HTTPServer(("127.0.0.1", 0), Seen)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        provider = PrometheusProvider(f"http://127.0.0.1:{httpd.server_port}", cache=SettledCache(None))
        provider.steps("1.0.0", datetime(2026, 1, 1, tzinfo=UTC), 1, timedelta(minutes=1))
        assert Seen.encodings == ["identity"]
        assert PrometheusProvider("https://prometheus.example.com", cache=SettledCache(None))._encoding == {}
    finally:
        httpd.shutdown()
        httpd.server_close()
