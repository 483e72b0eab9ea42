"""The SQLite database and its -wal and -shm files are the owner's alone
(issue 15: the development database was created 0644, world-readable)."""
from __future__ import annotations

import os
import stat

from sqlalchemy import text

from portal.web.db import make_engine


def test_a_new_sqlite_database_and_its_log_are_readable_by_the_owner_only(tmp_path):
    (tmp_path / "instance").mkdir()
    path = tmp_path / "instance" / "tillit.sqlite3"
    old_umask = os.umask(0o022)  # the usual one, under which SQLite alone would make 0644
    try:
        engine = make_engine(f"sqlite:///{path}")
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (x)"))
            connection.execute(text("INSERT INTO t VALUES (1)"))
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in path.parent.iterdir()}
        engine.dispose()
    finally:
        os.umask(old_umask)
    assert {"tillit.sqlite3", "tillit.sqlite3-wal", "tillit.sqlite3-shm"} <= set(modes)
    assert set(modes.values()) == {0o600}, modes


def test_an_existing_database_keeps_its_mode(tmp_path):
    path = tmp_path / "kept.sqlite3"
    path.touch(mode=0o640)
    os.chmod(path, 0o640)
    make_engine(f"sqlite:///{path}").dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # the operator's choice is left alone
