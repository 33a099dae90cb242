#!/usr/bin/env bash
# Quick start 2: install, start a private PostgreSQL, then run the whole test suite on SQLite and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh --test
export "$(scripts/postgres.sh)"
exec .venv/bin/python -m pytest -n 2 "$@"
