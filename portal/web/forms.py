"""Form pieces shared by every blueprint: CSRF, the language switch, button
forms, choices, validators with translated messages, password fields and the
password-policy messages."""
from __future__ import annotations

import functools

from babel.support import Translations
from flask_babel import get_locale, gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from wtforms import HiddenField, PasswordField, SelectMultipleField
from wtforms.i18n import messages_path
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length
from wtforms.widgets import CheckboxInput, ListWidget

csrf = CSRFProtect()

TEXT_MAX = 20_000  # a free-text answer, a message or a note
SHORT_MAX = 2_000
PASSWORD_MAX = 1024


@functools.cache  # one per language; two threads loading it at once is harmless
def _wtforms_catalog(locale: str) -> Translations:
    return Translations.load(messages_path(), [locale], domain="wtforms")


class Form(FlaskForm):
    """Every form of the portal: WTForms' own messages in the request's
    language, each catalog read once per process (Flask-WTF reads it from
    disk in every request that builds a form)."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            return _wtforms_catalog(str(get_locale()))


class LanguageForm(Form):
    """The language switch: a POST with one button per language."""

    next = HiddenField()


class PlainForm(Form):
    """A button-only POST (sign out, keep the session): CSRF and nothing else."""


def options(pairs, blank: bool = False) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices, optionally after an empty one."""
    return ([SelectChoice("", "–")] if blank else []) + [SelectChoice(value, label) for value, label in pairs]


class CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def required():
    return DataRequired(message=_l("This field is required."))


def max_length(n: int):
    return Length(max=n, message=_l("Too long: at most %(max)d characters.", max=n))


def new_password_fields():
    """A new password and its repetition (the second must match the first)."""
    new = PasswordField(_l("New password"), validators=[required(), Length(max=PASSWORD_MAX)])
    repeat = PasswordField(_l("New password again"),
                           validators=[required(), EqualTo("new_password", message=_l("The passwords do not match."))])
    return new, repeat


def password_policy_message(reason: str) -> str:
    """Why domain.passwords refused a password (PasswordPolicyError.reason)."""
    return {
        "too_short": _("The password must have at least 12 characters."),
        "too_long": _("The password is too long."),
        "common": _("That password is too common or too easy to guess. Choose another."),
    }[reason]
