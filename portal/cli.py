"""`flask --app wsgi portal <command>`: setup and operations."""
from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from . import db, migrate
from .accounts import UsernameTaken, create_user
from .domain.passwords import PasswordPolicyError
from .domain.taxonomy import ROLES
from .models import User

portal_cli = AppGroup("portal", help="Tillit administration commands.")

POLICY_TEXT = {
    "too_short": "The password must be at least 12 characters.",
    "too_long": "The password is too long.",
    "common": "The password is too common or contains the username.",
}


def _settings():
    return current_app.config["TILLIT"]


def _create_user_interactively(username: str, name: str, roles: set[str], email: str | None,
                               password: str | None) -> None:
    session = db.session()
    while True:
        secret = password or click.prompt("Password (12+ characters)", hide_input=True,
                                          confirmation_prompt=True)
        try:
            created = create_user(session, _settings(), username=username, display_name=name,
                                  password=secret, roles=roles, email=email)
            break
        except PasswordPolicyError as error:
            click.echo(POLICY_TEXT[error.reason], err=True)
            if password is not None:
                sys.exit(1)
        except UsernameTaken:
            click.echo(f"The username {username!r} is taken.", err=True)
            sys.exit(1)
    session.commit()
    click.echo(f"Created {created.user.username} ({', '.join(created.user.roles)}).")
    click.echo("Recovery key (shown once; store it offline, it restores access if the password is lost):")
    click.echo(f"  {created.recovery_key}")


@portal_cli.command("init")
@click.option("--no-admin", is_flag=True, help="Only migrate; do not ask for a first admin.")
def init_command(no_admin: bool) -> None:
    """Migrate the database to the newest schema and create the first admin."""
    migrate.upgrade(_settings().database_url)
    click.echo("Database is up to date.")
    if no_admin:
        return
    if db.session().scalar(select(User.id).where(User.is_admin)):
        click.echo("An admin exists already.")
        return
    username = click.prompt("First admin's username")
    name = click.prompt("Full name")
    _create_user_interactively(username, name, {"admin"}, None, None)


@portal_cli.command("create-user")
@click.option("--username", required=True)
@click.option("--name", "display_name", required=True, help="Name shown to colleagues and, for handlers, to reporters.")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES))
@click.option("--email", default=None, help="Address for content-free notification digests.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user_command(username: str, display_name: str, roles: tuple[str, ...], email: str | None,
                        password_stdin: bool) -> None:
    """Create a staff account with its key pair; prints the recovery key once."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    _create_user_interactively(username, display_name, set(roles), email, password)


@portal_cli.command("demo")
def demo_command() -> None:
    """Seed realistic demo data once (channels, staff, cases, stories)."""
    from .demo import seed_demo

    seed_demo(db.session(), _settings(), click.echo)


@portal_cli.command("add-member")
@click.option("--username", required=True)
@click.option("--channel", "channel_name", required=True, help="The channel's name.")
def add_member_command(username: str, channel_name: str) -> None:
    """Add a handler to a channel; its existing cases wait for a key holder's next sign-in."""
    from .grants import add_member
    from .models import Channel

    session = db.session()
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    channel = session.scalar(select(Channel).where(Channel.name == channel_name))
    if user is None or channel is None:
        click.echo("No such user or channel.", err=True)
        sys.exit(1)
    queued = add_member(session, channel, user)
    session.commit()
    click.echo(f"{user.username} added to {channel.name}; {queued} case(s) wait for a key holder to sign in.")


@portal_cli.command("escrow-keygen")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False),
              help="New file for the private key (kept offline afterwards).")
def escrow_keygen_command(out_path: str) -> None:
    """Create the escrow key pair: the private key to a new file, the public key to configure."""
    import os

    from crypto.keys import generate_keypair

    private_key, public_key = generate_keypair()
    try:
        fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        click.echo(f"{out_path} exists; not overwritten.", err=True)
        sys.exit(1)
    with os.fdopen(fd, "w") as out:
        out.write(private_key.hex() + "\n")
    click.echo(f"Private key written to {out_path}: move it offline, reports submitted from now on can be")
    click.echo("opened with it. Set this in the portal's environment:")
    click.echo(f"  PORTAL_ESCROW_PUBLIC_KEY={public_key.hex()}")


@portal_cli.command("grant-pending")
@click.option("--escrow-key-file", required=True, type=click.File("r"),
              help="The escrow private key (hex), '-' for standard input.")
def grant_pending_command(escrow_key_file) -> None:
    """Give waiting handlers the keys of their channels' cases now, with the escrow key."""
    from crypto.keys import public_key_for

    from .grants import fulfil_with_escrow

    try:
        private_key = bytes.fromhex(escrow_key_file.read().strip())
        public_key = public_key_for(private_key)
    except ValueError:
        click.echo("That is not an escrow private key (64 hexadecimal digits).", err=True)
        sys.exit(1)
    configured = _settings().escrow_public_key
    if configured and bytes.fromhex(configured) != public_key:
        click.echo("This key does not match PORTAL_ESCROW_PUBLIC_KEY; reports wrapped for the configured key "
                   "cannot be opened with it.", err=True)
    session = db.session()
    granted, left = fulfil_with_escrow(session, private_key)
    session.commit()
    click.echo(f"Keys granted: {granted}; still waiting: {left} (handlers who have not signed in yet, or "
               "reports from before the escrow key, which wait for a key holder's sign-in).")


@portal_cli.command("notify")
def notify_command() -> None:
    """Email each handler a content-free digest of cases needing action (cron)."""
    from .notify import send_digests

    settings = _settings()
    if not settings.smtp_host:
        click.echo("PORTAL_SMTP_HOST is not set; nothing sent.", err=True)
        sys.exit(1)
    outcome = send_digests(db.session(), settings)
    click.echo(f"Digests sent: {outcome.sent}, skipped: {outcome.skipped}, failed: {outcome.failed}.")
    if outcome.failed:
        sys.exit(1)


@portal_cli.command("purge")
def purge_command() -> None:
    """Delete expired server-side sessions and old form tokens (cron)."""
    from . import form_tokens
    from .sealed_session import purge_expired

    removed = purge_expired(db.session())
    tokens = form_tokens.purge(db.session())
    db.session().commit()
    click.echo(f"Expired sessions removed: {removed}. Old form tokens removed: {tokens}.")


def register(app: Flask) -> None:
    app.cli.add_command(portal_cli)
