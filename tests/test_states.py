"""Each state machine is one definition: the CHECK constraints, the labels and
the transition tables read the same enum."""

from __future__ import annotations

import json

import pytest
from flask_babel import force_locale

from award_service import states
from award_service.awards.models import AWARD_TRANSITIONS, Award, AwardStatus
from award_service.ceremonies.models import Ceremony, Registration
from award_service.ceremonies.states import (
    CEREMONY_TRANSITIONS,
    REGISTRATION_TRANSITIONS,
    CeremonyStatus,
    RegistrationStatus,
)
from award_service.mail.models import OUTBOX_TRANSITIONS, OutboxMessage, OutboxStatus
from award_service.nominations import workflow
from award_service.nominations.models import Nomination
from award_service.nominations.workflow import NominationStatus

MACHINES = [
    (Ceremony, CeremonyStatus),
    (Registration, RegistrationStatus),
    (Nomination, NominationStatus),
    (Award, AwardStatus),
    (OutboxMessage, OutboxStatus),
]


@pytest.mark.parametrize(("model", "enum"), MACHINES, ids=lambda x: getattr(x, "__name__", ""))
def test_the_check_constraint_lists_exactly_the_enum(model, enum):
    [check] = [c for c in model.__table__.constraints if (c.name or "").endswith("status_known")]
    allowed = {part.strip(" '") for part in str(check.sqltext).split("(", 1)[1].rstrip(")").split(",")}
    assert allowed == set(enum.values())


@pytest.mark.parametrize(
    "table",
    [
        {a: (sources, target) for a, (sources, target) in CEREMONY_TRANSITIONS.items()},
    ],
)
def test_ceremony_transitions_use_known_states(table):
    for action, (sources, target) in table.items():
        assert action in states._MACHINES["ceremony_action"].values()
        assert set(sources) | {target} <= set(CeremonyStatus.values())


@pytest.mark.parametrize(
    ("table", "enum"),
    [
        (REGISTRATION_TRANSITIONS, RegistrationStatus),
        (AWARD_TRANSITIONS, AwardStatus),
        (OUTBOX_TRANSITIONS, OutboxStatus),
    ],
)
def test_every_state_has_its_row_of_the_table(table, enum):
    assert set(table) == set(enum.values())
    assert set().union(*table.values()) <= set(enum.values())


def test_nomination_workflow_uses_its_enums():
    for t in workflow.TRANSITIONS:
        assert isinstance(t.source, NominationStatus) and isinstance(t.target, NominationStatus)
    assert set(workflow.STATUS_LABELS) == set(NominationStatus.values())
    assert "award" not in workflow.ACTIONS  # only marking the award presented takes that step


def test_members_are_their_stored_strings():
    assert RegistrationStatus.WAITLISTED == "waitlisted"
    assert json.dumps({"status": RegistrationStatus.WAITLISTED}) == '{"status": "waitlisted"}'
    assert f"{CeremonyStatus.DRAFT}" == "draft"


def test_labels_are_translated_and_looked_up_by_stored_value(app):
    with app.test_request_context(), force_locale("ru"):
        assert str(states.label("registration", "waitlisted")) == "В листе ожидания"
        assert str(states.label("ceremony", "draft", phrase=True)) != str(states.label("ceremony", "draft"))
        assert states.label("registration", "no-such-state") == "no-such-state"


def test_a_machine_name_is_taken_once():
    with pytest.raises(ValueError):
        states.machine("registration")(CeremonyStatus)
