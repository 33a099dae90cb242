"""Deploy files: the Docker image (checked statically: no engine here) and the GitHub App manifest.

The manifest's permissions are tied to the code: every PyGithub call and raw request in
`reviewbot/github/` and `reviewbot/bot/` is looked up in a table (call -> REST operation ->
the App permission GitHub requires for it), each operation must be in GitHub's OpenAPI
description the fake GitHub serves, and the permissions `app.yml` grants must be exactly
the ones those operations need (plus what the subscribed events need): a new call that
needs more fails here, and so does a permission nothing uses.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
import tomllib
from pathlib import Path

import pytest
import yaml

from reviewbot.service import events

ROOT = Path(__file__).parents[2]
OPENAPI = ROOT / "tests" / "fakegithub" / "openapi" / "rest-api-subset.json"
LEVELS = {"read": 1, "write": 2}

# ----------------------------------------------------------------------------------- the image


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    return [(m.group(1).upper(), m.group(2).strip()) for m in re.finditer(r"^\s*(\w+)\s+(.*)$", joined, re.M)]


def instructions(name: str) -> list[str]:
    return [args for instruction, args in dockerfile() if instruction == name]


def test_the_image_is_python_311_on_debian_bookworm_slim() -> None:
    assert instructions("FROM") == ["python:3.11-slim-bookworm"]


def test_the_image_installs_what_the_install_script_installs() -> None:
    script = (ROOT / "scripts" / "install.sh").read_text(encoding="utf-8")
    runtime = script.split("== --test")[0]  # the packages before the test-only block
    needed = set(re.findall(r"need_apt\+=\((\S+)\)", runtime))
    assert needed >= {"bubblewrap", "git", "nodejs"}
    installed = {
        word
        for run in instructions("RUN")
        if "apt-get install" in run
        for word in shlex.split(run.split("apt-get install", 1)[1].split("&&")[0])
        if not word.startswith("-")
    }
    assert needed <= installed


def test_the_entrypoint_is_the_console_script_and_serve_on_its_port_is_the_default() -> None:
    from reviewbot.cli import _parser

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert [json.loads(e) for e in instructions("ENTRYPOINT")] == [["reviewbot"]] and "reviewbot" in scripts
    assert [json.loads(c) for c in instructions("CMD")] == [["serve"]]
    serve = _parser().parse_args(["serve"])
    assert instructions("EXPOSE") == [str(serve.port)] and serve.host == "0.0.0.0"
    assert _parser().parse_args(["worker"]).command == "worker"  # the same image runs workers


def test_the_service_runs_as_a_non_root_user_by_default() -> None:
    [user] = instructions("USER")
    assert user not in ("root", "0")
    assert any(re.search(rf"useradd .*\b{user}\b", run) for run in instructions("RUN"))


def dockerignore_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as Docker reads it: matched against the whole path from the context root,
    `**` spanning directories; a match on a directory covers everything under it."""
    out = ""
    for token in re.split(r"(\*\*/?|\*|\?)", pattern.strip("/")):
        out += {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(token, re.escape(token))
    return re.compile(out + "(?:/.*)?")


def context_files() -> set[str]:
    """The build context after .dockerignore: the last rule that matches a path decides."""
    rules = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert rules[0] == "*", ".dockerignore is an allowlist"
    compiled = [(rule.startswith("!"), dockerignore_regex(rule.lstrip("!"))) for rule in rules]
    files = set()
    for path in ROOT.rglob("*"):
        if not path.is_file() or ".venv" in path.parts or ".git" in path.parts:
            continue
        rel = path.relative_to(ROOT).as_posix()
        keep = True
        for negate, regex in compiled:
            if regex.fullmatch(rel):
                keep = negate
        if keep:
            files.add(rel)
    return files


def test_the_build_context_carries_the_package_and_prompts_and_nothing_private() -> None:
    files = context_files()
    package = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "reviewbot").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert package <= files
    assert {"pyproject.toml", "README.md", "requirements.lock"} <= files  # pip reads them (readme = README.md)
    prompts = {p.relative_to(ROOT).as_posix() for p in (ROOT / "reviewbot" / "prompts").glob("*.j2")}
    assert prompts and prompts <= files  # the model's templates ship inside the package
    assert not {f for f in files if f.startswith(("tests/", "scripts/", ".ci/", "bench/")) or f.endswith(".pyc")}
    # the lock alone first (its layer outlives code changes), then the filtered context, laid out as in the repository
    assert instructions("COPY") == ["requirements.lock .", ". ."]


def test_the_image_installs_the_pinned_hash_checked_versions_ci_tests() -> None:
    """The deploy lock's pins are the test lock's (scripts/lock.sh), so the image runs what CI ran."""
    runs = instructions("RUN")
    assert any("--require-hashes -r requirements.lock" in run for run in runs)
    assert any(re.search(r"pip install .*--no-deps -e \.", run) for run in runs)  # nothing unpinned
    pins = {
        re.sub(r"\s.*", "", line)
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if line[:1].isalnum()
    }
    test_pins = {
        re.sub(r"\s.*", "", line)
        for line in (ROOT / "requirements-test.lock").read_text().splitlines()
        if line[:1].isalnum()
    }
    assert pins and pins <= test_pins


# ------------------------------------------------------------------------- the App manifest

APP = yaml.safe_load((ROOT / "app.yml").read_text(encoding="utf-8"))

# Events every App receives without subscribing; a manifest may not list them.
ALWAYS_SENT = {"installation", "installation_repositories"}
EVENT_PERMISSION = {
    "pull_request": "pull_requests",
    "issue_comment": "issues",
    "check_suite": "checks",
    "check_run": "checks",
    "status": "statuses",
}

OWNER = "/repos/{owner}/{repo}"
# PyGithub method -> the REST operations it makes. Lazy objects (get_repo, get_commit, get_issue)
# make their request only when a field of theirs is read; they are listed with what that costs.
CALLS: dict[str, list[tuple[str, str]]] = {
    "get_repo": [("GET", OWNER)],
    "get_pull": [("GET", f"{OWNER}/pulls/{{pull_number}}")],
    "get_pulls": [("GET", f"{OWNER}/pulls")],
    "get_commits": [("GET", f"{OWNER}/pulls/{{pull_number}}/commits")],
    "update_branch": [("PUT", f"{OWNER}/pulls/{{pull_number}}/update-branch")],
    "merge": [("PUT", f"{OWNER}/pulls/{{pull_number}}/merge")],
    "create_pull": [("POST", f"{OWNER}/pulls")],
    "edit": [("PATCH", f"{OWNER}/issues/comments/{{comment_id}}"), ("PATCH", f"{OWNER}/pulls/{{pull_number}}")],
    "delete": [("DELETE", f"{OWNER}/issues/comments/{{comment_id}}")],
    "get_issue": [("GET", f"{OWNER}/issues/{{issue_number}}")],
    "get_comments": [("GET", f"{OWNER}/issues/{{issue_number}}/comments")],
    "get_comment": [("GET", f"{OWNER}/issues/comments/{{comment_id}}")],
    "create_comment": [("POST", f"{OWNER}/issues/{{issue_number}}/comments")],
    "get_labels": [("GET", f"{OWNER}/issues/{{issue_number}}/labels")],
    "add_to_labels": [("POST", f"{OWNER}/issues/{{issue_number}}/labels")],
    "remove_from_labels": [("DELETE", f"{OWNER}/issues/{{issue_number}}/labels/{{name}}")],
    "create_check_run": [("POST", f"{OWNER}/check-runs")],
    "get_commit": [],  # only a URL for the two calls below: the bot never reads the commit object itself
    "get_check_runs": [("GET", f"{OWNER}/commits/{{ref}}/check-runs")],
    "get_combined_status": [("GET", f"{OWNER}/commits/{{ref}}/status")],
    "create_status": [("POST", f"{OWNER}/statuses/{{sha}}")],
    "get_app": [("GET", "/app")],
    "get_installation_auth": [("POST", "/app/installations/{installation_id}/access_tokens")],
    "get_user": [("GET", "/user")],
}
# `requester.requestJsonAndCheck(METHOD, f"{repository.url}/...")`, keyed by the f-string's literal shape.
RAW = {
    ("GET", "{}/collaborators/{}/permission"): ("GET", f"{OWNER}/collaborators/{{username}}/permission"),
    ("POST", "{}/issues/comments/{}/reactions"): ("POST", f"{OWNER}/issues/comments/{{comment_id}}/reactions"),
    ("GET", "{}/rules/branches/{}"): ("GET", f"{OWNER}/rules/branches/{{branch}}"),
    ("GET", "{}/branches/{}"): ("GET", f"{OWNER}/branches/{{branch}}"),
}
# Attribute calls whose names PyGithub also uses but which are not GitHub calls here.
NOT_GITHUB = {
    "get": "dict.get",
    "update": "PullStates.update",
    "increment": "urllib3 Retry.increment",
    "new": "urllib3 Retry.new (the circuit breaker rides along)",
}

APP_JWT = "the App's own JWT: no installation permission"
TOKEN_ONLY = "token auth only (`reviewbot review` in Actions, forwarded events): an App publishes a check run"
# Operation -> (permission, level) GitHub requires of an installation token, per GitHub's
# "Permissions required for GitHub Apps"; where GitHub accepts issues *or* pull_requests on a PR,
# the one this App grants anyway is named.
PERMISSIONS: dict[tuple[str, str], tuple[str, str] | str] = {
    ("GET", OWNER): ("metadata", "read"),
    ("GET", f"{OWNER}/collaborators/{{username}}/permission"): ("metadata", "read"),
    ("GET", f"{OWNER}/pulls"): ("pull_requests", "read"),
    ("GET", f"{OWNER}/pulls/{{pull_number}}"): ("pull_requests", "read"),
    ("GET", f"{OWNER}/pulls/{{pull_number}}/commits"): ("pull_requests", "read"),
    ("POST", f"{OWNER}/pulls"): ("pull_requests", "write"),
    ("PATCH", f"{OWNER}/pulls/{{pull_number}}"): ("pull_requests", "write"),
    ("PUT", f"{OWNER}/pulls/{{pull_number}}/update-branch"): ("pull_requests", "write"),
    ("PUT", f"{OWNER}/pulls/{{pull_number}}/merge"): ("contents", "write"),
    ("GET", f"{OWNER}/issues/{{issue_number}}"): ("issues", "read"),
    ("GET", f"{OWNER}/issues/{{issue_number}}/comments"): ("issues", "read"),
    ("GET", f"{OWNER}/issues/comments/{{comment_id}}"): ("issues", "read"),
    ("POST", f"{OWNER}/issues/{{issue_number}}/comments"): ("issues", "write"),
    ("PATCH", f"{OWNER}/issues/comments/{{comment_id}}"): ("issues", "write"),
    ("DELETE", f"{OWNER}/issues/comments/{{comment_id}}"): ("issues", "write"),
    ("POST", f"{OWNER}/issues/comments/{{comment_id}}/reactions"): ("issues", "write"),
    ("GET", f"{OWNER}/issues/{{issue_number}}/labels"): ("issues", "read"),
    ("POST", f"{OWNER}/issues/{{issue_number}}/labels"): ("issues", "write"),  # creates labels new to the repo
    ("DELETE", f"{OWNER}/issues/{{issue_number}}/labels/{{name}}"): ("issues", "write"),
    ("POST", f"{OWNER}/check-runs"): ("checks", "write"),
    ("GET", f"{OWNER}/commits/{{ref}}/check-runs"): ("checks", "read"),
    ("GET", f"{OWNER}/commits/{{ref}}/status"): ("statuses", "read"),
    # the checks a merge requires: the rulesets that apply to the base branch, and its classic protection
    ("GET", f"{OWNER}/rules/branches/{{branch}}"): ("metadata", "read"),
    ("GET", f"{OWNER}/branches/{{branch}}"): ("contents", "read"),
    ("POST", f"{OWNER}/statuses/{{sha}}"): TOKEN_ONLY,
    ("GET", "/user"): TOKEN_ONLY,
    ("GET", "/app"): APP_JWT,
    ("POST", "/app/installations/{installation_id}/access_tokens"): APP_JWT,
}
# git over HTTPS with the installation token (reviewbot/proof/workspace.py, reviewbot/proof/branches.py).
GIT = {"fetch": ("contents", "read"), "push": ("contents", "write")}


def github_calls() -> tuple[dict[str, set[str]], set[tuple[str, str]]]:
    """PyGithub method names called in the GitHub edge and the behaviours, and the raw requests' shapes."""
    import importlib
    import inspect
    import pkgutil

    import github

    pygithub = set()
    for module in pkgutil.iter_modules(github.__path__):
        try:
            loaded = importlib.import_module(f"github.{module.name}")
        except Exception:  # noqa: BLE001 - optional modules
            continue
        for _, cls in inspect.getmembers(loaded, inspect.isclass):
            if cls.__module__.startswith("github."):
                pygithub |= {name for name, value in vars(cls).items() if callable(value) and not name.startswith("_")}
    called: dict[str, set[str]] = {}
    raw = set()
    for path in [*(ROOT / "reviewbot" / "github").glob("*.py"), *(ROOT / "reviewbot" / "bot").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            name = node.func.attr
            if name in ("requestJsonAndCheck", "requestJson", "requestBlobAndCheck"):
                method, url = node.args[0], node.args[1]
                assert isinstance(method, ast.Constant) and isinstance(url, ast.JoinedStr), ast.unparse(node)
                shape = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in url.values)
                raw.add((method.value, shape))
            elif name in pygithub:
                called.setdefault(name, set()).add(path.name)
    return called, raw


def required_by_code() -> dict[str, dict[str, set[str]]]:
    """permission -> level -> the operations that need it (App auth)."""
    called, raw = github_calls()
    unknown = sorted(set(called) - set(CALLS) - set(NOT_GITHUB))
    assert unknown == [], f"map these GitHub calls to their REST operations in CALLS: {unknown}"
    assert sorted(raw - set(RAW)) == [], "map these raw requests in RAW"
    operations = {op for name in called if name in CALLS for op in CALLS[name]} | {RAW[shape] for shape in raw}
    needed: dict[str, dict[str, set[str]]] = {}
    for operation in operations:
        assert operation in PERMISSIONS, f"{operation}: which permission does GitHub require for it?"
        permission = PERMISSIONS[operation]
        if isinstance(permission, tuple):
            needed.setdefault(permission[0], {}).setdefault(permission[1], set()).add(" ".join(operation))
    for verb, (permission, level) in GIT.items():
        needed.setdefault(permission, {}).setdefault(level, set()).add(f"git {verb}")
    for event in APP["default_events"]:
        needed.setdefault(EVENT_PERMISSION[event], {}).setdefault("read", set()).add(f"{event} event")
    return needed


def test_the_manifest_has_the_fields_the_manifest_flow_reads() -> None:
    assert {"name", "url", "hook_attributes", "redirect_url", "public", "default_events", "default_permissions"} <= set(
        APP
    )
    assert APP["hook_attributes"]["url"].endswith("/webhook")  # the service's endpoint (reviewbot/service/app.py)
    assert APP["public"] is False


def test_the_manifest_subscribes_to_exactly_the_events_the_service_routes() -> None:
    routed = set(events._HANDLERS)
    assert set(APP["default_events"]) == routed - ALWAYS_SENT
    assert routed >= ALWAYS_SENT


def test_every_mapped_operation_is_a_real_github_endpoint() -> None:
    paths = json.loads(OPENAPI.read_text())["paths"]
    for method, path in PERMISSIONS:
        assert method.lower() in paths.get(path, {}), f"{method} {path} is not in GitHub's OpenAPI description"


def test_the_git_operations_the_permission_table_assumes_exist() -> None:
    branches = (ROOT / "reviewbot" / "proof" / "branches.py").read_text(encoding="utf-8")
    assert re.search(r"^def push\(", branches, re.M) and "push" in GIT
    behaviours = "\n".join(p.read_text() for p in (ROOT / "reviewbot" / "bot").glob("*.py"))
    assert "git_auth_header()" in behaviours and "fetch" in GIT


def test_the_manifest_grants_every_permission_the_code_needs_and_nothing_more() -> None:
    granted = APP["default_permissions"]
    needed = required_by_code()
    for permission, levels in sorted(needed.items()):
        level = max(levels, key=LEVELS.__getitem__)
        assert permission in granted, f"{permission}: {level} is needed by {sorted(levels[level])}"
        assert LEVELS[granted[permission]] >= LEVELS[level], f"{permission}: {level} for {sorted(levels[level])}"
    exact = {permission: max(levels, key=LEVELS.__getitem__) for permission, levels in needed.items()}
    assert granted == exact, "app.yml grants more than the code needs"


def test_no_permission_is_wider_than_the_review_needs_in_token_mode_either() -> None:
    """The Actions workflow's token asks for what the token path publishes with: comment, labels, status."""
    workflow = yaml.safe_load((ROOT / "workflows" / "review.yml").read_text())
    [job] = workflow["jobs"].values()
    token = {name.replace("-", "_"): level for name, level in job["permissions"].items()}
    assert token == {"contents": "read", "pull_requests": "write", "issues": "write", "statuses": "write"}
    assert PERMISSIONS[("POST", f"{OWNER}/statuses/{{sha}}")] == TOKEN_ONLY


@pytest.mark.parametrize("permission", sorted(yaml.safe_load((ROOT / "app.yml").read_text())["default_permissions"]))
def test_every_permission_in_the_manifest_says_why(permission: str) -> None:
    text = (ROOT / "app.yml").read_text(encoding="utf-8")
    block = text.split("default_permissions:", 1)[1]
    before = block.split(f"  {permission}:", 1)[0].rstrip().splitlines()
    assert before and before[-1].strip().startswith("#"), f"{permission} has no comment saying why"
