#!/usr/bin/env bash
# Quick start 2: install, lint and type-check, start a private PostgreSQL, then run the whole test suite
# on SQLite and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh --test
# The static checks first: they take seconds, the suite takes minutes (configuration in pyproject.toml).
check() {
  local name=$1
  shift
  "$@" || { echo "test.sh: $name failed; fix the findings above (ruff: \`.venv/bin/ruff check --fix .\`," \
                 "\`.venv/bin/ruff format .\`) and run this again" >&2; exit 1; }
}
check "ruff check" .venv/bin/ruff check --quiet .
check "ruff format --check" .venv/bin/ruff format --check --quiet .
check "mypy" .venv/bin/mypy
postgres=$(scripts/postgres.sh)  # (a failure stops here; `export "$(...)"` would hide it)
export "$postgres"
exec .venv/bin/python -m pytest -n 2 "$@"
