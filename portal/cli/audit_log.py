"""The audit log from the command line: verifying its chains and the
anchor's signed heads, and signing where it ends now."""
from __future__ import annotations

import datetime as dt
import json
import sys

import click

from crypto import anchor

from .. import audit
from ..web import current_settings, db
from . import key_files, portal_cli


@portal_cli.group("audit")
def audit_group() -> None:
    """Verify the audit log, or sign its heads with the anchor key."""


@audit_group.command("verify")
@click.option("--heads", "heads_file", type=click.File("r"), default=None,
              help="Signed heads kept outside the database (the lines `portal audit sign --record` wrote).")
def verify_command(heads_file) -> None:
    """Check every chain of the audit log and every signed head; exit 1 if anything fails."""
    settings, session = current_settings(), db.session()
    problems = []
    broken = audit.verify(session, settings.audit_legacy_head)
    if broken is not None and broken.unpinned_legacy is not None:
        problems.append("lane 0 starts with events written before the log was keyed. If this installation is "
                        "that old and its log was not tampered with, pin their last hash in the environment: "
                        f"PORTAL_AUDIT_LEGACY_HEAD={broken.unpinned_legacy.hex()}")
    elif broken is not None:
        where = f"event {broken.seq}" if broken.seq is not None else "its keyed events"
        problems.append(f"lane {broken.lane}: the chain breaks at {where}")
    checks = audit.check_heads(session, settings.anchor_public_keys)
    for check in checks:
        if not check.signed:
            problems.append(f"signed head of {check.head.signed_at:%Y-%m-%d %H:%M}: no pinned anchor key signed it")
        elif not check.present:
            problems.append(f"signed head of {check.head.signed_at:%Y-%m-%d %H:%M}: events it covers were changed or "
                            "removed, or events were added behind it")
    for number, line in enumerate(heads_file or [], start=1):
        record = json.loads(line)
        heads = [(lane, seq, bytes.fromhex(digest)) for lane, seq, digest in record["heads"]]
        if not anchor.verify_audit_head(settings.anchor_public_keys, heads, record["signed_at"],
                                        bytes.fromhex(record["signature"])):
            problems.append(f"kept head {number}: no pinned anchor key signed it")
        elif not audit.head_holds(session, heads, dt.datetime.fromisoformat(record["signed_at"])):
            problems.append(f"kept head {number}: events it covers were changed or removed, or events were "
                            "added behind it")
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        sys.exit(1)
    click.echo(f"The audit log verifies: every lane, and {len(checks)} signed head(s).")
    if heads_file is None:
        click.echo("Signed heads were read from the database only; pass --heads with the copies kept outside it.")


@audit_group.command("sign")
@click.option("--anchor-key-file", required=True, type=click.File("r"),
              help="The anchor's private key (hex), '-' for standard input.")
@click.option("--record", "record_file", type=click.File("a"), default=None,
              help="Also append the signed head to this file, kept outside the database.")
def sign_command(anchor_key_file, record_file) -> None:
    """Sign where every lane of the audit log ends now (after verifying it)."""
    private_key = key_files.read_anchor(anchor_key_file, current_settings())
    with db.unit_of_work() as session:
        if audit.verify(session, current_settings().audit_legacy_head) is not None:
            click.echo("The audit log does not verify (portal audit verify says where): nothing signed.", err=True)
            sys.exit(1)
        head = audit.sign_head(session, private_key)
        line = json.dumps({"signed_at": audit.signed_time(head.signed_at), "heads": json.loads(head.heads),
                           "signature": head.signature.hex()})
    if record_file is not None:
        record_file.write(line + "\n")
    click.echo("Signed the audit log's head; keep this line outside the database too:")
    click.echo(line)
