"""Limits on the reporter side, with the rate limiter switched on as in
production (the shared test settings switch it off): guessing receipts is
stopped with a translated 429 page, the limiter's storage holds no client
address, and the honeypot field stops bots without creating anything."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import secrets
from types import SimpleNamespace

import limits
import pytest
from sqlalchemy import func, select

from portal.web import rate_limits as security
from portal.models import Answer, Attachment, AttachmentChunk, Report, ReportKey, ServerSession
from portal.web.rate_limits import GLOBAL_LOGIN_LIMIT, RECEIPT_LIMIT
from support import csrf_token_from, make_settings, seed_channels

ADDRESS = "203.0.113.77"
OTHER_ADDRESS = "198.51.100.9"
WRONG = "0000-0000-0000-0000-0000-0000-0000-0000"
OBSTACLE = {"category": "reporting_burden", "chain_level": "management", "today": "Same numbers, three systems.",
            "change": "One system.", "time_lost": "1to3"}
MISCONDUCT = {"category": "fraud", "what": "Invoices paid twice.", "when": "2026-09", "who": "", "evidence": "",
              "contact": ""}


class FrozenDate(dt.date):
    """The limiter key changes at midnight; keep one day for the whole test
    (only portal.security sees it: datetime.date itself is left alone)."""

    @classmethod
    def today(cls):
        return cls(2026, 3, 14)


@pytest.fixture
def settings(tmp_path, database):
    return make_settings(tmp_path, database.url, RATELIMIT_ENABLED=True)


@pytest.fixture
def seeded(app, db_session, settings, monkeypatch):
    monkeypatch.setattr(security, "dt", SimpleNamespace(date=FrozenDate))
    return seed_channels(db_session, settings)


def environ(address: str) -> dict:
    return {"REMOTE_ADDR": address}


def submit(client, track: str, fields: dict, address: str = ADDRESS, files=None):
    query = f"category={fields['category']}" + (f"&chain_level={fields['chain_level']}"
                                                 if "chain_level" in fields else "")
    page = client.get(f"/report/{track}?{query}", headers={"Accept-Language": "en"},
                      environ_base=environ(address)).get_data(as_text=True)
    data = {**fields, "csrf_token": csrf_token_from(page),
            "nonce": re.search(r'name="nonce"[^>]*value="([^"]*)"', page).group(1),
            "channel_shown": re.search(r'name="channel_shown"[^>]*value="([^"]*)"', page).group(1)}
    if files:
        data["attachments"] = files
    return client.post(f"/report/{track}", data=data, content_type="multipart/form-data",
                       headers={"Accept-Language": "en"}, environ_base=environ(address)), data


def try_receipt(client, receipt: str, address: str = ADDRESS, lang: str = "en"):
    return client.post_form("/follow-up", {"receipt": receipt}, headers={"Accept-Language": lang},
                            environ_base=environ(address))


def storage_keys(app) -> set[str]:
    """Every key the limiter's storage holds, whatever the backend keeps them in."""
    storage = security.limiter.storage
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    keys = set()
    for name in ("storage", "expirations", "events", "locks"):
        keys |= {str(k) for k in getattr(storage, name, {})}
    return keys


def test_guessing_receipts_is_stopped_and_the_limiter_stores_no_address(app, client, seeded):
    allowed = limits.parse(RECEIPT_LIMIT).amount
    response, _ = submit(client, "obstacle", OBSTACLE)
    assert response.status_code == 302
    page = client.get("/report/sent", headers={"Accept-Language": "en"}).get_data(as_text=True)
    receipt = re.search(r'<p class="receipt"[^>]*><code>([^<]+)</code>', page).group(1)

    for attempt in range(allowed):
        response = try_receipt(client, WRONG)
        assert response.status_code == 400, attempt
        assert "No report could be opened with that code" in response.get_data(as_text=True)

    refused = try_receipt(client, WRONG)
    assert refused.status_code == 429
    html = refused.get_data(as_text=True)
    assert "<h1>Too many attempts</h1>" in html
    assert "Too many attempts in a short time. Wait a few minutes and try again." in html
    assert refused.headers["Cache-Control"].startswith("no-store")
    swedish = try_receipt(client, WRONG, lang="sv")
    assert swedish.status_code == 429
    assert "<h1>För många försök</h1>" in swedish.get_data(as_text=True)
    # Once limited, even the right code waits: no oracle for a guesser.
    assert try_receipt(client, receipt).status_code == 429
    # Looking at the page (GET) is not limited, and nobody else is affected.
    assert client.get("/follow-up", environ_base=environ(ADDRESS)).status_code == 200
    other = FormlessClient(app)
    assert try_receipt(other, receipt, address=OTHER_ADDRESS).status_code == 302

    keys = storage_keys(app)
    assert len(keys) >= 3  # submission and receipt limits, two clients
    # No address in any key: not in clear, not hex-encoded, not as a plain (unkeyed) hash.
    for address in (ADDRESS, OTHER_ADDRESS):
        forms = {address, address.encode().hex(), hashlib.sha256(address.encode()).hexdigest()[:32],
                 hashlib.md5(address.encode()).hexdigest(), address.replace(".", "-"), address.replace(".", "_")}
        assert not [(k, f) for k in keys for f in forms if f in k]
    # Control: the limiter did count this client, under the keyed hash.
    with app.test_request_context("/follow-up", method="POST", environ_base=environ(ADDRESS)):
        own_key = security._anonymous_rate_key()
    counted = [k for k in keys if own_key in k and "follow_up" in k]
    assert counted, keys
    assert security.limiter.storage.get(counted[0]) >= allowed + 1


def test_limiter_key_depends_on_address_and_day_and_on_nothing_stored(app, seeded, monkeypatch):
    def key(address):
        with app.test_request_context("/", environ_base=environ(address)):
            return security._anonymous_rate_key()

    today = key(ADDRESS)
    assert today == key(ADDRESS) and today != key(OTHER_ADDRESS)
    assert ADDRESS not in today and len(today) == 32

    class NextDay(dt.date):
        @classmethod
        def today(cls):
            return cls(2026, 3, 15)

    monkeypatch.setattr(security, "dt", SimpleNamespace(date=NextDay))
    assert key(ADDRESS) != today  # stops linking a client after a day
    monkeypatch.setattr(security, "dt", SimpleNamespace(date=FrozenDate))
    # Not derived from the secret key (or anything else stored): the key of
    # the day is random, so a process started afresh, holding the same
    # secret key and database, cannot recompute the hashes in the counters.
    assert key(ADDRESS) != today  # yesterday's key was forgotten at the change of day
    again = key(ADDRESS)
    app.config["SECRET_KEY"] = "another secret key of some length......"
    assert key(ADDRESS) == again
    monkeypatch.setattr(security, "_day_keys", {})
    assert key(ADDRESS) != again


def test_nodes_sharing_a_redis_share_the_key_and_the_counts(tmp_path, database, redis_url, monkeypatch):
    """Two app instances (two nodes) on one Redis: one client, one count; the
    key of the day lives in Redis only until the day is over."""
    import redis

    from portal import create_app

    server = redis.Redis.from_url(redis_url)
    # An address of this run's own, so parallel runs do not share counters.
    address = f"198.18.{secrets.randbelow(256)}.{secrets.randbelow(256)}"
    nodes = [create_app(make_settings(tmp_path / str(n), database.url, redis_url=redis_url,
                                      RATELIMIT_ENABLED=True)) for n in range(2)]
    try:
        keys = []
        for node in nodes:
            monkeypatch.setattr(security, "_day_keys", {})  # each node has its own memory
            with node.test_request_context("/", environ_base=environ(address)):
                keys.append(security._anonymous_rate_key())
        assert keys[0] == keys[1]
        stored = server.keys("tillit:rate-key:*")
        assert stored and all(0 < server.ttl(name) <= 2 * 24 * 3600 for name in stored)
        allowed = limits.parse(RECEIPT_LIMIT).amount
        statuses = [try_receipt(FormlessClient(nodes[n % 2]), WRONG, address=address).status_code
                    for n in range(allowed + 1)]
        assert statuses == [400] * allowed + [429]
    finally:
        for node in nodes:
            node.extensions["tillit.db"].engine.dispose()


class FormlessClient:
    """A second browser: its own cookies, same app."""

    def __init__(self, app):
        self.client = app.test_client()

    def post_form(self, page_url, data, **kwargs):
        page = self.client.get(page_url, environ_base=kwargs.get("environ_base"))
        token = csrf_token_from(page.get_data(as_text=True))
        return self.client.post(page_url, data={**data, "csrf_token": token}, **kwargs)


def count(db_session, model) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("track, fields", [("obstacle", OBSTACLE), ("misconduct", MISCONDUCT)])
def test_filled_honeypot_creates_no_report(client, seeded, db_session, track, fields):
    response, data = submit(client, track, {**fields, "website": "http://spam.example"},
                            files=[(io.BytesIO(b"bot payload\n"), "spam.txt")])
    assert response.status_code == 400
    assert "Leave this field empty." in response.get_data(as_text=True)
    for model in (Report, Answer, ReportKey, Attachment, AttachmentChunk, ServerSession):
        assert count(db_session, model) == 0, model.__name__
    # No receipt is waiting to be shown.
    gone = client.get("/report/sent", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<p class="receipt"' not in gone
    # Control: the same form with the honeypot left empty goes through.
    data["website"] = ""
    data["attachments"] = [(io.BytesIO(b"real evidence\n"), "evidence.txt")]
    sent = client.post(f"/report/{track}", data=data, content_type="multipart/form-data",
                       headers={"Accept-Language": "en"}, environ_base=environ(ADDRESS))
    assert sent.status_code == 302
    assert count(db_session, Report) == 1 and count(db_session, Attachment) == 1


def test_junk_does_not_use_up_the_allowance_and_a_limited_report_keeps_its_text(app, client, seeded, db_session):
    """Everybody behind one address (an onion service's clients all share
    one) shares the submission limit: junk posts must not use it up, and a
    report over the limit comes back with everything typed in it."""
    from portal.web.rate_limits import SUBMIT_LIMIT

    allowed = limits.parse(SUBMIT_LIMIT).amount
    for _ in range(allowed + 5):
        junk = client.post("/report/obstacle", data={"today": "spam"}, environ_base=environ(ADDRESS))
        assert junk.status_code in (400, 409)
    response, _ = submit(client, "obstacle", OBSTACLE)
    assert response.status_code == 302  # still allowed

    for _ in range(allowed - 1):
        assert submit(client, "obstacle", OBSTACLE)[0].status_code == 302
    reports = db_session.scalar(select(func.count()).select_from(Report))
    limited, _ = submit(client, "obstacle", {**OBSTACLE, "today": "Kept after the limit."})
    html = limited.get_data(as_text=True)
    assert limited.status_code == 429
    assert "Kept after the limit." in html and "Wait a few minutes and send it again" in html
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(Report)) == reports


def test_a_limited_reply_keeps_its_text(app, client, seeded):
    from portal.web import rate_limits as views
    from support import FormClient

    response, _ = submit(client, "obstacle", OBSTACLE)
    page = client.get("/report/sent", headers={"Accept-Language": "en"}).get_data(as_text=True)
    receipt = re.search(r'<p class="receipt"[^>]*><code>([^<]+)</code>', page).group(1)
    reporter = FormClient(client)
    assert try_receipt(client, receipt).status_code == 302
    allowed = limits.parse(views.SUBMIT_LIMIT).amount
    for n in range(allowed):  # replies have an allowance of their own
        sent = reporter.post_form("/follow-up/case", {"body": f"Message {n}"}, action="/follow-up/reply",
                                  environ_base=environ(ADDRESS))
        assert sent.status_code == 302
    limited = reporter.post_form("/follow-up/case", {"body": "Kept after the limit."}, action="/follow-up/reply",
                                 headers={"Accept-Language": "en"}, environ_base=environ(ADDRESS))
    assert limited.status_code == 429
    html = limited.get_data(as_text=True)
    assert "Kept after the limit." in html and "Wait a few minutes and send it again" in html


def test_over_the_limit_an_unknown_track_is_still_a_404(app, client, seeded):
    from portal.web.rate_limits import SUBMIT_LIMIT

    for _ in range(limits.parse(SUBMIT_LIMIT).amount):
        assert submit(client, "obstacle", OBSTACLE)[0].status_code == 302
    assert submit(client, "obstacle", OBSTACLE)[0].status_code == 429
    unknown = client.post("/report/nonsense", data={}, environ_base=environ(ADDRESS))
    assert unknown.status_code in (404, 429)


def test_invalid_posts_are_limited_too_and_the_refused_report_keeps_its_text(app, client, seeded, db_session):
    """An invalid post still costs parsing, encrypting its files and trying to
    clean them, so every post counts towards a wider limit of its own."""
    from portal.web.rate_limits import FORM_POST_LIMIT

    for _ in range(limits.parse(FORM_POST_LIMIT).amount):
        junk = client.post("/report/obstacle", data={"today": "spam"}, environ_base=environ(ADDRESS))
        assert junk.status_code in (400, 409)
    limited, _ = submit(client, "obstacle", {**OBSTACLE, "today": "Kept after the post limit."})
    html = limited.get_data(as_text=True)
    assert limited.status_code == 429
    assert "Kept after the post limit." in html and "Wait a few minutes and send it again" in html
    assert count(db_session, Report) == 0
    # Another connection is not affected.
    other, _ = submit(FormlessClient(app).client, "obstacle", OBSTACLE, address=OTHER_ADDRESS)
    assert other.status_code == 302


@pytest.mark.parametrize("spellings", [
    ["2001:db8:1:2::1", "2001:db8:1:2::b", "2001:db8:1:2:ffff:ffff:ffff:ffff"],  # one /64
    ["2001:db8::7", "2001:0db8:0000:0000:0000:0000:0000:0007", "2001:DB8::7", "2001:db8:0:0::7"],
    ["192.0.2.9", "::ffff:192.0.2.9", "::ffff:c000:209"],
])
def test_the_spellings_and_addresses_of_one_client_share_one_allowance(app, seeded, spellings):
    def key(address):
        with app.test_request_context("/", environ_base=environ(address)):
            return security._anonymous_rate_key()

    assert len({key(address) for address in spellings}) == 1


def test_receipt_guesses_from_one_ipv6_network_are_limited_together(app, client, seeded):
    allowed = limits.parse(RECEIPT_LIMIT).amount
    statuses = [try_receipt(client, WRONG, address=f"2001:db8:1:2::{n:x}").status_code for n in range(allowed + 1)]
    assert statuses == [400] * allowed + [429]
    assert try_receipt(FormlessClient(app), WRONG, address="2001:db8:1:3::1").status_code == 400  # next /64


def test_a_redis_that_writes_to_disk_is_refused_in_production(tmp_path, database, redis_url, monkeypatch):
    import redis

    from config import ConfigError
    from portal.web import rate_limits

    server = redis.Redis.from_url(redis_url)
    assert rate_limits.redis_keeps_a_copy(redis_url) is (bool(server.config_get("save")["save"].strip())
                                                        or server.config_get("appendonly")["appendonly"] == "yes")
    monkeypatch.setattr(rate_limits, "redis_keeps_a_copy", lambda url: True)
    warned = []
    logger = SimpleNamespace(warning=lambda *args: warned.append(args))
    with pytest.raises(ConfigError, match="writes its data to disk"):
        rate_limits.check_redis(redis_url, production=True, logger=logger)
    rate_limits.check_redis(redis_url, production=False, logger=logger)  # development: a warning only
    assert warned and "writes its data to disk" in warned[0][1]


def test_a_load_tests_factor_raises_every_limit_and_production_refuses_it(tmp_path, database, monkeypatch):
    """PORTAL_RATE_LIMIT_FACTOR: configuration, not code, lets a load test
    send more than one client may; a deployment cannot keep it on."""
    from config import ConfigError, check_production
    from portal import create_app

    monkeypatch.setattr(security, "dt", SimpleNamespace(date=FrozenDate))
    raised = create_app(make_settings(tmp_path, database.url, rate_limit_factor=3, RATELIMIT_ENABLED=True))
    try:
        session = raised.extensions["tillit.db"].sessionmaker()
        seed_channels(session, raised.config["TILLIT"])
        session.close()
        client = FormlessClient(raised)
        allowed = 3 * limits.parse(RECEIPT_LIMIT).amount
        address = "198.18.200.7"
        statuses = [try_receipt(client, WRONG, address=address).status_code for _ in range(allowed + 1)]
        assert statuses == [400] * allowed + [429]
        with raised.test_request_context("/"):
            assert security.global_login_limit() == f"{3 * limits.parse(GLOBAL_LOGIN_LIMIT).amount}/1 minute"
    finally:
        raised.extensions["tillit.db"].engine.dispose()
    production = make_settings(tmp_path, database.url, env="production", cookie_secure=True, rate_limit_factor=3)
    with pytest.raises(ConfigError, match="PORTAL_RATE_LIMIT_FACTOR"):
        check_production(production)


def test_busy_refusals_do_not_use_up_the_allowance(app, client, seeded, db_session):
    """Review finding: the submission limit was counted before the Argon2id
    slot was asked for, so a reporter sending again and again while the
    portal was busy, as the busy page tells them to, was then refused for an
    hour. It is counted only once a slot is held."""
    import dataclasses

    from portal.reports import derivations
    from portal.web.rate_limits import SUBMIT_LIMIT

    app.config["TILLIT"] = dataclasses.replace(app.config["TILLIT"], argon2_at_once=1, argon2_wait_seconds=0)
    only_slot = derivations._semaphore(1)
    allowed = limits.parse(SUBMIT_LIMIT).amount
    assert only_slot.acquire(timeout=5)  # other submissions hold every slot
    try:
        for _ in range(allowed):
            busy, _ = submit(client, "obstacle", {**OBSTACLE, "today": "Kept while busy."})
            assert busy.status_code == 503 and busy.headers["Retry-After"] == "60"
            assert "Kept while busy." in busy.get_data(as_text=True)
    finally:
        only_slot.release()
    for _ in range(allowed):
        assert submit(client, "obstacle", OBSTACLE)[0].status_code == 302
    assert submit(client, "obstacle", OBSTACLE)[0].status_code == 429  # and the limit still holds
    assert db_session.scalar(select(func.count()).select_from(Report)) == allowed
