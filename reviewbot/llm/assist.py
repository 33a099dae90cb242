"""Model assistance for one review: context out, advisory answer in, never a failed review.

The deterministic review is complete before the model is asked. The model adds
its answers and findings beside it (`Review.model`) and its name to the footer;
the proof verdict, ranks, outcome, labels and merge gate are left exactly as the
code decided them. Anything that goes wrong (no prompts, no key, a timeout, a
429, a 500, an answer that stays invalid) leaves the review as it was plus a
visible note saying why the model is missing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from reviewbot import __version__
from reviewbot.llm.client import ClientConfig, Deadline, ModelClient, ModelError, openai_module
from reviewbot.llm.prompts import DEFAULT_DIR, PromptError, Prompts
from reviewbot.review.build import Review
from reviewbot.review.markdown import code_span
from reviewbot.review.markers import Marker
from reviewbot.review.model_answer import ModelAssessment, ModelResponse, assess, degraded
from reviewbot.review.model_input import DEFAULT_BUDGET, budget_for, model_context
from reviewbot.review.outcome import RETRY_COMMAND, OutcomeKind
from reviewbot.settings import Settings

log = logging.getLogger("reviewbot.llm")

NOTES = {
    "timeout": "timed out",
    "rate_limited": "was rate limited",
    "server_error": "had a server error",
    "connection": "could not be reached",
    "auth": "refused the API key",
    "not_found": "does not know the model",
    "bad_request": "refused the request",
    "format_refused": "refused both structured-output formats",
    "invalid_output": "gave no valid answer",
    "truncated": "was cut off at its length limit",
    "error": "failed unexpectedly",
    "refused": "refused to answer",
    "config": "is not set up",
    "prompts": "could not be prompted",
}


@dataclass
class ModelReviewer:
    client: ModelClient
    prompts: Prompts = field(default_factory=Prompts)
    budget: int = DEFAULT_BUDGET

    @classmethod
    def from_settings(cls, settings: Settings) -> ModelReviewer | None:
        """None unless a model name or an endpoint is configured: then the review is rule-based only."""
        if not settings.model_configured:
            return None
        openai_module()  # a configured model without its extra stops the start, saying what to install
        key = settings.model_api_key.get_secret_value() if settings.model_api_key else ""
        config = ClientConfig(
            model=settings.model,
            base_url=settings.model_base_url,
            api_key=key,
            timeout_s=settings.model_timeout_s,
            max_retries=settings.model_max_retries,
            max_tokens=settings.model_max_tokens,
        )
        secrets = tuple(
            s
            for s in (
                key,
                *(t.get_secret_value() for t in settings.webhook_secrets),
                settings.token.get_secret_value() if settings.token else "",
            )
            if s
        )
        return cls(
            ModelClient(config, secrets=secrets),
            Prompts(Path(settings.prompts_dir or DEFAULT_DIR)),
            budget=settings.model_context_chars,
        )

    @property
    def label(self) -> str:
        """The model's configured or served name (never a file path); "" while the server was not asked."""
        return self.client.known_model

    def apply(self, review: Review, diff: str, previous: Marker | None = None, previous_comment: str = "") -> Review:
        """The review with the model's advisory view and the engine that produced it; untouched when it never ran."""
        if review.outcome.kind is OutcomeKind.DID_NOT_COMPLETE:
            return review  # nothing was proven: there is nothing for a model to judge
        assessment = self.assess(review, diff, previous, previous_comment)
        return review.model_copy(update={"model": assessment, "engine": self.engine(assessment)})

    def assess(
        self, review: Review, diff: str, previous: Marker | None = None, previous_comment: str = ""
    ) -> ModelAssessment:
        """The model's view, or a degraded one saying why; whatever the server does, never an exception.

        One `Deadline` covers the whole step (context-length probe, model lookup, fallback,
        retries, repair), so a review waits at most REVIEWBOT_MODEL_TIMEOUT_S for its model.
        """
        deadline = Deadline(self.client.config.timeout_s)
        try:
            budget = budget_for(self.client.context_tokens(deadline), self.client.config.max_tokens, self.budget)
            context = model_context(
                review, diff, previous, previous_comment, budget=budget, secrets=self.client.secrets
            )
            messages = self.prompts.messages(**context.prompt_vars())
            response = self.client.complete(messages, ModelResponse, deadline)
            return assess(
                response,
                review.findings,
                context.changed_lines,
                self.label,
                context=[s.name for s in context.all_sections],
                left_out=context.left_out,
                mode=self.client.mode,
                rereview=context.rereview,
                reproducible=review.reproducible.answer,
                outcome=review.outcome.kind.value,
            )
        except PromptError as exc:
            log.error("model review skipped: %s", exc)
            return degraded(self.label, _note(self.label, ModelError("prompts", str(exc))))
        except ModelError as exc:
            log.warning("model review skipped: %s", exc)
            return degraded(self.label, _note(self.label, exc))
        except Exception as exc:
            log.exception("model review skipped after an unexpected error")
            return degraded(self.label, _note(self.label, ModelError("error", type(exc).__name__)))

    def engine(self, assessment: ModelAssessment) -> str:
        if assessment.ok and assessment.advised:
            return (
                f"reviewbot {__version__} · deterministic review, advised by model {assessment.model} "
                f"(prompts {self.prompts.version})"
            )
        if assessment.ok:
            return f"reviewbot {__version__} · deterministic review (model {assessment.model} had no advice)"
        name = f"model {assessment.model}" if assessment.model else "the model"
        return f"reviewbot {__version__} · deterministic review ({name} unavailable)"


def _note(model: str, error: ModelError) -> str:
    """One markdown sentence for the summary: the model is missing, why, and how to try again."""
    what = NOTES.get(error.kind, "failed")
    who = f"the model {code_span(model)}" if model else "the model server"
    return (
        f"Model-assisted review skipped: {who} {what} ({code_span(error.detail)}). "
        f"This is the rule-based review on its own; `{RETRY_COMMAND}` tries the model again."
    )
