"""Disclosure rules as they were before the reviews, for tests that show
the attacks on them still work (so the checks can fail)."""
from __future__ import annotations

from portal.domain import disclosure
from portal.domain.disclosure import HIDDEN


def old_suppression(counts, k):
    """Suppression as it was before the review: the smallest others until
    the hidden cells hold k, and no check of what the pattern tells."""
    total = sum(counts.values())
    if 0 < total < k:
        return disclosure.Protected(dict.fromkeys(counts, HIDDEN), HIDDEN)
    hidden = {key for key, n in counts.items() if 0 < n < k}
    if hidden:
        hidden |= {key for key, n in counts.items() if n == 0}
        for key in sorted((key for key in counts if key not in hidden), key=lambda key: (counts[key], key)):
            if sum(counts[name] for name in hidden) >= k:
                break
            hidden.add(key)
    return disclosure.Protected({key: HIDDEN if key in hidden else n for key, n in counts.items()}, total)
