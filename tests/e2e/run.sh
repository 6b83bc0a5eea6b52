#!/usr/bin/env bash
# End-to-end: the way a user works, with real processes only.
#  1. `go install` the CLI into a temporary GOBIN; no checkout is used after that.
#  2. In a temporary folder outside the repository, init a project and build it
#     offline (GOPROXY=off), then delete the project: the executable is all
#     that remains.
#  3. Debian's etcd and etcdctl: put/del move traffic between loopback backends,
#     an invalid value is ignored, an etcd outage keeps the last good URL, a
#     restarted etcd is followed again, a late etcd is picked up.
#
# No port is picked free and used later, where someone else could take it:
# backends and etcd listen on port 0 and report what they got. The gateway is
# given etcd's address before etcd starts, so that address is a relay that
# holds its port and refuses connections until etcd is there. The gateway's
# flags cannot ask for port 0 (0 turns a listener off): its ports are picked
# free, and a start that finds one taken is retried. Nothing sleeps to wait:
# every wait polls what it waits for, with a bound.
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
# The definition declares no security, so, as in micro-gw 3.x, it needs an
# OAuth2 bearer token: a throwaway issuer signs one.
E2E_TOKEN=$("$tool" issuer "$work" e2e-token-1) || fail "could not make a throwaway issuer"
export E2E_TOKEN

# etcd's clients use the relay's address; the relay forwards to whatever
# address $work/etcd.target names, and refuses while it names none.
"$tool" relay "$work/relay.addr" "$work/etcd.target" & pids+=($!)
for _ in $(seq 100); do [ -s "$work/relay.addr" ] && break; sleep 0.05; done
etcd_url="http://$(cat "$work/relay.addr")"
etcd_runs=0
start_etcd() { # $1: data dir
	etcd_runs=$((etcd_runs + 1))
	local elog="$work/etcd.$etcd_runs.log"
	etcd --name e2e --data-dir "$1" \
		--listen-client-urls http://127.0.0.1:0 --advertise-client-urls http://127.0.0.1:0 \
		--listen-peer-urls http://127.0.0.1:0 --initial-advertise-peer-urls http://127.0.0.1:0 \
		--initial-cluster e2e=http://127.0.0.1:0 >"$elog" 2>&1 &
	etcd_pid=$!; pids+=($etcd_pid)
	local line
	line=$("$tool" waitlog "$elog" 'serving insecure client requests on ' 20 "$etcd_pid") || fail "etcd did not start"
	line=${line##*requests on }
	echo "${line%%,*}" >"$work/etcd.target.new" && mv "$work/etcd.target.new" "$work/etcd.target"
	"$tool" wait "$etcd_url/health" 20 || fail "etcd did not answer through the relay"
}
stop_etcd() { # cut etcd's connections and refuse new ones, as a killed etcd does
	: >"$work/etcd.target"
	kill "$etcd_pid"; wait "$etcd_pid" 2>/dev/null || true
}
ctl() { ETCDCTL_API=3 etcdctl --endpoints="$etcd_url" --dial-timeout=3s "$@" >/dev/null; }

start_gateway() {
	local attempt
	for attempt in 1 2 3; do
		http_port=$("$tool" freeport); admin_port=$("$tool" freeport)
		"$work/gateway" --etcdurl="$etcd_url" --etcdtimer=10000 --http-port="$http_port" \
			--https-port=0 --admin-port="$admin_port" \
			--jwt-issuer=https://micro-gw.dev/throwaway-issuer --jwt-cert="$work/dev-issuer.pem" >"$work/gateway.log" 2>&1 & gw_pid=$!
		if "$tool" waitlog "$work/gateway.log" 'gateway started' 20 "$gw_pid" >/dev/null; then
			pids+=($gw_pid)
			gw="http://127.0.0.1:$http_port"; admin="http://127.0.0.1:$admin_port"
			return
		fi
		kill "$gw_pid" 2>/dev/null || true; wait "$gw_pid" 2>/dev/null || true
		grep -q 'address already in use' "$work/gateway.log" || fail "gateway did not start"
		mv "$work/gateway.log" "$work/gateway.port-taken.$attempt.log"
	done
	fail "gateway did not start: its ports were taken three times"
}

log "gateway starts BEFORE etcd (late etcd must be picked up)"
start_gateway
[ "$("$tool" get "$gw/petstore/v1/pet/1")" = default ] || fail "expected the default backend before etcd exists"

start_etcd "$work/etcd-data"
ctl put petstore "http://$blue/v2"
ms=$("$tool" until "$gw/petstore/v1/pet/1" blue 20) || fail "late etcd was not picked up"
log "late etcd picked up; put -> blue in ${ms} ms (includes reconnect backoff)"

ctl put petstore "http://$green/v2"
ms=$("$tool" until "$gw/petstore/v1/pet/1" green 5) || fail "put not followed"
log "etcdctl put petstore http://$green/v2 -> green in ${ms} ms"

ctl put petstore "not a url"
# Once /status shows the value rejected, the gateway has handled it.
"$tool" waitfor "$admin/status" '"value": "not a url"' 10 || fail "the invalid value was not rejected"
[ "$("$tool" get "$gw/petstore/v1/pet/1")" = green ] || fail "an invalid value replaced the good one"
grep -q 'not a url' "$work/gateway.log" || fail "the invalid value was not logged"
log "invalid value ignored and logged; still green"

ctl del petstore
ms=$("$tool" until "$gw/petstore/v1/pet/1" default 5) || fail "delete did not fall back to the default"
log "etcdctl del petstore -> default in ${ms} ms"

ctl put petstore "http://$blue/v2"
"$tool" until "$gw/petstore/v1/pet/1" blue 5 >/dev/null || fail "put not followed"
log "stopping etcd: the last good URL (blue) must stay"
stop_etcd
# Once /status shows etcd disconnected, the gateway has seen the outage.
"$tool" waitfor "$admin/status" '"connected": false' 10 || fail "the gateway did not notice etcd's outage"
[ "$("$tool" get "$gw/petstore/v1/pet/1")" = blue ] || fail "etcd outage changed the route"
curl -fsS "$admin/status" >"$work/status.json" || fail "admin /status not served"
grep -q '"petstore"' "$work/status.json" || fail "/status does not show the key"

log "restarting etcd with the same data, then changing the key"
start_etcd "$work/etcd-data"
ctl put petstore "http://$green/v2"
ms=$("$tool" until "$gw/petstore/v1/pet/1" green 20) || fail "restarted etcd was not followed"
log "after restart: put -> green in ${ms} ms (includes reconnect)"

log "security: a request without a token is refused; a jti revoked in etcd is refused"
[ "$(E2E_TOKEN= "$tool" status "$gw/petstore/v1/pet/1")" = 401 ] || fail "a request without a token was not refused with 401"
lease=$(ETCDCTL_API=3 etcdctl --endpoints="$etcd_url" --dial-timeout=3s lease grant 3600 | awk '{print $2}')
[ -n "$lease" ] || fail "etcdctl lease grant gave no lease"
ctl put --lease="$lease" micro-gw/revoked/e2e-token-1 revoked
ms=$("$tool" untilstatus "$gw/petstore/v1/pet/1" 401 5) || fail "the revoked token was still accepted"
log "etcdctl put micro-gw/revoked/<jti> -> token refused in ${ms} ms"
ctl del micro-gw/revoked/e2e-token-1
"$tool" untilstatus "$gw/petstore/v1/pet/1" 200 5 >/dev/null || fail "the token stayed refused after its revocation was deleted"

log "graceful stop"
kill -TERM "$gw_pid"
wait "$gw_pid" || fail "gateway did not exit 0 on SIGTERM"
log "PASS"
