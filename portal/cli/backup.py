"""A consistent copy of a SQLite database while the portal runs, through
sqlite3's online backup API. PostgreSQL is backed up with pg_dump
(docs/deployment.md, Backups).

The copy is taken in one backup step: one read transaction, so it is the
database as of one commit, and in WAL mode writers go on meanwhile (a backup
in several steps would restart at every write by another connection, and
might never finish on a busy portal). It holds case content as ciphertext
only, but the clear fields and the audit log too: it is created 0600 and
never replaces a file unless --force is given."""
from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
import tempfile
from pathlib import Path

import click
from sqlalchemy.engine import make_url

from ..web import current_settings
from . import portal_cli

FILE_MODE = 0o600


def _sqlite_path(database_url: str) -> Path | None:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def _claim(target: Path, force: bool) -> bool:
    """Make sure `target` may be written; without --force, claim the name
    (created empty, 0600) so that nothing else takes it meanwhile. Returns
    whether the name was claimed here (to be removed if the backup fails)."""
    if force:
        if target.is_dir():
            raise click.ClickException(f"{target} is a directory.")
        return False
    try:
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        raise click.ClickException(f"{target} exists; nothing written (--force replaces it).") from None
    return True


def _copy(source: Path, temporary: Path) -> None:
    """The online backup into `temporary`, then made a single file (no WAL)."""
    # mode=rw: a missing database is an error here, not a new empty one.
    origin = sqlite3.connect(f"{source.resolve().as_uri()}?mode=rw", uri=True, timeout=60)
    try:
        copy = sqlite3.connect(temporary)
        try:
            origin.backup(copy)  # pages=-1: every page in one step, one snapshot
            copy.execute("PRAGMA journal_mode=DELETE")  # a self-contained file, readable on its own
            problems = [row[0] for row in copy.execute("PRAGMA quick_check")]
            if problems != ["ok"]:
                raise click.ClickException(f"the copy does not check: {problems[0]}")
        finally:
            copy.close()
    finally:
        origin.close()


def _row_counts(path: Path) -> list[tuple[str, int]]:
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        tables = [name for name, in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        # Table names from sqlite_master of the copy just written, quoted.
        counts = [f'SELECT count(*) FROM "{table}"' for table in tables]  # nosec B608
        return [(table, connection.execute(sql).fetchone()[0]) for table, sql in zip(tables, counts)]
    finally:
        connection.close()


@portal_cli.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
def backup_command(file: Path, force: bool) -> None:
    """Write a consistent copy of the SQLite database to FILE (mode 0600), safe while the portal runs."""
    database_url = current_settings().database_url
    backend = make_url(database_url).get_backend_name()
    if backend == "postgresql":
        click.echo("The database is PostgreSQL: back it up with pg_dump -Fc (and restore with pg_restore), "
                   "as docs/deployment.md (Backups) describes. Nothing written.", err=True)
        sys.exit(1)
    source = _sqlite_path(database_url)
    if source is None:
        click.echo(f"portal backup copies a SQLite database file; this one is {backend}. Nothing written.",
                   err=True)
        sys.exit(1)
    if not source.is_file():
        raise click.ClickException(f"the database {source} does not exist.")
    if not file.parent.is_dir():
        raise click.ClickException(f"the directory {file.parent} does not exist; nothing written.")
    claimed = _claim(file, force)
    # Written beside FILE and moved over it once complete, so a failed
    # backup never leaves half a file under its name (nor replaces a good one).
    handle, name = tempfile.mkstemp(prefix=f".{file.name}.", suffix=".partial", dir=file.parent)
    os.close(handle)  # mkstemp creates it 0600
    temporary = Path(name)
    try:
        _copy(source, temporary)
        os.chmod(temporary, FILE_MODE)
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, file)
    except BaseException:
        for leftover in (temporary, Path(f"{temporary}-journal"), *([file] if claimed else [])):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
        raise
    counts = _row_counts(file)
    click.echo(f"Wrote {file}: {file.stat().st_size} bytes, mode 0600, {len(counts)} tables. Rows per table:")
    for table, rows in counts:
        click.echo(f"  {table:<28} {rows:>9}")
