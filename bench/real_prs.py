"""The proof engine on real lock-fix commits: is the verdict right, and what does it cost?

Reads bench/real_prs.yaml, a corpus of real public lock-fix commits (Python and Node), and for
each case:

1. runs the proof engine (`ProofEngine.prove`, what `reviewbot review` runs) on base..head with
   the case's config (or with none, `--no-config`), in a child process with a wall-clock limit;
2. runs the same setup and suite commands by hand, outside the bot and its sandbox, on head and
   then on base with the commit's test files laid over it, timed in the same run.

It prints per case and in total: verdict against the expected one (accuracy), the review's wall
time, the by-hand wall time and their ratio. Cases whose repository is not on this machine are
listed as skipped, never counted as wrong: the manifest names repositories by URL, and a local
copy is found under `--sources DIR` (or `REVIEWBOT_CORPUS_DIR`) as `DIR/<owner>+<name>/repo`
(the layout of a fetched mirror) or `DIR/<name>`; `--clone` clones missing ones from the URL.

    python bench/real_prs.py [--only NAME] [--no-config] [--timeout 900] [--skip-by-hand]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's reviewbot, not whichever one the venv installed
MANIFEST = Path(__file__).with_name("real_prs.yaml")
DEFAULT_SOURCES = "/work/.mirror"


@dataclass(frozen=True)
class Case:
    name: str
    url: str
    base: str
    head: str
    expected: str  # the verdict with the case's config; "a|b" when a race makes either one right
    expected_no_config: str | None  # the verdict with no config; None: not part of the no-config run
    config: str  # .github/reviewbot.yml text
    tests: tuple[str, ...]  # the commit's test files: laid over base in the by-hand run
    lang: str = ""
    by_hand: str = ""  # what a person saw running it by hand when the case was added
    needs_hosts: tuple[str, ...] = ()  # hosts the zero-config install (which follows the lockfile) fetches from

    @property
    def repo_name(self) -> str:
        return self.url.rstrip("/").removesuffix(".git").split("github.com/")[-1]


@dataclass
class Row:
    case: Case
    expected: str | None
    verdict: str = ""
    reason: str = ""
    review_s: float | None = None
    hand: str = ""
    hand_s: float | None = None
    skipped: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def correct(self) -> bool:
        return not self.skipped and self.expected is not None and self.verdict in self.expected.split("|")


def load_manifest(path: Path = MANIFEST) -> list[Case]:
    data = yaml.safe_load(path.read_text())
    return [
        Case(
            name=c["name"],
            url=c["url"],
            base=str(c["base"]),
            head=str(c["head"]),
            expected=_verdicts(c["expected"]),
            expected_no_config=_verdicts(c.get("expected_no_config")),
            config=c.get("config", ""),
            tests=tuple(c.get("tests", ())),
            lang=c.get("lang", ""),
            by_hand=c.get("by_hand", ""),
            needs_hosts=tuple(c.get("needs_hosts", ())),
        )
        for c in data["cases"]
    ]


def _verdicts(value: str | list[str] | None) -> str | None:
    """One verdict, or a list of the verdicts a racy case may rightly get, written "a|b"."""
    return "|".join(value) if isinstance(value, list) else value


def unreachable(hosts: tuple[str, ...]) -> list[str]:
    """The hosts this machine cannot resolve: a case that installs from them is skipped here, not failed."""
    missing = []
    for host in hosts:
        try:
            socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM)
        except OSError:
            missing.append(host)
    return missing


def find_source(case: Case, sources: Path, clone: bool) -> Path | None:
    """A local copy of the case's repository, or None: the case is then skipped, and said so."""
    owner_name = case.repo_name
    for candidate in (sources / owner_name.replace("/", "+") / "repo", sources / owner_name.split("/")[-1]):
        for path in (candidate, candidate / ".git"):
            if (path / "HEAD").exists() and (path / "objects").is_dir():
                return path
    if clone:
        target = sources / owner_name.split("/")[-1]
        done = subprocess.run(["git", "clone", "--quiet", "--bare", case.url, str(target)], timeout=600)
        return target if done.returncode == 0 else None
    return None


def resolve(case: Case, source: Path) -> Case:
    """Full SHAs for base and head: the manifest may say `<sha>~1`, the engine fetches by name."""

    def sha(rev: str) -> str:
        return subprocess.run(
            ["git", "--git-dir", str(source), "rev-parse", "--verify", f"{rev}^{{commit}}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    return dataclasses.replace(case, base=sha(case.base), head=sha(case.head))


def _env() -> dict[str, str]:
    """The operator's environment: by hand, installs reach the index as a person's shell would."""
    env = dict(os.environ)
    env.setdefault("PIP_CERT", "/etc/ssl/certs/ca-certificates.crt")
    env.setdefault("NODE_EXTRA_CA_CERTS", "/etc/ssl/certs/ca-certificates.crt")
    env.pop("VIRTUAL_ENV", None)
    return env


def _run_shell(command: str, cwd: Path, deadline: float) -> tuple[int | None, str]:
    """Run one command in its own process group; kill the group at the deadline (None: timed out)."""
    left = deadline - time.monotonic()
    if left <= 0:
        return None, "no time left"
    proc = subprocess.Popen(
        ["/bin/sh", "-c", command],
        cwd=cwd,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=left)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return None, out.decode(errors="replace")
    return proc.returncode, out.decode(errors="replace")


def by_hand(case: Case, source: Path, scratch: Path, timeout: float) -> tuple[str, float | None]:
    """Setup + suites on head, then on base with the tests laid over: the verdict a person would see.

    Checkouts are not timed; setup and suites are, each repeat included, as the config says.
    """
    config = yaml.safe_load(case.config) or {}
    setup = (config.get("setup") or {}).get("run")
    suites = config.get("suites") or []
    if not suites:
        return "no suites", None
    trees = {}
    for side, rev in (("head", case.head), ("base", case.base)):
        tree = scratch / side
        subprocess.run(["git", "clone", "--quiet", "--shared", "--no-checkout", str(source), str(tree)], check=True)
        subprocess.run(["git", "-C", str(tree), "checkout", "--quiet", "--detach", rev], check=True)
        trees[side] = tree
    for path in case.tests:
        shown = subprocess.run(["git", "-C", str(trees["head"]), "show", f"{case.head}:{path}"], capture_output=True)
        target = trees["base"] / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(shown.stdout)
    deadline = time.monotonic() + timeout
    started = time.perf_counter()
    status: dict[str, str] = {}
    for side in ("head", "base"):
        if setup:
            code, out = _run_shell(setup, trees[side], deadline)
            if code != 0:
                last = " ".join(out.strip().splitlines()[-1:])[:120]
                status[side] = "setup timeout" if code is None else f"setup failed ({last})"
                continue
        results = []
        for suite in suites:
            for _ in range(int(suite.get("repeat", 1))):
                limit = min(deadline, time.monotonic() + float(suite.get("timeout", 300)))
                code, out = _run_shell(suite["run"], trees[side], limit)
                results.append("timeout" if code is None else "passed" if code == 0 else "failed")
                if code != 0 and os.environ.get("REAL_PRS_VERBOSE"):
                    print(f"--- {case.name} {side}: {suite['run']} exited {code}\n{out[-3000:]}", file=sys.stderr)
        status[side] = (
            "flaky"
            if len(set(results)) > 1
            else "timeout"
            if "timeout" in results
            else "failed"
            if "failed" in results
            else "passed"
        )  # as the verdict: repeats that disagree
    elapsed = time.perf_counter() - started
    head, base = status.get("head", "?"), status.get("base", "?")
    verdict = (
        "flaky"
        if "flaky" in (head, base)
        else "proven"
        if head == "passed" and base in ("failed", "timeout")
        else "weak"
        if head == base == "passed"
        else "fails"
        if head == "failed"
        else f"head {head}, base {base}"
    )
    return verdict, elapsed


def review_in_child(case: Case, source: Path, data_dir: Path, no_config: bool, timeout: float) -> dict:
    """The engine's proof in a child process, killed (with its process group) at the timeout."""
    payload = {
        "source": str(source),
        "base": case.base,
        "head": case.head,
        "data_dir": str(data_dir),
        "config": None if no_config else case.config,
    }
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(json.dumps(payload).encode(), timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        from reviewbot.proof import disk_quota

        disk_quota.recover(data_dir / "runs")  # the killed child's run filesystem, before its folder goes
        return {
            "verdict": "bench-timeout",
            "reason": f"no verdict within {timeout:.0f}s",
            "wall_s": time.perf_counter() - started,
        }
    try:
        result = json.loads(out.decode().strip().splitlines()[-1])
    except (IndexError, ValueError):
        result = {"verdict": "bench-error", "reason": f"child exited {proc.returncode} without a result"}
    result["wall_s"] = time.perf_counter() - started
    return result


def child_main() -> None:
    """One proof, parameters on stdin, one JSON line on stdout."""
    from reviewbot.proof.engine import ProofEngine, ProofRequest

    payload = json.loads(sys.stdin.read())
    data_dir = Path(payload["data_dir"])
    data_dir.mkdir(parents=True, exist_ok=True)
    config_file = None
    if payload["config"] is not None:
        config_file = data_dir / "case-config.yml"
        config_file.write_text(payload["config"])
    engine = ProofEngine(data_dir)
    proof = engine.prove(
        ProofRequest(source=payload["source"], base=payload["base"], head=payload["head"], config_file=config_file)
    )
    pairs = [
        {
            "suite": p.name,
            "base": p.base.status.value if p.base else None,
            "head": p.head.status.value if p.head else None,
        }
        for p in proof.suites
    ]
    tails = [run.outcome.log_tail for p in proof.suites for side in (p.head, p.base) if side for run in side.runs[-1:]]
    print(
        json.dumps(
            {
                "verdict": proof.verdict.value,
                "reason": proof.reason,
                "suites": pairs,
                "notes": proof.notes,
                "log_tail": (tails[0] if tails else "")[-800:],
                "engine_s": proof.duration_s,
            }
        )
    )


def run_case(case: Case, args: argparse.Namespace, sources: Path) -> Row:
    expected = case.expected_no_config if args.no_config else case.expected
    row = Row(case, expected)
    if args.no_config and expected is None:
        row.skipped = "not in the no-config set"
        return row
    if args.no_config and (missing := unreachable(case.needs_hosts)):
        row.skipped = f"its install needs {', '.join(missing)}, which this machine cannot resolve"
        return row
    source = find_source(case, sources, args.clone)
    if source is None:
        row.skipped = f"source not available (looked under {sources} for {case.repo_name})"
        return row
    case = resolve(case, source)
    with tempfile.TemporaryDirectory(prefix=f"real-pr-{case.name}-") as scratch:
        if args.by_hand_only:
            row.hand, row.hand_s = by_hand(case, source, Path(scratch), args.timeout)
            row.verdict = row.hand  # checks the manifest's expectation itself
            return row
        result = review_in_child(case, source, Path(scratch) / "data", args.no_config, args.timeout)
        row.verdict, row.reason, row.review_s = result["verdict"], result.get("reason", ""), result["wall_s"]
        if not row.correct and os.environ.get("REAL_PRS_VERBOSE"):
            print(
                f"--- {case.name} review: {row.verdict}: {row.reason}\n{result.get('notes')}\n"
                f"{result.get('log_tail', '')}",
                file=sys.stderr,
            )
        if not args.skip_by_hand:
            row.hand, row.hand_s = by_hand(case, source, Path(scratch), args.timeout)
    return row


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}s"


def report(rows: list[Row]) -> str:
    lines = ["| case | expected | verdict | ok | review | by hand (verdict) | ratio |", "|---|---|---|---|---|---|---|"]
    for row in rows:
        if row.skipped:
            lines.append(f"| {row.case.name} | {row.expected or '-'} | skipped: {row.skipped} | | | | |")
            continue
        ratio = f"{row.review_s / row.hand_s:.2f}×" if row.review_s and row.hand_s else "-"
        lines.append(
            f"| {row.case.name} | {row.expected} | {row.verdict} | {'✓' if row.correct else '✗'} | "
            f"{_seconds(row.review_s)} | {_seconds(row.hand_s)} ({row.hand or '-'}) | {ratio} |"
        )
    ran = [row for row in rows if not row.skipped]
    right = sum(row.correct for row in ran)
    review_total = sum(row.review_s or 0 for row in ran)
    hand_total = sum(row.hand_s or 0 for row in ran if row.hand_s)
    total_ratio = f"{review_total / hand_total:.2f}×" if hand_total else "-"
    lines.append("")
    lines.append(
        f"accuracy {right}/{len(ran)} ran ({len(rows) - len(ran)} skipped); review {review_total:.1f}s, "
        f"by hand {hand_total:.1f}s, ratio {total_ratio}"
    )
    wrong = [row for row in ran if not row.correct]
    for row in wrong:
        lines.append(f"- {row.case.name}: {row.verdict}: {row.reason[:300]}")
    return "\n".join(lines)


def scan_case(case: Case, source: Path) -> list[str]:
    """The lock scan over the case's real diff: one line per finding (P0/P1 ones are what blocks)."""
    from reviewbot.proof.changes import is_test_path
    from reviewbot.review.diff import parse_unified_diff
    from reviewbot.review.lock_scan import scan

    diff = subprocess.run(
        ["git", "--git-dir", str(source), "diff", "--no-color", "--no-ext-diff", case.base, case.head],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    files = parse_unified_diff(diff)
    tests = [f.path for f in files if is_test_path(f.path)]
    return [f"{f.priority.value} {f.rule} {f.path}:{f.line}" for f in scan(files, tests)]


def main() -> None:
    if "--child" in sys.argv:
        child_main()
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--manifest", type=Path, default=MANIFEST)
    parser.add_argument("--only", action="append", help="run only this case (repeatable)")
    parser.add_argument("--no-config", action="store_true", help="review with no config (runner detection)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per case, for each of review and by hand")
    parser.add_argument("--sources", type=Path, default=Path(os.environ.get("REVIEWBOT_CORPUS_DIR", DEFAULT_SOURCES)))
    parser.add_argument("--clone", action="store_true", help="clone a missing repository from its URL into --sources")
    parser.add_argument("--skip-by-hand", action="store_true", help="only the review, no by-hand baseline")
    parser.add_argument("--scan", action="store_true", help="only the lock scan over each case's real diff")
    parser.add_argument(
        "--by-hand-only",
        action="store_true",
        help="no review: check the manifest's expected verdicts by running the commands by hand",
    )
    args = parser.parse_args()
    cases = load_manifest(args.manifest)
    if args.only:
        unknown = set(args.only) - {case.name for case in cases}
        if unknown:
            parser.error(f"no such case: {', '.join(sorted(unknown))}")
        cases = [case for case in cases if case.name in args.only]
    if args.scan:
        for case in cases:
            source = find_source(case, args.sources, clone=False)
            lines = scan_case(case, source) if source else ["skipped: source not available"]
            print(f"{case.name}: " + ("; ".join(lines) or "no findings"))
        return
    rows = []
    for case in cases:
        row = run_case(case, args, args.sources)
        done = row.skipped or (
            f"{row.verdict} (expected {row.expected}) review {_seconds(row.review_s)}, "
            f"by hand {row.hand or '-'} {_seconds(row.hand_s)}"
        )
        print(f"{case.name}: {done}", file=sys.stderr, flush=True)
        rows.append(row)
    print(report(rows))


if __name__ == "__main__":
    main()
