"""A real Prometheus server on loopback, its storage filled by promtool's OpenMetrics backfill."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def binaries() -> Path:
    """The folder with prometheus and promtool, installed by scripts/prometheus.sh if missing."""
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "prometheus.sh")], capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        raise RuntimeError(f"scripts/prometheus.sh failed:\n{result.stderr}")
    return Path(result.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def backfill(bin_dir: Path, openmetrics_text: str, data: Path) -> None:
    source = data.parent / f"{data.name}.om"
    source.write_text(openmetrics_text)
    result = subprocess.run(
        [str(bin_dir / "promtool"), "tsdb", "create-blocks-from", "openmetrics", str(source), str(data)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"promtool backfill failed:\n{result.stderr}")


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(bin_dir: Path, data: Path, work: Path) -> Server:
    config = work / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 15s\nscrape_configs: []\n")
    port = free_port()
    log = work / "prometheus.log"
    process = subprocess.Popen(
        [
            str(bin_dir / "prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={data}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=30d",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
        cwd=work,
    )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"prometheus exited {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(f"{server.url}/-/ready", timeout=1).status_code == 200:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"prometheus not ready within 60 s:\n{log.read_text()[-3000:]}")


def available() -> bool:
    return shutil.which("prometheus") is not None
