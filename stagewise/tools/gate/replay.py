"""`stagewise replay`: judge recorded rollouts with a stack's gate config, through the gate's own `Judge`.

Pure apart from reading the file. The input format is fixed, so other tools can write it:

    {"step": 60,
     "bounds": [0.005, 0.01, ...],                  latency bucket bounds, seconds, ascending
     "rollouts": [
       {"name": "r1",
        "samples": [
          {"t": 60,                                 seconds since the stage began, a multiple of step
           "live":      {"requests": 570, "errors": 6, "buckets": [...]},
           "candidate": {"requests": 30,  "errors": 0, "buckets": [...]}}]}]}

Counts are cumulative since the stage began; `errors` are HTTP 5xx responses; `buckets[i]` counts
the requests at or below bounds[i] (+Inf is `requests`). Each rollout is judged at each sample in
turn, as `watch` would have, and its result is the first promote or abort, or hold if none came.

`read` takes a regular file of at most MAX_BYTES of UTF-8 JSON, or `-` for standard input; a FIFO, a
device or a directory is refused before anything is read from it (a FIFO would block, /dev/zero never
ends). Numbers are counts and times a float holds exactly: at most COUNT_MAX, and step and t at most
gate_config.DURATION_MAX.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO

from stagewise.core.gate_config import DURATION_MAX
from stagewise.tools.gate.evidence import Counts, Sample
from stagewise.tools.gate.explain import Verdict
from stagewise.tools.gate.judge import Judge
from stagewise.tools.gate.rules import Limits

MAX_BYTES = 64 * 1024 * 1024
"""The largest recording read: 200 rollouts of two days at one sample a minute take about 30 MB."""

COUNT_MAX = 2**53
"""The largest count read: above it a float no longer holds every whole number."""

STDIN = "-"


class ReplayError(ValueError):
    """The recording is not in the format; the message names the rollout, the sample and the field."""


@dataclass(frozen=True)
class Rollout:
    name: str
    samples: tuple[Sample, ...]


@dataclass(frozen=True)
class Recording:
    step: float
    bounds: tuple[float, ...]
    rollouts: tuple[Rollout, ...]


@dataclass(frozen=True)
class Result:
    name: str
    verdict: Verdict
    t: float | None
    """Seconds after the stage began of the first promote or abort; None for hold."""
    looks: int


def _shown(value: Any) -> str:
    """A value from the file for a message: never more than a line of it."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def _number(value: Any, where: str, *, positive: bool = False, most: float = COUNT_MAX) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ReplayError(f"{where}: {_shown(value)} is not a number")
    if isinstance(value, int) and abs(value) > most or isinstance(value, float) and not abs(value) <= most:
        raise ReplayError(f"{where}: {_shown(value)} is not a number from 0 to {most:.0f}")
    if value < 0 or (positive and value == 0):
        raise ReplayError(f"{where}: {value!r} must be {'above' if positive else 'at least'} 0")
    return float(value)


def _seconds(value: Any, where: str) -> float:
    """A time in seconds: above 0, at most gate_config.DURATION_MAX."""
    return _number(value, where, positive=True, most=DURATION_MAX.total_seconds())


def _fields(value: dict[str, Any], prefix: str, allowed: tuple[str, ...], required: tuple[str, ...]) -> None:
    """An object's fields: none but `allowed`, and every one of `required`; the error names the field
    after `prefix` (where the object is)."""
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise ReplayError(f"{prefix}{unknown[0]}: unknown field (fields: {', '.join(allowed)})")
    for key in required:
        if key not in value:
            raise ReplayError(f"{prefix}{key}: missing")


def _counts(value: Any, where: str, bounds: int, before: Counts | None) -> Counts:
    if not isinstance(value, dict):
        raise ReplayError(f"{where}: must be an object with requests, errors and buckets")
    fields = ("requests", "errors", "buckets")
    _fields(value, f"{where}.", fields, fields)
    requests = _number(value["requests"], f"{where}.requests")
    errors = _number(value["errors"], f"{where}.errors")
    if errors > requests:
        raise ReplayError(f"{where}.errors: {value['errors']!r} is more than its requests ({value['requests']!r})")
    raw = value["buckets"]
    if not isinstance(raw, list) or len(raw) != bounds:
        raise ReplayError(f"{where}.buckets: must be a list of {bounds} counts, one per bound")
    buckets = tuple(_number(b, f"{where}.buckets[{i}]") for i, b in enumerate(raw))
    for i in range(1, len(buckets)):
        if buckets[i] < buckets[i - 1]:
            raise ReplayError(
                f"{where}.buckets[{i}]: {raw[i]!r} is below buckets[{i - 1}] ({raw[i - 1]!r}): "
                "each counts the requests at or below its bound"
            )
    if buckets and buckets[-1] > requests:
        raise ReplayError(f"{where}.buckets[{len(buckets) - 1}]: {raw[-1]!r} is more than requests ({requests:g})")
    counts = Counts(requests, errors, buckets)
    if before is not None:
        for key, now, then in (("requests", requests, before.requests), ("errors", errors, before.errors)):
            if now < then:
                raise ReplayError(
                    f"{where}.{key}: {now:g} is below the previous sample's {then:g}: counts are cumulative "
                    "since the stage began"
                )
        for i, (now, then) in enumerate(zip(buckets, before.buckets)):
            if now < then:
                raise ReplayError(
                    f"{where}.buckets[{i}]: {now:g} is below the previous sample's {then:g}: counts are "
                    "cumulative since the stage began"
                )
    return counts


def parse(data: Any) -> Recording:
    """A recording from its decoded JSON; ReplayError names what is wrong and where."""
    if not isinstance(data, dict):
        raise ReplayError("the file must hold one JSON object with step, bounds and rollouts")
    fields = ("step", "bounds", "rollouts")
    _fields(data, "", fields, fields)
    step = _seconds(data["step"], "step")
    raw_bounds = data["bounds"]
    if not isinstance(raw_bounds, list) or not raw_bounds:
        raise ReplayError("bounds: must be a non-empty list of bucket bounds, seconds")
    bounds = tuple(_number(b, f"bounds[{i}]", positive=True) for i, b in enumerate(raw_bounds))
    for i in range(1, len(bounds)):
        if bounds[i] <= bounds[i - 1]:
            raise ReplayError(f"bounds[{i}]: {raw_bounds[i]!r} must be above bounds[{i - 1}] ({raw_bounds[i - 1]!r})")
    if not isinstance(data["rollouts"], list):
        raise ReplayError("rollouts: must be a list")
    rollouts, names = [], set()
    for r, rollout in enumerate(data["rollouts"]):
        if not isinstance(rollout, dict):
            raise ReplayError(f"rollout {r}: must be an object with name and samples")
        name = rollout.get("name")
        if not isinstance(name, str) or not name:
            raise ReplayError(f"rollout {r}: name: must be a non-empty string")
        label = f"rollout {name!r}"
        if name in names:
            raise ReplayError(f"{label}: name: used by an earlier rollout")
        names.add(name)
        _fields(rollout, f"{label}: ", ("name", "samples"), ())
        raw_samples = rollout.get("samples")
        if not isinstance(raw_samples, list):
            raise ReplayError(f"{label}: samples: must be a list")
        samples: list[Sample] = []
        for s, sample in enumerate(raw_samples):
            where = f"{label}, sample {s}"
            if not isinstance(sample, dict):
                raise ReplayError(f"{where}: must be an object with t, live and candidate")
            _fields(sample, f"{where}: ", ("t", "live", "candidate"), ("t",))
            t = _seconds(sample["t"], f"{where}: t")
            if abs(t / step - round(t / step)) > 1e-9:
                raise ReplayError(f"{where}: t: {sample['t']!r} is not a multiple of step ({data['step']!r})")
            if samples and t <= samples[-1].t:
                raise ReplayError(f"{where}: t: {sample['t']!r} must be after the previous sample's {samples[-1].t:g}")
            where = f"{where} (t={t:g})"
            before = samples[-1] if samples else None
            live = _counts(sample.get("live"), f"{where}: live", len(bounds), before.live if before else None)
            candidate = _counts(
                sample.get("candidate"), f"{where}: candidate", len(bounds), before.candidate if before else None
            )
            samples.append(Sample(t, live, candidate))
        rollouts.append(Rollout(name, tuple(samples)))
    return Recording(step, bounds, tuple(rollouts))


def load(text: str) -> Recording:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ReplayError(f"not JSON: {error.msg} at line {error.lineno}, column {error.colno}") from None
    except RecursionError:
        raise ReplayError(
            "not a recording: nested more deeply than JSON can be read (the format nests 5 deep)"
        ) from None
    except ValueError as error:  # an integer of thousands of digits
        raise ReplayError(f"not a recording: {error}") from None
    return parse(data)


def source_name(path: Path | str) -> str:
    """How a message names what `read` read."""
    return "standard input" if str(path) == STDIN else str(path)


def read_bytes(path: Path | str, stdin: BinaryIO | None = None) -> bytes:
    """At most MAX_BYTES of a regular file, or of standard input for `-`; ReplayError for anything else."""
    if str(path) == STDIN:
        data = (stdin or sys.stdin.buffer).read(MAX_BYTES + 1)
    else:
        try:
            # Non-blocking, so that opening a FIFO does not wait for a writer; refused just below.
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
        except OSError as error:
            raise ReplayError(f"cannot read: {error.strerror or error}") from None
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            os.close(fd)
            kind = "a FIFO" if stat.S_ISFIFO(mode) else "a directory" if stat.S_ISDIR(mode) else "a device"
            raise ReplayError(f"is {kind}, not a regular file: give a recording's file, or - for standard input")
        with os.fdopen(fd, "rb") as file:
            try:
                data = file.read(MAX_BYTES + 1)
            except OSError as error:
                raise ReplayError(f"cannot read: {error.strerror or error}") from None
    if len(data) > MAX_BYTES:
        raise ReplayError(f"is larger than the {MAX_BYTES // 2**20} MiB a recording may be")
    return data


def read(path: Path | str, stdin: BinaryIO | None = None) -> Recording:
    """The recording in a file, or on standard input for `-`: ReplayError names what is wrong."""
    data = read_bytes(path, stdin)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ReplayError(f"is not UTF-8 text (byte {data[error.start]:#04x} at offset {error.start})") from None
    return load(text)


def replay(limits: Limits, recording: Recording, rollout: Rollout) -> Result:
    """Judge the rollout at each sample in turn: the first promote or abort, else hold at the last."""
    judge = Judge(limits, recording.bounds, recording.step)
    looks = 0
    for sample in rollout.samples:
        judge.add(sample)
        looks += 1
        at = timedelta(seconds=sample.t)
        if judge.decide(at)[0] != "hold":
            return Result(rollout.name, judge.verdict(at), sample.t, looks)
    last = rollout.samples[-1].t if rollout.samples else 0.0
    return Result(rollout.name, judge.verdict(timedelta(seconds=last)), None, looks)


def result_dict(result: Result) -> dict[str, Any]:
    return {
        "name": result.name,
        "verdict": result.verdict.verdict,
        "t": result.t,
        "reason": result.verdict.reason,
        "holdReason": result.verdict.hold_reason,
        "checks": [c.to_dict() for c in result.verdict.checks],
    }
