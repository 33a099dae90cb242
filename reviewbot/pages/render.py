"""HTML for the proof pages, from `templates/`: autoescaped, no JavaScript anywhere.

Every value a template prints is HTML-escaped (autoescape); the only markup that is not
comes from the `md` filter, which renders the bot's own markdown sentences (whose
untrusted parts are already code spans) with raw HTML disabled, so a `<script>` in
them is shown as text. The routes add a Content-Security-Policy that forbids scripts,
so a page that ever let one through still would not run it.
"""

from __future__ import annotations

from typing import Any

import jinja2
from markdown_it import MarkdownIt
from markupsafe import Markup

_MD = MarkdownIt("commonmark", {"html": False, "linkify": False})
_ENV: jinja2.Environment | None = None


def render_page(name: str, **context: Any) -> str:
    return _environment().get_template(name).render(**context)


def _markdown(text: str) -> Markup:
    """One of the bot's markdown sentences as inline HTML (raw HTML in it stays text)."""
    return Markup(_MD.renderInline(str(text or "")))


def _size(count: int) -> str:
    for unit in ("bytes", "KiB", "MiB"):
        if count < 1024 or unit == "MiB":
            return f"{count:,} {unit}" if unit == "bytes" else f"{count:,.1f} {unit}"
        count /= 1024  # type: ignore[assignment]
    return str(count)


def _environment() -> jinja2.Environment:
    global _ENV
    if _ENV is None:
        env = jinja2.Environment(
            loader=jinja2.PackageLoader("reviewbot.pages", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters.update(md=_markdown, size=_size, num=lambda n: f"{n:,}")
        _ENV = env
    return _ENV
