"""Facts that the Python code, the shell scripts and the local data plane share: one home each.

The scripts read them as shell assignments (`python3 stagewise/formats/facts.py env`, through
scripts/lib.sh), so this module imports nothing but the standard library and also runs as a plain
file, before any virtualenv exists. tests/unit/test_facts.py fails when one of them is typed again
in scripts/, demo/, components/, stagewise/ or infra/; pyproject.toml, which cannot read Python,
is checked against the pinned versions instead.
"""

from __future__ import annotations

import shlex
import sys

# --- our objects ------------------------------------------------------------------------------

PART_OF_LABEL = "app.kubernetes.io/part-of"
PART_OF = "stagewise"
# Every pod (and object) of ours carries it; the local Prometheus finds its targets by it. If the
# two drifted apart, the gate would see no traffic and hold for ever.
POD_SELECTOR = f"{PART_OF_LABEL}={PART_OF}"

# --- the local data plane (scripts/dataplane.sh) ----------------------------------------------

# The GatewayClass Traefik implements: stagewise:kubernetes.gatewayClass's default.
GATEWAY_CLASS = "stagewise"
# The Gateway's listener port (components/cluster_environment.py) is Traefik's entrypoint port:
# Traefik only serves a Gateway whose listener port is one of its entrypoints.
GATEWAY_PORT = 80
# The label of the node that runs real containers (kwok's fake nodes lack it); the local stack file
# selects it for its pods.
NODE_LABEL_KEY = "stagewise.dev/data-plane"
NODE_LABEL_VALUE = "real"
NODE_LABEL = f"{NODE_LABEL_KEY}={NODE_LABEL_VALUE}"
# The local Prometheus, which the local tier's stage gate reads (stagewise:analysis.url).
PROMETHEUS_HOST = "127.0.0.1"
PROMETHEUS_PORT = 9090
PROMETHEUS_URL = f"http://{PROMETHEUS_HOST}:{PROMETHEUS_PORT}"

# `stagewise dashboard`'s default port on 127.0.0.1 (scripts/local.sh prints the page's address).
DASHBOARD_PORT = 8377

# --- the local stack --------------------------------------------------------------------------

# The local cluster's kubeconfig, from the project root (scripts/cluster.sh writes it).
KUBECONFIG = ".cluster/kubeconfig"
# The local stack's passphrase: not a secret, its secrets are local dummies (README).
LOCAL_PASSPHRASE = "stagewise-local"

# --- pinned versions --------------------------------------------------------------------------

# The Python SDKs in pyproject.toml and the engine built from Go modules (scripts/toolchain.sh, as
# v<version>) move together: the CLI speaks its SDK's protocol, and the provider plugin is registered
# under its SDK's version.
PULUMI_VERSION = "3.250.0"
PULUMI_KUBERNETES_VERSION = "4.32.0"

SHARED = (
    "PART_OF_LABEL",
    "PART_OF",
    "POD_SELECTOR",
    "GATEWAY_CLASS",
    "GATEWAY_PORT",
    "NODE_LABEL_KEY",
    "NODE_LABEL_VALUE",
    "NODE_LABEL",
    "PROMETHEUS_HOST",
    "PROMETHEUS_PORT",
    "PROMETHEUS_URL",
    "DASHBOARD_PORT",
    "KUBECONFIG",
    "LOCAL_PASSPHRASE",
    "PULUMI_VERSION",
    "PULUMI_KUBERNETES_VERSION",
)
"""The names the scripts read, each printed as FACT_<NAME> (a prefix no environment variable has)."""


def shell_assignments() -> str:
    """One `FACT_<NAME>=<value>` line per shared fact, quoted for sh and bash."""
    facts = globals()
    return "".join(f"FACT_{name}={shlex.quote(str(facts[name]))}\n" for name in SHARED)


def main(argv: list[str]) -> int:
    if argv != ["env"]:
        print(
            "usage: python3 stagewise/formats/facts.py env   (the shared facts as shell assignments)", file=sys.stderr
        )
        return 2
    sys.stdout.write(shell_assignments())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
