"""Channels: the list, a new channel, and one channel's names, retention
and members. Adding a handler queues key grants for the channel's cases
(a key holder approves them); it gives the admin nothing to read."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext

from ...domain import retention
from ...models import Channel, User
from ...models.base import today
from ...organisation import setup
from ...reports import grants
from ...trust import statements
from ...web import current_settings, db
from ...web.forms import PlainForm
from ...web.staff_access import ADMIN, level
from . import bp, refusals
from .forms import ChannelForm, MemberForm


def _channel(channel_id: str) -> Channel:
    channel = db.session().get(Channel, channel_id)
    if channel is None:
        abort(404)
    return channel


def _text(form: ChannelForm) -> setup.ChannelText:
    return setup.ChannelText(name=form.name.data or "", name_en=form.name_en.data or "",
                             description=form.description.data or "",
                             description_en=form.description_en.data or "",
                             retention_months=form.retention_months.data)


def _refused(form: ChannelForm, refusal: setup.SetupRefused, track: str) -> None:
    field = form.retention_months if refusal.code == setup.RETENTION_TOO_LONG else form.name
    field.errors = list(field.errors) + [refusals.message(refusal.code, track)]


@bp.get("/channels", endpoint="channels")
@level(ADMIN)
def channels():
    return render_template("admin/channels.html", rows=setup.channel_rows(db.session()))


@bp.route("/channels/new", methods=["GET", "POST"], endpoint="new_channel")
@level(ADMIN)
def new_channel():
    form = ChannelForm()
    if not form.is_submitted():
        form.retention_months.data = retention.DEFAULT_MONTHS
    if form.validate_on_submit():
        try:
            channel = setup.create_channel(db.session(), g.staff.user, form.track.data, _text(form))
        except setup.SetupRefused as refusal:
            _refused(form, refusal, form.track.data)
        else:
            flash(_("The channel %(name)s was created. Add its handlers, then a routing rule that sends "
                    "reports to it.", name=channel.name))
            return redirect(url_for("admin.channel", channel_id=channel.id))
    return render_template("admin/channel_new.html", form=form), 400 if form.errors else 200


def _channel_page(channel: Channel, form: ChannelForm, member_form: MemberForm, status: int = 200,
                  sooner: setup.Sooner | None = None):
    session = db.session()
    member_form.user_id.choices = [("", "–")] + [(u.id, f"{u.display_name} ({u.username})")
                                                 for u in setup.member_candidates(session, channel)]
    settings = current_settings()
    people = [(user, statements.is_anchored(session, settings, user, channel.id))
              for user in setup.members(session, channel)]
    return render_template("admin/channel.html", channel=channel, form=form, member_form=member_form,
                           people=people, longest=retention.longest(channel.track), sooner=sooner), status


@bp.get("/channels/<channel_id>", endpoint="channel")
@level(ADMIN)
def channel(channel_id):
    found = _channel(channel_id)
    return _channel_page(found, ChannelForm(obj=found), MemberForm())


@bp.post("/channels/<channel_id>", endpoint="update_channel")
@level(ADMIN)
def update_channel(channel_id):
    found = _channel(channel_id)
    form = ChannelForm()
    form.track.data = found.track  # fixed once made; whatever was posted is ignored
    if form.validate():
        sooner = setup.due_sooner(db.session(), found, form.retention_months.data, today())
        if sooner.cases and request.form.get("confirm_sooner") != str(sooner.cases):
            # Shown first, with the same input: the admin confirms the count.
            return _channel_page(found, form, MemberForm(formdata=None), 200, sooner=sooner)
        try:
            setup.update_channel(db.session(), g.staff.user, found, _text(form))
        except setup.SetupRefused as refusal:
            _refused(form, refusal, found.track)
        else:
            flash(_("The changes were saved."))
            return redirect(url_for("admin.channel", channel_id=found.id))
    return _channel_page(found, form, MemberForm(formdata=None), 400)


@bp.post("/channels/<channel_id>/members", endpoint="add_member")
@level(ADMIN)
def add_member(channel_id):
    found = _channel(channel_id)
    member_form = MemberForm()
    member_form.user_id.choices = [(u.id, u.username) for u in setup.member_candidates(db.session(), found)]
    if not member_form.validate():
        if member_form.csrf_token.errors:
            abort(400)
        member_form.user_id.errors = [_("Choose a handler from the list.")]
        return _channel_page(found, ChannelForm(formdata=None, obj=found), member_form, 400)
    person = db.session().get(User, member_form.user_id.data)
    queued = grants.add_member(db.session(), found, person, actor_user_id=g.staff.user.id)
    message = _("%(name)s was added.", name=person.display_name)
    if queued:
        message += " " + ngettext(
            "%(num)d earlier case waits for a colleague who holds its key to share it.",
            "%(num)d earlier cases wait for a colleague who holds their keys to share them.", queued)
    flash(message)
    return redirect(url_for("admin.channel", channel_id=found.id))


@bp.post("/channels/<channel_id>/members/<user_id>/remove", endpoint="remove_member")
@level(ADMIN)
def remove_member(channel_id, user_id):
    found = _channel(channel_id)
    person = db.session().get(User, user_id)
    if person is None:
        abort(404)
    if not PlainForm().validate():
        abort(400)
    setup.remove_member(db.session(), g.staff.user, found, person)
    flash(_("%(name)s was removed from the channel. Keys they already hold to its cases stay until the "
            "account is deactivated or loses the handler role.", name=person.display_name))
    return redirect(url_for("admin.channel", channel_id=found.id))
