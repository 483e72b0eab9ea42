"""A fresh PostgreSQL schema for one benchmark run, dropped afterwards."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError


class Unreachable(Exception):
    """No PostgreSQL server answers at the URL (the message says why)."""


def schema_url(url: str, schema: str) -> str:
    """`url` with `schema` as the search path of every connection."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


@contextmanager
def scratch_schema(url: str, name: str) -> Iterator[str]:
    """Create a schema on the server at `url`, print which, yield its URL,
    drop it afterwards. Unreachable if no server answers."""
    admin = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        try:
            with admin.connect() as connection:
                version = connection.execute(text("SHOW server_version")).scalar()
        except OperationalError as error:
            raise Unreachable(f"PostgreSQL at {admin.url.render_as_string(hide_password=True)}: not reachable "
                              f"({str(error.orig).splitlines()[0]})") from None
        schema = f"bench_{name}_{uuid.uuid4().hex[:12]}"
        print(f"\nPostgreSQL {version} ({admin.url.render_as_string(hide_password=True)}, schema {schema})")
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            yield schema_url(url, schema)
        finally:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        admin.dispose()
