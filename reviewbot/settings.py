"""Service settings from the environment (`REVIEWBOT_*`), one place to read them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

GITHUB_API = "https://api.github.com"


def _default_data_dir() -> Path:
    return Path.home() / ".cache" / "reviewbot"


def _default_ca_bundle() -> str:
    """The host's system bundle: behind a TLS-intercepting proxy its CA is in there."""
    system = Path("/etc/ssl/certs/ca-certificates.crt")
    return str(system) if system.is_file() else ""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REVIEWBOT_", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir)  # mirrors, worktrees, caches, logs
    # Without a memory cgroup a run's memory is bounded per process only; PR code runs on such a host
    # only when the operator accepts that here (or with `--allow-per-process-limits`).
    allow_per_process_limits: bool = False

    # -- the service (`reviewbot serve` / `reviewbot worker`) --
    database_url: str = ""  # default: SQLite in the data dir
    webhook_secrets: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)  # comma-separated; rotation
    max_body_bytes: int = 25 * 1024 * 1024  # GitHub caps deliveries at 25 MB
    github_api_url: str = GITHUB_API  # GitHub Enterprise: https://HOST/api/v3
    app_id: int | None = None  # GitHub App auth (with the private key) ...
    private_key: SecretStr | None = None  # PEM text, or:
    private_key_path: Path | None = None
    token: SecretStr | None = None  # ... or token auth (a PAT or an Actions token)
    bot_login: str = ""  # default: "<app slug>[bot]" for an App, the token's user otherwise
    public_url: str = ""  # where maintainers reach this service (details links)
    command_handle: str = "reviewbot"  # maintainers write `@reviewbot <command>` (or `/reviewbot`)
    allowed_bots: Annotated[list[str], NoDecode] = Field(default_factory=list)  # bots whose commands are obeyed
    workers: int = 1  # embedded worker threads in `serve`
    lease_s: float = 120.0
    reconcile_interval_s: float = 600.0
    log_format: Literal["plain", "json"] = "plain"  # json: one JSON object per line, fields at the top level
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # -- proof pages (/proofs, /queue): who may read them and how much is kept --
    pages: Literal["public", "private", "off"] = "public"  # public: public repositories' pages need no token
    pages_token: SecretStr | None = None  # the password (any user name) that opens every page
    pages_keep_heads: int = Field(default=5, ge=1)  # full logs of the last N reviewed heads per PR
    pages_keep_days: int = Field(default=30, ge=1)  # pages older than this are deleted
    pages_max_log_bytes: int = Field(default=1024 * 1024, ge=4096)  # per log; the middle is cut past this

    # -- model-assisted review (optional): any OpenAI-compatible endpoint; off unless a model or URL is set --
    model: str = ""  # REVIEWBOT_MODEL; with only a base URL, the server's first listed model
    model_base_url: str = Field(
        default="", validation_alias=AliasChoices("REVIEWBOT_MODEL_BASE_URL", "OPENAI_BASE_URL")
    )
    model_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("REVIEWBOT_MODEL_API_KEY", "OPENAI_API_KEY")
    )
    model_timeout_s: float = Field(default=60.0, gt=0)  # the whole model step (lookup, fallback, retries, repair)
    model_max_retries: int = Field(default=1, ge=0)  # retries of 429, 5xx and connection errors, inside the timeout
    model_context_chars: int = Field(default=12_000, ge=2_000)  # context per review; cut to a reported n_ctx
    model_max_tokens: int = Field(default=1024, ge=64)  # answer cap; a cut-off answer degrades, never "repaired"
    prompts_dir: Path | None = None  # default: the templates shipped in the package, reviewbot/prompts/

    # -- a networked setup step (`network: true`): reaches out only through the bot's egress proxy --
    setup_allow: Annotated[list[str], NoDecode] = Field(default_factory=list)  # extra IP ranges (CIDR), any port
    setup_upstream_proxy: str = ""  # http://[user:pass@]host:port when this host itself needs a proxy
    setup_ca_bundle: str = Field(default_factory=_default_ca_bundle)  # bound into setup only; "" for none
    setup_env: Annotated[list[str], NoDecode] = Field(default_factory=list)  # host variables setup sees, by name
    setup_pip_conf: Path | None = None  # bound read-only as PIP_CONFIG_FILE
    setup_npmrc: Path | None = None  # bound read-only as npm's user config

    @property
    def model_configured(self) -> bool:
        """A model name or an endpoint turns model assistance on; an API key alone does not (it may be for anything)."""
        return bool(self.model or self.model_base_url)

    @field_validator("webhook_secrets", "allowed_bots", "setup_allow", "setup_env", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("setup_allow")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        """A typo in an allowed range fails at start-up, not in the middle of a review."""
        import ipaddress

        for cidr in value:
            ipaddress.ip_network(cidr, strict=False)
        return value

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'reviewbot.db'}"

    def private_key_pem(self) -> str | None:
        if self.private_key is not None:
            return self.private_key.get_secret_value()
        if self.private_key_path is not None:
            return self.private_key_path.read_text(encoding="utf-8")
        return None


def load_settings() -> Settings:
    return Settings()
