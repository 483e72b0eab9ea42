"""Response headers, cookie settings and rate limiting.

Nothing here stores or logs a request address: the rate limiter keys on a
keyed hash of the address that changes every day.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from flask_limiter import Limiter
from limits import parse as parse_limit
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": (
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
        "microphone=(), payment=(), usb=(), interest-cohort=()"
    ),
    "Cache-Control": "no-store",
}


def _anonymous_rate_key() -> str:
    """A daily-rotating keyed hash of the client address.

    The limiter needs some key per client; this one cannot be turned back into
    an address without the secret key, and stops linking clients after a day.
    """
    day = dt.date.today().isoformat().encode()
    secret = current_app.config["SECRET_KEY"].encode()
    address = (request.remote_addr or "").encode()
    return hmac.new(secret + b"|" + day, address, hashlib.sha256).hexdigest()[:32]


limiter = Limiter(key_func=_anonymous_rate_key, default_limits=[], headers_enabled=False)


def take_one(limit: str, scope: str) -> bool:
    """Count one use of `limit` in `scope` for this client, atomically, and
    say whether it was within the limit. For what must count only when it is
    really sent (reports, replies): a decorator would count junk too, or,
    counting after the response, let a burst through."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return True
    return limiter.limiter.hit(parse_limit(limit), scope, _anonymous_rate_key())


def init_app(app: Flask, *, cookie_secure: bool, redis_url: str, proxy_count: int) -> None:
    app.config.update(
        SESSION_COOKIE_NAME="tillit_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=cookie_secure,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(minutes=30),
        RATELIMIT_STORAGE_URI=redis_url or "memory://",
        RATELIMIT_STRATEGY="fixed-window",
    )
    if proxy_count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxy_count, x_proto=proxy_count, x_host=proxy_count)
    limiter.init_app(app)
    app.after_request(_set_security_headers)
    silence_request_logging()


def _set_security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    response.headers.pop("Server", None)
    return response


def silence_request_logging() -> None:
    """Werkzeug's development server logs every client address; drop it."""
    logging.getLogger("werkzeug").disabled = True


def is_safe_local_path(target: str | None) -> bool:
    """Only same-site absolute paths may be used as redirect targets. Control
    characters and spaces are refused outright: Werkzeug drops a tab when it
    writes the Location header, which would turn "/<tab>/evil" into "//evil"."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc
