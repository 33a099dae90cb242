"""Who may read proof pages, and whether the comment and check run link to one.

`REVIEWBOT_PAGES`:

- `public` (default): pages of public repositories are open to anyone, as the PR itself is;
  pages of private repositories (and any repository whose visibility is unknown) need the
  pages token. Listings (recent reviews, the queue) show only public repositories' entries
  to a visitor without it.
- `private`: every page needs the token.
- `off`: no pages, no links.

The token is checked as the password of HTTP Basic auth (any user name; a browser asks for
it without JavaScript) or as a `Bearer` token. A page a visitor may not see answers exactly
like a page that does not exist, so guessing URLs tells nothing about private repositories.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote


class PagesMode(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"
    OFF = "off"


class Access(StrEnum):
    ALLOW = "allow"
    CHALLENGE = "challenge"  # 401 with a Basic challenge: the token would open it
    NOT_FOUND = "not found"


def credentials_ok(authorization: str | None, token: str) -> bool:
    """Basic auth whose password is the token (any user), or `Bearer <token>`; constant-time compare."""
    if not token or not authorization:
        return False
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        value = decoded.partition(":")[2]
    elif scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(value.encode("utf-8"), token.encode("utf-8"))


def may_see(mode: PagesMode, public_repo: bool, authenticated: bool) -> bool:
    """Whether one repository's pages are visible to this visitor."""
    if mode is PagesMode.OFF:
        return False
    return authenticated or (mode is PagesMode.PUBLIC and public_repo)


def page_access(mode: PagesMode, public_repo: bool | None, authenticated: bool, token_set: bool) -> Access:
    """One page (`public_repo` None: no such page). A hidden page and a missing one answer alike."""
    if public_repo is not None and may_see(mode, public_repo, authenticated):
        return Access.ALLOW
    if token_set and not authenticated and mode is not PagesMode.OFF:
        return Access.CHALLENGE
    return Access.NOT_FOUND


def listing_access(mode: PagesMode, authenticated: bool, token_set: bool) -> Access:
    """Recent reviews and the queue: public mode shows them (filtered); private mode needs the token."""
    if mode is PagesMode.OFF:
        return Access.NOT_FOUND
    if mode is PagesMode.PUBLIC or authenticated:
        return Access.ALLOW
    return Access.CHALLENGE if token_set else Access.NOT_FOUND


def pr_path(repo: str, number: int) -> str:
    """The PR's newest stored proof (it redirects to that head's page)."""
    owner, _, name = repo.partition("/")
    return f"/proofs/{quote(owner, safe='')}/{quote(name, safe='')}/pull/{number}"


def proof_path(repo: str, number: int, head_sha: str) -> str:
    return f"{pr_path(repo, number)}/{quote(head_sha, safe='')}"


@dataclass(frozen=True)
class ProofLinks:
    """Where the review comment and check run point; no link when nobody could open the page."""

    public_url: str = ""
    mode: PagesMode = PagesMode.PUBLIC
    token_set: bool = False

    def url(self, repo: str, number: int, head_sha: str, public_repo: bool) -> str:
        if not self.public_url or not head_sha or self.mode is PagesMode.OFF:
            return ""
        if not (self.token_set or (self.mode is PagesMode.PUBLIC and public_repo)):
            return ""
        return self.public_url.rstrip("/") + proof_path(repo, number, head_sha)
