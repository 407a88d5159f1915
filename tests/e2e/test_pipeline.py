"""The contest's 10,000 votes through both routes: counted and logged once each."""
import collections
import json
import unicodedata

from conftest import ROOT


def expected_counts(votes):
    by_band = collections.Counter()
    by_album = collections.Counter()
    for vote in votes:
        name = unicodedata.normalize("NFC", vote["name"])
        album = unicodedata.normalize("NFC", vote["album"])
        by_band[name] += 1
        by_album[json.dumps([name, album, int(vote["year"])], ensure_ascii=False,
                            separators=(",", ":"))] += 1
    return by_band, by_album


def test_contest_votes_counted_once(stack, contest_votes, tmp_path):
    acked_file = tmp_path / "acked.txt"
    stack.script("reset")
    assert stack.redis.get("urna:total") is None
    assert stack.votes.count_documents({}) == 0

    result = stack.urna("send", str(ROOT / "data" / "votes.json"), "--route", "both",
                        "--concurrency", "32", "--acked-ids", str(acked_file), "--reconcile")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "reconciled: sent=10000 acknowledged=10000 counted=10000 logged=10000" in result.stdout

    acked = [line.split() for line in acked_file.read_text().splitlines()]
    assert len(acked) == 10000
    assert len({vote_id for vote_id, _ in acked}) == 10000
    assert collections.Counter(route for _, route in acked) == {"grpc": 5000, "rest": 5000}

    by_band, by_album = expected_counts(contest_votes)
    assert {k: int(v) for k, v in stack.redis.hgetall("urna:by_band").items()} == dict(by_band)
    assert {k: int(v) for k, v in stack.redis.hgetall("urna:by_album").items()} == dict(by_album)
    assert int(stack.redis.get("urna:total")) == 10000
    assert stack.redis.hgetall("urna:by_route") == {"grpc": "5000", "rest": "5000"}

    logged_ids = [doc["_id"] for doc in stack.votes.find({}, {"_id": 1})]
    assert len(logged_ids) == 10000
    assert set(logged_ids) == {vote_id for vote_id, _ in acked}

    audit = stack.urna("audit")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "0 differences" in audit.stdout


def test_log_document_shape(stack):
    doc = stack.votes.find_one({"route": "rest"})
    assert doc is not None
    assert set(doc) == {"_id", "name", "album", "year", "rank", "route", "received_at",
                        "counted_at", "partition", "offset"}
    assert isinstance(doc["year"], int) and isinstance(doc["rank"], float)
    assert 0 <= doc["partition"] < 6
    assert doc["counted_at"] >= doc["received_at"]


def test_results_json_shape(stack):
    result = stack.urna("results", "--json")
    assert result.returncode == 0, result.stderr
    results = json.loads(result.stdout)
    assert set(results) == {"total", "by_route", "by_band", "by_album"}
    assert results["total"] == sum(results["by_band"].values())
    assert results["total"] == results["by_route"]["grpc"] + results["by_route"]["rest"]
    first = results["by_album"][0]
    assert set(first) == {"band", "album", "year", "votes", "avg_rank"}
    assert 0 <= first["avg_rank"] <= 100


def test_services_report_health(stack):
    import urllib.request
    for name, port in stack.ports.items():
        if name == "grpc-producer":
            continue
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
            assert answer.status == 200, name
    with urllib.request.urlopen(f"http://127.0.0.1:{stack.ports['tally-0']}/readyz", timeout=5) as answer:
        assert answer.status == 200
    with urllib.request.urlopen(f"http://127.0.0.1:{stack.ports['rest-front']}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    assert 'urna_http_requests_total{service="rest-front",route="rest",status="202"}' in text
