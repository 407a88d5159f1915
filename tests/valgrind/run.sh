#!/usr/bin/env bash
# Runs urna's services under valgrind (memcheck) as a full stack, sends votes
# and bad input through every route, stops the stack with SIGTERM, and fails
# when any service reports a memory error or a definite leak. Ports: the
# demo's plus 700.
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export URNA_RUN_DIR=.run-valgrind URNA_PORT_OFFSET=700
export URNA_INGRESS_URL=http://127.0.0.1:8788 URNA_REDIS_ADDR=127.0.0.1:7079
export URNA_MONGO_URI=mongodb://127.0.0.1:27717
export URNA_DELIVERY_TIMEOUT_MS=15000
logs="$root/.run-valgrind/logs"
export URNA_SERVICE_WRAPPER="valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect --suppressions=$root/tests/valgrind/urna.supp --log-file=$logs/valgrind-%%p.log"  # %% is supervisord's escape for %
votes=${1:-300}

rm -rf .run-valgrind
mkdir -p "$logs"
trap 'scripts/stack.sh down >/dev/null' EXIT
scripts/stack.sh up || exit 1

/usr/bin/python3 -c "import json,sys; v=json.load(open('data/votes.json')); json.dump(v[:int(sys.argv[1])], open('.run-valgrind/votes.json','w'))" "$votes"
failed=0
build/bin/urna send .run-valgrind/votes.json --route both --concurrency 8 --reconcile --wait-s 300 || failed=1
for body in '{"name":' '[1]' '{"name":"Los Beatles","album":"8","year":2023,"rank":1}'; do
  for route in grpc rest rust; do
    curl -s -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary "$body" "$URNA_INGRESS_URL/$route/vote"
  done
done
curl -s -o /dev/null "$URNA_INGRESS_URL/api/results"

scripts/stack.sh down
trap - EXIT
bad=$(grep -lE "ERROR SUMMARY: [1-9]|definitely lost: [1-9]|indirectly lost: [1-9]" "$logs"/valgrind-*.log)
checked=$(ls "$logs"/valgrind-*.log | wc -l)
# A process killed before exiting normally writes no summary: that is a failure too.
unfinished=$(grep -L "ERROR SUMMARY" "$logs"/valgrind-*.log)
if [ -n "$unfinished" ] || [ "$checked" -lt 6 ]; then
  echo "valgrind run: $checked logs; without a final summary: ${unfinished:-none}"
  failed=1
fi
if [ -n "$bad" ]; then
  echo "valgrind run: reports in $bad"
  grep -hE -B2 -A25 "Invalid|uninitialised|definitely lost in|indirectly lost in" $bad | head -80
  failed=1
fi
if [ "$failed" -eq 0 ]; then
  echo "valgrind run: $checked service processes, no memory error or definite leak; 1 passed, 0 failed"
else
  echo "valgrind run: 0 passed, 1 failed"
fi
exit "$failed"
