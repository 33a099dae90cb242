"""The GitHub Actions workflows in `workflows/`: safe by construction, read as YAML.

The real tools (actionlint, check-jsonschema, and the dispatch step's script run with bash)
are run by `tests/integration/test_workflows_run.py`.
"""

from __future__ import annotations

import pytest

from reviewbot.service import events
from tests.workflow_files import NAMES, WORKFLOWS, load, steps


def test_the_three_workflows_exist() -> None:
    assert sorted(p.name for p in WORKFLOWS.glob("*.yml")) == sorted(NAMES)


# --------------------------------------------------------------------------- safe by construction


@pytest.mark.parametrize("name", NAMES)
def test_no_event_data_is_expanded_into_a_script(name: str) -> None:
    """`${{ github.event.* }}` in `run:` is pasted into the script before the shell sees it: an injection.
    Values reach scripts through `env:` instead."""
    for step in steps(load(name)):
        script = step.get("run", "")
        assert "${{" not in script, f"{name}: step {step.get('name')!r} expands an expression in its script"


@pytest.mark.parametrize("name", NAMES)
def test_actions_are_pinned_to_a_version_not_a_branch(name: str) -> None:
    for step in steps(load(name)):
        if "uses" in step:
            _, _, ref = step["uses"].partition("@")
            assert ref and ref not in ("main", "master", "HEAD"), step["uses"]
            assert ref.startswith("v") or len(ref) == 40, step["uses"]


def test_dispatch_never_touches_pr_code_and_holds_no_token() -> None:
    workflow = load("dispatch.yml")
    assert workflow["permissions"] == {}
    assert all("permissions" not in job for job in workflow["jobs"].values())
    assert [step.get("uses") for step in steps(workflow) if "uses" in step] == []  # no checkout, no action at all
    assert set(workflow["on"]) == {"pull_request_target", "issue_comment"}


def test_dispatch_forwards_what_the_service_routes() -> None:
    """Every PR action that queues a review, cancels or re-checks one is forwarded, and nothing else."""
    on = load("dispatch.yml")["on"]
    pr_actions = set(on["pull_request_target"]["types"])
    assert events.REVIEW_ACTIONS <= pr_actions <= events.REVIEW_ACTIONS | {"edited", "closed"}
    assert set(on["issue_comment"]["types"]) == set(events.COMMENT_ACTIONS)


def test_review_runs_pr_code_without_a_write_token_on_forks() -> None:
    workflow = load("review.yml")
    assert set(workflow["on"]) == {"pull_request"}  # never pull_request_target next to PR code
    assert workflow["permissions"] == {}
    [job] = workflow["jobs"].values()
    assert job["permissions"] == {"contents": "read", "pull-requests": "write", "issues": "write", "statuses": "write"}
    assert not any(str(step.get("uses", "")).startswith("actions/checkout") for step in job["steps"])
    text = (WORKFLOWS / "review.yml").read_text(encoding="utf-8")
    assert "secrets." not in text
    [review] = [step for step in job["steps"] if "review --pr" in step.get("run", "")]
    assert "--publish" in review["run"] and "--expect-head" in review["run"]
    assert review["env"]["SAME_REPOSITORY"] == (
        "${{ github.event.pull_request.head.repo.full_name == github.repository }}"
    )


def test_ci_runs_the_projects_own_entry_point() -> None:
    workflow = load("ci.yml")
    assert workflow["permissions"] == {"contents": "read"}
    [job] = workflow["jobs"].values()
    uses = {step["uses"].split("@")[0]: step.get("with", {}) for step in job["steps"] if "uses" in step}
    assert uses["actions/checkout"] == {"persist-credentials": False}
    assert uses["actions/setup-python"] == {"python-version": "3.11"}
    assert any("CI=true" in step.get("run", "") and ".ci/run" in step.get("run", "") for step in job["steps"])
    assert job["timeout-minutes"] <= 90
