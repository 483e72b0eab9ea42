"""Translated labels of the codes declared in domain/taxonomy.py and
attachments/cleaning/findings.py: codes are declared there, labels only here
(tests/unit/test_vocabularies.py checks that the two match)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

TRACKS = {
    "obstacle": _l("Obstacle"),
    "misconduct": _l("Misconduct"),
}

CATEGORIES = {
    "obstacle": {
        "unnecessary_control": _l("Unnecessary control or detail steering"),
        "reporting_burden": _l("Reporting and measurement burden"),
        "administrative_burden": _l("Administrative burden"),
        "conflicting_rules": _l("Conflicting rules or goals"),
        "it_systems": _l("IT and systems"),
        "missing_support": _l("Missing support"),
        "other": _l("Other"),
    },
    "misconduct": {
        "corruption": _l("Corruption or bribery"),
        "fraud": _l("Fraud or misuse of funds"),
        "safety_environment": _l("Safety or environment"),
        "breach_of_law": _l("Breach of law or regulation"),
        "harassment": _l("Harassment or discrimination"),
        "other": _l("Other"),
    },
}

CHAIN_LEVELS = {
    "political": _l("Political decisions"),
    "management": _l("Management"),
    "staff_functions": _l("Staff functions (HR, finance, IT, ...)"),
    "supervisory_authority": _l("A supervisory authority"),
    "standard_setting_body": _l("An evaluating or standard-setting body"),
    "cooperating_party": _l("A cooperating party"),
    "laws_regulations": _l("Laws and regulations"),
    "own_unit": _l("My own unit"),
    "unknown": _l("Don't know"),
}

PRINCIPLES = {
    "trust": _l("Trust"),
    "citizen_focus": _l("Citizen focus"),
    "holistic_view": _l("Holistic view"),
    "room_to_act": _l("Room to act"),
    "support": _l("Support"),
    "knowledge": _l("Knowledge"),
    "openness": _l("Openness"),
}

# One line on each principle of trust-based governance, beside the choice.
PRINCIPLE_HINTS = {
    "trust": _l("Staff are trusted to use their judgement, instead of being checked in detail."),
    "citizen_focus": _l("The work starts from what the people we serve need."),
    "holistic_view": _l("Everyone sees the whole chain and works across boundaries, not only in their own part."),
    "room_to_act": _l("Staff have room to use their knowledge and act as each situation needs."),
    "support": _l("Management and support functions make the core work easier."),
    "knowledge": _l("Decisions build on knowledge and experience, staff's own included."),
    "openness": _l("Problems and ideas can be raised openly, without fear."),
}

TIME_LOST = {
    "lt1": _l("Less than 1 hour a week"),
    "1to3": _l("1 to 3 hours a week"),
    "3to8": _l("3 to 8 hours a week"),
    "gt8": _l("More than 8 hours a week"),
}

STATUSES = {
    "new": _l("Received"),
    "acknowledged": _l("Acknowledged"),
    "in_progress": _l("In progress"),
    "closed": _l("Closed"),
}

OUTCOMES = {
    "removed": _l("Obstacle removed"),
    "changed": _l("Changed"),
    "explained": _l("Explained"),
    "referred": _l("Referred elsewhere"),
    "not_actionable": _l("Not actionable"),
    "confirmed": _l("Substantiated"),
    "unfounded": _l("Not substantiated"),
}

MESSAGE_KINDS = {
    "message": _l("Message"),
    "meeting_request": _l("Meeting request"),
    "minutes": _l("Minutes of a meeting"),
    "feedback": _l("Feedback"),
    "minutes_confirmed": _l("Minutes confirmed"),
}

CLEANING = {
    "exif": _l("camera and EXIF data"),
    "gps": _l("location (GPS)"),
    "thumbnail": _l("preview image"),
    "xmp": _l("XMP metadata"),
    "iptc": _l("IPTC data (author, captions)"),
    "icc_profile": _l("colour profile"),
    "comment": _l("embedded comments"),
    "png_text": _l("text fields"),
    "other_metadata": _l("other metadata"),
    "extra_images": _l("extra embedded images"),
    "animation_frames": _l("animation frames beyond the first"),
    "office_paths": _l("folder paths (they can contain your user name)"),
    "pdf_info": _l("document properties (author, creator, dates)"),
    "pdf_xmp": _l("XMP metadata"),
    "pdf_page_metadata": _l("page metadata"),
    "pdf_annot_author": _l("comment authors and dates"),
    "pdf_attachments": _l("embedded files"),
    "office_core": _l("document properties (author, dates)"),
    "office_app": _l("application properties (company, template)"),
    "office_custom": _l("custom properties"),
    "signature": _l("digital signatures"),
    "odf_meta": _l("document properties (author, dates)"),
    "zip_timestamps": _l("file dates inside the document"),
}

CLEANING_WARNINGS = {
    "unsupported_type": _l("This kind of file cannot be cleaned automatically and may contain details about you, "
                           "such as an author name."),
    "too_large_to_clean": _l("This file is too large to be cleaned automatically and may contain details about you."),
    "could_not_parse": _l("This file could not be read for cleaning and may contain details about you."),
}

# Headings for the encrypted answers when a report is read back.
ANSWERS = {
    "today": _l("What happens today?"),
    "change": _l("What should change?"),
    "what": _l("What happened?"),
    "when": _l("When did it happen? (optional)"),
    "who": _l("Who is involved? (optional)"),
    "evidence": _l("Is there evidence, or others who know? (optional)"),
    "contact": _l("Your name or contact details (optional; leave empty to stay anonymous)"),
}

# The insights pages (codes in insights/tables.py).
INSIGHT_STATES = {
    "new": _l("New, not yet acknowledged"),
    "in_progress": _l("In progress"),
    "stale": _l("No update in 8 weeks"),
    "removed_recently": _l("Removed this quarter"),
    "removed_earlier": _l("Removed earlier"),
    "closed_other": _l("Closed another way"),
}

INSIGHT_GROUPS = {
    "not_stated": _l("Not stated"),
    "no_unit": _l("No unit given"),
    "other_units": _l("Other units, or none given (each too few to show)"),
    "met": _l("In time"),
    "missed": _l("Late"),
    "received": _l("Received"),
    "open": _l("Still open"),
}

INSIGHT_TABLES = {
    "category": _l("Obstacles reported, by kind"),
    "chain_level": _l("Obstacles reported, by where in the governance chain they arise"),
    "principle": _l("Obstacles reported, by the principle they hinder"),
    "unit": _l("Obstacles reported, by unit"),
    "outcome": _l("Obstacles closed, by outcome"),
    "removed_category": _l("Obstacles removed, by kind"),
    "status": _l("Where the obstacles of the last four quarters stand"),
    "acknowledgement": _l("Acknowledgements due, by channel: in time (7 days) or late"),
    "feedback": _l("Feedback due, by channel: in time (3 months) or late"),
    "misconduct_received": _l("Misconduct reports received"),
    "misconduct_outcome": _l("Misconduct reports closed, by outcome"),
}

# How the statistics are protected, in plain words (page and open data).
INSIGHT_METHOD = (
    _l("The figures count reports by the choices reporters made in the form (kind, where in the governance chain, "
       "principle, unit) and by what case handlers recorded (status, outcome, dates). "
       "Nothing anyone wrote is counted."),
    _l("Figures are published per quarter once it has ended, and then kept as first published. A later correction is "
       "shown only if it hides exactly what the first release hid."),
    _l("A count of 1 to %(k)d is never shown (for misconduct reports 1 to %(k_misconduct)d); if a quarter has fewer "
       "reports than that, none of its figures are shown. Where a count is hidden, enough other counts are hidden "
       "with it, zeros included, that neither the totals nor which counts are hidden can be used to work it out."),
    _l("Every unit is counted on its own and protected like the other counts. Misconduct reports are shown only as "
       "yearly totals, and their outcomes once, on 1 July the year after, when the cases have had time to close."),
    _l("The status table and the outcome table count some of the same cases (an obstacle removed this quarter is in "
       "both). The status table is therefore shown whole or not at all: if any status holds too few, rests on a "
       "hidden count, or is one of only two that can hold cases, only its total is shown."),
)

STORY_STATES = {
    "draft": _l("Draft: waiting for a second person to approve it (another handler of the channel, or an admin)."),
    "approved": _l("Published on the insights page."),
    "rejected": _l("Rejected: it will not be published."),
    "withdrawn": _l("Withdrawn from the insights page."),
}

ROLES = {
    "handler": _l("case handler"),
    "admin": _l("administrator"),
    "viewer": _l("leadership"),
}

# What the audit log's action codes mean, as the case page and the
# administration show them (the codes stay in the log and in exports).
AUDIT_ACTIONS = {
    "case.view": _l("Opened the case"),
    "case.new": _l("Marked the case as received"),
    "case.acknowledged": _l("Acknowledged receipt"),
    "case.in_progress": _l("Started work"),
    "case.closed": _l("Closed the case"),
    "case.message": _l("Wrote to the reporter"),
    "case.feedback": _l("Gave feedback to the reporter"),
    "case.minutes": _l("Wrote minutes of a meeting"),
    "case.note": _l("Added an internal note"),
    "case.download": _l("Downloaded a file"),
    "case.export": _l("Exported the case"),
    "case.key_granted": _l("Gave a colleague access"),
    "case.handed": _l("Handed the case to a colleague"),
    "case.purge": _l("Deleted after its retention time"),
    "story.draft": _l("Drafted a story"),
    "story.edit": _l("Edited a story"),
    "story.approve": _l("Approved a story"),
    "story.reject": _l("Rejected a story"),
    "story.withdraw": _l("Withdrew a story"),
    "auth.login": _l("Signed in"),
    "auth.login_failed": _l("Failed sign-in"),
    "auth.enrol": _l("Set up two-step sign-in"),
    "auth.recovered": _l("Used the recovery key"),
    "auth.recovery_failed": _l("Failed use of a recovery key"),
    "auth.reauth_failed": _l("Failed to confirm the password"),
    "auth.password_changed": _l("Changed the password"),
    "auth.password_change_failed": _l("Failed to change the password"),
    "auth.password_ok_enrolment_needed": _l("Password accepted; two-step sign-in still to set up"),
    "user.create": _l("Created an account"),
    "user.roles": _l("Changed an account's roles"),
    "user.deactivate": _l("Deactivated an account"),
    "user.reactivate": _l("Reactivated an account"),
    "channel.member_added": _l("Added a member to a channel"),
    "channel.member_removed": _l("Removed a member from a channel"),
    "channel.create": _l("Created a channel"),
    "channel.update": _l("Changed a channel"),
    "unit.create": _l("Added a unit"),
    "unit.rename": _l("Renamed a unit"),
    "unit.retire": _l("Retired a unit"),
    "unit.restore": _l("Brought back a unit"),
    "routing.add": _l("Added a routing rule"),
    "routing.delete": _l("Removed a routing rule"),
    "settings.thresholds": _l("Changed the statistics thresholds"),
    "settings.texts": _l("Changed the texts reporters see"),
    "grant.refused": _l("Refused a colleague access"),
    "trust.recipient_signed": _l("Vouched for a colleague's key"),
    "trust.key_mismatch": _l("Key did not match the vouched one"),
}

# The audit log page's filter: an action code's group is what precedes its dot.
AUDIT_ACTION_GROUPS = {
    "auth": _l("Sign-in and passwords"),
    "case": _l("Cases"),
    "story": _l("Stories"),
    "user": _l("People"),
    "channel": _l("Channels"),
    "unit": _l("Units"),
    "routing": _l("Routing rules"),
    "settings": _l("Settings"),
    "grant": _l("Access requests"),
    "trust": _l("Trust anchor and keys"),
}

# What an audit event acts on (its target_type).
AUDIT_TARGETS = {
    "user": _l("Account"),
    "channel": _l("Channel"),
    "unit": _l("Unit"),
    "report": _l("Case"),
    "story": _l("Story"),
}

# The keys of an audit event's details; an unknown key is shown as recorded.
AUDIT_DETAILS = {
    "after": _l("After"),
    "attachment_id": _l("File"),
    "before": _l("Before"),
    "case_keys_moved": _l("Case keys moved to the new key pair"),
    "cases": _l("Number of cases"),
    "category": _l("Category"),
    "chain_level": _l("Where in the governance chain"),
    "changed": _l("Texts changed"),
    "description": _l("Description"),
    "description_en": _l("Description in English"),
    "name": _l("Name"),
    "name_en": _l("Name in English"),
    "texts": _l("Texts, before → after"),
    "channel_id": _l("Channel"),
    "files": _l("Files"),
    "fingerprint": _l("Key fingerprint"),
    "format": _l("Format"),
    "grants_requested": _l("Cases waiting to be shared"),
    "k": _l("Smallest count shown"),
    "k_misconduct": _l("Smallest count shown for misconduct reports"),
    "key_version": _l("Key version"),
    "keys_destroyed": _l("Case keys destroyed"),
    "new_key_pair": _l("New key pair"),
    "outcome": _l("Outcome"),
    "on": _l("Day"),
    "requested_by": _l("Requested by"),
    "retention_months": _l("Keep closed cases for (months)"),
    "roles": _l("Roles"),
    "sealed": _l("Older case sealed"),
    "second_factor": _l("Two-step sign-in set up"),
    "secrecy_mark": _l("Secrecy mark"),
    "track": _l("Track"),
    "user_id": _l("Colleague"),
    "via": _l("Key used"),
}

# Recorded detail values that are codes of their own (other codes have the
# vocabularies above).
AUDIT_DETAIL_VALUES = {
    "format": {"html": _l("Printable page"), "json": "JSON"},
    "via": {"escrow": _l("the escrow key")},
}
