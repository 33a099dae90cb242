"""Race amplification: run a regression suite under contention, inside one sandbox run.

A race that needs two processes on the same lock file, or a busy CPU, may
never show on an idle runner. With `proof.amplify` each run of a regression
suite starts extra copies of the suite command at the same moment, in the
same tree and the same `/tmp` (so they contend on the same lock files), beside
busy-looping CPU stressors, all inside the run's sandbox and limits. The first
copy's output is the run's output (its counts and JUnit report); any other
copy failing fails the run, and its exit code and output tail are printed.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from reviewbot.proof.sandbox import OUT_DIR


@dataclass(frozen=True)
class Amplification:
    copies: int  # copies of the suite command running together (1: just the suite)
    stressors: int  # busy-looping shell processes beside them

    def describe(self) -> str:
        parts = [f"{self.copies} copies in parallel"] if self.copies > 1 else []
        if self.stressors:
            parts.append(f"{self.stressors} CPU stressor{'s' if self.stressors > 1 else ''}")
        return ", ".join(parts) or "none"


def amplified_command(command: str, amplification: Amplification, junit_env: str) -> str:
    """A shell script that runs `command` under contention and fails when any copy fails."""
    quoted = shlex.quote(command)
    lines = ["stressors=''"]
    for _ in range(amplification.stressors):
        lines.append('(while :; do :; done) & stressors="$stressors $!"')
    lines.append("copies=''")
    for copy in range(2, amplification.copies + 1):
        out = f"{OUT_DIR}/copy-{copy}"
        lines.append(
            f'({junit_env}={out}.xml /bin/sh -c {quoted} >{out}.log 2>&1; echo $? >{out}.rc) & copies="$copies $!"'
        )
    lines += [
        f"/bin/sh -c {quoted}",
        "status=$?",
        '[ -n "$copies" ] && wait $copies',
        '[ -n "$stressors" ] && kill $stressors 2>/dev/null',
    ]
    for copy in range(2, amplification.copies + 1):
        out = f"{OUT_DIR}/copy-{copy}"
        lines.append(
            f'rc=$(cat {out}.rc 2>/dev/null || echo 1); if [ "$rc" != 0 ]; then '
            f'echo "reviewbot: copy {copy} of {amplification.copies} failed (exit $rc):"; '
            f'tail -n 20 {out}.log; [ "$status" = 0 ] && status=1; fi'
        )
    lines.append("exit $status")
    return "\n".join(lines)
