"""A second gRPC implementation (Python grpcio from Debian) calls our C
gRPC producer service directly."""
import subprocess
import sys
import time
import uuid

import grpc
import pytest

from conftest import ROOT


@pytest.fixture(scope="module")
def vote_pb2(tmp_path_factory):
    out = tmp_path_factory.mktemp("proto")
    subprocess.run(["protoc", f"-I{ROOT / 'proto'}", f"--python_out={out}", f"--grpc_out={out}",
                    "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin",
                    str(ROOT / "proto" / "vote.proto")], check=True)
    sys.path.insert(0, str(out))
    import vote_pb2
    import vote_pb2_grpc
    return vote_pb2, vote_pb2_grpc


def uuid7():
    millis = int(time.time() * 1000)
    raw = bytearray(uuid.uuid4().bytes)
    raw[0:6] = millis.to_bytes(6, "big")
    raw[6] = 0x70 | (raw[6] & 0x0F)
    raw[8] = 0x80 | (raw[8] & 0x3F)
    return str(uuid.UUID(bytes=bytes(raw)))


def test_python_client_submits_vote(stack, vote_pb2):
    messages, services = vote_pb2
    vote_id = uuid7()
    with grpc.insecure_channel(f"127.0.0.1:{stack.ports['grpc-producer']}") as channel:
        stub = services.VoteServiceStub(channel)
        reply = stub.SubmitVote(messages.VoteRequest(
            id=vote_id, name="Sara Curruchich", album="Somos", year=2019, rank=9.5,
            received_at_ms=int(time.time() * 1000)), timeout=10)
    assert reply.id == vote_id
    assert 0 <= reply.partition < 6
    assert reply.offset >= 0

    deadline = time.monotonic() + 30
    doc = None
    while doc is None and time.monotonic() < deadline:
        doc = stack.votes.find_one({"_id": vote_id})
        time.sleep(0.2)
    assert doc is not None
    assert doc["route"] == "grpc"
    assert doc["partition"] == reply.partition and doc["offset"] == reply.offset


def test_python_client_gets_invalid_argument(stack, vote_pb2):
    messages, services = vote_pb2
    with grpc.insecure_channel(f"127.0.0.1:{stack.ports['grpc-producer']}") as channel:
        stub = services.VoteServiceStub(channel)
        with pytest.raises(grpc.RpcError) as failure:
            stub.SubmitVote(messages.VoteRequest(id="not-a-uuid", name="x", album="y", year=2000,
                                                 rank=1, received_at_ms=1), timeout=10)
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "UUID" in failure.value.details()


def test_many_concurrent_calls_on_one_channel(stack, vote_pb2):
    messages, services = vote_pb2
    with grpc.insecure_channel(f"127.0.0.1:{stack.ports['grpc-producer']}") as channel:
        stub = services.VoteServiceStub(channel)
        futures = [stub.SubmitVote.future(messages.VoteRequest(
            id=uuid7(), name="Rebeca Lane", album="Alma mestiza", year=2016, rank=5,
            received_at_ms=int(time.time() * 1000)), timeout=15) for _ in range(200)]
        replies = [f.result() for f in futures]
    assert len({r.id for r in replies}) == 200
