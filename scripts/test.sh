#!/usr/bin/env bash
# Quick start 2: install, start a private PostgreSQL, then run the whole test suite on SQLite and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh --test
postgres=$(scripts/postgres.sh)  # (a failure stops here; `export "$(...)"` would hide it)
export "$postgres"
exec .venv/bin/python -m pytest -n 2 "$@"
