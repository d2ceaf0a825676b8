"""Settings: defaults, the development secret kept under ./var, production refusals."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from api.config import Settings


def test_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url == "sqlite+aiosqlite:///var/hubbub.db"
    assert settings.broker_url == "memory://"
    assert settings.access_token_lifetime.total_seconds() == 15 * 60
    assert settings.refresh_token_lifetime.days == 14
    assert (settings.send_rate, settings.send_burst) == (10, 30)
    assert settings.signup == "open"
    assert (settings.signup_per_hour, settings.login_failures_per_address) == (20, 50)
    assert settings.forwarded_allow_ips == "127.0.0.1"


def test_a_development_secret_is_made_once_and_kept(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path / "var", _env_file=None)  # type: ignore[call-arg]
    second = Settings(data_dir=tmp_path / "var", _env_file=None)  # type: ignore[call-arg]
    assert first.signing_key == second.signing_key
    assert len(first.signing_key) >= 32
    mode = (tmp_path / "var" / "secret_key").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


@pytest.mark.parametrize("secret", [None, "short", "changethis", "x" * 31])
def test_production_refuses_a_missing_or_weak_secret(tmp_path: Path, secret: str | None) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(environment="production", secret_key=secret, data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg,arg-type]
    assert not (tmp_path / "secret_key").exists()


def test_production_accepts_a_strong_secret(tmp_path: Path) -> None:
    settings = Settings(environment="production", secret_key="s" * 48, data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg,arg-type]
    assert settings.signing_key == "s" * 48


def test_settings_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEND_RATE", "2.5")
    monkeypatch.setenv("ALLOWED_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("BROKER_URL", "redis://127.0.0.1:6379/0")
    settings = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    assert settings.send_rate == 2.5
    assert settings.allowed_origins == ["https://a.example", "https://b.example"]
    assert settings.uses_redis


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BROKER_URL", "kafka://x"),
        ("ACCESS_TOKEN_MINUTES", "0"),
        ("SEND_BURST", "0"),
        ("LOG_LEVEL", "LOUD"),
        ("SIGNUP", "invite-only"),
        ("SIGNUP", ""),
        ("SIGNUP_PER_HOUR", "0"),
        ("LOGIN_FAILURES_PER_ADDRESS", "-1"),
        ("FORWARDED_ALLOW_IPS", "localhost"),
        ("FORWARDED_ALLOW_IPS", "10.0.0.1,"),
        ("FORWARDED_ALLOW_IPS", "10.0.0.0/33"),
        ("FORWARDED_ALLOW_IPS", "10.0.0.1, *"),
        ("FORWARDED_ALLOW_IPS", ""),
    ],
)
def test_bad_settings_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "value", ["127.0.0.1", "*", "10.0.0.5, 192.168.0.0/16", "::1,fd00::/8", " 127.0.0.1 "]
)
def test_proxy_addresses_uvicorn_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", value)
    monkeypatch.setenv("SIGNUP", "invite")
    settings = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    assert settings.forwarded_allow_ips == value
    assert settings.signup == "invite"
