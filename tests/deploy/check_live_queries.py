#!/usr/bin/python3
"""Run every query of urna's Grafana dashboards against a live stack.

Each Redis command a panel sends is run on the Redis at URNA_REDIS_ADDR
(host:port, password from URNA_REDIS_PASSWORD or URNA_REDIS_PASSWORD_FILE),
and each PromQL expression is evaluated by the Prometheus at
URNA_PROMETHEUS_URL. A query that fails or returns no data is a failure.
Prints one line per query and a final "N passed, M failed"; exits 1 on any
failure. Run it with /usr/bin/python3 (Debian's python3-redis and
python3-requests).
"""

import glob
import json
import os
import sys

import redis
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
DASHBOARDS = os.path.join(HERE, "..", "..", "deploy", "grafana", "dashboards", "*.json")
DATASOURCE_TYPES = {"urna-redis": "redis-datasource", "urna-prometheus": "prometheus"}
TIMEOUT_SECONDS = 10


def panels_of(dashboard):
    for panel in dashboard.get("panels", []):
        if panel.get("type") == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


def dashboard_queries(paths):
    """Yield (where, datasource type, target) for every panel target."""
    for path in sorted(paths):
        with open(path, encoding="utf-8") as handle:
            dashboard = json.load(handle)
        for panel in panels_of(dashboard):
            for target in panel.get("targets", []):
                uid = (target.get("datasource") or panel.get("datasource") or {}).get("uid")
                where = f'{os.path.basename(path)} "{panel.get("title")}" {target.get("refId")}'
                yield where, DATASOURCE_TYPES.get(uid, f"unknown uid {uid}"), target


def redis_command(target):
    """Build the argument list the Redis Data Source plugin would send."""
    if target.get("query"):
        return target["query"].split()
    command = target.get("command", "")
    args = [command.upper(), target.get("key", "")]
    if command == "hget":
        args.append(target.get("field", ""))
    return args


def has_data(reply):
    if reply is None:
        return False
    if isinstance(reply, (list, dict, set, bytes, str)):
        return len(reply) > 0
    return True


def run_redis(client, target):
    args = redis_command(target)
    reply = client.execute_command(*args)
    if not has_data(reply):
        return False, f"{' '.join(args)} returned no data"
    if isinstance(reply, (list, dict, set)):
        return True, f"{' '.join(args)} returned {len(reply)} item(s)"
    return True, f"{' '.join(args)} returned {reply}"


def run_promql(base_url, target):
    # Grafana's interval variables, in case a dashboard uses them.
    expr = target["expr"].replace("$__rate_interval", "1m").replace("$__interval", "15s")
    response = requests.get(f"{base_url}/api/v1/query", params={"query": expr}, timeout=TIMEOUT_SECONDS)
    body = response.json()
    if response.status_code != 200 or body.get("status") != "success":
        return False, f"{expr} failed: {body.get('error', response.status_code)}"
    series = body["data"]["result"]
    if not series:
        return False, f"{expr} returned no series"
    return True, f"{expr} returned {len(series)} series"


def redis_client():
    addr = os.environ.get("URNA_REDIS_ADDR", "127.0.0.1:6379")
    host, _, port = addr.rpartition(":")
    password = os.environ.get("URNA_REDIS_PASSWORD")
    password_file = os.environ.get("URNA_REDIS_PASSWORD_FILE")
    if not password and password_file:
        with open(password_file, encoding="utf-8") as handle:
            password = handle.read().strip()
    return redis.Redis(host=host or "127.0.0.1", port=int(port), password=password or None,
                       socket_timeout=TIMEOUT_SECONDS, decode_responses=True)


def main():
    paths = glob.glob(DASHBOARDS)
    if not paths:
        print(f"FAIL no dashboards found at {DASHBOARDS}")
        print("0 passed, 1 failed")
        return 1
    client = redis_client()
    prometheus_url = os.environ.get("URNA_PROMETHEUS_URL", "http://127.0.0.1:9090").rstrip("/")
    passed = failed = 0
    for where, kind, target in dashboard_queries(paths):
        try:
            if kind == "redis-datasource":
                ok, detail = run_redis(client, target)
            elif kind == "prometheus":
                ok, detail = run_promql(prometheus_url, target)
            else:
                ok, detail = False, f"datasource {kind} is not provisioned"
        except (redis.RedisError, requests.RequestException, ValueError) as error:
            ok, detail = False, f"{type(error).__name__}: {error}"
        print(f"{'ok' if ok else 'FAIL'} {where}: {detail}")
        passed, failed = (passed + 1, failed) if ok else (passed, failed + 1)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
