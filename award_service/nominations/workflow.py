"""The nomination workflow: one table says which action leads from which
state to which, and who may take it.

    draft -> submitted -> recommended -> approved -> awarded
    returned (changes requested; the nominator edits and resubmits)
    rejected (final), withdrawn (by the nominator, before approval)

The states and actions are defined once here (models' CHECK constraints, forms,
pages and the API read them); the database CHECK keeps the stored states valid;
:func:`award_service.nominations.transitions.transition` applies a row of this
table with a conditional UPDATE, so two people acting at once get one winner.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from ..states import Labelled, machine


@machine("nomination")
class NominationStatus(Labelled):
    DRAFT = "draft", _l("draft")
    SUBMITTED = "submitted", _l("submitted")
    RECOMMENDED = "recommended", _l("recommended")
    APPROVED = "approved", _l("approved")
    AWARDED = "awarded", _l("awarded")
    RETURNED = "returned", _l("returned for changes")
    REJECTED = "rejected", _l("rejected")
    WITHDRAWN = "withdrawn", _l("withdrawn")


@machine("nomination_action")
class NominationAction(Labelled):
    SUBMIT = "submit", _l("Submit")
    RECOMMEND = "recommend", _l("Recommend")
    APPROVE = "approve", _l("Approve")
    RETURN = "return", _l("Return for changes")
    REJECT = "reject", _l("Reject")
    WITHDRAW = "withdraw", _l("Withdraw")
    AWARD = "award", _l("Mark presented")


S, A = NominationStatus, NominationAction
# A nomination in one of these still holds its place: a second one for the
# same person (IIN) and medal is refused.
INACTIVE_STATUSES = (S.REJECTED.value, S.WITHDRAWN.value)


@dataclass(frozen=True)
class Transition:
    action: NominationAction
    source: NominationStatus
    target: NominationStatus
    role: str
    needs_reason: bool = False
    needs_decree: bool = False


TRANSITIONS: tuple[Transition, ...] = (
    Transition(A.SUBMIT, S.DRAFT, S.SUBMITTED, "nominator"),
    Transition(A.SUBMIT, S.RETURNED, S.SUBMITTED, "nominator"),
    Transition(A.WITHDRAW, S.DRAFT, S.WITHDRAWN, "nominator"),
    Transition(A.WITHDRAW, S.SUBMITTED, S.WITHDRAWN, "nominator"),
    Transition(A.WITHDRAW, S.RETURNED, S.WITHDRAWN, "nominator"),
    Transition(A.WITHDRAW, S.RECOMMENDED, S.WITHDRAWN, "nominator"),
    Transition(A.RECOMMEND, S.SUBMITTED, S.RECOMMENDED, "reviewer"),
    Transition(A.RETURN, S.SUBMITTED, S.RETURNED, "reviewer", needs_reason=True),
    Transition(A.REJECT, S.SUBMITTED, S.REJECTED, "reviewer", needs_reason=True),
    Transition(A.APPROVE, S.RECOMMENDED, S.APPROVED, "commission", needs_decree=True),
    Transition(A.RETURN, S.RECOMMENDED, S.RETURNED, "commission", needs_reason=True),
    Transition(A.REJECT, S.RECOMMENDED, S.REJECTED, "commission", needs_reason=True),
    # Taken only by marking the award presented (awards.service.mark_presented,
    # which records the date), never through the transitions endpoint.
    Transition(A.AWARD, S.APPROVED, S.AWARDED, "clerk"),
)
# What the transitions endpoint and the bulk forms accept.
ACTIONS = tuple(a.value for a in A if a is not A.AWARD)
STATUS_LABELS = NominationStatus.labels()
ACTION_LABELS = {a: A(a).label for a in ACTIONS}
# Keyed by plain strings: the members are str enums, so either kind of key finds its row.
_BY_KEY: dict[tuple[str, str], Transition] = {(t.action, t.source): t for t in TRANSITIONS}


def find(action: str, source: str) -> Transition | None:
    return _BY_KEY.get((action, source))


def available(source: str) -> list[Transition]:
    return [t for t in TRANSITIONS if t.source == source]


# Whose queue a state is: "waiting for me".
QUEUE_STATES = {
    "nominator": (S.DRAFT.value, S.RETURNED.value),
    "reviewer": (S.SUBMITTED.value,),
    "commission": (S.RECOMMENDED.value,),
    "clerk": (S.APPROVED.value,),
}
