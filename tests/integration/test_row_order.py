"""Where a reporter's row lies in its table says nothing about when it was
written: handler replies and status changes have exact times in the audit
log, so rows stored in the order of their writing would date the reporter's
rows between them. SQLite keeps these tables in the order of their random
primary key (WITHOUT ROWID); PostgreSQL's are rewritten in that order by the
nightly purge (CLUSTER)."""
import pytest
from sqlalchemy import select, text

from portal.cli import migrate
from portal.domain.taxonomy import AUTHOR_HANDLER, AUTHOR_REPORTER, STATUS_ACKNOWLEDGED
from portal.models import Message, Report
from portal.reports import dialogue, workflow
from portal.web.db import make_engine, orderless_tables
from support import new_report, seed_channels

WRITTEN_BY_REPORTERS = {"reports", "report_answers", "messages", "status_events", "attachments",
                        "attachment_chunks", "report_keys", "exclusions", "key_grants", "used_form_tokens",
                        "server_sessions"}


def _stored_order(db_session, table):
    """The ids as the table holds them, not as any index sorts them."""
    if db_session.bind.dialect.name == "postgresql":
        return list(db_session.scalars(text(f"SELECT id FROM {table} ORDER BY ctid")))
    return list(db_session.scalars(text(f"SELECT id FROM {table} NOT INDEXED")))


def test_every_table_a_reporter_writes_to_is_orderless():
    assert set(orderless_tables()) == WRITTEN_BY_REPORTERS


def test_the_migrated_schema_can_keep_them_in_key_order(empty_database):
    """SQLite: no rowid on them after the migrations. PostgreSQL: each has the
    primary key index the purge's CLUSTER names."""
    migrate.upgrade(empty_database.url)
    engine = make_engine(empty_database.url)
    with engine.connect() as connection:
        if empty_database.backend == "sqlite":
            schema = dict(connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")).all())
            orderless = {name for name, sql in schema.items() if sql.rstrip().endswith("WITHOUT ROWID")}
        else:
            orderless = set(connection.scalars(text(
                "SELECT tablename FROM pg_indexes WHERE schemaname = current_schema() "
                "AND indexname = 'pk_' || tablename")))
            orderless &= WRITTEN_BY_REPORTERS
    engine.dispose()
    assert orderless == WRITTEN_BY_REPORTERS


@pytest.fixture
def dialogue_case(app, db_session, settings):
    """Handler and reporter taking turns, ten messages and a status change."""
    world = seed_channels(db_session, settings)
    anna = world["handlers"]["anna"]
    submitted = new_report(db_session, settings)
    report = db_session.get(Report, submitted.report_id)
    workflow.transition(db_session, report, submitted.data_key, STATUS_ACKNOWLEDGED, actor_user_id=anna.id)
    written = []
    for turn in range(10):
        author = AUTHOR_HANDLER if turn % 2 == 0 else AUTHOR_REPORTER
        message = dialogue.post_message(db_session, report, submitted.data_key, author=author, body=f"turn {turn}",
                                        author_user_id=anna.id if author == AUTHOR_HANDLER else None)
        db_session.commit()
        written.append(message.id)
    return written


def _cells_in_writing_order(database, ids: list[str]) -> list[str]:
    """The ids as SQLite's pages hold them, in the order the cells were put
    there: a page's cells are placed from its end downwards, so the cell
    with the highest offset came first (the attack of the review)."""
    data = database.file.read_bytes()
    page_size = int.from_bytes(data[16:18], "big") or 65536
    found = []
    for number in range(len(data) // page_size):
        page = data[number * page_size:(number + 1) * page_size]
        header = 100 if number == 0 else 0
        if page[header] not in (0x0A, 0x0D):  # leaf pages only
            continue
        cells = int.from_bytes(page[header + 3:header + 5], "big")
        pointers = [int.from_bytes(page[header + 8 + 2 * i:header + 10 + 2 * i], "big") for i in range(cells)]
        for offset in sorted(pointers, reverse=True):
            cell = page[offset:offset + 64]
            found += [(number, offset, i) for i in ids if i.encode() in cell]
    seen = []
    for _page, _offset, message_id in found:
        if message_id not in seen:
            seen.append(message_id)
    return seen


def test_messages_lie_in_the_order_of_their_random_ids_not_of_their_writing(app, db_session, database,
                                                                           dialogue_case):
    if db_session.bind.dialect.name == "postgresql":
        # Until the nightly rewrite, the heap holds the day's rows as written.
        assert _stored_order(db_session, "messages") == dialogue_case
    else:
        from sqlalchemy.exc import OperationalError

        with pytest.raises(OperationalError):  # no rowid to read the writing order from
            db_session.execute(text("SELECT rowid FROM messages"))
        db_session.rollback()
        db_session.close()
        app.extensions["tillit.db"].engine.dispose()  # everything checkpointed into the file
        # Control: before the nightly rewrite, the cells of the page tell the writing order.
        assert _cells_in_writing_order(database, dialogue_case) == dialogue_case
    db_session.commit()  # end the read, as a request does
    result = app.test_cli_runner().invoke(args=["portal", "purge"])
    assert result.exit_code == 0, result.output
    assert "tables rewritten in key order" in result.output
    stored = _stored_order(db_session, "messages")
    assert stored == sorted(stored)
    assert stored != dialogue_case  # the ids are random: ten in writing order would be a 1 in 3.6 million chance
    assert sorted(stored) == sorted(dialogue_case)
    if db_session.bind.dialect.name == "postgresql":
        # One transaction id for every row: xmin orders nothing.
        assert db_session.scalar(text("SELECT count(DISTINCT xmin::text) FROM messages")) == 1
    else:
        db_session.close()
        app.extensions["tillit.db"].engine.dispose()
        assert _cells_in_writing_order(database, dialogue_case) == sorted(dialogue_case)


def test_a_table_still_being_read_is_skipped_not_waited_for(app, db_session, dialogue_case, monkeypatch):
    if db_session.bind.dialect.name != "postgresql":
        assert app.test_cli_runner().invoke(args=["portal", "purge"]).exit_code == 0
        return  # SQLite has nothing to rewrite
    from portal.web import db as web_db

    monkeypatch.setattr(web_db, "REORDER_LOCK_WAIT", "200ms")
    db_session.execute(select(Message.id)).all()  # an open read of messages, as a long export holds
    result = app.test_cli_runner().invoke(args=["portal", "purge"])
    assert result.exit_code == 0, result.output
    assert "Not rewritten, as other transactions were reading them: messages." in result.output
    db_session.rollback()
