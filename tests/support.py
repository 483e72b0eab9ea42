"""Helpers for tests: settings for a test app and a CSRF-aware client."""
from __future__ import annotations

import re
import secrets
from pathlib import Path

from config import Settings
from crypto.kdf import Argon2Params


def make_settings(tmp_path: Path, database_url: str, **changes) -> Settings:
    base = Settings(
        env="testing",
        instance_path=tmp_path / "instance",
        secret_key=secrets.token_hex(32),
        pepper=secrets.token_bytes(32),
        database_url=database_url,
        argon2=Argon2Params.TEST,
        cookie_secure=False,
        extra={"RATELIMIT_ENABLED": False},
    )
    return base.with_overrides(**changes) if changes else base



CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1) or match.group(2)


class FormClient:
    """The Flask test client plus a post() that first fetches the page's CSRF token."""

    def __init__(self, client):
        self.client = client

    def get(self, *args, **kwargs):
        return self.client.get(*args, **kwargs)

    def post_form(self, page_url: str, data: dict, action: str | None = None, **kwargs):
        page = self.client.get(page_url)
        token = csrf_token_from(page.get_data(as_text=True))
        return self.client.post(action or page_url, data={**data, "csrf_token": token}, **kwargs)

    def __getattr__(self, name):
        return getattr(self.client, name)


HANDLER_PASSWORD = "ett långt och bra lösenord"


def seed_channels(session, settings):
    """Two channels with two handlers each, routing for both tracks and a unit."""
    from portal.accounts import create_user
    from portal.models import Channel, Membership, RoutingRule, Unit

    improvement = Channel(name="Improvement", track="obstacle")
    whistle = Channel(name="Whistleblowing", track="misconduct")
    session.add_all([improvement, whistle, Unit(name="Unit A")])
    session.flush()
    session.add_all([RoutingRule(track="obstacle", channel_id=improvement.id),
                     RoutingRule(track="misconduct", channel_id=whistle.id)])
    handlers = {}
    for username, channel in [("anna", improvement), ("bjorn", improvement),
                              ("carin", whistle), ("david", whistle)]:
        user = create_user(session, settings, username=username, display_name=username.title(),
                           password=HANDLER_PASSWORD, roles={"handler"}).user
        session.add(Membership(channel_id=channel.id, user_id=user.id))
        handlers[username] = user
    session.commit()
    return {"improvement": improvement, "whistle": whistle, "handlers": handlers}
