"""The one typed settings object for the web app, the jobs process, the CLI and migrations.

Every value comes from a REGISTRY_* environment variable. In production a missing secret key is
a startup error: there is no built-in fallback.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

from config.channels import ChannelSettingError, ChannelSettings
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
    clock: str = ""  # REGISTRY_CLOCK: run the clock from this date/instant (never in production)
    trusted_proxies: int = 0  #: reverse proxies in front of the web app; 0 = clients talk to it directly
    outbox_alarm_minutes: int = 30  #: an unsent mail older than this raises the outbox alarm
    import_heartbeat_minutes: int = 5  #: a running import whose worker is silent this long is failed
    #: CPU nice value of the jobs process (imports, scans, mail): background work yields the cores to the web
    jobs_nice: int = 10
    #: per-IP throttle: this many failed logins from one address within the window refuse more (429)
    login_ip_max_failures: int = 20
    login_ip_window_minutes: int = 15
    #: a browser session ends after this long without a request, and this long after login at most
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    #: API tokens expire this many days after creation
    token_days: int = 90
    #: audit events younger than this are never removed by any command (等保: at least 180 days; upward only)
    audit_retention_days: int = 180
    #: password policy (等保 level 3 defaults): length, character classes of four, history, expiry
    password_min_length: int = 10
    password_min_classes: int = 3
    password_history: int = 5
    password_max_age_days: int = 90
    import_limits: ImportLimits = field(default_factory=ImportLimits)  #: REGISTRY_IMPORT_MAX_*
    #: the delivery channels beside e-mail (config/channels.py): REGISTRY_DINGTALK_URL, REGISTRY_ZZD_* …
    channels: ChannelSettings = field(default_factory=ChannelSettings)
    #: REGISTRY_2FA_REQUIRED_FOR_ALL: the second factor is mandatory for business roles too (the three
    #: administrator roles always need it)
    second_factor_required_for_all: bool = False
    #: REGISTRY_AUDIT_HASH: the hash function of new audit events, sha256 or sm3 (recorded per event)
    audit_hash: str = "sha256"
    #: REGISTRY_AUDIT_ANCHOR_KEY: the HMAC-SM3 key anchoring the audit chain head ("" = not anchored);
    #: kept apart from the database and from REGISTRY_SECRET_KEY
    audit_anchor_key: str = field(default="", repr=False)
    #: personal information at rest (registry/platform/pi_crypto.py): REGISTRY_PI_KEY `<id>:<32 hex>` (SM4,
    #: encrypts), REGISTRY_PI_KEYS old keys `<id>:<hex>,…` (decrypt only), REGISTRY_PI_INDEX_KEY (HMAC-SM3 blind
    #: index). Required in production; elsewhere empty means the checkout's generated development keyring.
    pi_key: str = field(default="", repr=False)
    pi_keys: str = field(default="", repr=False)
    pi_index_key: str = field(default="", repr=False)

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
        proxies = _count(env, "REGISTRY_TRUSTED_PROXIES", cls.trusted_proxies, low=0)
        alarm = _count(env, "REGISTRY_OUTBOX_ALARM_MINUTES", cls.outbox_alarm_minutes, low=1)
        heartbeat = _count(env, "REGISTRY_IMPORT_HEARTBEAT_MINUTES", cls.import_heartbeat_minutes, low=1)
        jobs_nice = _count(env, "REGISTRY_JOBS_NICE", cls.jobs_nice, low=0, high=19)
        try:
            import_limits = ImportLimits.from_env(env)
        except ImportLimitError as exc:
            raise SettingsError(str(exc)) from None
        try:
            channels = ChannelSettings.from_env(env)
        except ChannelSettingError as exc:
            raise SettingsError(str(exc)) from None
        url = env.get("REGISTRY_DATABASE_URL") or cls.database_url
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            url = f"sqlite:///{ROOT / url.removeprefix('sqlite:///')}"  # relative to the project
        clock = env.get("REGISTRY_CLOCK", "").strip()
        if clock:
            if mode == "production":
                raise SettingsError("REGISTRY_CLOCK must not be set when REGISTRY_ENV=production")
            from registry.platform.clock import parse_clock

            try:
                parse_clock(clock, env.get("REGISTRY_TIMEZONE", cls.timezone))
            except ValueError:
                raise SettingsError("REGISTRY_CLOCK must be an ISO date or datetime, e.g. 2028-02-29") from None
        audit_hash = env.get("REGISTRY_AUDIT_HASH", cls.audit_hash).strip().lower()
        if audit_hash not in ("sha256", "sm3"):
            raise SettingsError("REGISTRY_AUDIT_HASH must be sha256 or sm3")
        anchor_key = env.get("REGISTRY_AUDIT_ANCHOR_KEY", "")
        if anchor_key and len(anchor_key) < MIN_ANCHOR_KEY:
            raise SettingsError(f"REGISTRY_AUDIT_ANCHOR_KEY must be at least {MIN_ANCHOR_KEY} characters")
        if anchor_key and anchor_key == secret:
            raise SettingsError("REGISTRY_AUDIT_ANCHOR_KEY must differ from REGISTRY_SECRET_KEY")
        pi = {"pi_key": env.get("REGISTRY_PI_KEY", "").strip(), "pi_keys": env.get("REGISTRY_PI_KEYS", "").strip(),
              "pi_index_key": env.get("REGISTRY_PI_INDEX_KEY", "").strip()}
        _check_pi_keys(mode, pi)
        return cls(
            second_factor_required_for_all=_flag(env, "REGISTRY_2FA_REQUIRED_FOR_ALL"),
            audit_hash=audit_hash, audit_anchor_key=anchor_key,
            clock=clock, **pi,
            env=mode, database_url=url, secret_key=secret,
            smtp_host=env.get("REGISTRY_SMTP_HOST", cls.smtp_host), smtp_port=port,
            smtp_user=env.get("REGISTRY_SMTP_USER", ""),
            smtp_password=env.get("REGISTRY_SMTP_PASSWORD", ""), smtp_security=security,
            mail_from=env.get("REGISTRY_MAIL_FROM", cls.mail_from),
            policy_dir=Path(env.get("REGISTRY_POLICY_DIR", str(cls.policy_dir))),
            timezone=env.get("REGISTRY_TIMEZONE", cls.timezone),
            base_url=env.get("REGISTRY_BASE_URL", cls.base_url), import_limits=import_limits, channels=channels,
            trusted_proxies=proxies, outbox_alarm_minutes=alarm, import_heartbeat_minutes=heartbeat,
            jobs_nice=jobs_nice,
            **{name: _count(env, f"REGISTRY_{name.upper()}", getattr(cls, name), low=1) for name in _INT_SETTINGS},
            **{name: _count(env, f"REGISTRY_{name.upper()}", getattr(cls, name), low=low, high=high)
               for name, (low, high) in _BOUNDED_SETTINGS.items()},
        )


#: whole-number settings read as REGISTRY_<NAME>, each at least 1
_INT_SETTINGS = ("login_ip_max_failures", "login_ip_window_minutes", "session_idle_minutes",
                 "session_max_hours", "token_days")


#: whole-number settings with their own bounds: the 等保 defaults are floors (configurable upward only)
_BOUNDED_SETTINGS = {
    "audit_retention_days": (180, 100_000),
    "password_min_length": (10, 128),
    "password_min_classes": (3, 4),
    "password_history": (5, 24),
    "password_max_age_days": (1, 3650),
}


MIN_ANCHOR_KEY = 32  #: characters of REGISTRY_AUDIT_ANCHOR_KEY at least (e.g. 64 hex digits = 256 bits)


def _flag(env: dict[str, str], name: str) -> bool:
    """Read a yes/no setting (1/true/yes/on or 0/false/no/off; unset: no). :raises SettingsError:"""
    text = env.get(name, "").strip().lower()
    if text in ("", "0", "false", "no", "off"):
        return False
    if text in ("1", "true", "yes", "on"):
        return True
    raise SettingsError(f"{name} must be 1 or 0 (true or false)")


def _check_pi_keys(mode: str, pi: dict[str, str]) -> None:
    """Refuse malformed personal-information keys, and none at all in production. :raises SettingsError:"""
    from registry.platform.pi_crypto import PersonalKeyError, keyring_for

    if not (pi["pi_key"] or pi["pi_index_key"] or mode == "production"):
        return  # the development keyring (generated on first use)
    try:
        keyring_for(production=mode == "production", current=pi["pi_key"], old=pi["pi_keys"], index=pi["pi_index_key"])
    except PersonalKeyError as exc:
        raise SettingsError(str(exc)) from None


def _count(env: dict[str, str], name: str, default: int, *, low: int, high: int = 10_000) -> int:
    """Read a whole number of at least `low`. :raises SettingsError: naming the variable."""
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}")
    return value


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
