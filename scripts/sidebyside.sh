#!/usr/bin/env bash
# Side-by-side benchmark of llama.cpp and mlx-manager on the same weights (issues #19, #20).
#
# mlx-manager bench generates a ~0.5B Llama (engine/bench); scripts/bench_to_gguf.py
# writes the very same weights as GGUF (F32, BF16, F16 byte for byte; the MLX 4-bit
# model losslessly as Q4_1) and llama-quantize --pure makes Q8_0 and Q4_0 from the F32 file
# (every matrix, output.weight too, as mlx-manager's q8 and q4 quantize lm_head).
# Then, interleaved and best of ROUNDS:
#   llama-bench -t 2 -p 512 -n 128     vs  mlx-manager bench            (per precision)
#   llama-server -np N + N requests    vs  mlx-manager bench --concurrency 1,4,8
# and one markdown table (CPU, STREAM triad, uptime before/after, spread) on stdout
# and in $OUT/report.md. Meant for a quiet machine: anything else running skews both.
#
#   scripts/sidebyside.sh            prepare what is missing, then measure
#   scripts/sidebyside.sh --check    only the same-model check: llama.cpp's greedy
#                                    continuation and top-10 log-probabilities on the
#                                    F32 file against `mlx-manager logits`
#
# Settings (environment):
#   LLAMA_DIR   llama.cpp tree: $LLAMA_DIR/build/bin, $LLAMA_DIR/src/gguf-py (/work/llamacpp)
#   MLX         the mlx-manager binary (./mlx-manager of this checkout; `make build`)
#   CACHE       generated safetensors models ($LLAMA_DIR/bench-cache)
#   MODELS      GGUF files ($LLAMA_DIR/models)
#   ROUNDS      interleaved rounds, best reported (2)
#   PRECISIONS  single-stream precisions ("f32 bf16 f16 q8 q4")
#   CONC_PRECISIONS  precisions of the concurrency rows ("q4"); "" skips them
#   LEVELS      concurrency levels (1,4,8)
#   THREADS     threads of both engines (2)
#   PYTHON      a python3 with numpy, for bench_to_gguf.py (/usr/bin/python3)
#   OUT         where raw outputs and report.md go ($LLAMA_DIR/runs/DATE)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
LLAMA_DIR=${LLAMA_DIR:-/work/llamacpp}
BIN=$LLAMA_DIR/build/bin
MLX=${MLX:-$root/mlx-manager}
CACHE=${CACHE:-$LLAMA_DIR/bench-cache}
MODELS=${MODELS:-$LLAMA_DIR/models}
ROUNDS=${ROUNDS:-2}
PRECISIONS=${PRECISIONS-f32 bf16 f16 q8 q4}
CONC_PRECISIONS=${CONC_PRECISIONS-q4}
LEVELS=${LEVELS:-1,4,8}
THREADS=${THREADS:-2}
PYTHON=${PYTHON:-/usr/bin/python3}
OUT=${OUT:-$LLAMA_DIR/runs/$(date -u +%Y%m%d-%H%M%S)}
PORT=${PORT:-18093}
# Fixed by engine/bench, which has no flags for them: llama-bench's pp512/tg128, and
# a 32-token prompt per request under --concurrency.
PROMPT=512 DECODE=128 CONC_PROMPT=32
VOCAB=32000
helper=("$PYTHON" "$here/sidebyside.py")

die() { echo "sidebyside: $*" >&2; exit 1; }
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

for b in llama-bench llama-server llama-quantize; do
	[[ -x $BIN/$b ]] || die "$BIN/$b missing: build llama.cpp (see the header of this script's report)"
done
[[ -x $MLX ]] || die "$MLX missing: make build"
"$PYTHON" -c 'import numpy' 2>/dev/null || die "$PYTHON has no numpy (apt-get install python3-numpy)"
export GOMAXPROCS=$THREADS # mlx-manager bench runs GOMAXPROCS threads

dir_of() { echo "$CACHE/llama-501M-$1"; }

# GGUF files of a precision, "TYPE=path" each.
ggufs_of() {
	case $1 in
	f32) echo "F32=$MODELS/llama-501M-f32.gguf" ;;
	bf16) echo "BF16=$MODELS/llama-501M-bf16.gguf" ;;
	f16) echo "F16=$MODELS/llama-501M-f16.gguf" ;;
	q8) echo "Q8_0=$MODELS/llama-501M-q8_0.gguf" ;;
	q4) echo "Q4_0=$MODELS/llama-501M-q4_0.gguf Q4_1=$MODELS/llama-501M-mlxq4-q4_1.gguf" ;;
	*) die "unknown precision $1" ;;
	esac
}

# ensure_model P: the generated model of precision P (mlx-manager bench writes it
# on first use; a one-run bench is the cheapest way to ask it to).
ensure_model() {
	[[ -f $(dir_of "$1")/bench.json ]] && return
	log "generating the $1 model in $CACHE"
	"$MLX" bench --precision "$1" --runs 1 --cache-dir "$CACHE" >/dev/null 2>"$OUT/raw/gen-$1.log" ||
		die "mlx-manager bench --precision $1 failed: $OUT/raw/gen-$1.log"
	[[ -f $(dir_of "$1")/bench.json ]] || die "no model in $(dir_of "$1") after generating"
}

convert() { # convert PRECISION OUT.gguf
	ensure_model "$1"
	log "converting $(dir_of "$1") to $2"
	"$PYTHON" "$here/bench_to_gguf.py" "$(dir_of "$1")" "$2" --gguf-py "$LLAMA_DIR/src/gguf-py" >&2
}

quantize() { # quantize TYPE OUT.gguf, from the F32 file
	local f32=$MODELS/llama-501M-f32.gguf
	[[ -f $f32 ]] || convert f32 "$f32"
	log "llama-quantize $1 -> $2"
	"$BIN/llama-quantize" --pure "$f32" "$2" "$1" "$THREADS" >"$OUT/raw/quantize-$1.log" 2>&1 ||
		die "llama-quantize failed: $OUT/raw/quantize-$1.log"
}

ensure_ggufs() {
	local p=$1 entry path
	ensure_model "$p"
	for entry in $(ggufs_of "$p"); do
		path=${entry#*=}
		[[ -f $path ]] && continue
		case $(basename "$path") in
		*q8_0.gguf) quantize Q8_0 "$path" ;;
		*q4_0.gguf) quantize Q4_0 "$path" ;;
		*) convert "$p" "$path" ;;
		esac
	done
}

server_pid=""
stop_server() {
	if [[ -n $server_pid ]]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
		server_pid=""
	fi
}
trap stop_server EXIT

start_server() { # start_server GGUF SLOTS CTX LOG [llama-server flags...]
	stop_server
	"$BIN/llama-server" -m "$1" -t "$THREADS" -tb "$THREADS" -np "$2" -c "$3" \
		--host 127.0.0.1 --port "$PORT" "${@:5}" >"$4" 2>&1 &
	server_pid=$!
	# A script, not a test: poll /health until the model is loaded.
	for _ in $(seq 600); do
		if curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; then return; fi
		kill -0 "$server_pid" 2>/dev/null || die "llama-server exited: $4"
		sleep 0.5
	done
	die "llama-server did not come up in 300 s: $4"
}

mkdir -p "$OUT/raw" "$MODELS" "$CACHE"
url=http://127.0.0.1:$PORT

if [[ ${1:-} == --check ]]; then
	ensure_ggufs f32
	check=$LLAMA_DIR/check/llama-501M-f32
	"${helper[@]}" checkdir "$(dir_of f32)" "$check" "$root/engine/model/modeltest/testdata"
	# Exact on both sides: an F32 KV cache, as `mlx-manager logits` keeps by default, and
	# no flash attention, whose CPU kernel rounds through F16 (with it the top-10
	# log-probabilities differ by up to 3e-3; without, by 1e-5).
	start_server "$MODELS/llama-501M-f32.gguf" 1 512 "$OUT/raw/server-check.log" -ctk f32 -ctv f32 -fa off
	ids=$("$PYTHON" -c 'import sys; sys.path.insert(0, sys.argv[1]); import sidebyside as s; print(",".join(map(str, [1] + s.prompt_tokens(15, 32000))))' "$here")
	"${helper[@]}" check "$url" "$MLX" "$check" "$ids" 16 | tee "$OUT/check.txt"
	exit
fi

start=$(date +%s)
uptime_before=$(uptime)
log "preparing models"
for p in $PRECISIONS $CONC_PRECISIONS; do ensure_ggufs "$p"; done
results=$OUT/results.jsonl
: >"$results"

for r in $(seq "$ROUNDS"); do
	for p in $PRECISIONS; do
		# Alternate which engine goes first, so that neither always runs on a cooler machine.
		order="mlx llama"
		((r % 2 == 0)) && order="llama mlx"
		for e in $order; do
			if [[ $e == mlx ]]; then
				log "round $r: mlx-manager bench $p"
				"$MLX" bench --precision "$p" --runs 1 --json --cache-dir "$CACHE" \
					>"$OUT/raw/mlx-$p-$r.json" 2>"$OUT/raw/mlx-$p-$r.log" || die "mlx-manager bench failed: $OUT/raw/mlx-$p-$r.log"
				"${helper[@]}" mlxbench "$OUT/raw/mlx-$p-$r.json" kind=single engine=mlx-manager precision="$p" round="$r" >>"$results"
				continue
			fi
			for entry in $(ggufs_of "$p"); do
				g=${entry%%=*} path=${entry#*=}
				log "round $r: llama-bench $p $g"
				"$BIN/llama-bench" -m "$path" -t "$THREADS" -p "$PROMPT" -n "$DECODE" -r 1 -o json \
					>"$OUT/raw/llama-$p-$g-$r.json" 2>"$OUT/raw/llama-$p-$g-$r.log" || die "llama-bench failed: $OUT/raw/llama-$p-$g-$r.log"
				"${helper[@]}" llamabench "$OUT/raw/llama-$p-$g-$r.json" kind=single engine=llama.cpp precision="$p" gguf="$g" round="$r" >>"$results"
			done
		done
	done
	for p in $CONC_PRECISIONS; do
		order="mlx llama"
		((r % 2 == 0)) && order="llama mlx"
		for e in $order; do
			if [[ $e == mlx ]]; then
				log "round $r: mlx-manager bench --concurrency $LEVELS $p"
				"$MLX" bench --precision "$p" --concurrency "$LEVELS" --runs 1 --json --cache-dir "$CACHE" \
					>"$OUT/raw/mlxconc-$p-$r.json" 2>"$OUT/raw/mlxconc-$p-$r.log" || die "mlx-manager bench --concurrency failed: $OUT/raw/mlxconc-$p-$r.log"
				"${helper[@]}" mlxconc "$OUT/raw/mlxconc-$p-$r.json" kind=conc engine=mlx-manager precision="$p" round="$r" >>"$results"
				continue
			fi
			for entry in $(ggufs_of "$p"); do
				g=${entry%%=*} path=${entry#*=}
				for n in ${LEVELS//,/ }; do
					log "round $r: llama-server -np $n $p $g"
					start_server "$path" "$n" $((n * (CONC_PROMPT + DECODE + 64))) "$OUT/raw/server-$p-$g-$n-$r.log"
					"${helper[@]}" load "$url" 1 8 4 "$VOCAB" >/dev/null # warm-up, as mlx-manager bench does
					"${helper[@]}" load "$url" "$n" "$CONC_PROMPT" "$DECODE" "$VOCAB" \
						kind=conc engine=llama.cpp precision="$p" gguf="$g" round="$r" >>"$results"
					stop_server
				done
			done
		done
	done
done

elapsed=$(($(date +%s) - start))
uptime_after=$(uptime)
commit=unknown
[[ -f $LLAMA_DIR/COMMIT ]] && commit=$(cat "$LLAMA_DIR/COMMIT")
"$PYTHON" - "$OUT/header.json" <<EOF
import json, platform, sys
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
levels = [int(x) for x in "$LEVELS".split(",")]
json.dump({"date": "$(date -u '+%Y-%m-%d %H:%M UTC')", "cpu": cpu, "nproc": $(nproc), "threads": $THREADS,
           "uptime_before": """$uptime_before""".strip(), "uptime_after": """$uptime_after""".strip(),
           "llama_commit": """$commit""".strip(), "mlx_version": """$("$MLX" version 2>/dev/null | head -1)""".strip(),
           "elapsed": "run took ${elapsed} s", "rounds": $ROUNDS, "prompt": $PROMPT, "decode": $DECODE,
           "conc_prompt": $CONC_PROMPT, "precisions": list(dict.fromkeys("$PRECISIONS $CONC_PRECISIONS".split())), "levels": levels,
           "cache": "$CACHE", "gguf_dir": "$MODELS"}, open(sys.argv[1], "w"))
EOF
"${helper[@]}" table "$results" "$OUT/header.json" | tee "$OUT/report.md"
