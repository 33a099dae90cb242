#!/usr/bin/env bash
# Quick start 2: install, then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
exec .venv/bin/python -m pytest -n 2 "$@"
