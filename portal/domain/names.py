"""Names staff give people, channels and units, which reporters and the trust
anchor's holder read to decide whom to trust. Review finding: a second
"Carin Berg" and a channel spelt with a Cyrillic "е" looked exactly like the
real ones on the report form and in `portal recipients`, so one mistake by
the anchor's holder gave an admin-controlled account a reader's key.

`clean` drops what cannot be seen (control, format, bidi and filler
characters); `mixed_scripts` finds a name that mixes scripts within a word,
the usual look-alike trick; `lookalike_keys` say which names a reader
would take for one another (case, width, composition, and Unicode's list of
confusable characters).
"""
from __future__ import annotations

import json
import unicodedata
from functools import cache
from importlib import resources

from confusable_homoglyphs import categories

# Why a name was refused (the admin pages translate these).
LOOKALIKE = "name_lookalike"
MIXED_SCRIPTS = "name_mixed_scripts"

# Invisible although not format characters (review finding: they passed as
# part of a name): marks and selectors that show nothing, and fillers that
# show as a space.
_INVISIBLE = frozenset(
    [0x034F, 0x17B4, 0x17B5] + list(range(0x180B, 0x1810)) + list(range(0xFE00, 0xFE10))
    + list(range(0xE0100, 0xE01F0)))
_BLANKS = frozenset([0x115F, 0x1160, 0x2800, 0x3164, 0xFFA0])
# Letter pairs read as one letter once the characters are alike.
_PAIRS = (("rn", "m"), ("vv", "w"), ("cl", "d"))


def clean(text: str) -> str:
    """Without invisible characters, spaces collapsed, ends trimmed."""
    kept = "".join(" " if unicodedata.category(ch) == "Zs" or ch in "\t\n\r" or ord(ch) in _BLANKS else ch
                   for ch in unicodedata.normalize("NFC", text or "")
                   if unicodedata.category(ch) not in ("Cc", "Cf", "Co", "Cs", "Cn") and ord(ch) not in _INVISIBLE)
    return " ".join(kept.split())


def mixed_scripts(text: str) -> bool:
    """Whether a word of `text` has letters of more than one script."""
    return any(len(categories.unique_aliases(word) - {"COMMON", "INHERITED"}) > 1 for word in text.split())


@cache
def _skeleton_table() -> dict[str, str]:
    """Each character Unicode lists as confusable (UTS #39, as packaged by
    confusable_homoglyphs) mapped to one representative of its group."""
    groups: dict[str, str] = {}

    def root(ch: str) -> str:
        while groups.get(ch, ch) != ch:
            ch = groups[ch]
        return ch

    data = json.loads(resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8"))
    for char, alikes in data.items():
        for alike in alikes:
            other = alike["c"]
            if len(char) == 1 and len(other) == 1:
                a, b = root(char), root(other)
                if a != b:
                    groups[max(a, b)] = min(a, b)  # the lowest code point stands for the group
    return {ch: root(ch) for ch in groups}


def refusal(text: str, others) -> str | None:
    """LOOKALIKE if `text` would pass for one of `others`, MIXED_SCRIPTS if
    a word of it mixes scripts, else None."""
    text = clean(text)
    if mixed_scripts(text):
        return MIXED_SCRIPTS
    wanted = lookalike_keys(text)
    return LOOKALIKE if any(wanted & lookalike_keys(other) for other in others) else None


def lookalike_keys(text: str) -> set[str]:
    """What two names a reader would take for one another share one of:
    width and composition folded, stray marks dropped, each character
    replaced by its group of look-alikes, and case folded before that (so
    CARIN is Carin) or after it (so an l passes for a capital I)."""
    table = _skeleton_table()

    def alike(chars: str) -> str:
        folded = "".join(table.get(ch, ch) for ch in chars)
        for pair, letter in _PAIRS:
            folded = folded.replace(pair, table.get(letter, letter))
        return folded

    # Marks left uncomposed after NFKC (a dot on a dotless i) only decorate.
    plain = " ".join("".join(ch for ch in unicodedata.normalize("NFKC", clean(text))
                             if unicodedata.category(ch) != "Mn").split())
    return {alike(plain.casefold()), alike(alike(plain).casefold())}
