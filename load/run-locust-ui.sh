#!/usr/bin/env bash
# Open Locust's web UI on http://127.0.0.1:8089 against the demo stack's
# ingress (http://127.0.0.1:8088); extra arguments go to locust, for example
# --host http://127.0.0.1:28088. Route weights: URNA_GRPC_WEIGHT, URNA_REST_WEIGHT.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
"$root/load/setup.sh"
echo "locust: web UI on http://127.0.0.1:8089 (Ctrl-C stops it)"
exec "$root/.venv-load/bin/locust" -f "$root/load/locustfile.py" \
  --web-host 127.0.0.1 --web-port 8089 "$@"
