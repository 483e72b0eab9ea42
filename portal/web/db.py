"""Engine, request session and unit of work, kept in app.extensions (no globals).

A request is one unit of work: views and services use `session()` and never
commit; the session is committed once the response is ready, and rolled back
when the request ends in an error page (`discard`, called by errors.py). A
CLI command is one unit of work too (`unit_of_work`).
"""
from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from flask import Flask, current_app, g
from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

EXTENSION_KEY = "tillit.db"


def _private_file(url: str) -> None:
    """Create a SQLite database file readable by its owner only, before
    SQLite does: it makes the -wal and -shm files with the database's own
    mode, and would make the database 0644 under the usual umask (issue 15)."""
    path = make_url(url).database
    if not path or path == ":memory:" or Path(path).exists() or not Path(path).parent.is_dir():
        return  # a missing folder stays an error of its own (health check: unavailable)
    with suppress(FileExistsError):  # another process made it just now
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        _private_file(url)
        # timeout: a writer waits for another's transaction (a report with
        # large files takes seconds) instead of failing after sqlite3's 5 s.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            # Overwrite deleted content so crypto-shredded rows leave no
            # ciphertext behind in free pages.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


class Database:
    def __init__(self, url: str, *, audit_key: bytes | None = None):
        self.engine = make_engine(url)
        # Every session carries the audit log's MAC key (portal/audit.py):
        # the key is derived from the pepper and never stored.
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False, info={"audit_key": audit_key})

    def ping(self) -> bool:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True


def init_app(app: Flask, url: str, *, audit_key: bytes) -> Database:
    database = Database(url, audit_key=audit_key)
    app.extensions[EXTENSION_KEY] = database
    app.after_request(_commit_request)
    app.teardown_appcontext(_close_session)
    return database


def database() -> Database:
    return current_app.extensions[EXTENSION_KEY]


def session() -> Session:
    """The request's (or command's) database session, opened on first use."""
    if "db_session" not in g:
        g.db_session = database().sessionmaker()
    return g.db_session


def discard() -> None:
    """Roll back what the request changed; it ends in an error page."""
    db_session = g.get("db_session")
    if db_session is not None:
        with suppress(SQLAlchemyError):  # a broken connection is replaced at the next checkout
            db_session.rollback()


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """One CLI command: committed when it returns, rolled back if it raises."""
    db_session = session()
    try:
        yield db_session
    except BaseException:
        db_session.rollback()
        raise
    db_session.commit()


WAL_EMPTIED, WAL_BUSY, NOT_SQLITE = "emptied", "busy", "not_sqlite"


def compact_after_delete(attempts: int = 5, pause: float = 2.0) -> str:
    """After a purge on SQLite: copy the write-ahead log into the database
    and truncate it, so that no page written before the deletion stays in
    the log (secure_delete has zeroed the database's own copy). A reader
    holding an old snapshot (a backup, a long export, an sqlite3 shell)
    keeps the log from being emptied: then WAL_BUSY, after a few tries, and
    the caller must say so (review finding: it said "emptied" while the
    purged case was still in the -wal file). NOT_SQLITE on another
    database, whose docs/deployment.md says what VACUUM does."""
    engine = database().engine
    if engine.dialect.name != "sqlite":
        return NOT_SQLITE
    with engine.connect() as connection:
        # A reader is waited for here, in short tries, not for the 60 s a writer waits.
        waits = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
        connection.exec_driver_sql(f"PRAGMA busy_timeout={int(pause * 1000)}")
        try:
            for attempt in range(attempts):
                busy, _pages, _copied = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
                if not busy:
                    return WAL_EMPTIED
                if attempt + 1 < attempts:
                    time.sleep(pause)
        finally:
            connection.exec_driver_sql(f"PRAGMA busy_timeout={int(waits)}")
    return WAL_BUSY


def orderless_tables() -> list[str]:
    """The tables whose rows must not lie in the order they were written
    (models/base.py ORDERLESS), parents first."""
    from ..models import Base

    return [table.name for table in Base.metadata.sorted_tables
            if table.dialect_options["sqlite"].get("with_rowid") is False]


REORDER_LOCK_WAIT = "5s"


def reorder_orderless_tables() -> tuple[list[str], list[str]]:
    """Rewrite the orderless tables so that nothing in them keeps the order
    in which rows were written, beside the staff rows whose times the audit
    log gives (docs/crypto.md, "Where a row lies"). (rewritten, skipped).

    SQLite: VACUUM. WITHOUT ROWID keeps rows in key order, but within a page
    SQLite places each new row below the previous one, so cell offsets still
    told the writing order (review finding); VACUUM rebuilds every page in
    key order. Skipped while another connection reads or writes.

    PostgreSQL: per table, every row is rewritten in one transaction (so they
    all carry that transaction's id as xmin: CLUSTER alone kept each row's
    own, which orders them as well as a clock; review finding), then CLUSTER
    lays them out in key order and drops the dead copies. A table another
    transaction still holds after REORDER_LOCK_WAIT is skipped rather than
    waited for, since a waiting rewrite holds up every request behind it.
    Each table is locked while it is rewritten: the nightly purge runs this."""
    engine = database().engine
    tables = orderless_tables()
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA busy_timeout=5000")
            try:
                connection.exec_driver_sql("VACUUM")
            except OperationalError:
                return [], tables
        return tables, []
    if engine.dialect.name != "postgresql":
        return [], []
    from ..models import Base

    done, skipped = [], []
    with engine.connect() as connection:
        connection.exec_driver_sql(f"SET lock_timeout = '{REORDER_LOCK_WAIT}'")
        for table in tables:
            column = next(iter(Base.metadata.tables[table].primary_key.columns)).name
            # Names from the models' metadata, quoted: no input reaches them.
            rewrite = f'UPDATE "{table}" SET "{column}" = "{column}"'  # nosec B608
            try:
                connection.exec_driver_sql(rewrite)
                connection.commit()
                connection.exec_driver_sql(f'CLUSTER "{table}" USING "pk_{table}"')
                connection.commit()  # one lock at a time
                done.append(table)
            except OperationalError:
                connection.rollback()
                skipped.append(table)
    return done, skipped


def commit_timestamps_kept() -> bool:
    """PostgreSQL's track_commit_timestamp gives every row's writing time
    away (pg_xact_commit_timestamp(xmin)); the purge warns while it is on."""
    engine = database().engine
    if engine.dialect.name != "postgresql":
        return False
    with engine.connect() as connection:
        return connection.exec_driver_sql("SHOW track_commit_timestamp").scalar() == "on"


def _commit_request(response):
    # Runs before a streamed body is sent: a download is audited before its
    # first byte leaves, and streaming reads in a transaction of its own.
    db_session = g.get("db_session")
    if db_session is None:
        return response
    try:
        db_session.commit()
    except SQLAlchemyError as error:
        # Not raised on: Flask would log the error's message, which holds the
        # SQL and its values (ids that name a case). Nothing was saved.
        from . import errors

        errors.log_unexpected(error)
        discard()
        return current_app.make_response(errors.page(500))
    return response


def _close_session(_exc) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()
