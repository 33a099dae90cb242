"""Screenshots, videos, logs and CI artifacts linked as evidence; only plain http(s) URLs are kept.

Embedded HTML is read with the stdlib `HTMLParser` for `src`/`href` attributes only.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

from markdown_it.token import Token

from reviewbot.review.pr_body.blocks import render, split_lines, unquoted, visible
from reviewbot.review.pr_body.records import MAX_LABEL, MAX_MEDIA, MAX_URL_CHARS, Media, MediaKind, collapse

_VIDEO_EXT = (".mp4", ".mov", ".webm")
_ASSET = re.compile(r"^https://github\.com/(?:user-attachments/assets|[\w.-]+/[\w.-]+/assets/\d+)/[0-9a-fA-F-]{16,}/?$")
_BARE_URL = re.compile(r"https?://[^\s<>\"'`()\[\]{}]+", re.I)


def _http_url(url: str) -> str | None:
    """Only plain http(s) URLs; `javascript:`, `data:` and malformed ones are dropped."""
    url = url.strip().rstrip(".,;:!?")
    if not url or len(url) > MAX_URL_CHARS or any(c.isspace() or ord(c) < 32 for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def _path(url: str) -> str:
    return urlsplit(url).path.lower()


def _link_kind(url: str) -> MediaKind | None:
    host, path = (urlsplit(url).hostname or "").lower(), _path(url)
    if path.endswith((".log", ".txt")) or host in ("gist.github.com", "gist.githubusercontent.com"):
        return "log"
    if host == "asciinema.org" or host.endswith(".asciinema.org"):
        return "log"
    if any(part in path for part in ("/actions/runs/", "/suites/", "/artifacts/")):
        return "artifact"
    return "artifact" if path.endswith((".zip", ".tar.gz", ".tgz", ".json", ".xml")) else None


def _media(kind: MediaKind | None, url: str, label: str = "") -> list[Media]:
    clean = _http_url(url)
    if kind is None or clean is None:
        return []
    return [Media(kind=kind, url=clean, label=collapse(label)[:MAX_LABEL])]


def _image(url: str, alt: str) -> list[Media]:
    clean = _http_url(url) or ""
    return _media("video" if _path(clean).endswith(_VIDEO_EXT) else "image", clean, alt)


def _link(url: str, label: str = "") -> list[Media]:
    clean = _http_url(url)
    return _media(_link_kind(clean), clean, label) if clean else []


def _lone_url(url: str) -> list[Media]:
    """A URL alone on a line: GitHub embeds uploaded videos exactly like this."""
    clean = _http_url(url)
    if clean and (_ASSET.match(clean) or _path(clean).endswith(_VIDEO_EXT)):
        return _media("video", clean)
    return _link(url)


class _HtmlMedia(HTMLParser):
    """Reads `src`/`href` attributes of embedded HTML; nothing is rendered or trusted."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[Media] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "img":
            self.found += _image(values.get("src", ""), values.get("alt", ""))
        elif tag in ("video", "source") and values.get("src"):
            self.found += _media("video", values["src"])
        elif tag == "a":
            self.found += _link(values.get("href", ""))


def _html_media(html: str) -> list[Media]:
    parser = _HtmlMedia()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001 - malformed HTML is data, not an error
        pass
    return parser.found


def _line_media(line: list[Token]) -> list[Media]:
    toks = visible(line)
    if len(toks) == 1 and toks[0].type == "text" and _BARE_URL.fullmatch(toks[0].content.strip()):
        return _lone_url(toks[0].content)
    if len(toks) == 3 and toks[0].type == "link_open" and toks[0].markup == "autolink":
        return _lone_url(str(toks[0].attrs.get("href", "")))
    found: list[Media] = []
    link: Token | None = None
    label: list[str] = []
    for tok in line:
        if tok.type == "image":
            found += _image(str(tok.attrs.get("src", "")), render(tok.children or []))
        elif tok.type == "link_open":
            link, label = tok, []
        elif tok.type == "link_close" and link is not None:
            found += _link(str(link.attrs.get("href", "")), "".join(label))
            link = None
        elif tok.type == "html_inline":
            found += _html_media(tok.content)
        elif tok.type in ("text", "code_inline") and link is not None:
            label.append(tok.content)
        elif tok.type == "text":
            found += [m for url in _BARE_URL.findall(tok.content) for m in _link(url)]
    return found


def all_media(tokens: list[Token]) -> list[Media]:
    found: list[Media] = []
    for tok, _ in unquoted(tokens):
        if tok.type == "inline":
            found += [m for line in split_lines(tok.children or []) for m in _line_media(line)]
        elif tok.type == "html_block":
            found += _html_media(tok.content)
    unique: dict[str, Media] = {}
    for media in found:
        unique.setdefault(media.url, media)
    return list(unique.values())[:MAX_MEDIA]
