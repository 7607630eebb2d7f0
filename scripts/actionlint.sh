#!/usr/bin/env bash
# Build (once) and locate actionlint, the GitHub Actions workflow linter.
#
# The PyPI wrapper downloads a release binary at build time, which is not always
# possible; the Go module builds from source through the module proxy instead.
# The binary is cached outside the repository, per version, so a second run is instant.
#
# stdout: the path of the binary (nothing else). stderr: progress.
# Usage: "$(scripts/actionlint.sh)" .github/workflows/*.yml
#        scripts/actionlint.sh --cached   the path only if it is built already; exit 1 otherwise
set -euo pipefail

LOG_TAG=actionlint
# shellcheck source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

VERSION=$ACTIONLINT_VERSION
BIN=$(tool_path actionlint)

if tool_cached actionlint; then
	printf '%s\n' "$BIN"
	exit 0
fi
if [[ ${1:-} == --cached ]]; then
	echo "actionlint $VERSION is not built yet (scripts/actionlint.sh builds it)" >&2
	exit 1
fi

need go "'go' is not on PATH; install Go 1.24+ to build actionlint $VERSION"

mkdir -p "$CACHE_BIN"
STAGE="$(mktemp -d "$CACHE_BIN/.actionlint-$VERSION.XXXXXX")"
trap 'rm -rf "$STAGE"' EXIT

log "building actionlint $VERSION from source (first run only)..."
start=$SECONDS
# Outside any module: the version suffix makes `go install` resolve the module itself.
# The build must not leave build metadata from a surrounding checkout, hence -buildvcs=false.
(cd "$STAGE" && GOBIN="$STAGE" GOFLAGS="${GOFLAGS:-} -buildvcs=false" \
	go install "github.com/rhysd/actionlint/cmd/actionlint@$VERSION") >&2
"$STAGE/actionlint" -version >/dev/null
# Renamed into place: a concurrent run never sees (or executes) a half-written binary.
install_tool actionlint "$STAGE/actionlint"
log "built in $((SECONDS - start)) s: $BIN"
printf '%s\n' "$BIN"
