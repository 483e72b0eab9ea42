"""Alembic: upgrade from empty to head, downgrade to base, and the migrated
schema equals the models (what `alembic check` verifies)."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from portal.cli import migrate
from portal.web.db import make_engine
from portal.models import Base


def _tables(url):
    engine = make_engine(url)
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    return names


def test_upgrade_downgrade_upgrade(empty_database):
    url = empty_database.url
    migrate.upgrade(url)
    assert set(Base.metadata.tables) <= _tables(url)
    migrate.downgrade(url, "base")
    assert _tables(url) <= {"alembic_version"}
    migrate.upgrade(url)
    assert set(Base.metadata.tables) <= _tables(url)


def test_migrated_schema_matches_the_models(empty_database):
    migrate.upgrade(empty_database.url)
    engine = make_engine(empty_database.url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_cases_that_exist_get_a_readable_reference(empty_database, tmp_path):
    """Migration 0012 gives every existing case its own reference."""
    from sqlalchemy import select, text

    from portal.domain.case_reference import normalise
    from portal.models import Report
    from support import make_settings, new_report, seed_channels

    url = empty_database.url
    settings = make_settings(tmp_path, url)
    migrate.upgrade(url)
    from portal import create_app

    app = create_app(settings)
    session = app.extensions["tillit.db"].sessionmaker()
    seed_channels(session, settings)
    for _ in range(3):
        new_report(session, settings)
    session.close()
    app.extensions["tillit.db"].engine.dispose()
    engine = make_engine(url)
    from sqlalchemy.orm import Session

    migrate.downgrade(url, "0011_statistics_index")
    with engine.connect() as connection:
        assert "reference" not in {c["name"] for c in inspect(connection).get_columns("reports")}
        assert connection.execute(text("select count(*) from reports")).scalar() == 3
    migrate.upgrade(url)
    with Session(engine) as session:
        references = session.scalars(select(Report.reference)).all()
    engine.dispose()
    assert len(set(references)) == 3 and all(normalise(r) == r for r in references)
