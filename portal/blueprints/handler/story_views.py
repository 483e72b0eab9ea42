"""Stories of removed obstacles: the author's edits on the closed case, and
the review list where a second person approves, edits, rejects or
withdraws them."""
from __future__ import annotations

from flask import abort, g, redirect, render_template, url_for

from ...models import PublishedSummary
from ...reports import stories
from ...web import db
from ...web.forms import PlainForm
from ...web.staff_access import REVIEW, level
from . import bp
from .forms import StoryForm


def _story(story_id: str) -> PublishedSummary:
    story = db.session().get(PublishedSummary, story_id)
    if story is None:
        abort(404)
    return story


def _review_page(status: int = 200, **posted):
    """The review list; `posted`: a form sent back with errors, by story id
    (what the reviewer typed stays)."""
    user = g.staff.user
    drafts = stories.to_review(db.session(), user)
    forms = {story.id: posted.get(story.id) or StoryForm.of(story) for story in drafts}
    return render_template("handler/stories.html", drafts=drafts, forms=forms,
                           published=stories.decided_by_others(db.session(), user),
                           plain_form=PlainForm(formdata=None)), status


@bp.get("/stories")
@level(REVIEW)
def story_reviews():
    return _review_page()


@bp.post("/stories/<story_id>/approve")
@level(REVIEW)
def approve_story(story_id):
    story, form = _story(story_id), StoryForm()
    if not form.validate():
        return _review_page(400, **{story_id: form})
    try:
        published = stories.approve(db.session(), g.staff.user, story, form.text())
    except stories.StoryRefused:
        abort(403)
    return redirect(url_for("handler.story_reviews", **({"published": 1} if published else {"edited": 1})))


@bp.post("/stories/<story_id>/reject")
@level(REVIEW)
def reject_story(story_id):
    if not PlainForm().validate():
        abort(400)
    try:
        stories.reject(db.session(), g.staff.user, _story(story_id))
    except stories.StoryRefused:
        abort(403)
    return redirect(url_for("handler.story_reviews"))


@bp.post("/stories/<story_id>/withdraw")
@level(REVIEW)
def withdraw_story(story_id):
    if not PlainForm().validate():
        abort(400)
    try:
        stories.withdraw(db.session(), g.staff.user, _story(story_id))
    except stories.StoryRefused:
        abort(403)
    return redirect(url_for("handler.story_reviews"))
