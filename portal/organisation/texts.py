"""Texts reporters read that an administrator may replace (stored in
`settings`), each in Swedish and English, with translated defaults: the
privacy notice (GDPR art. 13/14), the external reporting channels
(Directive 2019/1937 art. 9(1)(g): the right authority depends on the
organisation) and the notice shown with each track.

Texts are plain text: paragraphs separated by blank lines, always rendered
escaped. An empty text means the default, in the reader's language (an
empty English text falls back to the English default, never to Swedish).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask_babel import force_locale, gettext as _
from sqlalchemy.orm import Session

from .. import audit
from ..domain.taxonomy import MISCONDUCT, OBSTACLE
from ..models import Setting, User

LANGUAGES = ("sv", "en")
PRIVACY_MAX = 6000
TEXT_MAX = 1000
URL_MAX = 500

EXTERNAL_URL_KEY = "external_channels.url"
EXTERNAL_TEXT_KEY = "external_channels.text.{language}"
PRIVACY_KEY = "privacy_notice.{language}"
NOTICE_KEY = "legal_notice.{track}.{language}"
DEFAULT_EXTERNAL_URL = "https://www.av.se/"

TOO_LONG = "too_long"
BAD_URL = "bad_url"


@dataclass(frozen=True)
class Editable:
    """One stored text: its key, its limit, and which default it falls back to."""
    key: str
    max_length: int
    default: str  # a name in _DEFAULTS, or "" for the URL
    language: str | None = None

    @property
    def is_url(self) -> bool:
        return self.key == EXTERNAL_URL_KEY


# name: (key, longest, default) of the texts kept per language.
_PER_LANGUAGE = {
    "privacy": (PRIVACY_KEY, PRIVACY_MAX, "privacy"),
    "external_text": (EXTERNAL_TEXT_KEY, TEXT_MAX, "external"),
    **{f"notice_{track}": (NOTICE_KEY.format(track=track, language="{language}"), TEXT_MAX, track)
       for track in (OBSTACLE, MISCONDUCT)},
}
# Every stored text, by a form-friendly name (the admin form's fields).
EDITABLE: dict[str, Editable] = {
    **{f"{name}_{language}": Editable(key.format(language=language), longest, default_name, language)
       for name, (key, longest, default_name) in _PER_LANGUAGE.items() for language in LANGUAGES},
    "external_url": Editable(EXTERNAL_URL_KEY, URL_MAX, ""),
}


@dataclass(frozen=True)
class ExternalChannels:
    text: str
    url: str

    @property
    def paragraphs(self) -> list[str]:
        return paragraphs(self.text)


class TextsRefused(ValueError):
    """Nothing was saved; `problems`: {name in EDITABLE: TOO_LONG or BAD_URL}."""

    def __init__(self, problems: dict[str, str]):
        super().__init__(problems)
        self.problems = problems


# Bidirectional overrides could make a text read differently from what it holds.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def clean(text: str | None) -> str:
    """Plain text as it is stored: line breaks as \\n, no control characters
    (a tab becomes a space), no trailing spaces, at most one blank line
    between paragraphs."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    kept = []
    for char in text:
        if char == "\t":
            kept.append(" ")
        elif char == "\n" or (unicodedata.category(char) != "Cc" and char not in _BIDI_CONTROLS):
            kept.append(char)
    lines = [line.rstrip() for line in "".join(kept).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def paragraphs(text: str) -> list[str]:
    """The paragraphs of a text, each to be shown as a <p>."""
    return [part.strip() for part in re.split(r"\n\s*\n", text or "") if part.strip()]


def url_problem(url: str) -> str | None:
    """BAD_URL unless an http(s) address with a host (no javascript:, data:,
    user name or spaces); None for a good one or an empty one (the default)."""
    url = clean(url)
    if not url:
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError on a malformed port)
    except ValueError:
        return BAD_URL
    if (parts.scheme.lower() not in ("https", "http") or not parts.hostname or "@" in parts.netloc
            or re.search(r"\s", url)):
        return BAD_URL
    return None


def problems(wanted: dict[str, str]) -> dict[str, str]:
    """What is wrong with texts an admin typed: {name: TOO_LONG or BAD_URL}."""
    found = {}
    for name, value in wanted.items():
        editable = EDITABLE[name]
        cleaned = clean(value)
        if len(cleaned) > editable.max_length:
            found[name] = TOO_LONG
        elif editable.is_url and url_problem(cleaned):
            found[name] = BAD_URL
    return found


def _stored(db: Session, key: str) -> str:
    row = db.get(Setting, key)
    return row.value.strip() if row and row.value else ""


def _language(language: str) -> str:
    return language if language in LANGUAGES else LANGUAGES[0]


def default(name: str) -> str:
    """The translated default of a text in EDITABLE, in that text's language."""
    editable = EDITABLE[name]
    if editable.is_url:
        return DEFAULT_EXTERNAL_URL
    with force_locale(editable.language):
        return _DEFAULTS[editable.default]()


def _text(db: Session, name: str, language: str) -> str:
    name = f"{name}_{_language(language)}"
    return _stored(db, EDITABLE[name].key) or default(name)


def privacy_notice(db: Session, language: str) -> str:
    return _text(db, "privacy", language)


def legal_notice(db: Session, track: str, language: str) -> str:
    return _text(db, f"notice_{track}", language)


def external_channels(db: Session, language: str) -> ExternalChannels:
    url = _stored(db, EXTERNAL_URL_KEY)
    # A stored address a database writer made unsafe is not shown.
    return ExternalChannels(text=_text(db, "external_text", language),
                            url=url if url and not url_problem(url) else DEFAULT_EXTERNAL_URL)


def stored_texts(db: Session) -> dict[str, str]:
    """Every text as stored, "" where the default applies (for the form)."""
    return {name: _stored(db, editable.key) for name, editable in EDITABLE.items()}


def save_texts(db: Session, actor: User, wanted: dict[str, str]) -> list[str]:
    """Store the texts given (names of EDITABLE; empty: the default) and
    audit each change with the text before and after: they are public, and
    without them nobody could tell afterwards what reporters were shown
    (admin review: a notice asking for names, put up for a day). TextsRefused, with
    nothing stored, if any is too long or the address is unsafe. Returns
    the changed keys."""
    unknown = set(wanted) - set(EDITABLE)
    if unknown:
        raise KeyError(sorted(unknown))
    found = problems(wanted)
    if found:
        raise TextsRefused(found)
    changed = {}
    for name, value in wanted.items():
        key, value = EDITABLE[name].key, clean(value)
        before = _stored(db, key)
        if value == before:
            continue
        changed[key] = [before, value]  # "" is the default
        row = db.get(Setting, key)
        if not value:
            if row is not None:
                db.delete(row)
            continue
        row = row or Setting(key=key)
        row.value = value
        db.add(row)
    if changed:
        db.flush()
        audit.record(db, "settings.texts", actor_user_id=actor.id, texts=changed)
    return sorted(changed)


def _privacy_default() -> str:
    return "\n\n".join([
        _("Who is responsible: the organisation that runs this portal is the controller for the personal data "
          "processed in it. You can put questions about the processing to the organisation's data protection "
          "officer; you do not need to say that you have made a report."),
        _("What is processed: what you write in a report and in the dialogue that follows, and the files you "
          "attach. It may contain personal data about you or about others. You do not need to give your name. "
          "The portal does not store your IP address or details of your browser (user agent), and of the time "
          "you report it keeps only the date."),
        _("Everything you write and every file you attach is encrypted before it is stored. Only the case "
          "handlers designated for the kind of report you choose can read it; not the IT department and not "
          "the portal's administrators. Details such as the author or location are removed from images and "
          "documents before they are encrypted, where the file format allows."),
        _("Why, and on what legal basis: to receive and follow up reports and to give you feedback. For reports "
          "of misconduct the processing is necessary to comply with a legal obligation under the Swedish "
          "Whistleblowing Act (2021:890) (Article 6(1)(c) GDPR); for reports of obstacles it is necessary for a "
          "task carried out in the public interest (Article 6(1)(e) GDPR). Reports of misconduct are handled "
          "under secrecy; in a public authority a report of an obstacle may become a public document."),
        _("How long: a case is kept for a period set for each reporting channel, counted from the day the case "
          "is closed. Then its content is deleted for good by destroying its encryption keys. Personal data in "
          "a report of misconduct is kept at most two years after the case was closed, as the Whistleblowing "
          "Act requires."),
        _("Statistics: the published figures are only counts of what is chosen from lists (such as the kind of "
          "report and the unit), never of what anyone wrote, and a count below a set threshold is not shown. "
          "A short account of a removed obstacle is published only if you agreed to it; a case handler writes "
          "it, a second person approves it, and it contains nothing that points to you."),
        _("Cookies: the portal uses a single cookie, which protects the forms, remembers your choice of "
          "language and keeps a case you have opened while you use it. It disappears when you close the "
          "browser. The portal uses no analytics and loads nothing from other websites."),
        _("Your rights: you may ask for access to your personal data, have it corrected or erased, have its "
          "processing restricted, and object to it. As the portal does not know who you are, ask about your "
          "own report in the dialogue of the case, with your receipt code. The rights may be limited where "
          "secrecy applies or where meeting a request would reveal who made a report."),
        _("If you think your personal data is processed wrongly, contact the data protection officer. You also "
          "have the right to lodge a complaint with the Swedish Authority for Privacy Protection (IMY), imy.se."),
    ])


def _external_default() -> str:
    return _("You may also report to a competent authority outside the organisation (an external reporting "
             "channel), or make the information public under the conditions of the whistleblowing act. About "
             "thirty Swedish authorities receive reports in their own fields; the Swedish Work Environment "
             "Authority receives what no other authority covers and can tell you where to turn.")


def _obstacle_default() -> str:
    return _("In a Swedish public authority an obstacle report may become a public document (allmän handling). "
             "Describe the obstacle, not people, and leave out details that point to you or to others.")


def _misconduct_default() -> str:
    return _("Your report is handled under secrecy by designated whistleblowing handlers only. Write what you "
             "know; you do not need proof. Leave out details that point to you unless they are needed.")


_DEFAULTS = {"privacy": _privacy_default, "external": _external_default,
             OBSTACLE: _obstacle_default, MISCONDUCT: _misconduct_default}
