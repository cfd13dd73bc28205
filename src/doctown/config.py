"""All configuration, read once from the environment (and a `.env` file), validated up front.

Which `.env` is read is never up to the folder a command runs in: a repository being
documented is untrusted, and a `.env` in it could point OPENAI_BASE_URL (and with it the API
key) at any server. `DOCTOWN_ENV_FILE` names the file to read; without it only the services an
operator starts in their own folder (`doctown serve`, `doctown worker`) read `./.env`.

The environment variable names are the worker's contract: OPENAI_API_KEY, MODEL_NAME,
MAX_CONCURRENT_REQUESTS, MAX_RETRIES, MAX_PROMPT_TOKENS, INPUT_TOKEN_PRICE, OUTPUT_TOKEN_PRICE,
PORT, plus the additions below.
"""

from __future__ import annotations

import logging
import os
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from doctown.errors import ConfigurationError
from doctown.redaction import add_secret

DEFAULT_MODEL = "gpt-5-nano"
DEFAULT_PORT = 8003

BackendName = Literal["openai", "local", "facts"]


class Settings(BaseSettings):
    """Every knob doctown has. Environment variable = field name in upper case."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_org_id: str | None = Field(default=None, description="Sent as OpenAI-Organization")
    openai_project_id: str | None = Field(default=None, description="Sent as OpenAI-Project")
    model_name: str = DEFAULT_MODEL
    doctown_backend: BackendName | None = Field(
        default=None,
        description="openai, local or facts; unset: openai when OPENAI_API_KEY is set",
    )
    max_concurrent_requests: int = Field(default=10, ge=1, le=10_000)
    max_retries: int = Field(default=3, ge=1, le=20, description="Attempts per symbol, at most")
    max_prompt_tokens: int = Field(default=2_000, ge=200, le=200_000)
    max_overview_prompt_tokens: int = Field(
        default=3_000,
        ge=500,
        le=200_000,
        description="Budget of one overview prompt; larger levels are summarised in groups",
    )
    max_completion_tokens: int | None = Field(
        default=None,
        ge=16,
        description="Completion cap; unset: 2048 for reasoning models, 300 else",
    )
    reasoning_effort: str | None = Field(
        default=None, description="For reasoning models; unset: the family's lowest"
    )
    doctown_group_size: int = Field(
        default=8,
        ge=1,
        le=50,
        description="Symbols of one file asked in one request (openai backend); 1: one each",
    )
    request_timeout: float = Field(default=60.0, gt=0, le=3_600)
    batch_poll_seconds: float = Field(
        default=30.0, gt=0, le=3_600, description="How often `build --batch` asks after a batch"
    )
    input_token_price: Decimal | None = Field(default=None, ge=0)
    output_token_price: Decimal | None = Field(default=None, ge=0)
    cached_input_token_price: Decimal | None = Field(default=None, ge=0)
    port: int = Field(default=DEFAULT_PORT, ge=1, le=65_535)
    host: str = "127.0.0.1"
    worker_api_key: SecretStr | None = None
    doctown_open_server: bool = Field(
        default=False,
        description="Serve on a non-loopback address without WORKER_API_KEY (behind your own "
        "authenticating proxy, or in a container published on the host's loopback only)",
    )
    cors_origins: str = Field(default="", description="Comma-separated origins allowed by CORS")
    allowed_hosts: str = Field(
        default="",
        description="Comma-separated host names the worker answers to besides its address",
    )
    max_batch_size: int = Field(default=1_000, ge=1)
    max_request_bytes: int = Field(default=10_000_000, ge=1_000)
    health_cache_seconds: float = Field(default=30.0, ge=0)
    request_head_timeout: float = Field(
        default=20.0, gt=0, le=3_600, description="Seconds for a request's line and headers"
    )
    request_body_timeout: float = Field(
        default=60.0, gt=0, le=3_600, description="Seconds a request body may stall"
    )
    events_file: str | None = Field(default=None, description="Append v1 events as JSON lines")
    doctown_local_model_path: str | None = None
    # llama.cpp's threads spin while they wait: taking every core makes it collapse as soon as
    # anything else runs, so the default leaves one core free (1 thread on 2 cores, 4 at most).
    local_threads: int = Field(
        default_factory=lambda: max(1, min(4, (os.cpu_count() or 2) - 1)), ge=1, le=64
    )
    jobs_dir: str | None = Field(
        default=None,
        description="Job records, uploads, events and packs; unset: under the user cache directory",
    )
    jobs_allowed_roots: str = Field(
        default="", description="Comma-separated folders that POST /jobs may build from by path"
    )
    jobs_allow_git_urls: bool = Field(
        default=False, description="Let POST /jobs clone git URLs (the worker fetches any URL)"
    )
    jobs_max_upload_bytes: int = Field(default=200_000_000, ge=1_000)
    jobs_max_concurrent: int = Field(default=1, ge=1, le=64, description="Jobs building at once")
    jobs_max_queued: int = Field(
        default=16, ge=0, le=10_000, description="Jobs waiting for a slot, at most; then 429"
    )
    jobs_max_cost: Decimal | None = Field(
        default=None, ge=0, description="Dollar cap on every job; a job may ask for less"
    )
    # Distributed builds (doctown.distributed). The URL may hold a password: never logged.
    doctown_redis_url: SecretStr | None = Field(
        default=None, description="Redis for distributed builds: queue, results, limits, cache"
    )
    doctown_shard_size: int = Field(default=100, ge=1, le=10_000, description="Prompts per shard")
    doctown_shards_in_flight: int = Field(
        default=16, ge=1, le=1_000, description="Shards a build keeps queued or running at once"
    )
    doctown_shard_timeout: float = Field(
        default=600.0, gt=0, le=86_400, description="Seconds one shard may run on a worker"
    )
    doctown_rate_limit_tpm: int | None = Field(
        default=None, ge=1, description="Tokens per minute shared by every worker; unset: none"
    )
    doctown_redis_cache_seconds: int = Field(
        default=86_400, ge=60, description="How long workers keep each summary in Redis"
    )

    @field_validator("cors_origins")
    @classmethod
    def _no_wildcard(cls, value: str) -> str:
        if "*" in value:
            raise ValueError(
                "CORS_ORIGINS must list explicit origins (https://app.example.com); '*' would let "
                "any web page call the worker with the user's credentials"
            )
        return value

    @field_validator("jobs_allowed_roots")
    @classmethod
    def _absolute_roots(cls, value: str) -> str:
        relative = [root for root in _split(value) if not Path(root).expanduser().is_absolute()]
        if relative:
            raise ValueError(
                f"JOBS_ALLOWED_ROOTS must list absolute folders; {relative[0]!r} would depend "
                "on the directory the worker starts in"
            )
        return value

    @property
    def backend(self) -> BackendName:
        """The backend to run: DOCTOWN_BACKEND, else openai when a key is set, else local."""
        if self.doctown_backend:
            return self.doctown_backend
        return "openai" if self.openai_api_key else "local"

    @property
    def cors_origin_list(self) -> list[str]:
        return _split(self.cors_origins)

    @property
    def cache_dir(self) -> Path:
        """Where every cache lives: `cache_dir()` (DOCTOWN_CACHE_DIR, else the user cache)."""
        return cache_dir()

    @property
    def allowed_host_list(self) -> list[str]:
        return _split(self.allowed_hosts)

    @property
    def jobs_allowed_root_list(self) -> list[Path]:
        """JOBS_ALLOWED_ROOTS with symbolic links resolved, so paths compare as they really are."""
        return [Path(root).expanduser().resolve() for root in _split(self.jobs_allowed_roots)]


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


ENV_FILE_VARIABLE = "DOCTOWN_ENV_FILE"
CACHE_DIR_VARIABLE = "DOCTOWN_CACHE_DIR"


def cache_dir() -> Path:
    """Where every cache lives (summaries, analysis facts, jobs, evaluation runs):
    `$DOCTOWN_CACHE_DIR`, else the platform's user cache folder for doctown."""
    import platformdirs

    configured = os.environ.get(CACHE_DIR_VARIABLE)
    return Path(configured) if configured else Path(platformdirs.user_cache_dir("doctown"))


def env_file(*, service: bool = False) -> Path | None:
    """The `.env` file to read: DOCTOWN_ENV_FILE when set (it must exist), else `./.env` for a
    service (`serve`, `worker`), else none."""
    named = os.environ.get(ENV_FILE_VARIABLE)
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise ConfigurationError(
                f"{ENV_FILE_VARIABLE}={named}: no such file. Point it at your settings file, "
                "or unset it."
            )
        return path
    default = Path(".env")
    return default if service and default.is_file() else None


def ignored_env_file() -> Path | None:
    """`./.env` when it exists and a command other than a service does not read it."""
    default = Path(".env")
    if os.environ.get(ENV_FILE_VARIABLE) or not default.is_file():
        return None
    return default


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning validation errors into one readable ConfigurationError.
    A command reads the file DOCTOWN_ENV_FILE names, never the `.env` of the folder it runs in
    (see the module docstring)."""
    return _load(overrides, service=False)


def load_service_settings(**overrides: object) -> Settings:
    """`load_settings` for a service an operator starts (`serve`, `worker`): `./.env` is read
    when DOCTOWN_ENV_FILE names no other file."""
    return _load(overrides, service=True)


def _load(overrides: dict[str, object], *, service: bool) -> Settings:
    try:
        settings = Settings(_env_file=env_file(service=service), **overrides)  # type: ignore[arg-type,call-arg]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']).upper()}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConfigurationError(f"Invalid configuration: {problems}") from None
    for secret in (settings.openai_api_key, settings.worker_api_key):
        add_secret(secret.get_secret_value() if secret else None)
    ignored = None if service else ignored_env_file()
    if ignored is not None:
        logging.getLogger("doctown").warning(
            "note: %s is not read (a folder's .env could redirect the API key); to use it, "
            "set %s=%s",
            ignored,
            ENV_FILE_VARIABLE,
            ignored.resolve(),
        )
    return settings
