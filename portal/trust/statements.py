"""Recipient statements: a handler's key receives a channel's report keys only
while a statement signed by a pinned anchor key says so, for exactly that
account, channel, public key and key version. A row a database writer adds,
or a key or membership they change, verifies against nothing and is ignored.

Signing happens with the anchor's private key, offline (`portal recipients
--export`, `python -m crypto.anchor_tool`, `portal recipients --import`);
this module verifies and lists what waits.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from crypto import anchor, keys

from .. import audit
from ..models import AuditEvent, Channel, Membership, RecipientStatement, User
from ..models.base import today


class StatementRefused(ValueError):
    """A signature that no pinned anchor key verifies, or for a key the account does not hold."""


def statement_for(user: User, channel_id: str, *, not_before: dt.date,
                  not_after: dt.date | None = None) -> anchor.RecipientStatement:
    """What the anchor is asked to sign for `user`'s current key in `channel_id`."""
    return anchor.RecipientStatement(user_id=user.id, channel_id=channel_id, public_key=bytes(user.public_key),
                                     key_version=user.key_version, not_before=not_before, not_after=not_after,
                                     display_name=user.display_name)


def _as_statement(row: RecipientStatement) -> anchor.RecipientStatement:
    return anchor.RecipientStatement(user_id=row.user_id, channel_id=row.channel_id,
                                     public_key=bytes(row.public_key), key_version=row.key_version,
                                     not_before=row.not_before, not_after=row.not_after,
                                     display_name=row.display_name or "")


def is_anchored(db: Session, settings: Settings, user: User, channel_id: str, *, on: dt.date | None = None) -> bool:
    """Whether `user`'s current key may receive `channel_id`'s report keys.

    Only an account whose key pair is its own (replaced at the first sign-in)
    can be anchored: the creator's pair is one an admin could unwrap. The
    statement also binds the name reporters see, so a database writer who
    swaps two handlers' names makes both unanchored, not each other. A
    statement for an older key version than one the anchor signed later
    (after a recovery, say) is not honoured: rolling the account back to an
    old key then needs the newer statements deleted too, and the handler's
    next sign-in refuses the rolled-back key (sign_in.KeyTampered)."""
    return bool(anchored(db, settings, [user], channel_id, on=on))


def _covered(settings: Settings, user: User, rows: list[RecipientStatement], channel_id: str, day: dt.date) -> bool:
    """is_anchored's rule over `user`'s statements."""
    current = False
    for row in rows:
        if row.key_version < user.key_version:
            continue  # for a key the account no longer holds
        if not anchor.verify_statement(settings.anchor_public_keys, _as_statement(row), row.signature, on=day):
            continue
        if row.key_version > user.key_version:
            return False  # superseded: the anchor has signed a newer key of this account
        current = current or (row.channel_id == channel_id and bytes(row.public_key) == bytes(user.public_key)
                              and (row.display_name or "") == user.display_name)
    return current


def anchored(db: Session, settings: Settings, users: list[User], channel_id: str, *,
             on: dt.date | None = None) -> list[User]:
    """The `users` is_anchored holds for, their statements read in one query
    (every report form and submission asks this of a whole channel)."""
    candidates = [u for u in users if u.is_handler and u.active and u.holds_own_keys]
    if not candidates:
        return []
    rows: dict[str, list[RecipientStatement]] = {u.id: [] for u in candidates}
    for row in db.scalars(select(RecipientStatement).where(RecipientStatement.user_id.in_(list(rows)))):
        rows[row.user_id].append(row)
    day = on or today()
    return [u for u in candidates if _covered(settings, u, rows[u.id], channel_id, day)]


@dataclass(frozen=True)
class Waiting:
    """A channel member whose current key no valid statement covers yet."""

    user: User
    channel: Channel
    fingerprint: str
    ready: bool  # the key pair is the handler's own: it can be signed now


def waiting(db: Session, settings: Settings) -> list[Waiting]:
    """Every active handler's membership that no valid statement covers."""
    rows = db.execute(select(User, Channel).join(Membership, Membership.user_id == User.id)
                      .join(Channel, Channel.id == Membership.channel_id)
                      .where(User.is_handler, User.active)
                      .order_by(Channel.name, User.display_name, User.id)).all()
    return [Waiting(user, channel, anchor.fingerprint(bytes(user.public_key)), user.holds_own_keys)
            for user, channel in rows if not is_anchored(db, settings, user, channel.id)]


# A first sign-in this soon after the account was made may have been its
# creator's, who knew the password then (the key pair is new, but whose?).
QUICK_FIRST_SIGN_IN = dt.timedelta(minutes=30)


def cautions(db: Session, user: User) -> list[str]:
    """What the anchor holder should weigh before signing the account's key,
    besides the fingerprint: whether it also administers the portal, who
    made it, and whether its first sign-in came soon after (from the audit
    log, which the database writer cannot change unnoticed)."""
    found = []
    if user.is_admin:
        found.append("also an administrator")
    created = db.scalar(select(AuditEvent).where(AuditEvent.action == "user.create", AuditEvent.target_id == user.id)
                        .order_by(AuditEvent.at).limit(1))
    if created is not None:
        creator = db.get(User, created.actor_user_id) if created.actor_user_id else None
        found.append(f"created by {creator.display_name} ({creator.username})" if creator is not None
                     else "created from the command line, by whoever runs the server")
    enrolled = db.scalar(select(AuditEvent.at).where(AuditEvent.action == "auth.enrol", AuditEvent.target_id == user.id)
                         .order_by(AuditEvent.at).limit(1))
    if enrolled is not None and user.created_at is not None and enrolled - user.created_at < QUICK_FIRST_SIGN_IN:
        minutes = max(int((enrolled - user.created_at).total_seconds() // 60), 0)
        found.append(f"first signed in {minutes} minute(s) after the account was made: whoever made it knew its "
                     "password then; ask the handler whether it was them")
    return found


def record(db: Session, settings: Settings, user: User, channel: Channel, statement: anchor.RecipientStatement,
           signature: bytes) -> RecipientStatement:
    """Store a signed statement, after checking it verifies and names the key the account holds now."""
    if statement != statement_for(user, channel.id, not_before=statement.not_before,
                                  not_after=statement.not_after) or not user.holds_own_keys:
        raise StatementRefused("the statement is not for the account's current key")
    if not anchor.verify_statement(settings.anchor_public_keys, statement, signature, on=statement.not_before):
        raise StatementRefused("no pinned anchor key verifies the signature")
    row = db.scalar(select(RecipientStatement).where(
        RecipientStatement.user_id == user.id, RecipientStatement.channel_id == channel.id,
        RecipientStatement.key_version == user.key_version))
    if row is None:
        row = RecipientStatement(user_id=user.id, channel_id=channel.id, key_version=user.key_version)
        db.add(row)
    row.public_key, row.not_before, row.not_after = statement.public_key, statement.not_before, statement.not_after
    row.display_name, row.signature = statement.display_name, signature
    db.flush()
    audit.record(db, "trust.recipient_signed", target_type="user", target_id=user.id, channel_id=channel.id,
                 key_version=user.key_version, fingerprint=anchor.fingerprint(statement.public_key))
    return row


@dataclass(frozen=True)
class KeyStatus:
    """What a handler sees of their own key: its fingerprint, to compare with
    the one the anchor holder is shown, and in which channels it is trusted."""

    fingerprint: str
    own: bool  # the key pair is the handler's own (after the first sign-in)
    trusted_in: list[Channel]
    waiting_in: list[Channel]


def key_status(db: Session, settings: Settings, user: User, private_key: bytes) -> KeyStatus:
    """The fingerprint comes from the key the handler's password unlocked, not
    from the database, so a public key swapped in the database shows up as a
    mismatch when the two fingerprints are compared before signing."""
    channels = list(db.scalars(select(Channel).join(Membership, Membership.channel_id == Channel.id)
                               .where(Membership.user_id == user.id).order_by(Channel.name)))
    trusted = [c for c in channels if is_anchored(db, settings, user, c.id)]
    return KeyStatus(anchor.fingerprint(keys.public_key_for(private_key)), user.holds_own_keys, trusted,
                     [c for c in channels if c not in trusted])
