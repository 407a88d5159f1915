"""Client retries with Idempotency-Key and the per-voter rule (the test stack
sets URNA_VOTES_PER_VOTER=3): one vote id, counted once, across routes."""
import json
import time
import uuid

from test_bad_input import post, with_field


def wait_logged(stack, vote_id, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stack.votes.count_documents({"_id": vote_id}) == 1:
            return True
        time.sleep(0.2)
    return False


def test_same_key_same_id_counted_once(stack):
    key = str(uuid.uuid4())
    body = with_field()
    first_status, _, first = post("/grpc/vote", body, headers={"Idempotency-Key": key})
    assert first_status == 202
    vote_id = json.loads(first)["id"]
    assert wait_logged(stack, vote_id)
    total_before = int(stack.redis.get("urna:total"))
    offsets_before = stack.kafka_end_offsets()

    for path in ["/grpc/vote", "/rest/vote", "/rust/vote"]:
        status, _, again = post(path, body, headers={"Idempotency-Key": key})
        assert status == 202
        assert json.loads(again)["id"] == vote_id

    # A confirmed vote's retry gets its 202 from Redis, without a new record.
    assert stack.kafka_end_offsets() == offsets_before
    time.sleep(1.5)
    assert int(stack.redis.get("urna:total")) == total_before
    assert stack.votes.count_documents({"_id": vote_id}) == 1


def test_key_reused_for_other_ballot(stack):
    key = str(uuid.uuid4())
    assert post("/rest/vote", with_field(), headers={"Idempotency-Key": key})[0] == 202
    status, _, data = post("/rest/vote", with_field(rank="9"), headers={"Idempotency-Key": key})
    assert status == 422
    assert json.loads(data)["error"] == "idempotency_key_reused"


def test_invalid_key_rejected(stack):
    status, _, data = post("/grpc/vote", with_field(), headers={"Idempotency-Key": "has space"})
    assert status == 400
    assert json.loads(data)["error"] == "invalid_idempotency_key"


def test_voter_limit_across_routes(stack):
    voter = "voter-" + uuid.uuid4().hex
    answers = [post(path, with_field(voter=voter))[0]
               for path in ["/grpc/vote", "/rest/vote", "/grpc/vote"]]
    assert answers == [202, 202, 202]
    status, _, data = post("/rest/vote", with_field(voter=voter))
    assert status == 409
    error = json.loads(data)
    assert error["error"] == "voter_limit_reached"
    assert "3" in error["message"]
    status, _, _ = post("/grpc/vote", with_field(), headers={"X-Voter-Id": voter})
    assert status == 409


def test_voter_retry_with_key_does_not_use_allowance(stack):
    voter = "voter-" + uuid.uuid4().hex
    key = str(uuid.uuid4())
    for _ in range(5):
        assert post("/rest/vote", with_field(voter=voter), headers={"Idempotency-Key": key})[0] == 202
    assert post("/grpc/vote", with_field(voter=voter))[0] == 202
    assert post("/grpc/vote", with_field(voter=voter))[0] == 202
    assert post("/grpc/vote", with_field(voter=voter))[0] == 409
