"""Benchmark both vote routes of a running urna stack (started by bench/run.sh).

For each route: saturation throughput with wrk, then latency at each fixed
offered rate with vegeta. After every step the tally must have counted exactly
the acknowledged votes (see check_accounting), and freshness comes from the
tally's histogram through PromQL. Writes <out-dir>/<stamp>.json and .png and
prints the comparison table. Exits 3 when the accounting check fails."""

import argparse
import json
import math
import os
import platform
import sys
import time
from datetime import datetime, timezone

import generators
import probe
import report

C_SERVICES = ("grpc-front", "grpc-producer", "rest-front", "rest-producer", "tally-0")
OTHER_PROCESSES = ("nginx", "kafka", "redis", "ferretdb")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run-dir", required=True, help="the stack's URNA_RUN_DIR")
    parser.add_argument("--offset", type=int, required=True, help="the stack's URNA_PORT_OFFSET")
    parser.add_argument("--prometheus", required=True, help="Prometheus base URL")
    parser.add_argument("--out-dir", required=True, help="folder for <stamp>.json and .png")
    parser.add_argument("--work-dir", required=True, help="folder for raw generator output")
    parser.add_argument("--votes", required=True, help="JSON array of votes to send")
    parser.add_argument("--routes", default="grpc,rest")
    parser.add_argument("--rates", default="500,1000,2000,5000", help="offered votes/s, comma-separated")
    parser.add_argument("--step-seconds", type=int, default=20, help="length of each fixed-rate step")
    parser.add_argument("--saturation-seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=256, help="wrk connections in flight")
    parser.add_argument("--warmup-seconds", type=int, default=15,
                        help="unrecorded wrk load on each route before the first step (0: none)")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--max-workers", type=int, default=4000,
                        help="vegeta's cap on requests in flight; reaching it lowers the sent rate")
    parser.add_argument("--target", choices=("ingress", "front"), default="ingress",
                        help="send through nginx (as clients do) or straight to each front")
    parser.add_argument("--settle-timeout", type=float, default=120.0,
                        help="seconds to wait for the tally to count a step's votes")
    parser.add_argument("--mode", default="full")
    parser.add_argument("--tools-bin", required=True, help="folder holding vegeta")
    return parser.parse_args(argv)


def vote_url(args, route):
    if args.target == "ingress":
        return f"http://127.0.0.1:{8088 + args.offset}/{route}/vote"
    front_port = {"grpc": 3000, "rest": 8000}[route] + args.offset
    return f"http://127.0.0.1:{front_port}/{route}/vote"


def process_groups(args):
    """Map each watched program to its PIDs (with children) via supervisord."""
    conf = os.path.join(args.run_dir, "supervisord.conf")
    groups = {}
    for name in C_SERVICES + OTHER_PROCESSES:
        pid = probe.supervised_pid(conf, name)
        if pid is None:
            raise SystemExit(f"bench: {name} is not running in {args.run_dir}; see {args.run_dir}/logs/")
        groups[name] = probe.with_descendants(pid)
    return groups


def load_average():
    with open("/proc/loadavg", encoding="ascii") as loadavg:
        return [float(v) for v in loadavg.read().split()[:3]]


class Step:
    """Shared steps around one load run: counters before, sampling, settling after."""

    def __init__(self, args, route, groups):
        self.args = args
        self.route = route
        self.groups = dict(groups)
        self.tally_url = f"http://127.0.0.1:{9100 + args.offset}/metrics"

    def begin(self, generator_pid):
        self.baseline = probe.read_metric(self.tally_url, "urna_tally_votes_counted_total",
                                          {"route": self.route})
        self.started_wall = time.time()
        self.groups["load-generator"] = [generator_pid]
        self.sampler = probe.ProcessSampler(self.groups)
        self.sampler.start()

    def finish(self, record):
        """Add resources, tally accounting, freshness and per-hop latency to record."""
        record["resources"] = self.sampler.stop()
        record["counted"] = probe.wait_for_count(self.tally_url, self.route, self.baseline,
                                                 record["acknowledged"], self.args.settle_timeout)
        record["accounting"] = check_accounting(record)
        # Wait two scrapes (1 s apart) so Prometheus has the settled counters.
        time.sleep(2.5)
        window = math.ceil(time.time() - self.started_wall) + 2
        record["window_s"] = window
        record["freshness_s"] = {
            "p50": histogram_quantile(self.args.prometheus, 0.50, "urna_tally_freshness_seconds_bucket", "", window),
            "p99": histogram_quantile(self.args.prometheus, 0.99, "urna_tally_freshness_seconds_bucket", "", window),
        }
        record["hops_p99_ms"] = hop_percentiles(self.args.prometheus, self.route, window)
        record["producer_queue_max"] = probe.promql(
            self.args.prometheus,
            f'max(max_over_time(urna_producer_queue_depth{{service="{self.route}-producer"}}[{window}s]))')
        record["load_average"] = load_average()
        return record


def histogram_quantile(prometheus, q, bucket, selector, window):
    query = f"histogram_quantile({q}, sum by (le) (increase({bucket}{{{selector}}}[{window}s])))"
    return probe.promql(prometheus, query)


def to_ms(seconds):
    return None if seconds is None else round(seconds * 1000, 2)


def hop_percentiles(prometheus, route, window):
    """p99 in ms of each hop the services time for route (the front's whole
    response, the call to the producer, the Kafka delivery report) and of the
    tally's batch writes to Redis and MongoDB."""
    hops = {}
    for hop in ("front", route, "kafka_delivery"):
        value = histogram_quantile(prometheus, 0.99, "urna_request_duration_seconds_bucket",
                                   f'route="{route}",hop="{hop}"', window)
        key = "producer_call" if hop == route else hop
        hops[key] = to_ms(value)
    for store in ("redis", "mongodb"):
        value = histogram_quantile(prometheus, 0.99, "urna_tally_store_write_seconds_bucket",
                                   f'store="{store}"', window)
        hops[f"tally_{store}_batch"] = to_ms(value)
    return hops


def check_accounting(record):
    """Every acknowledged vote must be counted, and every counted vote must
    have been acknowledged, except those whose response the generator never
    read (wrk's cut-off, timeouts): a vote answered 503 promised the client it
    was not counted."""
    missing = max(0, record["acknowledged"] - record["counted"])
    extra = max(0, record["counted"] - record["acknowledged"])
    return {"acknowledged_not_counted": missing, "counted_not_acknowledged": extra,
            "ok": missing == 0 and extra <= record["unknown_outcome"]}


def run_saturation(args, route, groups, inputs, seconds, connections, name):
    step = Step(args, route, groups)
    log_path = os.path.join(args.work_dir, f"wrk-{name}-{route}.log")
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vote.lua")
    process = generators.start_wrk("wrk", vote_url(args, route), inputs["bodies"], script,
                                   seconds, connections, args.wrk_threads, log_path)
    step.begin(process.pid)
    process.wait(timeout=seconds + 60)
    if process.returncode != 0:
        raise SystemExit(f"bench: wrk exited with {process.returncode}; see {log_path}")
    record = generators.summarize_wrk(log_path)
    record["connections"] = connections
    return step.finish(record)


def run_fixed_rate(args, route, groups, inputs, rate):
    step = Step(args, route, groups)
    results_path = os.path.join(args.work_dir, f"vegeta-{route}-{rate}.bin")
    vegeta = os.path.join(args.tools_bin, "vegeta")
    process = generators.start_vegeta(vegeta, inputs[f"targets-{route}"], rate, args.step_seconds,
                                      args.max_workers, results_path)
    step.begin(process.pid)
    _, stderr = process.communicate(timeout=args.step_seconds + 60)
    if process.returncode != 0:
        raise SystemExit(f"bench: vegeta exited with {process.returncode}: {stderr.strip()}")
    record = generators.summarize_vegeta(vegeta, results_path, rate)
    return step.finish(record)


def machine_details():
    model = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="ascii") as meminfo:
        mem_kib = int(meminfo.readline().split()[1])
    return {"cpu_model": model, "cpus": os.cpu_count(), "memory_gib": round(mem_kib / 2**20, 1),
            "kernel": platform.release()}


def prepare_inputs(args, routes):
    import votes
    inputs = {"bodies": os.path.join(args.work_dir, "bodies.txt")}
    votes.write_bodies(args.votes, inputs["bodies"])
    for route in routes:
        path = os.path.join(args.work_dir, f"targets-{route}.jsonl")
        votes.write_targets(args.votes, vote_url(args, route), path)
        inputs[f"targets-{route}"] = path
    return inputs


def main(argv):
    args = parse_args(argv)
    routes = [r for r in args.routes.split(",") if r]
    rates = [int(r) for r in args.rates.split(",") if r]
    os.makedirs(args.work_dir, exist_ok=True)
    os.makedirs(args.out_dir, exist_ok=True)
    inputs = prepare_inputs(args, routes)
    groups = process_groups(args)

    result = {"started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "mode": args.mode, "machine": machine_details(), "load_average_start": load_average(),
              "config": {k: v for k, v in vars(args).items() if k not in ("run_dir", "work_dir", "out_dir", "tools_bin")}}
    if args.warmup_seconds > 0:
        # Kafka's JVM compiles its hot paths during the first seconds of load;
        # without a warm-up the first route measured would pay for it.
        result["warmup"] = {}
        for route in routes:
            print(f"bench: {route}: warm-up with wrk, 32 connections, {args.warmup_seconds} s", flush=True)
            result["warmup"][route] = run_saturation(args, route, groups, inputs,
                                                     args.warmup_seconds, 32, "warmup")
    # The routes take turns at each step, so a change in the machine's other
    # load during the run affects both alike.
    result["routes"] = {route: {"rates": []} for route in routes}
    for route in routes:
        print(f"bench: {route}: saturation with wrk, {args.connections} connections, "
              f"{args.saturation_seconds} s", flush=True)
        result["routes"][route]["saturation"] = run_saturation(
            args, route, groups, inputs, args.saturation_seconds, args.connections, "saturation")
    for rate in rates:
        for route in routes:
            print(f"bench: {route}: {rate} votes/s offered for {args.step_seconds} s with vegeta",
                  flush=True)
            result["routes"][route]["rates"].append(run_fixed_rate(args, route, groups, inputs, rate))
    result["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    result["load_average_end"] = load_average()

    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H%MZ")
    json_path = os.path.join(args.out_dir, f"{stamp}.json")
    png_path = os.path.join(args.out_dir, f"{stamp}.png")
    with open(json_path, "w", encoding="utf-8") as out:
        json.dump(result, out, indent=2)
    report.draw_chart(result, png_path)
    report.print_tables(result, sys.stdout)
    print(f"bench: wrote {json_path} and {png_path}")
    return report.verify(result, [json_path, png_path], sys.stdout)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
