"""Language selection: an explicit choice in the session, else Accept-Language."""
from __future__ import annotations

from flask import Flask, current_app, request, session
from flask_babel import Babel

LANGUAGE_NAMES = {"sv": "Svenska", "en": "English"}


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or languages[0]


def init_app(app: Flask, languages: tuple[str, ...]) -> None:
    app.config["LANGUAGES"] = list(languages)
    app.config["BABEL_DEFAULT_LOCALE"] = languages[0]
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = "translations"
    Babel(app, locale_selector=select_locale)
