# shellcheck shell=bash disable=SC2034
# Pinned versions of the Pulumi engine toolchain, sourced by scripts/toolchain.sh and scripts/env.sh.
# They must move together with pyproject.toml (pulumi==3.250.0, pulumi-kubernetes==4.32.0).

# Pulumi CLI: module github.com/pulumi/pulumi/pkg/v3, tag pkg/v3.250.0.
PULUMI_VERSION=v3.250.0

# Python language host. Its module is never tagged; the pseudo-version below is the commit of the
# pkg/v3.250.0 tag (2a4b8a65a11e, committed 2026-07-02T05:29:04Z).
LANGHOST_MODULE=github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3
LANGHOST_MODULE_VERSION=v3.0.0-20260702052904-2a4b8a65a11e
# The module proxy refuses that pseudo-version (and every other version of the module tried), so
# toolchain.sh builds the last host published inside the sdk/v3 module (v3.79.0; it moved to its own
# module in v3.80.0), ported to the CLI's sdk/v3 and protocol by four small source patches (see
# build_ported_langhost). It ignores runtime.options.virtualenv: it runs the first python3 on PATH
# (env.sh puts .venv first).
LANGHOST_FALLBACK_SDK_VERSION=v3.79.0

# Kubernetes provider plugin, registered under the Python SDK's version.
K8S_PROVIDER_VERSION=v4.32.0
K8S_PROVIDER_MODULE=github.com/pulumi/pulumi-kubernetes/provider/v4
# The provider module is never tagged. The module proxy refuses the pseudo-versions of the v4.32.0
# release tried (commit a03ff6ba58d2, and 45c441756ffb of the sdk/v4.32.0 tag), so this pins the
# only provider source found that it serves: the commit crd2pulumi pins for pulumi-kubernetes
# v4.25.0. Its schema lacks ~45 of the SDK's newer resource types (none of the core workload ones).
# Override with STAGEWISE_K8S_PROVIDER_MODULE_VERSION once the v4.32.0 commit resolves.
K8S_PROVIDER_MODULE_VERSION=${STAGEWISE_K8S_PROVIDER_MODULE_VERSION:-v4.0.0-20260115033456-f47bc2d6f199}

# Where built binaries and the Pulumi home live: outside the repository, keyed by version.
STAGEWISE_CACHE=${STAGEWISE_CACHE:-${HOME}/.cache/stagewise}
PULUMI_BIN_DIR=${STAGEWISE_CACHE}/bin/pulumi-${PULUMI_VERSION}
K8S_PROVIDER_BIN_DIR=${STAGEWISE_CACHE}/bin/pulumi-resource-kubernetes-${K8S_PROVIDER_VERSION}
STAGEWISE_PULUMI_HOME=${STAGEWISE_CACHE}/pulumi-home
