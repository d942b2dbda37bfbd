#!/usr/bin/env bash
# Produces docs/performance.md's indexer table: throughput of the example indexer with durable
# SQLite and with `--store none`, each with telemetry off (the baseline), on, and on with the
# 99 Hz CPU profiler, plus RSS at start, after warm-up and at the end.
#
#   scripts/bench-indexer.sh                 # 3 rounds of 20 s per configuration (~6 min)
#   DURATION=60s ROUNDS=1 scripts/bench-indexer.sh
#
# Configurations run interleaved, round after round, so that a burst of load from elsewhere on
# the machine hits all of them alike; the table shows each configuration's median.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-20s}"
ROUNDS="${ROUNDS:-3}"
EXTRA="${EXTRA:-}"
target="${CARGO_TARGET_DIR:-target}"
cargo build --quiet --release --example indexer
bin="$target/release/examples/indexer"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

configs=(
  "sqlite-off|--store sqlite --no-telemetry"
  "sqlite-on|--store sqlite --no-profile"
  "sqlite-prof|--store sqlite"
  "none-off|--store none --no-telemetry"
  "none-on|--store none --no-profile"
  "none-prof|--store none"
)

for round in $(seq "$ROUNDS"); do
  for entry in "${configs[@]}"; do
    name="${entry%%|*}"
    flags="${entry#*|}"
    out="$work/$name-$round"
    # shellcheck disable=SC2086 # flags are words on purpose
    "$bin" $flags $EXTRA --duration "$DURATION" --admin 127.0.0.1:0 --out "$out" >"$out.txt" 2>/dev/null
    tps="$(awk '/^  throughput/ {gsub(",", "", $2); print $2}' "$out.txt")"
    rss="$(awk '/^  RSS/ {print $3 "|" $6 "|" $9}' "$out.txt")"
    echo "$tps|$rss" >>"$work/$name.runs"
    echo "round $round $name: $tps tx/s (RSS start|warm|end MiB: $rss)" >&2
  done
done

# The median run of a configuration (by throughput): "tps|rss_start|rss_warm|rss_end".
median() { sort -t'|' -k1,1n "$work/$1.runs" | awk -v n="$ROUNDS" 'NR == int((n + 1) / 2)'; }
field() { echo "$1" | cut -d'|' -f"$2"; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.1f %%", (a / b - 1) * 100 }'; }
fmt() { echo "$1" | sed -e ':a' -e 's/\B[0-9]\{3\}\>/,&/' -e 'ta'; }

echo
echo "| store | telemetry off | telemetry on | on + 99 Hz profiling | overhead of telemetry | profiling on top | RSS start → warm → end (on + profiling) |"
echo "|---|---:|---:|---:|---:|---:|---|"
for store in sqlite none; do
  off="$(median "$store-off")"; on="$(median "$store-on")"; prof="$(median "$store-prof")"
  echo "| \`--store $store\` | $(fmt "$(field "$off" 1)") tx/s | $(fmt "$(field "$on" 1)") tx/s | $(fmt "$(field "$prof" 1)") tx/s | $(pct "$(field "$on" 1)" "$(field "$off" 1)") | $(pct "$(field "$prof" 1)" "$(field "$on" 1)") | $(field "$prof" 2) → $(field "$prof" 3) → $(field "$prof" 4) MiB |"
done
echo
echo "($ROUNDS rounds of $DURATION per configuration, median shown; $(nproc) CPUs; $(date -u +%Y-%m-%d))"
