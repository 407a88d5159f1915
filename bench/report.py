"""Present a benchmark result: the comparison table, the PNG chart, and the
checks that decide the exit status."""

import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

C_SERVICES = ("grpc-front", "grpc-producer", "rest-front", "rest-producer", "tally-0")


def _ms(value):
    if value is None:
        return "-"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


# The largest finite bucket bound of urna's histograms (src/common/metrics.c):
# histogram_quantile returns it for any quantile that falls above it.
TOP_BUCKET_S = 10.0


def _freshness_ms(record):
    value = record.get("freshness_s", {}).get("p99")
    if value is None:
        return "-"
    return f">={TOP_BUCKET_S * 1000:.0f}" if value >= TOP_BUCKET_S else f"{value * 1000:.0f}"


def print_tables(result, out):
    """Print the latency table, the saturation table and the RSS table."""
    out.write("\nLatency of acknowledged votes (vegeta, open loop; ms):\n")
    header = (f"{'route':<5} {'offered/s':>9} {'sent/s':>8} {'achieved/s':>10} {'p50':>7} {'p90':>7} "
              f"{'p99':>7} {'p99.9':>7} {'non-2xx':>7} {'no-answer':>9} {'fresh p99':>9} {'load avg':>8}\n")
    out.write(header)
    for route, entry in result["routes"].items():
        for record in entry["rates"]:
            lat = record["latency_ms"]
            out.write(f"{route:<5} {record['offered_per_s']:>9} {record['sent_per_s']:>8.0f} "
                      f"{record['acknowledged_per_s']:>10.0f} {_ms(lat['p50']):>7} {_ms(lat['p90']):>7} "
                      f"{_ms(lat['p99']):>7} {_ms(lat['p99_9']):>7} {record['non_2xx']:>7} "
                      f"{record['unknown_outcome']:>9} {_freshness_ms(record):>9} "
                      f"{record['load_average'][0]:>8.2f}\n")

    out.write("\nSaturation (wrk, closed loop):\n")
    out.write(f"{'route':<5} {'conns':>5} {'acknowledged/s':>14} {'non-2xx':>7} {'no-answer':>9} "
              f"{'fresh p99 ms':>12} {'busy CPU':>8}  top CPU users (cores)\n")
    for route, entry in result["routes"].items():
        record = entry["saturation"]
        resources = record["resources"]
        top = sorted(resources["processes"].items(), key=lambda item: -(item[1]["cpu_cores"] or 0))[:4]
        top_text = ", ".join(f"{name} {usage['cpu_cores']:.2f}" for name, usage in top)
        out.write(f"{route:<5} {record['connections']:>5} {record['acknowledged_per_s']:>14.0f} "
                  f"{record['non_2xx']:>7} {record['unknown_outcome']:>9} {_freshness_ms(record):>12} "
                  f"{resources['machine_busy_fraction'] * 100:>7.0f}%  {top_text}\n")

    out.write("\np99 of each hop from the services' histograms through PromQL (ms):\n")
    out.write(f"{'route':<5} {'step':>10} {'front':>8} {'producer':>8} {'kafka':>8} {'redis':>8} "
              f"{'mongodb':>8} {'queue max':>9}\n")
    for route, entry in result["routes"].items():
        for record in [entry["saturation"]] + entry["rates"]:
            step = f"{record['offered_per_s']}/s" if "offered_per_s" in record else "saturation"
            hops = record["hops_p99_ms"]
            queue = record.get("producer_queue_max")
            out.write(f"{route:<5} {step:>10} {_ms(hops['front']):>8} {_ms(hops['producer_call']):>8} "
                      f"{_ms(hops['kafka_delivery']):>8} {_ms(hops.get('tally_redis_batch')):>8} "
                      f"{_ms(hops.get('tally_mongodb_batch')):>8} "
                      f"{'-' if queue is None else f'{queue:.0f}':>9}\n")

    out.write("\nMax RSS of each C service over the run's steps (MiB, from /proc; sampled every 0.5 s):\n")
    out.write(" ".join(f"{name:>13}" for name in C_SERVICES) + "\n")
    out.write(" ".join(f"{max_rss(result, name):>13.1f}" for name in C_SERVICES) + "\n")
    out.write(f"\nLoad average (1, 5, 15 min): {result['load_average_start']} at the start, "
              f"{result['load_average_end']} at the end.\n")


def max_rss(result, name):
    records = []
    for entry in result["routes"].values():
        records += [entry["saturation"]] + entry["rates"]
    return max(r["resources"]["processes"][name]["max_rss_mib"] for r in records)


def draw_chart(result, path):
    """Draw latency percentiles against offered rate for each route, and the
    saturation throughput as bars."""
    figure, (latency_axes, bar_axes) = plt.subplots(1, 2, figsize=(12, 5),
                                                    gridspec_kw={"width_ratios": [3, 1]})
    styles = {"p50": ":", "p90": "-.", "p99": "-", "p99_9": "--"}
    colors = {"grpc": "tab:blue", "rest": "tab:orange"}
    for route, entry in result["routes"].items():
        rates = [r["offered_per_s"] for r in entry["rates"]]
        for name, style in styles.items():
            values = [r["latency_ms"][name] for r in entry["rates"]]
            points = [(x, y) for x, y in zip(rates, values) if y is not None]
            if points:
                latency_axes.plot(*zip(*points), style, marker="o", color=colors.get(route),
                                  label=f"{route} {name.replace('_', '.')}")
    all_rates = sorted({r["offered_per_s"] for entry in result["routes"].values() for r in entry["rates"]})
    latency_axes.set_xscale("log")
    latency_axes.set_yscale("log")
    latency_axes.set_xticks(all_rates)
    latency_axes.set_xticklabels([str(rate) for rate in all_rates])
    latency_axes.minorticks_off()
    latency_axes.set_xlabel("offered votes/s (vegeta, open loop)")
    latency_axes.set_ylabel("latency of acknowledged votes (ms)")
    latency_axes.grid(True, which="both", alpha=0.3)
    latency_axes.legend(fontsize="small", ncol=2)

    routes = list(result["routes"])
    throughput = [result["routes"][r]["saturation"]["acknowledged_per_s"] for r in routes]
    bar_axes.bar(routes, throughput, color=[colors.get(r) for r in routes])
    bar_axes.set_ylabel("acknowledged votes/s at saturation (wrk)")
    for x, value in enumerate(throughput):
        bar_axes.annotate(f"{value:.0f}", (x, value), ha="center", va="bottom")

    figure.suptitle(f"urna benchmark {result['started_at']} ({result['machine']['cpus']} CPUs, "
                    f"load average {result['load_average_start'][0]:.1f} at start, "
                    f"{result['load_average_end'][0]:.1f} at end)")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def verify(result, paths, out):
    """Check that every step ran, the tally's count matches the acknowledged
    votes and the output files exist; return 0 or 3."""
    failures = []
    steps = [(route, "warm-up", record) for route, record in result.get("warmup", {}).items()]
    for route, entry in result["routes"].items():
        steps.append((route, "saturation", entry["saturation"]))
        steps.extend((route, f"{r['offered_per_s']}/s", r) for r in entry["rates"])
    for route, name, record in steps:
        accounting = record["accounting"]
        if record["acknowledged"] == 0:
            failures.append(f"{route} {name}: no vote was acknowledged")
        if not accounting["ok"]:
            failures.append(
                f"{route} {name}: {record['acknowledged']} acknowledged but {record['counted']} counted "
                f"({accounting['acknowledged_not_counted']} acknowledged and not counted, "
                f"{accounting['counted_not_acknowledged']} counted without a 202, "
                f"{record['unknown_outcome']} answers never read)")
    for path in paths:
        if not os.path.isfile(path) or os.path.getsize(path) == 0:
            failures.append(f"{path} is missing or empty")
    if failures:
        out.write("bench: FAILED\n" + "".join(f"  - {line}\n" for line in failures))
        return 3
    out.write(f"bench: accounting checked on {len(steps)} steps: every acknowledged vote was counted "
              f"and every counted vote was acknowledged (or its answer was never read)\n")
    return 0


if __name__ == "__main__":
    # Reprint the tables of a saved result: report.py bench/results/<stamp>.json
    if len(sys.argv) != 2:
        sys.exit("usage: report.py RESULT_JSON")
    with open(sys.argv[1], encoding="utf-8") as source:
        print_tables(json.load(source), sys.stdout)
