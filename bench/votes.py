"""Write the benchmark's request inputs from data/votes.json.

  votes.py bodies VOTES OUT            one compact JSON vote per line (wrk)
  votes.py targets VOTES URL OUT       vegeta targets in its JSON format

The votes are the contest's real ballots, sent as clients send them.
"""

import base64
import json
import sys


def load_bodies(votes_path):
    """Return each vote of votes_path as compact JSON bytes, in file order."""
    with open(votes_path, encoding="utf-8") as source:
        votes = json.load(source)
    if not isinstance(votes, list) or not votes:
        raise SystemExit(f"votes.py: {votes_path} must contain a non-empty JSON array of votes")
    return [json.dumps(vote, ensure_ascii=False, separators=(",", ":")).encode() for vote in votes]


def write_bodies(votes_path, out_path):
    with open(out_path, "wb") as out:
        for body in load_bodies(votes_path):
            out.write(body + b"\n")


def write_targets(votes_path, url, out_path):
    header = {"Content-Type": ["application/json"]}
    with open(out_path, "w", encoding="utf-8") as out:
        for body in load_bodies(votes_path):
            target = {"method": "POST", "url": url, "header": header,
                      "body": base64.b64encode(body).decode()}
            out.write(json.dumps(target) + "\n")


def main(argv):
    if len(argv) == 4 and argv[1] == "bodies":
        write_bodies(argv[2], argv[3])
    elif len(argv) == 5 and argv[1] == "targets":
        write_targets(argv[2], argv[3], argv[4])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
