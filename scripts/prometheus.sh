#!/usr/bin/env bash
# Prometheus for the stage-gate tests and benchmark: Debian's `prometheus` package (the server and
# promtool), installed once. Prints the folder holding both binaries. Installing needs root and apt
# (CI runs as root on Debian); when they are already there nothing is downloaded.
set -euo pipefail

if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
	dirname "$(command -v prometheus)"
	exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "scripts/prometheus.sh: prometheus and promtool are missing; install Debian's prometheus package" \
		"(apt-get install --no-install-recommends prometheus) as root, or put both on PATH" >&2
	exit 1
fi
echo "scripts/prometheus.sh: installing Debian's prometheus package" >&2
export DEBIAN_FRONTEND=noninteractive
# The package's postinst would start a server through the init system; keep it from doing so.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' > "$policy"
	chmod +x "$policy"
	created_policy=1
fi
trap '[ "$created_policy" -eq 1 ] && rm -f "$policy"' EXIT
if ! apt-get install -y --no-install-recommends prometheus >&2; then
	apt-get update >&2
	apt-get install -y --no-install-recommends prometheus >&2
fi
dirname "$(command -v prometheus)"
