"""One analysis of a stack: when its stage began (git), what the provider measured, the verdict.

No Pulumi import. The stage's start is the commit that set it, read from git on the branch's
first-parent line, so git stays the only truth about when a stage began: a merged pull request
counts from its merge, not from when its author committed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from stagewise.core import rollout, stackconfig
from stagewise.core.config import ConfigError, StackConfig
from stagewise.core.gate_config import AnalysisConfig, format_duration
from stagewise.tools import git, history
from stagewise.tools.gate import kept, sequential
from stagewise.tools.gate.evidence import Counts, Sample, VersionMetrics, totals
from stagewise.tools.gate.explain import Verdict
from stagewise.tools.gate.judge import Judge
from stagewise.tools.gate.judge import no_metrics as judge_problem
from stagewise.tools.gate.provider import MetricsProvider, ProviderError, Steps
from stagewise.tools.gate.rules import Limits

SCHEMA = "stagewise.analysis/v1"
EXIT_CODES = {"promote": 0, "hold": 3, "abort": 4}
"""Exit code per verdict (1 stays "refused or broken", 2 is the plan's "has changes")."""
EXIT_STUCK = 5
"""A hold past its deadline: the candidate has had no traffic for longer than noTrafficDeadline."""


class GateError(ValueError):
    """The stack cannot be analysed (no rollout under way, uncommitted stage, ...); says why."""


@dataclass(frozen=True)
class StageStart:
    commit: str
    at: datetime
    subject: str
    release: rollout.Release


def parse_time(text: str) -> datetime:
    """An RFC 3339 time (with its offset, or Z) -> an aware datetime."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise GateError(f"--at {text!r} is not an RFC 3339 time, e.g. 2026-11-22T18:00:00Z") from None
    if value.tzinfo is None:
        raise GateError(f"--at {text!r} has no UTC offset; add Z or e.g. +01:00")
    return value


def stage_start(
    root: Path, stack_file: str, catalog: rollout.Catalog, at: datetime | None, current: rollout.Release
) -> StageStart:
    """The commit that set the stack's stage, as of `at` (default: now, and then the working tree
    must hold what it set)."""
    commits = [c for c in git.landed(root, stack_file) if at is None or parse_time(c.committed) <= at]
    steps = history.steps(zip(commits, git.contents(root, commits, stack_file)), catalog)
    if not steps or steps[-1].after is None or steps[-1].after.problem:
        when = f" before {at.isoformat()}" if at else ""
        raise GateError(
            f"{stack_file} has no committed release{when}: the stage's start comes from the commit that sets it"
        )
    step = steps[-1]
    view = step.after
    assert view is not None
    release = rollout.Release(current.image, view.blue, view.green, view.live or current.live, view.stage or "")  # type: ignore[arg-type]
    if at is None and (release.stage, release.live, release.blue, release.green) != (
        current.stage,
        current.live,
        current.blue,
        current.green,
    ):
        raise GateError(
            f"{stack_file} has an uncommitted release change (stage {release.stage} committed, {current.stage} in the "
            f"working tree); commit it first: a stage begins with the commit that sets it"
        )
    return StageStart(step.meta.sha, parse_time(step.meta.committed), step.meta.subject, release)


def config_at(root: Path, stack_file: str, start: StageStart) -> StackConfig:
    """The stack's config as the commit that began the stage left it (project defaults included)."""
    project, stack = git.show(root, start.commit, "Pulumi.yaml"), git.show(root, start.commit, stack_file)
    if project is None or stack is None:
        raise GateError(f"commit {start.commit[:8]} that began the stage has no Pulumi.yaml or {stack_file}")
    try:
        return stackconfig.config_from_texts(project, stack, stack_file)
    except ConfigError as error:
        raise GateError(
            f"the config of commit {start.commit[:8]}, which began the stage, is refused now: "
            + "; ".join(error.problems)
            + "; the gate judges a stage by the config it began with, so set the stage again with a valid one"
        ) from None


SOURCE_KEYS = ("url", "resource_id", "timeout", "bearer_token_secret", "basic_auth_user", "basic_auth_password_secret")
"""Where the metrics are read and how to sign in: these follow the stack file as it is now, so a
Prometheus that moved mid-stage is read where it is. What is judged (limits, bake, queries, step,
bounds, budget) stays as the stage began."""


def with_source(judged: StackConfig, now: StackConfig) -> StackConfig:
    """The stage's config (`judged`) with the metrics source's location from the current one, when
    both read the same provider; a provider changed mid-stage applies from the next stage."""
    if judged.analysis.provider != now.analysis.provider:
        return judged
    source = {key: getattr(now.analysis, key) for key in SOURCE_KEYS}
    return judged.model_copy(update={"analysis": judged.analysis.model_copy(update=source)})


def provider_for(
    settings: AnalysisConfig,
    resource_id: str | None = None,
    health_path: str = "/health",
    secret: Callable[[str], str] | None = None,
) -> MetricsProvider:
    """The provider a stack's `stagewise:analysis` names. appinsights needs the Application Insights
    resource ID: `resourceId` from the config, else `resource_id` (the stack's insights_id output);
    its default queries leave out `health_path`, as the alerts do (the stack's probe path).
    `secret`: decrypts a `stagewise:secrets` entry by name, for Prometheus's credentials."""
    if settings.provider == "prometheus":
        from stagewise.tools.gate.prometheus import PrometheusProvider

        assert settings.url is not None  # the validator requires it
        return PrometheusProvider(
            settings.url,
            settings.queries,
            settings.timeout,
            session=_signed_in(settings, secret),
            bounds_ms=settings.latency_bounds_ms,
        )
    from stagewise.tools.gate.appinsights import AppInsightsProvider

    target = settings.resource_id or resource_id
    if not target:
        raise GateError(
            "provider appinsights needs the Application Insights resource ID (stagewise:analysis.resourceId)"
        )
    # Raw durations: the limits themselves are bounds too, so they are counted exactly.
    bounds = (*settings.latency_bounds_ms, settings.latency_p95_abort_ms, settings.latency_p95_warning_ms)
    return AppInsightsProvider(target, settings.queries, settings.timeout, health_path=health_path, bounds_ms=bounds)


def _signed_in(settings: AnalysisConfig, secret: Callable[[str], str] | None) -> requests.Session | None:
    """A session carrying Prometheus's credentials the documented way (its HTTP API behind a proxy or
    `web.yml`: a bearer token or basic auth), each from a stack secret; None when none is set."""
    token, user, password = settings.bearer_token_secret, settings.basic_auth_user, settings.basic_auth_password_secret
    if not token and not user:
        return None
    if secret is None:
        raise GateError("Prometheus's credentials are stack secrets, and nothing here can decrypt them")
    session = requests.Session()
    if token:
        session.headers["Authorization"] = f"Bearer {secret(token)}"
    elif user and password:
        session.auth = (user, secret(password))
    return session


def require_traffic(start: StageStart, catalog: rollout.Catalog) -> rollout.Stage:
    stage = catalog.get(start.release.stage)
    if stage.share == 0:
        raise GateError(f"stage {stage.name!r} sends no traffic to the candidate: there is nothing to judge")
    return stage


def limits(cfg: StackConfig, stage: str) -> Limits:
    """The stage's limits, its part of the rollout's budget among them (stages with traffic, in order)."""
    gate = cfg.analysis
    own = next((s for s in cfg.stages if s.name == stage), None)
    judged = [s.name for s in cfg.catalog.stages if s.share > 0]
    budgets = sequential.stage_budgets(gate.false_abort_rate, len(judged))
    return Limits(
        bake=own.bake if own and own.bake is not None else gate.bake,
        min_requests=own.min_requests if own and own.min_requests is not None else gate.min_requests,
        error_rate_warning=gate.error_rate_warning,
        error_rate_abort=gate.error_rate_abort,
        p95_warning_ms=gate.latency_p95_warning_ms,
        p95_abort_ms=gate.latency_p95_abort_ms,
        error_rate_ratio=gate.error_rate_ratio,
        slow_requests_ratio=gate.slow_requests_ratio,
        false_abort_rate=gate.false_abort_rate,
        stage_budget=budgets[judged.index(stage)] if stage in judged else None,
        promote_margin=gate.margin,
        no_traffic_deadline=gate.no_traffic_deadline,
    )


@dataclass(frozen=True)
class Analysis:
    stack: str
    environment: str
    at: datetime
    start: StageStart
    share: int  # written as the JSON key stage.weight (docs/analysis.schema.json)
    next_stage: str | None
    limits: Limits
    provider: str
    candidate: VersionMetrics | None
    live: VersionMetrics | None
    result: Verdict
    auto_promote: bool = False
    step: timedelta = timedelta(minutes=1)
    steps: int = 0

    @property
    def verdict(self) -> str:
        return self.result.verdict

    @property
    def exit_code(self) -> int:
        return EXIT_STUCK if self.result.stuck else EXIT_CODES[self.result.verdict]

    def to_dict(self) -> dict[str, Any]:
        release = self.start.release
        return {
            "schema": SCHEMA,
            "verdict": self.result.verdict,
            "reason": self.result.reason,
            "holdReason": self.result.hold_reason,
            "stack": self.stack,
            "environment": self.environment,
            "autoPromote": self.auto_promote,
            "at": _iso(self.at),
            "window": {"start": _iso(self.start.at), "end": _iso(self.at)},
            "stage": {
                "name": release.stage,
                "weight": self.share,
                "next": self.next_stage,
                "commit": self.start.commit,
                "since": _iso(self.start.at),
                "bake": format_duration(self.limits.bake),
                "minRequests": self.limits.min_requests,
            },
            "provider": self.provider,
            "evidence": {
                "step": format_duration(self.step),
                "steps": self.steps,
                "falseAbortRate": self.limits.false_abort_rate,
                "stageBudget": self.limits.budget,
                "promoteMargin": self.limits.promote_margin,
                "decidedAt": None
                if self.result.decided_at is None
                else _iso(self.start.at + timedelta(seconds=self.result.decided_at)),
            },
            "versions": {
                "candidate": _version(release.candidate, release.version(release.candidate), self.candidate),
                "live": _version(release.live, release.version(release.live), self.live),
            },
            "checks": [c.to_dict() for c in self.result.checks],
            "promoteEvidence": [e.to_dict() for e in self.result.evidence],
            "stuck": self.result.stuck,
        }


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _version(colour: str, version: str | None, metrics: VersionMetrics | None) -> dict[str, Any]:
    return {
        "colour": colour,
        "version": version,
        "requests": None if metrics is None else metrics.requests,
        "errors": None if metrics is None else metrics.errors,
        "errorRate": None if metrics is None else metrics.error_rate,
        "p95Ms": None if metrics is None else metrics.p95_ms,
    }


def evidence(live: Steps, candidate: Steps, step: timedelta) -> tuple[tuple[float, ...], list[Sample]]:
    """Both versions' steps as the gate's samples, on the bounds both report (either's, if one
    served nothing)."""
    if live.bounds and candidate.bounds and live.bounds != candidate.bounds:
        bounds = tuple(sorted(set(live.bounds) & set(candidate.bounds)))
    else:
        bounds = live.bounds or candidate.bounds

    def on(steps: Steps, index: int) -> Counts:
        counts = steps.counts[index]
        if steps.bounds == bounds:
            return counts
        where = {bound: i for i, bound in enumerate(steps.bounds)}
        kept = tuple(counts.buckets[where[b]] if b in where else 0.0 for b in bounds)
        return Counts(counts.requests, counts.errors, kept)

    seconds = step.total_seconds()
    return bounds, [Sample((i + 1) * seconds, on(live, i), on(candidate, i)) for i in range(len(candidate.counts))]


def analyze(
    cfg: StackConfig,
    stack: str,
    start: StageStart,
    provider: MetricsProvider,
    at: datetime,
    *,
    cache: Path | None = None,
) -> Analysis:
    """Read both versions' settled evidence on the grid from the stage's start up to `at`, and judge.

    The Judge is kept (in memory, and in `cache` between processes) and takes only the steps it has
    not taken yet: each settled step is judged once, whoever looks and however often."""
    release, catalog = start.release, cfg.catalog
    stage = require_traffic(start, catalog)
    gate = limits(cfg, stage.name)
    upcoming = rollout.next_stage(release, catalog)
    candidate_version, live_version = release.version(release.candidate), release.version(release.live)
    assert candidate_version and live_version  # the config validator guarantees both at a stage with traffic
    step = cfg.analysis.step
    steps = int((at - start.at).total_seconds() // step.total_seconds()) if at > start.at else 0
    candidate = live = None
    problem: str | None = None
    result: Verdict
    judged = 0
    if at <= start.at:
        problem = f"--at {_iso(at)} is not after the stage began ({_iso(start.at)}, commit {start.commit[:8]})"
    elif steps == 0:
        result = Verdict(
            "hold",
            f"no candidate traffic: the first evidence step ({format_duration(step)}) since the stage began "
            f"({_iso(start.at)}) is not over",
            "no_candidate_traffic",
        )
    else:
        try:
            found = provider.steps_for((candidate_version, live_version), start.at, steps, step)
            candidate_steps, live_steps = found[candidate_version], found[live_version]
        except ProviderError as error:
            problem = str(error)
        else:
            bounds, samples = evidence(live_steps, candidate_steps, step)
            problems = [(p.series, p.reason) for p in (*candidate_steps.problems, *live_steps.problems)]
            name = kept.key(stack, start.commit, candidate_version, live_version, gate, step, bounds, stage.share)
            judge = kept.load(cache, name)
            # An earlier moment than the one kept (--at) is judged by a Judge of its own, never kept.
            earlier = judge is not None and judge.steps > len(samples)
            if judge is None or earlier:
                judge = Judge(
                    gate,
                    bounds,
                    step.total_seconds(),
                    f"version {candidate_version}",
                    live=f"live version {live_version}",
                    weight=stage.share,
                )
            added = samples[judge.steps :]
            for sample in added:
                judge.add(sample, problems)
            judge.reported = dict(problems)
            if added and not earlier:
                kept.save(cache, name, judge)
            judged = judge.steps
            result = judge.verdict(at - start.at)
            if samples:
                candidate = totals(candidate_version, samples[-1].candidate, bounds)
                live = totals(live_version, samples[-1].live, bounds)
    if problem is not None:
        result = judge_problem(problem)
    return Analysis(
        stack,
        cfg.environment,
        at,
        start,
        stage.share,
        upcoming.name if upcoming else None,
        gate,
        provider.name,
        candidate,
        live,
        result,
        cfg.analysis.auto_promote,
        step,
        judged,
    )
