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
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	die "prometheus and promtool are missing; install Debian's prometheus package" \
		"(apt-get install --no-install-recommends prometheus) as root, or put both on PATH"
fi
log "installing Debian's prometheus package"
export DEBIAN_FRONTEND=noninteractive
# The package's maintainer scripts would start a server through the init system: keep them from it.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod +x "$policy"
	trap 'rm -f "$policy"' EXIT
fi
if ! apt-get install -y --no-install-recommends prometheus >&2; then
	apt-get update >&2
	apt-get install -y --no-install-recommends prometheus >&2
fi
need prometheus "the prometheus package installed no prometheus binary"
dirname "$(command -v prometheus)"
