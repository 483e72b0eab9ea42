"""Admin forms."""
from __future__ import annotations

import datetime as dt
import re

from flask_babel import gettext as _, lazy_gettext as _l
from wtforms import EmailField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from ...domain.taxonomy import ROLES
from ...organisation import texts
from ...web import labels
from ...web.forms import Form, CheckboxList, max_length, options, required

USERNAME_PATTERN = r"^[A-Za-z0-9._-]+$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"  # the shape only: the digest's delivery shows the rest
LANGUAGES = (("sv", "Svenska"), ("en", "English"))  # each named in its own language


class PersonForm(Form):
    username = StringField(_l("Username"), validators=[
        required(), Length(min=2, max=64, message=_l("Between 2 and 64 characters.")),
        Regexp(USERNAME_PATTERN, message=_l("Use letters a–z, digits, dots, dashes and underscores only."))])
    display_name = StringField(_l("Full name"), validators=[required(), Length(max=120)])
    email = EmailField(_l("E-mail for notifications (optional)"), validators=[
        Optional(), Length(max=254),
        Regexp(EMAIL_PATTERN, message=_l("Enter an e-mail address such as name@example.org."))])
    language = SelectField(_l("Language"), choices=options(LANGUAGES))
    roles = CheckboxList(_l("Roles"), choices=options((role, labels.ROLES[role]) for role in ROLES),
                         validators=[DataRequired(message=_l("Choose at least one role."))])


class RolesForm(Form):
    roles = CheckboxList(_l("Roles"), choices=options((role, labels.ROLES[role]) for role in ROLES),
                         validators=[DataRequired(message=_l("Choose at least one role."))])


class WholeNumberField(IntegerField):
    """A whole number whose "not a number" message is ours, translated."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(_l("Enter a whole number, such as 12.")) from error


def months_field(label):
    return WholeNumberField(label, validators=[
        InputRequired(message=_l("This field is required.")),
        NumberRange(min=1, max=120, message=_l("Between %(min)d and %(max)d months."))])


class ChannelForm(Form):
    """A channel's names and descriptions (shown to reporters) and how long
    its closed cases are kept. The track is chosen once, when it is made."""

    track = SelectField(_l("Kind of reports"), choices=options(labels.TRACKS.items()))
    name = StringField(_l("Name in Swedish"), validators=[required(), max_length(120)])
    name_en = StringField(_l("Name in English (optional)"), validators=[Optional(), max_length(120)])
    description = TextAreaField(_l("Description in Swedish (optional)"), validators=[Optional(), max_length(500)])
    description_en = TextAreaField(_l("Description in English (optional)"),
                                   validators=[Optional(), max_length(500)])
    retention_months = months_field(_l("Keep closed cases for (months)"))


class MemberForm(Form):
    user_id = SelectField(_l("Handler"), validators=[required()])


class UnitForm(Form):
    name = StringField(_l("Name of the unit"), validators=[required(), max_length(120)])


class RuleForm(Form):
    """One routing rule of one track; empty category or level: any."""

    category = SelectField(_l("Category"))
    chain_level = SelectField(_l("Where in the governance chain"))
    channel_id = SelectField(_l("Goes to the channel"), validators=[required()])


class ThresholdsForm(Form):
    k = WholeNumberField(_l("Smallest count shown"), validators=[InputRequired(message=_l("This field is required."))])
    k_misconduct = WholeNumberField(_l("Smallest count shown for misconduct reports"),
                                    validators=[InputRequired(message=_l("This field is required."))])


def _text_within(name: str):
    """Counted as stored (texts.clean): a browser sends each line break as two characters."""
    most = texts.EDITABLE[name].max_length

    def check(_form, field):
        length = len(texts.clean(field.data))
        if length > most:
            raise ValidationError(_l("Too long: %(length)d characters, at most %(max)d.", length=length, max=most))
    return check


def _text_field(label, name: str):
    return TextAreaField(label, validators=[_text_within(name)])


def _safe_address(_form, field):
    if texts.url_problem(field.data or ""):
        raise ValidationError(_l("Enter a web address that starts with https:// (or http://), such as https://www.av.se/."))


class TextsForm(Form):
    """The texts reporters read, in Swedish and English (organisation/texts.py);
    empty: the default. Field names are those of texts.EDITABLE."""

    privacy_sv = _text_field(_l("Privacy notice in Swedish"), "privacy_sv")
    privacy_en = _text_field(_l("Privacy notice in English"), "privacy_en")
    external_text_sv = _text_field(_l("Other ways to report, in Swedish"), "external_text_sv")
    external_text_en = _text_field(_l("Other ways to report, in English"), "external_text_en")
    external_url = StringField(_l("Link to the external reporting channels"),
                               validators=[_text_within("external_url"), _safe_address])
    notice_obstacle_sv = _text_field(_l("Notice for obstacle reports in Swedish"), "notice_obstacle_sv")
    notice_obstacle_en = _text_field(_l("Notice for obstacle reports in English"), "notice_obstacle_en")
    notice_misconduct_sv = _text_field(_l("Notice for misconduct reports in Swedish"), "notice_misconduct_sv")
    notice_misconduct_en = _text_field(_l("Notice for misconduct reports in English"), "notice_misconduct_en")

    def typed(self) -> dict[str, str]:
        return {name: getattr(self, name).data or "" for name in texts.EDITABLE}


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def iso_date(text: str | None) -> dt.date | None:
    """A date typed as YYYY-MM-DD (only that: fromisoformat takes week dates too)."""
    text = (text or "").strip()
    if not ISO_DATE.fullmatch(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _a_date(_form, field) -> None:
    if (field.data or "").strip() and iso_date(field.data) is None:
        raise ValidationError(_("Enter a date as year-month-day, for example 2026-03-31."))


class AuditFilterForm(Form):
    class Meta:
        csrf = False  # a GET that only reads

    action = SelectField(_l("Action"), default="", invalid_choice_message=_l("Choose an action from the list."))
    person = SelectField(_l("Done by"), default="", invalid_choice_message=_l("Choose a person from the list."))
    date_from = StringField(_l("From date"), validators=[_a_date])
    date_to = StringField(_l("To date"), validators=[_a_date])

    def validate_date_to(self, field) -> None:
        since, until = iso_date(self.date_from.data), iso_date(field.data)
        if since and until and until < since:
            raise ValidationError(_("The to date must be the same as or later than the from date."))
