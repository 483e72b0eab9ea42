"""File names: the extension, and a name that is safe to store and offer for download."""
from __future__ import annotations

import re
import unicodedata

MAX_FILENAME_CHARS = 120


def extension_of(name: str) -> str:
    """Lower-case extension without the dot, "" if none (".bashrc" has none)."""
    base = str(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, ext = base.rpartition(".")
    if not dot or not stem.strip("."):
        return ""
    return ext.strip().lower()


_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"} | {f"COM{i}" for i in range(10)} | {f"LPT{i}" for i in range(10)}
)


def safe_filename(name: str) -> str:
    """A name that is safe to store and to offer for download.

    Directories are dropped (both separators), control and format characters
    (including bidi overrides used to fake extensions) are removed, characters
    reserved on common file systems become "_", leading dots and trailing dots
    or spaces go, and the result is NFC, at most 120 characters with the
    extension kept. Falls back to "file".
    """
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    out = []
    for ch in name:
        category = unicodedata.category(ch)
        if ch in "\t\n\r\v\f":
            out.append(" ")
        elif category[0] == "C" or category in ("Zl", "Zp"):
            continue
        elif ch in '<>:"|?*':
            out.append("_")
        elif category == "Zs":
            out.append(" ")
        else:
            out.append(ch)
    name = re.sub(r" {2,}", " ", "".join(out)).strip(" .")
    if name.split(".", 1)[0].rstrip(" ").upper() in _WINDOWS_RESERVED:
        name = "_" + name
    if len(name) > MAX_FILENAME_CHARS:
        ext = extension_of(name)
        if ext and len(ext) <= 16 and ext.isalnum():
            suffix = name[-(len(ext) + 1):]
            stem = name[: MAX_FILENAME_CHARS - len(suffix)].rstrip(" .")
            name = (stem or "file") + suffix
        else:
            name = name[:MAX_FILENAME_CHARS].rstrip(" .")
    return name or "file"
