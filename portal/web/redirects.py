"""Where a redirect may lead: only to this site."""
from __future__ import annotations

from urllib.parse import urlsplit


def is_safe_local_path(target: str | None) -> bool:
    """Only same-site absolute paths may be used as redirect targets. Control
    characters and spaces are refused outright: Werkzeug drops a tab when it
    writes the Location header, which would turn "/<tab>/evil" into "//evil"."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc
