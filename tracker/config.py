"""Settings from the environment (TRACKER_*, see shared/INTERFACES.md); secrets as SecretStr."""

from __future__ import annotations

import enum
import logging
import re
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Role(enum.StrEnum):
    VIEWER = "viewer"
    RECORDER = "recorder"
    ADMIN = "admin"

    def can_record(self) -> bool:
        return self in (Role.RECORDER, Role.ADMIN)


def parse_users(text: str) -> dict[int, Role]:
    """Parse ``admin:111,recorder:222,viewer:333`` into {telegram user id: role}."""
    users: dict[int, Role] = {}
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        role_name, sep, user_id = item.partition(":")
        if not sep:
            raise ValueError(f"TRACKER_USERS entry {item!r} is not ROLE:USER_ID (e.g. admin:111)")
        try:
            role = Role(role_name.strip().lower())
        except ValueError:
            raise ValueError(
                f"TRACKER_USERS entry {item!r}: role must be one of admin, recorder, viewer"
            ) from None
        if not user_id.strip().isdigit():
            raise ValueError(f"TRACKER_USERS entry {item!r}: the user id must be a number")
        users[int(user_id)] = role
    return users


class Settings(BaseSettings):
    """Every setting of every front end; `.env.example` in deploy/ documents each one."""

    # An empty variable means "not set": settings files (.env.example, compose env_file) list
    # TRACKER_TELEGRAM_TOKEN= and the like, which must not read as a token that is "".
    model_config = SettingsConfigDict(env_prefix="TRACKER_", extra="ignore", env_ignore_empty=True)

    database_url: str = "sqlite:///tracker.db"
    #: PostgreSQL schema to use instead of the default search path (tests, shared servers).
    database_schema: str | None = Field(default=None, pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    telegram_token: SecretStr | None = None
    telegram_base_url: str | None = None
    log_level: str = "INFO"
    users: Annotated[dict[int, Role], NoDecode] = Field(default_factory=dict)
    #: Role of whoever runs `tracker` in a shell (import, init): having the database
    #: credentials already lets them write, so admin by default; set viewer for read-only hosts.
    cli_role: Role = Role.ADMIN
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: SecretStr | None = None
    reminder_sweep_minutes: int = Field(default=5, ge=1, le=1440)

    @field_validator("users", mode="before")
    @classmethod
    def _parse_users(cls, value: object) -> object:
        if isinstance(value, str):
            return parse_users(value)
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError(f"TRACKER_LOG_LEVEL {value!r} is not DEBUG, INFO, WARNING or ERROR")
        return level

    @property
    def safe_database_url(self) -> str:
        """The database URL with any password masked, fit for logs and messages."""
        return mask_url(self.database_url)

    def secrets(self) -> list[str]:
        """Every secret value that must never reach a log line or a user."""
        values = [s.get_secret_value() for s in (self.telegram_token, self.webhook_secret) if s]
        password = _URL_PASSWORD.search(self.database_url)
        if password:
            values.append(password.group(2))
        return [v for v in values if v]

    def configure_logging(self) -> None:
        logging.basicConfig(
            level=self.log_level,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        # httpx logs every request URL at INFO, and Bot API URLs contain the token: silence
        # it below WARNING and, as a second line of defence, redact secrets in every record.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        logging.getLogger("httpcore").setLevel(logging.WARNING)
        # Alembic narrates every migration step at INFO; the CLI says what it did itself.
        logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLogger().level))
        install_redaction(self.secrets())


_URL_PASSWORD = re.compile(r"(://[^:/@]+:)([^@]+)(@)")


def mask_url(url: str) -> str:
    return _URL_PASSWORD.sub(r"\1***\3", url)


class RedactingFilter(logging.Filter):
    """Replaces secret values in a log record's final message (and traceback) with '***'."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if len(s) >= 4]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        redacted = self._redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        return True

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def install_redaction(secrets: list[str]) -> None:
    """Attach the redacting filter to every handler of the root logger."""
    root = logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter(secrets))
