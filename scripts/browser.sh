#!/usr/bin/env bash
# A headless browser for the dashboard's browser test: Debian's `chromium` package, installed once.
# Installing needs root and apt (CI runs as root on Debian); when chromium is already on PATH nothing
# is downloaded.
#
# stdout: the path of the chromium binary (nothing else). stderr: progress.
set -euo pipefail

LOG_TAG=browser
# shellcheck source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

if command -v chromium >/dev/null 2>&1; then
	command -v chromium
	exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	die "chromium is missing; install Debian's chromium package" \
		"(apt-get install --no-install-recommends chromium) as root, or put chromium on PATH"
fi
log "installing Debian's chromium package"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends chromium >&2; then
	apt-get update >&2
	apt-get install -y --no-install-recommends chromium >&2
fi
need chromium "the chromium package installed no chromium binary"
command -v chromium
