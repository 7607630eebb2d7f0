#!/usr/bin/env bash
# The local stack: a Kubernetes control plane on this machine and `pulumi up --stack local` against it.
#
#   scripts/local.sh up      start the cluster (if needed), log in to the project's file state, deploy
#   scripts/local.sh down    destroy the stack's resources and stop the cluster
#
# State lives in .state/ (git-ignored). The local stack's secrets are encrypted with the passphrase
# provider; its passphrase is not a secret (the values are local dummies): see README.
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
use_toolchain
export PULUMI_BACKEND_URL="file://$STAGEWISE_ROOT/.state"
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-stagewise-local}"
STACK=local

select_stack() {
  mkdir -p .state
  pulumi stack select "$STACK" 2>/dev/null || pulumi stack init "$STACK"
}

case "${1:-up}" in
  up)
    bash scripts/cluster.sh start
    select_stack
    pulumi up --stack "$STACK" --yes --skip-preview
    echo
    KUBECONFIG="$(bash scripts/cluster.sh kubeconfig)"
    export KUBECONFIG
    namespace="$(pulumi stack output namespace --stack "$STACK")"
    bash scripts/cluster.sh kubectl -n "$namespace" get deployments,services,hpa,httproutes
    echo
    bash scripts/cluster.sh kubectl -n "$namespace" get httproutes \
      -o jsonpath='{range .items[*].spec.rules[*].backendRefs[*]}{.name}{"\t"}{.weight}{"\n"}{end}'
    echo
    echo "Next: stagewise promote --stack local && pulumi up --stack local  (after '. scripts/env.sh' with the state and passphrase above)"
    ;;
  down)
    if bash scripts/cluster.sh status >/dev/null 2>&1; then
      select_stack
      pulumi destroy --stack "$STACK" --yes --skip-preview
    fi
    bash scripts/cluster.sh stop
    ;;
  *)
    echo "usage: scripts/local.sh up|down" >&2
    exit 2
    ;;
esac
