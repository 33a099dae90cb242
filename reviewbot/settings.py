"""Service settings from the environment (`REVIEWBOT_*`), one place to read them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

GITHUB_API = "https://api.github.com"


def _default_data_dir() -> Path:
    return Path.home() / ".cache" / "reviewbot"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REVIEWBOT_", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir)  # mirrors, worktrees, caches, logs

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

    @field_validator("webhook_secrets", "allowed_bots", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
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
