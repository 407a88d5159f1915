"""Run the two load generators and summarize what they saw.

wrk (closed loop, many connections) measures saturation throughput; vegeta
(open loop: it sends on schedule whether or not earlier answers came back, so
slow answers cannot hide queueing, the coordinated-omission error) measures
latency at a fixed offered rate. Only a 202 is an acknowledged vote; its
latency is the only one counted in the percentiles."""

import csv
import os
import re
import subprocess

PERCENTILES = (("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("p99_9", 99.9))


def percentile(sorted_values, pct):
    """Return the nearest-rank percentile of an ascending list, or None if empty."""
    if not sorted_values:
        return None
    rank = max(1, -(-len(sorted_values) * pct // 100))
    return sorted_values[int(rank) - 1]


def start_wrk(wrk, url, bodies_path, script, seconds, connections, threads, log_path):
    """Start wrk in the background; returns the Popen (stdout goes to log_path)."""
    env = dict(os.environ, URNA_WRK_BODIES=bodies_path)
    log = open(log_path, "w", encoding="utf-8")
    command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
               "-s", script, url]
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)


def summarize_wrk(log_path):
    """Parse the counters bench/vote.lua prints at the end of a wrk run."""
    with open(log_path, encoding="utf-8") as log:
        text = log.read()
    counts = re.search(r"urna-wrk: sent=(\d+) answered=(\d+) acknowledged=(\d+) rejected=(\d+) "
                       r"socket_errors=(\d+) duration_us=(\d+)", text)
    if counts is None:
        raise RuntimeError(f"wrk printed no urna-wrk summary; see {log_path}")
    sent, answered, acknowledged, rejected, socket_errors, duration_us = map(int, counts.groups())
    latency = re.search(r"urna-wrk-latency-us: p50=(\d+) p90=(\d+) p99=(\d+) p999=(\d+)", text)
    seconds = duration_us / 1e6
    return {
        "sent": sent,
        "acknowledged": acknowledged,
        "non_2xx": rejected,
        "socket_errors": socket_errors,
        "unknown_outcome": sent - answered,
        "seconds": round(seconds, 3),
        "acknowledged_per_s": round(acknowledged / seconds, 1) if seconds > 0 else 0.0,
        # Closed-loop latency: each connection waits for its answer before
        # sending again, so these figures understate queueing delay.
        "closed_loop_latency_ms": {name: int(value) / 1000 for name, value in
                                   zip(("p50", "p90", "p99", "p99_9"), latency.groups())}
        if latency else None,
    }


def start_vegeta(vegeta, targets_path, rate, seconds, max_workers, results_path):
    """Start a vegeta attack at a fixed rate in the background; returns the Popen."""
    command = [vegeta, "attack", "-format=json", f"-targets={targets_path}", f"-rate={rate}/1s",
               f"-duration={seconds}s", "-timeout=10s", "-workers=64",
               f"-max-workers={max_workers}", f"-output={results_path}"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def summarize_vegeta(vegeta, results_path, offered_rate):
    """Return counts, rates and 202 latency percentiles (ms) of a vegeta results file."""
    encoded = subprocess.run([vegeta, "encode", "--to", "csv", results_path],
                             capture_output=True, text=True, check=True).stdout
    latencies, statuses, errors = [], {}, {}
    first_sent, last_sent, last_done = None, None, None
    for row in csv.reader(encoded.splitlines()):
        sent_ns, code, latency_ns = int(row[0]), int(row[1]), int(row[2])
        first_sent = sent_ns if first_sent is None else min(first_sent, sent_ns)
        last_sent = sent_ns if last_sent is None else max(last_sent, sent_ns)
        last_done = max(last_done or 0, sent_ns + latency_ns)
        statuses[str(code)] = statuses.get(str(code), 0) + 1
        if code == 202:
            latencies.append(latency_ns / 1e6)
        elif row[5]:
            reason = _short_error(row[5])
            errors[reason] = errors.get(reason, 0) + 1
    latencies.sort()
    total = sum(statuses.values())
    acknowledged = statuses.get("202", 0)
    send_span = (last_sent - first_sent) / 1e9 if total > 1 else 0.0
    whole_span = (last_done - first_sent) / 1e9 if total else 0.0
    return {
        "offered_per_s": offered_rate,
        "sent": total,
        "sent_per_s": round((total - 1) / send_span, 1) if send_span > 0 else 0.0,
        "acknowledged": acknowledged,
        "acknowledged_per_s": round(acknowledged / whole_span, 1) if whole_span > 0 else 0.0,
        "non_2xx": sum(n for code, n in statuses.items() if code not in ("202", "0")),
        "unknown_outcome": statuses.get("0", 0),
        "status_codes": statuses,
        "errors": errors,
        "latency_ms": {name: _round(percentile(latencies, pct)) for name, pct in PERCENTILES},
        "max_latency_ms": _round(latencies[-1]) if latencies else None,
    }


def _short_error(text):
    """Reduce a Go error to its last clause, so equal causes group together."""
    return text.rsplit(": ", 1)[-1][:80]


def _round(value):
    return None if value is None else round(value, 3)

