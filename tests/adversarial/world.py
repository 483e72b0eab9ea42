"""One portal with someone in every role and something in every place, for
the attack suite: a signed-in client per role, the ids every route takes,
and a snapshot of the database to compare before and after a request."""
from __future__ import annotations

import io
from dataclasses import dataclass, field

from sqlalchemy import inspect, select, text
from werkzeug.datastructures import FileStorage

from portal.models import Base, Channel, RoutingRule, Unit
from portal.reports import access, dialogue, stories, work
from support import (
    HANDLER_PASSWORD,
    FormClient,
    admin_and_viewer,
    enrol_totp,
    new_report,
    seed_channels,
    staff_login,
)

ROLES = ("anonymous", "reporter", "handler", "outsider", "admin", "viewer")
# What records that a page was seen, not a change anybody asked for: the
# audit log, a session's sliding expiry and re-sealed blob, and a message's
# read flag, set when the other side's page shows it (a GET from another
# site carries no cookie: they are SameSite=Strict).
NOT_STATE = {"audit_events", "audit_heads"}
SEEN = {"server_sessions": {"expires_at", "sealed"}, "messages": {"read_by_handler", "read_by_reporter"}}


@dataclass
class World:
    clients: dict[str, FormClient]
    values: dict[str, str]
    receipt: str
    users: dict = field(default_factory=dict)

    def url(self, rule) -> str:
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<{name}>", self.values[name]).replace(f"<path:{name}>", self.values[name])
        return path


def build(app, db_session, settings) -> World:
    seeded = seed_channels(db_session, settings)
    anna, bjorn, carin = (seeded["handlers"][n] for n in ("anna", "bjorn", "carin"))
    admin, viewer = admin_and_viewer(db_session, settings)
    secrets = {user.username: enrol_totp(db_session, settings, user) for user in (anna, carin, admin, viewer)}

    submitted = new_report(db_session, settings, publish_consent=True)
    anna_key = _private_key(settings, anna)
    case = access.open_for_handler(db_session, anna, anna_key, submitted.report_id)
    reporter_case = access.open_with_receipt(db_session, settings, submitted.receipt)
    dialogue.reporter_reply(db_session, settings, reporter_case, "From the reporter",
                            [FileStorage(io.BytesIO(b"reporter file"), filename="r.txt")])
    handler_message = dialogue.post_message(db_session, case.report, case.dek, author="handler", body="Reply",
                                            author_user_id=anna.id, allowed_types=settings.allowed_upload_types,
                                            uploads=[FileStorage(io.BytesIO(b"handler file"), filename="h.txt")])
    work.add_note(db_session, anna, case, "A note")
    db_session.commit()
    attachment_id = _attachment_of(db_session, handler_message.id)

    closed = new_report(db_session, settings, publish_consent=True)
    closed_case = access.open_for_handler(db_session, anna, anna_key, closed.report_id)
    work.change_status(db_session, anna, closed_case, "acknowledged")
    story = work.close(db_session, anna, closed_case, "removed", hours_saved=10,
                       story=stories.StoryText("A title", "A story", "sv"))
    db_session.commit()

    clients = {"anonymous": FormClient(app.test_client())}
    reporter = FormClient(app.test_client())
    assert reporter.post_form("/follow-up", {"receipt": submitted.receipt}).status_code == 302
    clients["reporter"] = reporter
    for role, user in (("handler", anna), ("outsider", carin), ("admin", admin), ("viewer", viewer)):
        client = FormClient(app.test_client())
        assert staff_login(client, db_session, user, secrets[user.username]).status_code == 302
        clients[role] = client
    values = {"report_id": submitted.report_id, "attachment_id": attachment_id, "action": "acknowledge",
              "user_id": bjorn.id, "channel_id": seeded["improvement"].id, "track": "obstacle",
              "rule_id": db_session.scalar(select(RoutingRule.id).limit(1)),
              "unit_id": db_session.scalar(select(Unit.id).limit(1)),
              "story_id": story.id, "message_id": handler_message.id, "filename": "tillit.css"}
    assert all(values.values()) and db_session.get(Channel, values["channel_id"])
    return World(clients, values, submitted.receipt, {"anna": anna, "bjorn": bjorn, "admin": admin})


def _private_key(settings, user):
    from crypto import keys

    return keys.unlock_with_password(
        HANDLER_PASSWORD, user_id=user.id, salt=user.login_salt, verifier=user.login_verifier,
        wrapped_private_key=user.wrapped_private_key, pepper=settings.pepper, params=settings.argon2)


def _attachment_of(db_session, message_id):
    from portal.models import Attachment

    return db_session.scalar(select(Attachment.id).where(Attachment.message_id == message_id))


def snapshot(db_session) -> dict:
    """Every row of every table but NOT_STATE, in primary-key order."""
    db_session.expire_all()
    db_session.rollback()
    found = {}
    for table in Base.metadata.sorted_tables:
        if table.name in NOT_STATE:
            continue
        columns = [c.name for c in table.columns if c.name not in SEEN.get(table.name, ())]
        order = ", ".join(c.name for c in inspect(table).primary_key) or columns[0]
        rows = db_session.execute(text(f"SELECT {', '.join(columns)} FROM {table.name} ORDER BY {order}")).all()
        found[table.name] = [tuple(row) for row in rows]
    db_session.rollback()
    return found


def changed_tables(before: dict, after: dict) -> list[str]:
    return [name for name in before if before[name] != after[name]]
