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
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-$FACT_LOCAL_PASSPHRASE}"
STACK=local

select_stack() {
	mkdir -p .state
	pulumi stack select "$STACK" 2>/dev/null || pulumi stack init "$STACK"
}

# url: where the local stack answers, from its stack outputs (the route's host on the gateway).
url() { pulumi stack output url --stack "$STACK"; }

case "${1:-up}" in
up)
	bash scripts/dataplane.sh start
	select_stack
	pulumi up --stack "$STACK" --yes --skip-preview
	echo
	KUBECONFIG="$(bash scripts/cluster.sh kubeconfig)"
	export KUBECONFIG
	namespace="$(pulumi stack output namespace --stack "$STACK")"
	for colour in blue green; do
		bash scripts/cluster.sh kubectl -n "$namespace" rollout status "deployment/$(pulumi stack output deployments --stack "$STACK" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['$colour'])")" --timeout=120s >/dev/null
	done
	bash scripts/cluster.sh kubectl -n "$namespace" get deployments,pods,httproutes -o wide
	echo
	bash scripts/cluster.sh kubectl -n "$namespace" get httproutes \
		-o jsonpath='{range .items[*].spec.rules[*].backendRefs[*]}{.name}{"\t"}{.weight}{"\n"}{end}'
	address="$(url)"
	# The gateway programs a new route within seconds: wait until it answers.
	wait_until "the gateway answers $address" 60 curl -fsS -o /dev/null "$address" || {
		echo "the gateway does not answer $address (log: .cluster/node/logs/traefik.log)" >&2
		exit 1
	}
	echo
	echo "Next: stagewise promote --stack local && pulumi up --stack local  (after '. scripts/env.sh' with the state and passphrase above)"
	echo "      make demo    plays a whole rollout against real traffic"
	echo
	echo "The local stack answers at: $address"
	echo "  curl -i $address     (X-App-Version names the version that served the request)"
	echo "Watch the rollout: stagewise status --watch --stack $STACK, or stagewise dashboard --stack $STACK"
	echo "  (a page on http://127.0.0.1:$FACT_DASHBOARD_PORT/ with live charts; after '. scripts/env.sh')"
	;;
down)
	if bash scripts/cluster.sh status >/dev/null 2>&1; then
		select_stack
		pulumi destroy --stack "$STACK" --yes --skip-preview
	fi
	bash scripts/dataplane.sh stop
	bash scripts/cluster.sh stop
	;;
*)
	echo "usage: scripts/local.sh up|down" >&2
	exit 2
	;;
esac
