#!/usr/bin/env bash
# End-to-end: the way a user works, with real processes only.
#  1. `go install` the CLI into a temporary GOBIN; no checkout is used after that.
#  2. In a temporary folder outside the repository, init a project and build it
#     offline (GOPROXY=off), then delete the project: the executable is all
#     that remains.
#  3. Debian's etcd and etcdctl: put/del move traffic between loopback backends,
#     an invalid value is ignored, an etcd outage keeps the last good URL, a
#     restarted etcd is followed again, a late etcd is picked up.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null || ! command -v curl >/dev/null; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "[e2e] installing Debian's etcd-server, etcd-client and curl"
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends etcd-server etcd-client curl >/dev/null
	fi
fi
for c in etcd etcdctl go curl; do command -v "$c" >/dev/null || { echo "e2e: $c is not installed; install Debian's etcd-server, etcd-client and curl (as root: apt-get install etcd-server etcd-client curl)"; exit 1; }; done

work=$(mktemp -d /tmp/micro-gw-e2e.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
log() { printf '\n[e2e] %s\n' "$*"; }
fail() { printf '[e2e] FAIL: %s\n' "$*"; for f in "$work"/*.log; do echo "--- $f"; tail -n 30 "$f"; done; exit 1; }

log "installing the CLI and the test tool into $work/bin"
GOBIN="$work/bin" go install -C "$repo" ./cmd/micro-gw ./tests/e2e/e2etool
export PATH="$work/bin:$PATH"
tool=e2etool

# Backends: default (the URL compiled in), blue and green.
for b in default blue green; do
	"$tool" backend "$b" "$work/$b.addr" & pids+=($!)
done
for b in default blue green; do
	for _ in $(seq 100); do [ -s "$work/$b.addr" ] && break; sleep 0.05; done
done
def=$(cat "$work/default.addr"); blue=$(cat "$work/blue.addr"); green=$(cat "$work/green.addr")

log "init + offline build outside the repository"
mkdir -p "$work/home"
cat > "$work/petstore.yaml" <<YAML
openapi: 3.0.3
info: {title: Petstore, version: 1.0.0}
x-wso2-basePath: /petstore/v1
x-wso2-production-endpoints:
  urls:
    - etcd (petstore, http://$def/v2)
paths:
  /pet/{petId}:
    get:
      parameters: [{name: petId, in: path, required: true, schema: {type: integer}}]
      responses: {'200': {description: ok}}
YAML
(
	cd "$work/home"
	micro-gw init shop -a "$work/petstore.yaml"
	GOPROXY=off GOFLAGS=-mod=readonly micro-gw build shop
)
mv "$work/home/shop/target/shop" "$work/gateway"
rm -rf "$work/home/shop"
log "project folder deleted; running $work/gateway alone"

etcd_client=$("$tool" freeport); etcd_peer=$("$tool" freeport)
start_etcd() { # $1: data dir
	etcd --name e2e --data-dir "$1" \
		--listen-client-urls "http://127.0.0.1:$etcd_client" --advertise-client-urls "http://127.0.0.1:$etcd_client" \
		--listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
		--initial-cluster "e2e=http://127.0.0.1:$etcd_peer" >>"$work/etcd.log" 2>&1 &
	etcd_pid=$!; pids+=($etcd_pid)
	"$tool" wait "http://127.0.0.1:$etcd_client/health" 20 || fail "etcd did not start"
}
ctl() { ETCDCTL_API=3 etcdctl --endpoints="http://127.0.0.1:$etcd_client" --dial-timeout=3s "$@" >/dev/null; }

http_port=$("$tool" freeport); admin_port=$("$tool" freeport)
gw="http://127.0.0.1:$http_port"
log "gateway starts BEFORE etcd (late etcd must be picked up)"
"$work/gateway" --etcdurl="http://127.0.0.1:$etcd_client" --etcdtimer=10000 --http-port="$http_port" \
	--https-port=0 --admin-port="$admin_port" >>"$work/gateway.log" 2>&1 & gw_pid=$!; pids+=($gw_pid)
"$tool" wait "$gw/health" 10 || fail "gateway did not become healthy"
[ "$("$tool" get "$gw/petstore/v1/pet/1")" = default ] || fail "expected the default backend before etcd exists"

start_etcd "$work/etcd-data"
ctl put petstore "http://$blue/v2"
ms=$("$tool" until "$gw/petstore/v1/pet/1" blue 20) || fail "late etcd was not picked up"
log "late etcd picked up; put -> blue in ${ms} ms (includes reconnect backoff)"

ctl put petstore "http://$green/v2"
ms=$("$tool" until "$gw/petstore/v1/pet/1" green 5) || fail "put not followed"
log "etcdctl put petstore http://$green/v2 -> green in ${ms} ms"

ctl put petstore "not a url"
sleep 0.3
[ "$("$tool" get "$gw/petstore/v1/pet/1")" = green ] || fail "an invalid value replaced the good one"
grep -q 'not a url' "$work/gateway.log" || fail "the invalid value was not logged"
log "invalid value ignored and logged; still green"

ctl del petstore
ms=$("$tool" until "$gw/petstore/v1/pet/1" default 5) || fail "delete did not fall back to the default"
log "etcdctl del petstore -> default in ${ms} ms"

ctl put petstore "http://$blue/v2"
"$tool" until "$gw/petstore/v1/pet/1" blue 5 >/dev/null || fail "put not followed"
log "stopping etcd: the last good URL (blue) must stay"
kill "$etcd_pid"; wait "$etcd_pid" 2>/dev/null || true
sleep 1
[ "$("$tool" get "$gw/petstore/v1/pet/1")" = blue ] || fail "etcd outage changed the route"
curl -fsS "http://127.0.0.1:$admin_port/status" >"$work/status.json" || fail "admin /status not served"
grep -q '"petstore"' "$work/status.json" || fail "/status does not show the key"

log "restarting etcd with the same data, then changing the key"
start_etcd "$work/etcd-data"
ctl put petstore "http://$green/v2"
ms=$("$tool" until "$gw/petstore/v1/pet/1" green 20) || fail "restarted etcd was not followed"
log "after restart: put -> green in ${ms} ms (includes reconnect)"

log "graceful stop"
kill -TERM "$gw_pid"
wait "$gw_pid" || fail "gateway did not exit 0 on SIGTERM"
log "PASS"
