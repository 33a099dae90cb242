"""The proof: run the selected suites on head and on base+PR-tests, then decide.

This is the only module that sequences git, the sandbox and the parsers; each
of those knows nothing of the others. Infrastructure failures become an
`error` verdict that says what broke, never an exception the caller must
interpret, so a review can always be published and retried.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from reviewbot.data_dir import prepare_data_dir
from reviewbot.model import (
    ChangedFiles,
    ClaimRun,
    Proof,
    RunProblem,
    RunStatus,
    SandboxOutcome,
    SuitePair,
    SuiteResult,
    SuiteRun,
    TestCounts,
    Verdict,
)
from reviewbot.proof import cgroups, disk_quota
from reviewbot.proof.amplify import Amplification, amplified_command
from reviewbot.proof.changes import is_manifest, is_test_path, split_changes
from reviewbot.proof.claims import plan_claim_runs
from reviewbot.proof.inference import config_yaml, infer_config
from reviewbot.proof.overlay import OverlayPlan, apply_overlay, plan_overlay
from reviewbot.proof.results import parse_junit_xml, parse_summary
from reviewbot.proof.run_health import as_error, failed_setup, no_test_ran, settle_pair
from reviewbot.proof.safe_fs import inside, read_regular, read_tail
from reviewbot.proof.sandbox import OUT_DIR, Limits, Sandbox, SandboxRequest, SandboxUnavailable
from reviewbot.proof.scm_version import version_env
from reviewbot.proof.selection import AUTO_SUITE_TIMEOUT, JUNIT_ENV, JUNIT_PLACEHOLDER, select_suites
from reviewbot.proof.setup_step import DEFAULT_MAX_BYTES, DOWNLOAD_CACHE_ENV, DownloadCaches
from reviewbot.proof.workspace import Mirror, Revisions, Workspace, WorkspaceError
from reviewbot.repo_config import (
    CONFIG_PATH,
    ConfigError,
    ProofSettings,
    RepoConfig,
    Setup,
    Suite,
    load_config_file,
    parse_config,
)
from reviewbot.review.markdown import code_span
from reviewbot.review.verdict import decide
from reviewbot.stats import DEFAULT_CONFIDENCE, Evidence, Tally, clean_runs_needed, stop_reason

T = TypeVar("T")

Progress = Callable[[str], None]
JUNIT_FILE = "junit.xml"
SUMMARY_BYTES = 256 * 1024
KEEP_LOG_DIRS = 200


@dataclass(frozen=True)
class ProofRequest:
    source: str  # a local repository path or a clone URL
    base: str  # base branch (or any ref); base runs use its merge-base with head
    head: str
    config_file: Path | None = None  # local override of the base's .github/reviewbot.yml
    mirror_key: str | None = None  # "owner/name" for GitHub repositories
    auth_header: str | None = None  # for fetching private repositories; never stored
    claimed_commands: tuple[str, ...] = ()  # the PR body's Test plan commands, run on head


@dataclass(frozen=True)
class _Side:
    """One side of a proof (head, or base with the PR's tests): its tree, scratch space and environment."""

    name: str
    tree: Path
    scratch: Path
    logs: Path
    env: dict[str, str]  # extra sandbox environment for every run on this side
    cancel: threading.Event | None

    @property
    def home(self) -> Path:
        return self.scratch / "home"


class ProofEngine:
    def __init__(
        self,
        data_dir: Path,
        sandbox: Sandbox | None = None,
        progress: Progress | None = None,
        parallel: bool | None = None,
        cache_max_bytes: int = DEFAULT_MAX_BYTES,
        limits: Limits | None = None,
    ):
        self.data_dir = prepare_data_dir(data_dir)
        # Its disk caps bound each proof's run folder, which also holds each side's copy of the download caches.
        self.limits = limits or Limits(disk_bytes=Limits().disk_bytes + 2 * cache_max_bytes)
        self.workspace = Workspace(data_dir)
        self._sandbox = sandbox
        self.progress = progress or (lambda message: None)
        self.parallel = (os.cpu_count() or 1) >= 2 if parallel is None else parallel
        self.download_caches = DownloadCaches(data_dir / "download-cache", cache_max_bytes)
        self.logs_dir = data_dir / "logs"

    def recover(self) -> None:
        """Clean up after processes that died mid-proof: disk-quota mounts, run folders, worktrees, git locks, cgroups."""
        disk_quota.recover(self.workspace.runs_dir)  # first: a run folder still mounted cannot be removed
        self.workspace.recover()
        if os.geteuid() == 0:
            cgroups.remove_orphans(cgroups.detect())

    @property
    def sandbox(self) -> Sandbox:
        if self._sandbox is None:
            self._sandbox = Sandbox(self.data_dir / "sandbox")
        return self._sandbox

    def prove(
        self, request: ProofRequest, cancel: threading.Event | None = None, on_step: Callable[[str], None] | None = None
    ) -> Proof:
        """`on_step` hears "checked out", "suites on head" and "suites on base" as each completes."""
        started = time.monotonic()
        try:
            proof = self._prove(request, cancel, on_step or (lambda step: None))
        except (WorkspaceError, SandboxUnavailable, OSError) as exc:
            proof = Proof(
                verdict=Verdict.ERROR,
                reason=f"Infrastructure error: {code_span(str(exc))}",
                error_cause=RunProblem.INFRASTRUCTURE,
            )
        proof.duration_s = time.monotonic() - started
        return proof

    def _prove(self, request: ProofRequest, cancel: threading.Event | None, on_step: Callable[[str], None]) -> Proof:
        mirror = self.workspace.mirror(request.source, request.mirror_key)
        self.progress(f"fetching {request.source}")
        mirror.fetch(wanted=(request.base, request.head), auth_header=request.auth_header)
        revs = mirror.revisions(request.base, request.head)
        changed_paths, deleted = mirror.changed_files(revs.merge_base, revs.head)
        changed = split_changes(changed_paths, deleted)
        self.progress(
            f"head {revs.head[:12]}, merge-base {revs.merge_base[:12]}: "
            f"{len(changed.tests)} test file(s), {len(changed.sources)} other file(s) changed"
        )
        config, config_source, notes = self._config(mirror, revs, request, changed)
        proof = Proof(
            verdict=Verdict.NO_TESTS,
            reason="",
            head_sha=revs.head,
            base_sha=revs.base_tip,
            merge_base_sha=revs.merge_base,
            changed=changed,
            notes=notes,
            config_source=config_source,
            inferred_config=config_yaml(config) if config and config_source.startswith("inferred") else "",
        )
        proof.claims = plan_claim_runs(list(request.claimed_commands))
        run_id = f"{revs.head[:12]}-{uuid.uuid4().hex[:8]}"
        with (
            self.workspace.run_dir(run_id) as run_dir,
            disk_quota.capped_dir(run_dir, self.limits.disk_bytes, self.limits.disk_inodes),
        ):
            with mirror.worktree(revs.head, run_dir, "head") as head_tree:
                suites = select_suites(config, changed, head_tree)
                claims = [claim for claim in proof.claims if not claim.skipped]
                if not suites and not claims:
                    proof.reason = decide([]).reason
                    return proof
                if suites:
                    self.progress("suites: " + ", ".join(suite.name for suite in suites))
                logs = self._log_dir(run_id)
                setup = config.setup if config else None
                if setup is not None and (setup.cache or setup.cache_key):
                    proof.notes.append(
                        "`setup.cache` and `setup.cache_key` are no longer used: setup runs fresh "
                        "on each side, and package downloads are cached for it."
                    )
                claim_timeout = max((suite.timeout for suite in suites), default=AUTO_SUITE_TIMEOUT)
                setup_notes: list[str] = []
                overlay = self._plan_overlay(mirror, revs, changed, proof.notes) if suites else None
                versions = {
                    "head": version_env(*mirror.describe(revs.head)),
                    "base": version_env(*mirror.describe(revs.merge_base)),
                }
                with (
                    mirror.worktree(revs.merge_base, run_dir, "base")
                    if suites
                    else contextlib.nullcontext() as base_tree
                ):
                    sides = {"head": head_tree, "base": base_tree}
                    on_step("checked out")

                    def prepare(side: str) -> SuiteRun | None:
                        """Setup (and base's overlay); a failed setup is the error run of every suite."""
                        ready = None
                        # Base's setup is trusted (it may fill the shared download cache) only on the
                        # merge-base exactly as committed: before the PR's files are laid over it.
                        trusted = side == "base" and overlay is not None and not overlay.touches_install
                        if setup is not None and trusted:
                            ready = self._setup(side_envs[side], setup, mirror, setup_notes, trusted=True)
                        if side == "base" and overlay is not None:
                            proof.overlaid = self._apply_overlay(mirror, revs, overlay, sides[side])
                        if setup is not None and not trusted:
                            ready = self._setup(side_envs[side], setup, mirror, setup_notes, trusted=False)
                        return ready

                    active = ("head", "base") if suites else ("head",)
                    side_envs = {
                        side: _Side(side, sides[side], run_dir / side, logs, versions[side], cancel) for side in active
                    }
                    for side_env in side_envs.values():
                        side_env.home.mkdir(parents=True, exist_ok=True)
                    ready = self._on_both(active, prepare)
                    settings = config.proof if config else None
                    pairs = self._run_rounds(side_envs, suites, ready, settings) if suites else []
                    self._run_claims(side_envs["head"], claims, ready["head"], claim_timeout)
                    for side in active:
                        on_step(f"suites on {side}")
        proof.notes.extend(sorted(setup_notes))
        if not suites:
            proof.reason = decide([]).reason
            return proof
        for pair in pairs:
            settle_pair(pair.head, pair.base)  # type: ignore[arg-type]
        proof.suites = pairs
        if settings is not None:
            proof.confidence, proof.threshold = settings.confidence, settings.threshold
        proof.stopped_because = "; ".join(f"{pair.name}: {pair.stopped_because}" for pair in pairs)
        proof.notes.extend(contention_note(pair) for pair in pairs if pair.base is not None and pair.base.amplification)
        decision = decide(
            proof.suites,
            proof.confidence or DEFAULT_CONFIDENCE,
            inferred_setup=proof.config_source.startswith("inferred"),
        )
        proof.verdict, proof.reason, proof.error_cause = decision.verdict, decision.reason, decision.cause
        proof.notes.extend(decision.notes)
        return proof

    # -- configuration ---------------------------------------------------------------

    def _config(
        self, mirror: Mirror, revs: Revisions, request: ProofRequest, changed: ChangedFiles
    ) -> tuple[RepoConfig | None, str, list[str]]:
        """The base branch's config (a PR cannot switch its own checks off), or an override."""
        notes: list[str] = []
        if CONFIG_PATH in changed.all or CONFIG_PATH in changed.deleted:
            notes.append(f"This PR edits `{CONFIG_PATH}`; the proof used the base branch's version.")
        try:
            if request.config_file is not None:
                return load_config_file(request.config_file), f"file:{request.config_file}", notes
            raw = mirror.read_file(revs.base_tip, CONFIG_PATH)
            if raw is None:  # zero config: a setup inferred from the head's manifests, else plain detection
                inferred = infer_config(lambda path: mirror.read_file(revs.head, path), changed.tests)
                return (inferred.config, "inferred", notes) if inferred else (None, "detected", notes)
            return parse_config(raw.decode("utf-8", errors="replace")), f"base:{CONFIG_PATH}", notes
        except ConfigError as exc:  # one line per problem, so each mistake reads on its own in the comment
            problems = "".join(f"\n  - {code_span(problem)}" for problem in exc.problems)
            notes.append(
                f"Config error, so the bot fell back to detecting the test runner: {code_span(exc.source)} "
                f"is invalid:{problems}"
            )
            inferred = infer_config(lambda path: mirror.read_file(revs.head, path), changed.tests)
            return (
                (inferred.config, "inferred (config invalid)", notes)
                if inferred
                else (None, "detected (config invalid)", notes)
            )

    # -- base overlay ----------------------------------------------------------------

    def _plan_overlay(self, mirror: Mirror, revs: Revisions, changed: ChangedFiles, notes: list[str]) -> OverlayPlan:
        manifests = {
            path: (mirror.read_file(revs.merge_base, path), mirror.read_file(revs.head, path))
            for path in changed.sources
            if is_manifest(path)
        }
        deleted_tests = [path for path in changed.deleted if is_test_path(path)]
        plan = plan_overlay(changed, manifests, deleted_tests)
        notes.extend(plan.notes)
        return plan

    def _apply_overlay(self, mirror: Mirror, revs: Revisions, plan: OverlayPlan, tree: Path) -> list[str]:
        apply_overlay(tree, plan, lambda path: mirror.blob(revs.head, path))
        return plan.touched

    # -- running suites ----------------------------------------------------------------

    def _on_both(self, sides: tuple[str, ...], work: Callable[[str], T]) -> dict[str, T]:
        """`work` for each side: in parallel when the machine has the cores, else head then base."""
        if self.parallel and len(sides) == 2:
            with ThreadPoolExecutor(max_workers=2, thread_name_prefix="proof") as pool:
                futures = {side: pool.submit(work, side) for side in sides}
                return {side: future.result() for side, future in futures.items()}
        return {side: work(side) for side in sides}

    def _run_rounds(
        self,
        sides: dict[str, _Side],
        suites: list[Suite],
        ready: dict[str, SuiteRun | None],
        settings: ProofSettings | None,
    ) -> list[SuitePair]:
        """Each suite round by round, one run per side per round, until it has `repeat` runs or,
        with adaptive repeats, until the evidence is settled (stats.py) or the budget is spent."""
        started = time.monotonic()
        pairs = []
        for index, suite in enumerate(suites):
            results = {
                side: SuiteResult(
                    suite=suite.name,
                    kind=suite.kind,
                    revision=side,  # type: ignore[arg-type]
                    command=suite.run,
                )
                for side in sides
            }
            failed_setup = {side: run for side, run in ready.items() if run is not None}
            stopped = "the setup step failed" if failed_setup else ""
            for side, run in failed_setup.items():
                results[side].runs.append(run)
            limit = max(settings.max_runs, suite.repeat) if settings else suite.repeat
            amplification = _amplification(suite, settings)
            for result in results.values():
                result.amplification = amplification.describe() if amplification else None
            while not stopped:
                if any(side.cancel is not None and side.cancel.is_set() for side in sides.values()):
                    stopped = "the review was cancelled"
                    break
                needed = tuple(
                    side
                    for side in sides
                    if side == "head"
                    or _base_needs_runs(results["head"], results["base"], suite.repeat, limit, settings)
                )

                def run(side: str) -> SuiteRun:
                    number = len(results[side].runs) + 1
                    contention = amplification if number % 2 == 0 else None  # idle, contended, idle, ...
                    outcome = self._run_once(
                        sides[side],
                        suite.run,
                        suite.junit,
                        Limits(wall_clock_s=suite.timeout),
                        f"suite{index}-{number}",
                        f"{_slug(suite.name)}-{number}",
                        contention,
                    )
                    return outcome.model_copy(update={"amplified": contention is not None})

                for side, outcome in self._on_both(needed, run).items():
                    results[side].runs.append(outcome)
                    self.progress(
                        f"{side}: {suite.name} [{len(results[side].runs)}/{limit}] {outcome.status.value}"
                        f" ({outcome.outcome.duration_s:.1f}s)"
                    )
                stopped = _stop_repeating(
                    results["head"], results["base"], suite.repeat, limit, settings, time.monotonic() - started
                )
            pairs.append(
                SuitePair(
                    name=suite.name,
                    kind=suite.kind,
                    command=suite.run,
                    head=results["head"],
                    base=results["base"],
                    stopped_because=stopped,
                )
            )
        return pairs

    def _run_claims(self, side: _Side, claims: list[ClaimRun], setup_failed: SuiteRun | None, timeout: float) -> None:
        """Run the PR body's claimed commands on head, once each, with the suites' limits."""
        for index, claim in enumerate(claims):
            if setup_failed is not None:
                claim.skipped = "the setup step failed on head"
                continue
            if side.cancel is not None and side.cancel.is_set():
                claim.skipped = "the review was cancelled"
                continue
            run = self._run_once(
                side, claim.command, None, Limits(wall_clock_s=timeout), f"claim{index}", f"claim-{index + 1}"
            )
            claim.status, claim.counts, claim.outcome = run.status, run.counts, run.outcome
            self.progress(f"head: claimed `{claim.command}` {run.status.value} ({run.outcome.duration_s:.1f}s)")

    def _setup(
        self, side: _Side, setup: Setup, mirror: Mirror, setup_notes: list[str], trusted: bool
    ) -> SuiteRun | None:
        """Run the setup step fresh on this side; a failed step becomes the error run of every suite."""
        self.progress(f"{side.name}: setup `{setup.run}`")
        with self.download_caches.lease(mirror.path.name, side.scratch / "setup", trusted) as cache:
            outcome = self.sandbox.run(
                SandboxRequest(
                    command=setup.run,
                    worktree=side.tree,
                    out_dir=side.scratch / "setup" / "out",
                    network=setup.network,
                    limits=Limits(wall_clock_s=setup.timeout),
                    env={**DOWNLOAD_CACHE_ENV, **side.env},
                    home=side.home,
                    cache_dir=cache,
                    log_path=side.logs / f"{side.name}-setup.log",
                ),
                side.cancel,
            )
        ok = outcome.exit_code == 0 and outcome.limit_hit is None
        self.progress(f"{side.name}: setup {'ran' if ok else 'failed'}")
        setup_notes.append(
            f"Setup {code_span(setup.run)} on {side.name}: {'ran' if ok else 'failed'} "
            f"in {outcome.duration_s:.0f}s{' (fills the download cache)' if trusted else ''}."
        )
        if ok:
            return None
        output = read_tail(side.logs / f"{side.name}-setup.log", SUMMARY_BYTES).decode("utf-8", errors="replace")
        return failed_setup(outcome, output or outcome.log_tail, setup.run)

    def _run_once(
        self,
        side: _Side,
        command: str,
        junit: str | None,
        limits: Limits,
        scratch_name: str,
        log_name: str,
        amplification: Amplification | None = None,
    ) -> SuiteRun:
        tree, out_dir = side.tree, side.scratch / scratch_name
        log_path = side.logs / f"{side.name}-{log_name}.log"
        repo_junit = junit if junit and junit != JUNIT_PLACEHOLDER else None
        if repo_junit:
            stale = inside(tree, repo_junit)
            if stale is not None and (stale.is_file() or stale.is_symlink()):
                stale.unlink()
        if amplification is not None:
            command = amplified_command(command, amplification, JUNIT_ENV)
        outcome = self.sandbox.run(
            SandboxRequest(
                command=command,
                worktree=tree,
                out_dir=out_dir,
                limits=limits,
                env={**side.env, JUNIT_ENV: f"{OUT_DIR}/{JUNIT_FILE}"},
                home=side.home,
                log_path=log_path,
            ),
            side.cancel,
        )
        junit_path = inside(tree, repo_junit) if repo_junit else out_dir / JUNIT_FILE
        output = read_tail(log_path, SUMMARY_BYTES).decode("utf-8", errors="replace") or outcome.log_tail
        counts = _read_counts(junit_path, output)
        return classify_run(outcome, counts, output)

    def _log_dir(self, run_id: str) -> Path:
        path = self.logs_dir / run_id
        path.mkdir(parents=True, exist_ok=True)
        _prune_old(self.logs_dir, KEEP_LOG_DIRS)
        return path


def _amplification(suite: Suite, settings: ProofSettings | None) -> Amplification | None:
    """Regression suites get the configured contention; integration suites run as written."""
    if settings is None or settings.amplify is None or suite.kind != "regression":
        return None
    return Amplification(copies=settings.amplify.copies, stressors=settings.amplify.stressors)


def contention_note(pair: SuitePair) -> str:
    """What alternating idle and contended runs showed; a race only contention exposes is named."""
    assert pair.base is not None and pair.head is not None
    name, how = code_span(pair.name), pair.base.amplification
    idle, contended = pair.base.tally_of(amplified=False), pair.base.tally_of(amplified=True)
    if idle.clean and contended.failures:
        return (
            f"{name} hides a race that needs contention: on base it passed all {idle.runs} idle run(s) and "
            f"failed {contended.failures} of {contended.runs} under contention ({how})."
        )
    return f"{name} alternated idle runs and runs under contention ({how}) on both sides."


def _base_needs_runs(
    head: SuiteResult, base: SuiteResult, repeat: int, limit: int, settings: ProofSettings | None
) -> bool:
    """Whether base's next round can still change the verdict.

    Head must repeat until its bound is under the threshold (29 clean runs for 10% at
    95%) anyway, while base only has to fail significantly more often than head. So base
    rests once its failures would be significant against head at that run count, if head
    stays as clean as it is; the verdict is still decided on the real tallies, and base
    rejoins whenever they no longer show the difference.
    """
    if settings is None or len(base.runs) < repeat or any(r.status == RunStatus.ERROR for r in base.runs):
        return True
    target = min(limit, clean_runs_needed(settings.threshold, settings.confidence))
    head_then = Tally(runs=max(head.tally.runs, target), failures=head.tally.failures)
    evidence = Evidence(head=head_then, base=base.tally, confidence=settings.confidence, threshold=settings.threshold)
    return not (base.tally.failures and evidence.significant)


def _stop_repeating(
    head: SuiteResult, base: SuiteResult, repeat: int, limit: int, settings: ProofSettings | None, elapsed_s: float
) -> str:
    """Why this suite needs no further round ("" while it does)."""
    runs = len(head.runs)
    if settings is None:
        return f"ran the configured {repeat} time(s)" if runs >= repeat else ""
    stuck = any(r.status == RunStatus.ERROR for r in head.runs + base.runs) or any(
        r.status == RunStatus.TIMEOUT for r in head.runs
    )
    if stuck:  # an error or a hang on head decides the verdict whatever the rates
        return "a run gave no result, or head hung" if runs >= repeat else ""
    evidence = Evidence(head=head.tally, base=base.tally, confidence=settings.confidence, threshold=settings.threshold)
    return stop_reason(evidence, runs, repeat, limit, elapsed_s, settings.budget_s) or ""


def classify_run(outcome: SandboxOutcome, counts: TestCounts, output: str = "") -> SuiteRun:
    """One run's status. A run that executed no test is an error with its reason, never a result."""
    run = SuiteRun(status=RunStatus.FAILED, counts=counts, outcome=outcome)
    if outcome.limit_hit == "wall_clock":
        return run.model_copy(update={"status": RunStatus.TIMEOUT})
    if outcome.limit_hit == "cancelled":
        return run.model_copy(
            update={"status": RunStatus.ERROR, "problem": RunProblem.INFRASTRUCTURE, "why": "the review was cancelled"}
        )
    if outcome.exit_code in (126, 127):
        return run.model_copy(
            update={
                "status": RunStatus.ERROR,
                "problem": RunProblem.NO_TEST_RAN,
                "why": f"the command could not start (exit {outcome.exit_code}: "
                f"{'not found' if outcome.exit_code == 127 else 'not executable'})",
            }
        )
    if outcome.exit_code == 0 and outcome.limit_hit is None and counts.failed == 0:
        return run.model_copy(update={"status": RunStatus.PASSED})
    reason = no_test_ran(outcome, counts, output)
    return as_error(run, reason) if reason else run


def _read_counts(junit_path: Path | None, output: str) -> TestCounts:
    if junit_path is not None:
        data = read_regular(junit_path)
        if data:
            parsed = parse_junit_xml(data.decode("utf-8", errors="replace"))
            if parsed is not None:
                return parsed
    return parse_summary(output) or TestCounts()


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower() or "suite"


def _prune_old(root: Path, keep: int) -> None:
    dirs = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for old in dirs[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
