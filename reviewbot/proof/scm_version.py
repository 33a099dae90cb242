"""A version for build backends that read it from git (setuptools-scm, hatch-vcs).

The sandbox's tree is an export of one commit with no git metadata (the host's
git dir is never mounted), so those backends would stop the install with
"unable to detect version". They all honour SETUPTOOLS_SCM_PRETEND_VERSION; we
set it from the nearest tag the host's git finds, in the same shape
setuptools-scm gives a commit past a tag. Pure.
"""

from __future__ import annotations

import re

PRETEND_VERSION_ENV = "SETUPTOOLS_SCM_PRETEND_VERSION"
FALLBACK = "0.0.0"
_RELEASE = re.compile(r"^[vV]?(\d+(?:\.\d+)*)")


def pretend_version(tag: str | None, distance: int) -> str:
    """`1.2.3` on the tag itself, `1.2.4.dev5` five commits past it, `0.0.0.dev5` with no usable tag."""
    found = _RELEASE.match(tag or "")
    release = found[1] if found else FALLBACK
    if distance <= 0 and found:
        return release
    parts = release.split(".")
    parts[-1] = str(int(parts[-1]) + 1) if found else parts[-1]
    return ".".join(parts) + f".dev{max(distance, 0)}"


def version_env(tag: str | None, distance: int) -> dict[str, str]:
    return {PRETEND_VERSION_ENV: pretend_version(tag, distance)}
