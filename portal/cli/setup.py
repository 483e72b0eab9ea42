"""Setting up: migrating the database, the first admin, staff accounts and
channel membership."""
from __future__ import annotations

import sys

import click
from flask_babel import force_locale
from sqlalchemy import select

from ..domain.passwords import PasswordPolicyError
from ..domain.taxonomy import ROLE_ADMIN, ROLES
from ..models import Channel, User
from ..reports.grants import add_member
from ..staff.accounts import DisplayNameRefused, UsernameTaken, create_user
from ..web import current_settings, db
from ..web.forms import password_policy_message
from . import migrate, portal_cli


def _create_user_interactively(username: str, name: str, roles: set[str], email: str | None,
                               password: str | None) -> None:
    while True:
        secret = password or click.prompt("Password (12+ characters)", hide_input=True,
                                          confirmation_prompt=True)
        try:
            with db.unit_of_work() as session:
                created = create_user(session, current_settings(), username=username, display_name=name,
                                      password=secret, roles=roles, email=email)
            break
        except PasswordPolicyError as error:
            with force_locale("en"):
                click.echo(password_policy_message(error.reason), err=True)
            if password is not None:
                sys.exit(1)
        except UsernameTaken:
            click.echo(f"The username {username!r} is taken.", err=True)
            sys.exit(1)
        except DisplayNameRefused:
            click.echo("That name looks like an active colleague's, or mixes alphabets in a word: reporters "
                       "and the anchor's holder could take one for the other. Choose another.", err=True)
            sys.exit(1)
    click.echo(f"Created {created.user.username} ({', '.join(created.user.roles)}).")
    click.echo("Recovery key (shown once; store it offline, it restores access if the password is lost):")
    click.echo(f"  {created.recovery_key}")


@portal_cli.command("init")
@click.option("--no-admin", is_flag=True, help="Only migrate; do not ask for a first admin.")
def init_command(no_admin: bool) -> None:
    """Migrate the database to the newest schema and create the first admin."""
    migrate.upgrade(current_settings().database_url)
    click.echo("Database is up to date.")
    if no_admin:
        return
    if db.session().scalar(select(User.id).where(User.is_admin)):
        click.echo("An admin exists already.")
        return
    username = click.prompt("First admin's username")
    name = click.prompt("Full name")
    _create_user_interactively(username, name, {ROLE_ADMIN}, None, None)


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


@portal_cli.command("add-member")
@click.option("--username", required=True)
@click.option("--channel", "channel_name", required=True, help="The channel's name.")
def add_member_command(username: str, channel_name: str) -> None:
    """Add a handler to a channel; its existing cases wait for a key holder's approval."""
    with db.unit_of_work() as session:
        user = session.scalar(select(User).where(User.username == username.strip().lower()))
        channel = session.scalar(select(Channel).where(Channel.name == channel_name))
        if user is None or channel is None:
            click.echo("No such user or channel.", err=True)
            sys.exit(1)
        queued = add_member(session, channel, user)
    click.echo(f"{user.username} added to {channel.name}; {queued} case(s) wait until a colleague who holds their "
               "keys approves (Access requests), and new reports until the anchor signs the handler's key.")
