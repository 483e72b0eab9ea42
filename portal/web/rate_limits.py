"""Rate limits on what an attacker would repeat (reports, receipt checks,
sign-ins), keyed without storing any request address: the limiter keys on a
keyed hash of the address, under a random key of the day that is kept only
in memory (see _day_key). Every limit is declared here.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import secrets
import threading

from flask import Flask, current_app, request

from config import ConfigError
from flask_limiter import Limiter
from limits import parse as parse_limit
from limits.storage import RedisStorage

SUBMIT_LIMIT = "20 per hour"  # reports and reporter replies, counted only when sent (take_one)
# Every post of those forms, sent or not: an invalid one still costs parsing,
# encrypting the spooled files and trying to clean them.
FORM_POST_LIMIT = "60 per hour"
RECEIPT_LIMIT = "10 per 10 minutes"
LOGIN_LIMIT = "10 per minute"  # every password check, also from an open session
GLOBAL_LOGIN_LIMIT = "300 per minute"
GLOBAL_LOGIN_KEY = "all-staff-logins"


DAY_KEY_BYTES = 32
_day_keys: dict[str, bytes] = {}
_day_keys_lock = threading.Lock()


def _day_key() -> bytes:
    """Today's key for hashing addresses: random, never derived from anything
    the portal stores (the secret key, the database), so a copy of those and
    of the counters cannot be turned back into addresses by trying every one.
    Nodes sharing a Redis share it there, as a key that expires with the day;
    without Redis it lives in this process only (gunicorn.conf.py then runs
    one worker)."""
    day = dt.date.today().isoformat()
    key = _day_keys.get(day)
    if key is None:
        with _day_keys_lock:
            key = _day_keys.get(day) or _shared_day_key(day)
            _day_keys.clear()  # yesterday's key is forgotten
            _day_keys[day] = key
    return key


def _shared_day_key(day: str) -> bytes:
    fresh = secrets.token_bytes(DAY_KEY_BYTES)
    storage = limiter.storage
    if not isinstance(storage, RedisStorage):
        return fresh
    name = f"tillit:rate-key:{day}"
    # The first node to need it sets it; the others read the same one.
    storage.storage.set(name, fresh, nx=True, ex=2 * 24 * 3600)
    return storage.storage.get(name) or fresh


IPV6_CLIENT_PREFIX = 64  # what one IPv6 client (a home, a phone) is given at least


def client_of(address: str) -> str:
    """The client an address stands for: an IPv4 address, an IPv6 address's
    /64 network (any client holds one, so single addresses would give it
    2^64 allowances), an IPv4-mapped IPv6 address as its IPv4 address; one
    spelling for each, so that spellings do not count apart (review finding)."""
    try:
        parsed = ipaddress.ip_address(address.strip().split("%", 1)[0])
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, IPV6_CLIENT_PREFIX), strict=False))
    return str(parsed)


def _anonymous_rate_key() -> str:
    """A keyed hash of the client under the day's key: the limiter needs
    some key per client, and this one links a client for a day at most."""
    client = client_of(request.remote_addr or "").encode()
    return hmac.new(_day_key(), client, hashlib.sha256).hexdigest()[:32]


limiter = Limiter(key_func=_anonymous_rate_key, default_limits=[], headers_enabled=False)


def raised(limit: str) -> str:
    """`limit` times PORTAL_RATE_LIMIT_FACTOR (1 but in a load test, which
    sends everything from a few addresses)."""
    factor = current_app.config.get("RATE_LIMIT_FACTOR", 1)
    if factor == 1:
        return limit
    item = parse_limit(limit)
    return f"{item.amount * factor}/{item.multiples} {item.GRANULARITY.name}"


def configured(limit: str):
    """`limit` for a limiter decorator, raised by the factor (read per request:
    the decorators are applied before any app is configured)."""
    return lambda: raised(limit)


def global_login_limit() -> str:
    """The limit all sign-ins share; GLOBAL_LOGIN_LIMIT in the app's config
    overrides it (a test of the limit itself)."""
    return raised(current_app.config.get("GLOBAL_LOGIN_LIMIT", GLOBAL_LOGIN_LIMIT))


def all_staff_logins() -> str:
    """One key for every client: the global sign-in limit."""
    return GLOBAL_LOGIN_KEY


def take_one(limit: str, scope: str) -> bool:
    """Count one use of `limit` in `scope` for this client, atomically, and
    say whether it was within the limit. For what must count only when it is
    really sent (reports, replies): a decorator would count junk too, or,
    counting after the response, let a burst through."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return True
    return limiter.limiter.hit(parse_limit(raised(limit)), scope, _anonymous_rate_key())


def redis_keeps_a_copy(url: str) -> bool | None:
    """Whether the Redis at `url` writes its data to disk (RDB snapshots or
    an append-only file), None if it will not say (CONFIG disabled, or down).
    The day key and the counters must stay in memory: with both, a copy of
    the disk gives back who sent a report, and when (review finding)."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        save = client.config_get("save").get("save", "")
        append_only = client.config_get("appendonly").get("appendonly", "no")
    except redis.RedisError:
        return None
    finally:
        client.close()
    return bool(str(save).strip()) or str(append_only) == "yes"


def check_redis(url: str, *, production: bool, logger) -> None:
    """Refuse, in production, a Redis that writes to disk; warn otherwise,
    and where it will not say."""
    copies = redis_keeps_a_copy(url)
    if copies and production:
        raise ConfigError("PORTAL_REDIS_URL: this Redis writes its data to disk, and with it the rate "
                          "limiter's key of the day and counters, which give back who sent what when. "
                          "Set save \"\" and appendonly no (docs/deployment.md).")
    if copies or copies is None:
        logger.warning("The Redis for rate limits %s; run it without persistence (save \"\", appendonly no): "
                       "docs/deployment.md.", "writes its data to disk" if copies
                       else "does not say whether it writes its data to disk")


def init_app(app: Flask, *, redis_url: str, production: bool = False, factor: int = 1) -> None:
    if redis_url:
        check_redis(redis_url, production=production, logger=app.logger)
    app.config.update(
        RATE_LIMIT_FACTOR=max(1, factor),
        RATELIMIT_STORAGE_URI=redis_url or "memory://",
        RATELIMIT_STRATEGY="fixed-window",
    )
    limiter.init_app(app)
