# shellcheck shell=bash
# Source this file (`. scripts/env.sh`) to use the toolchain that scripts/toolchain.sh builds:
# the pinned pulumi CLI and Python language host, the repository's virtualenv, and a Pulumi home
# (outside the repository) where the kubernetes plugin is registered. It does not choose a state
# backend or a passphrase.

_stagewise_env_file=${BASH_SOURCE[0]:-$0}
_stagewise_root=$(CDPATH='' cd -- "$(dirname "$_stagewise_env_file")/.." && pwd)
# The versions and the cache layout come from the scripts' bash library, read in a bash of its own so
# that none of its helpers lands in this shell: STAGEWISE_CACHE (this shell's, even unexported),
# STAGEWISE_PULUMI_HOME, PULUMI_VERSION and PULUMI_BIN_DIR.
_stagewise_vars=$(STAGEWISE_CACHE=${STAGEWISE_CACHE:-} bash -c '. "$1" && print_env' bash \
	"$_stagewise_root/scripts/lib.sh") || return 1
eval "$_stagewise_vars"

_stagewise_path_prepend() {
	case ":$PATH:" in
	*":$1:"*) ;;
	*) PATH="$1:$PATH" ;;
	esac
}
_stagewise_path_prepend "$_stagewise_root/.venv/bin"
_stagewise_path_prepend "$PULUMI_BIN_DIR"
export PATH

export STAGEWISE_CACHE
export PULUMI_HOME=$STAGEWISE_PULUMI_HOME
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true

if [ ! -x "$PULUMI_BIN_DIR/pulumi" ] && ! command -v pulumi >/dev/null 2>&1; then
	echo "scripts/env.sh: no pulumi $PULUMI_VERSION yet; run scripts/toolchain.sh" >&2
fi

unset -f _stagewise_path_prepend
unset _stagewise_env_file _stagewise_root _stagewise_vars
