"""Reporter forms. Free text is limited in length but otherwise taken as typed."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import validate_csrf
from wtforms import (
    BooleanField,
    HiddenField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional, ValidationError

from ...domain.taxonomy import (
    ANSWER_CHANGE,
    ANSWER_CONTACT,
    ANSWER_EVIDENCE,
    ANSWER_TODAY,
    ANSWER_WHAT,
    ANSWER_WHEN,
    ANSWER_WHO,
)
from ...web import labels
from ...web.forms import Form, SHORT_MAX, TEXT_MAX, CheckboxList, max_length, options, required


class ReporterForm(Form):
    """CSRF is checked here rather than before the view (csrf.exempt), so a
    stale or forged token brings the form back with everything typed in it."""

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if self.csrf_token.errors:
            self.mark_not_sent()
        return valid

    def csrf_is_valid(self) -> bool:
        try:
            validate_csrf(self.csrf_token.data)
        except ValidationError:
            return False
        return True

    def mark_not_sent(self):
        """The page itself was stale or damaged (not a field): say so, keep the text."""
        self.page_error(_l("The form had expired or did not come from this page, so nothing "
                           "was sent. Check what you wrote and send it again."))

    def mark_rate_limited(self):
        self.page_error(_l("Many reports and messages were sent from this connection just now, so this one "
                           "was not sent. Wait a few minutes and send it again; what you wrote is kept here."))

    def mark_busy(self):
        self.page_error(_l("The portal is very busy just now, so this was not sent. What you wrote is kept here: "
                           "wait a minute and send it again."))

    def page_error(self, message):
        # Shown at the top of the error summary, linked to the page's main area.
        self.csrf_token.errors = [message]


class HoneypotMixin:
    # Bots fill every field; people never see this one (hidden by CSS, out of
    # the tab order, labelled "leave empty" for screen readers).
    website = StringField(_l("Leave this field empty"))

    def validate_website(self, field):
        if field.data:
            raise ValidationError(_l("Leave this field empty."))


class CategoryForm(Form):
    """Step one: the kind of report decides where it goes (GET, no state change)."""

    class Meta:
        csrf = False

    category = RadioField(_l("What is it about?"), validators=[required()])
    chain_level = RadioField(_l("Where in the governance chain does it come from?"),
                             choices=options(labels.CHAIN_LEVELS.items()), validators=[Optional()])


SEND_UNCLEANED = _l("Send files that cannot be cleaned as they are, with what they may reveal about me")


class ReportForm(HoneypotMixin, ReporterForm):
    nonce = HiddenField()
    channel_shown = HiddenField()
    category = SelectField(_l("What is it about?"), validators=[required()])
    attachments = MultipleFileField(_l("Attachments (optional)"))
    send_uncleaned = BooleanField(SEND_UNCLEANED)
    exclude = CheckboxList(_l("Exclude handlers (optional)"), validators=[Optional()])


class ObstacleForm(ReportForm):
    chain_level = SelectField(_l("Where in the governance chain does it come from?"),
                              choices=options(labels.CHAIN_LEVELS.items()), validators=[required()])
    # A last choice of "none", since a chosen radio button cannot be unchosen.
    principle = RadioField(_l("Which guiding principle does it hinder? (optional)"),
                           choices=options([*labels.PRINCIPLES.items(), ("", _l("None of them, or I am not sure"))]),
                           validators=[Optional()])
    unit = SelectField(_l("Your unit (optional)"), validators=[Optional()])
    today = TextAreaField(_l("What happens today?"), validators=[required(), max_length(TEXT_MAX)])
    change = TextAreaField(_l("What should change?"), validators=[required(), max_length(TEXT_MAX)])
    time_lost = RadioField(_l("About how much time does it cost you? (optional)"),
                           choices=options(labels.TIME_LOST.items()), validators=[Optional()])
    publish_consent = BooleanField(
        _l("If the obstacle is removed, an anonymised summary may be published on the removed-obstacles page."))

    # Answer code (stored, and part of each answer's ciphertext label) -> form field.
    answer_fields = {ANSWER_TODAY: "today", ANSWER_CHANGE: "change"}


WHEN_MAX = 200


class MisconductForm(ReportForm):
    what = TextAreaField(_l("What happened?"), validators=[required(), max_length(TEXT_MAX)])
    # Free words, encrypted like every answer: a month, a season, "around
    # Easter last year"; as exact as the reporter wants, no more.
    when = StringField(labels.ANSWERS["when"], validators=[Optional(), max_length(WHEN_MAX)])
    who = TextAreaField(_l("Who is involved? (optional)"), validators=[Optional(), max_length(SHORT_MAX)])
    evidence = TextAreaField(_l("Is there evidence, or others who know? (optional)"),
                             validators=[Optional(), max_length(TEXT_MAX)])
    contact = TextAreaField(_l("Your name or contact details (optional; leave empty to stay anonymous)"),
                            validators=[Optional(), max_length(SHORT_MAX)])

    answer_fields = {ANSWER_WHAT: "what", ANSWER_WHEN: "when", ANSWER_WHO: "who", ANSWER_EVIDENCE: "evidence",
                     ANSWER_CONTACT: "contact"}


class ReceiptForm(ReporterForm):
    receipt = StringField(_l("Your receipt code"), validators=[required(), max_length(200)])
    # A reply typed before the session ran out, carried through re-entry
    # (cut to TEXT_MAX, the limit of a reply, before it is carried).
    pending_reply = HiddenField(validators=[Optional(), max_length(TEXT_MAX)])


class ReceiptDownloadForm(Form):
    receipt = HiddenField(validators=[required(), max_length(200)])


class ReplyForm(ReporterForm):
    body = TextAreaField(_l("Your message"), validators=[required(), max_length(TEXT_MAX)])
    attachments = MultipleFileField(_l("Attachments (optional)"))
    send_uncleaned = BooleanField(SEND_UNCLEANED)


class MeetingForm(ReporterForm):
    body = TextAreaField(_l("When and how would you like to meet? (optional)"),
                         validators=[Optional(), max_length(SHORT_MAX)])
