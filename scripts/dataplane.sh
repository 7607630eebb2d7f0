#!/usr/bin/env bash
# The local data plane: what makes the `local` stack carry real HTTP traffic on this machine.
#
#   scripts/dataplane.sh install   Debian's containerd, runc and CNI plugins (root; once)
#   scripts/dataplane.sh build     kubelet (with the control plane), Traefik, the demo app's images
#   scripts/dataplane.sh start     containerd + a real kubelet joining the local control plane, the
#                                  images imported, Traefik (Gateway API) on the gateway port, and
#                                  Prometheus scraping the pods (addresses: stagewise/formats/facts.py)
#   scripts/dataplane.sh stop      stop every process it started and undo every change to the host
#                                  (sysctls, iptables chains, mounts, network namespaces, addresses,
#                                  links, directories); safe to run twice
#   scripts/dataplane.sh status    exit 0 only if every part answers
#   scripts/dataplane.sh host-state  print what of the host the data plane may change (for tests)
#
# One node per machine: a kubelet changes host-wide settings. Everything it changes is recorded at
# start (.cluster/node/host-before) and restored by stop. Needs root (containers, mounts, addresses).
set -euo pipefail

LOG_TAG=dataplane
# shellcheck source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

NODE_DIR="$STAGEWISE_ROOT/.cluster/node"
# Runtime files live under /run: unix socket paths are limited to 108 bytes, a checkout's path is not.
RUN_DIR=/run/stagewise-node
CONTAINERD_SOCK="$RUN_DIR/containerd.sock"
NODE_NAME=stagewise-node
# The node's address: not loopback (the kubelet refuses it), a /32 on lo, so that it is reachable
# from this machine only. Pods get addresses from POD_SUBNET on the bridge BRIDGE.
NODE_IP=${STAGEWISE_NODE_IP:-10.213.0.1}
POD_SUBNET=${STAGEWISE_POD_SUBNET:-10.214.0.0/24}
BRIDGE=sw-cni0
CNI_BIN_DIR=/usr/lib/cni
KUBELET_PORT=10250
GATEWAY_ADDRESS=127.0.0.1
GATEWAY_PORT=$FACT_GATEWAY_PORT # the Gateway listener's port too: Traefik's entrypoint must equal it
GATEWAY_CLASS=$FACT_GATEWAY_CLASS
TRAEFIK_ADMIN_PORT=${STAGEWISE_TRAEFIK_ADMIN_PORT:-9000}
PROMETHEUS_HOST=$FACT_PROMETHEUS_HOST
PROMETHEUS_PORT=${STAGEWISE_PROMETHEUS_PORT:-$FACT_PROMETHEUS_PORT} # the local tier's stagewise:analysis.url
NODE_LABEL=$FACT_NODE_LABEL

# The sysctls the kubelet and the CNI bridge set (kubelet: container_manager_linux.go setupKernelTunables;
# bridge plugin: ip forwarding for its gateway). Restored by stop to what start found.
SYSCTLS=(vm.overcommit_memory kernel.panic kernel.panic_on_oops net.ipv4.ip_forward
	net.ipv4.conf.all.forwarding net.bridge.bridge-nf-call-iptables net.ipv4.conf.lo.route_localnet)
# Host directories the kubelet writes even when its root dir is elsewhere; removed by stop unless
# they existed before start.
HOST_DIRS=(/var/lib/kubelet /var/log/pods /var/log/containers /var/lib/cni /etc/cni/net.d /run/netns
	"$RUN_DIR")

PROCESSES=(containerd kubelet traefik prometheus targets)

# What scripts/dataplane/host.py records and compares: the sysctls and the directories above.
HOST_ARGS=()
for _arg in "${SYSCTLS[@]}"; do HOST_ARGS+=(--sysctl "$_arg"); done
HOST_DIR_ARGS=()
for _arg in "${HOST_DIRS[@]}" /run/containerd; do HOST_DIR_ARGS+=(--dir "$_arg"); done
unset _arg

# ---------------------------------------------------------------------------------------------
# install / build
# ---------------------------------------------------------------------------------------------

cmd_install() {
	local missing=()
	command -v containerd >/dev/null || missing+=(containerd)
	command -v runc >/dev/null || missing+=(runc)
	[[ -x $CNI_BIN_DIR/bridge ]] || missing+=(containernetworking-plugins)
	# nft removes the tables the node's first rules made (iptables' nf_tables backend cannot): stop needs it.
	command -v nft >/dev/null || missing+=(nftables)
	if ((${#missing[@]} == 0)); then
		log "containerd, runc and the CNI plugins are installed"
		return 0
	fi
	# Their maintainer scripts would start containerd through the init system: debian_install keeps
	# them from it.
	debian_install "${missing[@]}"
}

build_traefik() {
	local dest src mod logf start=$SECONDS
	dest=$(tool_path traefik)
	if tool_cached traefik; then
		log "traefik $TRAEFIK_VERSION: cached"
		return 0
	fi
	mkdir -p "$CACHE_LOGS" "$CACHE_SRC"
	logf=$CACHE_LOGS/traefik-$TRAEFIK_VERSION.log
	mod=$(go_module Dir "github.com/traefik/traefik/v3@$TRAEFIK_VERSION" 2>"$logf") ||
		die_with_log "$logf" "cannot download github.com/traefik/traefik/v3@$TRAEFIK_VERSION"
	# Its own module as the main module, so that its replace directives apply.
	src=$CACHE_SRC/traefik-$TRAEFIK_VERSION
	rm -rf "$src" && mkdir -p "$src"
	cp -r "$mod"/. "$src"/
	chmod -R u+w "$src"
	run_step "building traefik $TRAEFIK_VERSION (about 8 minutes on 2 cores)" "$logf" \
		env -C "$src" CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS="-mod=mod -buildvcs=false" \
		go build -trimpath -ldflags "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=$TRAEFIK_VERSION" \
		-o "$src/out/traefik" ./cmd/traefik
	install_tool traefik "$src/out/traefik"
	rm -rf "$src"
	log "built traefik $TRAEFIK_VERSION in $((SECONDS - start))s -> $dest"
}

cmd_build() {
	need go "go is not on PATH"
	bash "$STAGEWISE_SCRIPTS/cluster.sh" build
	build_traefik
	bash "$STAGEWISE_SCRIPTS/images.sh" build >/dev/null
}

# ---------------------------------------------------------------------------------------------
# processes: started in the background with a pid file each, stopped by that pid
# ---------------------------------------------------------------------------------------------

pid_file() { echo "$NODE_DIR/pids/$1.pid"; }
log_file() { echo "$NODE_DIR/logs/$1.log"; }

# running NAME: the pid of NAME if its pid file names a live process started from its binary.
running() {
	local pid exe
	pid=$(cat "$(pid_file "$1")" 2>/dev/null) || return 1
	[[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
	exe=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
	[[ $exe == *"$(binary_of "$1")"* ]] || return 1
	echo "$pid"
}

binary_of() {
	case $1 in
	containerd) echo containerd ;;
	kubelet) tool_path kubelet ;;
	traefik) tool_path traefik ;;
	prometheus) echo prometheus ;;
	targets) echo prometheus_targets.py ;;
	esac
}

# launch NAME CMD...: CMD in the background, in a session of its own, its output in the log.
launch() {
	local name=$1
	shift
	if running "$name" >/dev/null; then
		log "$name: already running"
		return 0
	fi
	mkdir -p "$NODE_DIR/pids" "$NODE_DIR/logs"
	setsid "$@" >>"$(log_file "$name")" 2>&1 </dev/null 9>&- &
	echo $! >"$(pid_file "$name")"
	log "$name: started (pid $!, log $(log_file "$name"))"
}

stop_process() {
	local name=$1 pid
	pid=$(running "$name") || {
		rm -f "$(pid_file "$name")"
		return 0
	}
	stop_pids 8 "$pid" || die "$name (pid $pid) did not stop"
	rm -f "$(pid_file "$name")"
	log "$name: stopped (pid $pid)"
}

ctr_() { ctr --address "$CONTAINERD_SOCK" --namespace k8s.io "$@"; }

# ---------------------------------------------------------------------------------------------
# the host: what start may change, recorded before and restored by stop
# ---------------------------------------------------------------------------------------------

# The snapshot, the record and the restore plan are scripts/dataplane/host.py's: it reads the
# commands' output (iptables-save, ip, /proc/mounts, ...) and prints the plan as bash lines, which
# run_plan runs here, in order.
host_py() { python3 "$STAGEWISE_SCRIPTS/dataplane/host.py" "$@"; }

# run_plan LINES: each line a bash command that logs its own failure.
run_plan() {
	local line
	while IFS= read -r line; do
		[[ -n $line ]] || continue
		eval "$line" || log "failed: $line"
	done <<<"$1"
}

# host-state: a snapshot of everything the data plane may change, for a before/after comparison.
cmd_host_state() {
	local p
	host_py snapshot "${HOST_ARGS[@]}" "${HOST_DIR_ARGS[@]}"
	echo "## processes"
	for p in "${PROCESSES[@]}"; do
		if running "$p" >/dev/null; then echo "$p"; fi
	done
	# Every process of these names, ours or not (pgrep prints PIDs, not names).
	# shellcheck disable=SC2009
	ps -eo comm= | grep -xE 'containerd|containerd-shim.*|kubelet|traefik|prometheus|runc' || true
	echo "## listening"
	ss -Htln | awk '{print $4}' | sort
}

record_host() {
	local before=$NODE_DIR/host-before
	if [[ -d $before ]]; then
		log "host changes of an earlier start are still recorded ($before): keeping that record"
		return 0
	fi
	host_py record "$before" "${HOST_ARGS[@]}" "${HOST_DIR_ARGS[@]}" || die "recording the host before start failed"
}

# restore_host: back to the record (sysctls, iptables rules and chains, links, the node address,
# network namespaces, cgroups, directories), then the nft tables the node's first rules made.
restore_host() {
	local before=$NODE_DIR/host-before plan
	[[ -d $before ]] || return 0
	plan=$(host_py plan "$before" --node-ip "$NODE_IP" "${HOST_DIR_ARGS[@]}") || die "planning the host's restore failed"
	run_plan "$plan"
	plan=$(host_py plan-tables "$before") || die "planning the removal of empty nft tables failed"
	run_plan "$plan"
	rm -rf "$before"
}

# unmount_ours: the mounts under the directories the node uses, deepest first.
unmount_ours() {
	local m mounts
	mounts=$(host_py mounts "$NODE_DIR" /var/lib/kubelet /run/netns /run/containerd "$RUN_DIR") ||
		die "listing the node's mounts failed"
	while IFS= read -r m; do
		[[ -n $m ]] || continue
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "could not unmount $m"
	done <<<"$mounts"
}

# ---------------------------------------------------------------------------------------------
# start
# ---------------------------------------------------------------------------------------------

write_configs() {
	mkdir -p "$NODE_DIR/cni/net.d" "$NODE_DIR/kubelet" "$NODE_DIR/containerd/root" "$RUN_DIR" \
		"$NODE_DIR/prometheus/targets"
	# A private CNI conf dir: nothing else's network config is picked up, and nothing of ours is left
	# in the system's. No masquerade and no port mappings: the pods are reached from this machine only,
	# so the plugins add no iptables rule.
	cat >"$NODE_DIR/cni/net.d/10-stagewise.conflist" <<JSON
{
  "cniVersion": "0.4.0",
  "name": "stagewise",
  "plugins": [
    {
      "type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {"type": "host-local", "ranges": [[{"subnet": "$POD_SUBNET"}]], "dataDir": "$RUN_DIR/cni-ipam"}
    }
  ]
}
JSON
	# containerd: its own root, state and sockets. restrict_oom_score_adj: this host denies a negative
	# oom_score_adj (no CAP_SYS_RESOURCE), and runc would fail every sandbox setting -998.
	cat >"$NODE_DIR/containerd.toml" <<TOML
version = 2
root = "$NODE_DIR/containerd/root"
state = "$RUN_DIR/containerd-state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$NODE_DIR/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/stagewise/pause:1"
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_BIN_DIR"
    conf_dir = "$NODE_DIR/cni/net.d"
TOML
	# The kubelet: cgroup v1 (this host's), cgroupfs, no swap check, image garbage collection off (the
	# images are imported, never pulled: a collected image could not come back). It answers on the
	# node address only; the API server reaches it by InternalIP.
	cat >"$NODE_DIR/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
oomScoreAdj: 0
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
imageServiceEndpoint: unix://$CONTAINERD_SOCK
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
maxPods: 40
serializeImagePulls: false
nodeStatusUpdateFrequency: 5s
syncFrequency: 10s
YAML
	cat >"$NODE_DIR/prometheus.yml" <<YAML
# The local data plane's Prometheus: the pods' /metrics (targets kept current from the API by
# scripts/dataplane/prometheus_targets.py; Debian's Prometheus has no Kubernetes discovery) and Traefik.
global:
  scrape_interval: 5s
  evaluation_interval: 5s
scrape_configs:
  - job_name: pods
    file_sd_configs:
      - files: ["$NODE_DIR/prometheus/targets/*.json"]
        refresh_interval: 5s
  - job_name: traefik
    static_configs:
      - targets: ["127.0.0.1:$TRAEFIK_ADMIN_PORT"]
YAML
}

start_containerd() {
	need containerd "containerd is not installed: scripts/dataplane.sh install"
	launch containerd containerd --config "$NODE_DIR/containerd.toml"
	wait_until "containerd answers" 30 ctr --address "$CONTAINERD_SOCK" version ||
		die_with_log "$(log_file containerd)" "containerd did not start"
}

import_images() {
	local dir archive
	dir=$(bash "$STAGEWISE_SCRIPTS/images.sh" dir) || dir=$(bash "$STAGEWISE_SCRIPTS/images.sh" build)
	for archive in "$dir"/*.tar; do
		ctr_ images import --no-unpack=false "$archive" >/dev/null ||
			die "importing $archive into containerd failed"
	done
	log "images: $(ctr_ images ls -q | grep -vc '^sha256:') in containerd (none pulled)"
}

real_node_ready() {
	[[ "$(kc get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" == True ]]
}

start_kubelet() {
	[[ " $(ip -o addr show dev lo) " == *" $NODE_IP/32 "* ]] || ip addr add "$NODE_IP/32" dev lo
	launch kubelet "$(tool_path kubelet)" --config "$NODE_DIR/kubelet.yaml" --kubeconfig "$KUBECONFIG_PATH" \
		--root-dir "$NODE_DIR/kubelet" --cert-dir "$NODE_DIR/kubelet/pki" --hostname-override "$NODE_NAME" \
		--node-ip "$NODE_IP" --node-labels "$NODE_LABEL" --v=1
	wait_until "node $NODE_NAME Ready" 120 real_node_ready || die_with_log "$(log_file kubelet)" "the kubelet's node did not become Ready"
}

start_gateway() {
	kc apply --server-side --field-manager=stagewise-dataplane -f - >/dev/null <<YAML || die "creating GatewayClass $GATEWAY_CLASS failed"
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: $GATEWAY_CLASS
  labels: {$FACT_PART_OF_LABEL: $FACT_PART_OF}
spec:
  controllerName: traefik.io/gateway-controller
  description: Traefik on this machine, $GATEWAY_ADDRESS:$GATEWAY_PORT
YAML
	# Its Gateway provider reads KUBECONFIG. Routes go to the EndpointSlices' pod addresses (there is
	# no kube-proxy, so no ClusterIP). The listener port of every Gateway must equal the entrypoint's.
	launch traefik env KUBECONFIG="$KUBECONFIG_PATH" "$(tool_path traefik)" \
		--entryPoints.web.address="$GATEWAY_ADDRESS:$GATEWAY_PORT" \
		--entryPoints.admin.address="127.0.0.1:$TRAEFIK_ADMIN_PORT" \
		--ping=true --ping.entryPoint=admin \
		--metrics.prometheus=true --metrics.prometheus.entryPoint=admin \
		--metrics.prometheus.addServicesLabels=true --metrics.prometheus.addRoutersLabels=true \
		--providers.kubernetesgateway=true \
		--providers.kubernetesgateway.statusAddress.ip="$GATEWAY_ADDRESS" \
		--log.level=INFO --global.checkNewVersion=false --global.sendAnonymousUsage=false
	wait_until "traefik answers" 60 curl -fsS "http://127.0.0.1:$TRAEFIK_ADMIN_PORT/ping" ||
		die_with_log "$(log_file traefik)" "traefik did not start"
}

start_prometheus() {
	local bin_dir
	bin_dir=$(bash "$STAGEWISE_SCRIPTS/prometheus.sh")
	launch targets python3 "$STAGEWISE_SCRIPTS/dataplane/prometheus_targets.py" --kubectl "$(tool_path kubectl)" \
		--kubeconfig "$KUBECONFIG_PATH" --selector "$FACT_POD_SELECTOR" --node "$NODE_NAME" \
		--out "$NODE_DIR/prometheus/targets/pods.json"
	launch prometheus "$bin_dir/prometheus" --config.file="$NODE_DIR/prometheus.yml" \
		--storage.tsdb.path="$NODE_DIR/prometheus/data" --storage.tsdb.retention.time=7d \
		--web.listen-address="$PROMETHEUS_HOST:$PROMETHEUS_PORT"
	wait_until "prometheus ready" 60 curl -fsS "http://$PROMETHEUS_HOST:$PROMETHEUS_PORT/-/ready" ||
		die_with_log "$(log_file prometheus)" "prometheus did not start"
}

cmd_start() {
	local start=$SECONDS
	[[ $(id -u) -eq 0 ]] || die "the data plane needs root (containers, mounts, the node address)"
	bash "$STAGEWISE_SCRIPTS/cluster.sh" start
	cmd_install
	mkdir -p "$NODE_DIR"
	exec 9>"$NODE_DIR/lock"
	flock -w 300 9 || die "another dataplane.sh start/stop holds $NODE_DIR/lock"
	record_host
	write_configs
	start_containerd
	import_images
	start_kubelet
	start_gateway
	start_prometheus
	log "data plane ready in $((SECONDS - start))s: gateway http://$GATEWAY_ADDRESS:$GATEWAY_PORT, prometheus http://$PROMETHEUS_HOST:$PROMETHEUS_PORT"
}

# ---------------------------------------------------------------------------------------------
# stop
# ---------------------------------------------------------------------------------------------

# The node's containers: killed and deleted through containerd (the kubelet is already gone, so
# nothing restarts them), then the sandboxes' network namespaces and mounts are removed by restore_host.
remove_containers() {
	local id
	running containerd >/dev/null || return 0
	for id in $(ctr_ tasks ls -q 2>/dev/null); do
		ctr_ tasks kill --signal SIGKILL "$id" >/dev/null 2>&1 || true
	done
	for id in $(ctr_ tasks ls -q 2>/dev/null); do
		wait_until "task $id stopped" 10 bash -c "! ctr --address '$CONTAINERD_SOCK' -n k8s.io tasks ls | grep -q '^$id .*RUNNING'" || true
		ctr_ tasks delete --force "$id" >/dev/null 2>&1 || true
	done
	for id in $(ctr_ containers ls -q 2>/dev/null); do
		ctr_ containers delete "$id" >/dev/null 2>&1 || true
	done
}

cmd_stop() {
	mkdir -p "$NODE_DIR"
	exec 9>"$NODE_DIR/lock"
	flock -w 120 9 || log "lock $NODE_DIR/lock still held after 120s: stopping anyway"
	stop_process targets
	stop_process prometheus
	stop_process traefik
	stop_process kubelet
	remove_containers
	stop_process containerd
	# Shims outlive containerd when a task could not be deleted: they belong to this node's socket.
	pkill -KILL -f "containerd-shim-runc-v2 .*-address $CONTAINERD_SOCK" 2>/dev/null || true
	unmount_ours
	restore_host
	unmount_ours
	log "data plane stopped; the host is as it was before start"
}

cmd_status() {
	local p ok=0
	for p in "${PROCESSES[@]}"; do
		if running "$p" >/dev/null; then echo "$p: running"; else
			echo "$p: NOT running"
			ok=1
		fi
	done
	((ok == 0)) && real_node_ready && curl -fsS "http://127.0.0.1:$TRAEFIK_ADMIN_PORT/ping" >/dev/null &&
		curl -fsS "http://$PROMETHEUS_HOST:$PROMETHEUS_PORT/-/ready" >/dev/null
}

main() {
	local cmd=${1:-}
	shift || true
	case $cmd in
	install) cmd_install "$@" ;;
	build) cmd_build "$@" ;;
	build-traefik) build_traefik ;;
	start) cmd_start "$@" ;;
	stop) cmd_stop "$@" ;;
	status) cmd_status "$@" ;;
	host-state) cmd_host_state "$@" ;;
	*)
		sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
		[[ -z $cmd || $cmd == help || $cmd == -h || $cmd == --help ]] || die "unknown command: $cmd"
		;;
	esac
}

main "$@"
exit $?
