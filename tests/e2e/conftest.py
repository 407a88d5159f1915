"""Fixtures that start urna's real local stack for end-to-end tests.

The test stack runs beside the demo: its ports are the demo's plus 1000, all
below the kernel's ephemeral port range (32768 and up) so that no outgoing
connection can hold one, and its files live in .run-test/, which each session
starts empty.
"""
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import pymongo
import redis

ROOT = Path(__file__).resolve().parents[2]
OFFSET = 1000
RUN_DIR = ROOT / ".run-test"


class Stack:
    """Addresses of the test stack and helpers to drive it."""

    def __init__(self):
        self.env = dict(os.environ)
        self.env.update({
            "URNA_RUN_DIR": str(RUN_DIR),
            "URNA_PORT_OFFSET": str(OFFSET),
            "URNA_TALLY_INSTANCES": "2",
            "URNA_DELIVERY_TIMEOUT_MS": "3000",
            "URNA_VOTES_PER_VOTER": "3",
            "URNA_HTTP_TIMEOUT_S": "3",
            "URNA_INGRESS_TIMEOUT_S": "3",
            "URNA_INGRESS_URL": f"http://127.0.0.1:{8088 + OFFSET}",
            "URNA_REDIS_ADDR": f"127.0.0.1:{6379 + OFFSET}",
            "URNA_MONGO_URI": f"mongodb://127.0.0.1:{27017 + OFFSET}",
        })
        self.ingress = f"http://127.0.0.1:{8088 + OFFSET}"
        self.kafka = f"127.0.0.1:{9092 + OFFSET}"
        self.ports = {
            "grpc-front": 3000 + OFFSET,
            "grpc-producer": 3001 + OFFSET,
            "grpc-producer-ops": 3002 + OFFSET,
            "rest-front": 8000 + OFFSET,
            "rest-producer": 8080 + OFFSET,
            "tally-0": 9100 + OFFSET,
            "tally-1": 9101 + OFFSET,
        }
        self.redis = redis.Redis(port=6379 + OFFSET, decode_responses=True)
        self.mongo = pymongo.MongoClient(f"mongodb://127.0.0.1:{27017 + OFFSET}",
                                         serverSelectionTimeoutMS=5000)
        self.votes = self.mongo["urna"]["votes"]

    def script(self, *args, check=True):
        return subprocess.run([str(ROOT / "scripts" / "stack.sh"), *args], env=self.env,
                              check=check, capture_output=True, text=True, timeout=300)

    def urna(self, *args, timeout=300):
        return subprocess.run([str(ROOT / "build" / "bin" / "urna"), *args], env=self.env,
                              capture_output=True, text=True, timeout=timeout)

    def supervisorctl(self, *args):
        return subprocess.run(["supervisorctl", "-c", str(RUN_DIR / "supervisord.conf"), *args],
                              capture_output=True, text=True, timeout=120)

    def kafka_end_offsets(self, partitions=6):
        """Returns the sum of the high watermarks of the votes topic."""
        args = ["kcat", "-b", self.kafka, "-Q"]
        for p in range(partitions):
            args += ["-t", f"votes:{p}:-1"]
        out = subprocess.run(args, capture_output=True, text=True, timeout=30, check=True).stdout
        return sum(int(line.split()[-1]) for line in out.splitlines() if "offset" in line)

    def wait_counted(self, expected, timeout=60):
        """Waits until Redis counts and MongoDB holds `expected` votes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            counted = int(self.redis.get("urna:total") or 0)
            logged = self.votes.count_documents({})
            if counted >= expected and logged >= expected:
                return counted, logged
            time.sleep(0.2)
        return int(self.redis.get("urna:total") or 0), self.votes.count_documents({})


@pytest.fixture(scope="session")
def stack():
    if RUN_DIR.exists():
        old = Stack()
        old.script("down", check=False)
        shutil.rmtree(RUN_DIR)
    stack = Stack()
    result = stack.script("up", check=False)
    if result.returncode != 0:
        logs = "\n".join(f"--- {p.name}\n{p.read_text()[-2000:]}"
                         for p in sorted((RUN_DIR / "logs").glob("*.log")))
        pytest.fail(f"the test stack did not start:\n{result.stdout}\n{result.stderr}\n{logs}")
    yield stack
    stack.script("down", check=False)


@pytest.fixture(scope="session")
def contest_votes():
    with open(ROOT / "data" / "votes.json", encoding="utf-8") as file:
        return json.load(file)
