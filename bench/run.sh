#!/usr/bin/env bash
# make bench: issue 4's six measurements, issue 14's comparison with nginx and
# HAProxy (plain route and full pipeline), the feature costs of issues 10-13,
# tail latency during a change, and issue 10's build scaling, on 127.0.0.1
# only, in one run.
# Prints a markdown report and writes it to bench/results/latest.md.
#
# Knobs (environment), defaults in brackets:
#   BENCH_DURATION [10s]   wrk duration per round (sections 1, 1b, 2b)
#   BENCH_ROUNDS   [3]     rounds per target, targets alternated (sections 1, 1b, 2b)
#   BENCH_CONNS    [64]    wrk connections (sections 1, 1b, 2b)
#   BENCH_LAYOUTS  [shared split]  CPU layouts of section 1 (see there)
#   BENCH_COST_LAYOUT [split]      CPU layout of section 1b
#   BENCH_STOP_AFTER [unset]  "2b": stop after section 2b and print the report
#                          without writing bench/results/latest.md (quick runs)
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
for t in wrk:wrk nginx:nginx-light haproxy:haproxy hyperfine:hyperfine etcd:etcd-server jq:jq curl:curl taskset:util-linux; do
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

# Every gateway of the run trusts a throwaway JWT issuer (the project has
# OAuth2 APIs, which refuse to start without one); jwt_token is its one
# token, kept out of the report.
jwt_token=$("$tool" issuer "$work") || die "benchtool issuer failed"
gwflags=(--bind 127.0.0.1 --https-port 0 --admin-port 0 --log-level warn
	--jwt-issuer=https://micro-gw.dev/throwaway-issuer "--jwt-cert=$work/dev-issuer.pem")
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
out "| HAProxy | $(haproxy -v 2>&1 | head -n1 | awk '{print $3}') |"
out "| wrk | $(wrk --version 2>&1 | head -n1 | cut -d' ' -f2) |"
out "| etcd | $(etcd --version 2>/dev/null | head -n1 | sed 's/^etcd Version: //') |"
out "| load average at start (1/5/15 min) | $(machine_load) |"
out ""

# --- section 1: proxy throughput and latency -----------------------------------
# Two CPU layouts, each a full set of alternated rounds:
#   shared: nothing pinned; wrk, backend and proxy share every CPU; the
#           gateway's GOMAXPROCS, nginx's worker_processes and HAProxy's
#           nbthread are nproc.
#   split:  wrk and the backend on CPU 0, the proxy alone on the other CPUs
#           (GOMAXPROCS = worker_processes = nbthread = nproc-1); on 2 cores
#           each proxy gets one dedicated core, the issue's "nginx, 1 worker"
#           and "nbthread 1" setup.
# In both, nginx, HAProxy and the gateway get exactly the same CPU set.
# The gateway is measured twice, as two processes of the same executable:
# "gateway" on the plain route (open, no tier, metrics off) and
# "gateway-full" on issue 14's full pipeline (JWT with a cached token, a
# tier far above the load, metrics on, access logs off).
say "1. proxy throughput: backend, gateway build, nginx, HAProxy"
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
note_cmd "benchtool issuer \$TMP   # throwaway issuer: \$TMP/dev-issuer.pem for --jwt-cert, prints \$TOKEN (PRODUCTION, app bench)"
# Metrics (issue 13) are on by default once they exist: the plain route's
# gateway turns them off, the full pipeline's turns them on, with an admin
# listener to serve them.
gw_plain=() gw_full=()
has_metrics=false
if "$gw" --help 2>&1 | grep -q -- '^  -metrics$'; then
	has_metrics=true
	gw_plain=(--metrics=false)
	gw_full=(--metrics=true --admin-port "$("$tool" freeport)")
fi
has_tracing=false
"$gw" --help 2>&1 | grep -q -- '^  -otlp-endpoint' && has_tracing=true
wrk_cmd=(wrk -t1 -c"$CONNS" -d"$DURATION" --latency)
auth_hdr="Authorization: Bearer $jwt_token"
post_body='{"name":"rex","status":"available","tags":["dog","good","brown"]}'
# post.lua: the small JSON POST of the validation rows (section 1b)
cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '@BODY@'
LUA
sed -i "s#@BODY@#$post_body#" "$work/post.lua"
declare -A url hdr lua tpids

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
# wrk_for TARGET DURATION: the wrk command line for TARGET (its URL, header, script)
wrk_for() {
	local t=$1 d=$2
	local c=(wrk -t1 -c"$CONNS" -d"$d" --latency)
	[ -n "${hdr[$t]:-}" ] && c+=(-H "${hdr[$t]}")
	[ -n "${lua[$t]:-}" ] && c+=(-s "${lua[$t]}")
	printf '%s\0' "${c[@]}" "${url[$t]}"
}
# run_wrk DIR TARGET ROUND: results into DIR/{rps,p50,p99,cpu,rss}-TARGET-ROUND;
# CPU and RSS of the pids in tpids[TARGET] (none for the direct backend)
run_wrk() {
	local d=$1 t=$2 r=$3 sp="" tp=${tpids[$2]:-} c0=0 c1
	local o="$d/$t.wrk.$r.txt" cmd
	mapfile -d '' -t cmd < <(wrk_for "$t" "$DURATION")
	if [ -n "$tp" ]; then
		# shellcheck disable=SC2086 # a list of pids
		sample_rss "$d/$t.rss.$r" $tp &
		sp=$!
		pids+=($sp)
		# shellcheck disable=SC2086 # a list of pids
		c0=$(cpu_ticks $tp)
	fi
	pin "$CPUS_WRK" "${cmd[@]}" >"$o" 2>&1 || { cat "$o" >&2; die "wrk against $t failed"; }
	if [ -n "$tp" ]; then
		# shellcheck disable=SC2086 # a list of pids
		c1=$(cpu_ticks $tp)
		awk -v c=$((c1 - c0)) -v hz="$clk_tck" '/ requests in / {printf "%.1f\n", c / hz * 1e6 / $1}' "$o" >"$d/$t.cpu.$r"
	fi
	if [ -n "$sp" ]; then
		kill "$sp" 2>/dev/null || true
		wait "$sp" 2>/dev/null || true
	fi
	if grep -q 'Non-2xx\|Socket errors' "$o"; then
		echo "$(basename "$d") $t round $r: $(grep 'Non-2xx\|Socket errors' "$o" | tr -s ' ' | tr '\n' ' ')" >>"$work/warnings"
		say "warning: $(tail -n1 "$work/warnings")"
	fi
	awk '/^Requests\/sec:/ {print $2}' "$o" >"$d/$t.rps.$r"
	awk '$1=="50%" {print $2}' "$o" | to_ms >"$d/$t.p50.$r"
	awk '$1=="99%" {print $2}' "$o" | to_ms >"$d/$t.p99.$r"
	say "   $(basename "$d") round $r $t: $(cat "$d/$t.rps.$r") req/s, p50 $(cat "$d/$t.p50.$r") ms, p99 $(cat "$d/$t.p99.$r") ms$([ -z "$tp" ] || echo ", proxy CPU $(cat "$d/$t.cpu.$r") µs/req")"
}
# interleave DIR TARGETS...: a 2 s warm-up per target, then ROUNDS rounds,
# the order rotated every round so no target always follows the same one;
# medians into med_{rps,p50,p99,cpu}[DIR-TARGET]
declare -A med_rps med_p50 med_p99 med_cpu
interleave() {
	local d=$1 t r i cmd
	shift
	local ts=("$@") n=$#
	mkdir -p "$d"
	say "   warm-up: 2 s per target"
	for t in "${ts[@]}"; do
		mapfile -d '' -t cmd < <(wrk_for "$t" 2s)
		pin "$CPUS_WRK" "${cmd[@]}" >/dev/null 2>&1 || die "warm-up against $t failed"
	done
	for r in $(seq "$ROUNDS"); do
		for i in $(seq 0 $((n - 1))); do run_wrk "$d" "${ts[$(((i + r - 1) % n))]}" "$r"; done
	done
	local k=$(basename "$d")
	for t in "${ts[@]}"; do
		med_rps[$k-$t]=$(cat "$d"/"$t".rps.* | median)
		med_p50[$k-$t]=$(cat "$d"/"$t".p50.* | median)
		med_p99[$k-$t]=$(cat "$d"/"$t".p99.* | median)
		med_cpu[$k-$t]=-
		[ -z "${tpids[$t]:-}" ] || med_cpu[$k-$t]=$(cat "$d"/"$t".cpu.* | median)
	done
}
# same_body T1 T2...: every target answers 200 and the same number of body
# bytes (a target with a wrk script is sent the POST of post.lua)
same_body() {
	local t size="" s c
	for t; do
		c=(curl -s -f)
		[ -n "${hdr[$t]:-}" ] && c+=(-H "${hdr[$t]}")
		[ -n "${lua[$t]:-}" ] && c+=(-H 'Content-Type: application/json' -d "$post_body")
		s=$("${c[@]}" "${url[$t]}" | wc -c)
		[ -z "$size" ] && size=$s
		[ "$s" = "$size" ] || die "$t answers $s bytes, ${1} $size: the targets must answer the same body"
	done
	echo "$size"
}
targets=(direct nginx haproxy gateway gateway-full)
declare -A tp_ratio p99_ratio cpu_ratio procs_of
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
	say "   layout $layout: wrk on ${CPUS_WRK:-any CPU}, backend on ${CPUS_BACKEND:-any CPU}, proxy on ${CPUS_PROXY:-any CPU}, GOMAXPROCS = worker_processes = nbthread = $procs"
	note_cmd "# layout $layout: backend re-pinned with taskset -a -p -c ${CPUS_BACKEND:-$all_cpus} PID"

	gw_port=$("$tool" freeport)
	start_gateway "gateway-$layout" "$gw_port" "${gw_plain[@]}"
	gwp_pid=$gw_pid
	note_cmd "$(pin_text "$CPUS_PROXY")\$TMP/bench/target/bench ${gwflags[*]/$work/\$TMP} --http-port $gw_port ${gw_plain[*]}"
	gwf_port=$("$tool" freeport)
	start_gateway "gateway-full-$layout" "$gwf_port" "${gw_full[@]}"
	gwf_pid=$gw_pid
	note_cmd "$(pin_text "$CPUS_PROXY")\$TMP/bench/target/bench ${gwflags[*]/$work/\$TMP} --http-port $gwf_port ${gw_full[*]}   # full pipeline"

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

	hap_port=$("$tool" freeport)
	sed -e "s#@THREADS@#$procs#g" -e "s#@PORT@#$hap_port#g" -e "s#@UPSTREAM@#$backend#g" \
		bench/haproxy.cfg.tmpl >"$work/haproxy-$layout.cfg"
	spawn "$CPUS_PROXY" haproxy -db -f "$work/haproxy-$layout.cfg" >>"$work/haproxy.log" 2>&1 &
	hap_pid=$!
	pids+=($hap_pid)
	"$tool" wait "http://127.0.0.1:$hap_port/bench/pets" 20 || { tail -n 20 "$work/haproxy.log" >&2; die "haproxy did not start"; }
	note_cmd "$(pin_text "$CPUS_PROXY")haproxy -db -f \$TMP/haproxy-$layout.cfg   # bench/haproxy.cfg.tmpl, nbthread $procs"

	url=([direct]="http://$backend/pets" [nginx]="http://127.0.0.1:$ngx_port/bench/pets"
		[haproxy]="http://127.0.0.1:$hap_port/bench/pets" [gateway]="http://127.0.0.1:$gw_port/bench/pets"
		[gateway-full]="http://127.0.0.1:$gwf_port/full/pets")
	hdr=([gateway-full]="$auth_hdr")
	lua=()
	tpids=([nginx]="$ngx_pid $(pgrep -P "$ngx_pid" | tr '\n' ' ')" [haproxy]=$hap_pid [gateway]=$gwp_pid [gateway-full]=$gwf_pid)
	size=$(same_body "${targets[@]}")
	note_cmd "$(pin_text "$CPUS_WRK")${wrk_cmd[*]} URL   # URL: ${url[direct]}, ${url[nginx]}, ${url[haproxy]}, ${url[gateway]}, ${url[gateway-full]} (with -H 'Authorization: Bearer \$TOKEN')"

	interleave "$work/s1/$layout" "${targets[@]}"
	rss_kb "$gwp_pid" VmHWM >"$work/s1/$layout-hwm-gateway"
	kill "$gwp_pid" "$gwf_pid" "$ngx_pid" "$hap_pid"
	wait "$gwp_pid" "$gwf_pid" "$ngx_pid" "$hap_pid" 2>/dev/null || true
	for t in haproxy gateway gateway-full; do
		tp_ratio[$layout-$t]=$(div "${med_rps[$layout-$t]}" "${med_rps[$layout-nginx]}")
		p99_ratio[$layout-$t]=$(div "${med_p99[$layout-$t]}" "${med_p99[$layout-nginx]}")
		cpu_ratio[$layout-$t]=$(div "${med_cpu[$layout-$t]}" "${med_cpu[$layout-nginx]}")
	done
done
taskset -a -p -c "$all_cpus" "$backend_pid" >/dev/null
CPUS_WRK="" CPUS_BACKEND="" CPUS_PROXY="" # every later section runs unpinned
load_s1_end=$(machine_load)
steal_s1=$(steal_pct "$stat_s1_start")

full_what="JWT auth (one PRODUCTION token from a throwaway issuer, verified once, then a hit in the verified-token cache), a resource tier of 10⁹ per minute (RateLimit headers on every answer), $($has_metrics && echo "metrics on" || echo "no metrics (not in this build)"), access log off"
out "## 1. Proxy throughput and latency"
out ""
out "\`wrk -t1 -c$CONNS -d$DURATION --latency\`, $size-byte JSON answer from one fasthttp backend (bench/benchtool), $ROUNDS rounds per target after a 2 s warm-up each, targets alternated (order rotated every round); medians over the rounds. \"proxy CPU\" is the user+system CPU time the proxy process(es) used during the round (/proc/PID/stat; nginx: master + workers) divided by the requests wrk completed: the proxy's cost per request, much less sensitive to other load on the machine than req/s. **gateway** is the plain route (open, no tier$($has_metrics && echo ", --metrics=false")); **gateway-full** is the same executable, another process, on issue 14's full pipeline: $full_what. CPU layouts: **shared** = nothing pinned, GOMAXPROCS = nginx worker_processes = HAProxy nbthread = ${procs_of[shared]}; **split** = wrk and backend pinned to CPU 0, each proxy pinned alone to the other CPU(s), GOMAXPROCS = worker_processes = nbthread = ${procs_of[split]:-n/a}."
out ""
out "| layout | target | req/s | p50 ms | p99 ms | proxy CPU µs/req | req/s per round |"
out "|---|---|---|---|---|---|---|"
for layout in "${layouts[@]}"; do
	for t in "${targets[@]}"; do
		out "| $layout | $t | $(printf '%.0f' "${med_rps[$layout-$t]}") | ${med_p50[$layout-$t]} | ${med_p99[$layout-$t]} | ${med_cpu[$layout-$t]} | $(for r in $(seq "$ROUNDS"); do printf '%.0f ' "$(cat "$work/s1/$layout/$t.rps.$r")"; done) |"
	done
done
out ""
out "| ratio to nginx (same run) | $(printf '%s | ' "${layouts[@]}")goal |"
out "|---|$(printf -- '---|%.0s' "${layouts[@]}")---|"
row() { # LABEL FUNCTION ARG GOAL
	local l s=""
	for l in "${layouts[@]}"; do s+="$($2 "$l" "$3") | "; done
	out "| $1 | $s$4 |"
}
r_tp() { echo "**${tp_ratio[$1-$2]}**"; }
r_p99() { echo "**${p99_ratio[$1-$2]}**"; }
r_cpu() { echo "**${cpu_ratio[$1-$2]}**"; }
r_direct() { div "${med_rps[$1-$2]}" "${med_rps[$1-direct]}"; }
row "gateway (plain) throughput" r_tp gateway "≥ 1.0"
row "gateway (plain) p99" r_p99 gateway "≤ 1.1"
row "gateway (plain) CPU per request" r_cpu gateway "≤ 1.0"
row "gateway-full throughput" r_tp gateway-full "≥ 0.9"
row "gateway-full p99" r_p99 gateway-full ""
row "gateway-full CPU per request" r_cpu gateway-full ""
row "HAProxy throughput" r_tp haproxy ""
row "HAProxy p99" r_p99 haproxy ""
row "HAProxy CPU per request" r_cpu haproxy ""
out ""
out "| throughput / direct backend | $(printf '%s | ' "${layouts[@]}") |"
out "|---|$(printf -- '---|%.0s' "${layouts[@]}")---|"
for t in nginx haproxy gateway gateway-full; do row "$t" r_direct "$t" ""; done
out ""
out "Load average before/after this section: $load_s1_start / $load_s1_end. CPU steal (time the hypervisor gave to other guests) during this section: $steal_s1 %."
if [ -s "$work/warnings" ]; then
	out ""
	out "**wrk reported errors** (these rounds count failed requests in req/s):"
	out ""
	while read -r w; do out "- $w"; done <"$work/warnings"
	: >"$work/warnings"
fi
out ""

# --- section 1b: feature costs --------------------------------------------------
# The same backend route served several ways by the same executable, in
# interleaved rounds, each against its baseline: the plain GET for JWT,
# throttling, metrics and the full pipeline, the same small POST unvalidated
# for validation. Layout BENCH_COST_LAYOUT (split by default: the gateway
# alone on its CPU, so that its cost, not wrk's, sets the pace).
cost_layout=${BENCH_COST_LAYOUT:-split}
[ "$ncpu" -lt 2 ] && cost_layout=shared
[[ $cost_layout == shared || $cost_layout == split ]] || die "BENCH_COST_LAYOUT: unknown layout $cost_layout (shared, split)"
say "1b. feature costs, $cost_layout layout"
load_s1b_start=$(machine_load)
if [ "$cost_layout" = split ]; then
	CPUS_WRK=0 CPUS_BACKEND=0 CPUS_PROXY=1
	[ "$ncpu" -gt 2 ] && CPUS_PROXY=1-$((ncpu - 1))
fi
taskset -a -p -c "${CPUS_BACKEND:-$all_cpus}" "$backend_pid" >/dev/null
ca_port=$("$tool" freeport)
start_gateway gateway-cost "$ca_port" "${gw_plain[@]}"
ca_pid=$gw_pid
note_cmd "# section 1b, layout $cost_layout"
note_cmd "$(pin_text "$CPUS_PROXY")\$TMP/bench/target/bench ${gwflags[*]/$work/\$TMP} --http-port $ca_port ${gw_plain[*]}"
ca="http://127.0.0.1:$ca_port"
url=([plain]="$ca/bench/pets" [jwt]="$ca/jwt/pets" [throttled]="$ca/throttled/pets"
	[post]="$ca/bench/pets" [validated]="$ca/validated/pets" [full]="$ca/full/pets")
hdr=([jwt]="$auth_hdr" [full]="$auth_hdr")
lua=([post]="$work/post.lua" [validated]="$work/post.lua")
tpids=([plain]=$ca_pid [jwt]=$ca_pid [throttled]=$ca_pid [post]=$ca_pid [validated]=$ca_pid [full]=$ca_pid)
cost_targets=(plain jwt throttled post validated full)
# rows: LABEL TARGET BASELINE GOAL
cost_rows=("JWT auth, cached token|jwt|plain|≥ 0.9"
	"throttled, tier far above the load|throttled|plain|≥ 0.9"
	"request validation, small JSON POST|validated|post|"
	"full pipeline|full|plain|")
cb_pids=()
if $has_metrics; then
	# the full pipeline with metrics, and the plain route with metrics on
	cb_port=$("$tool" freeport)
	start_gateway gateway-cost-metrics "$cb_port" "${gw_full[@]}"
	cb_pids+=($gw_pid)
	note_cmd "$(pin_text "$CPUS_PROXY")\$TMP/bench/target/bench ${gwflags[*]/$work/\$TMP} --http-port $cb_port ${gw_full[*]}"
	url[metrics]="http://127.0.0.1:$cb_port/bench/pets" tpids[metrics]=$gw_pid
	url[full]="http://127.0.0.1:$cb_port/full/pets" tpids[full]=$gw_pid
	cost_targets+=(metrics)
	cost_rows+=("metrics on (plain route)|metrics|plain|≥ 0.95")
fi
if $has_tracing; then
	# tracing on, every request sampled, spans exported over OTLP/HTTP to a
	# sink (a benchtool backend: it answers 200 to every POST)
	start_backend otlp
	cc_port=$("$tool" freeport)
	start_gateway gateway-cost-tracing "$cc_port" "${gw_plain[@]}" --otlp-endpoint "http://$backend_addr" --trace-sample-ratio 1
	cb_pids+=($gw_pid)
	note_cmd "$(pin_text "$CPUS_PROXY")\$TMP/bench/target/bench ${gwflags[*]/$work/\$TMP} --http-port $cc_port ${gw_plain[*]} --otlp-endpoint http://$backend_addr --trace-sample-ratio 1   # the endpoint: a benchtool backend as the sink"
	url[tracing]="http://127.0.0.1:$cc_port/bench/pets" tpids[tracing]=$gw_pid
	cost_targets+=(tracing)
	cost_rows+=("tracing on, every request sampled and exported|tracing|plain|")
fi
same_body plain jwt throttled full >/dev/null
same_body post validated >/dev/null
note_cmd "$(pin_text "$CPUS_WRK")${wrk_cmd[*]} [-H 'Authorization: Bearer \$TOKEN'] [-s post.lua] URL   # URLs: $(for t in "${cost_targets[@]}"; do printf '%s=%s ' "$t" "${url[$t]}"; done)"
interleave "$work/s1/cost" "${cost_targets[@]}"
kill "$ca_pid" "${cb_pids[@]}"
wait "$ca_pid" "${cb_pids[@]}" 2>/dev/null || true
taskset -a -p -c "$all_cpus" "$backend_pid" >/dev/null
CPUS_WRK="" CPUS_BACKEND="" CPUS_PROXY=""

out "## 1b. Feature costs"
out ""
out "One executable (the bench project's gateway), each feature on its own route of the same backend, $ROUNDS interleaved rounds of \`wrk -t1 -c$CONNS -d$DURATION\` after a 2 s warm-up, medians; layout **$cost_layout**$([ "$cost_layout" = split ] && echo " (wrk and backend on CPU 0, the gateway alone on the rest, GOMAXPROCS ${procs_of[split]:-1})"). Each ratio is the feature's route against its baseline in the same rounds: the plain GET (\`/bench/pets\`, open, no tier$($has_metrics && echo ", metrics off")) or, for validation, the same $(printf '%s' "$post_body" | wc -c)-byte JSON POST to an unvalidated route. JWT: one PRODUCTION token from a throwaway issuer (internal/devissuer), verified once, then served from the verified-token cache. Throttled: a resource tier of 10⁹ per minute, counted locally. Full pipeline: $full_what$($has_metrics && echo " (its own process, with --metrics=true)")."
out ""
out "| route | req/s | p50 ms | p99 ms | gateway CPU µs/req | req/s per round |"
out "|---|---|---|---|---|---|"
for t in "${cost_targets[@]}"; do
	out "| $t | $(printf '%.0f' "${med_rps[cost-$t]}") | ${med_p50[cost-$t]} | ${med_p99[cost-$t]} | ${med_cpu[cost-$t]} | $(for r in $(seq "$ROUNDS"); do printf '%.0f ' "$(cat "$work/s1/cost/$t.rps.$r")"; done) |"
done
out ""
out "| feature | vs | throughput ratio | p99 ratio | CPU/req ratio | CPU µs/req added | goal (throughput) |"
out "|---|---|---|---|---|---|---|"
declare -A cost_tp
for r in "${cost_rows[@]}"; do
	IFS='|' read -r label t b goal <<<"$r"
	cost_tp[$t]=$(div "${med_rps[cost-$t]}" "${med_rps[cost-$b]}")
	out "| $label | $b | **${cost_tp[$t]}** | $(div "${med_p99[cost-$t]}" "${med_p99[cost-$b]}") | $(div "${med_cpu[cost-$t]}" "${med_cpu[cost-$b]}") | $(awk -v a="${med_cpu[cost-$t]}" -v b="${med_cpu[cost-$b]}" 'BEGIN {printf "%+.1f", a-b}') | $goal |"
done
$has_metrics || out "| metrics on | | not in this build | | | | ≥ 0.95 |"
$has_tracing || out "| tracing | | not in this build | | | | off = zero cost |"
$has_tracing && out "| tracing off | | the baseline itself: off is the default, and the plain route's allocations are in section 6 | | | | zero cost |"
out ""
out "Load average before/after this section: $load_s1b_start / $(machine_load)."
if [ -s "$work/warnings" ]; then
	out ""
	out "**wrk reported errors:**"
	out ""
	while read -r w; do out "- $w"; done <"$work/warnings"
	: >"$work/warnings"
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

out "## 2. Discovery propagation"
out ""
out "Gateway with \`etcd(micro-gw-bench, ...)\` against Debian's etcd; $CHANGES puts (Go etcd client) alternating between two backends; each measured from just before the put to the first response through the gateway from the new backend (gateway polled back to back)."
out ""
out "| | median ms | p90 ms | p99 ms | max ms | goal |"
out "|---|---|---|---|---|---|"
out "| put → routed | $(kv median_ms "$prop") | $(kv p90_ms "$prop") | **$(kv p99_ms "$prop")** | $(kv max_ms "$prop") | p99 ≤ 50 ms |"
out "| of which the put itself | $(kv put_median_ms "$prop") | $(kv put_p90_ms "$prop") | $(kv put_p99_ms "$prop") | $(kv put_max_ms "$prop") | |"
out ""

# --- section 2b: tail latency during a change -------------------------------------
# What users feel while the configuration changes or the gateway restarts:
#   switch: wrk on the etcd-followed route while benchtool flip moves its
#           key between backends a and b every 100 ms, against rounds with
#           no put; interleaved, unpinned.
#   drain:  wrk on a fresh gateway that gets SIGTERM halfway through the
#           run, against a fresh gateway left alone. After SIGTERM it
#           finishes what is in flight, answers with Connection: close and
#           exits; wrk's reconnects are then refused (counted by wrk as write
#           errors); a read error is a request cut.
say "2b. p99 during etcd endpoint switches and a SIGTERM drain"
secs() { awk -v d="$1" 'BEGIN {v=d+0; if (d ~ /ms$/) v/=1000; else if (d ~ /m$/) v*=60; else if (d ~ /h$/) v*=3600; print v}'; }
dur_s=$(secs "$DURATION")
url=([steady]="http://127.0.0.1:$disc_port/disc/pets" [switching]="http://127.0.0.1:$disc_port/disc/pets")
hdr=() lua=() tpids=([steady]=$disc_pid [switching]=$disc_pid)
mkdir -p "$work/s2b"
run_change() { # KIND ROUND: one round of the switch or drain comparison
	local k=$1 r=$2 o="$work/s2b/wrk-$1-$2.txt" fp="" port pid
	case $k in
	steady) pin "" "${wrk_cmd[@]}" "${url[steady]}" >"$o" 2>&1 ;;
	switching)
		"$tool" flip -etcd "$etcd_url" -key micro-gw-bench -a "http://$backend" -b "http://$backend_b" -every 100ms -for "${dur_s}s" >"$work/s2b/flip-$r" &
		fp=$!
		"${wrk_cmd[@]}" "${url[switching]}" >"$o" 2>&1
		wait "$fp" || die "benchtool flip failed"
		;;
	alone | sigterm)
		port=$("$tool" freeport)
		start_gateway "gateway-$k" "$port" "${gw_plain[@]}"
		pid=$gw_pid
		"$tool" get -n 100 "http://127.0.0.1:$port/bench/pets" || die "requests to the $k gateway failed"
		"${wrk_cmd[@]}" "http://127.0.0.1:$port/bench/pets" >"$o" 2>&1 &
		fp=$!
		if [ "$k" = sigterm ]; then
			sleep "$(awk -v s="$dur_s" 'BEGIN {print s/2}')"
			kill -TERM "$pid"
		fi
		wait "$fp" || true
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		;;
	esac
	awk '/ requests in / {print $1}' "$o" | tr -d , >"$work/s2b/n-$k-$r"
	awk '$1=="99%" {print $2}' "$o" | to_ms >"$work/s2b/p99-$k-$r"
	awk '$1=="50%" {print $2}' "$o" | to_ms >"$work/s2b/p50-$k-$r"
	awk '/Latency/ && !/Distribution/ {print $4}' "$o" | to_ms >"$work/s2b/max-$k-$r"
	{ grep -o 'Socket errors:.*' "$o" || echo -; } | sed 's/Socket errors: //' >"$work/s2b/err-$k-$r"
	{ grep -o 'Non-2xx or 3xx responses: [0-9]*' "$o" | awk '{print $NF}' || echo 0; } >"$work/s2b/non2xx-$k-$r"
	say "   $k round $r: $(cat "$work/s2b/n-$k-$r") requests, p99 $(cat "$work/s2b/p99-$k-$r") ms, max $(cat "$work/s2b/max-$k-$r") ms, errors $(cat "$work/s2b/err-$k-$r")$([ -z "$fp" ] || [ "$k" != switching ] || echo ", $(cat "$work/s2b/flip-$r")")"
}
"$tool" flip -etcd "$etcd_url" -key micro-gw-bench -a "http://$backend" -b "http://$backend" -every 10ms -for 10ms >/dev/null || die "etcd put failed"
pin "" wrk -t1 -c"$CONNS" -d2s "${url[steady]}" >/dev/null 2>&1 || die "warm-up of the etcd route failed"
for r in $(seq "$ROUNDS"); do
	if [ $((r % 2)) = 1 ]; then ks=(steady switching alone sigterm); else ks=(switching steady sigterm alone); fi
	for k in "${ks[@]}"; do run_change "$k" "$r"; done
done
note_cmd "# section 2b: ${wrk_cmd[*]} http://127.0.0.1:$disc_port/disc/pets, alone and with: benchtool flip -etcd $etcd_url -key micro-gw-bench -a http://$backend -b http://$backend_b -every 100ms -for ${dur_s}s"
note_cmd "# section 2b: a fresh gateway, ${wrk_cmd[*]} http://127.0.0.1:PORT/bench/pets, alone and with kill -TERM PID after $(awk -v s="$dur_s" 'BEGIN {print s/2}') s"
med2() { cat "$work/s2b/$1-$2"-* | median; }
out "## 2b. Tail latency during a change"
out ""
out "\`wrk -t1 -c$CONNS -d$DURATION --latency\`, unpinned, $ROUNDS rounds of each case, alternated; medians. **switching**: the etcd-followed route (\`/disc/pets\`) while \`benchtool flip\` moves its key between two backends every 100 ms for the whole run (about $(cat "$work/s2b/flip-1" | sed 's/puts=//') puts a round), against **steady** rounds on the same gateway with no put. **sigterm**: a fresh gateway gets SIGTERM halfway through the run (shutdown-timeout 15 s); it finishes what is in flight, answers with \`Connection: close\` and exits, so wrk's reconnects are refused from then on (wrk counts them as write errors). A read error is a connection closed under a request wrk had sent, a timeout a request left unanswered. **alone**: a fresh gateway, no signal. Latencies are of the completed requests."
out ""
out "| case | requests | p50 ms | p99 ms | max ms | wrk socket errors per round | non-2xx |"
out "|---|---|---|---|---|---|---|"
for k in steady switching alone sigterm; do
	out "| $k | $(med2 n "$k" | awk '{printf "%.0f", $1}') | $(med2 p50 "$k") | $(med2 p99 "$k") | $(med2 max "$k") | $(for r in $(seq "$ROUNDS"); do printf '%s; ' "$(cat "$work/s2b/err-$k-$r")"; done) | $(cat "$work/s2b"/non2xx-"$k"-* | awk '{s+=$1} END {print s+0}') |"
done
out ""
out "| ratio | value | goal |"
out "|---|---|---|"
switch_p99=$(div "$(med2 p99 switching)" "$(med2 p99 steady)")
drain_p99=$(div "$(med2 p99 sigterm)" "$(med2 p99 alone)")
out "| p99 switching / steady | **$switch_p99** | no spike (≈ 1) |"
out "| p99 sigterm / alone | **$drain_p99** | no spike (≈ 1) |"
out ""

kill "$disc_pid"
wait "$disc_pid" 2>/dev/null || true
if [ "${BENCH_STOP_AFTER:-}" = 2b ]; then
	cat "$report"
	say "stopped after section 2b (BENCH_STOP_AFTER); bench/results/latest.md left as it was"
	exit 0
fi

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
out "Exec to the first 200 from \`GET /health\` (polled every 0.2 ms), $STARTS starts each, the bench project's gateway (6 APIs, one etcd endpoint, a JWT issuer's key file)."
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
gw_load_max=$(cat "$work"/s1/shared/gateway.rss.* | sort -g | tail -n1)
gw_hwm_load=$(cat "$work/s1/shared-hwm-gateway")
ngx_load_max=$(cat "$work"/s1/shared/nginx.rss.* | sort -g | tail -n1)

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
	out "| plain route: throughput ≥ 1.0× nginx, p99 ≤ 1.1×, CPU/req ≤ 1.0×; $layout layout | ${tp_ratio[$layout-gateway]}×, ${p99_ratio[$layout-gateway]}×, ${cpu_ratio[$layout-gateway]}× |"
	out "| full pipeline: throughput ≥ 0.9× nginx; $layout layout | ${tp_ratio[$layout-gateway-full]}× |"
done
out "| JWT auth ≥ 0.9× the plain route (cached token) | ${cost_tp[jwt]}× |"
out "| throttled (local) ≥ 0.9× the plain route | ${cost_tp[throttled]}× |"
out "| metrics on ≥ 0.95× off | ${cost_tp[metrics]:-not in this build}$([ -n "${cost_tp[metrics]:-}" ] && echo ×) |"
out "| request validation, small JSON POST (reported) | ${cost_tp[validated]}× |"
out "| p99 during etcd switches / steady; during SIGTERM drain / alone | ${switch_p99}×; ${drain_p99}× |"
out "| discovery p99 ≤ 50 ms | $(kv p99_ms "$prop") ms |"
out "| warm build ≤ 2 s, cold ≤ 60 s | $(hf warm median) s, $(hf cold median) s |"
out "| startup ≤ 50 ms (no etcd / etcd) | $(kv median_ms "$st_plain") ms / $(kv median_ms "$st_etcd") ms |"
out "| idle RSS ≤ 20 MB | $(mb "$idle_plain") MB |"
out "| streaming peak RSS < 64 MB | $(mb "$hwm_down") MB |"
out "| loading definitions: Stripe-sized < 1 s, $(kv last_ops "$scale") operations < 10 s (JSON; YAML) | $(kv stripe_s "$scale") s, $(kv last_s "$scale") s; $(kv yaml_last_s "$scale") s |"
out ""
out "Where the gateway's time per request goes against nginx's, and why the goals against nginx are out of reach on this engine (Go's netpoller and fasthttp's goroutine per connection: more system calls and wake-ups per request; the p99 is queueing that grows with the CPU per request; no garbage collection under load; PGO, SO_REUSEPORT and fasthttp's options measured without gain): bench/README.md, \"Where the time and the p99 go\", and results/ab-quiet-2026-11-26.md."
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
