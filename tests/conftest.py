"""Shared fixtures: settings, a database per test (SQLite, and PostgreSQL when
TEST_DATABASE_URL is set; TEST_BACKENDS=postgresql for PostgreSQL alone, as
CI's second pass does after a pass on SQLite), the app, and a client that
speaks CSRF."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from portal import create_app
from portal.web.db import make_engine
from portal.models import Base
from support import FormClient, make_settings

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("TEST_DATABASE_URL", "")
BACKENDS = [b for b in (os.environ.get("TEST_BACKENDS") or "sqlite,postgresql").split(",")
            if b == "sqlite" or b == "postgresql" and PG_URL]


def pytest_collection_modifyitems(items):
    """Whatever drives Chromium is a browser test, marked or not, so that
    `-m "not browser"` (make test-fast) never starts a browser."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


def _pg_url_with_schema(schema: str) -> str:
    separator = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{separator}options=-csearch_path%3D{schema}"


class TestDatabase:
    """An empty database of one backend: a fresh SQLite file, or a fresh
    PostgreSQL schema so tests stay isolated (also under xdist)."""

    def __init__(self, backend: str, tmp_path: Path):
        self.backend = backend
        self._schema = None
        if backend == "sqlite":
            self.url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
            self.file = tmp_path / "test.sqlite3"
        else:
            self._schema = f"t_{uuid.uuid4().hex[:16]}"
            admin = create_engine(PG_URL)
            with admin.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{self._schema}"'))
            admin.dispose()
            self.url = _pg_url_with_schema(self._schema)
            self.file = None

    def create_schema(self) -> None:
        engine = make_engine(self.url)
        Base.metadata.create_all(engine)
        engine.dispose()

    def drop(self) -> None:
        if self._schema:
            admin = create_engine(PG_URL)
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{self._schema}" CASCADE'))
            admin.dispose()


@pytest.fixture(params=BACKENDS)
def empty_database(request, tmp_path):
    database = TestDatabase(request.param, tmp_path)
    yield database
    database.drop()


@pytest.fixture
def database(empty_database):
    empty_database.create_schema()
    return empty_database


@pytest.fixture
def redis_url():
    """The machine's Redis (CI always has one; .ci/run sets the URL)."""
    url = os.environ.get("PORTAL_REDIS_URL")
    if not url:
        pytest.skip("PORTAL_REDIS_URL is not set: no Redis on this machine")
    return url


@pytest.fixture
def settings(tmp_path, database):
    return make_settings(tmp_path, database.url)


@pytest.fixture
def app(settings):
    application = create_app(settings)
    yield application
    application.extensions["tillit.db"].engine.dispose()


@pytest.fixture
def db_session(app):
    """The test's own session. No app context stays pushed: requests made by
    the test client then get their own context, `g` and session, as in
    production (a shared `g` would carry CSRF tokens and sessions across)."""
    session = app.extensions["tillit.db"].sessionmaker()
    yield session
    session.close()


@pytest.fixture
def client(app):
    return FormClient(app.test_client())
