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
DIR="$(tool_dir actionlint)"
BIN="$DIR/actionlint"

if [[ -x "$BIN" ]] && "$BIN" -version >/dev/null 2>&1; then
	printf '%s\n' "$BIN"
	exit 0
fi
if [[ ${1:-} == --cached ]]; then
	echo "actionlint $VERSION is not built yet (scripts/actionlint.sh builds it)" >&2
	exit 1
fi

need go "'go' is not on PATH; install Go 1.24+ to build actionlint $VERSION"

mkdir -p "$CACHE_BIN"
# Build into a private directory and rename it into place, so that concurrent runs
# never see (or execute) a half-written binary.
STAGE="$(mktemp -d "$CACHE_BIN/.actionlint-$VERSION.XXXXXX")"
trap 'rm -rf "$STAGE"' EXIT

log "building actionlint $VERSION from source (first run only)..."
start=$SECONDS
# Outside any module: the version suffix makes `go install` resolve the module itself.
# The build must not leave build metadata from a surrounding checkout, hence -buildvcs=false.
(cd "$STAGE" && GOBIN="$STAGE" GOFLAGS="${GOFLAGS:-} -buildvcs=false" \
	go install "github.com/rhysd/actionlint/cmd/actionlint@$VERSION") >&2
"$STAGE/actionlint" -version >/dev/null

chmod 755 "$STAGE"
# A cached directory that failed the check above (e.g. an interrupted copy) is replaced.
if [[ -d "$DIR" ]] && ! "$BIN" -version >/dev/null 2>&1; then
	rm -rf "$DIR"
fi
if ! mv -T "$STAGE" "$DIR" 2>/dev/null; then
	# Another run finished first; its binary is as good as ours.
	"$BIN" -version >/dev/null 2>&1 || die "could not install into $DIR"
fi
log "built in $((SECONDS - start)) s: $BIN"
printf '%s\n' "$BIN"
