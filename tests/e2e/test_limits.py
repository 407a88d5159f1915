"""Limits with clear errors: a per-address rate limit at the ingress, header
size, and slow clients cut after the timeout (3 s on the test stack)."""
import http.client
import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor

from conftest import OFFSET
from test_bad_input import post, with_field

INGRESS_PORT = 8088 + OFFSET


def post_from(source_address, path, body):
    """POSTs from another loopback address, which the ingress rate-limits."""
    connection = http.client.HTTPConnection("127.0.0.1", INGRESS_PORT, timeout=15,
                                            source_address=(source_address, 0))
    connection.request("POST", path, body=body, headers={"Content-Type": "application/json"})
    answer = connection.getresponse()
    data = answer.read()
    connection.close()
    return answer.status, dict(answer.getheaders()), data


def test_rate_limit_per_address(stack):
    body = with_field(name="Los Beatles")  # rejected with 422, so nothing is counted
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda _: post_from("127.0.0.2", "/grpc/vote", body), range(150)))
    statuses = [status for status, _, _ in answers]
    assert 429 in statuses
    assert 422 in statuses
    limited = next(a for a in answers if a[0] == 429)
    assert limited[1]["Retry-After"] == "1"
    error = json.loads(limited[2])
    assert error["error"] == "rate_limited"
    assert "espere" in error["message"]


def test_local_address_not_limited(stack):
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda _: post("/rest/vote", with_field(name="Los Beatles"))[0],
                                 range(150)))
    assert set(statuses) == {422}


def test_header_too_large(stack):
    status, _, data = post("/rest/vote", with_field(), headers={"X-Padding": "a" * 16000})
    assert status == 431
    assert json.loads(data)["error"] == "header_too_large"


def read_all(sock, timeout):
    sock.settimeout(timeout)
    chunks = []
    try:
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            chunks.append(chunk)
    except socket.timeout:
        pass
    return b"".join(chunks)


def test_trickling_body_cut_at_ingress(stack):
    with socket.create_connection(("127.0.0.1", INGRESS_PORT)) as sock:
        sock.sendall(b"POST /rest/vote HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{\"name\":")
        started = time.monotonic()
        answer = read_all(sock, 15)
    # nginx closes a connection whose body stalls (status 408, usually
    # without writing it); the front never sees the request.
    assert time.monotonic() - started < 12
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408")


def test_trickling_request_cut_at_front(stack):
    with socket.create_connection(("127.0.0.1", stack.ports["rest-front"])) as sock:
        sock.sendall(b"POST /rest/vote HTTP/1.1\r\nHost: t\r\n")
        started = time.monotonic()
        answer = read_all(sock, 15)
    assert time.monotonic() - started < 12
    assert answer == b"" or not answer.startswith(b"HTTP/1.1 2")


def test_wrong_content_length_at_front(stack):
    with socket.create_connection(("127.0.0.1", stack.ports["grpc-front"])) as sock:
        body = with_field()
        sock.sendall(b"POST /grpc/vote HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                     b"Content-Length: " + str(len(body) - 10).encode() + b"\r\nConnection: close\r\n\r\n" + body)
        answer = read_all(sock, 10)
    # The front reads only Content-Length bytes: a truncated ballot is malformed JSON.
    assert answer.startswith(b"HTTP/1.1 400")
