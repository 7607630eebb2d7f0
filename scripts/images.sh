#!/usr/bin/env bash
# The demo's binaries and container images, built on this machine: no Docker engine, no registry.
#
#   scripts/images.sh build   build (unless already built) and print the directory holding them
#   scripts/images.sh dir     print that directory without building; exit 1 if it is not built
#
# The directory is $STAGEWISE_CACHE/bin/demo-<key>/, where <key> hashes demo/'s source (go.mod,
# go.sum, every .go file but tests, images.tsv), this script, and the Go toolchain's version and
# platform: an unchanged source is never rebuilt, and a changed one gets a new directory. It holds
#   demo-app pause imagepack loadgen      the static binaries (CGO_ENABLED=0, -trimpath)
#   pause.tar                             localhost/stagewise/pause:1 (the node's sandbox image)
#   demo-app-<tag>.tar                    docker.io/stagewise/demo-app:<tag>, one per demo/images.tsv line
#   images.txt                            "<archive>\t<image>" for each archive
# Each archive is a docker-archive tar for `ctr -n k8s.io images import FILE`.
#
# stdout: the directory (nothing else). stderr: progress.
set -euo pipefail

LOG_TAG=images
# shellcheck source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

DEMO=$STAGEWISE_ROOT/demo
IMAGES_TSV=$DEMO/images.tsv
# The stack's image is stagewise/demo-app; containerd lists it under its normalised name.
APP_IMAGE=docker.io/stagewise/demo-app
PAUSE_IMAGE=localhost/stagewise/pause:1
# The marker written last: a directory without it is an interrupted build.
DONE_MARK=.complete

usage() {
	sed -n '2,5s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

# source_key: a short hash of everything the directory's content is made from.
source_key() {
	local files
	need go "Go is not installed (the demo is built with the Go toolchain: go.dev/doc/install)"
	need git "git is needed to list demo/'s source files"
	# Tracked files and new ones not ignored: a file being written counts before it is committed.
	# Tests build into no binary: a change to them alone rebuilds nothing.
	files=$(git -C "$STAGEWISE_ROOT" ls-files --cached --others --exclude-standard -- \
		demo/go.mod demo/go.sum ':(glob)demo/**/*.go' ':(exclude,glob)demo/**/*_test.go' \
		demo/images.tsv scripts/images.sh | sort -u) ||
		die "cannot list demo/'s files with git (is $STAGEWISE_ROOT a git checkout?)"
	[[ -n $files ]] || die "no source found under $DEMO"
	{
		go env GOVERSION GOOS GOARCH
		# Path and content of each file (a deleted tracked file counts as gone).
		while IFS= read -r f; do
			[[ -f $STAGEWISE_ROOT/$f ]] || continue
			printf '%s ' "$f"
			sha256sum <"$STAGEWISE_ROOT/$f"
		done <<<"$files"
	} | sha256sum | cut -c1-16
}

images_dir() { printf '%s/demo-%s\n' "$CACHE_BIN" "$(source_key)"; }

# build_binaries OUT: the four programs, static. -buildvcs=false keeps the commit out of the binary,
# so the same source gives the same binary (and image digest) whatever the checkout.
build_binaries() {
	CGO_ENABLED=0 go build -C "$DEMO" -trimpath -buildvcs=false -ldflags='-s -w' -o "$1/" ./cmd/...
	local b
	for b in demo-app pause imagepack loadgen; do
		[[ -x $1/$b ]] || {
			echo "go build produced no $b" >&2
			return 1
		}
	done
}

# pack_images OUT: the pause image, then one demo-app image per line of images.tsv.
pack_images() {
	local out=$1 line tag envs kv file n=0
	local -a env_args
	# Upstream's pause image runs as 65535:65535; it needs no privilege to hold the namespaces or
	# to reap the orphans reparented to it.
	"$out/imagepack" --binary "$out/pause" --name pause --user 65535:65535 \
		--tag "$PAUSE_IMAGE" --out "$out/pause.tar"
	printf '%s\t%s\n' pause.tar "$PAUSE_IMAGE" >"$out/images.txt"

	while IFS= read -r line || [[ -n $line ]]; do
		n=$((n + 1))
		[[ $line =~ ^[[:space:]]*(#|$) ]] && continue
		IFS=$'\t' read -r tag envs <<<"$line"
		if [[ ! $tag =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]]; then
			echo "images.tsv line $n: '$tag' is not an image tag" >&2
			return 1
		fi
		# The image's own identity, as a default: run anywhere, it still reports its version.
		# The deployment sets both variables itself, and a container's variables win over the image's.
		env_args=(--env OTEL_SERVICE_NAME=demo-app --env "OTEL_RESOURCE_ATTRIBUTES=service.version=$tag")
		local -a switch=()
		if [[ -n ${envs// /} && $envs != - ]]; then
			read -r -a switch <<<"$envs"
		fi
		for kv in "${switch[@]}"; do
			if [[ ! $kv =~ ^[A-Z_][A-Z0-9_]*= ]]; then
				echo "images.tsv line $n: '$kv' is not KEY=VALUE" >&2
				return 1
			fi
			env_args+=(--env "$kv")
		done
		# The app's own check of the environment the image starts with.
		if ! env -i "${switch[@]}" "$out/demo-app" -check-env; then
			echo "images.tsv line $n: tag $tag: the app refuses this environment" >&2
			return 1
		fi
		file=demo-app-$tag.tar
		"$out/imagepack" --binary "$out/demo-app" --name demo-app "${env_args[@]}" \
			--tag "$APP_IMAGE:$tag" --out "$out/$file"
		printf '%s\t%s\n' "$file" "$APP_IMAGE:$tag" >>"$out/images.txt"
		echo "packed $APP_IMAGE:$tag ($file) ${switch[*]}"
	done <"$IMAGES_TSV"
}

cmd_dir() {
	local dir
	dir=$(images_dir)
	if [[ ! -e $dir/$DONE_MARK ]]; then
		log "not built for this source: $dir (run: scripts/images.sh build)"
		exit 1
	fi
	printf '%s\n' "$dir"
}

cmd_build() {
	local dir tmp start=$SECONDS
	dir=$(images_dir)
	if [[ -e $dir/$DONE_MARK ]]; then
		log "up to date: $dir"
		printf '%s\n' "$dir"
		return
	fi
	[[ -f $IMAGES_TSV ]] || die "missing $IMAGES_TSV"
	mkdir -p "$CACHE_BIN" "$CACHE_LOGS"
	# Built beside its final place and renamed: a concurrent build or an interrupted one never leaves
	# a half-filled directory under the final name.
	tmp=$(mktemp -d "$dir.tmp.XXXXXX")
	# shellcheck disable=SC2064 # the path is fixed now
	trap "rm -rf '$tmp'" EXIT
	run_step "go build (demo-app, pause, imagepack, loadgen)" "$CACHE_LOGS/images-build.log" build_binaries "$tmp"
	run_step "image archives" "$CACHE_LOGS/images-pack.log" pack_images "$tmp"
	touch "$tmp/$DONE_MARK"
	if ! mv -T "$tmp" "$dir" 2>/dev/null; then
		# Another build of the same source finished first: its result is as good as ours.
		[[ -e $dir/$DONE_MARK ]] || die "cannot move $tmp to $dir"
		log "a concurrent build finished first; keeping it"
	fi
	prune_old "$dir"
	log "built in $((SECONDS - start))s: $dir"
	printf '%s\n' "$dir"
}

# prune_old DIR: every source edit makes a new directory (~45 MB); keep the newest few, so that
# switching between branches still finds its build, and remove the rest.
KEEP_BUILDS=3
prune_old() {
	local old
	# Newest first by modification time; DIR itself was just made, so it is never removed.
	while IFS= read -r old; do
		[[ $old == "$1" ]] && continue
		log "removing an older build: $old"
		rm -rf -- "$old"
	done < <(find "$CACHE_BIN" -mindepth 1 -maxdepth 1 -type d -name 'demo-*' ! -name '*.tmp.*' \
		-printf '%T@ %p\n' | sort -rn | tail -n +$((KEEP_BUILDS + 1)) | cut -d' ' -f2-)
}

case "${1:-}" in
build) cmd_build ;;
dir) cmd_dir ;;
*) usage ;;
esac
