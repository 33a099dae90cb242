"""Service settings from the environment (`REVIEWBOT_*`), one place to read them."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path.home() / ".cache" / "reviewbot"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REVIEWBOT_", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir)  # mirrors, worktrees, caches, logs


def load_settings() -> Settings:
    return Settings()
