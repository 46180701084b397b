"""Recording an unmasking from a view (issue 16 §6): the view owns the transaction (issue 15).

A GET request's session is read-only: the pi.unmask event is written in a short transaction of its
own (registry.platform.db.writing) and committed before the data is shown; objects loaded before are
expired by the commit and reload on access.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from registry.platform.db import writing
from registry.privacy import unmask


def recorded(session: Session, *args: Any, **kwargs: Any) -> int:
    """Append the pi.unmask event (registry.privacy.unmask.record's arguments) and commit it."""
    with writing(session):
        event_id = unmask.record(session, *args, **kwargs)
        session.commit()
    return event_id
