"""The prompt templates in `reviewbot/prompts/` (Jinja2), versioned with the code.

They ship inside the package (package data), so a checkout, an editable install
and a wheel all find them, and a prompt change is a reviewed diff like any other;
`REVIEWBOT_PROMPTS_DIR` points elsewhere (an experiment). The version is a hash of their text: the
comment's footer names it, so a review can be traced to the prompts it used.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

DEFAULT_DIR = Path(__file__).resolve().parents[1] / "prompts"  # reviewbot/prompts/, package data
SYSTEM, REVIEW, REREVIEW = "system.md.j2", "review.md.j2", "rereview.md.j2"


class PromptError(RuntimeError):
    """The prompt templates are missing or do not render."""


@dataclass
class Prompts:
    directory: Path = DEFAULT_DIR
    _env: jinja2.Environment | None = field(default=None, init=False, repr=False)

    @property
    def version(self) -> str:
        """A short hash of every template: changes whenever a prompt does."""
        digest = hashlib.sha256()
        for path in sorted(self.directory.glob("*.j2")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        return digest.hexdigest()[:8]

    def render(self, name: str, **context: object) -> str:
        try:
            return self._environment().get_template(name).render(**context).strip() + "\n"
        except (jinja2.TemplateError, OSError) as exc:
            raise PromptError(f"{self.directory / name}: {exc}") from exc

    def messages(self, rereview: bool, **context: object) -> list[dict[str, str]]:
        """The chat: the system prompt, then the review (or re-review) prompt with the context."""
        return [
            {"role": "system", "content": self.render(SYSTEM, rereview=rereview, **context)},
            {"role": "user", "content": self.render(REREVIEW if rereview else REVIEW, rereview=rereview, **context)},
        ]

    def _environment(self) -> jinja2.Environment:
        if self._env is None:
            if not (self.directory / SYSTEM).is_file():
                raise PromptError(f"no prompt templates in {self.directory} (set REVIEWBOT_PROMPTS_DIR)")
            # Plain text out: the context is already redacted and wrapped as data by review.model_input.
            self._env = jinja2.Environment(
                loader=jinja2.FileSystemLoader(self.directory),
                autoescape=False,
                undefined=jinja2.StrictUndefined,
                trim_blocks=True,
                lstrip_blocks=True,
                keep_trailing_newline=True,
            )
        return self._env
