"""Private keys on the command line: written once to a new 0600 file (to be
moved offline), and read back from such a file when a command needs one."""
from __future__ import annotations

import os
import sys

import click

from config import Settings
from crypto import anchor


def write_new(out_path: str, private_key: bytes) -> None:
    """The key as hex in a new file only its owner can read; never overwrites."""
    try:
        fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        click.echo(f"{out_path} exists; not overwritten.", err=True)
        sys.exit(1)
    with os.fdopen(fd, "w") as out:
        out.write(private_key.hex() + "\n")


def read_anchor(key_file, settings: Settings) -> bytes:
    """The anchor's private key from `key_file`; exits unless it is one and its public key is pinned."""
    try:
        private_key = bytes.fromhex(key_file.read().strip())
        public_key = anchor.public_key_for(private_key)
    except ValueError:
        click.echo("That is not an anchor private key (64 hexadecimal digits).", err=True)
        sys.exit(1)
    if public_key not in settings.anchor_public_keys:
        click.echo("This anchor key is not pinned in PORTAL_ANCHOR_PUBLIC_KEYS; its signatures would count for "
                   "nothing.", err=True)
        sys.exit(1)
    return private_key
