"""Who receives a report's key: the channel's active handlers whom the reporter
did not exclude, at once if the trust anchor vouches for their current key,
otherwise as a pending grant. The escrow key, when configured, receives every
report key too, so a report may wait for its readers."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from config import Settings

from ..domain import routing
from ..models import User
from ..organisation.channels import channel_handlers
from ..trust.statements import anchored


@dataclass(frozen=True)
class Recipients:
    handlers: list[User]  # every active handler of the channel: the reporter may exclude any
    readers: list[User]  # those the anchor vouches for: they get the key at once
    escrow: bool  # the escrow key gets it too, and can give it to the others later

    def check(self, excluded: set[str]) -> list[str]:
        """The ids that will receive the report; routing.ExclusionError if nobody could read it."""
        return routing.recipients_after_exclusion([h.id for h in self.handlers], excluded,
                                                  [r.id for r in self.readers], may_wait=self.escrow)


def channel_recipients(db: Session, settings: Settings, channel_id: str, *, for_share: bool = False) -> Recipients:
    """routing.NoReaderError when a report to this channel would reach nobody."""
    handlers = channel_handlers(db, channel_id, for_share=for_share)
    readers = anchored(db, settings, handlers, channel_id)
    escrow = bool(settings.escrow_public_key)
    if not readers and not (escrow and handlers):
        raise routing.NoReaderError(f"channel {channel_id} has no trusted reader")
    return Recipients(handlers, readers, escrow)
