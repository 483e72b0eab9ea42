"""Staff forms."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
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
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ...domain.sanitize import editable_story
from ...domain.taxonomy import HANDLER_KINDS, OUTCOMES_BY_TRACK
from ...web import labels
from ...web.forms import Form, PASSWORD_MAX, TEXT_MAX, new_password_fields, options, required

CODE_MAX = 16
STORY_MAX = 5000
STORY_LANGUAGES = (("sv", "Svenska"), ("en", "English"))  # each named in its own language


class LoginForm(Form):
    username = StringField(_l("Username"), validators=[required(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[required(), Length(max=PASSWORD_MAX)])
    code = StringField(_l("Code from the authenticator app"),
                       validators=[Optional(), Length(max=CODE_MAX)])
    next = HiddenField()


class EnrolForm(Form):
    code = StringField(_l("Code from the authenticator app"), validators=[required(), Length(max=CODE_MAX)])
    saved = BooleanField(_l("I have written down the recovery key and keep it in a safe place."),
                         validators=[DataRequired(message=_l("Confirm that you have saved the recovery key."))])


class FirstEnrolForm(EnrolForm):
    """At the first sign-in the password an admin set is replaced as well."""
    new_password, new_password_again = new_password_fields()


class RecoverForm(Form):
    username = StringField(_l("Username"), validators=[required(), Length(max=64)])
    recovery_key = StringField(_l("Recovery key"), validators=[required(), Length(max=200)])
    new_password, new_password_again = new_password_fields()


class PasswordChangeForm(Form):
    current_password = PasswordField(_l("Current password"), validators=[required(), Length(max=PASSWORD_MAX)])
    new_password, new_password_again = new_password_fields()


class ReplyForm(Form):
    kind = SelectField(_l("Kind of entry"),
                       choices=options((kind, labels.MESSAGE_KINDS[kind]) for kind in HANDLER_KINDS))
    body = TextAreaField(_l("Message to the reporter"), validators=[required(), Length(max=TEXT_MAX)])
    attachments = MultipleFileField(_l("Attachments (optional)"))


class NoteForm(Form):
    body = TextAreaField(_l("Internal note (never shown to the reporter)"),
                         validators=[required(), Length(max=TEXT_MAX)])


class CloseForm(Form):
    outcome = SelectField(_l("Outcome"), choices=[], validators=[required()])
    hours_saved = IntegerField(_l("Estimated hours saved per year (removed obstacles)"),
                               validators=[Optional(), NumberRange(min=0, max=1_000_000)])
    summary_title = StringField(_l("Title of the public summary"), validators=[Optional(), Length(max=200)])
    summary_body = TextAreaField(_l("Draft public summary (a second person approves it before publication)"),
                                 validators=[Optional(), Length(max=STORY_MAX)])
    summary_language = SelectField(_l("Language of the summary"), choices=options(STORY_LANGUAGES),
                                   validators=[Optional()])

    @classmethod
    def for_track(cls, track: str, **kwargs) -> "CloseForm":
        """The outcomes of the case's own track only."""
        form = cls(**kwargs)
        form.outcome.choices = options((code, labels.OUTCOMES[code]) for code in OUTCOMES_BY_TRACK[track])
        return form


class StoryForm(Form):
    """A story's text, as its author edits it or a reviewer approves it."""

    title = StringField(_l("Title"), validators=[required(), Length(max=200)])
    body = TextAreaField(_l("Story"), validators=[required(), Length(max=STORY_MAX)])
    language = SelectField(_l("Language"), choices=options(STORY_LANGUAGES), validators=[required()])

    def text(self):
        from ...reports.stories import StoryText

        return StoryText(self.title.data, self.body.data, self.language.data)

    @classmethod
    def of(cls, story) -> "StoryForm":
        """Filled with a stored story's text, to edit or approve."""
        return cls(formdata=None, title=story.title, body=editable_story(story.body_html), language=story.language)


class GrantForm(Form):
    user_id = SelectField(_l("Colleague"), validators=[required()])


class ExportForm(Form):
    format = SelectField(_l("Format"), choices=options([("html", _l("Printable page")), ("json", "JSON")]))
    secrecy_mark = StringField(_l("Secrecy mark (optional)"), validators=[Optional(), Length(max=200)])
    password = PasswordField(_l("Your password"), validators=[Optional(), Length(max=PASSWORD_MAX)])
