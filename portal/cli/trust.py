"""The trust anchor from the command line: making the anchor key, listing
who waits for its signature, and signing their keys with it. The anchor's
private key lives offline; the portal only knows its public key."""
from __future__ import annotations

import datetime as dt

import click

from crypto import anchor

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


@portal_cli.command("recipients")
def recipients_command() -> None:
    """List the channel members whose key the anchor has not signed (yet)."""
    waiting = statements.waiting(db.session(), current_settings())
    if not waiting:
        click.echo("Every handler's key is signed for each of their channels.")
        return
    for entry in waiting:
        state = "ready to sign" if entry.ready else "waits for the handler's first sign-in"
        click.echo(f"  {entry.user.username:<16} {entry.channel.name:<40} {entry.fingerprint}  {state}")


@portal_cli.command("sign-recipients")
@click.option("--anchor-key-file", required=True, type=click.File("r"),
              help="The anchor's private key (hex), '-' for standard input.")
@click.option("--until", "not_after", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Last day the signatures are valid (default: until the anchor key is replaced).")
@click.option("--yes", is_flag=True, help="Sign every key that is ready without asking.")
def sign_recipients_command(anchor_key_file, not_after, yes: bool) -> None:
    """Sign, with the anchor key, the keys handlers hold now, after comparing fingerprints."""
    settings = current_settings()
    private_key = key_files.read_anchor(anchor_key_file, settings)
    until = not_after.date() if isinstance(not_after, dt.datetime) else None
    signed = skipped = 0
    with db.unit_of_work() as session:
        for entry in statements.waiting(session, settings):
            if not entry.ready:
                continue
            question = (f"Sign {entry.user.display_name} ({entry.user.username}) for {entry.channel.name}, "
                        f"key fingerprint {entry.fingerprint}? Compare it with the one the handler sees")
            if not yes and not click.confirm(question, default=False):
                skipped += 1
                continue
            statement = statements.statement_for(entry.user, entry.channel.id, not_before=today(), not_after=until)
            statements.record(session, settings, entry.user, entry.channel, statement,
                              anchor.sign_statement(private_key, statement))
            signed += 1
    click.echo(f"Signed: {signed}; not signed: {skipped}.")
