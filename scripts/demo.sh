#!/usr/bin/env bash
# Quick start 1: install, then review the embedded sample lock-fix PR.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
exec .venv/bin/reviewbot demo "$@"
