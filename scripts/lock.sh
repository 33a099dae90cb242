#!/usr/bin/env bash
# Regenerates the two lock files, every distribution pinned with its hashes, for Python 3.11 (the
# image's and CI's):
#   requirements.lock       reviewbot with the extras a deploy uses (model, postgres): the Dockerfile
#   requirements-test.lock  the same pins plus the test extra: scripts/install.sh, so CI and development
# Run it after changing a dependency in pyproject.toml; `scripts/lock.sh --upgrade` moves every pin to
# the newest allowed release, `scripts/lock.sh --upgrade-package NAME` one. Needs the .venv that
# scripts/install.sh makes.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m pip show -q pip-tools 2>/dev/null || .venv/bin/python -m pip install -q pip-tools==7.7.0
compile() {
  # The locks name the package index's files only: a pip config's local mirrors and wheel directories
  # (find-links, extra index URLs) would add hashes of files no one else has.
  env -u PIP_FIND_LINKS -u PIP_EXTRA_INDEX_URL PIP_CONFIG_FILE=/dev/null CUSTOM_COMPILE_COMMAND=scripts/lock.sh \
    .venv/bin/pip-compile --quiet --generate-hashes --strip-extras --no-emit-index-url --no-emit-find-links "$@"
}
compile --extra model,postgres --output-file requirements.lock "$@" pyproject.toml
# the test lock is constrained by the deploy lock: every package both install has one version
compile --extra model,postgres,test --constraint requirements.lock --output-file requirements-test.lock "$@" \
  pyproject.toml
