"""The trust anchor from the command line: making the anchor key, listing
who waits for its signature, and signing their keys with it. The anchor's
private key lives offline; the portal only knows its public key."""
from __future__ import annotations

import datetime as dt
import json

import click

from crypto import anchor, anchor_tool

from ..models import Channel, User
from ..models.base import today
from ..trust import statements
from ..web import current_settings, db
from . import key_files, portal_cli


@portal_cli.command("anchor-keygen")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False),
              help="New file for the anchor's private key (kept offline afterwards).")
def anchor_keygen_command(out_path: str) -> None:
    """Create the trust anchor: the private key to a new file, the public key to configure."""
    private_key, public_key = anchor.generate_anchor_key()
    key_files.write_new(out_path, private_key)
    click.echo(f"Anchor private key written to {out_path}: keep it offline; it decides whose keys receive reports.")
    click.echo("Set this in the portal's environment (several, comma-separated, while rotating):")
    click.echo(f"  PORTAL_ANCHOR_PUBLIC_KEYS={public_key.hex()}")


VALID_DAYS = 365  # a statement is renewed yearly unless --until says otherwise


def _until(not_after) -> dt.date:
    return not_after.date() if isinstance(not_after, dt.datetime) else today() + dt.timedelta(days=VALID_DAYS)


def _describe(entry) -> str:
    """What the anchor holder must check: the ids the statement binds and the
    fingerprint (names come from the database and prove nothing), and what
    should make them ask first (statements.cautions)."""
    show = anchor_tool.printable
    described = (f"{show(entry.user.display_name)} ({show(entry.user.username)}) in {show(entry.channel.name)}: "
                 f"account id {show(entry.user.id)}, channel id {show(entry.channel.id)}, key version "
                 f"{entry.user.key_version}, fingerprint {entry.fingerprint}")
    warnings = statements.cautions(db.session(), entry.user)
    return described + "".join(f"\n    CAUTION: {show(warning)}" for warning in warnings)


@portal_cli.command("recipients")
@click.option("--export", "export_file", type=click.File("x"), default=None,
              help="Write the keys ready to sign to this new file, for signing offline (python -m crypto.anchor_tool).")
@click.option("--until", "not_after", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help=f"Last day the exported statements are valid (default: in {VALID_DAYS} days).")
@click.option("--import", "import_file", type=click.File("r"), default=None,
              help="Record the statements the offline anchor tool signed.")
def recipients_command(export_file, not_after, import_file) -> None:
    """List, export for offline signing, or import the keys the anchor has not signed."""
    settings = current_settings()
    if import_file is not None:
        _import(settings, import_file)
        return
    waiting = statements.waiting(db.session(), settings)
    if not waiting:
        click.echo("Every handler's key is signed for each of their channels.")
        return
    for entry in waiting:
        state = "ready to sign" if entry.ready else "waits for the handler's first sign-in"
        click.echo(f"  {_describe(entry)}: {state}")
    if export_file is not None:
        until, exported = _until(not_after), 0
        for entry in waiting:
            if entry.ready:
                statement = statements.statement_for(entry.user, entry.channel.id, not_before=today(), not_after=until)
                export_file.write(json.dumps(anchor_tool.record_for(
                    statement, username=entry.user.username, channel_name=entry.channel.name)) + "\n")
                exported += 1
        click.echo(f"Exported {exported} statement(s) to sign offline.")


def _import(settings, import_file) -> None:
    recorded = refused = 0
    with db.unit_of_work() as session:
        for line in import_file:
            if not line.strip():
                continue
            record = json.loads(line)
            user, channel = session.get(User, record["user_id"]), session.get(Channel, record["channel_id"])
            try:
                statement = anchor_tool.statement_from_record(record)
                if user is None or channel is None:
                    raise statements.StatementRefused("no such account or channel")
                statements.record(session, settings, user, channel, statement, bytes.fromhex(record["signature"]))
                recorded += 1
            except (statements.StatementRefused, ValueError, KeyError) as refusal:
                click.echo(f"Not recorded ({refusal}): account id {record['user_id']}, channel id "
                           f"{record['channel_id']}", err=True)
                refused += 1
    click.echo(f"Recorded: {recorded}; refused: {refused}.")


@portal_cli.command("sign-recipients")
@click.option("--anchor-key-file", required=True, type=click.File("r"),
              help="The anchor's private key (hex), '-' for standard input.")
@click.option("--until", "not_after", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help=f"Last day the signatures are valid (default: in {VALID_DAYS} days).")
def sign_recipients_command(anchor_key_file, not_after) -> None:
    """Sign, with the anchor key on this machine, each key handlers hold now, asking each time.
    Signing offline (recipients --export, python -m crypto.anchor_tool, recipients --import)
    keeps the anchor key away from the server."""
    settings = current_settings()
    private_key = key_files.read_anchor(anchor_key_file, settings)
    until = _until(not_after)
    signed = skipped = 0
    with db.unit_of_work() as session:
        for entry in statements.waiting(session, settings):
            if not entry.ready:
                continue
            if not click.confirm(f"Sign {_describe(entry)}? Compare the fingerprint with the one the handler "
                                 "sees", default=False):
                skipped += 1
                continue
            statement = statements.statement_for(entry.user, entry.channel.id, not_before=today(), not_after=until)
            statements.record(session, settings, entry.user, entry.channel, statement,
                              anchor.sign_statement(private_key, statement))
            signed += 1
    click.echo(f"Signed: {signed}; not signed: {skipped}.")
