"""Sign recipient statements offline, on the machine where the anchor key
lives: `python -m crypto.anchor_tool --key KEY --in TO_SIGN --out SIGNED`.

TO_SIGN is what `flask --app wsgi portal recipients --export FILE` wrote on
the server: one JSON statement a line. Each is shown with the ids it binds
and its key's fingerprint (compare it with the one the handler reads on
their account page; names come from the server and prove nothing), and is
signed only when you answer yes. SIGNED goes back with `portal recipients
--import SIGNED`. Needs only Python and the `cryptography` package.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import unicodedata

from . import anchor


def statement_from_record(record: dict) -> anchor.RecipientStatement:
    """The statement one exported line binds (the names beside it are only shown)."""
    return anchor.RecipientStatement(
        user_id=record["user_id"], channel_id=record["channel_id"], public_key=bytes.fromhex(record["public_key"]),
        key_version=int(record["key_version"]), not_before=dt.date.fromisoformat(record["not_before"]),
        not_after=dt.date.fromisoformat(record["not_after"]) if record.get("not_after") else None,
        display_name=record["display_name"])


def printable(text: object) -> str:
    """`text` with every control or format character (newlines, escape
    sequences, bidirectional overrides) shown as a visible escape."""
    return "".join(char if unicodedata.category(char)[0] not in "CZ" or char == " " else
                   f"\\u{ord(char):04x}" for char in str(text))


def record_for(statement: anchor.RecipientStatement, **shown: str) -> dict:
    """One exported line: the statement's fields, and names to show beside them."""
    return {**shown, "user_id": statement.user_id, "display_name": statement.display_name,
            "channel_id": statement.channel_id,
            "public_key": statement.public_key.hex(), "key_version": statement.key_version,
            "not_before": statement.not_before.isoformat(),
            "not_after": statement.not_after.isoformat() if statement.not_after else None}


def sign_file(private_key: bytes, lines, out, ask) -> int:
    """Sign the statements in `lines` that `ask(text)` approves; returns how many."""
    signed = 0
    for line in lines:
        if not line.strip():
            continue
        record = json.loads(line)
        statement = statement_from_record(record)
        # What the server wrote is shown with control characters replaced, so
        # that a name cannot fake or hide a line; the signed fields come last.
        shown = (f"{printable(record.get('username', '?'))} in {printable(record.get('channel_name', '?'))}\n"
                 f"  name shown to reporters: {printable(statement.display_name)}\n"
                 f"  account id {printable(statement.user_id)}, channel id {printable(statement.channel_id)}, "
                 f"key version {statement.key_version}\n"
                 f"  valid {statement.not_before} to {statement.not_after or 'until the anchor key is replaced'}\n"
                 f"  fingerprint {anchor.fingerprint(statement.public_key)}\nSign? [y/N] ")
        if not ask(shown):
            continue
        out.write(json.dumps({**record, "signature": anchor.sign_statement(private_key, statement).hex()}) + "\n")
        signed += 1
    return signed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--key", required=True, help="the anchor's private key file (hex)")
    parser.add_argument("--in", dest="source", required=True, help="statements to sign (portal recipients --export)")
    parser.add_argument("--out", required=True, help="new file for the signed statements")
    args = parser.parse_args(argv)
    with open(args.key) as handle:
        private_key = bytes.fromhex(handle.read().strip())
    with open(args.source) as source, open(args.out, "x") as out:
        signed = sign_file(private_key, source, out, lambda text: input(text).strip().lower() in ("y", "yes"))
    print(f"Signed: {signed}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
