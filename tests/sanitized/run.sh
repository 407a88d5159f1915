#!/usr/bin/env bash
# Runs the services built with AddressSanitizer + UBSan (build-asan/) as a
# full stack, sends votes and bad input through every route, stops the stack
# with SIGTERM so LeakSanitizer checks each process at exit, and fails when
# any process log holds a sanitizer report. Ports: the demo's plus 1500.
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export URNA_BIN_DIR=build-asan/bin URNA_RUN_DIR=.run-asan URNA_PORT_OFFSET=1500
export URNA_INGRESS_URL=http://127.0.0.1:9588 URNA_REDIS_ADDR=127.0.0.1:7879
export URNA_MONGO_URI=mongodb://127.0.0.1:28517
votes=${1:-2000}

rm -rf .run-asan
trap 'scripts/stack.sh down >/dev/null' EXIT
scripts/stack.sh up || exit 1

/usr/bin/python3 -c "import json,sys; v=json.load(open('data/votes.json')); json.dump(v[:int(sys.argv[1])], open('.run-asan/votes.json','w'))" "$votes"
failed=0
build-asan/bin/urna send .run-asan/votes.json --route both --concurrency 16 --reconcile || failed=1

for body in '{"name":' '[1]' '{"name":"x\u0000"}' '{"name":"Los Beatles","album":"8","year":2023,"rank":1}'; do
  for route in grpc rest rust; do
    curl -s -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary "$body" "$URNA_INGRESS_URL/$route/vote"
  done
done
printf '\xffPOST /rest/vote HTTP/1.1\r\nHost: a\r\n\r\n' | curl -s -o /dev/null --max-time 2 telnet://127.0.0.1:9500 || true
build-asan/bin/urna audit || failed=1

scripts/stack.sh down
trap - EXIT
reports=$(grep -lE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" .run-asan/logs/*.log)
if [ -n "$reports" ]; then
  echo "sanitized run: reports in $reports"
  grep -hE -A15 "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" $reports | head -60
  failed=1
fi
if [ "$failed" -eq 0 ]; then
  echo "sanitized run: no sanitizer report from any service; 1 passed, 0 failed"
else
  echo "sanitized run: 0 passed, 1 failed"
fi
exit "$failed"
