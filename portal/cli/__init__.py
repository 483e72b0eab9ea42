"""`flask --app wsgi portal <command>`: setup (setup.py), the escrow key
(keys.py), the trust anchor (trust.py), the audit log (audit_log.py), backups
(backup.py), cron jobs (jobs.py) and demo data (demo.py). A command is one
unit of work (web/db.unit_of_work): it parses its options, calls a service,
and prints."""
from __future__ import annotations

from flask import Flask
from flask.cli import AppGroup

portal_cli = AppGroup("portal", help="Tillit administration commands.")


def register(app: Flask) -> None:
    from . import audit_log, backup, demo, jobs, keys, setup, trust  # noqa: F401  (commands register on import)

    app.cli.add_command(portal_cli)
