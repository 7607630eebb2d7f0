#!/usr/bin/env bash
# The whole test suite: unit, components (mocks), CLI, policy, workflows and end-to-end with the
# real engine on the local cluster (started and stopped by the e2e fixtures).
# Expects the toolchain and cluster binaries (make test builds them first).
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
use_toolchain
exec python -m pytest "$@"
