"""Check runs (installation tokens only, as on GitHub) and commit statuses."""

from __future__ import annotations

from starlette.responses import Response

from .app import (
    Ctx,
    GitHubError,
    installation_write,
    invalid,
    json_reply,
    not_found,
    paginate,
    parse_time,
    repo_for,
    resolve_commit,
    route,
    writable,
)
from .state import CheckRun, CommitStatus, Repo, level_at_least, utcnow

# -- checks and statuses -----------------------------------------------------------------------

CHECK_STATUSES = ("queued", "in_progress", "completed")
CHECK_CONCLUSIONS = ("action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out")


def apply_check_fields(ctx: Ctx, run: CheckRun) -> None:
    if (name := ctx.field("name", str)) is not None:
        run.name = name
    if (url := ctx.field("details_url", str)) is not None:
        run.details_url = url
    if (external := ctx.field("external_id", str)) is not None:
        run.external_id = external
    if (started := parse_time(ctx.field("started_at", str), "started_at")) is not None:
        run.started_at = started
    if (output := ctx.field("output", dict)) is not None:
        if "summary" not in output and not run.output.get("summary"):
            raise invalid(resource="CheckRun", field="output.summary", code="missing_field")
        if len(output.get("summary") or "") > 65535 or len(output.get("text") or "") > 65535:
            raise GitHubError(422, "Invalid request.\n\nOnly 65535 characters are allowed; output too long.")
        annotations = (run.output.get("annotations") or []) + (output.get("annotations") or [])
        if len(output.get("annotations") or []) > 50:
            raise GitHubError(422, "Invalid request.\n\nOnly 50 annotations are allowed per request.")
        run.output = {**run.output, **output, "annotations": annotations}
    if (actions := ctx.field("actions", list)) is not None:
        run.actions = actions
    status = ctx.field("status", str)
    conclusion = ctx.field("conclusion", str)
    if status is not None and status not in CHECK_STATUSES:
        raise invalid(resource="CheckRun", field="status")
    if conclusion is not None and conclusion not in CHECK_CONCLUSIONS:
        raise invalid(resource="CheckRun", field="conclusion")
    if conclusion is not None:
        status = "completed"
    if status == "completed" and conclusion is None and run.conclusion is None:
        raise GitHubError(
            422,
            "Invalid request.\n\n'conclusion' wasn't supplied.",
            [{"resource": "CheckRun", "field": "conclusion", "code": "missing_field"}],
        )
    if status is not None:
        run.status = status
        if status == "in_progress" and run.started_at is None:
            run.started_at = utcnow()
    if conclusion is not None:
        run.conclusion = "neutral" if conclusion == "stale" else conclusion
    if run.status == "completed":
        completed = parse_time(ctx.field("completed_at", str), "completed_at")
        run.completed_at = completed or run.completed_at or utcnow()
        run.started_at = run.started_at or run.completed_at


@route("POST", "/repos/{owner}/{repo}/check-runs")
def create_check_run(ctx: Ctx, owner: str, repo: str) -> Response:
    if ctx.principal.kind != "installation":
        repo_for(ctx, owner, repo)
        raise GitHubError(403, "You must authenticate via a GitHub App.")
    target = installation_write(ctx, owner, repo, "checks")
    name = ctx.field("name", str, required=True)
    head_sha = ctx.field("head_sha", str, required=True)
    sha = target.git.rev_parse(head_sha) if len(head_sha) >= 7 else None
    if sha is None:
        raise GitHubError(422, f"No commit found for SHA: {head_sha}")
    app = ctx.principal.installation.app
    with ctx.state.lock:
        suite = next((r.check_suite_id for r in target.check_runs if r.head_sha == sha and r.app is app), None)
        run = CheckRun(
            id=ctx.state.next_id("check_run"),
            repo=target,
            head_sha=sha,
            name=name,
            app=app,
            check_suite_id=suite or ctx.state.next_id("check_suite"),
        )
        apply_check_fields(ctx, run)
        target.check_runs.append(run)
        ctx.state.check_runs[run.id] = run
    return json_reply(ctx.render.check_run(run), 201)


def check_run_for(ctx: Ctx, repo: Repo, check_run_id: int) -> CheckRun:
    run = ctx.state.check_runs.get(check_run_id)
    if run is None or run.repo is not repo:
        raise not_found()
    return run


@route("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id:int}")
def get_check_run(ctx: Ctx, owner: str, repo: str, check_run_id: int) -> Response:
    target = repo_for(ctx, owner, repo, category="checks")
    return json_reply(ctx.render.check_run(check_run_for(ctx, target, check_run_id)))


@route("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id:int}")
def update_check_run(ctx: Ctx, owner: str, repo: str, check_run_id: int) -> Response:
    if ctx.principal.kind != "installation":
        repo_for(ctx, owner, repo)
        raise GitHubError(403, "You must authenticate via a GitHub App.")
    target = installation_write(ctx, owner, repo, "checks")
    run = check_run_for(ctx, target, check_run_id)
    if run.app is not ctx.principal.installation.app:
        raise GitHubError(
            403,
            f"Invalid app_id `{ctx.principal.installation.app.id}` - check run can only be modified"
            " by the GitHub App that created it.",
        )
    with ctx.state.lock:
        apply_check_fields(ctx, run)
    return json_reply(ctx.render.check_run(run))


@route("GET", "/repos/{owner}/{repo}/commits/{ref:path}/check-runs")
def list_check_runs(ctx: Ctx, owner: str, repo: str, ref: str) -> Response:
    target = repo_for(ctx, owner, repo, category="checks")
    sha = resolve_commit(target, ref)
    if sha is None:
        raise GitHubError(422, f"No commit found for SHA: {ref}")
    runs = [r for r in target.check_runs if r.head_sha == sha]
    if name := ctx.query.get("check_name"):
        runs = [r for r in runs if r.name == name]
    if status := ctx.query.get("status"):
        runs = [r for r in runs if r.status == status]
    if app_id := ctx.query.get("app_id"):
        runs = [r for r in runs if str(r.app.id) == app_id]
    if ctx.query.get("filter", "latest") == "latest":
        latest: dict[tuple[str, int], CheckRun] = {}
        for run in runs:
            latest[(run.name, run.app.id)] = run
        runs = list(latest.values())
    runs.sort(key=lambda r: -r.id)
    page, headers = paginate(ctx, runs)
    return json_reply(
        {"total_count": len(runs), "check_runs": [ctx.render.check_run(r) for r in page]}, headers=headers
    )


@route("POST", "/repos/{owner}/{repo}/statuses/{sha}")
def create_status(ctx: Ctx, owner: str, repo: str, sha: str) -> Response:
    target = writable(ctx, owner, repo, "statuses", need="write")
    if not level_at_least(ctx.state.repo_level(ctx.principal, target), "write"):
        raise GitHubError(403, "Must have push access to repository")
    commit = target.git.rev_parse(sha) if len(sha) == 40 else None
    if commit is None:
        raise GitHubError(422, f"No commit found for SHA: {sha}")
    state_value = ctx.field("state", str, required=True)
    if state_value not in ("error", "failure", "pending", "success"):
        raise invalid(resource="Status", field="state")
    description = ctx.field("description", str)
    if description is not None and len(description) > 140:
        raise GitHubError(
            422,
            "Validation Failed",
            [
                {
                    "resource": "Status",
                    "code": "custom",
                    "field": "description",
                    "message": "description is too long (maximum is 140 characters)",
                }
            ],
        )
    status = CommitStatus(
        id=ctx.state.next_id("status"),
        repo=target,
        sha=commit,
        state=state_value,
        context=ctx.field("context", str, default="default"),
        description=description,
        target_url=ctx.field("target_url", str),
        creator=ctx.actor,
    )
    with ctx.state.lock:
        target.statuses.append(status)
    return json_reply(ctx.render.status(status), 201)


@route("GET", "/repos/{owner}/{repo}/commits/{ref:path}/status")
def combined_status(ctx: Ctx, owner: str, repo: str, ref: str) -> Response:
    target = repo_for(ctx, owner, repo, category="statuses")
    sha = resolve_commit(target, ref)
    if sha is None:
        raise not_found(f"No commit found for SHA: {ref}")
    statuses = [s for s in target.statuses if s.sha == sha]
    return json_reply(ctx.render.combined_status(target, sha, statuses))
