"""SQLAlchemy models, one module per aggregate. Importing this registers all tables."""
from .audit import AuditEvent, AuditHead
from .base import Base, new_id
from .case_counts import CaseCount
from .channel import Channel, Membership, RoutingRule, Unit
from .report import (
    Answer,
    Attachment,
    AttachmentChunk,
    Exclusion,
    KeyGrant,
    Message,
    Note,
    Report,
    ReportKey,
    StatusEvent,
)
from .settings import Setting
from .stats import PublishedSummary, StatsRelease
from .submission import UsedFormToken
from .trust import RecipientStatement
from .user import ServerSession, User

__all__ = [
    "Answer", "Attachment", "AttachmentChunk", "AuditEvent", "AuditHead", "Base", "CaseCount", "Channel", "Exclusion",
    "KeyGrant", "Membership", "Message", "Note", "PublishedSummary", "RecipientStatement", "Report", "ReportKey",
    "RoutingRule", "ServerSession", "Setting", "StatsRelease", "StatusEvent", "Unit", "UsedFormToken", "User",
    "new_id",
]
