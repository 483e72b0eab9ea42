"""Web plumbing shared by every blueprint: the request's database session and
unit of work, error pages, languages, response headers, rate limits, safe
redirects, sealed sessions, the encrypting upload spool, downloads, shared
form pieces and the translated labels of the vocabularies.

Services (reports/, attachments/, staff/, organisation/, trust/) never import from
here: settings, sessions and requests reach them as arguments.
"""
from __future__ import annotations

from flask import current_app

from config import Settings


def current_settings() -> Settings:
    """The portal's settings for the running app (request or CLI command)."""
    return current_app.config["TILLIT"]
