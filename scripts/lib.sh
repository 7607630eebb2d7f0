# shellcheck shell=bash
# Helpers the bash scripts share: the repository's paths and shared facts, the version and cache
# directory of every built tool, logging, kubectl against the local cluster, waiting for a condition,
# stopping processes by PID, Debian packages, a background runner with a heartbeat, and Go module
# downloads.
#
#   LOG_TAG=cluster   # the [tag] of its log lines
#   . "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
#
# Sourcing it only defines things (no `set`, no trap, nothing written). The facts shared with the
# Python code come from stagewise/formats/facts.py, as FACT_<NAME>; the versions from scripts/versions.sh. scripts/env.sh, which users source into their own shell, reads the paths
# it needs through a separate bash (print_env), so that none of these helpers lands in that shell.

STAGEWISE_SCRIPTS=$(CDPATH='' cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
STAGEWISE_ROOT=$(dirname -- "$STAGEWISE_SCRIPTS")
# Run as a plain file by the system's python3: no virtualenv is needed yet.
_stagewise_facts=$(python3 "$STAGEWISE_ROOT/stagewise/formats/facts.py" env) || {
	echo "cannot read the shared facts: python3 $STAGEWISE_ROOT/stagewise/formats/facts.py env failed" >&2
	exit 1
}
eval "$_stagewise_facts"
unset _stagewise_facts
# shellcheck source=versions.sh
. "$STAGEWISE_SCRIPTS/versions.sh"

# --- where builds are cached: outside the repository, keyed by version ---------------------------

STAGEWISE_CACHE=${STAGEWISE_CACHE:-$HOME/.cache/stagewise}
CACHE_BIN=$STAGEWISE_CACHE/bin # <tool>-<version>/<tool>
CACHE_SRC=$STAGEWISE_CACHE/src # wrapper modules and the toolchain's build logs
# shellcheck disable=SC2034 # for scripts/cluster.sh: its build logs
CACHE_LOGS=$STAGEWISE_CACHE/logs
# The Pulumi home of the toolchain, where the kubernetes plugin is registered.
STAGEWISE_PULUMI_HOME=$STAGEWISE_CACHE/pulumi-home

# tool_version TOOL: the pinned version of a built tool.
tool_version() {
	case $1 in
	pulumi) echo "$PULUMI_VERSION" ;; # with pulumi-language-python beside it
	pulumi-resource-kubernetes) echo "$K8S_PROVIDER_VERSION" ;;
	kube-* | kubectl | kubelet) echo "$K8S_VERSION" ;;
	traefik) echo "$TRAEFIK_VERSION" ;;
	etcd) echo "$ETCD_VERSION" ;;
	kwok | kwokctl) echo "$KWOK_VERSION" ;;
	actionlint) echo "$ACTIONLINT_VERSION" ;;
	*) die "unknown tool $1" ;;
	esac
}

# tool_dir TOOL: the cache directory of TOOL's pinned version; tool_path TOOL: its binary.
tool_dir() { printf '%s/%s-%s\n' "$CACHE_BIN" "$1" "$(tool_version "$1")"; }
tool_path() { printf '%s/%s\n' "$(tool_dir "$1")" "$1"; }

# --- built tools: one notion of "cached" ---------------------------------------------------------
#
# A built tool is cached when its binary is at `tool_path TOOL` and executable: install_tool puts it
# there whole (under a temporary name in the same directory, then renamed), so a binary at that path
# is a finished build of the pinned version. A tool whose build has inputs beyond its version (the
# toolchain's wrapper modules) also needs its stamp, written after the binary, to name the same recipe.

# tool_stamp TOOL: the file naming the recipe of TOOL's cached binary.
tool_stamp() {
	case $1 in
	pulumi-resource-kubernetes) echo "$(tool_dir "$1")/.stamp" ;; # its first name: existing caches stay valid
	*) echo "$(tool_dir "$1")/.$1.stamp" ;;
	esac
}

# tool_cached TOOL [RECIPE]: whether TOOL's pinned build (of RECIPE, if given) is in the cache.
tool_cached() {
	[[ -x $(tool_path "$1") ]] || return 1
	(($# < 2)) || [[ "$(cat "$(tool_stamp "$1")" 2>/dev/null)" == "$2" ]]
}

# install_tool TOOL FILE [RECIPE]: puts the built FILE into the cache as TOOL's binary, then RECIPE's
# stamp. The old stamp goes first, so an interrupted install is never taken for the new recipe.
install_tool() {
	local dest
	dest=$(tool_path "$1")
	mkdir -p "$(dirname "$dest")"
	rm -f "$(tool_stamp "$1")"
	install -m 0755 "$2" "$dest.tmp.$$"
	mv -f "$dest.tmp.$$" "$dest"
	if (($# > 2)); then printf '%s\n' "$3" >"$(tool_stamp "$1")"; fi
}

# print_env: the assignments scripts/env.sh makes in the caller's shell.
print_env() {
	printf '%s=%q\n' STAGEWISE_CACHE "$STAGEWISE_CACHE" STAGEWISE_PULUMI_HOME "$STAGEWISE_PULUMI_HOME" \
		PULUMI_VERSION "$PULUMI_VERSION" PULUMI_BIN_DIR "$(tool_dir pulumi)"
}

# use_toolchain: works from the repository's root with the toolchain of scripts/env.sh.
use_toolchain() {
	cd "$STAGEWISE_ROOT" || die "cannot enter $STAGEWISE_ROOT"
	# shellcheck source=env.sh
	. "$STAGEWISE_SCRIPTS/env.sh"
}

# --- logging --------------------------------------------------------------------------------------

log() { printf '[%s] %s\n' "${LOG_TAG:-stagewise}" "$*" >&2; }
die() {
	log "ERROR: $*"
	exit 1
}
# need COMMAND WHY: stops with WHY unless COMMAND is on PATH.
need() { command -v "$1" >/dev/null 2>&1 || die "$2"; }

# die_with_log LOGFILE MESSAGE: the last lines of LOGFILE, then MESSAGE as the error.
die_with_log() {
	log "---- last lines of $1 ----"
	tail -n 40 "$1" >&2 || true
	die "$2 (full log: $1)"
}

# --- the local cluster ----------------------------------------------------------------------------

# The kubeconfig scripts/cluster.sh writes.
KUBECONFIG_PATH=$STAGEWISE_ROOT/$FACT_KUBECONFIG

# kc ARGS...: the pinned kubectl against the local cluster, with a short request timeout.
kc() { "$(tool_path kubectl)" --kubeconfig "$KUBECONFIG_PATH" --request-timeout=10s "$@"; }

# --- waiting and stopping -------------------------------------------------------------------------

# wait_until DESCRIPTION TIMEOUT COMMAND...: runs COMMAND (its output discarded) every half second
# until it succeeds, then logs DESCRIPTION with the time it took; says every 15 s that it is still
# waiting. Returns 1 once TIMEOUT seconds have passed.
wait_until() {
	local what=$1 timeout=$2 start=$SECONDS last=$SECONDS
	shift 2
	until "$@" >/dev/null 2>&1; do
		((SECONDS - start < timeout)) || return 1
		if ((SECONDS - last >= 15)); then
			log "  ... waiting for $what ($((SECONDS - start))s)"
			last=$SECONDS
		fi
		sleep 0.5
	done
	log "$what ($((SECONDS - start))s)"
}

# stop_pids GRACE PID...: TERM to every PID, KILL to those still alive after GRACE seconds; returns 1
# if one is alive 2 s after that.
stop_pids() {
	local grace=$1 pid ticks=0
	local -a alive
	shift
	kill -TERM "$@" 2>/dev/null || true
	while :; do
		alive=()
		for pid in "$@"; do
			if kill -0 "$pid" 2>/dev/null; then alive+=("$pid"); fi
		done
		((${#alive[@]})) || return 0
		((ticks < (grace + 2) * 4)) || return 1
		if ((ticks == grace * 4)); then kill -KILL "${alive[@]}" 2>/dev/null || true; fi
		sleep 0.25
		ticks=$((ticks + 1))
	done
}

# --- Debian packages ------------------------------------------------------------------------------

# debian_install PACKAGE...: installs Debian's packages (root and apt-get needed; the index is
# updated only if the first try fails). Their maintainer scripts are kept from starting services.
debian_install() {
	local policy=/usr/sbin/policy-rc.d ours=0 rc=0
	if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
		die "missing $*: install Debian's packages (apt-get install --no-install-recommends $*) as root"
	fi
	log "installing Debian's $*"
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod +x "$policy"
		ours=1
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >&2 ||
		{ DEBIAN_FRONTEND=noninteractive apt-get update >&2 &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >&2; } || rc=$?
	if ((ours)); then
		rm -f "$policy"
		trap - EXIT
	fi
	((rc == 0)) || die "apt-get install $* failed"
}

# --- slow commands --------------------------------------------------------------------------------

# run_logged LABEL LOGFILE CMD...: runs CMD in the background with its output in LOGFILE, logging
# that it is still running every 30 s; returns CMD's status. Interrupting the script stops CMD.
run_logged() {
	local label=$1 logfile=$2 start=$SECONDS last=$SECONDS pid rc=0
	shift 2
	"$@" >"$logfile" 2>&1 &
	pid=$!
	# shellcheck disable=SC2064 # the pid is fixed now
	trap "kill $pid 2>/dev/null; exit 130" INT TERM
	while kill -0 "$pid" 2>/dev/null; do
		sleep 2
		if ((SECONDS - last >= 30)); then
			log "$label: still running, $((SECONDS - start))s elapsed"
			last=$SECONDS
		fi
	done
	wait "$pid" || rc=$?
	trap - INT TERM
	return "$rc"
}

# run_step LABEL LOGFILE CMD...: run_logged between a start and a done line; a failure stops the
# script with the end of LOGFILE.
run_step() {
	local label=$1 logfile=$2 start=$SECONDS
	log "$label: started (log: $logfile)"
	run_logged "$@" || die_with_log "$logfile" "$label failed after $((SECONDS - start))s"
	log "$label: done in $((SECONDS - start))s"
}

# --- Go modules -----------------------------------------------------------------------------------

# go_module FIELD MODULE@VERSION: downloads a module into the Go module cache and prints a field of
# `go mod download -json` (Dir: its files, GoMod: its go.mod). On failure, prints why to stderr.
go_module() {
	local json value why
	mkdir -p "$CACHE_SRC"
	# Outside any main module, so that nothing around the caller's directory takes part.
	json=$(cd "$CACHE_SRC" && go mod download -json "$2" 2>&1) || true
	value=$(sed -n "s/^\t\"$1\": \"\(.*\)\",\{0,1\}\$/\1/p" <<<"$json")
	if [[ -z $value || ! -e $value ]]; then
		why=$(sed -n 's/^\t"Error": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")
		printf '%s\n' "${why:-$json}" >&2
		return 1
	fi
	printf '%s\n' "$value"
}
