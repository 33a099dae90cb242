"""Webhook signatures: `X-Hub-Signature-256`, exactly as GitHub computes it.

GitHub signs the raw request body with HMAC-SHA256 under the webhook secret and
sends `sha256=<64 lowercase hex digits>`. `verify` accepts a list of secrets so a
secret can be rotated without dropping deliveries: the new and the old secret are
both configured until GitHub has switched over.

Pure and stdlib only. The body must be the exact bytes received, before any JSON
parsing: re-serialised JSON does not carry the same signature.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence

PREFIX = "sha256="
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")  # fullmatch: no whitespace, no sign, exact length


def _key(secret: str | bytes) -> bytes:
    if isinstance(secret, str):
        return secret.encode("utf-8")
    if isinstance(secret, bytes):
        return secret
    raise TypeError(f"a webhook secret is str or bytes, not {type(secret).__name__}")


def _check_body(body: bytes) -> None:
    if not isinstance(body, (bytes, bytearray)):
        raise TypeError(f"sign the raw request body (bytes), not {type(body).__name__}")


def sign(secret: str | bytes, body: bytes) -> str:
    """`"sha256=" + hex HMAC-SHA256(secret, body)`: the value of `X-Hub-Signature-256`."""
    key = _key(secret)
    if not key:
        raise ValueError("refusing to sign with an empty webhook secret")
    _check_body(body)
    return PREFIX + hmac.new(key, bytes(body), hashlib.sha256).hexdigest()


def verify(secrets: Sequence[str], body: bytes, header: str | None) -> bool:
    """True when `header` is the signature of `body` under any non-empty secret.

    Every configured secret is compared with `hmac.compare_digest`, all of them,
    before deciding, so the time taken does not say which secret matched. A missing
    header, a header without the `sha256=` prefix, a digest that is not exactly 64
    hex digits, an empty list of secrets and empty secrets are all rejected.
    """
    if isinstance(secrets, (str, bytes)):
        # A bare string is a Sequence[str] of one-character secrets: a caller bug.
        raise TypeError("verify takes a sequence of secrets, not a single secret")
    _check_body(body)
    if not isinstance(header, str) or not header.startswith(PREFIX):
        return False
    hex_digest = header[len(PREFIX) :]
    if _HEX_DIGEST.fullmatch(hex_digest) is None:
        return False
    given = bytes.fromhex(hex_digest)
    keys = [_key(secret) for secret in secrets]
    matched = False
    for key in keys:
        if not key:
            continue  # never accept a signature made with an empty secret
        expected = hmac.new(key, bytes(body), hashlib.sha256).digest()
        matched |= hmac.compare_digest(expected, given)
    return matched
