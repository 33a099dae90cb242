"""The lock vocabulary: every pattern that decides "this looks like locking", in one place."""

from __future__ import annotations

import re


class LOCKISH:
    """Every pattern that decides "this looks like locking", in one place. Case-sensitive on identifiers."""

    # an identifier or path that names a lock: lockPath, lock_path, self._lock, "x.lock", LOCK_FILE, pidfile
    NAME = re.compile(
        r"(?:(?<![a-z])lock|Lock)(?![a-z])|(?<![A-Z])LOCK|[Mm]utex|MUTEX|[Ss]emaphore|[Ll]ockfile|(?<![a-zA-Z])sem(?![a-z])"
    )
    PATH = re.compile(
        r"(?:(?<![a-z])lock|Lock)(?![a-z])|(?<![A-Z])LOCK|[Ll]ockfile|\.pid(?=['\"`])|[Pp]id_?[Ff]ile|PID_?FILE"
    )
    # package-manager lockfiles are not locks
    DEPENDENCY_LOCKFILE = re.compile(
        r"package-lock|npm-shrinkwrap|yarn\.lock|pnpm-lock|[Cc]argo\.lock|poetry\.lock"
        r"|Pipfile\.lock|Gemfile\.lock|composer\.lock|uv\.lock|bun\.lockb?|flake\.lock"
    )
    # acquisitions: lock.acquire(), acquireSessionWriteLock(...), mutex.lock(), fcntl.flock(fd, LOCK_EX)
    ACQUIRE = re.compile(r"(?<![\w$])(?:acquire(?:[A-Z]\w*)?|lock(?:Sync)?|flock|lockf)\s*\(")
    EXCLUSIVE_CREATE = re.compile(r"""['"]wx\+?['"]|O_EXCL|['"]x[b+]?['"]|exist_ok\s*=\s*False""")
    RELEASE = re.compile(r"(?<![\w$])(?:release(?:[A-Z]\w*)?|unlock(?:Sync)?)\s*\(|LOCK_UN")
    REMOVE = re.compile(r"(?<![\w$])(?:unlink(?:Sync)?|rm(?:Sync)?|rmdir(?:Sync)?|remove|rimraf)\s*\(|\.unlink\(")
    CLOSE = re.compile(r"(?<![\w$])close(?:Sync)?\s*\(|\.close\(\)")
    OPEN = re.compile(r"(?<![\w$])(?:open(?:Sync)?|os\.open)\s*\(")
    EXISTS = re.compile(r"(?<![\w$])(?:exists(?:Sync)?|access(?:Sync)?|isfile)\s*\(|\.exists\(\)")
    # a write that is not an atomic exclusive create of the final path
    CREATE = re.compile(
        r"(?<![\w$])writeFile(?:Sync)?\s*\(|\.write_text\(|\.write_bytes\(|\.touch\("
        r"""|(?<![\w$])open(?:Sync)?\s*\([^)]*,\s*['"]w\+?b?['"]"""
        # O_CREAT, but not `flags & ~os.O_CREAT`: that clears the flag (open only if it exists)
        r"|os\.open\s*\(.*(?<!~)(?<!~os\.)(?<!~\(os\.)(?<!~\()(?<!~ os\.)(?<!~ )O_CREAT"
    )
    RENAME = re.compile(r"(?<![\w$])(?:rename(?:Sync)?|replace)\s*\(|\.rename\(|\.replace\(")
    TEMP = re.compile(r"[Tt]mp|TMP|[Tt]emp|TEMP|\.partial|[Ss]taging")
    STALE = re.compile(r"[Ss]tale|STALE|[Ff]orce[A-Z_]|force_|[Ee]xpired?|EXPIRE|[Bb]reak[A-Z_]|break_")
    AGE = re.compile(r"mtime|ctime|birthtime|Date\.now\(\)|time\.time\(\)|(?<![a-z])age(?![a-z])|Age(?![a-z])|st_mtime")
    OWNER = re.compile(
        r"(?<![a-z])pid|Pid|PID|hostname|[Hh]ost(?![a-z])|(?:process|os)\.kill\([^,]+,\s*0\)"
        r"|[Ss]tart_?[Tt]ime|start_time|[Oo]wner|OWNER|[Ff]encing|[Tt]oken|[Ii]sAlive|is_alive|psutil"
    )
    TIMEOUT = re.compile(
        r"[Tt]imeout|TIMEOUT|[Dd]eadline|[Ss]ignal|[a-z]Ms\b|\bms\b|[Rr]etries|withTimeout|Promise\.race"
    )
    OPTIONS = re.compile(r"\.\.\.|(?<![a-z])opts?(?![a-z])|Opts?\b|[Oo]ptions|[Cc]onfig|[Ss]ettings")
    # work with no upper bound on how long it takes
    UNBOUNDED_PY = re.compile(
        r"\b(?:requests|httpx|session|client)\.(?:get|post|put|patch|delete|head|request|stream)\("
        r"|urlopen\(|\bsubprocess\.(?:run|call|check_call|check_output)\(|create_subprocess_\w+\("
        r"|\.communicate\(|os\.system\("
    )
    UNBOUNDED_JS = re.compile(
        r"(?<![\w$.])(?:fetch|got|spawn|exec|execFile|execa)\(|\bhttps?\.(?:get|request)\("
        r"|\baxios\b|\b(?:child_process|childProcess|cp)\.\w+\(|new Promise\("
    )
    BLOCKING_JS = re.compile(r"(?<![\w$])(?:execSync|execFileSync|spawnSync)\(")
    LOCK_CALLBACK = re.compile(
        r"(?<![\w$])(?:with\w*Lock\w*|runExclusive|using\w*Lock|lock\.acquire|acquire\w*"
        r"|locks\.request)\s*\("
    )
