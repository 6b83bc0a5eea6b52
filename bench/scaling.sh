#!/usr/bin/env bash
# Section 7 of make bench, "Build scaling": how loading API definitions (the
# first step of micro-gw build, definition.LoadDir) grows with their size, on
# generated definitions (pkg/definition/defgen). Writes the section as markdown
# to the file given as $1, and its headline figures as key=value pairs to
# $1.summary. bench/run.sh runs it in a full run, and alone with
# `bash bench/run.sh build-scaling` (make bench-build).
#
# Knobs (environment), defaults in brackets:
#   BENCH_SCALE_OPS     [1000 10000 30000]  operations of the scaling series
#   BENCH_SCALE_RUNS    [3]    loads per input; the medians are reported
#   BENCH_SCALE_TIMEOUT [300]  seconds one load may take before it is stopped
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
[ $# -eq 1 ] || { echo "usage: bash bench/scaling.sh OUT.md" >&2; exit 2; }
out_file=$1

read -r -a series <<<"${BENCH_SCALE_OPS:-1000 10000 30000}"
RUNS=${BENCH_SCALE_RUNS:-3}
TIMEOUT=${BENCH_SCALE_TIMEOUT:-300}
say() { printf '[bench] %s\n' "$*" >&2; }

work=$(mktemp -d /tmp/micro-gw-scale.XXXXXX)
trap 'rm -rf "$work"' EXIT
go build -o "$work/benchtool" ./bench/benchtool
tool="$work/benchtool"

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "NaN"; exit} if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
kv() { tr ' ' '\n' <<<"$2" | awk -F= -v k="$1" '$1==k {print $2}'; }
calc() { awk "BEGIN {v = $1; if (v != v) print \"NaN\"; else printf \"%.${2:-2}f\", v}"; }

declare -A secs cpu rss size ops
# measure NAME OPS GENDEF_FLAGS...: generate the input, load it RUNS times.
measure() {
	local name=$1 n=$2 r res
	shift 2
	local dir="$work/$name/api_definitions" file=gen.json
	[[ " $* " == *" -yaml "* ]] && file=gen.yaml
	mkdir -p "$dir"
	res=$("$tool" gendef "$@" -out "$dir/$file")
	size[$name]=$(calc "$(kv bytes "$res") / 1048576" 2)
	ops[$name]=$n
	: >"$work/$name.secs"
	: >"$work/$name.cpu"
	: >"$work/$name.rss"
	for r in $(seq "$RUNS"); do
		if ! res=$(timeout "$TIMEOUT" "$tool" load "$dir"); then
			say "   $name: no result within $TIMEOUT s"
			secs[$name]="> $TIMEOUT (stopped)" cpu[$name]="-" rss[$name]="-"
			return
		fi
		kv seconds "$res" >>"$work/$name.secs"
		kv cpu_seconds "$res" >>"$work/$name.cpu"
		kv peak_rss_mb "$res" >>"$work/$name.rss"
		say "   $name run $r: $res"
	done
	secs[$name]=$(median <"$work/$name.secs")
	cpu[$name]=$(median <"$work/$name.cpu")
	rss[$name]=$(median <"$work/$name.rss")
}

say "7. build scaling: loading generated definitions, $RUNS run(s) each"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
names=()
for n in "${series[@]}"; do
	measure "oas3-$n" "$n" -ops "$n" -props 1
	names+=("oas3-$n")
done
for n in "${series[@]}"; do
	measure "yaml-$n" "$n" -ops "$n" -props 1 -yaml
	names+=("yaml-$n")
done
mid=${series[$((${#series[@]} / 2))]}
measure "swagger-$mid" "$mid" -ops "$mid" -props 1 -swagger
names+=("swagger-$mid")
measure bare-33000 33000 -ops 33000 -bare
names+=(bare-33000)
measure stripe-like 460 -ops 460 -props 53
names+=(stripe-like)
for c in 1000 3000 20000; do
	measure "chain-$c" "$c" -chain "$c"
	names+=("chain-$c")
done

label() {
	case $1 in
	oas3-*) echo "OpenAPI 3.0, ${1#oas3-} operations" ;;
	yaml-*) echo "OpenAPI 3.0 in YAML, ${1#yaml-} operations" ;;
	swagger-*) echo "Swagger 2.0, ${1#swagger-} operations" ;;
	bare-*) echo "${1#bare-} small operations, no schemas" ;;
	stripe-like) echo "Stripe-sized: 460 operations, 53 properties each" ;;
	chain-*) echo "chain of ${1#chain-} \$ref-only schemas" ;;
	esac
}
per_op() { # NAME -> µs of load time per operation (per link of a chain)
	[[ ${secs[$1]} == ">"* ]] && { echo "-"; return; }
	calc "${secs[$1]} * 1e6 / ${ops[$1]}" 0
}
# ratio A B [cpu]: load time (CPU time) per operation of A over that of B
ratio() {
	local a=${secs[$1]} b=${secs[$2]}
	[ "${3:-}" = cpu ] && a=${cpu[$1]} b=${cpu[$2]}
	[[ $a$b == *[-">"]* ]] && echo "-" || calc "($a / ${ops[$1]}) / ($b / ${ops[$2]})"
}
# mem_ratio A B C: peak-memory growth per operation from B to A over that from C to B
mem_ratio() { [[ ${rss[$1]}${rss[$2]}${rss[$3]} == *-* ]] && echo "-" || calc "((${rss[$1]} - ${rss[$2]}) / (${ops[$1]} - ${ops[$2]})) / ((${rss[$2]} - ${rss[$3]}) / (${ops[$2]} - ${ops[$3]}))"; }

first=${names[0]} last=oas3-${series[-1]} middle=oas3-$mid
yfirst=yaml-${series[0]} ylast=yaml-${series[-1]} ymiddle=yaml-$mid
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
{
	echo "## 7. Build scaling"
	echo ""
	echo "Loading generated definitions (pkg/definition/defgen: indented JSON, and the same definitions as block-style YAML) with micro-gw build's loader (definition.LoadDir: YAML/JSON parse, kin-openapi load and validation, extensions, routes) in a fresh process, \`benchtool load DIR\`; median of $RUNS run(s) each. Peak RSS is the process's VmHWM. Each operation has a path and a query parameter and answers its own component schema by \$ref; every schema refers to a shared one and to the previous operation's, so the schemas form one connected graph, as in large public descriptions. The small operations have only a response (the issue's 33,000 paths in 5 MB). The Stripe-sized input has Stripe's operation count and file size. The chains are component schemas S0 → S1 → … each only a \$ref to the next. CPU s is the process's user and system time (all threads, garbage collection included), which other work on the machine disturbs much less than the load time: on a busy machine, judge growth by it. How (pkg/definition/fastload.go, yamljson.go): kin-openapi's own load decodes JSON and YAML with go.yaml.in/yaml/v4, which compares every pair of keys of a mapping for duplicates, n²/2 string comparisons for a components.schemas of n entries (18 s of YAML for 30,000 operations before). A clean definition is instead decoded with encoding/json, a YAML one as the JSON its parsed tree spells; the path items are decoded on every core, and a JSON file's decode starts while the loader parses its own tree of the file. A definition with a problem to report is loaded again the exact way, since its messages need the lines that decode records. Load average (1/5/15 min) at the start: $load_start; at the end: $load_end; on $(nproc) cores."
	echo ""
	echo "| input | MB | load s | CPU s | peak RSS MB | µs per operation (chains: per link) |"
	echo "|---|---|---|---|---|---|"
	for n in "${names[@]}"; do
		echo "| $(label "$n") | ${size[$n]} | **${secs[$n]}** | ${cpu[$n]} | ${rss[$n]} | $(per_op "$n") |"
	done
	echo ""
	echo "| ratio | value | goal |"
	echo "|---|---|---|"
	echo "| load time per operation, ${ops[$last]} / ${ops[$first]} operations | **$(ratio "$last" "$first")** | ≈ 1 (linear) |"
	echo "| load time per operation, ${ops[$last]} / ${ops[$middle]} operations | $(ratio "$last" "$middle") | ≈ 1 (linear) |"
	echo "| CPU time per operation, ${ops[$last]} / ${ops[$first]} operations | **$(ratio "$last" "$first" cpu)** | ≈ 1 (linear) |"
	echo "| CPU time per operation, ${ops[$last]} / ${ops[$middle]} operations | $(ratio "$last" "$middle" cpu) | ≈ 1 (linear) |"
	echo "| peak RSS added per operation from ${ops[$middle]} to ${ops[$last]}, over that from ${ops[$first]} to ${ops[$middle]} | **$(mem_ratio "$last" "$middle" "$first")** | ≈ 1 (linear) |"
	echo "| YAML: load time per operation, ${ops[$ylast]} / ${ops[$yfirst]} operations | **$(ratio "$ylast" "$yfirst")** | ≈ 1 (linear) |"
	echo "| YAML: CPU time per operation, ${ops[$ylast]} / ${ops[$yfirst]} operations | **$(ratio "$ylast" "$yfirst" cpu)** | ≈ 1 (linear) |"
	echo "| YAML: peak RSS added per operation from ${ops[$ymiddle]} to ${ops[$ylast]}, over that from ${ops[$yfirst]} to ${ops[$ymiddle]} | **$(mem_ratio "$ylast" "$ymiddle" "$yfirst")** | ≈ 1 (linear) |"
	echo "| load time per link, chain of 20000 / chain of 1000 | $(ratio chain-20000 chain-1000) | ≈ 1 (linear) |"
	echo "| CPU time per link, chain of 20000 / chain of 1000 | $(ratio chain-20000 chain-1000 cpu) | ≈ 1 (linear) |"
	echo "| Stripe-sized load | ${secs[stripe-like]} s | < 1 s |"
	echo "| $(label "$last") load | ${secs[$last]} s | < 10 s |"
	echo "| $(label "$ylast") load | ${secs[$ylast]} s | < 10 s |"
	echo "| chain of 20,000 \$refs | ${secs[chain-20000]} s | finishes |"
	echo ""
	echo "Commands (\$TMP is a temporary folder):"
	echo ""
	echo "    go build -o \$TMP/benchtool ./bench/benchtool"
	echo "    benchtool gendef -ops N -props 1 [-swagger] -out \$TMP/NAME/api_definitions/gen.json   # N = ${series[*]}; Swagger for N = $mid"
	echo "    benchtool gendef -ops N -props 1 -yaml -out \$TMP/yaml-N/api_definitions/gen.yaml   # N = ${series[*]}"
	echo "    benchtool gendef -ops 33000 -bare -out \$TMP/bare-33000/api_definitions/gen.json"
	echo "    benchtool gendef -ops 460 -props 53 -out \$TMP/stripe-like/api_definitions/gen.json"
	echo "    benchtool gendef -chain N -out \$TMP/chain-N/api_definitions/gen.json   # N = 1000 3000 20000"
	echo "    timeout $TIMEOUT benchtool load \$TMP/NAME/api_definitions   # $RUNS times each"
	echo ""
} >"$out_file"
printf 'stripe_s=%s last_ops=%s last_s=%s yaml_last_s=%s chain_s=%s\n' "${secs[stripe-like]// /}" "${ops[$last]}" "${secs[$last]// /}" "${secs[$ylast]// /}" "${secs[chain-20000]// /}" >"$out_file.summary"
