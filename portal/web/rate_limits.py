"""Rate limits on what an attacker would repeat (reports, receipt checks,
sign-ins), keyed without storing any request address: the limiter keys on a
keyed hash of the address that changes every day. Every limit is declared here.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from flask import Flask, current_app, request
from flask_limiter import Limiter
from limits import parse as parse_limit

SUBMIT_LIMIT = "20 per hour"  # reports and reporter replies, counted only when sent (take_one)
# Every post of those forms, sent or not: an invalid one still costs parsing,
# encrypting the spooled files and trying to clean them.
FORM_POST_LIMIT = "60 per hour"
RECEIPT_LIMIT = "10 per 10 minutes"
LOGIN_LIMIT = "10 per minute"  # every password check, also from an open session
GLOBAL_LOGIN_LIMIT = "300 per minute"
GLOBAL_LOGIN_KEY = "all-staff-logins"


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
    return limiter.limiter.hit(parse_limit(limit), scope, _anonymous_rate_key())


def init_app(app: Flask, *, redis_url: str) -> None:
    app.config.update(
        RATELIMIT_STORAGE_URI=redis_url or "memory://",
        RATELIMIT_STRATEGY="fixed-window",
    )
    limiter.init_app(app)
