# Shared by bench/run.sh and load/smoke.sh: the benchmark's own stack.
# Source it after setting `root`; it defines bench_stack_up and
# bench_stack_down_if_started.

export URNA_RUN_DIR=${URNA_RUN_DIR:-$root/.run-bench}
export URNA_PORT_OFFSET=${URNA_PORT_OFFSET:-2500}
bench_stack_started=0

bench_stack_running() {
  [ -S "$URNA_RUN_DIR/supervisor.sock" ] &&
    supervisorctl -c "$URNA_RUN_DIR/supervisord.conf" pid >/dev/null 2>&1
}

# Starts the stack unless it is already running; a stack found running is
# left running at the end, so two tools can share it.
bench_stack_up() {
  local binary
  for binary in urna-grpc-front urna-grpc-producer urna-rest-front urna-rest-producer urna-tally; do
    if [ ! -x "$root/build/bin/$binary" ]; then
      echo "bench: $root/build/bin/$binary is missing: run 'make build' first" >&2
      return 1
    fi
  done
  if bench_stack_running; then
    echo "bench: reusing the stack already running in $URNA_RUN_DIR (port offset $URNA_PORT_OFFSET)"
  else
    bench_stack_started=1
  fi
  "$root/scripts/stack.sh" up
}

bench_stack_down_if_started() {
  if [ "$bench_stack_started" = 1 ]; then
    "$root/scripts/stack.sh" down || true
  fi
}
