"""Apply translations from a Python file defining a dict TRANSLATIONS (msgid ->
msgstr, tuples for plurals; a key (context, msgid) for a message with a
context) to a catalog: `python tools/i18n_apply.py sv FILE`.
Used while translating; the .po files are the source of truth."""
import runpy
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent


def main(language: str, source: str) -> None:
    translations = runpy.run_path(source)["TRANSLATIONS"]
    path = ROOT / f"portal/translations/{language}/LC_MESSAGES/messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    missing = []
    for message in catalog:
        if not message.id:
            continue
        key = (message.context, message.id) if message.context else message.id
        if key in translations:
            message.string = translations[key]
            message.flags.discard("fuzzy")
        elif not message.string or (isinstance(message.string, tuple) and not all(message.string)):
            missing.append(message.id)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100)
    for msgid in missing:
        print("untranslated:", msgid)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
