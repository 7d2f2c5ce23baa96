"""The nomination workflow: one table says which action leads from which
state to which, and who may take it.

    draft -> submitted -> recommended -> approved -> awarded
    returned (changes requested; the nominator edits and resubmits)
    rejected (final), withdrawn (by the nominator, before approval)

The database CHECK constraint on nominations.status keeps the states valid;
:func:`award_service.nominations.service.transition` applies a row of this
table with a conditional UPDATE, so two people acting at once get one winner.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Transition:
    action: str
    source: str
    target: str
    role: str
    needs_reason: bool = False
    needs_decree: bool = False


TRANSITIONS: tuple[Transition, ...] = (
    Transition("submit", "draft", "submitted", "nominator"),
    Transition("submit", "returned", "submitted", "nominator"),
    Transition("withdraw", "draft", "withdrawn", "nominator"),
    Transition("withdraw", "submitted", "withdrawn", "nominator"),
    Transition("withdraw", "returned", "withdrawn", "nominator"),
    Transition("withdraw", "recommended", "withdrawn", "nominator"),
    Transition("recommend", "submitted", "recommended", "reviewer"),
    Transition("return", "submitted", "returned", "reviewer", needs_reason=True),
    Transition("reject", "submitted", "rejected", "reviewer", needs_reason=True),
    Transition("approve", "recommended", "approved", "commission", needs_decree=True),
    Transition("return", "recommended", "returned", "commission", needs_reason=True),
    Transition("reject", "recommended", "rejected", "commission", needs_reason=True),
    # Taken only by marking the award presented (awards.service.mark_presented,
    # which records the date), never through the transitions endpoint.
    Transition("award", "approved", "awarded", "clerk"),
)
# What the transitions endpoint and the bulk forms accept.
ACTIONS = ("submit", "recommend", "approve", "return", "reject", "withdraw")
_BY_KEY = {(t.action, t.source): t for t in TRANSITIONS}


def find(action: str, source: str) -> Transition | None:
    return _BY_KEY.get((action, source))


def available(source: str) -> list[Transition]:
    return [t for t in TRANSITIONS if t.source == source]


# Whose queue a state is: "waiting for me".
QUEUE_STATES = {
    "nominator": ("draft", "returned"),
    "reviewer": ("submitted",),
    "commission": ("recommended",),
    "clerk": ("approved",),
}
