"""Declarative base, naming convention and id generation shared by all models."""
from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names so Alembic autogenerate and downgrades work on
# SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID_LENGTH = 22

# For the tables a reporter writes to (and staff too, at times the audit log
# gives to the second): SQLite then keeps the rows in the order of their
# random primary key instead of a rowid that counts insertions, so where a
# reporter's row lies says nothing about when it was written next to staff
# rows (docs/crypto.md, 8). PostgreSQL's heap is reordered by the purge job.
ORDERLESS = {"sqlite_with_rowid": False}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def new_id() -> str:
    """A random, non-sequential id: ids reveal neither order nor volume."""
    return secrets.token_urlsafe(16)  # 22 characters, 128 bits


def utcnow() -> dt.datetime:
    """Timezone-naive UTC, for handler-side events only (never reporter-side)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def today() -> dt.date:
    """Day precision: the only precision stored for reporter-side events."""
    return dt.datetime.now(dt.UTC).date()


def start_of_today() -> dt.datetime:
    """today() as a date-time column value: midnight, no time of day."""
    return dt.datetime.combine(today(), dt.time())


def begin_writing(session) -> None:
    """On SQLite, begin the session's transaction now, with the write lock
    (BEGIN IMMEDIATE), as the first INSERT or UPDATE would a moment later.
    The sqlite3 module begins a transaction only before a write: a SAVEPOINT
    issued first opens one of its own, whose RELEASE commits it, apart from
    the rest of the request; and a read before the first write may see a
    row another connection is about to replace (SQLite ignores FOR UPDATE).
    Other databases lock rows: nothing to do."""
    connection = session.connection()
    if connection.dialect.name == "sqlite" and not connection.connection.driver_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
