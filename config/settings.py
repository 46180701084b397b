"""The one typed settings object for the web app, the jobs process, the CLI and migrations.

Every value comes from a REGISTRY_* environment variable. In production a missing secret key is
a startup error: there is no built-in fallback.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

from config.import_limits import ImportLimitError, ImportLimits

ROOT = Path(__file__).resolve().parent.parent


class SettingsError(RuntimeError):
    """A required setting is missing or invalid."""


@dataclass(frozen=True)
class Settings:
    """Deploy-time configuration."""

    env: str = "development"
    database_url: str = f"sqlite:///{ROOT / 'instance' / 'registry.db'}"
    secret_key: str = field(default="", repr=False)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_security: str = "none"
    smtp_timeout: float = 15.0
    mail_from: str = "registry@localhost"
    policy_dir: Path = ROOT / "config" / "policies"
    timezone: str = "Asia/Shanghai"
    base_url: str = "http://127.0.0.1:5000"
    login_max_failures: int = 5
    login_lock_minutes: int = 15
    import_limits: ImportLimits = field(default_factory=ImportLimits)  #: REGISTRY_IMPORT_MAX_*

    @property
    def is_production(self) -> bool:
        """True when running as a real deployment."""
        return self.env == "production"

    def with_overrides(self, **changes: object) -> Settings:
        """Return a copy with some values replaced (tests)."""
        return replace(self, **changes)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Read REGISTRY_* variables. :raises SettingsError: naming the bad variable."""
        env = dict(os.environ if environ is None else environ)
        mode = env.get("REGISTRY_ENV", "development")
        secret = env.get("REGISTRY_SECRET_KEY", "")
        if not secret:
            if mode == "production":
                raise SettingsError("REGISTRY_SECRET_KEY is required when REGISTRY_ENV=production")
            secret = _development_secret()
        security = env.get("REGISTRY_SMTP_SECURITY", "none")
        if security not in ("none", "starttls", "ssl"):
            raise SettingsError("REGISTRY_SMTP_SECURITY must be none, starttls or ssl")
        try:
            port = int(env.get("REGISTRY_SMTP_PORT", "465" if security == "ssl" else "25"))
        except ValueError:
            raise SettingsError("REGISTRY_SMTP_PORT must be a number") from None
        try:
            import_limits = ImportLimits.from_env(env)
        except ImportLimitError as exc:
            raise SettingsError(str(exc)) from None
        url = env.get("REGISTRY_DATABASE_URL") or cls.database_url
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            url = f"sqlite:///{ROOT / url.removeprefix('sqlite:///')}"  # relative to the project
        return cls(
            env=mode, database_url=url, secret_key=secret,
            smtp_host=env.get("REGISTRY_SMTP_HOST", cls.smtp_host), smtp_port=port,
            smtp_user=env.get("REGISTRY_SMTP_USER", ""),
            smtp_password=env.get("REGISTRY_SMTP_PASSWORD", ""), smtp_security=security,
            mail_from=env.get("REGISTRY_MAIL_FROM", cls.mail_from),
            policy_dir=Path(env.get("REGISTRY_POLICY_DIR", str(cls.policy_dir))),
            timezone=env.get("REGISTRY_TIMEZONE", cls.timezone),
            base_url=env.get("REGISTRY_BASE_URL", cls.base_url), import_limits=import_limits,
        )


def _development_secret() -> str:
    """Return a per-checkout secret kept in instance/, so dev sessions survive restarts."""
    path = ROOT / "instance" / "dev-secret-key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    return key


def load_settings() -> Settings:
    """Return settings from the process environment."""
    return Settings.from_env()
