"""`portal backup FILE`: a copy of a SQLite database that opens with the same
keys and rows, is consistent while the portal keeps writing, is created 0600
and never replaces a file unless --force is given; on PostgreSQL it points
to pg_dump and writes nothing.

The SQLite tests run on a SQLite database of their own also when the suite
runs on PostgreSQL (TEST_DATABASE_URL): the command is SQLite's."""
import os
import sqlite3
import stat
import threading

import pytest
from sqlalchemy import func, select

from portal import audit, create_app
from portal.models import AuditEvent, Unit
from support import make_settings, new_report, open_report, seed_channels

ON_SQLITE = pytest.mark.parametrize("empty_database", ["sqlite"], indirect=True)


def backup(app, *args):
    return app.test_cli_runner().invoke(args=["portal", "backup", *map(str, args)])


def rows_of(path):
    """Every table's rows, sorted, read with sqlite3 alone."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [name for name, in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        return {table: sorted(connection.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)
                for table in tables}
    finally:
        connection.close()


def app_on(settings, path):
    """The portal with the same keys (pepper, secret key) on another database file."""
    return create_app(settings.with_overrides(database_url=f"sqlite:///{path}"))


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@ON_SQLITE
def test_the_copy_opens_with_the_same_rows(app, db_session, settings, database, tmp_path):
    seed_channels(db_session, settings)
    submitted = new_report(db_session, settings)
    target = tmp_path / "copy.sqlite3"
    result = backup(app, target)
    assert result.exit_code == 0, result.output
    assert f"Wrote {target}: {target.stat().st_size} bytes" in result.output
    assert rows_of(target) == rows_of(database.file)
    assert rows_of(target)["reports"] and rows_of(target)["audit_events"]
    # A single file: it opens on its own, with the portal's keys.
    assert not (tmp_path / "copy.sqlite3-wal").exists()
    restored = app_on(settings, target)
    session = restored.extensions["tillit.db"].sessionmaker()
    try:
        report, _key = open_report(session, settings, submitted.receipt)
        assert report.id == submitted.report_id
        assert audit.verify(session) is None
    finally:
        session.close()
        restored.extensions["tillit.db"].engine.dispose()


@ON_SQLITE
def test_the_copy_is_0600_and_replaces_a_file_only_with_force(app, db_session, database, tmp_path):
    audit.record(db_session, "case.view", target_type="report", target_id="r1")
    db_session.commit()
    previous = os.umask(0)  # the mode does not come from the umask
    try:
        fresh = tmp_path / "fresh.sqlite3"
        assert backup(app, fresh).exit_code == 0
        assert mode_of(fresh) == 0o600
        kept = tmp_path / "kept.sqlite3"
        kept.write_bytes(b"an older backup")
        kept.chmod(0o644)
        refused = backup(app, kept)
        assert refused.exit_code != 0 and "--force" in refused.output
        assert kept.read_bytes() == b"an older backup"
        forced = backup(app, kept, "--force")
        assert forced.exit_code == 0, forced.output
        assert mode_of(kept) == 0o600
        assert rows_of(kept) == rows_of(database.file)
    finally:
        os.umask(previous)
    # Nothing half-written is left beside them.
    assert sorted(path.name for path in tmp_path.iterdir() if "partial" in path.name) == []


@ON_SQLITE
def test_a_missing_directory_is_said_so(app, database, tmp_path):
    result = backup(app, tmp_path / "missing" / "copy.sqlite3")
    assert result.exit_code != 0 and "does not exist" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@ON_SQLITE
def test_a_failed_backup_leaves_no_file(app, database, tmp_path, monkeypatch):
    from portal.cli import backup as backup_module

    def broken(_source, _temporary):
        raise OSError("disk full")

    monkeypatch.setattr(backup_module, "_copy", broken)
    target = tmp_path / "copy.sqlite3"
    assert backup(app, target).exit_code != 0
    assert list(tmp_path.glob("*copy.sqlite3*")) == []


@ON_SQLITE
def test_the_copy_is_consistent_while_the_portal_writes(app, db_session, settings, database, tmp_path):
    """A second connection commits in a loop during the backups: every
    transaction appends an audit event and adds a unit, so a copy that is one
    snapshot holds as many of each, and its audit chains verify."""
    padding = sqlite3.connect(database.file)  # a few MiB, so that a backup takes a while
    with padding:
        padding.execute("CREATE TABLE padding (b BLOB)")
        padding.executemany("INSERT INTO padding VALUES (?)", ((os.urandom(4096),) for _ in range(2000)))
    padding.close()
    committed, stop, failures = [0], threading.Event(), []

    def write():
        session = app.extensions["tillit.db"].sessionmaker()
        try:
            while not stop.is_set():
                number = committed[0] + 1
                audit.record(session, "unit.create", target_type="unit", target_id=f"w{number}")
                session.add(Unit(name=f"w{number}"))
                session.commit()
                committed[0] = number
        except Exception as error:  # reported by the test, not lost in the thread
            failures.append(error)
        finally:
            session.close()

    writer = threading.Thread(target=write)
    writer.start()
    copies = []
    try:
        while committed[0] < 5 and writer.is_alive():
            stop.wait(0.01)
        for number in range(3):
            target = tmp_path / f"copy{number}.sqlite3"
            before = committed[0]
            result = backup(app, target)
            copies.append((target, before, committed[0]))
            assert result.exit_code == 0, result.output
    finally:
        stop.set()
        writer.join()
    assert failures == []
    assert sum(after - before for _target, before, after in copies) > 0  # writes happened meanwhile
    for target, before, after in copies:
        restored = app_on(settings, target)
        session = restored.extensions["tillit.db"].sessionmaker()
        try:
            events = session.scalar(select(func.count()).select_from(AuditEvent)
                                    .where(AuditEvent.action == "unit.create"))
            units = session.scalar(select(func.count()).select_from(Unit).where(Unit.name.like("w%")))
            assert events == units  # no transaction half in the copy
            assert before <= units <= after + 1  # as of a commit during its backup
            assert audit.verify(session) is None
        finally:
            session.close()
            restored.extensions["tillit.db"].engine.dispose()


def test_on_postgresql_it_points_to_pg_dump_and_writes_nothing(tmp_path):
    """The command reads only the URL, so this needs no server; with
    TEST_DATABASE_URL set it is that server's."""
    url = os.environ.get("TEST_DATABASE_URL") or "postgresql+psycopg://tillit@db.invalid/tillit"
    app = create_app(make_settings(tmp_path, url))
    target = tmp_path / "copy.dump"
    result = backup(app, target)
    assert result.exit_code != 0
    assert "pg_dump" in result.output and "docs/deployment.md" in result.output
    assert not target.exists()
