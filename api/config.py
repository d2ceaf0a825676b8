"""Settings: one typed object read from the environment and an optional `.env`."""

from __future__ import annotations

import ipaddress
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MIN_SECRET_LENGTH = 32
# Values people paste from tutorials; refusing them in production is cheap insurance.
KNOWN_WEAK_SECRETS = frozenset({"changethis", "secret", "changeme", "dev", "development"})
SECRET_FILE_NAME = "secret_key"
SignupMode = Literal["open", "invite", "closed"]


class Settings(BaseSettings):
    """Every setting of the server; the environment variable is the field name in upper case."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Path("var")
    database_url: str = ""
    secret_key: SecretStr | None = None
    access_token_minutes: float = Field(default=15, gt=0)
    refresh_token_days: float = Field(default=14, gt=0)
    broker_url: str = "memory://"
    allowed_origins: Annotated[list[str], NoDecode] = []
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    # How often each worker shares its figures for /metrics through Redis; they expire
    # after three intervals, so a dead worker's figures vanish.
    metrics_interval_seconds: float = Field(default=5, gt=0)

    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=900, ge=1)
    login_failures_per_address: int = Field(default=50, ge=1)
    signup_per_hour: int = Field(default=20, ge=1)
    signup: SignupMode = "open"
    # Uvicorn's own setting (the same variable), handed to it by `hubbub serve`: the peers
    # whose X-Forwarded-For is believed. Uvicorn alone reads the header; the app reads the
    # client address Uvicorn leaves in the ASGI scope.
    forwarded_allow_ips: str = "127.0.0.1"
    send_rate: float = Field(default=10, ge=0)
    send_burst: int = Field(default=30, ge=1)

    # argon2id cost; the defaults follow OWASP's password storage cheat sheet (m=19 MiB, t=2).
    password_memory_kib: int = Field(default=19456, ge=8)
    password_time_cost: int = Field(default=2, ge=1)
    password_parallelism: int = Field(default=1, ge=1)
    hashing_threads: int = Field(default=2, ge=1)

    ws_queue_frames: int = Field(default=1024, ge=8)
    ws_frames_per_second: int = Field(default=50, ge=1)
    ws_max_frame_bytes: int = Field(default=64 * 1024, ge=1024)
    presence_ttl_seconds: float = Field(default=30, gt=1)
    gap_fill_seconds: float = Field(default=0.5, gt=0)
    history_cache_messages: int = Field(default=1000, ge=0, le=100_000)
    shutdown_grace_seconds: float = Field(default=5, gt=0)

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("broker_url")
    @classmethod
    def _known_broker(cls, value: str) -> str:
        if not value.startswith(("memory://", "redis://", "rediss://", "unix://")):
            raise ValueError("BROKER_URL must start with memory://, redis://, rediss:// or unix://")
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxy_addresses(cls, value: str) -> str:
        """Refuse what Uvicorn would silently take as a name no peer ever has (a typo, a host
        name): the proxy would then be distrusted and every client share its address."""
        entries = [entry.strip() for entry in value.split(",")]
        if entries == ["*"]:
            return value
        for entry in entries:
            try:
                ipaddress.ip_network(entry) if "/" in entry else ipaddress.ip_address(entry)
            except ValueError:
                raise ValueError(
                    f"FORWARDED_ALLOW_IPS: {entry!r} is not an IP address or network "
                    "(comma-separated, e.g. 10.0.0.5,192.168.0.0/16, or *)"
                ) from None
        return value

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'hubbub.db'}"
        if self.secret_key is None:
            if self.environment == "production":
                raise ValueError("SECRET_KEY must be set in production (32 characters or more)")
            self.secret_key = SecretStr(_development_secret(self.data_dir))
        elif self.environment == "production" and _is_weak(self.secret_key.get_secret_value()):
            raise ValueError(
                f"SECRET_KEY is too weak for production: use {MIN_SECRET_LENGTH} random "
                'characters or more, e.g. python -c "import secrets; print(secrets.token_urlsafe(48))"'
            )
        return self

    @property
    def signing_key(self) -> str:
        assert self.secret_key is not None  # filled in by the validator
        return self.secret_key.get_secret_value()

    @property
    def access_token_lifetime(self) -> timedelta:
        return timedelta(minutes=self.access_token_minutes)

    @property
    def refresh_token_lifetime(self) -> timedelta:
        return timedelta(days=self.refresh_token_days)

    @property
    def uses_redis(self) -> bool:
        return not self.broker_url.startswith("memory://")


def _is_weak(secret: str) -> bool:
    return len(secret) < MIN_SECRET_LENGTH or secret.lower() in KNOWN_WEAK_SECRETS


def _development_secret(data_dir: Path) -> str:
    """Read the key kept under the data dir, creating it once so tokens survive a restart."""
    path = data_dir / SECRET_FILE_NAME
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(secret)
    return secret
