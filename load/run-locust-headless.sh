#!/usr/bin/env bash
# Run Locust without its UI for DURATION and keep its CSV statistics.
#
#   load/run-locust-headless.sh DURATION OUT_DIR [locust options]
#
# DURATION is Locust's --run-time (30s, 2m); OUT_DIR receives locust_stats.csv,
# locust_failures.csv and the others, and locust.json. Users finish the vote
# in flight when time is up (--stop-timeout). Locust writes the CSV files
# before that, so the check reads the final figures from locust.json. Exits
# non-zero unless at least one vote was sent and every vote was acknowledged
# with 202.
# Env: URNA_LOCUST_USERS (default 20) users started URNA_LOCUST_SPAWN_RATE
# (default 10) per second; URNA_LOCUST_HOST (default http://127.0.0.1:8088);
# route weights URNA_GRPC_WEIGHT, URNA_REST_WEIGHT.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -lt 2 ]; then
  echo "usage: $0 DURATION OUT_DIR [locust options]   (for example: $0 30s .run-bench/locust)" >&2
  exit 2
fi
duration=$1
out_dir=$2
shift 2

"$root/load/setup.sh" >/dev/null
mkdir -p "$out_dir"
echo "locust: ${URNA_LOCUST_USERS:-20} users for $duration, CSV in $out_dir/"
locust_status=0
"$root/.venv-load/bin/locust" -f "$root/load/locustfile.py" --headless \
  --users "${URNA_LOCUST_USERS:-20}" --spawn-rate "${URNA_LOCUST_SPAWN_RATE:-10}" \
  --run-time "$duration" --stop-timeout 10 --csv "$out_dir/locust" --json-file "$out_dir/locust" --only-summary \
  --loglevel WARNING "$@" || locust_status=$?

/usr/bin/python3 "$root/load/check_locust.py" stats "$out_dir/locust.json"
if [ "$locust_status" -ne 0 ]; then
  echo "locust: FAILED: locust exited with status $locust_status" >&2
  exit 1
fi
