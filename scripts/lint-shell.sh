#!/usr/bin/env bash
# Lints every bash script the repository tracks with shellcheck and shfmt: part of `make lint`.
# Both are Debian's packages (shellcheck, shfmt), installed once if missing (root and apt-get).
# shfmt's style is its default (tabs); scripts/.shellcheckrc lets shellcheck follow `. lib.sh`.
set -euo pipefail

LOG_TAG=lint
# shellcheck source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

missing=()
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
command -v shfmt >/dev/null 2>&1 || missing+=(shfmt)
if ((${#missing[@]})); then
	debian_install "${missing[@]}"
fi

cd "$STAGEWISE_ROOT"
mapfile -t scripts < <(git ls-files -- '*.sh')
((${#scripts[@]})) || die "git lists no shell script (is $STAGEWISE_ROOT a git checkout?)"
shellcheck "${scripts[@]}"
shfmt -d "${scripts[@]}" || die "shfmt would reformat the scripts above: run shfmt -w on them"
log "${#scripts[@]} scripts: shellcheck and shfmt clean"
