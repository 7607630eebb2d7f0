#!/usr/bin/env bash
# Prometheus for the stage-gate tests and benchmark: Debian's `prometheus` package (the server and
# promtool), installed once. Installing needs root and apt (CI runs as root on Debian); when both
# binaries are already on PATH nothing is downloaded.
#
# stdout: the folder holding both binaries (nothing else). stderr: progress.
set -euo pipefail

LOG_TAG=prometheus
# shellcheck source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
	dirname "$(command -v prometheus)"
	exit 0
fi
# Its maintainer scripts would start a server through the init system: debian_install keeps them from it.
debian_install prometheus
need prometheus "the prometheus package installed no prometheus binary"
dirname "$(command -v prometheus)"
