"""The Application Insights provider through the real azure-monitor-query client: only the HTTP
exchange is replaced, by responses recorded in the Azure Monitor Log Analytics query API's shape
(tables of typed columns and rows; a partial error next to the tables; an error object)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
import requests
import urllib3
from azure.core.credentials import AccessToken
from azure.core.pipeline.transport import RequestsTransport
from azure.monitor.query import LogsQueryClient, LogsQueryResult, LogsTable

from stagewise.core import alert_rules
from stagewise.core.gate_config import Queries
from stagewise.tools.gate.appinsights import AppInsightsProvider, KqlQueries
from stagewise.tools.gate.evidence import Counts
from stagewise.tools.gate.provider import ProviderError, Window
from stagewise.tools.gate.settled import SettledCache

RESOURCE = "/subscriptions/0000/resourceGroups/rg-production/providers/Microsoft.Insights/components/env-insights"
WINDOW = Window(datetime(2026, 11, 22, 10, tzinfo=UTC), datetime(2026, 11, 22, 12, tzinfo=UTC))


def table(columns: list[tuple[str, str]], rows: list[list]) -> dict:
    return {
        "tables": [{"name": "PrimaryResult", "columns": [{"name": n, "type": t} for n, t in columns], "rows": rows}]
    }


# What the alerts' per-version queries return: one row per application_Version.
ERROR_SHARE = table(
    [("application_Version", "string"), ("error_share", "real"), ("requests", "long")],
    [["1.4.2", 0.2, 41000], ["1.5.0", 0.5922812380588460, 5234]],
)
P95 = table(
    [("application_Version", "string"), ("p95_ms", "real"), ("requests", "long")],
    [["1.4.2", 120.5, 41000], ["1.5.0", 182.4, 5234]],
)
SLOWER = table(
    [("application_Version", "string"), ("slower", "long"), ("requests", "long")],
    [["1.5.0", 402, 5234], ["1.4.2", 2000, 41000]],
)
OTHER_VERSIONS_ONLY = table(
    [("application_Version", "string"), ("error_share", "real"), ("requests", "long")], [["1.4.2", 0.2, 41000]]
)
WRONG_COLUMNS = table([("requests", "long"), ("errors", "long")], [[5234, 31]])
PARTIAL = {
    **ERROR_SHARE,
    "error": {
        "code": "PartialError",
        "message": "There were some errors when processing your query.",
        "details": [{"code": "EngineError", "message": "Query exceeded the memory limit"}],
    },
}
FORBIDDEN = {
    "error": {
        "code": "InsufficientAccessError",
        "message": "The provided credentials have insufficient access to perform the requested operation",
    }
}


class Recorded(requests.adapters.BaseAdapter):
    """Answers each request with the next recorded (status, body) and keeps what was sent."""

    def __init__(self, *answers: tuple[int, dict]):
        super().__init__()
        self.answers, self.sent, self.timeouts = list(answers), [], []

    def send(self, request, **kwargs):
        self.sent.append(request)
        self.timeouts.append(kwargs.get("timeout"))
        status, body = self.answers.pop(0)
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json; charset=utf-8", "Content-Length": str(len(data))}
        raw = urllib3.HTTPResponse(
            body=io.BytesIO(data),
            headers=headers,
            status=status,
            preload_content=False,
            decode_content=False,
            enforce_content_length=True,
        )
        return self.build_response(request, raw)

    def build_response(self, request, raw):
        return requests.adapters.HTTPAdapter().build_response(request, raw)

    def close(self):
        pass


class Token:
    def get_token(self, *scopes, **kwargs):
        return AccessToken("token", 4_102_444_800)


def provider(*answers: tuple[int, dict]) -> tuple[AppInsightsProvider, Recorded]:
    adapter = Recorded(*answers)
    session = requests.Session()
    session.mount("https://", adapter)
    client = LogsQueryClient(Token(), transport=RequestsTransport(session=session, session_owner=False), retry_total=0)
    return AppInsightsProvider(RESOURCE, client=client), adapter


def test_a_version_is_measured_by_its_own_row_of_the_alerts_queries():
    source, adapter = provider((200, ERROR_SHARE), (200, P95))
    metrics = source.version_metrics("1.5.0", WINDOW)
    assert (metrics.version, metrics.requests, metrics.errors, metrics.p95_ms) == ("1.5.0", 5234, 31, 182.4)
    first, second = (json.loads(r.body) for r in adapter.sent)
    assert adapter.sent[0].method == "POST" and adapter.sent[0].url.endswith(f"/v1{RESOURCE}/query")
    assert (first["query"], second["query"]) == (
        alert_rules.per_version_query("error_share"),
        alert_rules.per_version_query("p95_ms"),
    )
    assert first["timespan"] == "2026-11-22T10:00:00.000Z/2026-11-22T12:00:00.000Z"


def test_a_version_without_a_row_served_nothing():
    source, adapter = provider((200, OTHER_VERSIONS_ONLY))
    metrics = source.version_metrics("1.5.0", WINDOW)
    assert (metrics.requests, metrics.errors, metrics.p95_ms) == (0, 0, None)
    assert len(adapter.sent) == 1  # no p95 asked for a version without requests


def test_slower_than_counts_requests_over_the_threshold():
    source, adapter = provider((200, SLOWER))
    assert source.slower_than("1.5.0", WINDOW, 115.0) == 402
    assert "countif(duration > 115.000)" in json.loads(adapter.sent[0].body)["query"]


def test_the_health_probe_path_is_left_out_like_the_alerts_do():
    adapter = Recorded((200, SLOWER))
    session = requests.Session()
    session.mount("https://", adapter)
    client = LogsQueryClient(Token(), transport=RequestsTransport(session=session, session_owner=False), retry_total=0)
    AppInsightsProvider(RESOURCE, client=client, health_path="/healthz").slower_than("1.5.0", WINDOW, 100)
    query = json.loads(adapter.sent[0].body)["query"]
    alerts = alert_rules.per_version_query("p95_ms", "/healthz")
    assert query.split("| summarize")[0] == alerts.split("| summarize")[0] and '"/healthz"' in query
    assert query.endswith(f"by {alert_rules.VERSION_COLUMN}")


def test_a_query_without_the_needed_columns_is_a_provider_error():
    source, _ = provider((200, WRONG_COLUMNS))
    with pytest.raises(ProviderError, match="must return the columns application_Version, error_share and requests"):
        source.version_metrics("1.5.0", WINDOW)


def test_partial_results_are_not_judged():
    source, _ = provider((200, PARTIAL))
    with pytest.raises(ProviderError, match="partial results"):
        source.version_metrics("1.5.0", WINDOW)


def test_a_refused_query_is_a_provider_error_naming_the_cause():
    source, _ = provider((403, FORBIDDEN))
    with pytest.raises(ProviderError, match="HttpResponseError.*insufficient access"):
        source.version_metrics("1.5.0", WINDOW)


def test_recorded_answers_parse_into_the_libraries_own_result_types():
    # The shapes above are what the service returns: the library's own types read them.
    result = LogsQueryResult._from_generated(P95)
    assert isinstance(result.tables[0], LogsTable)
    assert dict(zip(result.tables[0].columns, result.tables[0].rows[1])) == {
        "application_Version": "1.5.0",
        "p95_ms": 182.4,
        "requests": 5234,
    }


def test_a_stack_may_override_a_query():
    custom = Queries(
        p95="requests | summarize p95_ms = percentile(duration, 99), requests = count() by application_Version"
    )
    source, adapter = provider((200, ERROR_SHARE), (200, P95))
    source.kql = KqlQueries.of(custom)
    source.version_metrics("1.5.0", WINDOW)
    assert json.loads(adapter.sent[1].body)["query"] == custom.p95


def client_for(adapter: Recorded) -> LogsQueryClient:
    session = requests.Session()
    session.mount("https://", adapter)
    return LogsQueryClient(Token(), transport=RequestsTransport(session=session, session_owner=False), retry_total=0)


STEP_COLUMNS = [
    ("application_Version", "string"),
    ("step", "datetime"),
    ("requests", "long"),
    ("errors", "long"),
    ("le0", "long"),
    ("le1", "long"),
]


def test_the_evidence_is_counted_per_step_from_the_stage_start_at_exact_bounds():
    # Steps 0 and 2 served requests; step 1 none (no row); a row outside the grid is ignored.
    rows = [
        ["1.5.0", "2026-11-22T10:00:00Z", 100, 2, 90, 99],
        ["1.5.0", "2026-11-22T10:02:00Z", 50, 5, 40, 50],
        ["1.5.0", "2026-11-22T09:59:00Z", 999, 999, 0, 0],
    ]
    adapter = Recorded((200, table(STEP_COLUMNS, rows)))
    source = AppInsightsProvider(RESOURCE, client=client_for(adapter), bounds_ms=(2000, 100), cache=SettledCache(None))
    steps = source.steps("1.5.0", WINDOW.start, 3, timedelta(minutes=1))
    assert steps.bounds == (0.1, 2.0) and steps.problems == ()
    assert [(c.requests, c.errors, c.buckets) for c in steps.counts] == [
        (100, 2, (90, 99)),
        (100, 2, (90, 99)),
        (150, 7, (130, 149)),
    ]
    sent = json.loads(adapter.sent[0].body)
    assert sent["timespan"] == "2026-11-22T10:00:00.000Z/2026-11-22T10:03:00.000Z"
    query = sent["query"]
    # The alerts' filter, this version only, one bin per step from the stage's start, exact counts.
    assert query.startswith(alert_rules.per_version_query("error_share").split(" | summarize")[0])
    assert 'application_Version == "1.5.0"' in query
    assert "le0 = countif(duration <= 100), le1 = countif(duration <= 2000)" in query
    assert "by application_Version, step = bin_at(timestamp, 60s, datetime(2026-11-22T10:00:00.000000Z))" in query
    # The client waits no longer than the timeout for the connection or the answer (not azure-core's 300 s).
    assert adapter.timeouts == [(30, 30)]


def test_both_versions_in_one_query_and_a_look_asks_only_for_the_steps_since_the_last_settled_one(tmp_path):
    start = WINDOW.start
    now = start.timestamp() + 10 * 60 + 5 * 60  # 15 minutes in: 10 steps settled (SETTLE is 5 minutes)
    first = [[v, f"2026-11-22T10:0{i}:00Z", 10, 1, 9, 10] for v in ("1.5.0", "1.4.2") for i in range(10)]
    later = [[v, "2026-11-22T10:10:00Z", 20, 0, 20, 20] for v in ("1.5.0", "1.4.2")]
    adapter = Recorded((200, table(STEP_COLUMNS, first)), (200, table(STEP_COLUMNS, later)))
    clock = [now]
    source = AppInsightsProvider(
        RESOURCE,
        client=client_for(adapter),
        bounds_ms=(100, 2000),
        cache=SettledCache(tmp_path),
        clock=lambda: clock[0],
    )
    found = source.steps_for(("1.5.0", "1.4.2"), start, 14, timedelta(minutes=1))
    # Steps 10 to 13 have not settled: not returned, for either version.
    assert [len(s.counts) for s in found.values()] == [10, 10]
    query = json.loads(adapter.sent[0].body)["query"]
    assert 'application_Version in ("1.5.0", "1.4.2")' in query
    clock[0] += 60
    again = source.steps_for(("1.5.0", "1.4.2"), start, 15, timedelta(minutes=1))
    assert again["1.5.0"].counts[-1] == Counts(120, 10, (110, 120)) and len(again["1.4.2"].counts) == 11
    # The second look asked for one step, not for every request since the stage began.
    assert json.loads(adapter.sent[1].body)["timespan"] == "2026-11-22T10:10:00.000Z/2026-11-22T10:11:00.000Z"
    assert "where timestamp >= datetime(2026-11-22T10:10:00.000000Z)" in json.loads(adapter.sent[1].body)["query"]
    # Another process reads the settled steps from the cache: no query at all.
    restarted = AppInsightsProvider(
        RESOURCE,
        client=client_for(Recorded()),
        bounds_ms=(100, 2000),
        cache=SettledCache(tmp_path),
        clock=lambda: clock[0],
    )
    assert restarted.steps_for(("1.5.0", "1.4.2"), start, 15, timedelta(minutes=1)) == again
    assert restarted.queries_made == 0


def test_a_cell_that_is_not_a_count_is_a_problem_not_a_zero():
    rows = [["1.5.0", "2026-11-22T10:00:00Z", 100, None, 90, 99], ["1.5.0", "2026-11-22T10:01:00Z", 100, 2, -5, 99]]
    adapter = Recorded((200, table(STEP_COLUMNS, rows)))
    source = AppInsightsProvider(RESOURCE, client=client_for(adapter), bounds_ms=(100, 2000), cache=SettledCache(None))
    problems = source.steps("1.5.0", WINDOW.start, 2, timedelta(minutes=1)).problems
    assert [(p.series, p.reason) for p in problems] == [
        ("errors", "version 1.5.0: column errors of step 0 (2026-11-22T10:00:00+00:00) is null"),
        ("latency", "version 1.5.0: column le0 of step 1 (2026-11-22T10:01:00+00:00) is -5, not a count (not counted)"),
    ]
