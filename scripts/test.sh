#!/usr/bin/env bash
# The whole test suite: unit, components (mocks), CLI, policy, workflows and end-to-end with the
# real engine on the local cluster (started and stopped by the e2e fixtures).
# Expects the toolchain and cluster binaries (make test builds them first).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=env.sh
. scripts/env.sh
exec python -m pytest "$@"
