"""Real requests through the local gateway: the load generator (demo/cmd/loadgen, built by
scripts/images.sh) and what it recorded, one JSON line per response.

A record: {"t": when sent (epoch s), "status": HTTP status (0: no response), "ms": latency,
"version": the X-App-Version that answered, "colour": X-App-Colour, "error": why there was no response}.
"""

from __future__ import annotations

import json
import math
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Response:
    t: float
    status: int
    ms: float
    version: str
    colour: str

    @property
    def failed(self) -> bool:
        """No answer, or a server error (what a user sees as a failure)."""
        return self.status == 0 or self.status >= 500


def images_dir(root: Path) -> Path:
    """Where scripts/images.sh put the demo's binaries and image archives."""
    result = subprocess.run(
        ["bash", str(root / "scripts" / "images.sh"), "dir"], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"the demo's binaries are not built (make dataplane): {result.stderr.strip()}")
    return Path(result.stdout.strip())


class Load:
    """The load generator at a steady `rate` (requests per second) against `url`, until stopped."""

    def __init__(self, root: Path, url: str, rate: float, out: Path):
        self.out = out
        self.command = [str(images_dir(root) / "loadgen"), "--url", url, "--rate", f"{rate:g}", "--out", str(out)]
        self.process: subprocess.Popen[str] | None = None
        self.summary = ""

    def __enter__(self) -> Load:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.out.write_text("")
        self.process = subprocess.Popen(self.command, stderr=subprocess.PIPE, text=True)
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                _, self.summary = self.process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                _, self.summary = self.process.communicate()
        self.process = None

    def responses(self, since: float = 0.0, until: float = math.inf) -> list[Response]:
        """The responses to requests sent in [since, until)."""
        return [r for r in read(self.out) if since <= r.t < until]

    def wait(self, seconds: float) -> None:
        if self.process and self.process.poll() is not None:
            raise RuntimeError(f"the load generator exited {self.process.returncode}: {self.process.stderr}")
        time.sleep(seconds)


def read(path: Path) -> list[Response]:
    records = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            continue  # the line being written as the file was read
        records.append(
            Response(
                float(data["t"]),
                int(data["status"]),
                float(data["ms"]),
                str(data.get("version", "")),
                str(data.get("colour", "")),
            )
        )
    return records


def by_version(responses: Iterable[Response]) -> Counter[str]:
    return Counter(r.version for r in responses if r.version)


def binomial_tolerance(n: int, share: float, z: float = 4.0) -> float:
    """How far a count of successes in n Bernoulli(share) trials may fall from n*share, at z standard
    deviations (z = 4: a correct split is refused about once in 16,000 runs); at least 1."""
    return max(z * math.sqrt(n * share * (1 - share)), 1.0)


def p95(responses: Sequence[Response]) -> float | None:
    """The 95th percentile latency (ms), nearest rank, of the answered responses."""
    answered = sorted(r.ms for r in responses if r.status)
    if not answered:
        return None
    return answered[max(math.ceil(0.95 * len(answered)) - 1, 0)]
