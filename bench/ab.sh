#!/usr/bin/env bash
# bench/ab.sh: an interleaved A/B run of gateway executables on the same
# route, the rule for every performance change (issue 14): no change lands
# unless this shows its gain.
#
#   bash bench/ab.sh URLPATH NAME=EXECUTABLE NAME=EXECUTABLE ...
#
# Each EXECUTABLE is a gateway built from bench/project (micro-gw build)
# whose backend is the benchtool backend at $AB_BACKEND (host:port; see
# below). Layout "split": wrk and the backend on CPU 0, each gateway alone
# on CPU 1 with GOMAXPROCS 1. Every round runs wrk once against each
# variant, the order rotated each round; the table gives medians over the
# rounds of req/s, p99 and the gateway's CPU time per request (user+system
# from /proc/PID/stat over the round, divided by the requests wrk
# completed), and each variant's ratios to the first.
#
# Knobs: AB_ROUNDS [5], AB_DURATION [5s], AB_CONNS [64], AB_FLAGS [extra
# gateway flags], AB_ENV [extra environment for the gateways, "K=V K=V"],
# AB_LAYOUT [split; or shared: nothing pinned, GOMAXPROCS = cores]. A
# variant written NAME=EXECUTABLE@K=V,K=V gets that environment as well.
#
# A typical use, B being a build of the change:
#   benchtool backend -name a -addr-file /tmp/be.addr &   # on CPU 0: taskset -c 0
#   cp -r bench/project /tmp/p/bench; sed -i "s#127.0.0.1:18080#$(cat /tmp/be.addr)#" /tmp/p/bench/api_definitions/*.yaml
#   (cd /tmp/p && micro-gw build bench) && cp /tmp/p/bench/target/bench /tmp/A   # then B from the change
#   benchtool issuer /tmp/p   # the key file the gateways trust
#   AB_ISSUER_DIR=/tmp/p bash bench/ab.sh /bench/pets A=/tmp/A B=/tmp/B
set -euo pipefail
[ $# -ge 3 ] || { sed -n 2,27p "$0" >&2; exit 2; }
path=$1
shift
ROUNDS=${AB_ROUNDS:-5}
DURATION=${AB_DURATION:-5s}
CONNS=${AB_CONNS:-64}
ISSUER_DIR=${AB_ISSUER_DIR:?AB_ISSUER_DIR: the folder benchtool issuer wrote dev-issuer.pem into}
read -r -a extra_flags <<<"${AB_FLAGS:-}"
read -r -a extra_env <<<"${AB_ENV:-}"
tick=$(getconf CLK_TCK)

names=() pids=() ports=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
LAYOUT=${AB_LAYOUT:-split}
case $LAYOUT in
split) gw_pin=(taskset -c 1) wrk_pin=(taskset -c 0) gw_env=(GOMAXPROCS=1) ;;
shared) gw_pin=() wrk_pin=() gw_env=() ;;
*) echo "AB_LAYOUT: split or shared" >&2; exit 2 ;;
esac
for arg in "$@"; do
	name=${arg%%=*} exe=${arg#*=}
	own_env=()
	if [[ $exe == *@* ]]; then
		IFS=, read -r -a own_env <<<"${exe#*@}"
		exe=${exe%%@*}
	fi
	port=$(freeport)
	env "${gw_env[@]}" "${extra_env[@]}" "${own_env[@]}" "${gw_pin[@]}" "$exe" --bind 127.0.0.1 --https-port 0 --admin-port 0 --log-level warn \
		--jwt-issuer=https://micro-gw.dev/throwaway-issuer "--jwt-cert=$ISSUER_DIR/dev-issuer.pem" \
		--http-port "$port" --metrics=false "${extra_flags[@]}" >"/tmp/ab-$name.log" 2>&1 &
	pids+=($!) names+=("$name") ports+=("$port")
done
for i in "${!names[@]}"; do
	for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:${ports[$i]}/health" && break; sleep 0.05; done
	"${wrk_pin[@]}" wrk -t1 "-c$CONNS" -d2s "http://127.0.0.1:${ports[$i]}$path" >/dev/null
done

cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
declare -A rps p99 cpr
n=${#names[@]}
for r in $(seq "$ROUNDS"); do
	for k in $(seq 0 $((n - 1))); do
		i=$(((k + r) % n))
		c0=$(cpu "${pids[$i]}")
		out=$("${wrk_pin[@]}" wrk -t1 "-c$CONNS" "-d$DURATION" --latency "http://127.0.0.1:${ports[$i]}$path")
		c1=$(cpu "${pids[$i]}")
		reqs=$(awk '/requests in/ {print $1}' <<<"$out")
		rps[${names[$i]}]+="$(awk '/Requests\/sec/ {print $2}' <<<"$out") "
		p99[${names[$i]}]+="$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) v=v/1000; else if (v ~ /ms$/) v=v+0; else if (v ~ /s$/) v=v*1000; print v}' <<<"$out") "
		cpr[${names[$i]}]+="$(awk -v a="$c0" -v b="$c1" -v t="$tick" -v q="$reqs" 'BEGIN {printf "%.2f", (b-a)/t*1e6/q}') "
	done
	echo "[ab] round $r done" >&2
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
echo "| variant | req/s | p99 ms | gateway CPU µs/req | req/s ratio | p99 ratio | CPU/req ratio | req/s per round |"
echo "|---|---|---|---|---|---|---|---|"
base=${names[0]}
b_rps=$(median <<<"${rps[$base]}") b_p99=$(median <<<"${p99[$base]}") b_cpr=$(median <<<"${cpr[$base]}")
for name in "${names[@]}"; do
	m_rps=$(median <<<"${rps[$name]}") m_p99=$(median <<<"${p99[$name]}") m_cpr=$(median <<<"${cpr[$name]}")
	echo "| $name | $m_rps | $m_p99 | $m_cpr | $(awk -v a="$m_rps" -v b="$b_rps" 'BEGIN {printf "%.3f", a/b}') | $(awk -v a="$m_p99" -v b="$b_p99" 'BEGIN {printf "%.2f", a/b}') | $(awk -v a="$m_cpr" -v b="$b_cpr" 'BEGIN {printf "%.3f", a/b}') | ${rps[$name]}|"
done
echo ""
case $LAYOUT in
split) layout_text="split layout (wrk and backend on CPU 0, each gateway alone on CPU 1, GOMAXPROCS 1)" ;;
shared) layout_text="shared layout (nothing pinned, GOMAXPROCS = $(nproc) cores)" ;;
esac
echo "$ROUNDS interleaved rounds of \`wrk -t1 -c$CONNS -d$DURATION --latency\` on $path, $layout_text; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
