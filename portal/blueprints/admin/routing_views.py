"""Routing: which channel each kind of report goes to. Per track, the rules
(the most specific wins; a rule with neither category nor level is the
track's default) and a preview of where every combination goes now."""
from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ...domain.taxonomy import CATEGORIES, CHAIN_LEVELS, OBSTACLE, TRACKS
from ...models import Channel, RoutingRule
from ...organisation import setup
from ...web import db, labels
from ...web.forms import PlainForm
from ...web.staff_access import ADMIN, level
from . import bp, refusals
from .forms import RuleForm


@dataclass
class TrackRouting:
    track: str
    rules: list[RoutingRule]
    form: RuleForm
    # category -> [(channel id or None, names of the chain levels that go there)]
    preview: dict[str, list[tuple[str | None, list[str]]]]
    has_default: bool


def _rule_form(track: str, channels: list[Channel], *, posted: bool = False) -> RuleForm:
    form = RuleForm(prefix=track) if posted else RuleForm(formdata=None, prefix=track)
    form.category.choices = [("", _("Any category"))] + [(c, labels.CATEGORIES[track][c]) for c in CATEGORIES[track]]
    form.chain_level.choices = [("", _("Any level"))] + [(c, labels.CHAIN_LEVELS[c]) for c in CHAIN_LEVELS]
    form.channel_id.choices = [("", "–")] + [(c.id, c.name) for c in channels if c.track == track]
    if track != OBSTACLE:
        del form.chain_level
    return form


def _preview(track: str) -> dict[str, list[tuple[str | None, list[str]]]]:
    grouped: dict[str, dict[str | None, list[str | None]]] = {}
    for (category, chain_level), channel_id in setup.routing_table(db.session(), track).items():
        grouped.setdefault(category, {}).setdefault(channel_id, []).append(chain_level)
    def names(levels):
        return [labels.CHAIN_LEVELS[code] if code else _("not stated") for code in levels]
    return {category: [(channel_id, names(levels)) for channel_id, levels in by_channel.items()]
            for category, by_channel in grouped.items()}


def _page(posted: RuleForm | None = None, posted_track: str | None = None, status: int = 200):
    session = db.session()
    channels = list(session.scalars(select(Channel).order_by(Channel.name)))
    sections = []
    for track in TRACKS:
        rules = list(session.scalars(select(RoutingRule).where(RoutingRule.track == track)
                                     .order_by(RoutingRule.category.is_not(None), RoutingRule.category,
                                               RoutingRule.chain_level.is_not(None), RoutingRule.chain_level)))
        form = posted if track == posted_track else _rule_form(track, channels)
        sections.append(TrackRouting(track, rules, form, _preview(track),
                                     any(r.category is None and r.chain_level is None for r in rules)))
    return render_template("admin/routing.html", sections=sections,
                           channel_names={c.id: c.name for c in channels}), status


@bp.get("/routing", endpoint="routing")
@level(ADMIN)
def routing():
    return _page()


@bp.post("/routing/<track>", endpoint="add_rule")
@level(ADMIN)
def add_rule(track):
    if track not in TRACKS:
        abort(404)
    session = db.session()
    channels = list(session.scalars(select(Channel).order_by(Channel.name)))
    form = _rule_form(track, channels, posted=True)
    if form.validate():
        chosen = session.get(Channel, form.channel_id.data)
        level_code = form.chain_level.data if track == OBSTACLE else None
        try:
            setup.add_rule(session, g.staff.user, track, form.category.data or None, level_code or None, chosen)
        except setup.SetupRefused as refusal:
            form.channel_id.errors = [refusals.message(refusal.code)]
        else:
            flash(_("The rule was added. The preview shows where each kind of report goes now."))
            return redirect(url_for("admin.routing", _anchor=f"routing-{track}"))
    elif form.csrf_token.errors:
        abort(400)
    return _page(form, track, 400)


@bp.post("/routing/rules/<rule_id>/delete", endpoint="delete_rule")
@level(ADMIN)
def delete_rule(rule_id):
    rule = db.session().get(RoutingRule, rule_id)
    if rule is None:
        abort(404)
    if not PlainForm().validate():
        abort(400)
    track = rule.track
    setup.delete_rule(db.session(), g.staff.user, rule)
    flash(_("The rule was deleted."))
    return redirect(url_for("admin.routing", _anchor=f"routing-{track}"))
