"""Azure Monitor rules: autoscale settings and rollout log alerts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from stagewise.core.alert_rules import VERSION_COLUMN
from stagewise.core.tiers import PRODUCTION
from stagewise.policy.inputs import MISSING, as_int, dig, is_unknown, shown
from stagewise.policy.settings import Settings
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


def _conditions(props: Mapping[str, Any]) -> list[tuple[int, Any]]:
    conditions = dig(props, "criteria", "allOf")
    return list(enumerate(conditions)) if isinstance(conditions, list) else [(0, MISSING)]


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
        keeps = isinstance(query, str) and re.search(rf"\bby\b[^|]*\b{VERSION_COLUMN}\b", query) is not None
        if split and keeps:
            continue
        messages.append(
            f"log alert condition {i} must fire per version: split criteria.allOf[{i}].dimensions by "
            f"{{name: {VERSION_COLUMN!r}, operator: 'Include', values: ['*']}} and summarize its query "
            f"by {VERSION_COLUMN}, or a failing candidate is averaged away by the live colour"
        )
    return messages


def log_alert_excludes_health_probe(props: Mapping[str, Any], settings: Settings) -> list[str]:
    """Health probes hit every instance of both colours at a steady rate (App Service's health check
    "pings this path on all instances ... at 1-minute intervals", app-service/monitor-instances-health-check.md,
    and Traffic Manager probes too); counted as requests, they dilute a candidate's error share and latency."""
    path = re.escape(settings.health_path)
    excluded = re.compile(rf'(!=|!has|!contains|!endswith|!startswith|!in)\s*\(?\s*"{path}"')
    messages = []
    for i, condition in _conditions(props):
        query = dig(condition, "query")
        if is_unknown(query) or not (isinstance(query, str) and re.match(r"\s*requests\b", query)):
            continue
        if not excluded.search(query):
            messages.append(
                f"log alert condition {i} reads requests including the health probes: leave out "
                f'{settings.health_path!r} in criteria.allOf[{i}].query (e.g. | where tostring(parse_url(url).Path) != "{settings.health_path}")'
            )
    return messages


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
