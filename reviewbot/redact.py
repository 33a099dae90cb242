"""Remove secrets from text before it is shown or sent anywhere.

Sandboxed runs never see the bot's credentials, but test output can still echo
tokens a repository keeps in its own fixtures, and PR text can carry pasted
secrets. Everything that leaves the machine passes through here.
"""

from __future__ import annotations

import re

PLACEHOLDER = "[redacted]"

_PATTERNS = [
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,255}\b"),  # GitHub tokens
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b"),
    re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}\b"),  # OpenAI-style keys
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),  # AWS access key ids (long-lived and temporary)
    re.compile(r"(?i)\b(aws_secret_access_key\s*[=:]\s*['\"]?)[A-Za-z0-9/+=]{40}"),
    re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),  # Google API keys
    re.compile(r"\bnpm_[A-Za-z0-9]{36}\b"),  # npm tokens
    re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b"),  # GitLab tokens
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"),  # Slack tokens
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"(?i)\b(authorization:\s*(?:bearer|token|basic)\s+)[^\s'\"]+"),
    re.compile(r"(?i)(https?://)[^/\s:@]+:[^/\s@]+@"),  # credentials in URLs
]


def redact(text: str, extra_secrets: tuple[str, ...] = ()) -> str:
    """Replace known token shapes and any explicitly given secret values."""
    for secret in extra_secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, PLACEHOLDER)
    for pattern in _PATTERNS:
        if pattern.groups:
            text = pattern.sub(lambda m: m.group(1) + PLACEHOLDER, text)
        else:
            text = pattern.sub(PLACEHOLDER, text)
    return text
