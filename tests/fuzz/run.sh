#!/usr/bin/env bash
# Builds urna's libFuzzer targets with clang and runs each for SECONDS.
#
#   tests/fuzz/run.sh SECONDS [target...]      (default: every target)
#
# Each target runs on its own corpus in build-fuzz/corpus/<target>, which
# starts as a copy of tests/fuzz/corpus/<target> and keeps what earlier runs
# found, so the committed seeds stay small. Crash, leak, timeout and
# out-of-memory inputs go to build-fuzz/artifacts/<target>/, which is emptied
# at the start of each run. Prints executions, exec/s, time, corpus size and
# crashes per target, and exits 1 when any target crashed, leaked, timed out
# or printed a sanitizer report.
#
# libFuzzer stops at the first crash. With URNA_FUZZ_KEEP_GOING=1 it runs in
# fork mode with -ignore_crashes=1 instead, so a known crash does not hide
# the next one; every crash is still saved and still fails the run.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${URNA_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
ALL_TARGETS=(fuzz_vote_parse fuzz_http_front fuzz_grpc_request)
JOBS=${JOBS:-2}

usage() {
    echo "usage: tests/fuzz/run.sh SECONDS [target...]; targets: ${ALL_TARGETS[*]}" >&2
    exit 2
}

# Largest input libFuzzer generates, per target: a huge header must fit in
# the HTTP front's inputs, while a VoteRequest is small.
max_len_of() {
    case "$1" in
        fuzz_vote_parse) echo 16384 ;;
        fuzz_http_front) echo 65536 ;;
        fuzz_grpc_request) echo 2048 ;;
    esac
}

[[ $# -ge 1 && $1 =~ ^[1-9][0-9]*$ ]] || usage
SECONDS_PER_TARGET=$1
shift
TARGETS=("$@")
[[ ${#TARGETS[@]} -gt 0 ]] || TARGETS=("${ALL_TARGETS[@]}")
for target in "${TARGETS[@]}"; do
    [[ " ${ALL_TARGETS[*]} " == *" $target "* ]] || { echo "run.sh: unknown target \"$target\"" >&2; usage; }
done

echo "== fuzz: building ${TARGETS[*]} with clang into $BUILD_DIR"
mkdir -p "$BUILD_DIR"
if ! cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DURNA_FUZZ=ON >"$BUILD_DIR/configure.log" 2>&1; then
    cat "$BUILD_DIR/configure.log" >&2
    echo "run.sh: cmake configure failed; is Debian's clang installed (apt-get install clang libclang-rt-14-dev)?" >&2
    exit 1
fi
cmake --build "$BUILD_DIR" -j"$JOBS" --target "${TARGETS[@]}" || {
    echo "run.sh: building the fuzz targets failed" >&2
    exit 1
}

# abort_on_error makes every sanitizer report a crash that libFuzzer saves;
# a smaller quarantine keeps the leak checks of the HTTP front's threads fast.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:quarantine_size_mb=64:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:abort_on_error=1}

failed=0
summary=()
for target in "${TARGETS[@]}"; do
    corpus="$BUILD_DIR/corpus/$target"
    artifacts="$BUILD_DIR/artifacts/$target"
    log="$BUILD_DIR/logs/$target.log"
    dict="$ROOT/tests/fuzz/dict/$target.dict"
    mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
    rm -f "$artifacts"/*
    cp -n "$ROOT/tests/fuzz/corpus/$target"/* "$corpus"/ 2>/dev/null

    options=(-max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -timeout=10
             -max_len="$(max_len_of "$target")" -print_final_stats=1
             -artifact_prefix="$artifacts/")
    [[ -f $dict ]] && options+=(-dict="$dict")
    [[ ${URNA_FUZZ_KEEP_GOING:-0} == 1 ]] && options+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)

    echo "== fuzz: $target for ${SECONDS_PER_TARGET}s (log: $log)"
    started=$(date +%s)
    "$BUILD_DIR/bin/$target" "${options[@]}" "$corpus" >"$log" 2>&1
    status=$?
    elapsed=$(( $(date +%s) - started ))

    executions=$(awk '/^stat::number_of_executed_units:/ {print $2}' "$log")
    exec_per_s=$(awk '/^stat::average_exec_per_sec:/ {print $2}' "$log")
    if [[ -z $executions ]]; then
        # Fork mode prints progress lines "#EXECUTIONS: cov: ..." and no stat:: lines.
        executions=$(grep -aoE '^#[0-9]+: cov:' "$log" | tail -1 | tr -dc '0-9')
        [[ -n $executions && $elapsed -gt 0 ]] && exec_per_s=$(( executions / elapsed ))
    fi
    corpus_files=$(find "$corpus" -type f | wc -l)
    corpus_kib=$(( ($(find "$corpus" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}') + 1023) / 1024 ))
    crashes=$(find "$artifacts" -type f | wc -l)
    reports=$(grep -cE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|fuzz invariant failed' "$log")

    verdict=ok
    if [[ $status -ne 0 || $crashes -gt 0 || $reports -gt 0 ]]; then
        verdict=FAILED
        failed=1
        echo "run.sh: $target failed (exit $status, $crashes artifacts, $reports reports); the report:" >&2
        grep -nE -A40 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|fuzz invariant failed' "$log" | head -80 >&2
        for artifact in "$artifacts"/*; do
            [[ -f $artifact ]] && echo "run.sh: reproduce with: $BUILD_DIR/bin/$target $artifact" >&2
        done
    fi
    summary+=("$(printf '%-18s %12s %8s %7ss %7s files %7s KiB %8s  %s' "$target" \
        "${executions:-?}" "${exec_per_s:-?}" "$elapsed" "$corpus_files" "$corpus_kib" "$crashes" \
        "$verdict")")
done

echo
printf '%-18s %12s %8s %8s %25s %8s  %s\n' target executions exec/s time corpus crashes result
printf '%s\n' "${summary[@]}"
exit $failed
