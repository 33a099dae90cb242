"""Remove secrets from text before it is shown or sent anywhere.

Sandboxed runs never see the bot's credentials, but test output can still echo
tokens a repository keeps in its own fixtures, and PR text can carry pasted
secrets. Everything that leaves the machine passes through here.

Output of a run is redacted as a stream (`StreamRedactor`), before any tail is
cut or any byte is written to its log: a private key longer than the kept tail
would otherwise reach the tail without its BEGIN line, and a token split across
two reads would match in neither.
"""

from __future__ import annotations

import codecs
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
    # a private key, also one whose END never came (the output was cut) ...
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----(?:[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----|[\s\S]*\Z)"),
    re.compile(r"(?i)\b(authorization:\s*(?:bearer|token|basic)\s+)[^\s'\"]+"),
    re.compile(r"(?i)(https?://)[^/\s:@]+:[^/\s@]+@"),  # credentials in URLs
]
# Every pattern but the private key's fits on one line: the stream redactor works line by line
# and follows BEGIN/END itself.
_LINE_PATTERNS = [p for p in _PATTERNS if "PRIVATE KEY" not in p.pattern]
_PEM_BEGIN = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
_PEM_END = re.compile(r"-----END [A-Z ]*PRIVATE KEY-----")
# The start of a secret that contains spaces, ending exactly where a long line would be cut.
_SPACED_PREFIX = re.compile(
    r"(?i)(?:-----BEGIN[A-Z ]*|authorization:\s*(?:\w+\s*)?|aws_secret_access_key\s*[=:]?\s*)\Z"
)


def _apply(patterns: list[re.Pattern[str]], text: str) -> str:
    for pattern in patterns:
        if pattern.groups:
            text = pattern.sub(lambda m: m.group(1) + PLACEHOLDER, text)
        else:
            text = pattern.sub(PLACEHOLDER, text)
    return text


def redact(text: str, extra_secrets: tuple[str, ...] = ()) -> str:
    """Replace known token shapes and any explicitly given secret values."""
    for secret in extra_secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, PLACEHOLDER)
    return _redact_headless_keys(_apply(_PATTERNS, text))


_BASE64_LINE = re.compile(r"[ \t]*[A-Za-z0-9+/=]{16,}[ \t]*\r?")


def _redact_headless_keys(text: str) -> str:
    """A key whose BEGIN line was cut off (a tail of a log): the base64 lines before a lone END line.

    Walked backwards line by line from each END, so a log full of hash-like lines costs linear time.
    """
    while (end := _PEM_END.search(text)) is not None:
        start = text.rfind("\n", 0, end.start()) + 1
        if not re.fullmatch(r"[ \t]*[A-Za-z0-9+/=]*", text[start : end.start()]):
            start = end.start()  # other text before END on its line: only the marker goes
        else:
            while start > 0:  # the key's base64 lines above it
                previous = text.rfind("\n", 0, start - 1) + 1
                if not _BASE64_LINE.fullmatch(text[previous : start - 1]):
                    break
                start = previous
        text = text[:start] + PLACEHOLDER + text[end.end() :]
    return text


class StreamRedactor:
    """Redacts a byte stream chunk by chunk, with the state a chunk boundary would otherwise lose.

    `feed` returns the redacted text that is final; a partial last line is held back
    until its newline comes (or it grows past `max_pending`, when all but its last
    `hold` characters are released at a space, so no token is split). Inside a
    private key every line is swallowed until its END line, however long the key.
    """

    def __init__(self, max_pending: int = 16 * 1024, hold: int = 1024):
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""
        self._in_key = False
        self.max_pending, self.hold = max_pending, hold

    def feed(self, data: bytes) -> str:
        self._pending += self._decoder.decode(data)
        complete, newline, partial = self._pending.rpartition("\n")
        out = self._lines(complete + newline) if newline else ""
        self._pending = partial
        if len(self._pending) > self.max_pending:
            cut = self._pending.rfind(" ", 0, len(self._pending) - self.hold) + 1 or len(self._pending) - self.hold
            split = _SPACED_PREFIX.search(self._pending, max(0, cut - 128), cut)
            cut = split.start() if split else cut  # never between "BEGIN" and "PRIVATE KEY", "Bearer" and its token
            out += self._lines(self._pending[:cut])
            self._pending = self._pending[cut:]
        return out

    def finish(self) -> str:
        """Everything still held back, redacted; a key left open swallows the rest."""
        text = self._pending + self._decoder.decode(b"", final=True)
        self._pending = ""
        return self._lines(text)

    def _lines(self, text: str) -> str:
        out: list[str] = []
        while text:
            if self._in_key:
                end = _PEM_END.search(text)
                if end is None:
                    return "".join(out)  # still inside the key: nothing of it is shown
                self._in_key = False
                text = text[end.end() :]
                continue
            begin = _PEM_BEGIN.search(text)
            if begin is None:
                out.append(_apply(_LINE_PATTERNS, text))
                break
            # A lone END (its BEGIN came before the stream) is left to `redact` on the whole text.
            out.append(_apply(_LINE_PATTERNS, text[: begin.start()]) + PLACEHOLDER)
            self._in_key = True
            text = text[begin.end() :]
        return "".join(out)
