"""GitHub API calls per review, counted by the fake GitHub (git fetches over smart HTTP not included).

1. One full review publish of a new PR: token, live PR state, find the comment,
   the "review started" note, the live re-check (its answer carries the labels),
   the review, the head's check runs listed and one created, labels. Target: at most 12.
2. A re-review of an unchanged head (as `@reviewbot re-review` asks for): the
   comment and the head's one check run are edited in place and unchanged labels
   cost nothing. Target: at most 6.

Prints each call so a regression shows which one was added.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reviewbot.store.jobs import JobKind, JobSpec  # noqa: E402
from tests.e2e.world import World  # noqa: E402
from tests.repos import build_python_proven  # noqa: E402


def api_calls(world: World) -> list[str]:
    return [
        f"{call.method} {call.path} -> {call.status}" for call in world.fake.calls if not call.path.startswith("/git/")
    ]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, World(Path(tmp), build_python_proven) as world:
        world.fake.reset_calls()
        world.deliver("opened")
        world.work()
        first = api_calls(world)
        world.fake.reset_calls()
        world.service.queue.enqueue(
            JobSpec(
                kind=JobKind.REVIEW,
                repo=world.repo,
                pr_number=world.number,
                head_sha=world.head_sha(),
                installation_id=world.installation,
                reason="re-review",
            )
        )
        world.work()
        again = api_calls(world)
    print(f"full review publish: {len(first)} GitHub API calls (target <= 12)")
    for call in first:
        print(f"  {call}")
    print(f"re-review of an unchanged head: {len(again)} GitHub API calls (target <= 6)")
    for call in again:
        print(f"  {call}")


if __name__ == "__main__":
    main()
