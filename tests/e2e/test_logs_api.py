"""The logs API on the real test stack: paging and filters of /api/logs,
parameter validation, /api/results against Redis, /api/routes, the event
stream, CORS and readiness. Every JSON response is checked against
docs/openapi.yaml."""
import datetime
import http.client
import json
import socket
import time
import urllib.parse
from pathlib import Path

import jsonschema
import pytest
import yaml

from conftest import OFFSET

API_PORT = 5000 + OFFSET
ORIGIN = f"http://127.0.0.1:{8088 + OFFSET}"
SPEC = yaml.safe_load((Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml").read_text())


# ---------------------------------------------------------------- helpers

def node_ref_parts(ref):
    return ref.lstrip("#/").split("/")


def follow(node):
    while isinstance(node, dict) and "$ref" in node:
        target = SPEC
        for part in node_ref_parts(node["$ref"]):
            target = target[part]
        node = target
    return node


def check_against_spec(path, method, status, content_type, body):
    """Validates one response against the operation's declared response."""
    operation = SPEC["paths"][path][method]
    assert str(status) in operation["responses"], f"{method} {path}: {status} is not declared"
    response = follow(operation["responses"][str(status)])
    media = content_type.split(";")[0].strip()
    assert media in response.get("content", {}), f"{method} {path} {status}: {media} not declared"
    schema = response["content"][media]["schema"]
    if media == "application/json":
        validate(schema, json.loads(body))


def validate(schema, instance):
    root = {"components": SPEC["components"], **schema}
    jsonschema.Draft202012Validator(root).validate(instance)


def schema_of(name):
    return {"$ref": f"#/components/schemas/{name}"}


def request(path, query=None, headers=None, method="GET", spec=True):
    """Sends one request to the API; returns status, headers and body."""
    target = path + ("?" + query if query else "")
    connection = http.client.HTTPConnection("127.0.0.1", API_PORT, timeout=15)
    connection.request(method, target, headers=headers or {})
    answer = connection.getresponse()
    body = answer.read()
    connection.close()
    found = {k.lower(): v for k, v in answer.getheaders()}
    if spec and method == "GET":
        check_against_spec(path, "get", answer.status, found.get("content-type", ""), body)
    return answer.status, found, body


def get_json(path, query=None, headers=None):
    status, _, body = request(path, query, headers)
    return status, json.loads(body)


def post_vote(route, vote):
    connection = http.client.HTTPConnection("127.0.0.1", 8088 + OFFSET, timeout=15)
    connection.request("POST", f"/{route}/vote", body=json.dumps(vote),
                       headers={"Content-Type": "application/json"})
    answer = connection.getresponse()
    data = json.loads(answer.read())
    connection.close()
    assert answer.status == 202, data
    return data["id"]


def iso(moment):
    return moment.astimezone(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture(scope="module")
def sent(stack, contest_votes):
    """Sends 24 votes, alternating routes, and waits until they are counted."""
    before = int(stack.redis.get("urna:total") or 0)
    started = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=1)
    ids = {}
    for i, vote in enumerate(contest_votes[:24]):
        route = "grpc" if i % 2 == 0 else "rest"
        ids[post_vote(route, vote)] = (route, vote)
    stack.wait_counted(before + len(ids))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and stack.votes.count_documents({"_id": {"$in": list(ids)}}) < len(ids):
        time.sleep(0.2)
    return {"ids": ids, "from": iso(started)}


def all_pages(query, limit):
    items, cursor = [], None
    for _ in range(200):
        params = dict(query, limit=str(limit))
        if cursor:
            params["cursor"] = cursor
        status, page = get_json("/api/logs", urllib.parse.urlencode(params))
        assert status == 200, page
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("paging did not end")


# ------------------------------------------------------------------ tests

def test_logs_api_health_and_ready(stack):
    status, body = get_json("/healthz")
    assert (status, body) == (200, {"status": "ok"})
    status, body = get_json("/readyz")
    assert (status, body) == (200, {"status": "ready"})
    status, headers, text = request("/metrics")
    assert status == 200
    assert b"urna_api_sse_clients" in text


def test_logs_api_paging_is_complete_and_ordered(stack, sent):
    items = all_pages({"from": sent["from"]}, limit=5)
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids)), "a vote appeared on two pages"
    assert set(sent["ids"]) <= set(ids)
    expected = [doc["_id"] for doc in stack.votes.find(
        {"received_at": {"$gte": datetime.datetime.fromisoformat(sent["from"].replace("Z", "+00:00"))}},
        sort=[("received_at", -1), ("_id", -1)])]
    assert ids == expected


def test_logs_api_default_page(stack, sent):
    status, page = get_json("/api/logs")
    assert status == 200
    assert len(page["items"]) == 20
    received = [item["received_at"] for item in page["items"]]
    assert received == sorted(received, reverse=True)


def test_logs_api_filters(stack, sent):
    route_of = {vote_id: route for vote_id, (route, _) in sent["ids"].items()}
    grpc = all_pages({"from": sent["from"], "route": "grpc"}, limit=50)
    assert grpc and all(item["route"] == "grpc" for item in grpc)
    assert {i for i, r in route_of.items() if r == "grpc"} <= {item["id"] for item in grpc}

    band = next(iter(sent["ids"].values()))[1]["name"]
    by_band = all_pages({"band": band, "from": sent["from"]}, limit=50)
    assert by_band and all(item["name"] == band for item in by_band)

    album = next(iter(sent["ids"].values()))[1]["album"]
    by_album = all_pages({"album": album, "from": sent["from"]}, limit=50)
    assert by_album and all(item["album"] == album for item in by_album)

    status, page = get_json("/api/logs", urllib.parse.urlencode({"to": "2000-01-01T00:00:00Z"}))
    assert (status, page) == (200, {"items": [], "next_cursor": None})


BAD_QUERIES = [
    # label, query string, error code, field
    ("operator in name", "band%5B%24ne%5D=x", "unknown_parameter", "band[$ne]"),
    ("where", "%24where=1", "unknown_parameter", "$where"),
    ("unknown", "sort=name", "unknown_parameter", "sort"),
    ("repeated", "limit=1&limit=2", "duplicate_parameter", "limit"),
    ("empty", "band=", "invalid_parameter", "band"),
    ("limit zero", "limit=0", "invalid_parameter", "limit"),
    ("limit too big", "limit=501", "invalid_parameter", "limit"),
    ("limit exponent", "limit=1e3", "invalid_parameter", "limit"),
    ("route", "route=soap", "invalid_parameter", "route"),
    ("from", "from=ayer", "invalid_parameter", "from"),
    ("to", "to=2024-02-30", "invalid_parameter", "to"),
    ("from after to", "from=2024-12-05&to=2024-12-04", "invalid_parameter", "from"),
    ("cursor", "cursor=%7B%7D", "invalid_parameter", "cursor"),
]


@pytest.mark.parametrize("label,query,code,field", BAD_QUERIES, ids=[c[0] for c in BAD_QUERIES])
def test_logs_api_rejects_bad_parameters(stack, label, query, code, field):
    status, headers, body = request("/api/logs", query)
    error = json.loads(body)
    assert status == 400, (label, error)
    assert error["error"] == code
    assert error.get("field") == field
    assert headers["content-type"].startswith("application/json")


def test_logs_api_operator_as_value_is_text(stack, sent):
    status, page = get_json("/api/logs", urllib.parse.urlencode({"band": '{"$ne":1}'}))
    assert (status, page) == (200, {"items": [], "next_cursor": None})
    status, page = get_json("/api/logs", urllib.parse.urlencode({"album": '{"$gt":""}'}))
    assert (status, page) == (200, {"items": [], "next_cursor": None})


def test_logs_api_messages_in_both_languages(stack):
    _, spanish = get_json("/api/logs", "limit=0")
    _, english = get_json("/api/logs", "limit=0", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "entero" in spanish["message"]
    assert "whole number" in english["message"]


def test_logs_api_other_endpoints_take_no_parameters(stack):
    for path in ["/api/results", "/api/routes", "/api/stream"]:
        status, _, body = request(path, "x=1")
        assert status == 400, path
        assert json.loads(body)["error"] == "unknown_parameter"


def expected_results(stack):
    """Builds the tally from Redis as `urna results --json` shows it."""
    r = stack.redis
    albums = []
    sums = r.hgetall("urna:rank_sum:by_album")
    for field, votes in r.hgetall("urna:by_album").items():
        band, album, year = json.loads(field)
        albums.append({"band": band, "album": album, "year": year, "votes": int(votes),
                       "avg_rank": float(sums.get(field, 0)) / int(votes)})
    albums.sort(key=lambda a: (-a["votes"], a["band"], a["album"]))
    by_route = r.hgetall("urna:by_route")
    return {
        "total": int(r.get("urna:total") or 0),
        "by_route": {route: int(by_route.get(route, 0)) for route in ("grpc", "rest")},
        "by_band": {band: int(v) for band, v in r.hgetall("urna:by_band").items()},
        "by_album": albums,
    }


def test_logs_api_results_equal_redis(stack, sent):
    status, results = get_json("/api/results")
    assert status == 200
    expected = expected_results(stack)
    assert results["total"] == expected["total"]
    assert results["by_route"] == expected["by_route"]
    assert results["by_band"] == expected["by_band"]
    assert [(a["band"], a["album"], a["year"], a["votes"]) for a in results["by_album"]] == \
        [(a["band"], a["album"], a["year"], a["votes"]) for a in expected["by_album"]]
    for got, want in zip(results["by_album"], expected["by_album"]):
        assert got["avg_rank"] == pytest.approx(want["avg_rank"], rel=1e-9)


def test_logs_api_rate_counts_recent_votes(stack):
    """The rate covers the whole seconds before now, so a vote needs a second to show."""
    import urllib.request

    body = json.dumps({"name": "Viento en Contra", "album": "8", "year": "2023",
                       "rank": "7"}).encode()
    total_before = int(stack.redis.get("urna:total") or 0)
    for route in ("grpc", "rest"):
        request = urllib.request.Request(f"{stack.ingress}/{route}/vote", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=15) as answer:
            assert answer.status == 202
    stack.wait_counted(total_before + 2)
    time.sleep(1.2)

    status, results = get_json("/api/results")
    assert status == 200
    assert results["rate"]["grpc"] > 0
    assert results["rate"]["rest"] > 0


def test_logs_api_routes(stack, sent):
    status, body = get_json("/api/routes")
    assert status == 200
    routes = {route["route"]: route for route in body["routes"]}
    assert set(routes) == {"grpc", "rest"}
    by_route = stack.redis.hgetall("urna:by_route")
    for name, route in routes.items():
        assert route["acknowledged"] == int(by_route[name])
        assert route["latency_available"] is True
        latency = route["latency_ms"]
        assert 0 < latency["p50"] <= latency["p90"] <= latency["p99"]


class EventReader:
    """Reads Server-Sent Events from /api/stream over a raw socket."""

    def __init__(self, last_event_id=None):
        self.sock = socket.create_connection(("127.0.0.1", API_PORT), timeout=20)
        extra = f"Last-Event-ID: {last_event_id}\r\n" if last_event_id else ""
        self.sock.sendall(f"GET /api/stream HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n"
                          f"Origin: {ORIGIN}\r\n{extra}\r\n".encode())
        self.file = self.sock.makefile("rb")
        self.status_line = self.file.readline().decode()
        self.headers = {}
        while (line := self.file.readline().decode().strip()):
            name, _, value = line.partition(":")
            self.headers[name.lower()] = value.strip()

    def events(self, seconds):
        """Yields (event, id, data) until seconds passed."""
        deadline = time.monotonic() + seconds
        fields = {}
        while time.monotonic() < deadline:
            size_line = self.file.readline()  # chunked transfer encoding
            if not size_line:
                return
            size = int(size_line.strip() or b"0", 16)
            chunk = self.file.read(size)
            self.file.readline()
            for line in chunk.decode().split("\n"):
                if line == "":
                    if "data" in fields:
                        yield fields.get("event", "message"), fields.get("id"), fields["data"]
                    fields = {}
                elif not line.startswith(":"):
                    name, _, value = line.partition(": ")
                    fields[name] = value

    def close(self):
        self.file.close()
        self.sock.close()


def test_logs_api_stream_delivers_results_and_logs(stack, contest_votes):
    reader = EventReader()
    try:
        assert " 200 " in reader.status_line
        assert reader.headers["content-type"].startswith("text/event-stream")
        assert reader.headers["access-control-allow-origin"] == ORIGIN
        time.sleep(0.5)
        sent_ids = {post_vote("grpc", contest_votes[100]), post_vote("rest", contest_votes[101])}
        seen_results, seen_logs, first_log_id, first_vote = False, set(), None, None
        for event, event_id, data in reader.events(20):
            assert event_id is not None
            if event == "results":
                validate(schema_of("Results"), json.loads(data))
                seen_results = True
            elif event == "log":
                item = json.loads(data)
                validate(schema_of("LogItem"), item)
                if item["id"] in sent_ids:
                    seen_logs.add(item["id"])
                    if first_log_id is None:
                        first_log_id, first_vote = event_id, item["id"]
            if seen_results and seen_logs == sent_ids:
                break
        assert seen_results
        assert seen_logs == sent_ids
    finally:
        reader.close()

    # Resuming after the first of the two votes replays the second one.
    resumed = EventReader(last_event_id=first_log_id)
    try:
        replayed = {json.loads(data)["id"] for event, _, data in resumed.events(5) if event == "log"}
        assert sent_ids - {first_vote} <= replayed
    finally:
        resumed.close()


def test_logs_api_cors(stack):
    _, headers, _ = request("/api/results", headers={"Origin": ORIGIN})
    assert headers["access-control-allow-origin"] == ORIGIN
    _, headers, _ = request("/api/results", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in headers
    status, headers, _ = request("/api/logs", headers={"Origin": ORIGIN}, method="OPTIONS", spec=False)
    assert status == 204
    assert "GET" in headers["access-control-allow-methods"]
    assert headers["access-control-allow-origin"] == ORIGIN


def test_logs_api_unknown_path_and_method(stack):
    status, _, body = request("/api/nothing", spec=False)
    assert status == 404
    assert json.loads(body)["error"] == "not_found"
    status, headers, _ = request("/api/logs", method="POST", spec=False)
    assert status == 405
    assert "GET" in headers["allow"]
