"""Each vocabulary is declared once (domain/taxonomy.py, attachments/cleaning/
findings.py) and labelled once (web/labels.py): every code has a Swedish and
an English label, and no label exists without a code. Answer codes also have
a sealing label each, unchanged from the bytes stored data was written with."""
import pytest
from flask_babel import force_locale

from portal import create_app
from portal.attachments.cleaning import findings
from portal.domain import taxonomy
from portal.insights import tables
from portal.models.stats import STORY_STATES
from portal.reports import sealing
from portal.web import labels

VOCABULARIES = [
    ("tracks", taxonomy.TRACKS, labels.TRACKS),
    ("obstacle categories", taxonomy.CATEGORIES[taxonomy.OBSTACLE], labels.CATEGORIES[taxonomy.OBSTACLE]),
    ("misconduct categories", taxonomy.CATEGORIES[taxonomy.MISCONDUCT], labels.CATEGORIES[taxonomy.MISCONDUCT]),
    ("chain levels", taxonomy.CHAIN_LEVELS, labels.CHAIN_LEVELS),
    ("principles", taxonomy.PRINCIPLES, labels.PRINCIPLES),
    ("time lost", taxonomy.TIME_LOST_RANGES, labels.TIME_LOST),
    ("statuses", taxonomy.STATUSES, labels.STATUSES),
    ("outcomes", taxonomy.OUTCOMES, labels.OUTCOMES),
    ("message kinds", taxonomy.MESSAGE_KINDS, labels.MESSAGE_KINDS),
    ("answers", taxonomy.ANSWERS, labels.ANSWERS),
    ("cleaning findings", findings.REMOVED, labels.CLEANING),
    ("cleaning warnings", findings.WARNINGS, labels.CLEANING_WARNINGS),
    ("insight states", tables.STATES, labels.INSIGHT_STATES),
    ("insight groups", tables.GROUPS, labels.INSIGHT_GROUPS),
    ("insight tables", tables.QUARTER_TABLES + tables.YEAR_TABLES, labels.INSIGHT_TABLES),
    ("story states", STORY_STATES, labels.STORY_STATES),
]


@pytest.fixture(scope="module")
def app_context(tmp_path_factory):
    from support import make_settings

    path = tmp_path_factory.mktemp("vocabularies")
    with create_app(make_settings(path, f"sqlite:///{path / 'unused.sqlite3'}")).app_context():
        yield


@pytest.mark.parametrize(("name", "codes", "mapping"), VOCABULARIES, ids=[v[0] for v in VOCABULARIES])
def test_codes_and_labels_match(name, codes, mapping):
    assert len(set(codes)) == len(codes), f"{name}: a code is declared twice"
    assert set(mapping) == set(codes)


@pytest.mark.parametrize(("name", "codes", "mapping"), VOCABULARIES, ids=[v[0] for v in VOCABULARIES])
def test_every_label_reads_in_swedish_and_english(app_context, name, codes, mapping):
    for code in codes:
        with force_locale("en"):
            english = str(mapping[code])
        with force_locale("sv"):
            swedish = str(mapping[code])
        assert english.strip() and swedish.strip(), (name, code)
        assert swedish != english, f"{name}: {code} has no Swedish label"


def test_codes_used_in_the_domain_rules_are_declared():
    assert set(taxonomy.HANDLER_KINDS) <= set(taxonomy.MESSAGE_KINDS)
    assert taxonomy.OUTCOME_REMOVED in taxonomy.OUTCOMES
    assert set(taxonomy.ANSWERS) == {code for track in taxonomy.TRACKS for code in taxonomy.ANSWER_FIELDS[track]}


def test_every_answer_has_its_stored_sealing_label():
    # The exact bytes in the associated data of answers written since the first release.
    assert dict(sealing.ANSWER_LABELS) == {code: f"answer:{code}" for code in taxonomy.ANSWERS}
    assert dict(sealing.CHAINED_ANSWER_LABELS) == {code: f"answer2:{code}" for code in taxonomy.ANSWERS}
    assert (sealing.MESSAGE_LABEL, sealing.NOTE_LABEL, sealing.ATTACHMENT_META_LABEL) == \
        ("message", "note", "attachment-meta")
    assert len(set(sealing.FIELD_LABELS)) == len(sealing.FIELD_LABELS)


def test_each_form_maps_every_answer_of_its_track():
    from portal.blueprints.reporter.forms import MisconductForm, ObstacleForm

    for track, form in ((taxonomy.OBSTACLE, ObstacleForm), (taxonomy.MISCONDUCT, MisconductForm)):
        assert tuple(form.answer_fields) == taxonomy.ANSWER_FIELDS[track]
        assert all(hasattr(form, field) for field in form.answer_fields.values())
