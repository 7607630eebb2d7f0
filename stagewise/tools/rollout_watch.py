"""What `stagewise watch` adds around the gate: stage deadlines (a rollout stuck holding) and notifications.

The gate judges each look; this module reads only the look's documented JSON (`Analysis.to_dict()`,
docs/analysis.schema.json) and the stack file, so the gate's internals can change under it.

The interface `watch` uses (stagewise/tools/gate/commands.py):

    watcher = rollout_watch.Watcher.start(stack)           # reads stagewise:rollout.deadlines, stagewise:notify
    ...each look:  stuck = watcher.look(loaded, analysis.to_dict())
                   if stuck: break                            # stop watching; the verdict is still hold
    ...after the last look and any --apply:
                   code = watcher.end(stack, analysis.to_dict(), stuck, apply)   # None: the gate's own code

- `look` counts how long the stage has held, per deadline reason (stagewise.core.windows.HoldClock with the
  stage's deadlines), notifies `no_metrics` once per run of looks without metrics, and returns the Stuck
  when a deadline has passed (or when the gate itself says `stuck`, issue 23's `stuck: true`).
- `end` notifies what the look and the stack file say happened: a verdict (promote, abort) and a stage
  change found by reading the stack file again (what `--apply` wrote); on stuck it notifies, and with
  `onStuck: abort` and `--apply` aborts the rollout (the same edit as `stagewise abort`). It returns
  EXIT_STUCK on stuck, and waits a bounded time for the notifications, reporting what was not delivered.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from stagewise.core import rollout, windows
from stagewise.tools import notify
from stagewise.tools.session import CliError, Loaded, apply, err, load

EXIT_STUCK = 5
"""The gate's code for stuck (issue 23); a deadline passed here ends `watch` with the same code."""


def _parse(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass
class Watcher:
    notifier: notify.Notifier | None
    clock: windows.HoldClock = field(default_factory=windows.HoldClock)
    no_metrics_told: bool = False
    first_stage: str | None = None
    first_release: rollout.Release | None = None

    @classmethod
    def start(cls, loaded: Loaded, **notifier_options: Any) -> Watcher:
        settings = loaded.config.notify
        notifier = (
            notify.Notifier(settings, loaded.root, loaded.stack, report=_report, **notifier_options)
            if settings.targets
            else None
        )
        return cls(notifier, first_stage=loaded.release.stage, first_release=loaded.release)

    def _send(
        self, loaded: Loaded, kind: str, summary: str, reason: str = "", stage: str | None = None, **details: Any
    ) -> None:
        """`stage`: the stage the event is about (default: the stack file's now)."""
        if self.notifier is None:
            return
        now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        at = stage or loaded.release.stage
        self.notifier.send(
            notify.Event(kind, loaded.stack, loaded.config.environment, at, summary, reason, now, details)
        )

    def look(self, loaded: Loaded, data: dict[str, Any]) -> windows.Stuck | None:
        """One look of the gate: the deadlines, and the no-metrics notification."""
        hold = data["holdReason"] if data["verdict"] == "hold" else None
        stage = data["stage"]["name"]
        if hold == "no_metrics" and not self.no_metrics_told:
            self.no_metrics_told = True
            self._send(loaded, "no_metrics", f"stage {stage}: the gate cannot read its metrics", data["reason"])
        elif hold != "no_metrics":
            self.no_metrics_told = False
        deadlines = loaded.config.rollout_rules.deadlines.for_stage(stage)
        stuck = self.clock.look(stage, hold, _parse(data["at"]), _parse(data["stage"]["since"]), deadlines)
        if stuck is None and data.get("stuck") is True:  # the gate's own stuck (no recent candidate traffic)
            held = _parse(data["at"]) - _parse(data["stage"]["since"])
            stuck = windows.Stuck("no_candidate_traffic", held, held)
        return stuck

    def end(
        self, stack: str | None, data: dict[str, Any], stuck: windows.Stuck | None, apply_verdict: bool
    ) -> int | None:
        """After the last look (and --apply): notify, act on stuck; EXIT_STUCK or None (the gate's code)."""
        try:
            loaded = load(stack)
        except CliError as error:
            err.print(f"watch: cannot read the stack file again to report: {error}")
            return EXIT_STUCK if stuck is not None else None
        code = None
        if stuck is not None:
            code = EXIT_STUCK
            message = stuck.message(data["stage"]["name"])
            action = loaded.config.rollout_rules.deadlines.on_stuck
            err.print(f"watch: {message}; never promoted")
            if action == "abort" and apply_verdict and loaded.release.stage != rollout.IDLE:
                after = rollout.abort(loaded.release, loaded.catalog)
                with contextlib.redirect_stdout(sys.stderr):  # stdout holds only the verdict (and --json's JSON)
                    apply(loaded, f"abort {loaded.release.stage} -> {after.stage} (stuck)", after, [message])
                self._send(loaded, "abort", f"aborted: {message}", data["reason"], deadline=stuck.reason)
            else:
                if action == "abort":
                    err.print("watch: onStuck is abort; run with --apply to let watch abort")
                self._send(loaded, "stuck", message, data["reason"], deadline=stuck.reason)
        elif data["verdict"] in ("promote", "abort"):
            self._send(loaded, data["verdict"], f"gate verdict {data['verdict']} at stage {data['stage']['name']}",
                       data["reason"], stage=data["stage"]["name"])  # fmt: skip
        if code is not None and loaded.config.rollout_rules.deadlines.on_stuck == "abort" and apply_verdict:
            try:
                loaded = load(stack)  # what the abort wrote
            except CliError:
                pass
        before = self.first_release
        if before is not None and (before.stage, before.live) != (loaded.release.stage, loaded.release.live):
            shares = rollout.traffic(loaded.release, loaded.catalog)
            self._send(
                loaded,
                "stage",
                f"stage {before.stage} -> {loaded.release.stage} (candidate {shares[loaded.release.candidate]} %)",
                data["reason"],
                before=before.stage,
                after=loaded.release.stage,
            )
        self.close()
        return code

    def close(self, wait: float | None = None) -> list[notify.Delivery]:
        return [] if self.notifier is None else self.notifier.close(wait)


def _report(line: str) -> None:
    err.print(line)
