#!/usr/bin/env bash
# make bench: issue 4's six measurements and issue 10's build scaling, on
# 127.0.0.1 only, in one run.
# Prints a markdown report and writes it to bench/results/latest.md.
#
# Knobs (environment), defaults in brackets:
#   BENCH_DURATION [10s]   wrk duration per round (section 1)
#   BENCH_ROUNDS   [3]     rounds per target, targets alternated (section 1)
#   BENCH_CONNS    [64]    wrk connections (section 1)
#   BENCH_LAYOUTS  [shared split]  CPU layouts of section 1 (see there)
#   BENCH_CHANGES  [200]   etcd changes (section 2)
#   BENCH_STARTS   [20]    starts per startup case (section 4)
#   BENCH_STREAM_MB [1024] MB streamed each way (section 5)
#   BENCH_WARM_RUNS [10], BENCH_COLD_RUNS [1]   builds timed (section 3)
#   BENCH_GO_COUNT [3]     go test -count for the benchmarks (section 6)
#   BENCH_SCALE_*          section 7, see bench/scaling.sh
#   MICROGW [bin/micro-gw] the CLI to build with (built when missing)
#
# `bash bench/run.sh build-scaling` (make bench-build) runs only section 7
# and puts it into bench/results/latest.md in place of the previous one,
# leaving the other sections as they are.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
export PATH="$PATH:/usr/sbin:/sbin"

# splice_section SECTION REPORT: REPORT with its "## 7. Build scaling"
# section replaced by the file SECTION (inserted before "## Summary" when
# REPORT has none).
splice_section() {
	local section=$1 report=$2 tmp
	tmp=$(mktemp)
	touch "$report"
	awk -v f="$section" '
		function put() { while ((getline l < f) > 0) print l; close(f); done = 1 }
		/^## / { skip = 0 }
		/^## 7\. Build scaling/ { skip = 1; if (!done) put(); next }
		/^## Summary/ && !done { put() }
		!skip { print }
		END { if (!done) put() }
	' "$report" >"$tmp"
	mv "$tmp" "$report"
}

if [ "${1:-}" = build-scaling ]; then
	command -v go >/dev/null || { echo "[bench] FAIL: go is not installed" >&2; exit 1; }
	section=$(mktemp)
	trap 'rm -f "$section" "$section.summary"' EXIT
	bash bench/scaling.sh "$section"
	mkdir -p bench/results
	splice_section "$section" bench/results/latest.md
	cat "$section"
	echo "[bench] section 7 written into bench/results/latest.md" >&2
	exit 0
elif [ $# -gt 0 ]; then
	echo "usage: bash bench/run.sh [build-scaling]" >&2
	exit 2
fi

DURATION=${BENCH_DURATION:-10s}
ROUNDS=${BENCH_ROUNDS:-3}
CONNS=${BENCH_CONNS:-64}
CHANGES=${BENCH_CHANGES:-200}
STARTS=${BENCH_STARTS:-20}
STREAM_MB=${BENCH_STREAM_MB:-1024}
WARM_RUNS=${BENCH_WARM_RUNS:-10}
COLD_RUNS=${BENCH_COLD_RUNS:-1}
GO_COUNT=${BENCH_GO_COUNT:-3}
CPUS_WRK="" CPUS_BACKEND="" CPUS_PROXY="" # set per CPU layout in section 1
MICROGW=${MICROGW:-$repo/bin/micro-gw}

say() { printf '[bench] %s\n' "$*" >&2; }
die() { say "FAIL: $*"; exit 1; }

# --- tools -------------------------------------------------------------------
missing=()
for t in wrk:wrk nginx:nginx-light hyperfine:hyperfine etcd:etcd-server jq:jq curl:curl taskset:util-linux; do
	command -v "${t%%:*}" >/dev/null 2>&1 || missing+=("${t#*:}")
done
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || die "missing packages ${missing[*]}: install them (apt-get install -y ${missing[*]}) or run as root"
	say "installing ${missing[*]}"
	apt-get update -qq
	# nginx-light left Debian after bookworm; plain nginx is the same server
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]/nginx-light/nginx}" >/dev/null
fi
command -v go >/dev/null || die "go is not installed"

work=$(mktemp -d /tmp/micro-gw-bench.XXXXXX)
chmod 755 "$work" # nginx workers may run as another user
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

report="$work/report.md"
cmds="$work/commands.md"
out() { printf '%s\n' "$*" >>"$report"; }
note_cmd() { printf '    %s\n' "$*" >>"$cmds"; }
# pin LIST CMD...: CMD under taskset when LIST is set.
pin() {
	local cpus=$1
	shift
	if [ -n "$cpus" ]; then taskset -c "$cpus" "$@"; else "$@"; fi
}
# spawn LIST CMD... &: like pin, but the background job's pid is CMD's own pid
# (exec), so that kill and /proc/PID reach the program itself.
spawn() {
	local cpus=$1
	shift
	if [ -n "$cpus" ]; then exec taskset -c "$cpus" "$@"; else exec "$@"; fi
}
pin_text() { [ -n "$1" ] && printf 'taskset -c %s ' "$1"; true; }
# median of the numbers on stdin (mean of the two middle ones for an even count)
median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "NaN"; exit} if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN {if (b+0 == 0) print "NaN"; else printf "%.2f", a/b}'; }
kv() { tr ' ' '\n' <<<"$2" | awk -F= -v k="$1" '$1==k {print $2}'; } # kv KEY "k=v k=v"
rss_kb() { awk -v f="$2" '$1==f":" {print $2}' "/proc/$1/status"; } # rss_kb PID VmRSS|VmHWM
mb() { awk -v k="$1" 'BEGIN {printf "%.1f", k/1024}'; }

# --- helpers built for this run ------------------------------------------------
say "building bench/benchtool"
go build -o "$work/benchtool" ./bench/benchtool
tool="$work/benchtool"
if [ ! -x "$MICROGW" ]; then
	say "building the CLI into $MICROGW"
	go build -o "$MICROGW" ./cmd/micro-gw
fi

start_backend() { # NAME -> sets backend_addr (host:port)
	spawn "$CPUS_BACKEND" "$tool" backend -name "$1" -addr-file "$work/$1.addr" >>"$work/backend-$1.log" 2>&1 &
	pids+=($!)
	local _
	for _ in $(seq 200); do [ -s "$work/$1.addr" ] && break; sleep 0.02; done
	[ -s "$work/$1.addr" ] || die "backend $1 did not start"
	backend_addr=$(cat "$work/$1.addr")
}

gwflags=(--bind 127.0.0.1 --https-port 0 --admin-port 0 --log-level warn)
start_gateway() { # LOGNAME PORT EXTRA_FLAGS... -> sets gw_pid
	local name=$1 port=$2
	shift 2
	spawn "$CPUS_PROXY" "$gw" "${gwflags[@]}" --http-port "$port" "$@" >>"$work/$name.log" 2>&1 &
	gw_pid=$!
	pids+=($gw_pid)
	"$tool" wait "http://127.0.0.1:$port/health" 20 || { tail -n 20 "$work/$name.log" >&2; die "gateway $name did not start"; }
}

machine_load() { cut -d' ' -f1-3 /proc/loadavg; }
cpu_stat() { awk '$1=="cpu" {print $2+$3+$4+$5+$6+$7+$8+$9, $9}' /proc/stat; } # "total steal" jiffies
# steal_pct "TOTAL0 STEAL0": share of CPU time the hypervisor gave to others since then
steal_pct() { read -r t1 s1 <<<"$(cpu_stat)"; awk -v a="$1" -v t="$t1" -v s="$s1" 'BEGIN {split(a, x, " "); if (t == x[1]) print "0.0"; else printf "%.1f", 100 * (s - x[2]) / (t - x[1])}'; }

# --- report header -------------------------------------------------------------
out "# micro-gw benchmark"
out ""
out "| machine | |"
out "|---|---|"
out "| date | $(date -u '+%Y-%m-%d %H:%M UTC') |"
out "| commit | $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- pkg cmd templates 2>/dev/null || echo ' (with uncommitted changes)') |"
out "| nproc | $(nproc) |"
out "| CPU | $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo) |"
out "| memory | $(awk '/^MemTotal/ {printf "%.1f GB", $2/1048576}' /proc/meminfo) |"
out "| kernel | $(uname -r) |"
out "| Go | $(go version | cut -d' ' -f3-) |"
out "| nginx | $(nginx -v 2>&1 | sed 's/^nginx version: //') |"
out "| wrk | $(wrk --version 2>&1 | head -n1 | cut -d' ' -f2) |"
out "| etcd | $(etcd --version 2>/dev/null | head -n1 | sed 's/^etcd Version: //') |"
out "| load average at start (1/5/15 min) | $(machine_load) |"
out ""

# --- section 1: proxy throughput and latency -----------------------------------
# Two CPU layouts, each a full set of alternated rounds:
#   shared: nothing pinned; wrk, backend and proxy share every CPU; the
#           gateway's GOMAXPROCS and nginx's worker_processes are nproc.
#   split:  wrk and the backend on CPU 0, the proxy alone on the other CPUs
#           (GOMAXPROCS = worker_processes = nproc-1); on 2 cores each proxy
#           gets one dedicated core, the issue's "nginx, 1 worker" setup.
# In both, nginx and the gateway get exactly the same CPU set.
say "1. proxy throughput: backend, gateway build, nginx"
start_backend a
backend=$(cat "$work/a.addr")
backend_pid=${pids[-1]}
all_cpus=$(taskset -p -c $$ | awk -F': ' '{print $2}')
ncpu=$(nproc)
read -r -a layouts <<<"${BENCH_LAYOUTS:-shared split}"
for l in "${layouts[@]}"; do [[ $l == shared || $l == split ]] || die "BENCH_LAYOUTS: unknown layout $l (shared, split)"; done
if [ "$ncpu" -lt 2 ]; then layouts=(shared); fi
[[ " ${layouts[*]} " == *" shared "* ]] || die "BENCH_LAYOUTS must include shared (sections 5 and the summary use it)"
load_s1_start=$(machine_load)
stat_s1_start=$(cpu_stat)

mkdir -p "$work/proj"
cp -r bench/project "$work/proj/bench"
rm -rf "$work/proj/bench/target"
sed -i "s#127\.0\.0\.1:18080#$backend#" "$work/proj/bench/api_definitions/"*.yaml
(cd "$work/proj" && "$MICROGW" build bench) >"$work/build-bench.log" 2>&1 || { cat "$work/build-bench.log" >&2; die "micro-gw build of bench/project failed"; }
gw="$work/proj/bench/target/bench"
note_cmd "benchtool backend -name a   # 127.0.0.1:random; $backend in this run"
note_cmd "cp -r bench/project \$TMP/bench; sed -i 's#127.0.0.1:18080#$backend#' \$TMP/bench/api_definitions/*.yaml; cd \$TMP && $MICROGW build bench"
wrk_cmd=(wrk -t1 -c"$CONNS" -d"$DURATION" --latency)
targets=(direct nginx gateway)
declare -A url

# sample_rss FILE PIDS...: max summed VmRSS (kB) every 200 ms into FILE until killed
sample_rss() {
	local f=$1 max=0 s p
	shift
	while :; do
		s=0
		for p in "$@"; do s=$((s + $(rss_kb "$p" VmRSS 2>/dev/null || echo 0))); done
		[ "$s" -gt "$max" ] && max=$s && echo "$max" >"$f"
		sleep 0.2
	done
}
# cpu_ticks PIDS...: user+system CPU time of the processes, in clock ticks
cpu_ticks() {
	local s=0 p
	for p; do s=$((s + $(sed 's/.*) //' "/proc/$p/stat" | awk '{print $12+$13}'))); done
	echo "$s"
}
clk_tck=$(getconf CLK_TCK)
to_ms() { awk '{v=$1; u=v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v); if (u=="us") v/=1000; else if (u=="s") v*=1000; else if (u=="m") v*=60000; printf "%.3f\n", v}'; }
# run_wrk LAYOUT TARGET ROUND: results into $work/s1/LAYOUT-{rps,p50,p99}-TARGET-ROUND
run_wrk() {
	local l=$1 t=$2 r=$3 sp="" tp
	local o="$work/s1/$l-wrk-$t-$r.txt"
	case $t in # pids whose RSS is sampled: nginx is its master and workers, summed
	gateway) tp=$gw_pid ;;
	nginx) tp="$ngx_pid $(pgrep -P "$ngx_pid" | tr '\n' ' ')" ;;
	*) tp="" ;;
	esac
	if [ -n "$tp" ]; then
		# shellcheck disable=SC2086 # a list of pids
		sample_rss "$work/s1/$l-rss-$t-$r" $tp &
		sp=$!
		pids+=($sp)
	fi
	# shellcheck disable=SC2086 # a list of pids
	[ -n "$tp" ] && c0=$(cpu_ticks $tp)
	pin "$CPUS_WRK" "${wrk_cmd[@]}" "${url[$t]}" >"$o" 2>&1 || { cat "$o" >&2; die "wrk against $t failed"; }
	if [ -n "$tp" ]; then
		# shellcheck disable=SC2086 # a list of pids
		c1=$(cpu_ticks $tp)
		awk -v c=$((c1 - c0)) -v hz="$clk_tck" '/ requests in / {printf "%.1f\n", c / hz * 1e6 / $1}' "$o" >"$work/s1/$l-cpu-$t-$r"
	fi
	if [ -n "$sp" ]; then
		kill "$sp" 2>/dev/null || true
		wait "$sp" 2>/dev/null || true
	fi
	if grep -q 'Non-2xx\|Socket errors' "$o"; then
		echo "$l $t round $r: $(grep 'Non-2xx\|Socket errors' "$o" | tr -s ' ' | tr '\n' ' ')" >>"$work/s1/warnings"
		say "warning: $(tail -n1 "$work/s1/warnings")"
	fi
	awk '/^Requests\/sec:/ {print $2}' "$o" >"$work/s1/$l-rps-$t-$r"
	awk '$1=="50%" {print $2}' "$o" | to_ms >"$work/s1/$l-p50-$t-$r"
	awk '$1=="99%" {print $2}' "$o" | to_ms >"$work/s1/$l-p99-$t-$r"
	say "   $l round $r $t: $(cat "$work/s1/$l-rps-$t-$r") req/s, p50 $(cat "$work/s1/$l-p50-$t-$r") ms, p99 $(cat "$work/s1/$l-p99-$t-$r") ms$([ -z "$tp" ] || echo ", proxy CPU $(cat "$work/s1/$l-cpu-$t-$r") µs/req")"
}
mkdir -p "$work/s1"
declare -A med_rps med_p50 med_p99 med_cpu tp_ratio p99_ratio cpu_ratio procs_of
for layout in "${layouts[@]}"; do
	if [ "$layout" = split ]; then
		CPUS_WRK=0 CPUS_BACKEND=0 CPUS_PROXY=1
		[ "$ncpu" -gt 2 ] && CPUS_PROXY=1-$((ncpu - 1))
	else
		CPUS_WRK="" CPUS_BACKEND="" CPUS_PROXY=""
	fi
	taskset -a -p -c "${CPUS_BACKEND:-$all_cpus}" "$backend_pid" >/dev/null
	procs=$(pin "$CPUS_PROXY" "$tool" gomaxprocs)
	procs_of[$layout]=$procs
	say "   layout $layout: wrk on ${CPUS_WRK:-any CPU}, backend on ${CPUS_BACKEND:-any CPU}, proxy on ${CPUS_PROXY:-any CPU}, GOMAXPROCS = worker_processes = $procs"
	note_cmd "# layout $layout: backend re-pinned with taskset -a -p -c ${CPUS_BACKEND:-$all_cpus} PID"

	gw_port=$("$tool" freeport)
	start_gateway "gateway-$layout" "$gw_port"
	note_cmd "$(pin_text "$CPUS_PROXY")\$TMP/bench/target/bench ${gwflags[*]} --http-port $gw_port"

	ngx="$work/nginx-$layout"
	mkdir -p "$ngx"
	ngx_port=$("$tool" freeport)
	sed -e "s#@DIR@#$ngx#g" -e "s#@WORKERS@#$procs#g" -e "s#@PORT@#$ngx_port#g" -e "s#@UPSTREAM@#$backend#g" \
		bench/nginx.conf.tmpl >"$ngx/nginx.conf"
	spawn "$CPUS_PROXY" nginx -p "$ngx" -c "$ngx/nginx.conf" -e "$ngx/error.log" >>"$work/nginx.log" 2>&1 &
	ngx_pid=$!
	pids+=($ngx_pid)
	"$tool" wait "http://127.0.0.1:$ngx_port/bench/pets" 20 || { cat "$ngx/error.log" >&2; die "nginx did not start"; }
	note_cmd "$(pin_text "$CPUS_PROXY")nginx -p \$TMP/nginx-$layout -c \$TMP/nginx-$layout/nginx.conf -e \$TMP/nginx-$layout/error.log   # bench/nginx.conf.tmpl, worker_processes $procs"

	url=([direct]="http://$backend/pets" [nginx]="http://127.0.0.1:$ngx_port/bench/pets" [gateway]="http://127.0.0.1:$gw_port/bench/pets")
	size=$(curl -s "${url[gateway]}" | wc -c)
	[ "$size" = "$(curl -s "${url[direct]}" | wc -c)" ] && [ "$size" = "$(curl -s "${url[nginx]}" | wc -c)" ] ||
		die "the three targets answer different bodies"
	note_cmd "$(pin_text "$CPUS_WRK")${wrk_cmd[*]} URL   # URL: ${url[direct]}, ${url[nginx]}, ${url[gateway]}"

	say "   warm-up: 2 s per target"
	for t in "${targets[@]}"; do pin "$CPUS_WRK" wrk -t1 -c"$CONNS" -d2s "${url[$t]}" >/dev/null 2>&1 || die "warm-up against $t failed"; done
	for r in $(seq "$ROUNDS"); do
		# rotate the order each round so no target always follows the same one
		for i in 0 1 2; do run_wrk "$layout" "${targets[$(((i + r - 1) % 3))]}" "$r"; done
	done
	rss_kb "$gw_pid" VmHWM >"$work/s1/$layout-hwm-gateway"
	kill "$gw_pid" "$ngx_pid"
	wait "$gw_pid" "$ngx_pid" 2>/dev/null || true

	for t in "${targets[@]}"; do
		med_rps[$layout-$t]=$(cat "$work/s1/$layout"-rps-"$t"-* | median)
		med_p50[$layout-$t]=$(cat "$work/s1/$layout"-p50-"$t"-* | median)
		med_p99[$layout-$t]=$(cat "$work/s1/$layout"-p99-"$t"-* | median)
		med_cpu[$layout-$t]=-
		[ "$t" = direct ] || med_cpu[$layout-$t]=$(cat "$work/s1/$layout"-cpu-"$t"-* | median)
	done
	cpu_ratio[$layout]=$(div "${med_cpu[$layout-gateway]}" "${med_cpu[$layout-nginx]}")
	tp_ratio[$layout]=$(div "${med_rps[$layout-gateway]}" "${med_rps[$layout-nginx]}")
	p99_ratio[$layout]=$(div "${med_p99[$layout-gateway]}" "${med_p99[$layout-nginx]}")
done
taskset -a -p -c "$all_cpus" "$backend_pid" >/dev/null
CPUS_WRK="" CPUS_BACKEND="" CPUS_PROXY="" # every later section runs unpinned
load_s1_end=$(machine_load)
steal_s1=$(steal_pct "$stat_s1_start")

out "## 1. Proxy throughput and latency"
out ""
out "\`wrk -t1 -c$CONNS -d$DURATION --latency\`, $size-byte JSON answer from one fasthttp backend (bench/benchtool), $ROUNDS rounds per target after a 2 s warm-up each, targets alternated (order rotated every round); medians over the rounds. "proxy CPU" is the user+system CPU time the proxy process(es) used during the round (/proc/PID/stat; nginx: master + workers) divided by the requests wrk completed: the proxy's cost per request, much less sensitive to other load on the machine than req/s. CPU layouts: **shared** = nothing pinned, GOMAXPROCS = nginx worker_processes = ${procs_of[shared]}; **split** = wrk and backend pinned to CPU 0, nginx and the gateway each pinned alone to the other CPU(s), GOMAXPROCS = worker_processes = ${procs_of[split]:-n/a}."
out ""
out "| layout | target | req/s | p50 ms | p99 ms | proxy CPU µs/req | req/s per round |"
out "|---|---|---|---|---|---|---|"
for layout in "${layouts[@]}"; do
	for t in "${targets[@]}"; do
		out "| $layout | $t | $(printf '%.0f' "${med_rps[$layout-$t]}") | ${med_p50[$layout-$t]} | ${med_p99[$layout-$t]} | ${med_cpu[$layout-$t]} | $(for r in $(seq "$ROUNDS"); do printf '%.0f ' "$(cat "$work/s1/$layout-rps-$t-$r")"; done) |"
	done
done
out ""
out "| ratio | $(printf '%s | ' "${layouts[@]}")goal | floor |"
out "|---|$(printf -- '---|%.0s' "${layouts[@]}")---|---|"
row() { # LABEL FUNCTION
	local l s=""
	for l in "${layouts[@]}"; do s+="$($2 "$l") | "; done
	out "| $1 | $s$3 |"
}
r_tp() { echo "**${tp_ratio[$1]}**"; }
r_p99() { echo "**${p99_ratio[$1]}**"; }
r_gd() { div "${med_rps[$1-gateway]}" "${med_rps[$1-direct]}"; }
r_nd() { div "${med_rps[$1-nginx]}" "${med_rps[$1-direct]}"; }
row "gateway/nginx throughput" r_tp "≥ 1.0 | ≥ 0.8"
row "gateway/nginx p99" r_p99 "≤ 1.1 |"
r_cpu() { echo "${cpu_ratio[$1]}"; }
row "gateway/nginx CPU per request" r_cpu " |"
row "gateway/direct throughput" r_gd " |"
row "nginx/direct throughput" r_nd " |"
out ""
out "Load average before/after this section: $load_s1_start / $load_s1_end. CPU steal (time the hypervisor gave to other guests) during this section: $steal_s1 %."
if [ -s "$work/s1/warnings" ]; then
	out ""
	out "**wrk reported errors** (these rounds count failed requests in req/s):"
	out ""
	while read -r w; do out "- $w"; done <"$work/s1/warnings"
fi
out ""

# --- section 2: discovery propagation --------------------------------------------
say "2. discovery propagation over $CHANGES changes"
start_backend b
backend_b=$backend_addr
etcd_port=$("$tool" freeport)
etcd_peer=$("$tool" freeport)
etcd_url="http://127.0.0.1:$etcd_port"
etcd --name bench --data-dir "$work/etcd" \
	--listen-client-urls "$etcd_url" --advertise-client-urls "$etcd_url" \
	--listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
	--initial-cluster "bench=http://127.0.0.1:$etcd_peer" >>"$work/etcd.log" 2>&1 &
pids+=($!)
"$tool" wait "$etcd_url/health" 20 || { tail -n 20 "$work/etcd.log" >&2; die "etcd did not start"; }
note_cmd "etcd --name bench --data-dir \$TMP/etcd --listen-client-urls $etcd_url --advertise-client-urls $etcd_url --listen-peer-urls http://127.0.0.1:$etcd_peer --initial-advertise-peer-urls http://127.0.0.1:$etcd_peer --initial-cluster bench=http://127.0.0.1:$etcd_peer"

disc_port=$("$tool" freeport)
start_gateway gateway-etcd "$disc_port" --etcdurl "$etcd_url" --etcdtimer 10000
disc_pid=$gw_pid
note_cmd "$(pin_text "$CPUS_PROXY")\$TMP/bench/target/bench ${gwflags[*]} --http-port $disc_port --etcdurl $etcd_url --etcdtimer 10000"
prop_cmd=("$tool" propagate -etcd "$etcd_url" -key micro-gw-bench -url "http://127.0.0.1:$disc_port/disc/pets"
	-a "a=http://$backend" -b "b=http://$backend_b" -n "$CHANGES")
note_cmd "benchtool propagate -etcd $etcd_url -key micro-gw-bench -url http://127.0.0.1:$disc_port/disc/pets -a a=http://$backend -b b=http://$backend_b -n $CHANGES"
prop=$("${prop_cmd[@]}") || die "discovery propagation failed"
say "   $prop"
kill "$disc_pid"
wait "$disc_pid" 2>/dev/null || true

out "## 2. Discovery propagation"
out ""
out "Gateway with \`etcd(micro-gw-bench, ...)\` against Debian's etcd; $CHANGES puts (Go etcd client) alternating between two backends; each measured from just before the put to the first response through the gateway from the new backend (gateway polled back to back)."
out ""
out "| | median ms | p90 ms | p99 ms | max ms | goal |"
out "|---|---|---|---|---|---|"
out "| put → routed | $(kv median_ms "$prop") | $(kv p90_ms "$prop") | **$(kv p99_ms "$prop")** | $(kv max_ms "$prop") | p99 ≤ 50 ms |"
out "| of which the put itself | $(kv put_median_ms "$prop") | $(kv put_p90_ms "$prop") | $(kv put_p99_ms "$prop") | $(kv put_max_ms "$prop") | |"
out ""

# --- section 3: build -------------------------------------------------------------
say "3. build: cold ($COLD_RUNS run) and warm ($WARM_RUNS runs)"
mkdir -p "$work/build"
cp -r examples/petstore-project "$work/build/petstore"
rm -rf "$work/build/petstore/target"
def="$work/build/petstore/api_definitions/petstore.yaml"
build_cmd="cd $work/build && $MICROGW build petstore >/dev/null"
hyperfine --style none --runs "$COLD_RUNS" --prepare "rm -rf $work/gocache-cold" \
	--export-json "$work/cold.json" "cd $work/build && GOCACHE=$work/gocache-cold $MICROGW build petstore >/dev/null" >/dev/null ||
	die "cold build failed"
note_cmd "hyperfine --runs $COLD_RUNS --prepare 'rm -rf \$TMP/gocache-cold' 'cd \$TMP/build && GOCACHE=\$TMP/gocache-cold $MICROGW build petstore'   # petstore = a copy of examples/petstore-project"
hyperfine --style none --warmup 1 --runs "$WARM_RUNS" --prepare "touch $def" \
	--export-json "$work/warm.json" "$build_cmd" >/dev/null || die "warm build failed"
note_cmd "hyperfine --warmup 1 --runs $WARM_RUNS --prepare 'touch \$TMP/build/petstore/api_definitions/petstore.yaml' 'cd \$TMP/build && $MICROGW build petstore'"
hf() { jq -r ".results[0].$2" "$work/$1.json" | awk '{printf "%.2f", $1}'; }
out "## 3. Build"
out ""
out "\`micro-gw build\` of a copy of examples/petstore-project. Cold: empty GOCACHE, warm module cache. Warm: after touching the definition."
out ""
out "| build | runs | median s | min s | max s | goal |"
out "|---|---|---|---|---|---|"
out "| cold | $COLD_RUNS | **$(hf cold median)** | $(hf cold min) | $(hf cold max) | ≤ 60 s |"
out "| warm | $WARM_RUNS | **$(hf warm median)** | $(hf warm min) | $(hf warm max) | ≤ 2 s |"
out ""

# --- section 4: startup -------------------------------------------------------------
say "4. startup, $STARTS starts each"
st_plain=$("$tool" startup -n "$STARTS" -- "$gw" "${gwflags[@]}" --http-port '{port}') || die "startup without etcd failed"
st_etcd=$("$tool" startup -n "$STARTS" -- "$gw" "${gwflags[@]}" --http-port '{port}' --etcdurl "$etcd_url") || die "startup with etcd failed"
note_cmd "benchtool startup -n $STARTS -- \$TMP/bench/target/bench ${gwflags[*]} --http-port {port} [--etcdurl $etcd_url]"
out "## 4. Startup"
out ""
out "Exec to the first 200 from \`GET /health\` (polled every 0.2 ms), $STARTS starts each, the bench project's gateway (2 APIs, one etcd endpoint)."
out ""
out "| case | median ms | p90 ms | max ms | goal |"
out "|---|---|---|---|---|"
out "| no etcd configured | **$(kv median_ms "$st_plain")** | $(kv p90_ms "$st_plain") | $(kv max_ms "$st_plain") | ≤ 50 ms |"
out "| etcd reachable | **$(kv median_ms "$st_etcd")** | $(kv p90_ms "$st_etcd") | $(kv max_ms "$st_etcd") | ≤ 50 ms |"
out ""

# --- section 5: memory ----------------------------------------------------------------
say "5. memory: idle, under load, streaming $STREAM_MB MB each way"
idle_rss() { # EXTRA_FLAGS... -> sets idle_kb, idle_hwm_kb of a fresh gateway after 100 requests and 1 s
	local port
	port=$("$tool" freeport)
	start_gateway gateway-idle "$port" "$@"
	"$tool" get -n 100 "http://127.0.0.1:$port/bench/pets" || die "requests to the idle gateway failed"
	sleep 1
	idle_kb=$(rss_kb "$gw_pid" VmRSS)
	idle_hwm_kb=$(rss_kb "$gw_pid" VmHWM)
	kill "$gw_pid"
	wait "$gw_pid" 2>/dev/null || true
}
idle_rss
idle_plain=$idle_kb idle_plain_hwm=$idle_hwm_kb
idle_rss --etcdurl "$etcd_url"
idle_etcd=$idle_kb
gw_load_max=$(cat "$work"/s1/shared-rss-gateway-* | sort -g | tail -n1)
gw_hwm_load=$(cat "$work/s1/shared-hwm-gateway")
ngx_load_max=$(cat "$work"/s1/shared-rss-nginx-* | sort -g | tail -n1)

st_port=$("$tool" freeport)
start_gateway gateway-stream "$st_port"
"$tool" get -n 10 "http://127.0.0.1:$st_port/bench/pets" || die "requests to the streaming gateway failed"
bytes=$((STREAM_MB * 1048576))
up=$("$tool" stream -up "http://127.0.0.1:$st_port/bench/upload" -bytes "$bytes") || die "upload through the gateway failed"
hwm_up=$(rss_kb "$gw_pid" VmHWM)
down=$("$tool" stream -down "http://127.0.0.1:$st_port/bench/download" -bytes "$bytes") || die "download through the gateway failed"
hwm_down=$(rss_kb "$gw_pid" VmHWM)
kill "$gw_pid"
wait "$gw_pid" 2>/dev/null || true
note_cmd "benchtool get -n 100 http://127.0.0.1:PORT/bench/pets; sleep 1; VmRSS from /proc/PID/status (fresh gateway, with and without --etcdurl)"
note_cmd "benchtool stream -up http://127.0.0.1:PORT/bench/upload -bytes $bytes; benchtool stream -down http://127.0.0.1:PORT/bench/download -bytes $bytes; VmHWM after each"
out "## 5. Memory"
out ""
out "RSS from /proc/PID/status. Idle: a fresh gateway after 100 requests and 1 s. Under load: the largest VmRSS sampled every 200 ms during section 1's wrk rounds in the shared layout (nginx: master + workers summed). Streaming: a fresh gateway, $STREAM_MB MB uploaded (POST, Content-Length) then downloaded, every byte counted at the other end."
out ""
out "| case | MB | goal |"
out "|---|---|---|"
out "| gateway idle, VmRSS (no etcd) | **$(mb "$idle_plain")** (VmHWM $(mb "$idle_plain_hwm")) | ≤ 20 MB |"
out "| gateway idle, VmRSS (etcd reachable) | $(mb "$idle_etcd") | |"
out "| gateway under wrk -c$CONNS, max VmRSS | $(mb "$gw_load_max") (VmHWM $(mb "$gw_hwm_load")) | |"
out "| nginx under wrk -c$CONNS, max VmRSS | $(mb "$ngx_load_max") | |"
out "| gateway after $STREAM_MB MB upload, VmHWM | **$(mb "$hwm_up")** ($(kv mb_per_s "$up") MB/s) | < 64 MB |"
out "| gateway after $STREAM_MB MB download too, VmHWM | **$(mb "$hwm_down")** ($(kv mb_per_s "$down") MB/s) | < 64 MB |"
out ""

# --- section 6: routing scale and allocations -------------------------------------------
say "6. go test benchmarks (router lookup, proxy allocations)"
go test -run '^$' -bench 'Lookup' -benchmem -count "$GO_COUNT" ./pkg/gateway/router/ >"$work/router-bench.txt" 2>&1 ||
	{ cat "$work/router-bench.txt" >&2; die "router benchmarks failed"; }
go test -run '^$' -bench 'Proxy' -benchmem -count "$GO_COUNT" ./pkg/gateway/proxy/ >"$work/proxy-bench.txt" 2>&1 ||
	{ cat "$work/proxy-bench.txt" >&2; die "proxy benchmarks failed"; }
note_cmd "go test -run '^\$' -bench Lookup -benchmem -count $GO_COUNT ./pkg/gateway/router/"
note_cmd "go test -run '^\$' -bench Proxy -benchmem -count $GO_COUNT ./pkg/gateway/proxy/"
# bench_col FILE NAME UNIT: median of the value before UNIT on NAME's lines
bench_col() { awk -v n="$2" -v u="$3" '$1==n {for (i=2; i<=NF; i++) if ($i==u) print $(i-1)}' "$1" | median; }
out "## 6. Routing scale and allocations"
out ""
out "\`go test -bench -benchmem -count $GO_COUNT\`, medians."
out ""
out "| benchmark | ns/op | B/op | allocs/op |"
out "|---|---|---|---|"
mapfile -t names < <(awk '/^Benchmark/ {print $1}' "$work/router-bench.txt" "$work/proxy-bench.txt" | awk '!seen[$0]++')
[ ${#names[@]} -gt 0 ] || die "no benchmark results in section 6"
for n in "${names[@]}"; do
	f="$work/router-bench.txt"
	grep -q "^$n[[:space:]]" "$f" || f="$work/proxy-bench.txt"
	out "| $n | $(bench_col "$f" "$n" ns/op) | $(bench_col "$f" "$n" B/op) | $(bench_col "$f" "$n" allocs/op) |"
done
small=$(awk '$1 ~ /^BenchmarkLookup\/routes=10-[0-9]+$/' "$work/router-bench.txt" | head -n1 | awk '{print $1}')
large=$(awk '$1 ~ /^BenchmarkLookup\/routes=10000-[0-9]+$/' "$work/router-bench.txt" | head -n1 | awk '{print $1}')
[ -n "$small" ] && [ -n "$large" ] || die "BenchmarkLookup/routes=10 and routes=10000 not found"
out ""
out "| ratio | value | goal |"
out "|---|---|---|"
out "| lookup 10,000 routes / 10 routes | **$(div "$(bench_col "$work/router-bench.txt" "$large" ns/op)" "$(bench_col "$work/router-bench.txt" "$small" ns/op)")** | ≤ 2 |"
out ""

# --- section 7: build scaling -----------------------------------------------------------
bash bench/scaling.sh "$work/scaling.md" || die "build scaling failed"
cat "$work/scaling.md" >>"$report"
scale=$(cat "$work/scaling.md.summary")

# --- footer -----------------------------------------------------------------------
out "## Summary"
out ""
out "| goal | measured |"
out "|---|---|"
for layout in "${layouts[@]}"; do
	out "| proxy throughput ≥ 1.0× nginx (floor 0.8×), $layout layout | ${tp_ratio[$layout]}× |"
	out "| proxy p99 ≤ 1.1× nginx, $layout layout | ${p99_ratio[$layout]}× |"
done
out "| discovery p99 ≤ 50 ms | $(kv p99_ms "$prop") ms |"
out "| warm build ≤ 2 s, cold ≤ 60 s | $(hf warm median) s, $(hf cold median) s |"
out "| startup ≤ 50 ms (no etcd / etcd) | $(kv median_ms "$st_plain") ms / $(kv median_ms "$st_etcd") ms |"
out "| idle RSS ≤ 20 MB | $(mb "$idle_plain") MB |"
out "| streaming peak RSS < 64 MB | $(mb "$hwm_down") MB |"
out "| loading definitions: Stripe-sized < 1 s, $(kv last_ops "$scale") operations < 10 s | $(kv stripe_s "$scale") s, $(kv last_s "$scale") s |"
out ""
out "Load average at the end (1/5/15 min): $(machine_load). The figures are only comparable within one run: other work on the machine slows every target."
out ""
out "## Commands"
out ""
out "\$TMP is this run's temporary folder; ports are random free loopback ports."
out ""
cat "$cmds" >>"$report"

mkdir -p bench/results
cp "$report" bench/results/latest.md
cat "$report"
say "written to bench/results/latest.md"
