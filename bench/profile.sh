#!/usr/bin/env bash
# Profile the front and producer of each route with perf while wrk loads it.
#
#   bench/profile.sh [SECONDS] [CONNECTIONS]     (default 15 s, 64 connections)
#
# Uses the benchmark stack (.run-bench/, ports +2500; started here unless
# running, stopped at the end). Each route first gets 15 s of unrecorded load
# with 32 connections; then perf samples the CPU clock (cpu-clock, a
# software event, because virtual machines often expose no hardware
# counters) with call graphs at 499 Hz. For each route it writes to
# .run-bench/profile/<stamp>/: <route>.data (perf record), <route>-by-dso.txt
# (CPU share of each library), <route>-symbols.txt (the hottest functions)
# and <route>-wrk.log.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
seconds=${1:-15}
connections=${2:-64}
out_dir="$URNA_RUN_DIR/profile/$(date -u +%Y%m%dT%H%M%SZ)"

trap bench_stack_down_if_started EXIT
"$root/load/setup.sh" >/dev/null
bench_stack_up
mkdir -p "$out_dir"
/usr/bin/python3 "$root/bench/votes.py" bodies "$root/data/votes.json" "$out_dir/bodies.txt"

pid_of() { supervisorctl -c "$URNA_RUN_DIR/supervisord.conf" pid "$1"; }

profile_route() {
  local route=$1 pids url
  pids="$(pid_of "$route-front"),$(pid_of "$route-producer")"
  url="http://127.0.0.1:$(( 8088 + URNA_PORT_OFFSET ))/$route/vote"
  echo "profile: $route: perf on PIDs $pids while wrk sends $connections connections for $seconds s"

  URNA_WRK_BODIES="$out_dir/bodies.txt" wrk -t1 -c"$connections" -d"$(( seconds + 2 ))s" \
    -s "$root/bench/vote.lua" "$url" > "$out_dir/$route-wrk.log" 2>&1 &
  local wrk_pid=$!
  sleep 1
  perf record -e cpu-clock -F 499 -g -p "$pids" -o "$out_dir/$route.data" -- sleep "$seconds" \
    > "$out_dir/$route-perf.log" 2>&1
  wait "$wrk_pid"

  perf report -i "$out_dir/$route.data" --stdio --no-children --sort comm,dso \
    > "$out_dir/$route-by-dso.txt" 2>/dev/null
  perf report -i "$out_dir/$route.data" --stdio --no-children --sort comm,dso,symbol -g none \
    --percent-limit 0.7 > "$out_dir/$route-symbols.txt" 2>/dev/null
  grep -E '^urna-wrk:' "$out_dir/$route-wrk.log" || true
  echo "profile: $route: samples per process (perf runs at 499 Hz):"
  perf script -i "$out_dir/$route.data" -F pid 2>/dev/null | sort | uniq -c
}

perf stat -e cpu-clock true >/dev/null 2>&1 || {
  echo "profile: perf cannot sample here (perf stat -e cpu-clock failed); check kernel.perf_event_paranoid" >&2
  exit 1
}
# Kafka's JVM compiles its hot paths during the first seconds of load, so both
# routes get unrecorded load first; otherwise the first route profiled pays for it.
for route in grpc rest; do
  echo "profile: $route: warm-up, 32 connections for 15 s"
  URNA_WRK_BODIES="$out_dir/bodies.txt" wrk -t1 -c32 -d15s -s "$root/bench/vote.lua" \
    "http://127.0.0.1:$(( 8088 + URNA_PORT_OFFSET ))/$route/vote" > "$out_dir/$route-warmup.log" 2>&1
  grep -E '^urna-wrk:' "$out_dir/$route-warmup.log" || true
done
for route in rest grpc; do
  profile_route "$route"
done
echo "profile: reports in $out_dir/"
