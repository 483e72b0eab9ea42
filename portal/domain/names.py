"""Names staff give people, channels and units, which reporters and the trust
anchor's holder read to decide whom to trust. Review finding: a second
"Carin Berg" and a channel spelt with a Cyrillic "е" looked exactly like the
real ones on the report form and in `portal recipients`, so one mistake by
the anchor's holder gave an admin-controlled account a reader's key.

`clean` drops what cannot be seen (control, format and bidi characters);
`mixed_scripts` finds a name that mixes alphabets within a word, the usual
look-alike trick; `lookalike_key` is the same for names a reader would take
for one another (case, width, accents' composition, common homoglyphs).
"""
from __future__ import annotations

import unicodedata

# Why a name was refused (the admin pages translate these).
LOOKALIKE = "name_lookalike"
MIXED_SCRIPTS = "name_mixed_scripts"

# Letters of other alphabets that look like Latin ones, by their Latin twin.
_HOMOGLYPHS = str.maketrans({
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x", "ϲ": "c",
    "0": "o", "1": "l", "ı": "i",
})
_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE")


def clean(text: str) -> str:
    """Without invisible characters, spaces collapsed, ends trimmed."""
    kept = "".join(" " if unicodedata.category(ch) == "Zs" or ch in "\t\n\r" else ch
                   for ch in unicodedata.normalize("NFC", text or "")
                   if unicodedata.category(ch) not in ("Cc", "Cf", "Co", "Cs", "Cn"))
    return " ".join(kept.split())


def _script(ch: str) -> str | None:
    name = unicodedata.name(ch, "")
    return next((script for script in _SCRIPTS if name.startswith(script)), None)


def mixed_scripts(text: str) -> bool:
    """Whether a word of `text` has letters of more than one alphabet."""
    for word in text.split():
        scripts = {_script(ch) for ch in word if ch.isalpha()} - {None}
        if len(scripts) > 1:
            return True
    return False


def refusal(text: str, others) -> str | None:
    """LOOKALIKE if `text` would pass for one of `others`, MIXED_SCRIPTS if
    a word of it mixes alphabets, else None."""
    if mixed_scripts(text):
        return MIXED_SCRIPTS
    wanted = lookalike_key(text)
    return LOOKALIKE if any(lookalike_key(other) == wanted for other in others) else None


def lookalike_key(text: str) -> str:
    """What two names a reader would take for one another have in common."""
    folded = unicodedata.normalize("NFKC", clean(text)).casefold().translate(_HOMOGLYPHS)
    return " ".join(folded.split())
