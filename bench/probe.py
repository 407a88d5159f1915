"""Observe the stack during a benchmark step: process CPU and RSS from /proc,
the tally's counters from its /metrics endpoint, and PromQL from Prometheus."""

import json
import os
import re
import subprocess
import threading
import time
import urllib.parse
import urllib.request

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def supervised_pid(supervisor_conf, name):
    """Return the PID supervisord reports for program name, or None when it is not running."""
    result = subprocess.run(["supervisorctl", "-c", supervisor_conf, "pid", name],
                            capture_output=True, text=True, check=False)
    text = result.stdout.strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


def _read_stat(pid):
    """Return (ppid, cpu_seconds, rss_kib) of pid from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    # Fields after the command name start at field 3 (state): ppid is 4,
    # utime 14, stime 15, rss 24 (in pages); see proc(5).
    ppid = int(fields[1])
    cpu_seconds = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    rss_kib = int(fields[21]) * PAGE_KIB
    return ppid, cpu_seconds, rss_kib


def with_descendants(pid):
    """Return pid and every process below it (nginx workers, the JVM's children)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            ppid = _read_stat(int(entry))[0]
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(children.get(current, []))
    return found


def _machine_cpu():
    """Return (busy, total) jiffies of the whole machine from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class ProcessSampler:
    """Sampler of the CPU time and RSS of named process groups, in a thread.

    groups maps a name to a list of PIDs. A group's RSS is the sum over its
    PIDs, and the reported maximum is the largest sum seen in one sample."""

    def __init__(self, groups, interval_s=0.5):
        self.groups = groups
        self.interval_s = interval_s
        self.max_rss_kib = {name: 0 for name in groups}
        self.cpu_start = {}
        self.cpu_end = {}
        self._last_cpu = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self):
        """Read every PID once; a PID that has exited keeps its last CPU time,
        so a load generator that ends before stop() still shows its share."""
        cpu = {}
        for name, pids in self.groups.items():
            rss_total = 0
            for pid in pids:
                try:
                    _, cpu_seconds, rss_kib = _read_stat(pid)
                except (OSError, IndexError, ValueError):
                    continue
                rss_total += rss_kib
                self._last_cpu[pid] = cpu_seconds
            self.max_rss_kib[name] = max(self.max_rss_kib[name], rss_total)
            cpu[name] = sum(self._last_cpu.get(pid, 0.0) for pid in pids)
        return cpu

    def _run(self):
        while not self._stop.wait(self.interval_s):
            self._sample()

    def start(self):
        self.started = time.monotonic()
        self.machine_start = _machine_cpu()
        self.cpu_start = self._sample()
        self._thread.start()

    def stop(self):
        """Stop sampling and return a summary: CPU cores used and max RSS per group."""
        self._stop.set()
        self._thread.join()
        self.cpu_end = self._sample()
        elapsed = time.monotonic() - self.started
        busy_start, total_start = self.machine_start
        busy_end, total_end = _machine_cpu()
        summary = {"seconds": round(elapsed, 2),
                   "machine_busy_fraction": round((busy_end - busy_start) / max(1, total_end - total_start), 3),
                   "processes": {}}
        for name in self.groups:
            used = self.cpu_end.get(name, 0.0) - self.cpu_start.get(name, 0.0)
            summary["processes"][name] = {
                "cpu_cores": round(used / elapsed, 3) if elapsed > 0 else None,
                "max_rss_mib": round(self.max_rss_kib[name] / 1024, 1),
            }
        return summary


_SAMPLE = re.compile(r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?P<labels>[^}]*)\})?\s+(?P<value>\S+)')


def read_metric(url, name, labels=None):
    """Return the sum of the samples of metric name at a /metrics url whose
    labels include every pair in labels."""
    with urllib.request.urlopen(url, timeout=5) as reply:
        text = reply.read().decode()
    total = 0.0
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match is None or match["name"] != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match["labels"] or ""))
        if all(found.get(k) == v for k, v in (labels or {}).items()):
            total += float(match["value"])
    return total


def wait_for_count(url, route, baseline, expected, timeout_s, quiet_s=2.0):
    """Wait until the tally counted at least `expected` votes of route since
    baseline and its counter stayed still for quiet_s; return the votes
    counted since baseline (which may exceed expected)."""
    deadline = time.monotonic() + timeout_s
    last_value, last_change = None, time.monotonic()
    while True:
        value = read_metric(url, "urna_tally_votes_counted_total", {"route": route}) - baseline
        now = time.monotonic()
        if value != last_value:
            last_value, last_change = value, now
        if value >= expected and now - last_change >= quiet_s:
            return int(value)
        if now >= deadline:
            return int(value)
        time.sleep(0.25)


def promql(prometheus_url, query):
    """Return the first value of an instant PromQL query, or None when empty or NaN."""
    url = f"{prometheus_url}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:
            data = json.load(reply)
    except OSError:
        return None
    result = data.get("data", {}).get("result", [])
    if data.get("status") != "success" or not result:
        return None
    value = float(result[0]["value"][1])
    return None if value != value else value
