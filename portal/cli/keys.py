"""The offline escrow key: creating it, and granting waiting handlers the
keys of their channels' cases with it."""
from __future__ import annotations

import sys

import click

from crypto.keys import generate_keypair, public_key_for

from ..reports.grants import fulfil_with_escrow
from ..web import current_settings, db
from . import key_files, portal_cli


@portal_cli.command("escrow-keygen")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False),
              help="New file for the private key (kept offline afterwards).")
def escrow_keygen_command(out_path: str) -> None:
    """Create the escrow key pair: the private key to a new file, the public key to configure."""
    private_key, public_key = generate_keypair()
    key_files.write_new(out_path, private_key)
    click.echo(f"Private key written to {out_path}: move it offline, reports submitted from now on can be")
    click.echo("opened with it. Set this in the portal's environment:")
    click.echo(f"  PORTAL_ESCROW_PUBLIC_KEY={public_key.hex()}")


@portal_cli.command("grant-pending")
@click.option("--escrow-key-file", required=True, type=click.File("r"),
              help="The escrow private key (hex), '-' for standard input.")
def grant_pending_command(escrow_key_file) -> None:
    """Give waiting handlers the keys of their channels' cases now, with the escrow key."""
    try:
        private_key = bytes.fromhex(escrow_key_file.read().strip())
        public_key = public_key_for(private_key)
    except ValueError:
        click.echo("That is not an escrow private key (64 hexadecimal digits).", err=True)
        sys.exit(1)
    configured = current_settings().escrow_public_key
    if configured and bytes.fromhex(configured) != public_key:
        click.echo("This key does not match PORTAL_ESCROW_PUBLIC_KEY; reports wrapped for the configured key "
                   "cannot be opened with it.", err=True)
    with db.unit_of_work() as session:
        granted, left = fulfil_with_escrow(session, current_settings(), private_key)
    click.echo(f"Keys granted: {granted}; still waiting: {left} (handlers whose key the anchor has not signed "
               "yet, or reports from before the escrow key, which wait for a key holder's approval).")
