"""The web app in Debian's headless Chromium against the real test stack:
live results, logs, a filter and the English switch (web/e2e/browser.test.mjs)."""
import json
import subprocess

import pytest

from conftest import ROOT


def test_web_app_in_browser(stack, contest_votes, tmp_path):
    if not (ROOT / "web" / "dist" / "index.html").exists():
        pytest.fail("web/dist is missing: run 'make web' first")
    votes_file = tmp_path / "votes.json"
    votes_file.write_text(json.dumps(contest_votes[:200], ensure_ascii=False), encoding="utf-8")
    artifacts = ROOT / "build" / "e2e-artifacts"
    env = dict(stack.env)
    env.update({
        "URNA_WEB_URL": stack.ingress + "/",
        "URNA_SEND_VOTES_CMD": f"{ROOT}/build/bin/urna send {votes_file} --route both --concurrency 8",
        "URNA_ARTIFACTS_DIR": str(artifacts),
    })
    result = subprocess.run(["node", str(ROOT / "web" / "e2e" / "browser.test.mjs")], env=env,
                            capture_output=True, text=True, timeout=300)
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 failed" in result.stdout
    assert any(artifacts.glob("*.png"))
