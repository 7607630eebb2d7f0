"""The Application Insights provider through the real azure-monitor-query client: only the HTTP
exchange is replaced, by responses recorded in the Azure Monitor Log Analytics query API's shape
(tables of typed columns and rows; a partial error next to the tables; an error object)."""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone

import pytest
import requests
import urllib3
from azure.core.credentials import AccessToken
from azure.core.pipeline.transport import RequestsTransport
from azure.monitor.query import LogsQueryClient, LogsQueryResult, LogsTable

from stagewise.alert_rules import ERROR_SHARE_QUERY
from stagewise.analysis.appinsights import AppInsightsProvider, slower_than_query, summary_query
from stagewise.analysis.provider import ProviderError, Window

RESOURCE = "/subscriptions/0000/resourceGroups/rg-production/providers/Microsoft.Insights/components/env-insights"
WINDOW = Window(datetime(2026, 11, 22, 10, tzinfo=timezone.utc), datetime(2026, 11, 22, 12, tzinfo=timezone.utc))

SUMMARY = {"tables": [{"name": "PrimaryResult", "columns": [
    {"name": "requests", "type": "long"}, {"name": "errors", "type": "long"}, {"name": "p95_ms", "type": "real"}],
    "rows": [[5234, 31, 182.4]]}]}
EMPTY_SUMMARY = {"tables": [{"name": "PrimaryResult", "columns": [
    {"name": "requests", "type": "long"}, {"name": "errors", "type": "long"}, {"name": "p95_ms", "type": "real"}],
    "rows": [[0, 0, "NaN"]]}]}
SLOWER = {"tables": [{"name": "PrimaryResult", "columns": [{"name": "slower", "type": "long"}], "rows": [[402]]}]}
PARTIAL = {**SUMMARY, "error": {"code": "PartialError", "message": "There were some errors when processing your query.",
                                 "details": [{"code": "EngineError", "message": "Query exceeded the memory limit"}]}}
FORBIDDEN = {"error": {"code": "InsufficientAccessError",
                       "message": "The provided credentials have insufficient access to perform the requested operation"}}


class Recorded(requests.adapters.BaseAdapter):
    """Answers each request with the next recorded (status, body) and keeps what was sent."""

    def __init__(self, *answers: tuple[int, dict]):
        super().__init__()
        self.answers, self.sent = list(answers), []

    def send(self, request, **kwargs):
        self.sent.append(request)
        status, body = self.answers.pop(0)
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json; charset=utf-8", "Content-Length": str(len(data))}
        raw = urllib3.HTTPResponse(body=io.BytesIO(data), headers=headers, status=status, preload_content=False,
                                   decode_content=False, enforce_content_length=True)
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


def test_a_version_is_measured_by_its_own_requests():
    source, adapter = provider((200, SUMMARY))
    metrics = source.version_metrics("1.5.0", WINDOW)
    assert (metrics.version, metrics.requests, metrics.errors, metrics.p95_ms) == ("1.5.0", 5234, 31, 182.4)
    sent = adapter.sent[0]
    assert sent.method == "POST" and sent.url.endswith(f"/v1{RESOURCE}/query")
    body = json.loads(sent.body)
    assert 'application_Version == "1.5.0"' in body["query"]
    assert body["timespan"] == "2026-11-22T10:00:00.000Z/2026-11-22T12:00:00.000Z"


def test_no_requests_means_no_p95():
    source, _ = provider((200, EMPTY_SUMMARY))
    metrics = source.version_metrics("1.5.0", WINDOW)
    assert (metrics.requests, metrics.p95_ms) == (0, None)


def test_slower_than_counts_requests_over_the_threshold():
    source, adapter = provider((200, SLOWER))
    assert source.slower_than("1.5.0", WINDOW, 115.0) == 402
    assert "duration > 115.000" in json.loads(adapter.sent[0].body)["query"]


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
    result = LogsQueryResult._from_generated(SUMMARY)
    assert isinstance(result.tables[0], LogsTable)
    assert dict(zip(result.tables[0].columns, result.tables[0].rows[0])) == {"requests": 5234, "errors": 31, "p95_ms": 182.4}


def test_the_queries_read_the_requests_table_like_the_alerts_do():
    # Same table, same error definition (HTTP 5xx) as the rollout alerts, narrowed to one version.
    assert ERROR_SHARE_QUERY.startswith("requests")
    assert "countif(toint(resultCode) >= 500)" in ERROR_SHARE_QUERY and "countif(toint(resultCode) >= 500)" in summary_query("1")
    assert summary_query('we"ird').count('"') == 2 + 1 and '\\"' in summary_query('we"ird')
    assert "$" not in slower_than_query("1.5.0", 10)
