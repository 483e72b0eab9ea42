"""Helpers for tests: settings for a test app and a CSRF-aware client."""
from __future__ import annotations

import re
import secrets
from pathlib import Path

from config import Settings
from crypto import anchor
from crypto.kdf import Argon2Params

# One trust anchor for the whole test run: pinned in every test's settings,
# its private key here, as the offline anchor holder would keep it.
TEST_ANCHOR_PRIVATE, TEST_ANCHOR_PUBLIC = anchor.generate_anchor_key()


def make_settings(tmp_path: Path, database_url: str, **changes) -> Settings:
    base = Settings(
        env="testing",
        instance_path=tmp_path / "instance",
        secret_key=secrets.token_hex(32),
        pepper=secrets.token_bytes(32),
        database_url=database_url,
        argon2=Argon2Params.TEST,
        cookie_secure=False,
        anchor_public_keys=(TEST_ANCHOR_PUBLIC,),
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


def seed_channels(session, settings, ready: bool = True):
    """Two channels with two handlers each, routing for both tracks and a unit.
    ready: the handlers are as after their first sign-in (a key pair of their
    own, under the same password) and the anchor has signed their keys;
    otherwise they are accounts as created, never signed in to."""
    from portal.staff.accounts import create_user
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
    session.flush()
    if ready:
        for user in handlers.values():
            make_own_keys(session, settings, user)
            anchor_user(session, settings, user)
    session.commit()
    return {"improvement": improvement, "whistle": whistle, "handlers": handlers}


def admin_and_viewer(session, settings):
    """An administrator and a viewer (leadership), as accounts are created."""
    from portal.staff.accounts import create_user

    admin = create_user(session, settings, username="admin", display_name="Admin",
                        password=HANDLER_PASSWORD, roles={"admin"}).user
    viewer = create_user(session, settings, username="ledning", display_name="Ledning",
                         password=HANDLER_PASSWORD, roles={"viewer"}).user
    session.commit()
    return admin, viewer


def make_own_keys(session, settings, user, password=HANDLER_PASSWORD) -> bytes:
    """What the first sign-in does to the keys, directly: a key pair of the
    handler's own (here under the same password). Returns the private key."""
    from crypto import keys
    from portal.reports.keys import move_keys_to_new_key_pair

    private_key = keys.unlock_with_password(
        password, user_id=user.id, salt=user.login_salt, verifier=user.login_verifier,
        wrapped_private_key=user.wrapped_private_key, pepper=settings.pepper, params=settings.argon2)
    if not user.holds_own_keys:
        own_key = keys.generate_keypair()[0]
        move_keys_to_new_key_pair(session, user, private_key, own_key)
        private_key = own_key
        user.login_salt, user.login_verifier, user.wrapped_private_key = keys.rewrap_for_new_password(
            private_key, password, user_id=user.id, pepper=settings.pepper, params=settings.argon2)
        _, user.recovery_wrapped_private_key = keys.new_recovery_wrap(private_key, user_id=user.id)
    session.flush()
    return private_key


def anchor_user(session, settings, user, private_key=None):
    """What the anchor holder does with `portal sign-recipients`: sign the
    user's current key for each of their channels."""
    from sqlalchemy import select

    from portal.models import Channel, Membership
    from portal.models.base import today
    from portal.trust import statements

    for channel_id in session.scalars(select(Membership.channel_id).where(Membership.user_id == user.id)):
        statement = statements.statement_for(user, channel_id, not_before=today())
        statements.record(session, settings, user, session.get(Channel, channel_id), statement,
                          anchor.sign_statement(private_key or TEST_ANCHOR_PRIVATE, statement))
    session.flush()


def enrol_totp(session, settings, user, password=HANDLER_PASSWORD, *, anchored: bool = True) -> bytes:
    """What the enrolment page does, directly: a TOTP secret and, at the first
    sign-in, a key pair of the handler's own (here under the same password),
    which the anchor then signs unless anchored=False."""
    from crypto import totp

    was_own = user.holds_own_keys
    private_key = make_own_keys(session, settings, user, password)
    if anchored and not was_own:
        anchor_user(session, settings, user)
    secret = totp.new_secret()
    user.totp_secret_ct = totp.wrap_secret(secret, private_key, user_id=user.id)
    user.totp_last_step = None
    session.commit()
    return secret


def fresh_code(session, user, secret: bytes) -> str:
    """A code the server has not seen yet: the current step, or the next one
    (accepted for clock drift) when the current one was used already."""
    import time

    from crypto import totp

    session.expire_all()
    last = session.get(type(user), user.id).totp_last_step or 0
    return totp.code_for_step(secret, max(totp.step_at(time.time()), last + 1))


def staff_login(client, session, user, secret: bytes, password=HANDLER_PASSWORD):
    return client.post_form("/handler/login", {"username": user.username, "password": password,
                                               "code": fresh_code(session, user, secret)})


def signed_in(app, session, settings, user) -> FormClient:
    """A test client signed in as `user` (two-step sign-in set up first)."""
    client = FormClient(app.test_client())
    assert staff_login(client, session, user, enrol_totp(session, settings, user)).status_code == 302
    return client


def new_report(session, settings, track="obstacle", category="it_systems", exclude=(), **extra):
    """A report submitted straight through the submission service (no HTTP)."""
    from portal.reports import submission

    answers = {"today": "Three systems", "change": "One system"} if track == "obstacle" else \
        {"what": "Invoices paid twice", "who": "Supplier X"}
    submitted = submission.submit(session, settings, submission.NewReport(
        track=track, category=category, answers=answers, excluded_user_ids=set(exclude), **extra))
    session.commit()
    return submitted


def open_report(session, settings, receipt):
    """(report, data key) that a receipt opens, as the reporter's follow-up does."""
    from portal.reports.access import open_with_receipt

    case = open_with_receipt(session, settings, receipt)
    return case.report, case.dek


def run_at_once(threads, timeout: float = 120) -> None:
    """Start every thread, then wait for each (a race between requests)."""
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
