"""Texts an administrator may replace (stored in `settings`), with translated defaults.

Directive 2019/1937 art. 9(1)(g) asks for clear information on external
reporting channels; the right text depends on the organisation, so it is a
setting, and the default points to the authority that takes what no other
authority covers.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from ..models import Setting

EXTERNAL_URL_KEY = "external_channels.url"
EXTERNAL_TEXT_KEY = "external_channels.text.{language}"
DEFAULT_EXTERNAL_URL = "https://www.av.se/"


@dataclass(frozen=True)
class ExternalChannels:
    text: str
    url: str


def _setting(db: Session, key: str) -> str:
    row = db.get(Setting, key)
    return row.value.strip() if row and row.value else ""


def external_channels(db: Session, language: str) -> ExternalChannels:
    text = _setting(db, EXTERNAL_TEXT_KEY.format(language=language)) or _(
        "You may also report to a competent authority outside the organisation (an external reporting "
        "channel), or make the information public under the conditions of the whistleblowing act. About "
        "thirty Swedish authorities receive reports in their own fields; the Swedish Work Environment "
        "Authority receives what no other authority covers and can tell you where to turn.")
    return ExternalChannels(text=text, url=_setting(db, EXTERNAL_URL_KEY) or DEFAULT_EXTERNAL_URL)
