"""The limited markup allowed in published removed-obstacle stories."""
from __future__ import annotations

import bleach

ALLOWED_TAGS = frozenset({"p", "br", "strong", "em", "ul", "ol", "li"})


def clean_story_html(text: str) -> str:
    """Keep a few formatting tags; drop everything else, attributes included."""
    return bleach.clean(text, tags=ALLOWED_TAGS, attributes={}, protocols=[], strip=True)
