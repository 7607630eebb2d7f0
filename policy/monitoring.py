"""Azure Monitor rules: autoscale settings and rollout log alerts."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from stagewise.core import config, tiers
from stagewise.core.alert_rules import VERSION_COLUMN
from stagewise.core.tiers import PRODUCTION
from stagewise.policy.inputs import (
    MISSING,
    StackResource,
    StackViolation,
    as_int,
    by_urn,
    dig,
    is_unknown,
    shown,
    sources,
)
from stagewise.policy.record import OnStack, PolicyRecord, ResourcesOnly, Validation, each
from stagewise.policy.resource_types import APPLICATION_INSIGHTS, AUTOSCALE_SETTING, SCHEDULED_QUERY_RULE, WORKBOOK
from stagewise.policy.settings import ALERT_MIN_REQUESTS, HEALTH_PATH, MINIMUM_INSTANCES, Settings
from stagewise.policy.tier import azure_tier


def autoscale_production_minimum(props: Mapping[str, Any], settings: Settings) -> list[str]:
    tier = azure_tier(props)
    if tier is None or tier.name != PRODUCTION:
        return []
    profiles = dig(props, "profiles")
    if is_unknown(profiles):
        return []
    least = settings.production_autoscale_minimum
    if not isinstance(profiles, list) or not profiles:
        profiles = [{}]  # report the absent profile like an absent minimum
    messages = []
    for index, profile in enumerate(profiles):
        value = dig(profile, "capacity", "minimum")
        if is_unknown(value):
            continue
        minimum = as_int(value)
        if minimum is not None and minimum >= least:
            continue
        name = dig(profile, "name")
        which = f"profile {name!r}" if isinstance(name, str) else f"profile {index}"
        messages.append(
            f"autoscale in {tier.label} must keep at least {least} instances: "
            f"set profiles[{index}].capacity.minimum ({which}) to '{least}' or more (got {shown(value)})"
        )
    return messages


AUTOSCALE_PRODUCTION_MINIMUM = PolicyRecord(
    name="autoscale-production-minimum",
    description="Production autoscale keeps a minimum number of instances.",
    check=each(AUTOSCALE_SETTING, autoscale_production_minimum),
    rule="every `profiles[].capacity.minimum` is at least N",
    tiers="production",
    config=(MINIMUM_INSTANCES,),
    twin=(tiers.AUTOSCALE_MINIMUM_RULE, tiers.INSTANCES_RULE),
)


def _conditions(props: Mapping[str, Any]) -> list[tuple[int, Any]]:
    conditions = dig(props, "criteria", "allOf")
    return list(enumerate(conditions)) if isinstance(conditions, list) else [(0, MISSING)]


def _per_version(query: str) -> bool:
    """The query summarizes by the version column."""
    return re.search(rf"\bby\b[^|]*\b{VERSION_COLUMN}\b", query) is not None


def _leaves_out(path: str, query: str) -> bool:
    """The query leaves out requests to `path` (the health probe)."""
    return re.search(rf'(!=|!has|!contains|!endswith|!startswith|!in)\s*\(?\s*"{re.escape(path)}"', query) is not None


def log_alert_split_by_version(props: Mapping[str, Any], settings: Settings) -> list[str]:
    """A log alert over the blended colours cannot see the candidate: at a 5 % canary, a candidate
    failing every request moves the blended error share to about 5 %. Each condition is split by
    the version dimension, and its query keeps that column (stagewise.core.alert_rules)."""
    messages = []
    for i, condition in _conditions(props):
        dimensions, query = dig(condition, "dimensions"), dig(condition, "query")
        if is_unknown(dimensions) or is_unknown(query):
            continue
        split = any(
            dig(d, "name") == VERSION_COLUMN and dig(d, "operator") == "Include"
            for d in (dimensions if isinstance(dimensions, list) else [])
        )
        keeps = isinstance(query, str) and _per_version(query)
        if split and keeps:
            continue
        messages.append(
            f"log alert condition {i} must fire per version: split criteria.allOf[{i}].dimensions by "
            f"{{name: {VERSION_COLUMN!r}, operator: 'Include', values: ['*']}} and summarize its query "
            f"by {VERSION_COLUMN}, or a failing candidate is averaged away by the live colour"
        )
    return messages


LOG_ALERT_SPLIT_BY_VERSION = PolicyRecord(
    name="log-alert-split-by-version",
    description="Rollout log alerts are split by application_Version, so that the candidate is judged on its own "
    "requests (azure-monitor/alerts/alerts-create-log-alert-rule.md, 'Split by dimensions').",
    check=each(SCHEDULED_QUERY_RULE, log_alert_split_by_version),
    rule="every condition is split by the `application_Version` dimension (Include) and its query summarizes "
    "`by application_Version`",
    twin=ResourcesOnly("the queries are built by stagewise.core.alert_rules"),
)


def log_alert_excludes_health_probe(props: Mapping[str, Any], settings: Settings) -> list[str]:
    """Health probes hit every instance of both colours at a steady rate (App Service's health check
    "pings this path on all instances ... at 1-minute intervals", app-service/monitor-instances-health-check.md,
    and Traffic Manager probes too); counted as requests, they dilute a candidate's error share and latency."""
    messages = []
    for i, condition in _conditions(props):
        query = dig(condition, "query")
        if is_unknown(query) or not (isinstance(query, str) and re.match(r"\s*requests\b", query)):
            continue
        if not _leaves_out(settings.health_path, query):
            messages.append(
                f"log alert condition {i} reads requests including the health probes: leave out "
                f'{settings.health_path!r} in criteria.allOf[{i}].query (e.g. | where tostring(parse_url(url).Path) != "{settings.health_path}")'
            )
    return messages


LOG_ALERT_EXCLUDES_HEALTH_PROBE = PolicyRecord(
    name="log-alert-excludes-health-probe",
    description="Log alerts over requests leave out the health-probe path, which App Service's health check alone "
    "requests steadily (app-service/monitor-instances-health-check.md: 'Health check pings this path on "
    "all instances of your App Service app at 1-minute intervals').",
    check=each(SCHEDULED_QUERY_RULE, log_alert_excludes_health_probe),
    rule="a query over `requests` leaves out the health path",
    config=(HEALTH_PATH,),
    twin=ResourcesOnly(
        "the queries are built by stagewise.core.alert_rules, on the path of tier rule traffic.probe.path"
    ),
)


_REQUEST_FLOOR = re.compile(r"\|\s*where\s+requests\s*>=\s*(\d+)\s*$")


def log_alert_min_requests(props: Mapping[str, Any], settings: Settings) -> list[str]:
    """A per-version alert over a handful of requests fires at severity 0 on a single 5xx: each query over
    requests ends by keeping only versions with at least `alert_min_requests` requests in the window
    (stagewise.core.alert_rules.with_min_requests)."""
    messages = []
    for i, condition in _conditions(props):
        query = dig(condition, "query")
        if is_unknown(query) or not (isinstance(query, str) and re.match(r"\s*requests\b", query)):
            continue
        floor = _REQUEST_FLOOR.search(query)
        if floor and int(floor.group(1)) >= settings.alert_min_requests:
            continue
        messages.append(
            f"log alert condition {i} judges a version on any number of requests: end criteria.allOf[{i}].query "
            f"with '| where requests >= N', N at least {settings.alert_min_requests} "
            f"(got {'N = ' + floor.group(1) if floor else 'no floor'})"
        )
    return messages


LOG_ALERT_MIN_REQUESTS = PolicyRecord(
    name="log-alert-min-requests",
    description="Log alerts judge a version only once it served enough requests in the window, or a single 5xx among "
    "a handful pages at severity 0 (the stage gate's minRequests, docs/stage-gates.md).",
    check=each(SCHEDULED_QUERY_RULE, log_alert_min_requests),
    rule="a query over `requests` ends with `| where requests >= N`, N at least the floor",
    config=(ALERT_MIN_REQUESTS,),
    twin=Validation(
        "alerts.minRequests (default analysis.minRequests) at least tiers.ALERT_MIN_REQUESTS",
        (config.AlertsConfig.model_fields["min_requests"], config.StackConfig._alerts_judge_enough_requests),
    ),
)


def workbook_per_environment(resources: Sequence[StackResource]) -> list[StackViolation]:
    """Each Application Insights component of the stack has exactly one workbook whose sourceId is that component
    (followed through the property's dependencies), and every workbook reads one of the stack's components: the
    operator finds the rollout's charts in one place per environment, over the requests the alerts judge."""
    index = by_urn(resources)
    components = [r for r in resources if r.type in APPLICATION_INSIGHTS]
    found: list[StackViolation] = []
    read: dict[str, list[StackResource]] = {c.urn: [] for c in components}
    for book in (r for r in resources if r.type in WORKBOOK):
        origins = sources(book, "sourceId", index, APPLICATION_INSIGHTS)
        if not origins:
            found.append(
                StackViolation(
                    f"workbook {book.name!r} must read this stack's Application Insights: set sourceId to the "
                    f"component's id (got {shown(dig(book.props, 'sourceId'))})",
                    book.urn,
                )
            )
        for component in origins:
            read[component.urn].append(book)
    for component in components:
        books = read[component.urn]
        if len(books) != 1:
            found.append(
                StackViolation(
                    f"Application Insights {component.name!r} must have exactly one workbook with its id as sourceId "
                    f"(the rollout's dashboard, stagewise.components.RolloutWorkbook); found {len(books)}"
                    + (f": {', '.join(repr(b.name) for b in books)}" if books else ""),
                    component.urn,
                )
            )
    return found


WORKBOOK_PER_ENVIRONMENT = PolicyRecord(
    name="workbook-per-environment",
    description="An Azure stack with Application Insights has exactly one Azure Monitor workbook whose sourceId is "
    "that component: the rollout's dashboard, running the alerts' per-version queries (a shared workbook's sourceId "
    "is the resource it is linked to: azure-monitor/visualize/workbooks-automate.md).",
    check=OnStack(workbook_per_environment),
    rule="each Application Insights component is the `sourceId` of exactly one workbook, and every workbook's "
    "`sourceId` is such a component",
    twin=ResourcesOnly("the program builds one RolloutWorkbook per Azure stack over its Environment's component"),
)


# A query that reads the requests table: first in the query, or first in a `let` over it.
_READS_REQUESTS = re.compile(r"^\s*(let\s+\w+\s*=\s*)?requests\b")


def workbook_queries_per_version(props: Mapping[str, Any], settings: Settings) -> list[str]:
    """A workbook chart over the blended colours shows what the live colour does: each query over requests in the
    workbook's JSON is summarized by the version column and leaves out the health probes, like the alerts'."""
    data = dig(props, "serializedData")
    if is_unknown(data):
        return []
    try:
        items = json.loads(data)["items"] if isinstance(data, str) else None
    except (ValueError, KeyError, TypeError):
        items = None
    if not isinstance(items, list):
        return [f"workbook serializedData must be a workbook document with items (got {shown(data)[:80]})"]
    messages = []
    for i, item in enumerate(items):
        query = dig(item, "content", "query")
        if not (isinstance(query, str) and _READS_REQUESTS.match(query)):
            continue
        name = dig(item, "name")
        which = f"item {i} ({name!r})" if isinstance(name, str) else f"item {i}"
        if not _per_version(query):
            messages.append(
                f"workbook {which} charts requests blended across versions: summarize items[{i}].content.query "
                f"by {VERSION_COLUMN} (stagewise.core.alert_rules.per_version_query)"
            )
        if not _leaves_out(settings.health_path, query):
            messages.append(
                f"workbook {which} counts the health probes: leave out {settings.health_path!r} in "
                f"items[{i}].content.query"
            )
    return messages


WORKBOOK_QUERIES_PER_VERSION = PolicyRecord(
    name="workbook-queries-per-version",
    description="The rollout workbook's queries over requests are per version (application_Version, the "
    "service.version the app emits) and leave out the health path, as the alerts' do: at a 5 % canary a blended "
    "chart hides a failing candidate (azure-monitor/alerts/alerts-create-log-alert-rule.md, 'Split by "
    "dimensions'; app-service/monitor-instances-health-check.md: 'Health check pings this path on all instances').",
    check=each(WORKBOOK, workbook_queries_per_version),
    rule="`serializedData` is a workbook document; each item's query over `requests` summarizes "
    "`by application_Version` and leaves out the health path",
    config=(HEALTH_PATH,),
    twin=ResourcesOnly("the queries are built by stagewise.core.alert_rules, as the log alerts' are"),
)


POLICIES: tuple[PolicyRecord, ...] = (
    AUTOSCALE_PRODUCTION_MINIMUM,
    LOG_ALERT_SPLIT_BY_VERSION,
    LOG_ALERT_EXCLUDES_HEALTH_PROBE,
    LOG_ALERT_MIN_REQUESTS,
    WORKBOOK_PER_ENVIRONMENT,
    WORKBOOK_QUERIES_PER_VERSION,
)
