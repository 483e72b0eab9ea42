"""The audit log from the command line: verifying its chains and the
anchor's signed heads, and signing where it ends now."""
from __future__ import annotations

import datetime as dt
import json
import sys

import click

from crypto import anchor

from .. import audit
from ..domain import audit_chain
from ..web import current_settings, db
from . import key_files, portal_cli


@portal_cli.group("audit")
def audit_group() -> None:
    """Verify the audit log, or sign its heads with the anchor key."""


# What `verify` says of each break the chains show (domain/audit_chain.py).
BREAKS = {
    audit_chain.CHANGED: "changed: its MAC does not match its fields (edited, or moved here from another "
                         "lane or seq)",
    audit_chain.MISSING: "missing: removed, or renumbered away",
    audit_chain.OUT_OF_ORDER: "out of order: it does not link to the event before it (reordered, or moved)",
    audit_chain.EARLIER: "dated before the event before it in its lane (slipped in)",
    audit_chain.MISPLACED: "a seq below 1, which is never written",
    audit_chain.UNKEYED: "unkeyed after keyed events or outside lane 0, which is never written so",
    audit_chain.LEGACY_HEAD: "the keyed events do not start where the pinned PORTAL_AUDIT_LEGACY_HEAD ends",
    audit_chain.NO_KEYED_START: "its keyed events are missing (removed, or the lane rewritten as unkeyed)",
}
HEAD_DIFFERENCES = {
    "missing": "was removed (events it covers were changed or removed)",
    "changed": "has another hash (events it covers were changed or removed)",
    "behind": "is dated before the signing (events were added behind it)",
}


def _where(lane: int, seq: int | None, last: int | None = None) -> str:
    if seq is None:
        return f"lane {lane}"
    if last is not None and last != seq:
        return f"lane {lane}, events {seq} to {last}"
    return f"lane {lane}, event {seq}"


def _chain_problems(found) -> list[str]:
    problems = []
    for broken in found:
        if broken.unpinned_legacy is not None:
            problems.append("lane 0 starts with events written before the log was keyed. If this installation "
                            "is that old and its log was not tampered with, pin their last hash in the "
                            f"environment: PORTAL_AUDIT_LEGACY_HEAD={broken.unpinned_legacy.hex()}")
        else:
            problems.append(f"{_where(broken.lane, broken.seq, broken.last_missing)}: {BREAKS[broken.problem]}")
    return problems


def _head_problems(name: str, differences) -> list[str]:
    return [f"{name}: {_where(d.lane, d.seq)} {HEAD_DIFFERENCES[d.problem]}" for d in differences]


@audit_group.command("verify")
@click.option("--heads", "heads_file", type=click.File("r"), default=None,
              help="Signed heads kept outside the database (the lines `portal audit sign --record` wrote).")
def verify_command(heads_file) -> None:
    """Check every chain of the audit log and every signed head; exit 1 if anything fails.

    Each broken place is named by lane and event (seq). Removing the newest
    events of a lane leaves an intact chain: only a signed head that covers
    them tells, so sign heads regularly and keep copies outside the database."""
    settings, session = current_settings(), db.session()
    problems = _chain_problems(audit.breaks(session, settings.audit_legacy_head))
    checks = audit.check_heads(session, settings.anchor_public_keys)
    signed = []  # (signed at, heads) of every head an anchor key signed
    for check in checks:
        name = f"signed head of {check.head.signed_at:%Y-%m-%d %H:%M}"
        if not check.signed:
            problems.append(f"{name}: no pinned anchor key signed it")
            continue
        problems += _head_problems(name, check.differences)
        signed.append((check.head.signed_at, check.heads))
    for number, line in enumerate(heads_file or [], start=1):
        record = json.loads(line)
        heads = [(lane, seq, bytes.fromhex(digest)) for lane, seq, digest in record["heads"]]
        if not anchor.verify_audit_head(settings.anchor_public_keys, heads, record["signed_at"],
                                        bytes.fromhex(record["signature"])):
            problems.append(f"kept head {number}: no pinned anchor key signed it")
            continue
        signed_at = dt.datetime.fromisoformat(record["signed_at"])
        problems += _head_problems(f"kept head {number}", audit.head_differences(session, heads, signed_at))
        signed.append((signed_at, heads))
    uncovered = audit.newer_than(session, max(signed, key=lambda item: item[0])[1] if signed else [])
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        sys.exit(1)
    click.echo(f"The audit log verifies: every lane, and {len(checks)} signed head(s).")
    if uncovered:
        click.echo(f"{uncovered} event(s) are newer than the newest signed head: removing some of them from the "
                   "end of their lane would go unnoticed until a head covers them (portal audit sign).")
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
