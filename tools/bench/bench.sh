#!/usr/bin/env bash
# Measures wxkit serve's server CPU per message against a do-nothing HTTP
# server (tools/bench/floor), side by side, with the load generator of the
# shared tools (LOADGEN_DIR, default ../shared/tools/loadgen beside the
# repository): safe-mode text echo, dedup on, for each message-log mode on
# SQLite, and on PostgreSQL when WXKIT_BENCH_POSTGRES_URL is set (a
# database the script may write to; each run gets a fresh schema).
#
#   tools/bench/bench.sh [ROUNDS]      # default 3 rounds per configuration
#
# The gateway and the floor are pinned to CPU 1, the load to CPU 0
# (taskset). Figures: server CPU µs per message; the ratio is to the floor
# of the same round.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-3}
LOADGEN_DIR=${LOADGEN_DIR:-../shared/tools/loadgen}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

[ -d "$LOADGEN_DIR" ] || { echo "bench: no load generator at $LOADGEN_DIR (set LOADGEN_DIR)"; exit 2; }
(cd "$LOADGEN_DIR" && go build -o "$WORK/loadgen" .)
go build -o "$WORK/wxkit" ./cmd/wxkit
go build -o "$WORK/floor" ./tools/bench/floor

APPID=wx0123456789abcdef TOKEN=benchtoken AESKEY=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG
load() { # URL PID [check]
  taskset -c 0 "$WORK/loadgen" -url "$1" -mode safe -token $TOKEN -aeskey $AESKEY -appid $APPID \
    -n 20000 -c 16 -warmup 5000 -pid "$2" -check "${3:-echo}" -q |
    sed -n 's/.*srv_cpu_s_per_1k=\([0-9.]*\).*/\1/p' | awk '{printf "%.1f", $1*1000}'
}

taskset -c 1 "$WORK/floor" -listen 127.0.0.1:19090 & FLOOR=$!
sleep 0.5

configs=("sqlite durable" "sqlite async" "sqlite off")
if [ -n "${WXKIT_BENCH_POSTGRES_URL:-}" ]; then configs+=("postgres durable" "postgres async"); fi

printf '%-20s %-8s %10s %10s %7s\n' store log floor_us wxkit_us ratio
for cfg in "${configs[@]}"; do
  set -- $cfg; st=$1 mode=$2
  for r in $(seq "$ROUNDS"); do
    case $st in
      sqlite) url="sqlite://$WORK/bench-$r.db"; rm -f "$WORK"/bench-$r.db* ;;
      postgres)
        schema="wxkit_bench_$(date +%s)_$r"
        psql "$WXKIT_BENCH_POSTGRES_URL" -qc "CREATE SCHEMA $schema" >/dev/null
        sep='?'; [[ $WXKIT_BENCH_POSTGRES_URL == *\?* ]] && sep='&'
        url="$WXKIT_BENCH_POSTGRES_URL${sep}search_path=$schema" ;;
    esac
    cat > "$WORK/cfg.yaml" <<EOC
listen: 127.0.0.1:18088
store: "$url"
oauth: { secret: bench-oauth-state-signing-key }
log: { level: warn }
webhook: { message_log: $mode, dedup: store }
apps:
  - { appid: $APPID, token: $TOKEN, encoding_aes_key: $AESKEY, mode: safe, replies: { default: { echo: true } } }
EOC
    taskset -c 1 "$WORK/wxkit" serve --config "$WORK/cfg.yaml" >"$WORK/serve.log" 2>&1 & GW=$!
    for _ in $(seq 50); do curl -sf http://127.0.0.1:18088/healthz >/dev/null && break; sleep 0.1; done
    f=$(load http://127.0.0.1:19090/wx $FLOOR success)
    w=$(load http://127.0.0.1:18088/wx/$APPID $GW)
    kill $GW; wait $GW 2>/dev/null || true
    printf '%-20s %-8s %10s %10s %7s\n' "$st" "$mode" "$f" "$w" "$(awk -v a="$w" -v b="$f" 'BEGIN{printf "%.2f", a/b}')"
    if [ "$st" = postgres ]; then psql "$WXKIT_BENCH_POSTGRES_URL" -qc "DROP SCHEMA $schema CASCADE" >/dev/null 2>&1; fi
  done
done
