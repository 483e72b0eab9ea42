"""Fill the English catalog from the source strings (which are English), so
that the catalog is complete and the completeness test can check both."""
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PATH = Path(__file__).resolve().parent.parent / "portal/translations/en/LC_MESSAGES/messages.po"


def main() -> None:
    with PATH.open("rb") as handle:
        catalog = read_po(handle, locale="en")
    for message in catalog:
        if not message.id:
            continue
        message.string = message.id  # tuple (singular, plural) for plural messages
        message.flags.discard("fuzzy")
    with PATH.open("wb") as handle:
        write_po(handle, catalog, width=100)


if __name__ == "__main__":
    main()
