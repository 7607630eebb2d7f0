# shellcheck shell=bash
# Source this file (`. scripts/env.sh`) to use the toolchain that scripts/toolchain.sh builds:
# the pinned pulumi CLI and Python language host, the repository's virtualenv, and a Pulumi home
# (outside the repository) where the kubernetes plugin is registered. It does not choose a state
# backend or a passphrase.

_stagewise_env_file=${BASH_SOURCE[0]:-$0}
_stagewise_root=$(CDPATH='' cd -- "$(dirname "$_stagewise_env_file")/.." && pwd)
# shellcheck source=scripts/toolchain/versions.sh
. "$_stagewise_root/scripts/toolchain/versions.sh"

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
unset _stagewise_env_file _stagewise_root
