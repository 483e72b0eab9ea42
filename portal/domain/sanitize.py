"""The limited markup allowed in published removed-obstacle stories."""
from __future__ import annotations

import html
import unicodedata

import bleach

ALLOWED_TAGS = frozenset({"p", "br", "strong", "em", "ul", "ol", "li"})


def clean_story_html(text: str) -> str:
    """Keep a few formatting tags; drop everything else, attributes included,
    and control characters but line breaks and tabs (a NUL cannot even be
    stored in a PostgreSQL text column)."""
    text = "".join(ch for ch in text if ch in "\t\n\r" or unicodedata.category(ch) != "Cc")
    return bleach.clean(text, tags=ALLOWED_TAGS, attributes={}, protocols=[], strip=True)


def editable_story(body_html: str) -> str:
    """A stored story as its author wrote it, for the editor: bleach turned
    & and < into entities, which an editor would show as "&amp;". Saving
    cleans the text again, so this round trip keeps it the same."""
    return html.unescape(body_html)
