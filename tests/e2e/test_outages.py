"""A hop that is down: the front answers 503 with Retry-After, never 2xx,
and recovers by itself when the hop returns. Also configuration errors."""
import json
import os
import subprocess
import time
import urllib.request

from conftest import ROOT
from test_bad_input import post, with_field


def test_rest_producer_down_gives_503(stack):
    stack.supervisorctl("stop", "rest-producer")
    try:
        status, headers, data = post("/rest/vote", with_field())
        assert status == 503
        assert headers["Retry-After"] == "1"
        assert json.loads(data)["error"] == "kafka_unavailable"
    finally:
        stack.supervisorctl("start", "rest-producer")
    deadline = time.monotonic() + 20
    status = 0
    while status != 202 and time.monotonic() < deadline:
        status, _, _ = post("/rest/vote", with_field())
        time.sleep(0.2)
    assert status == 202


def test_grpc_producer_down_gives_503(stack):
    stack.supervisorctl("stop", "grpc-producer")
    try:
        status, headers, _ = post("/grpc/vote", with_field())
        assert status == 503
        assert headers["Retry-After"] == "1"
    finally:
        stack.supervisorctl("start", "grpc-producer")
    deadline = time.monotonic() + 30
    status = 0
    while status != 202 and time.monotonic() < deadline:
        status, _, _ = post("/grpc/vote", with_field())
        time.sleep(0.3)
    assert status == 202


def tally_log_lag(stack):
    """Sums urna_tally_consumer_lag{stage="log"} over both tally instances."""
    total = 0.0
    for name in ("tally-0", "tally-1"):
        url = f"http://127.0.0.1:{stack.ports[name]}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            text = response.read().decode()
        for line in text.splitlines():
            if line.startswith('urna_tally_consumer_lag{stage="log"'):
                total += float(line.split()[-1])
    return total


def wait_for(condition, timeout):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.2)
    return condition()


def test_mongodb_down_counting_continues(stack):
    """The count stage does not wait for MongoDB: votes are counted while it
    is down, the log stage's lag shows what is missing, and it drains when
    MongoDB is back."""
    # Earlier tests' votes must be logged first, so the counts below are ours.
    assert wait_for(lambda: int(stack.redis.get("urna:total") or 0)
                    == stack.votes.count_documents({}), 60)
    counted_before = int(stack.redis.get("urna:total") or 0)
    logged_before = stack.votes.count_documents({})
    stack.supervisorctl("stop", "ferretdb")
    try:
        for i in range(40):
            status, _, _ = post("/grpc/vote" if i % 2 else "/rest/vote", with_field())
            assert status == 202
        assert wait_for(lambda: int(stack.redis.get("urna:total") or 0) == counted_before + 40, 30)
        assert wait_for(lambda: tally_log_lag(stack) >= 40, 15)
    finally:
        stack.supervisorctl("start", "ferretdb")

    counted, logged = stack.wait_counted(counted_before + 40, timeout=90)
    assert (counted, logged) == (counted_before + 40, logged_before + 40)
    assert wait_for(lambda: tally_log_lag(stack) == 0, 30)


def run_service(binary, *args, **env):
    full_env = {"PATH": os.environ["PATH"], **env}
    return subprocess.run([str(ROOT / "build" / "bin" / binary), *args], env=full_env,
                          capture_output=True, text=True, timeout=10)


def test_tally_rejects_unknown_argument():
    result = run_service("urna-tally", "--skip")
    assert result.returncode == 2
    assert "usage: urna-tally [--skip-to-end]" in result.stderr


def test_bad_setting_names_the_variable():
    result = run_service("urna-rest-front", URNA_REST_FRONT_LISTEN="localhost")
    assert result.returncode == 1
    assert "URNA_REST_FRONT_LISTEN" in result.stderr

    result = run_service("urna-grpc-producer", URNA_DELIVERY_TIMEOUT_MS="soon")
    assert result.returncode == 1
    assert "URNA_DELIVERY_TIMEOUT_MS" in result.stderr

    result = run_service("urna-rest-front", URNA_CATALOG="/nonexistent/catalog.json",
                         URNA_REST_FRONT_LISTEN="127.0.0.1:1")
    assert result.returncode == 1
    assert "/nonexistent/catalog.json" in result.stderr


def test_production_requires_store_secrets():
    for binary in ["urna-tally", "urna-logs-api", "urna-rest-front"]:
        result = run_service(binary, URNA_ENV="production")
        assert result.returncode == 1, binary
        assert "URNA_REDIS_PASSWORD" in result.stderr, binary

    for binary in ["urna-tally", "urna-logs-api"]:
        result = run_service(binary, URNA_ENV="production", URNA_REDIS_PASSWORD="example-only",
                             URNA_MONGO_URI="mongodb://127.0.0.1:1")
        assert result.returncode == 1, binary
        assert "URNA_MONGO_URI" in result.stderr, binary
