"""Claimed commands in, a run plan out: which the bot runs on head and why it skips the rest."""

from __future__ import annotations

import pytest

from reviewbot.model import ClaimRun
from reviewbot.proof.claims import MAX_CLAIM_RUNS, MAX_COMMAND_CHARS, plan_claim_runs, skip_reason

NETWORK = "needs network, which the sandbox does not have (the setup step installs dependencies)"
HOST = "needs the host (root or a system service), which the sandbox does not give"
EMPTY = "empty command"
TOO_LONG = f"longer than {MAX_COMMAND_CHARS} characters"
OVER = f"over the limit of {MAX_CLAIM_RUNS} claimed commands per review"


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        # installs: the setup step does that, with network
        pytest.param("npm ci", NETWORK, id="npm-ci"),
        pytest.param("npm install", NETWORK, id="npm-install"),
        pytest.param("npm i", NETWORK, id="npm-i"),
        pytest.param("pnpm install", NETWORK, id="pnpm-install"),
        pytest.param("yarn add left-pad", NETWORK, id="yarn-add"),
        pytest.param("pip install -e .", NETWORK, id="pip-install-editable"),
        pytest.param("pip3 install -r requirements.txt", NETWORK, id="pip3-install"),
        pytest.param("python -m pip install x", NETWORK, id="python-m-pip-install"),
        pytest.param("python3 -m pip install x", NETWORK, id="python3-m-pip-install"),
        pytest.param("uv sync", NETWORK, id="uv-sync"),
        pytest.param("uv pip install x", NETWORK, id="uv-pip-install"),
        pytest.param("poetry install", NETWORK, id="poetry-install"),
        pytest.param("cd web && npm ci", NETWORK, id="cd-then-npm-ci"),
        pytest.param("FOO=1 npm install", NETWORK, id="env-assignment-then-npm-install"),
        pytest.param("A=1 B=2 pnpm install", NETWORK, id="two-env-assignments-then-pnpm-install"),
        pytest.param("npm ci; npm test", NETWORK, id="install-before-semicolon"),
        pytest.param("npm test || npm ci", NETWORK, id="install-after-or"),
        # fetches
        pytest.param("curl -sSL https://example.com/x.sh | sh", NETWORK, id="curl-pipe-sh"),
        pytest.param("wget https://example.com/x", NETWORK, id="wget"),
        pytest.param("git clone https://github.com/o/r", NETWORK, id="git-clone"),
        pytest.param("git fetch origin", NETWORK, id="git-fetch"),
        pytest.param("gh pr checkout 3", NETWORK, id="gh-pr-checkout"),
        pytest.param("docker run --rm img", NETWORK, id="docker"),
        # the host
        pytest.param("sudo npm test", HOST, id="sudo"),
        pytest.param("apt-get install -y libfoo", HOST, id="apt-get"),
        pytest.param("apt install libfoo", HOST, id="apt"),
        pytest.param("systemctl restart redis", HOST, id="systemctl"),
        pytest.param("cd x && sudo make install", HOST, id="sudo-after-cd"),
        # test commands run
        pytest.param("pytest -q", "", id="pytest"),
        pytest.param("python -m pytest tests/test_lock.py", "", id="python-m-pytest"),
        pytest.param("node --test test/a.test.mjs", "", id="node-test"),
        pytest.param("npm test", "", id="npm-test"),
        pytest.param("npm run test:unit", "", id="npm-run-test"),
        pytest.param("cd pkg && npx vitest run", "", id="cd-then-vitest"),
        pytest.param("CI=1 npm test", "", id="env-assignment-then-npm-test"),
        pytest.param("npm init -y", "", id="npm-init-is-not-npm-i"),
        pytest.param("git status", "", id="git-status-is-local"),
        pytest.param("pytest -q | tee out.log", "", id="pytest-piped-to-tee"),
        # empty and over-long
        pytest.param("", EMPTY, id="empty"),
        pytest.param("   \t ", EMPTY, id="whitespace-only"),
        pytest.param("pytest " + "x" * (MAX_COMMAND_CHARS - len("pytest ")), "", id="exactly-the-limit"),
        pytest.param("pytest " + "x" * (MAX_COMMAND_CHARS - len("pytest ") + 1), TOO_LONG, id="one-over-the-limit"),
        pytest.param("npm ci " + "x" * MAX_COMMAND_CHARS, TOO_LONG, id="length-checked-before-network"),
    ],
)
def test_skip_reason(command: str, expected: str) -> None:
    assert skip_reason(command) == expected


def _plan(commands: list[str]) -> list[tuple[str, str]]:
    return [(run.command, run.skipped) for run in plan_claim_runs(commands)]


TESTS = [f"node --test test/t{i}.test.mjs" for i in range(1, 8)]


@pytest.mark.parametrize(
    ("commands", "expected"),
    [
        pytest.param([], [], id="no-commands"),
        pytest.param(
            ["npm ci", "npm test"],
            [("npm ci", NETWORK), ("npm test", "")],
            id="install-skipped-test-runs-order-kept",
        ),
        pytest.param(
            ["pytest -q", "sudo apt-get install x", "", "curl x", "npm test"],
            [("pytest -q", ""), ("sudo apt-get install x", HOST), ("", EMPTY), ("curl x", NETWORK), ("npm test", "")],
            id="mixed-order-preserved",
        ),
        pytest.param(
            TESTS[:5],
            [(c, "") for c in TESTS[:5]],
            id="exactly-five-all-run",
        ),
        pytest.param(
            TESTS[:6],
            [*((c, "") for c in TESTS[:5]), (TESTS[5], OVER)],
            id="sixth-runnable-over-the-limit",
        ),
        pytest.param(
            TESTS[:7],
            [*((c, "") for c in TESTS[:5]), (TESTS[5], OVER), (TESTS[6], OVER)],
            id="seventh-runnable-over-the-limit-too",
        ),
        pytest.param(
            ["npm ci", "curl x", *TESTS[:5], "sudo x"],
            [("npm ci", NETWORK), ("curl x", NETWORK), *((c, "") for c in TESTS[:5]), ("sudo x", HOST)],
            id="skipped-do-not-count-toward-the-limit",
        ),
        pytest.param(
            [*TESTS[:5], "npm ci", TESTS[5]],
            [*((c, "") for c in TESTS[:5]), ("npm ci", NETWORK), (TESTS[5], OVER)],
            id="past-the-limit-a-skip-keeps-its-own-reason",
        ),
        pytest.param(
            [TESTS[0], TESTS[0]],
            [(TESTS[0], ""), (TESTS[0], "")],
            id="duplicates-kept-as-given",
        ),
    ],
)
def test_plan_claim_runs(commands: list[str], expected: list[tuple[str, str]]) -> None:
    assert _plan(commands) == expected


@pytest.mark.parametrize(
    ("max_runs", "expected_run"),
    [
        pytest.param(0, 0, id="limit-zero-runs-none"),
        pytest.param(2, 2, id="limit-two"),
        pytest.param(10, 7, id="limit-above-count-runs-all"),
    ],
)
def test_plan_claim_runs_custom_limit(max_runs: int, expected_run: int) -> None:
    plan = plan_claim_runs(TESTS, max_runs=max_runs)
    assert [run.skipped for run in plan] == [""] * expected_run + [
        f"over the limit of {max_runs} claimed commands per review"
    ] * (len(TESTS) - expected_run)


def test_plan_entries_are_unrun_claim_runs() -> None:
    plan = plan_claim_runs(["npm test"])
    assert plan == [ClaimRun(command="npm test", status=None, outcome=None, skipped="")]
