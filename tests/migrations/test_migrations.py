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
