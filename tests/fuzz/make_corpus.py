#!/usr/bin/python3
"""Write the seed corpora of urna's fuzz targets into tests/fuzz/corpus/.

The ballot seeds are the cases of tests/unit/test_vote.c, decoded from their
C string literals, plus votes from data/votes.json. The HTTP seeds wrap
ballots in raw requests, and the gRPC seeds are VoteRequest messages encoded
by hand. Rerun after changing the unit cases:  tests/fuzz/make_corpus.py
"""
import json
import pathlib
import re
import shutil
import struct
import unicodedata

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fuzz" / "corpus"
VOTE_PATH = "/rest/vote"
VALID_BALLOT = b'{"name":"Viento en Contra","album":"8","year":2023,"rank":"4.4"}'
VALID_ID = "01890a5d-ac96-774b-bcce-b302099a8057"


def decode_c_literals(text):
    """Decode adjacent C string literals ("a" "b") into bytes."""
    out = bytearray()
    for literal in re.findall(r'"((?:[^"\\]|\\.)*)"', text):
        i = 0
        while i < len(literal):
            char = literal[i]
            if char != "\\":
                out += char.encode("utf-8")
                i += 1
                continue
            escape = literal[i + 1]
            if escape == "x":
                digits = re.match(r"[0-9a-fA-F]+", literal[i + 2:]).group(0)
                out.append(int(digits, 16) & 0xFF)
                i += 2 + len(digits)
            elif escape in "01234567":
                digits = re.match(r"[0-7]{1,3}", literal[i + 1:]).group(0)
                out.append(int(digits, 8))
                i += 1 + len(digits)
            else:
                out += {"n": b"\n", "t": b"\t", "r": b"\r", "\\": b"\\", '"': b'"'}[escape]
                i += 2
    return bytes(out)


def unit_ballots():
    """Yield (label, body) for every case of the table in test_vote.c."""
    source = (ROOT / "tests" / "unit" / "test_vote.c").read_text(encoding="utf-8")
    table = source[source.index("cases[] = {"):source.index("};", source.index("cases[] = {"))]
    pattern = re.compile(r'^\s*\{"([^"]+)",\s*(.*),\s*(\d+),\s*VOTE_\w+,\s*(?:NULL|"\w+")\},\s*$')
    for line in table.splitlines():
        match = pattern.match(line)
        if match is None:
            continue
        label, literals, length = match.group(1), match.group(2), int(match.group(3))
        body = decode_c_literals(literals)
        if length == 0:
            body = body.split(b"\0")[0]
        yield label, body[:length] if length else body


def contest_ballots(count):
    """Yield the first count distinct (band, album) votes of data/votes.json."""
    votes = json.loads((ROOT / "data" / "votes.json").read_text(encoding="utf-8"))
    seen = set()
    for vote in votes:
        key = (vote["name"], vote["album"])
        if key in seen:
            continue
        seen.add(key)
        yield vote["name"] + " " + vote["album"], json.dumps(vote, ensure_ascii=False).encode()
        if len(seen) == count:
            return


def extra_ballots():
    """Hostile ballots the unit table does not hold."""
    deep = b"[" * 5000 + b"]" * 5000
    yield "deeply nested arrays", deep
    yield "deeply nested in a field", b'{"name":' + b'{"a":' * 2000 + b"1" + b"}" * 2000 + b"}"
    yield "huge rank literal", b'{"name":"x","album":"y","year":2000,"rank":' + b"9" * 400 + b"}"
    yield "huge year string", b'{"name":"x","album":"y","year":"' + b"9" * 400 + b'","rank":1}'
    yield "tiny rank exponent", b'{"name":"x","album":"y","year":2000,"rank":1e-400}'
    yield "negative zero rank", b'{"name":"x","album":"y","year":2000,"rank":"-0"}'
    yield "combining accent album", '{"name":"Ranferí Aguilar","album":"Cancio\u0301n","year":2000,"rank":1}'.encode()
    yield "escaped combining accent", b'{"name":"Malacates Tre\\u0301bol Shop","album":"Paquetecuetes","year":1999,"rank":1}'
    yield "overlong UTF-8 slash", b'{"name":"\xc0\xaf","album":"y","year":2000,"rank":1}'
    yield "UTF-8 surrogate bytes", b'{"name":"x","album":"\xed\xa0\x80","year":2000,"rank":1}'
    yield "invalid UTF-8 in rank", b'{"name":"x","album":"y","year":2000,"rank":"1\xff"}'
    yield "invalid UTF-8 in key", b'{"na\xffme":"x","album":"y","year":2000,"rank":1}'
    yield "200 byte accented name", ('{"name":"' + "é" * 100 + '","album":"y","year":2000,"rank":1}').encode()
    yield "NFC grows past 200", ('{"name":"' + "\u0958" * 66 + '","album":"y","year":2000,"rank":1}').encode()
    yield "duplicate year", b'{"name":"x","album":"y","year":2000,"year":2001,"rank":1}'
    yield "trailing garbage", VALID_BALLOT + b"xyz"
    yield "two objects", VALID_BALLOT + VALID_BALLOT


def records():
    """Kafka records in the vote_record_to_json format."""
    base = {"id": VALID_ID, "name": "Sara Curruchich", "album": "Somos", "year": 2019,
            "rank": 8.5, "route": "grpc", "received_at": 1733340000123}
    yield "record grpc", json.dumps(base, separators=(",", ":")).encode()
    yield "record rest accented", json.dumps(dict(base, route="rest", name="Ranferí Aguilar"),
                                             ensure_ascii=False, separators=(",", ":")).encode()
    yield "record unknown route", json.dumps(dict(base, route="ftp")).encode()
    yield "record huge year", json.dumps(dict(base, year=2 ** 40)).encode()
    yield "record integer rank", json.dumps(dict(base, rank=2 ** 62)).encode()


def http_request(body, content_type=b"application/json", method=b"POST", path=VOTE_PATH.encode(),
                 length=None, extra=b""):
    length = len(body) if length is None else length
    head = (method + b" " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " +
            content_type + b"\r\nContent-Length: " + str(length).encode() + b"\r\n" + extra + b"\r\n")
    return head + body


def chunked(body, extra=b""):
    head = (b"POST " + VOTE_PATH.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n" + extra + b"\r\n")
    middle = len(body) // 2
    parts = [body[:middle], body[middle:]]
    return head + b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


def http_requests():
    yield "valid vote", http_request(VALID_BALLOT)
    yield "valid vote english", http_request(VALID_BALLOT, extra=b"Accept-Language: en-US\r\n")
    yield "valid vote chunked", chunked(VALID_BALLOT)
    yield "chunked with trailer", chunked(VALID_BALLOT, extra=b"Trailer: X-Check\r\n")[:-2] + b"X-Check: 1\r\n\r\n"
    yield "chunk size overflow", (b"POST /rest/vote HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  b"ffffffffffffffffff\r\nab\r\n0\r\n\r\n")
    yield "two pipelined votes", http_request(VALID_BALLOT) + http_request(VALID_BALLOT)

    yield "truncated body", http_request(VALID_BALLOT)[:-20]
    yield "content length too small", http_request(VALID_BALLOT, length=10)
    yield "content length too large", http_request(VALID_BALLOT, length=5000)
    yield "content length negative", http_request(VALID_BALLOT, length=-1)
    yield "content length huge", http_request(VALID_BALLOT).replace(b"Content-Length: 64", b"Content-Length: 99999999999999999999999")
    yield "two content lengths", http_request(VALID_BALLOT, extra=b"Content-Length: 3\r\n")
    yield "length and chunked", chunked(VALID_BALLOT, extra=b"Content-Length: 64\r\n")

    yield "body over limit", http_request(b'{"name":"' + b"a" * 17000 + b'"}')
    yield "NUL in body", http_request(b'{"name":"Vi\0ento en Contra","album":"8","year":2023,"rank":1}')
    yield "NUL in header", http_request(VALID_BALLOT, extra=b"X-Voter: a\0b\r\n")
    yield "NUL in path", http_request(VALID_BALLOT, path=b"/rest/vote\0x")

    yield "deeply nested JSON", http_request(b"[" * 3000 + b"]" * 3000)
    yield "duplicate keys", http_request(b'{"name":"a","name":"b","album":"8","year":2023,"rank":1}')
    yield "huge number literal", http_request(b'{"name":"Viento en Contra","album":"8","year":2023,"rank":1e999}')
    yield "invalid UTF-8 name", http_request(b'{"name":"Viento \xff","album":"8","year":2023,"rank":1}')
    yield "invalid UTF-8 album", http_request(b'{"name":"Viento en Contra","album":"\xc3\x28","year":2023,"rank":1}')
    yield "invalid UTF-8 year", http_request(b'{"name":"Viento en Contra","album":"8","year":"20\xe2\x82","rank":1}')
    yield "invalid UTF-8 rank", http_request(b'{"name":"Viento en Contra","album":"8","year":2023,"rank":"4\xf0\x28"}')
    yield "combining accent", http_request('{"name":"Malacates Tre\u0301bol Shop","album":"Paquetecuetes","year":1999,"rank":1}'.encode())

    yield "wrong content type", http_request(VALID_BALLOT, content_type=b"text/plain")
    yield "json content type charset", http_request(VALID_BALLOT, content_type=b"application/json; charset=utf-8")
    yield "GET on vote path", b"GET /rest/vote HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    yield "healthz", b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    yield "unknown path", b"GET /x?a=1&b HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

    yield "HTTP 1.0 no host", b"POST /rest/vote HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: 64\r\n\r\n" + VALID_BALLOT
    yield "HTTP 1.1 no host", b"GET /healthz HTTP/1.1\r\n\r\n"
    yield "unknown version", b"GET /healthz HTTP/9.9\r\nHost: a\r\n\r\n"
    yield "bare LF lines", b"POST /rest/vote HTTP/1.1\nHost: a\nContent-Type: application/json\nContent-Length: 64\n\n" + VALID_BALLOT
    yield "folded header", http_request(VALID_BALLOT, extra=b"X-Long: a\r\n  b\r\n")
    yield "header without colon", http_request(VALID_BALLOT, extra=b"NoColonHere\r\n")
    yield "huge header", http_request(VALID_BALLOT, extra=b"X-Pad: " + b"a" * 40000 + b"\r\n")
    yield "many headers", http_request(VALID_BALLOT, extra=b"".join(b"X-%d: v\r\n" % i for i in range(500)))

    yield "idempotency key", http_request(VALID_BALLOT, extra=b"Idempotency-Key: 7f3c-retry-1\r\n")
    yield "idempotency key with space", http_request(VALID_BALLOT, extra=b"Idempotency-Key: a b\r\n")
    yield "idempotency key not ASCII", http_request(VALID_BALLOT, extra=b"Idempotency-Key: clave\xc3\xb1\r\n")
    yield "voter header", http_request(VALID_BALLOT, extra=b"X-Voter-Id: voter-42\r\n")
    yield "voter in body", http_request(VALID_BALLOT[:-1] + b',"voter":"voter-42"}')
    yield "voter too long", http_request(VALID_BALLOT, extra=b"X-Voter-Id: " + b"v" * 129 + b"\r\n")
    yield "expect continue", http_request(VALID_BALLOT, extra=b"Expect: 100-continue\r\n")
    yield "absolute URI", http_request(VALID_BALLOT, path=b"http://127.0.0.1/rest/vote")
    yield "percent encoded path", http_request(VALID_BALLOT, path=b"/rest/%76ote%00")

    yield "garbage", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"


def varint(value):
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def vote_request(vote_id=VALID_ID, name="Sara Curruchich", album="Somos", year=2019, rank=8.5,
                 received_at=1733340000123):
    def text(tag, value):
        data = value if isinstance(value, bytes) else value.encode()
        return bytes([tag << 3 | 2]) + varint(len(data)) + data

    return (text(1, vote_id) + text(2, name) + text(3, album) + bytes([4 << 3]) + varint(year) +
            bytes([5 << 3 | 1]) + struct.pack("<d", rank) + bytes([6 << 3]) + varint(received_at))


def grpc_requests():
    yield "valid request", vote_request()
    yield "accented request", vote_request(name="Ranferí Aguilar", album="Canción")
    yield "empty message", b""
    yield "uppercase id", vote_request(vote_id=VALID_ID.upper())
    yield "name of 201 bytes", vote_request(name="a" * 201)
    yield "negative year", vote_request(year=-5)
    yield "zero received_at", vote_request(received_at=0)
    yield "rank 1e300", vote_request(rank=1e300)
    yield "unknown field", vote_request() + b"\x38\x01"
    yield "repeated name", vote_request() + bytes([2 << 3 | 2, 1]) + b"z"
    yield "length past end", vote_request()[:-12] + b"\x12\x7f"


def write(target, seeds):
    folder = CORPUS / target
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for label, data in seeds:
        ascii_label = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
        name = re.sub(r"[^a-z0-9]+", "-", ascii_label.lower()).strip("-")
        (folder / name).write_bytes(data)
    print(f"{target}: {len(list(folder.iterdir()))} seeds")


def main():
    ballots = list(unit_ballots()) + list(contest_ballots(12)) + list(extra_ballots())
    write("fuzz_vote_parse", ballots + list(records()))
    write("fuzz_http_front", http_requests())
    write("fuzz_grpc_request", grpc_requests())


if __name__ == "__main__":
    main()
