# shellcheck shell=sh disable=SC2034
# The version of every tool the scripts build, in one place (sourced through scripts/lib.sh).
# Each built binary is cached under ${STAGEWISE_CACHE:-$HOME/.cache/stagewise}/bin/<tool>-<version>/,
# so a new version here is built once, and going back to an old one finds its build again.
# A pin written ${STAGEWISE_<NAME>:-...} may be overridden from the environment.

# --- Pulumi engine (scripts/toolchain.sh) ---------------------------------------------------------
# Built at the versions of the Python SDKs in pyproject.toml, which stagewise/formats/facts.py holds
# (read by scripts/lib.sh before this file). The two pseudo-versions below name commits of those
# releases: they move with them.

# Pulumi CLI: module github.com/pulumi/pulumi/pkg/v3, tag pkg/$PULUMI_VERSION.
PULUMI_VERSION=v${FACT_PULUMI_VERSION:?read stagewise/formats/facts.py first (scripts/lib.sh does)}

# Python language host. Its module is never tagged; the pseudo-version below is the commit of the
# CLI's tag (2a4b8a65a11e, committed 2026-07-02T05:29:04Z).
LANGHOST_MODULE=github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3
LANGHOST_MODULE_VERSION=v3.0.0-20260702052904-2a4b8a65a11e
# The module proxy refuses that pseudo-version (and every other version of the module tried), so
# toolchain.sh builds the last host published inside the sdk/v3 module (v3.79.0; it moved to its own
# module in v3.80.0), ported to the CLI's sdk/v3 and protocol by four small source patches (see
# build_ported_langhost). It ignores runtime.options.virtualenv: it runs the first python3 on PATH
# (env.sh puts .venv first).
LANGHOST_FALLBACK_SDK_VERSION=v3.79.0

# Kubernetes provider plugin, registered under the Python SDK's version.
K8S_PROVIDER_VERSION=v${FACT_PULUMI_KUBERNETES_VERSION:?read stagewise/formats/facts.py first (scripts/lib.sh does)}
K8S_PROVIDER_MODULE=github.com/pulumi/pulumi-kubernetes/provider/v4
# The provider module is never tagged. The module proxy refuses the pseudo-versions of the SDK's
# release tried (commit a03ff6ba58d2, and 45c441756ffb of its sdk/v4 tag), so this pins the
# only provider source found that it serves: the commit crd2pulumi pins for pulumi-kubernetes
# v4.25.0. Its schema lacks ~45 of the SDK's newer resource types (none of the core workload ones).
# Override with STAGEWISE_K8S_PROVIDER_MODULE_VERSION once the release's commit resolves.
K8S_PROVIDER_MODULE_VERSION=${STAGEWISE_K8S_PROVIDER_MODULE_VERSION:-v4.0.0-20260115033456-f47bc2d6f199}

# --- Local control plane (scripts/cluster.sh) -----------------------------------------------------

# Kubernetes: a patch release kwok supports (kwok v0.8.0 targets 1.36) that builds with Go 1.26.
K8S_VERSION=${STAGEWISE_K8S_VERSION:-v1.36.4}
# etcd: the 3.6 line used by Kubernetes 1.36.
ETCD_VERSION=${STAGEWISE_ETCD_VERSION:-v3.6.15}
# kwok / kwokctl: fake nodes and pod lifecycle.
KWOK_VERSION=${STAGEWISE_KWOK_VERSION:-v0.8.0}
# Gateway API standard-channel CRDs (config/crd/standard in the module).
GATEWAY_API_VERSION=${STAGEWISE_GATEWAY_API_VERSION:-v1.6.2}

# --- Local data plane (scripts/dataplane.sh) ------------------------------------------------------

# Traefik: the Gateway API implementation that carries the local stack's traffic, built from its
# module. v3.7.x cannot be built from the module proxy (its go.mod replaces dynamic/ext with a nested
# module directory that the module zip leaves out); v3.6.12 can.
TRAEFIK_VERSION=${STAGEWISE_TRAEFIK_VERSION:-v3.6.12}
# The node's container runtime comes from Debian's packages (containerd, runc,
# containernetworking-plugins), installed by scripts/dataplane.sh install; the kubelet is built with
# the control plane (scripts/cluster.sh, K8S_VERSION).

# --- Workflow linter (scripts/actionlint.sh) ------------------------------------------------------

ACTIONLINT_VERSION=${STAGEWISE_ACTIONLINT_VERSION:-v1.7.12}
