"""Staff forms."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional

from .. import labels
from ..domain.taxonomy import OUTCOMES
from ..reporter.forms import TEXT_MAX, options

CODE_MAX = 16


def _required():
    return DataRequired(message=_l("This field is required."))


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[_required(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[_required(), Length(max=1024)])
    code = StringField(_l("Code from the authenticator app"),
                       validators=[Optional(), Length(max=CODE_MAX)])
    next = HiddenField()


def _new_password_fields():
    new = PasswordField(_l("New password"), validators=[_required(), Length(max=1024)])
    repeat = PasswordField(_l("New password again"),
                           validators=[_required(), EqualTo("new_password", message=_l("The passwords do not match."))])
    return new, repeat


class EnrolForm(FlaskForm):
    code = StringField(_l("Code from the authenticator app"), validators=[_required(), Length(max=CODE_MAX)])
    saved = BooleanField(_l("I have written down the recovery key and keep it in a safe place."),
                         validators=[DataRequired(message=_l("Confirm that you have saved the recovery key."))])


class FirstEnrolForm(EnrolForm):
    """At the first sign-in the password an admin set is replaced as well."""
    new_password, new_password_again = _new_password_fields()


class RecoverForm(FlaskForm):
    username = StringField(_l("Username"), validators=[_required(), Length(max=64)])
    recovery_key = StringField(_l("Recovery key"), validators=[_required(), Length(max=200)])
    new_password, new_password_again = _new_password_fields()


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[_required(), Length(max=1024)])
    new_password, new_password_again = _new_password_fields()


class ReauthForm(FlaskForm):
    password = PasswordField(_l("Your password"), validators=[_required(), Length(max=1024)])


class PlainForm(FlaskForm):
    """A button: CSRF and nothing else."""


class ReplyForm(FlaskForm):
    kind = SelectField(_l("Kind of entry"), choices=options(
        [("message", labels.MESSAGE_KINDS["message"]), ("feedback", labels.MESSAGE_KINDS["feedback"]),
         ("minutes", labels.MESSAGE_KINDS["minutes"])]))
    body = TextAreaField(_l("Message to the reporter"), validators=[_required(), Length(max=TEXT_MAX)])
    attachments = MultipleFileField(_l("Attachments (optional)"))


class NoteForm(FlaskForm):
    body = TextAreaField(_l("Internal note (never shown to the reporter)"),
                         validators=[_required(), Length(max=TEXT_MAX)])


class CloseForm(FlaskForm):
    outcome = SelectField(_l("Outcome"), choices=options(
        (code, labels.OUTCOMES[code]) for code in OUTCOMES), validators=[_required()])
    hours_saved = IntegerField(_l("Estimated hours saved per year (removed obstacles)"),
                               validators=[Optional(), NumberRange(min=0, max=1_000_000)])
    summary_title = StringField(_l("Title of the public summary"), validators=[Optional(), Length(max=200)])
    summary_body = TextAreaField(_l("Draft public summary (a second person approves it before publication)"),
                                 validators=[Optional(), Length(max=5000)])


class GrantForm(FlaskForm):
    user_id = SelectField(_l("Colleague"), validators=[_required()])


class ExportForm(FlaskForm):
    format = SelectField(_l("Format"), choices=options([("html", _l("Printable page")), ("json", "JSON")]))
    secrecy_mark = StringField(_l("Secrecy mark (optional)"), validators=[Optional(), Length(max=200)])
    password = PasswordField(_l("Your password"), validators=[Optional(), Length(max=1024)])
