"""Check a headless Locust run from its final statistics (--json-file).

  check_locust.py stats STATS_JSON
      exit 1 unless at least one vote was sent and none failed
  check_locust.py counters TALLY_METRICS_URL
      print the tally's counted votes per route as JSON (a baseline)
  check_locust.py tally STATS_JSON TALLY_METRICS_URL BASELINE_JSON
      wait for the tally, then exit 1 unless the votes it counted since the
      baseline equal, route by route, the votes Locust saw acknowledged
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import probe  # noqa: E402  (bench/ is put on the path first)

ROUTES = ("grpc", "rest")


def read_stats(path):
    """Return {request name: (requests, failures)} from Locust's JSON
    statistics, with the sum over all names under "Aggregated"."""
    with open(path, encoding="utf-8") as source:
        entries = json.load(source)
    stats = {}
    for entry in entries:
        requests, failures = stats.get(entry["name"], (0, 0))
        stats[entry["name"]] = (requests + entry["num_requests"], failures + entry["num_failures"])
    stats["Aggregated"] = (sum(r for r, _ in stats.values()), sum(f for _, f in stats.values()))
    return stats


def check_stats(path):
    stats = read_stats(path)
    requests, failures = stats.get("Aggregated", (0, 0))
    for name, (count, failed) in sorted(stats.items()):
        print(f"locust: {name}: {count} votes sent, {failed} failed")
    if requests == 0:
        print(f"locust: FAILED: no vote was sent; see {path}")
        return 1
    if failures > 0:
        print(f"locust: FAILED: {failures} of {requests} votes were not acknowledged with 202; "
              f"see locust_failures.csv beside {path}")
        return 1
    return 0


def read_counters(url):
    return {route: probe.read_metric(url, "urna_tally_votes_counted_total", {"route": route})
            for route in ROUTES}


def check_tally(stats_path, url, baseline_json):
    stats = read_stats(stats_path)
    baseline = json.loads(baseline_json)
    status = 0
    for route in ROUTES:
        requests, failures = stats.get(f"/{route}/vote", (0, 0))
        acknowledged = requests - failures
        counted = probe.wait_for_count(url, route, baseline[route], acknowledged, timeout_s=60)
        verdict = "ok" if counted == acknowledged else "MISMATCH"
        print(f"locust: {route}: {acknowledged} votes acknowledged, {counted} counted by the tally: {verdict}")
        if counted != acknowledged:
            status = 1
    return status


def main(argv):
    if len(argv) == 3 and argv[1] == "stats":
        return check_stats(argv[2])
    if len(argv) == 3 and argv[1] == "counters":
        print(json.dumps(read_counters(argv[2])))
        return 0
    if len(argv) == 5 and argv[1] == "tally":
        return check_tally(argv[2], argv[3], argv[4])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
