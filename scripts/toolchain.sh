#!/usr/bin/env bash
# Builds the pinned Pulumi toolchain from Go modules, because the Pulumi CLI, its Python language
# host and provider plugins are not downloadable here (only package registries are reachable):
#   - pulumi                        (CLI, github.com/pulumi/pulumi/pkg/v3)
#   - pulumi-language-python (+ -exec script), next to pulumi
#   - pulumi-resource-kubernetes    (registered in the toolchain's PULUMI_HOME)
# Binaries are cached outside the repository, keyed by version, so a second run takes seconds.
# Versions are pinned in scripts/versions.sh. Use the result with `. scripts/env.sh`.
set -euo pipefail

LOG_TAG=toolchain
# shellcheck source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

need go "go is not on PATH (Go >= 1.25 is needed to build the Pulumi toolchain)"
need flock "flock is not on PATH (util-linux)"

export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true

PULUMI_BIN_DIR=$(tool_dir pulumi)
K8S_PROVIDER_BIN_DIR=$(tool_dir pulumi-resource-kubernetes)
mkdir -p "$CACHE_BIN" "$CACHE_SRC" "$STAGEWISE_PULUMI_HOME"
# Two runs at once would build into the same directories.
exec 9>"$STAGEWISE_CACHE/.toolchain.lock"
flock 9

# non_local_replaces GO_MOD: the replace directives of GO_MOD that do not point at a local path,
# one per line. A wrapper module has to repeat them: replaces only apply in the main module.
non_local_replaces() {
	awk '
		function trim(s) { sub(/[ \t]*\/\/.*$/, "", s); gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
		/^replace[ \t]*\(/ { block = 1; next }
		block && /^\)/ { block = 0; next }
		{ line = "" }
		block { line = trim($0) }
		!block && /^replace[ \t]/ { line = trim(substr($0, 9)) }
		line != "" {
			split(line, side, "=>")
			target = trim(side[2])
			if (target !~ /^(\.|\/)/) print "replace " line
		}
	' "$1"
}

# write_wrapper DIR GO_DIRECTIVE REQUIRE_LINES REPLACE_GO_MOD: a throwaway main module for a build.
write_wrapper() {
	local dir=$1 go_directive=$2 requires=$3 replaces_from=$4
	{
		printf 'module stagewise.local/toolchain/%s\n\ngo %s\n\nrequire (\n%s\n)\n\n' \
			"$(basename "$dir")" "$go_directive" "$requires"
		non_local_replaces "$replaces_from"
	} >"$dir/go.mod"
	# The dependency's own go.sum pins the same versions it was released with.
	if [[ -f $(dirname "$replaces_from")/go.sum ]]; then
		cp "$(dirname "$replaces_from")/go.sum" "$dir/go.sum"
		chmod u+w "$dir/go.sum"
	fi
}

go_directive_of() { sed -n 's/^go \([0-9.]*\).*/\1/p' "$1" | head -n 1; }

stamp_is() { [[ -f $1 && "$(cat "$1")" == "$2" ]]; }

# --- Pulumi CLI -----------------------------------------------------------------------------------

pulumi_stamp="github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION tags=osusergo,grpcnotrace"

build_pulumi() {
	if tool_cached pulumi "$pulumi_stamp"; then
		log "pulumi $PULUMI_VERSION: cached in $PULUMI_BIN_DIR"
		return
	fi
	local pkg src
	pkg=$(go_module Dir "github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION") ||
		die "cannot download github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION"
	src=$CACHE_SRC/pulumi-$PULUMI_VERSION
	rm -rf "$src" && mkdir -p "$src"
	write_wrapper "$src" "$(go_directive_of "$pkg/go.mod")" \
		"$(printf '\tgithub.com/pulumi/pulumi/pkg/v3 %s\n\tgithub.com/pulumi/pulumi/sdk/v3 %s' "$PULUMI_VERSION" "$PULUMI_VERSION")" \
		"$pkg/go.mod"
	run_step "building pulumi $PULUMI_VERSION" "$src/build.log" \
		go -C "$src" build -trimpath -tags osusergo,grpcnotrace \
		-ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
		-o "$src/out/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
	install_tool pulumi "$src/out/pulumi" "$pulumi_stamp"
}

# --- Python language host -------------------------------------------------------------------------

langhost_primary="$LANGHOST_MODULE@$LANGHOST_MODULE_VERSION"
langhost_fallback="github.com/pulumi/pulumi/sdk/v3@$LANGHOST_FALLBACK_SDK_VERSION"

# build_langhost_from SOURCE GO_MOD_DIR REQUIRE_LINES PACKAGE VERSION
build_langhost_from() {
	local source=$1 mod=$2 requires=$3 package=$4 version=$5 src
	src=$CACHE_SRC/pulumi-language-python-$version
	rm -rf "$src" && mkdir -p "$src"
	write_wrapper "$src" "$(go_directive_of "$mod/go.mod")" "$requires" "$mod/go.mod"
	run_step "building pulumi-language-python from $source" "$src/build.log" \
		go -C "$src" build -trimpath -tags osusergo,grpcnotrace \
		-ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version" \
		-o "$src/out/pulumi-language-python" "$package"
	install -m 0755 "$src/out/pulumi-language-python" "$PULUMI_BIN_DIR/pulumi-language-python"
	printf '%s\n' "$source" >"$PULUMI_BIN_DIR/.langhost.stamp"
}

build_langhost() {
	local stamp_file=$PULUMI_BIN_DIR/.langhost.stamp mod sdk
	mkdir -p "$PULUMI_BIN_DIR"
	# The exec script runs the user's program with the Python SDK, so it comes from the CLI's release.
	if [[ ! -x $PULUMI_BIN_DIR/pulumi-language-python-exec ]]; then
		sdk=$(go_module Dir "github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION") ||
			die "cannot download github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION (for pulumi-language-python-exec)"
		install -m 0755 "$sdk/python/cmd/pulumi-language-python-exec" "$PULUMI_BIN_DIR/pulumi-language-python-exec"
	fi
	if [[ -x $PULUMI_BIN_DIR/pulumi-language-python ]] && stamp_is "$stamp_file" "$langhost_primary"; then
		log "pulumi-language-python ($langhost_primary): cached"
		return
	fi
	local why
	if mod=$(go_module Dir "$langhost_primary" 2>"$CACHE_SRC/langhost-download.err"); then
		build_langhost_from "$langhost_primary" "$mod" \
			"$(printf '\t%s %s\n\tgithub.com/pulumi/pulumi/pkg/v3 %s\n\tgithub.com/pulumi/pulumi/sdk/v3 %s' \
				"$LANGHOST_MODULE" "$LANGHOST_MODULE_VERSION" "$PULUMI_VERSION" "$PULUMI_VERSION")" \
			"$LANGHOST_MODULE" "$PULUMI_VERSION"
		return
	fi
	why=$(head -c 300 "$CACHE_SRC/langhost-download.err")
	log "WARNING: cannot download $langhost_primary: ${why:-unknown error}"
	log "WARNING: building the Python language host of sdk/v3 $LANGHOST_FALLBACK_SDK_VERSION, ported to the"
	log "WARNING: $PULUMI_VERSION protocol; it ignores runtime.options.virtualenv and runs the first python3 on PATH"
	if [[ -x $PULUMI_BIN_DIR/pulumi-language-python ]] && stamp_is "$stamp_file" "$langhost_ported"; then
		log "pulumi-language-python ($langhost_ported): cached"
		return
	fi
	build_ported_langhost
}

# The last language host published inside a module (sdk/v3 v3.79.0), compiled against the CLI's own
# sdk/v3 so that it speaks the CLI's protocol. Newer engines no longer send RunPluginRequest.program
# (the plugin's directory travels in .info), which the old host needs to start a policy pack; the
# patches below are the whole port, and each must apply or the build stops.
langhost_ported="$langhost_fallback ported to sdk/v3@$PULUMI_VERSION (patches: python-pkg, about, logging, run-plugin)"

patch_source() { # FILE DESCRIPTION PYTHON-REPLACEMENT-SCRIPT
	python3 - "$1" "$2" "$3" <<'PY' || die "language host port: patch '$2' did not apply"
import re, sys
path, what, script = sys.argv[1:]
text = open(path).read()
new = eval(script, {"re": re, "text": text})
if new == text:
    sys.exit(1)
open(path, "w").write(new)
PY
}

build_ported_langhost() {
	local old sdk src
	old=$(go_module Dir "$langhost_fallback") || die "cannot download $langhost_fallback (language host source)"
	sdk=$(go_module Dir "github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION") ||
		die "cannot download github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION"
	src=$CACHE_SRC/pulumi-language-python-ported
	rm -rf "$src" && mkdir -p "$src/python"
	write_wrapper "$src" "$(go_directive_of "$sdk/go.mod")" \
		"$(printf '\tgithub.com/pulumi/pulumi/sdk/v3 %s' "$PULUMI_VERSION")" "$sdk/go.mod"
	sed -i 's#^module .*#module stagewise.local/langhost#' "$src/go.mod"
	install -m 0644 "$old/python/cmd/pulumi-language-python/main.go" "$src/main.go"
	# Its helper package left sdk/v3 after v3.79.0: it comes along, as a package of the wrapper.
	for file in "$old"/python/*.go; do
		[[ $file == *_test.go ]] || install -m 0644 "$file" "$src/python/"
	done
	patch_source "$src/main.go" python-pkg \
		'text.replace("\"github.com/pulumi/pulumi/sdk/v3/python\"", "\"stagewise.local/langhost/python\"")'
	patch_source "$src/main.go" about \
		're.sub(r"About\(ctx context.Context, req \*pbempty.Empty\)", "About(ctx context.Context, req *pulumirpc.AboutRequest)", text)'
	patch_source "$src/main.go" logging \
		're.sub(r"if logging.V\((\d)\) \{", r"if logging.V(\1).Enabled() {", text)'
	patch_source "$src/main.go" run-plugin \
		'text.replace("\targs := []string{req.Program}\n", "\tprogram := req.Program\n\tif program == \"\" && req.GetInfo() != nil {\n\t\tprogram = req.GetInfo().GetProgramDirectory()\n\t}\n\targs := []string{program}\n")'
	run_step "building pulumi-language-python (sdk/v3 $LANGHOST_FALLBACK_SDK_VERSION host, ported)" "$src/build.log" \
		go -C "$src" build -trimpath -tags osusergo,grpcnotrace \
		-ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
		-o "$src/out/pulumi-language-python" .
	install -m 0755 "$src/out/pulumi-language-python" "$PULUMI_BIN_DIR/pulumi-language-python"
	printf '%s\n' "$langhost_ported" >"$PULUMI_BIN_DIR/.langhost.stamp"
}

# --- Kubernetes provider --------------------------------------------------------------------------

k8s_stamp="$K8S_PROVIDER_MODULE@$K8S_PROVIDER_MODULE_VERSION as $K8S_PROVIDER_VERSION"

build_k8s_provider() {
	if tool_cached pulumi-resource-kubernetes "$k8s_stamp"; then
		log "pulumi-resource-kubernetes $K8S_PROVIDER_VERSION: cached in $K8S_PROVIDER_BIN_DIR"
		return
	fi
	# The checksum database has no record of these pulumi-kubernetes module versions.
	export GONOSUMDB=${GONOSUMDB:+$GONOSUMDB,}github.com/pulumi/pulumi-kubernetes
	local mod src version=${K8S_PROVIDER_VERSION#v}
	mod=$(go_module Dir "$K8S_PROVIDER_MODULE@$K8S_PROVIDER_MODULE_VERSION") ||
		die "cannot download $K8S_PROVIDER_MODULE@$K8S_PROVIDER_MODULE_VERSION"
	src=$CACHE_SRC/pulumi-resource-kubernetes-$K8S_PROVIDER_VERSION
	rm -rf "$src" && mkdir -p "$src"
	write_wrapper "$src" "$(go_directive_of "$mod/go.mod")" \
		"$(printf '\t%s %s' "$K8S_PROVIDER_MODULE" "$K8S_PROVIDER_MODULE_VERSION")" "$mod/go.mod"
	# The provider's main embeds *-embed.json files that its go:generate step writes from the committed
	# schema.json (adding "version") and mappings; they are git-ignored, so not in the module. Run that
	# same generator on copies of the committed files, then build the upstream main unchanged.
	cp "$mod"/cmd/pulumi-resource-kubernetes/*.go "$mod"/cmd/pulumi-resource-kubernetes/*.json "$src/"
	chmod u+w "$src"/*
	run_step "generating the kubernetes schema (version $version)" "$src/generate.log" \
		env -C "$src" VERSION="$version" go run generate.go
	local embed
	while read -r embed; do
		[[ -f $src/$embed ]] || die "the kubernetes provider main embeds $embed, which the generator did not write"
	done < <(sed -n 's|^//go:embed[ \t]*||p' "$src/main.go")
	run_step "building pulumi-resource-kubernetes $K8S_PROVIDER_VERSION from $K8S_PROVIDER_MODULE_VERSION" \
		"$src/build.log" \
		go -C "$src" build -trimpath \
		-ldflags "-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$version" \
		-o "$src/out/pulumi-resource-kubernetes" .
	install_tool pulumi-resource-kubernetes "$src/out/pulumi-resource-kubernetes" "$k8s_stamp"
}

# register_k8s_provider PULUMI: installs the plugin into the toolchain's PULUMI_HOME, where the engine
# finds it without downloading anything.
register_k8s_provider() {
	local pulumi=$1 built=$K8S_PROVIDER_BIN_DIR/pulumi-resource-kubernetes
	local installed=$STAGEWISE_PULUMI_HOME/plugins/resource-kubernetes-$K8S_PROVIDER_VERSION/pulumi-resource-kubernetes
	if cmp -s "$built" "$installed"; then
		log "kubernetes plugin $K8S_PROVIDER_VERSION: registered in $STAGEWISE_PULUMI_HOME"
		return
	fi
	PULUMI_HOME=$STAGEWISE_PULUMI_HOME "$pulumi" plugin install resource kubernetes "$K8S_PROVIDER_VERSION" \
		--file "$built" --reinstall >&2 ||
		die "registering the kubernetes plugin $K8S_PROVIDER_VERSION failed"
	log "kubernetes plugin $K8S_PROVIDER_VERSION: registered in $STAGEWISE_PULUMI_HOME"
}

# --- main -----------------------------------------------------------------------------------------

started=$SECONDS
pulumi=
if found=$(command -v pulumi 2>/dev/null) && [[ $found != "$PULUMI_BIN_DIR/pulumi" ]] &&
	[[ "$("$found" version 2>/dev/null)" == "$PULUMI_VERSION" ]] &&
	command -v pulumi-language-python >/dev/null 2>&1; then
	log "using pulumi $PULUMI_VERSION and pulumi-language-python already on PATH ($found)"
	pulumi=$found
else
	build_pulumi
	build_langhost
	pulumi=$PULUMI_BIN_DIR/pulumi
fi
[[ "$("$pulumi" version)" == "$PULUMI_VERSION" ]] || die "$pulumi does not report version $PULUMI_VERSION"

build_k8s_provider
register_k8s_provider "$pulumi"

log "toolchain ready in $((SECONDS - started))s; use it with: . scripts/env.sh"
