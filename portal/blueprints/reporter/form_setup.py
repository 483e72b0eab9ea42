"""Filling the report forms in: the choices of each track, the handlers of the
channel the report would go to (for exclusions), and the form's answers as a
NewReport for the submission service."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import get_locale, gettext as _
from sqlalchemy.orm import Session

from config import Settings

from ...domain import routing
from ...domain.taxonomy import CATEGORIES, OBSTACLE
from ...models import Channel
from ...organisation.channels import active_units, route, shown_to_reporters
from ...reports.recipients import Recipients, channel_recipients
from ...reports.submission import NewReport
from ...web import labels
from ...web.forms import options


@dataclass
class FormView:
    channel_id: str
    channel_name: str
    channel_description: str
    recipients: Recipients
    max_upload_mib: int
    max_attachments: int
    allowed_types: tuple[str, ...]


def category_choices(track: str):
    return options((code, labels.CATEGORIES[track][code]) for code in CATEGORIES[track])


def prepare_chooser(form, track: str) -> None:
    form.category.choices = category_choices(track)
    if track != OBSTACLE:
        del form.chain_level


def prepare_form(db: Session, settings: Settings, form, track: str) -> FormView:
    """routing.NoRouteError when no rule sends this kind of report anywhere,
    or nobody in the channel could read it (NoReaderError)."""
    form.category.choices = category_choices(track)
    if hasattr(form, "unit"):
        form.unit.choices = options(((u.id, u.name) for u in active_units(db)), blank=True)
    category = form.category.data if form.category.data in CATEGORIES[track] else CATEGORIES[track][0]
    chain_level = getattr(form, "chain_level", None)
    channel_id = route(db, track, category, chain_level.data if chain_level else None)
    recipients = channel_recipients(db, settings, channel_id)
    # A name the anchor has not signed for this channel is marked: a database
    # writer could have given it to the wrong account.
    form.exclude.choices = options((h.id, h.display_name if h in recipients.readers else
                                    _("%(name)s (name not yet confirmed by the organisation)", name=h.display_name))
                                   for h in recipients.handlers)
    if not form.channel_shown.data:
        form.channel_shown.data = channel_id
    name, description = shown_to_reporters(db.get(Channel, channel_id), str(get_locale()))
    return FormView(channel_id, name, description, recipients, settings.max_upload_mib, settings.max_attachments,
                    settings.allowed_upload_types)


def check_channel(form, view: FormView) -> bool:
    """The exclusion list must be the one of the channel the report goes to."""
    if form.channel_shown.data != view.channel_id:
        form.channel_shown.data = view.channel_id
        form.exclude.data = []
        form.exclude.errors.append(_("The kind of report you chose goes to other handlers. "
                                     "Check the list of handlers again."))
        return False
    try:
        view.recipients.check(set(form.exclude.data or []))
    except routing.ExclusionError:
        form.exclude.errors.append(_("At least one handler must remain to read your report."))
        return False
    return True


def new_report(form, track: str) -> NewReport:
    def optional(name):
        field = getattr(form, name, None)
        return (field.data or None) if field is not None else None

    return NewReport(
        track=track,
        category=form.category.data,
        answers={code: getattr(form, name).data or "" for code, name in form.answer_fields.items()},
        chain_level=optional("chain_level"),
        principle=optional("principle"),
        unit_id=optional("unit"),
        time_lost=optional("time_lost"),
        publish_consent=bool(optional("publish_consent")),
        excluded_user_ids=set(form.exclude.data or []),
    )
