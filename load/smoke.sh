#!/usr/bin/env bash
# The Locust smoke test: 30 s of headless Locust on both routes against the
# benchmark stack (.run-bench/, ports +2500; started here unless running,
# and then stopped at the end, also on failure). Fails when any vote is not
# acknowledged with 202, or when the tally's count differs from the votes
# acknowledged on either route.
#
#   load/smoke.sh [DURATION]    (default 30s)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
duration=${1:-30s}
out_dir="$URNA_RUN_DIR/locust/$(date -u +%Y%m%dT%H%M%SZ)"
tally_metrics="http://127.0.0.1:$(( 9100 + URNA_PORT_OFFSET ))/metrics"

trap bench_stack_down_if_started EXIT
"$root/load/setup.sh"
bench_stack_up

baseline=$(/usr/bin/python3 "$root/load/check_locust.py" counters "$tally_metrics")
URNA_LOCUST_HOST="http://127.0.0.1:$(( 8088 + URNA_PORT_OFFSET ))" \
  "$root/load/run-locust-headless.sh" "$duration" "$out_dir"
/usr/bin/python3 "$root/load/check_locust.py" tally "$out_dir/locust.json" "$tally_metrics" "$baseline"
echo "locust smoke: passed"
