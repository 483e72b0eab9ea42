"""Settings from PORTAL_* environment variables.

Development gets working defaults (an SQLite file, a secret key and a pepper
generated once under instance/). Production refuses to start when a setting
would make the portal unsafe; the refusal names the setting.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from crypto import anchor
from crypto.kdf import Argon2Params

ROOT = Path(__file__).resolve().parent
DEFAULT_INSTANCE = ROOT / "instance"

# Values that must never reach production: the documented example values and
# anything shorter than this.
KNOWN_DEFAULT_SECRETS = {"", "dev", "change-me", "changeme", "secret", "development"}
MIN_SECRET_LENGTH = 32

ENVIRONMENTS = ("development", "testing", "production")
DEV_ANCHOR_FILE = "anchor.key"  # development only: production keeps the anchor offline


class ConfigError(RuntimeError):
    """A setting makes the portal unsafe to run; the message names it."""


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    instance_path: Path = DEFAULT_INSTANCE
    secret_key: str = ""
    pepper: bytes = b""
    database_url: str = ""
    redis_url: str = ""
    argon2: Argon2Params = Argon2Params.PRODUCTION
    # At most this many submissions derive their Argon2id at once in one
    # process (each holds argon2.memory_kib); more wait up to
    # argon2_wait_seconds, then get the "busy" page with their text kept.
    argon2_at_once: int = 4
    argon2_wait_seconds: int = 10
    # Multiplies every rate limit (web/rate_limits.py): for a load test from a
    # few addresses; refused in production.
    rate_limit_factor: int = 1
    cookie_secure: bool = False
    max_upload_mib: int = 25
    max_attachments: int = 5
    allowed_upload_types: tuple[str, ...] = (
        "pdf", "png", "jpg", "jpeg", "gif", "webp", "txt", "csv",
        "docx", "xlsx", "pptx", "odt", "ods", "odp",
    )
    k_anonymity: int = 5
    k_anonymity_misconduct: int = 10
    insights_public: bool = True  # /insights without sign-in; False: staff only
    escrow_public_key: str = ""
    # The trust anchor's Ed25519 public keys (raw), pinned here and never in
    # the database: only keys they signed receive report keys (docs/crypto.md, 10).
    anchor_public_keys: tuple[bytes, ...] = ()
    # The hash of the last audit event written before the log was keyed, for
    # installations older than that (`portal audit verify` says what to pin).
    audit_legacy_head: bytes | None = None
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_sender: str = "tillit@localhost"
    smtp_starttls: bool = False
    notify_interval_hours: int = 24
    organisation_name: str = "Tillit"
    proxy_count: int = 0
    languages: tuple[str, ...] = ("sv", "en")
    extra: dict = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    def with_overrides(self, **changes) -> "Settings":
        known = {f.name for f in fields(self)}
        extra = dict(self.extra)
        for key in [k for k in changes if k not in known]:
            extra[key] = changes.pop(key)
        return replace(self, extra=extra, **changes)


def _env(name: str, default: str = "") -> str:
    return os.environ.get(f"PORTAL_{name}", default)


def _env_bool(name: str, default: bool) -> bool:
    raw = _env(name, "")
    if raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    raw = _env(name, "")
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"PORTAL_{name} must be a whole number, got {raw!r}") from exc


def _instance_secret(instance: Path, filename: str, nbytes: int, make=None) -> str:
    """Read a development secret from instance/, creating it once (mode 0600)."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / filename
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(make() if make else secrets.token_hex(nbytes))
    return path.read_text().strip()


def _anchor_keys(instance: Path, production: bool) -> tuple[bytes, ...]:
    """PORTAL_ANCHOR_PUBLIC_KEYS (hex, comma-separated) or PORTAL_ANCHOR_KEYS_FILE
    (one hex key a line). Development without either gets an anchor of its
    own under instance/ (anchor.key, mode 0600), so `portal demo` and
    `portal sign-recipients` work out of the box."""
    text = _env("ANCHOR_PUBLIC_KEYS")
    file = _env("ANCHOR_KEYS_FILE")
    if file:
        try:
            text = ",".join(line.strip() for line in Path(file).read_text().splitlines()
                            if line.strip() and not line.startswith("#"))
        except OSError as exc:
            raise ConfigError(f"PORTAL_ANCHOR_KEYS_FILE cannot be read: {exc.strerror}") from exc
    if not text and not production:
        private = bytes.fromhex(_instance_secret(instance, DEV_ANCHOR_FILE, 32, make=_new_anchor_hex))
        return (anchor.public_key_for(private),)
    try:
        keys = tuple(bytes.fromhex(part.strip()) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise ConfigError("PORTAL_ANCHOR_PUBLIC_KEYS must be hexadecimal Ed25519 public keys") from exc
    if any(len(key) != anchor.KEY_BYTES for key in keys):
        raise ConfigError("PORTAL_ANCHOR_PUBLIC_KEYS: each key has 64 hex digits")
    return keys


def _hex_or_none(name: str, length: int) -> bytes | None:
    raw = _env(name).strip()
    if not raw:
        return None
    try:
        value = bytes.fromhex(raw)
    except ValueError as exc:
        raise ConfigError(f"PORTAL_{name} must be hexadecimal") from exc
    if len(value) != length:
        raise ConfigError(f"PORTAL_{name} has {2 * length} hex digits")
    return value


def _new_anchor_hex() -> str:
    return anchor.generate_anchor_key()[0].hex()


def load_settings() -> Settings:
    """Build settings from the environment; development fills in safe defaults."""
    env = _env("ENV", "development").strip().lower()
    if env not in ENVIRONMENTS:
        raise ConfigError(f"PORTAL_ENV must be one of {', '.join(ENVIRONMENTS)}, got {env!r}")
    instance = Path(_env("INSTANCE_PATH", str(DEFAULT_INSTANCE)))
    production = env == "production"

    secret_key = _env("SECRET_KEY")
    pepper_hex = _env("PEPPER")
    if not production:
        secret_key = secret_key or _instance_secret(instance, "secret_key", 32)
        pepper_hex = pepper_hex or _instance_secret(instance, "pepper", 32)
    try:
        pepper = bytes.fromhex(pepper_hex)
    except ValueError as exc:
        raise ConfigError("PORTAL_PEPPER must be hexadecimal (64 hex digits)") from exc

    database_url = _env("DATABASE_URL") or f"sqlite:///{instance / 'tillit.sqlite3'}"
    default_argon = Argon2Params.PRODUCTION
    try:
        argon2 = Argon2Params(
            memory_kib=_env_int("ARGON2_MEMORY_KIB", default_argon.memory_kib),
            iterations=_env_int("ARGON2_ITERATIONS", default_argon.iterations),
            lanes=_env_int("ARGON2_LANES", default_argon.lanes),
        )
    except ValueError as exc:
        raise ConfigError(f"PORTAL_ARGON2_* settings are invalid: {exc}") from exc
    return Settings(
        env=env,
        instance_path=instance,
        secret_key=secret_key,
        pepper=pepper,
        database_url=database_url,
        redis_url=_env("REDIS_URL"),
        argon2=argon2,
        cookie_secure=_env_bool("COOKIE_SECURE", production),
        max_upload_mib=_env_int("MAX_UPLOAD_MIB", 25),
        max_attachments=_env_int("MAX_ATTACHMENTS", 5),
        allowed_upload_types=tuple(
            t.strip().lower().lstrip(".")
            for t in _env("ALLOWED_UPLOAD_TYPES", ",".join(Settings.allowed_upload_types)).split(",")
            if t.strip()
        ),
        k_anonymity=_env_int("K_ANONYMITY", 5),
        k_anonymity_misconduct=_env_int("K_ANONYMITY_MISCONDUCT", 10),
        insights_public=_env_bool("INSIGHTS_PUBLIC", True),
        escrow_public_key=_env("ESCROW_PUBLIC_KEY"),
        anchor_public_keys=_anchor_keys(instance, production),
        audit_legacy_head=_hex_or_none("AUDIT_LEGACY_HEAD", 32),
        smtp_host=_env("SMTP_HOST"),
        smtp_port=_env_int("SMTP_PORT", 25),
        smtp_user=_env("SMTP_USER"),
        smtp_password=_env("SMTP_PASSWORD"),
        smtp_sender=_env("SMTP_SENDER", "tillit@localhost"),
        smtp_starttls=_env_bool("SMTP_STARTTLS", False),
        notify_interval_hours=_env_int("NOTIFY_INTERVAL_HOURS", 24),
        organisation_name=_env("ORGANISATION_NAME", "Tillit"),
        proxy_count=_env_int("PROXY_COUNT", 0),
        argon2_at_once=_env_int("ARGON2_AT_ONCE", 4),
        argon2_wait_seconds=_env_int("ARGON2_WAIT_SECONDS", 10),
        rate_limit_factor=_env_int("RATE_LIMIT_FACTOR", 1),
    )


def production_problems(settings: Settings) -> list[str]:
    """Every reason the settings are unsafe for production, each naming its setting."""
    problems = []
    if settings.secret_key.strip().lower() in KNOWN_DEFAULT_SECRETS or len(settings.secret_key) < MIN_SECRET_LENGTH:
        problems.append(
            f"PORTAL_SECRET_KEY is missing, a known default or shorter than {MIN_SECRET_LENGTH} characters"
        )
    if len(settings.pepper) < 32 or settings.pepper == bytes(len(settings.pepper)):
        problems.append("PORTAL_PEPPER is missing or weak: it must be 32 random bytes as 64 hex digits")
    if settings.argon2.is_weak:
        problems.append(
            "PORTAL_ARGON2_MEMORY_KIB / PORTAL_ARGON2_ITERATIONS are below the production minimum "
            f"(memory {settings.argon2.memory_kib} KiB, iterations {settings.argon2.iterations}; "
            f"need at least {Argon2Params.PRODUCTION.memory_kib} KiB and {Argon2Params.PRODUCTION.iterations})"
        )
    if not settings.anchor_public_keys:
        problems.append("PORTAL_ANCHOR_PUBLIC_KEYS (or PORTAL_ANCHOR_KEYS_FILE) is missing: without a pinned trust "
                        "anchor no handler's key can be trusted (portal anchor-keygen makes one)")
    if not settings.cookie_secure:
        problems.append("PORTAL_COOKIE_SECURE is off: cookies must be Secure in production")
    if settings.rate_limit_factor != 1:
        problems.append("PORTAL_RATE_LIMIT_FACTOR raises every rate limit: it is for load tests, not production")
    return problems


def check_production(settings: Settings) -> None:
    if settings.is_production:
        problems = production_problems(settings)
        if problems:
            raise ConfigError(
                "Refusing to start in production:\n" + "\n".join(f"  - {p}" for p in problems)
            )
