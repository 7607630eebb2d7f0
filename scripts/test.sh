#!/usr/bin/env bash
# The whole test suite: the demo app's Go tests, then unit, components (mocks), CLI, policy,
# workflows and end-to-end with the real engine on the local cluster and real requests through the
# local data plane (started and stopped by the e2e fixtures).
# Expects the toolchain, cluster and data-plane binaries (make test builds them first).
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
use_toolchain
(cd demo && go test ./...) || die "the demo app's Go tests failed"
exec python -m pytest "$@"
