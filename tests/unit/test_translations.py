"""Both catalogs are complete and cover every string the code marks."""
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None,
            "lazy_ngettext": (1, 2)}
METHODS = [("portal/**.py", "python"), ("templates/**.html", "jinja2")]


def _catalog(language):
    with (ROOT / f"portal/translations/{language}/LC_MESSAGES/messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


def _source_ids():
    ids = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, keywords=KEYWORDS,
    ):
        ids.add(message if isinstance(message, str) else message[0])
    return ids


@pytest.mark.parametrize("language", ["sv", "en"])
def test_catalog_is_complete(language):
    untranslated = []
    for message in _catalog(language):
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings) or message.fuzzy:
            untranslated.append(message.id)
    assert untranslated == []


@pytest.mark.parametrize("language", ["sv", "en"])
def test_catalog_covers_every_marked_string(language):
    catalog_ids = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalog(language) if m.id}
    missing = _source_ids() - catalog_ids
    assert missing == set(), "run `make extract-messages` and translate"


def test_swedish_differs_from_the_source_where_it_should():
    catalog = _catalog("sv")
    same = [m.id for m in catalog if m.id and isinstance(m.id, str) and m.string == m.id
            and m.id not in {"Tillit", "Start", "Status", "Format", "Administration"}
            and re.search(r"[A-Za-z]", re.sub(r"%\(\w+\)[sd]", "", m.id))]  # not only placeholders
    assert same == []
