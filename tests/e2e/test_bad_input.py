"""Each class of bad input, through the ingress on every route: the right
status, a stable error code, an actionable message, and nothing in Kafka."""
import json
import http.client

import pytest

from conftest import OFFSET

ROUTES = ["/grpc/vote", "/rest/vote", "/rust/vote"]
VALID = {"name": "Viento en Contra", "album": "8", "year": "2023", "rank": "7.5"}


def post(path, body, headers=None, method="POST"):
    connection = http.client.HTTPConnection("127.0.0.1", 8088 + OFFSET, timeout=15)
    all_headers = {"Content-Type": "application/json"}
    all_headers.update(headers or {})
    connection.request(method, path, body=body, headers=all_headers)
    answer = connection.getresponse()
    data = answer.read()
    connection.close()
    return answer.status, dict(answer.getheaders()), data


def with_field(**changes):
    vote = dict(VALID)
    for key, value in changes.items():
        if value is None:
            vote.pop(key)
        else:
            vote[key] = value
    return json.dumps(vote).encode()


CASES = [
    # label, body, status, error code, field
    ("malformed JSON", b'{"name": "Viento', 400, "malformed_json", None),
    ("duplicate keys", b'{"name":"a","name":"b","album":"8","year":2023,"rank":1}', 400, "malformed_json", None),
    ("not an object", b'["Viento en Contra"]', 400, "not_an_object", None),
    ("missing name", with_field(name=None), 422, "missing_field", "name"),
    ("missing rank", with_field(rank=None), 422, "missing_field", "rank"),
    ("wrong type", with_field(name=12), 422, "wrong_type", "name"),
    ("year out of range", with_field(year="1850"), 422, "year_out_of_range", "year"),
    ("rank out of range", with_field(rank="101"), 422, "rank_out_of_range", "rank"),
    ("invalid UTF-8", b'{"name":"Viento \xff","album":"8","year":2023,"rank":1}', 422, "invalid_utf8", None),
    ("unknown contestant", with_field(name="Los Beatles"), 422, "unknown_band", "name"),
    ("album of another band", with_field(album="Conquista"), 422, "unknown_album", "album"),
    ("year not the album's", with_field(year="2020"), 422, "year_mismatch", "year"),
    ("huge number", b'{"name":"Viento en Contra","album":"8","year":1e400,"rank":1}', 422, "number_too_large", None),
]


@pytest.fixture(scope="module")
def kafka_before(stack):
    return stack.kafka_end_offsets()


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize("label,body,status,code,field", CASES, ids=[c[0] for c in CASES])
def test_rejected_ballot(stack, kafka_before, path, label, body, status, code, field):
    got_status, headers, data = post(path, body)
    assert got_status == status, (label, data)
    error = json.loads(data)
    assert error["error"] == code
    assert error.get("field") == field
    assert len(error["message"]) > 10
    assert headers["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("path", ROUTES)
def test_body_over_16_kib(stack, path):
    body = with_field(album="x" * 17000)
    status, _, data = post(path, body)
    assert status == 413
    assert json.loads(data)["error"] == "body_too_large"


@pytest.mark.parametrize("path", ROUTES)
def test_body_of_10_mib(stack, path):
    status, _, data = post(path, b'{"name":"' + b"x" * (10 * 1024 * 1024) + b'"}')
    assert status == 413
    assert json.loads(data)["error"] == "body_too_large"


def test_body_of_10_mib_straight_to_front(stack):
    connection = http.client.HTTPConnection("127.0.0.1", stack.ports["rest-front"], timeout=30)
    connection.request("POST", "/rest/vote", body=b"x" * (10 * 1024 * 1024),
                       headers={"Content-Type": "application/json"})
    answer = connection.getresponse()
    assert answer.status == 413
    assert json.loads(answer.read())["error"] == "body_too_large"
    connection.close()


@pytest.mark.parametrize("path", ROUTES)
def test_deeply_nested_json(stack, path):
    depth = 5000
    status, _, data = post(path, b'{"name":' + b"[" * depth + b"]" * depth + b"}")
    assert status == 400
    assert json.loads(data)["error"] == "malformed_json"


@pytest.mark.parametrize("field", ["name", "album", "year", "rank"])
def test_invalid_utf8_in_each_field(stack, field):
    vote = {key: value.encode() for key, value in VALID.items()}
    vote[field] = b"\xc3\x28" + vote[field]
    body = b"{" + b",".join(b'"%s":"%s"' % (key.encode(), value) for key, value in vote.items()) + b"}"
    status, _, data = post("/grpc/vote", body)
    assert status == 422
    assert json.loads(data)["error"] == "invalid_utf8"


@pytest.mark.parametrize("path", ROUTES)
def test_not_json_content_type(stack, path):
    status, _, data = post(path, with_field(), headers={"Content-Type": "text/plain"})
    assert status == 415
    assert "application/json" in json.loads(data)["message"]


@pytest.mark.parametrize("path", ROUTES)
def test_wrong_method(stack, path):
    status, headers, data = post(path, None, method="GET")
    assert status == 405
    assert headers["Allow"] == "POST"
    assert json.loads(data)["error"] == "method_not_allowed"


@pytest.mark.parametrize("path", ["/grpc/votes", "/rest/", "/rust/vote/extra"])
def test_unknown_path(stack, path):
    status, _, data = post(path, with_field())
    assert status == 404
    assert json.loads(data)["error"] == "not_found"


def test_messages_spanish_by_default_english_on_request(stack):
    _, _, spanish = post("/rest/vote", with_field(rank=None))
    _, _, english = post("/rest/vote", with_field(rank=None), headers={"Accept-Language": "en-US,en;q=0.9"})
    assert json.loads(spanish)["message"] == 'falta el campo "rank"'
    assert json.loads(english)["message"] == 'the field "rank" is missing'


def test_year_mismatch_names_the_catalog_year(stack):
    _, _, data = post("/grpc/vote", with_field(year="2020"), headers={"Accept-Language": "en"})
    assert "2023" in json.loads(data)["message"]


def test_nothing_rejected_reached_kafka(stack, kafka_before):
    """Runs after the rejection tests in this module (pytest keeps file order)."""
    assert stack.kafka_end_offsets() == kafka_before


def test_accepted_vote_answer(stack):
    for path, route in [("/grpc/vote", "grpc"), ("/rest/vote", "rest"), ("/rust/vote", "rest")]:
        status, _, data = post(path, with_field())
        assert status == 202, data
        answer = json.loads(data)
        assert answer["route"] == route
        assert len(answer["id"]) == 36
        assert answer["id"][14] == "7", "the id is a version 7 UUID"


def test_combining_accent_matches_catalog(stack):
    """A band name typed with a combining accent matches the catalog's NFC form."""
    body = json.dumps({"name": "Malacates Tre\u0301bol Shop", "album": "Paquetecuetes",
                       "year": 1999, "rank": 5}).encode()
    status, _, data = post("/rest/vote", body)
    assert status == 202, data
