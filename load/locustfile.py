"""Locust load test of urna's two vote routes.

One user class per route, so the weights decide the share of users on each:
  URNA_GRPC_WEIGHT, URNA_REST_WEIGHT  relative weights (default 1 and 1; 0 leaves the route out)
  URNA_LOCUST_HOST                    base URL when --host is not given (default the ingress,
                                      http://127.0.0.1:8088)
  URNA_VOTES_FILE                     JSON array of votes (default data/votes.json)
  URNA_LOCUST_WAIT_MIN_S, URNA_LOCUST_WAIT_MAX_S
                                      pause of each user between votes, in seconds (default 0.1 and 0.5)

A vote succeeds only with 202, which the fronts send after Kafka's delivery
report. Any other status or a connection error is a failure.
"""

import json
import os
import random
from pathlib import Path

from locust import HttpUser, between, task

ROOT = Path(__file__).resolve().parent.parent
VOTES_FILE = Path(os.environ.get("URNA_VOTES_FILE", ROOT / "data" / "votes.json"))
DEFAULT_HOST = os.environ.get("URNA_LOCUST_HOST", "http://127.0.0.1:8088")
JSON_HEADERS = {"Content-Type": "application/json"}


def read_weight(name, default):
    text = os.environ.get(name, str(default))
    if not text.isdigit():
        raise SystemExit(f"locustfile: {name}={text!r} is invalid; use a whole number >= 0")
    return int(text)


def read_seconds(name, default):
    text = os.environ.get(name, str(default))
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value < 0:
        raise SystemExit(f"locustfile: {name}={text!r} is invalid; use seconds >= 0")
    return value


def load_vote_bodies(path):
    """Return each vote of path encoded once as JSON bytes; the tuple is
    read-only, so every user and both routes draw from it without changing it."""
    with open(path, encoding="utf-8") as source:
        votes = json.load(source)
    if not isinstance(votes, list) or not votes:
        raise SystemExit(f"locustfile: {path} must contain a non-empty JSON array of votes")
    return tuple(json.dumps(vote, ensure_ascii=False).encode() for vote in votes)


VOTE_BODIES = load_vote_bodies(VOTES_FILE)
WAIT_MIN_S = read_seconds("URNA_LOCUST_WAIT_MIN_S", 0.1)
WAIT_MAX_S = max(WAIT_MIN_S, read_seconds("URNA_LOCUST_WAIT_MAX_S", 0.5))


class RouteVoter(HttpUser):
    """A client that sends random votes from the contest's ballots to one route."""

    abstract = True
    host = DEFAULT_HOST
    wait_time = between(WAIT_MIN_S, WAIT_MAX_S)
    vote_path = ""

    @task
    def send_vote(self):
        body = random.choice(VOTE_BODIES)
        with self.client.post(self.vote_path, data=body, headers=JSON_HEADERS,
                              name=self.vote_path, catch_response=True) as response:
            if response.status_code == 202:
                response.success()
            else:
                response.failure(f"expected 202 (vote acknowledged), got {response.status_code}: "
                                 f"{(response.text or '')[:200]}")


class GrpcVoter(RouteVoter):
    weight = read_weight("URNA_GRPC_WEIGHT", 1)
    abstract = weight == 0
    vote_path = "/grpc/vote"


class RestVoter(RouteVoter):
    weight = read_weight("URNA_REST_WEIGHT", 1)
    abstract = weight == 0
    vote_path = "/rest/vote"


if GrpcVoter.weight == 0 and RestVoter.weight == 0:
    raise SystemExit("locustfile: URNA_GRPC_WEIGHT and URNA_REST_WEIGHT are both 0; give one route a weight")
