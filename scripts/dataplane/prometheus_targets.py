"""Keeps Prometheus's file_sd targets equal to the stagewise pods running on the local node.

Debian's Prometheus is built without Kubernetes service discovery, so this does its part: every
two seconds it lists the pods of ours on the node (--selector: the pod label of stagewise/formats/facts.py), and
writes one target per ready-or-not running pod (its IP and the container port named `http`), with
the namespace, pod, app and colour as labels. The file is replaced atomically; Prometheus picks it
up by inotify. Standard library only: it runs beside the data plane, outside the project's venv.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time


def targets(pods: dict) -> list[dict]:
    found = []
    for pod in pods.get("items", []):
        status, spec, meta = pod.get("status", {}), pod.get("spec", {}), pod.get("metadata", {})
        if status.get("phase") != "Running" or not status.get("podIP"):
            continue
        ports = [
            port["containerPort"]
            for container in spec.get("containers", [])
            for port in container.get("ports", [])
            if port.get("name") == "http"
        ]
        if not ports:
            continue
        labels = meta.get("labels", {})
        found.append(
            {
                "targets": [f"{status['podIP']}:{ports[0]}"],
                "labels": {
                    "namespace": meta.get("namespace", ""),
                    "pod": meta.get("name", ""),
                    "app": labels.get("app.kubernetes.io/name", ""),
                    "colour": labels.get("stagewise.dev/colour", ""),
                },
            }
        )
    return sorted(found, key=lambda t: t["targets"][0])


def write_atomically(path: str, data: list[dict]) -> None:
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".targets-", suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=1)
    os.replace(tmp, path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubectl", required=True)
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--selector", required=True, help="the label selector of our pods")
    parser.add_argument("--node", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--every", type=float, default=2.0)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    command = [
        args.kubectl,
        "--kubeconfig",
        args.kubeconfig,
        "--request-timeout=5s",
        "get",
        "pods",
        "--all-namespaces",
        "-l",
        args.selector,
        "--field-selector",
        f"spec.nodeName={args.node}",
        "-o",
        "json",
    ]
    last = None
    while True:
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode == 0:
            current = targets(json.loads(result.stdout))
            if current != last:
                write_atomically(args.out, current)
                print(f"{time.strftime('%H:%M:%S')} {len(current)} targets", flush=True)
                last = current
        else:
            print(f"{time.strftime('%H:%M:%S')} kubectl: {result.stderr.strip()[:200]}", flush=True)
        time.sleep(args.every)


if __name__ == "__main__":
    sys.exit(main())
