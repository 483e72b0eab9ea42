"""Admin forms."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from ...domain.taxonomy import ROLES
from ...web import labels
from ...web.forms import CheckboxList, options, required

USERNAME_PATTERN = r"^[A-Za-z0-9._-]+$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"  # the shape only: the digest's delivery shows the rest
LANGUAGES = (("sv", "Svenska"), ("en", "English"))  # each named in its own language


class PersonForm(FlaskForm):
    username = StringField(_l("Username"), validators=[
        required(), Length(min=2, max=64, message=_l("Between 2 and 64 characters.")),
        Regexp(USERNAME_PATTERN, message=_l("Use letters a–z, digits, dots, dashes and underscores only."))])
    display_name = StringField(_l("Full name"), validators=[required(), Length(max=120)])
    email = EmailField(_l("E-mail for notifications (optional)"), validators=[
        Optional(), Length(max=254), Regexp(EMAIL_PATTERN, message=_l("Enter an e-mail address such as name@example.org."))])
    language = SelectField(_l("Language"), choices=options(LANGUAGES))
    roles = CheckboxList(_l("Roles"), choices=options((role, labels.ROLES[role]) for role in ROLES),
                         validators=[DataRequired(message=_l("Choose at least one role."))])
