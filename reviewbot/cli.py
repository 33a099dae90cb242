"""The `reviewbot` command: review a PR (local or on GitHub), run the demo, check the host, serve, replay."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from github import GithubException
from rich.console import Console
from rich.status import Status

from reviewbot.bot.one_shot import NEEDS_TOKEN, parse_pr_reference, review_live_pr
from reviewbot.bot.review import ReviewJob, review_pull_request
from reviewbot.extras import MissingExtra
from reviewbot.github.adapter import EdgePorts
from reviewbot.github.client import GitHubConfigError, GitHubEdge
from reviewbot.llm.assist import ModelReviewer
from reviewbot.model import PullRequest, Verdict
from reviewbot.proof import disk_quota, egress, guarantees
from reviewbot.proof.engine import ProofEngine, ProofRequest
from reviewbot.proof.sandbox import HostSupport, Limits, Sandbox, SandboxRequest, SandboxUnavailable
from reviewbot.redact import redact
from reviewbot.repo_config import ConfigError, load_config_file
from reviewbot.review.build import Review
from reviewbot.review.comment import render_comment
from reviewbot.service.events import DEFAULT_BOT_LOGIN, PayloadError
from reviewbot.service.logs import configure_logging
from reviewbot.service.replay import replay
from reviewbot.settings import load_settings
from reviewbot.store.db import make_engine
from reviewbot.store.pull_state import PullStates
from reviewbot.store.queue import PublishedReviews, Queue

EXIT_OK, EXIT_USAGE, EXIT_INFRA = 0, 2, 3


def main(argv: list[str] | None = None, listener: socket.socket | None = None) -> int:
    """`listener`: `serve`'s socket, already listening (see `reviewbot.launch`)."""
    parser = _parser()
    args = parser.parse_args(argv)
    args.listener = listener
    _setup_flags_to_settings(args)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    if args.allow_per_process_limits:  # the flag is the setting, for this process and the workers it starts
        os.environ[guarantees.SETTING] = "1"
    if args.command in RUNS_PR_CODE:
        refused = _host_refusal()
        if refused:
            _error(Console(stderr=True), refused)
            return EXIT_INFRA
    try:
        return args.handler(args)
    except MissingExtra as exc:  # a configured feature whose extra is not installed
        _error(Console(stderr=True), str(exc))
        return EXIT_USAGE


RUNS_PR_CODE = ("review", "demo", "serve", "worker")


def _host_refusal() -> str | None:
    """Why PR code must not run here (no memory cgroup, not accepted), before any work starts."""
    host = HostSupport.detect()
    if not host.bwrap:
        return None  # the sandbox says so itself, with how to install it
    return guarantees.refusal(host, load_settings().allow_per_process_limits)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reviewbot", description=__doc__)
    parser.add_argument("--data-dir", type=Path, help="mirrors, caches and logs (env REVIEWBOT_DATA_DIR)")
    parser.add_argument(
        guarantees.FLAG,
        action="store_true",
        help=f"run PR code even where memory is bounded per process only, without a memory "
        f"cgroup (env {guarantees.SETTING}=1); `doctor` shows what this host enforces",
    )
    setup = parser.add_argument_group("a networked setup step (only setup runs get these; tests never do)")
    setup.add_argument(
        "--setup-ca-bundle",
        metavar="PATH",
        help="CA bundle for installs, e.g. a TLS-intercepting proxy's (env REVIEWBOT_SETUP_CA_BUNDLE; "
        "default: /etc/ssl/certs/ca-certificates.crt)",
    )
    setup.add_argument(
        "--setup-allow",
        metavar="CIDR",
        action="append",
        help="an extra address range installs may reach, e.g. a private registry "
        "(repeatable; env REVIEWBOT_SETUP_ALLOW, comma-separated)",
    )
    setup.add_argument(
        "--setup-env",
        metavar="NAME",
        action="append",
        help="a host variable installs see, e.g. PIP_INDEX_URL (repeatable; env REVIEWBOT_SETUP_ENV)",
    )
    setup.add_argument(
        "--setup-upstream-proxy",
        metavar="URL",
        help="this host's own HTTP proxy, if it needs one (env REVIEWBOT_SETUP_UPSTREAM_PROXY)",
    )
    commands = parser.add_subparsers(dest="command")

    review = commands.add_parser("review", help="prove and review a branch of a local repository, or a PR on GitHub")
    review.add_argument("--repo", help="path (or clone URL) of the repository")
    review.add_argument("--base", help="base branch; base runs use the merge-base")
    review.add_argument("--head", help="the PR's head branch or commit")
    live = review.add_argument_group("a PR on GitHub, instead of --repo/--base/--head (token: REVIEWBOT_TOKEN)")
    live.add_argument("--pr", help="owner/repo#NUMBER: read the PR from GitHub and review its head")
    live.add_argument("--expect-head", default="", help="review nothing if the PR's head is no longer this SHA")
    live.add_argument(
        "--publish", action="store_true", help="publish the comment, commit status and labels as the service would"
    )
    review.add_argument("--config", type=Path, help="use this config instead of the base's .github/reviewbot.yml")
    review.add_argument("--format", choices=["markdown", "json"], default="markdown")
    review.add_argument("--out", type=Path, help="write the result here instead of stdout")
    review.add_argument(
        "--no-model",
        action="store_true",
        help="rule-based review only, even when REVIEWBOT_MODEL / OPENAI_BASE_URL is set",
    )
    pr = review.add_argument_group("the pull request (what GitHub would tell the bot)")
    pr.add_argument("--title", default="", help="PR title")
    pr.add_argument("--body", type=Path, help="file with the PR description (its Test plan is run on head)")
    pr.add_argument("--number", type=int, default=0, help="PR number (seeds the PR egg)")
    pr.add_argument("--repo-name", default="local/repository", help="owner/name (seeds the PR egg)")
    pr.add_argument("--author", default="", help="PR author's login")
    review.set_defaults(handler=_cmd_review)

    demo = commands.add_parser("demo", help="review the embedded sample lock-fix PR")
    demo.add_argument("--format", choices=["markdown", "json"], default="markdown")
    demo.add_argument("--keep", action="store_true", help="keep the sample repository and print its path")
    demo.add_argument("--no-model", action="store_true", help="rule-based review only, even when a model is set")
    demo.set_defaults(handler=_cmd_demo)

    doctor = commands.add_parser("doctor", help="show what this host can enforce in the sandbox")
    doctor.add_argument(
        "--offline", action="store_true", help="skip checking that a setup step reaches the package indexes"
    )
    doctor.set_defaults(handler=_cmd_doctor)

    serve = commands.add_parser("serve", help="run the webhook service with embedded workers (REVIEWBOT_* settings)")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=8080)
    serve.set_defaults(handler=_cmd_serve)

    replay = commands.add_parser(
        "replay", help="queue a webhook payload saved from GitHub (a delivery the service missed)"
    )
    replay.add_argument("payload", type=Path, help="the delivery's JSON body (GitHub: the App's Advanced tab)")
    replay.add_argument("--event", required=True, help="its X-GitHub-Event, e.g. pull_request or issue_comment")
    replay.add_argument(
        "--delivery",
        default="",
        help="its X-GitHub-Delivery id: a delivery already received is a "
        "duplicate (default: an id derived from the body)",
    )
    replay.add_argument("--dry-run", action="store_true", help="say what it would queue; store nothing")
    replay.set_defaults(handler=_cmd_replay)

    worker = commands.add_parser("worker", help="run queue workers as separate processes")
    worker.add_argument("--processes", type=int, default=1)
    worker.set_defaults(handler=_cmd_worker)
    return parser


def _review(args: argparse.Namespace, request: ProofRequest, pr: PullRequest, console: Console) -> Review:
    """Run the review: a live status line on a terminal, one line per step on stderr."""
    status = console.status("starting", spinner="dots")
    progress = _progress(console, status)
    settings = load_settings()
    engine = ProofEngine(args.data_dir or settings.data_dir, progress=progress)
    model = None if args.no_model else ModelReviewer.from_settings(settings)
    with status if console.is_terminal else contextlib.nullcontext():
        review = review_pull_request(engine, request, pr, model=model)
    if review.model is not None and review.model.note:
        progress(redact(review.model.note))
    return review


def _progress(console: Console, status: Status | None = None) -> Callable[[str], None]:
    """One line per step on stderr; on a terminal, also the live status line."""

    def progress(message: str) -> None:
        if status is not None and console.is_terminal:
            status.update(message)
        console.print(f"· {message}", highlight=False, markup=False, soft_wrap=True)

    return progress


def _emit(review: Review, fmt: str, out: Path | None) -> None:
    text = (
        redact(json.dumps(review.to_json_dict(), indent=2, ensure_ascii=False)) + "\n"
        if fmt == "json"
        else render_comment(review)
    )
    if out:
        out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def _exit_code(review: Review, console: Console) -> int:
    if review.proof.verdict == Verdict.ERROR:
        _error(console, f"{review.proof.reason}\nRun `reviewbot doctor` to check the host.")
        return EXIT_INFRA
    return EXIT_OK


def _error(console: Console, message: str) -> None:
    console.print(f"reviewbot: {message}", style="red", highlight=False, markup=False, soft_wrap=True)


def _cmd_review(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    if args.pr:
        return _cmd_review_pr(args, console)
    missing = [f"--{name}" for name in ("repo", "base", "head") if not getattr(args, name)]
    if missing:
        _error(console, f"review: give {', '.join(missing)} (a local branch) or --pr owner/repo#N (a PR on GitHub)")
        return EXIT_USAGE
    if args.config is not None:
        try:
            load_config_file(args.config)
        except (OSError, ConfigError) as exc:
            _error(console, f"--config {args.config}: {exc}")
            return EXIT_USAGE
    if not args.repo.startswith(("http://", "https://", "git@", "ssh://", "file://")) and not Path(args.repo).exists():
        _error(console, f"--repo {args.repo}: no such repository")
        return EXIT_USAGE
    try:
        body = args.body.read_text(encoding="utf-8", errors="replace") if args.body else ""
    except OSError as exc:
        _error(console, f"--body {args.body}: {exc.strerror or exc}")
        return EXIT_USAGE
    pr = PullRequest(repo=args.repo_name, number=args.number, title=args.title, body=body, author=args.author)
    review = _review(
        args, ProofRequest(source=args.repo, base=args.base, head=args.head, config_file=args.config), pr, console
    )
    _emit(review, args.format, args.out)
    return _exit_code(review, console)


def _cmd_review_pr(args: argparse.Namespace, console: Console) -> int:
    """A PR on GitHub: printed, or published the way the service's worker publishes it."""
    try:
        repo, number = parse_pr_reference(args.pr)
    except ValueError as exc:
        _error(console, f"--pr: {exc}")
        return EXIT_USAGE
    settings = load_settings()
    data_dir = args.data_dir or settings.data_dir
    progress = _progress(console)
    engine = ProofEngine(data_dir, progress=progress)
    model = None if args.no_model else ModelReviewer.from_settings(settings)
    try:
        edge = GitHubEdge.from_settings(settings)
        if edge.is_app:
            raise GitHubConfigError(NEEDS_TOKEN)
        github = EdgePorts(edge)

        def publisher() -> ReviewJob:  # the service's review job, its state in a SQLite file in the data dir
            data_dir.mkdir(parents=True, exist_ok=True)
            database = make_engine(f"sqlite:///{data_dir / 'one-shot.db'}")
            return ReviewJob(github, engine, PublishedReviews(database), PullStates(database), model=model)

        result = review_live_pr(
            github.port(None),
            engine,
            repo,
            number,
            expect_head=args.expect_head,
            publisher=publisher if args.publish else None,
            model=model,
            progress=progress,
        )
    except (GitHubConfigError, GithubException) as exc:
        _error(console, f"--pr {args.pr}: {redact(str(exc))}")
        return EXIT_INFRA
    if result.skipped:
        progress(result.skipped)
        return EXIT_OK
    text = (
        result.comment
        if args.format == "markdown"
        else json.dumps(
            {
                "repo": repo,
                "number": number,
                "head_sha": result.head_sha,
                "verdict": result.verdict.value if result.verdict else None,
                "comment": result.comment,
            },
            indent=2,
        )
        + "\n"
    )
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    if result.verdict == Verdict.ERROR:
        _error(console, "the proof could not run (see the comment); `reviewbot doctor` checks the host")
        return EXIT_INFRA
    return EXIT_OK


def _cmd_replay(args: argparse.Namespace) -> int:
    """Route a saved delivery into the service's database (REVIEWBOT_DATABASE_URL); print what happened as JSON."""
    console = Console(stderr=True)
    try:
        raw = args.payload.read_bytes()
    except OSError as exc:
        _error(console, f"{args.payload}: {exc.strerror or exc}")
        return EXIT_USAGE
    settings = load_settings()
    configure_logging(settings.log_format, settings.log_level)
    try:
        queue = Queue(make_engine(settings.resolved_database_url))  # a dry run reads it for duplicates
        result = replay(
            queue,
            args.event,
            raw,
            delivery_id=args.delivery,
            dry_run=args.dry_run,
            bot_login=settings.bot_login or DEFAULT_BOT_LOGIN,
            command_handle=settings.command_handle,
        )
    except PayloadError as exc:
        _error(console, f"{args.payload}: {exc}")
        return EXIT_USAGE
    sys.stdout.write(
        json.dumps(
            {
                "delivery": result.delivery_id,
                "actions": result.actions,
                "stored": result.stored,
                "duplicate": result.duplicate,
                "jobs": result.job_ids,
            },
            indent=2,
        )
        + "\n"
    )
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    from reviewbot.samples.session_lock import build_session_lock_demo

    console = Console(stderr=True)
    workdir = Path(tempfile.mkdtemp(prefix="reviewbot-demo-"))
    try:
        sample = build_session_lock_demo(workdir / "session-lock")
        console.print(
            f"demo: sample lock-fix repository at {sample.path} (base `{sample.base}`, PR branch `{sample.head}`)",
            highlight=False,
            soft_wrap=True,
        )
        pr = PullRequest(
            repo="example/session-gateway", number=1, title=sample.title, body=sample.body, author="sample-contributor"
        )
        review = _review(args, ProofRequest(source=str(sample.path), base=sample.base, head=sample.head), pr, console)
        _emit(review, args.format, None)
        return _exit_code(review, console)
    finally:
        if args.keep:
            console.print(f"demo: kept {workdir}", highlight=False)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _setup_flags_to_settings(args: argparse.Namespace) -> None:
    """The --setup-* flags are the REVIEWBOT_SETUP_* settings, for every command (the sandbox reads them)."""
    for flag, joined in (
        ("setup_ca_bundle", None),
        ("setup_allow", ","),
        ("setup_env", ","),
        ("setup_upstream_proxy", None),
    ):
        value = getattr(args, flag, None)
        if value is not None:
            os.environ[f"REVIEWBOT_{flag.upper()}"] = joined.join(value) if joined else value


def _cmd_doctor(args: argparse.Namespace) -> int:
    """What this host enforces, guarantee by guarantee, and whether PR code would run here."""
    host = HostSupport.detect()
    for line in host.describe():
        print(line)
    probe = disk_quota.probe() if host.root else None  # really mount a small capped filesystem once
    for guarantee in guarantees.host_guarantees(host, probe):
        print(guarantee.line())
    refused = guarantees.refusal(host, load_settings().allow_per_process_limits)
    print(f"PR code: refused - {refused}" if refused else "PR code: runs")
    if not host.bwrap or refused:
        return EXIT_INFRA
    net = egress.SetupNetwork.from_settings()
    for line in egress.describe(net):
        print(line)
    if not args.offline:
        for line in _probe_indexes(args, net):
            print(line)
    return EXIT_OK


def _probe_indexes(args: argparse.Namespace, net: egress.SetupNetwork) -> list[str]:
    """Reach each package index from a networked setup sandbox, the way an install would."""
    urls = egress.index_urls(net)
    report = [f"setup index policy: {line}" for line in egress.policy_report(net, urls)]
    with tempfile.TemporaryDirectory(prefix="reviewbot-doctor-") as scratch:
        root = Path(scratch)
        (root / "tree").mkdir()
        try:
            sandbox = Sandbox((args.data_dir or load_settings().data_dir) / "sandbox", setup_network=net)
            outcome = sandbox.run(
                SandboxRequest(
                    command=egress.probe_command(urls),
                    worktree=root / "tree",
                    out_dir=root / "out",
                    network=True,
                    limits=Limits(wall_clock_s=30 + 20 * len(urls)),
                )
            )
        except (SandboxUnavailable, OSError) as exc:
            return [*report, f"setup reaches indexes: could not run the check: {exc}"]
    lines = [line for line in outcome.log_tail.splitlines() if line.startswith(("ok ", "FAILED "))]
    if len(lines) < len(urls):
        lines.append(f"FAILED the check itself (exit {outcome.exit_code}, {outcome.limit_hit or 'no limit hit'})")
    return [*report, *(f"setup reaches index: {line}" for line in lines)]


def _service_settings(args: argparse.Namespace, console: Console):  # type: ignore[no-untyped-def]
    """Settings for `serve` / `worker`, or None after saying what is missing."""
    settings = load_settings()
    configure_logging(settings.log_format, settings.log_level)
    if args.data_dir:
        settings.data_dir = args.data_dir
    if not settings.webhook_secrets and args.command == "serve":
        _error(
            console, "set REVIEWBOT_WEBHOOK_SECRETS (the GitHub App's webhook secret; comma-separate several to rotate)"
        )
        return None
    if not ((settings.app_id and (settings.private_key or settings.private_key_path)) or settings.token):
        _error(console, "set REVIEWBOT_APP_ID with REVIEWBOT_PRIVATE_KEY_PATH (a GitHub App), or REVIEWBOT_TOKEN")
        return None
    return settings


def _cmd_serve(args: argparse.Namespace) -> int:
    from reviewbot.service.main import serve

    console = Console(stderr=True)
    settings = _service_settings(args, console)
    if settings is None:
        return EXIT_USAGE
    serve(settings, args.host, args.port, listener=args.listener)
    return EXIT_OK


def _cmd_worker(args: argparse.Namespace) -> int:
    from reviewbot.service.main import run_workers

    console = Console(stderr=True)
    settings = _service_settings(args, console)
    if settings is None:
        return EXIT_USAGE
    run_workers(settings, max(1, args.processes))
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
