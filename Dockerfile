# reviewbot: one image for the webhook service (`serve`, the default) and queue workers (`worker`).
#
#   docker build -t reviewbot .
#   docker run -p 8080:8080 --env-file reviewbot.env reviewbot                       # serve (REVIEWBOT_WORKERS=0: webhooks only)
#   docker run --user root --cap-add SYS_ADMIN --cap-add NET_ADMIN \
#     --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
#     --env-file reviewbot.env reviewbot worker                                      # runs PR code in bubblewrap
#
# docs/deploy.md, "Deploy", explains the flags: bubblewrap needs to create namespaces and mount,
# which Docker's default seccomp and AppArmor profiles forbid; run as root it drops every
# sandboxed run to its own unprivileged uid (so RLIMIT_NPROC bounds a fork bomb).
FROM python:3.11-slim-bookworm

# What scripts/install.sh installs on a Debian host: bubblewrap (the sandbox), git (mirrors,
# worktrees, pushes) and nodejs (Node suites). ca-certificates for HTTPS to GitHub; setpriv,
# which the sandbox drops privileges with, is in util-linux, already in the base image.
RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap libseccomp2 e2fsprogs git nodejs ca-certificates \
 && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    REVIEWBOT_DATA_DIR=/var/lib/reviewbot

# The webhook front needs no privilege: it runs as this user. Workers run as root (see above).
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/reviewbot --create-home \
      --shell /usr/sbin/nologin reviewbot

# The dependencies first, pinned and hash-checked from the deploy lock (scripts/lock.sh makes it; CI
# tests the same pins), so a source change does not reinstall them; then the package without them.
# The source tree as in the repository (.dockerignore keeps only the package, with its prompt
# templates, and its metadata), installed in place as in a checkout.
WORKDIR /opt/reviewbot
COPY requirements.lock .
RUN pip install --no-cache-dir --disable-pip-version-check --require-hashes -r requirements.lock
COPY . .
RUN pip install --no-cache-dir --disable-pip-version-check --no-deps -e . \
 && pip check \
 && reviewbot --help >/dev/null

USER reviewbot
VOLUME ["/var/lib/reviewbot"]
# `reviewbot serve` listens on 8080 (--port); GET /healthz, /readyz and /metrics are there too.
EXPOSE 8080
ENTRYPOINT ["reviewbot"]
CMD ["serve"]
