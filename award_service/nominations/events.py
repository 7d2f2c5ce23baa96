"""What the nominations workflow announces to the layers above it.

:data:`approved` is sent inside the approval's transaction, after the quota is
taken, with the nominations approved under one decree (in id order).  The award
register (``award_service.awards``) connects to it and issues the certificates
in the same transaction; a receiver that raises rolls the approval back.
Signals (blinker, which Flask ships) let the workflow sit below the register
without importing it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from blinker import Namespace

from ..actor import Actor

_signals = Namespace()

approved = _signals.signal("nominations-approved", doc="nominations approved under a decree (in the transaction)")


def send_approved(session: Any, actor: Actor, nominations: list[Any], *, decree_number: str, decree_date: date) -> None:
    """Tell the receivers; refuse to approve when nobody would issue the awards
    (an app assembled without the award register would approve without them)."""
    if not approved.receivers:
        raise RuntimeError("no award register is connected to nominations.events.approved")
    approved.send(session, actor=actor, nominations=nominations, decree_number=decree_number, decree_date=decree_date)
