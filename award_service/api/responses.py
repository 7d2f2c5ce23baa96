"""What the API answers: every returned field, declared once.

The views build their bodies from the domain objects and pass them through
:func:`.spec.respond`, which checks them against these models (extra keys are
refused), so a field added to a view and not here fails the tests, and the
OpenAPI document is generated from these same classes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field

from ..awards.models import AwardStatus
from ..ceremonies.states import CeremonyStatus
from .schemas import (
    CategoryName,
    NominationStatusName,
    NomineeCategoryName,
    RegistrationStatusName,
    enum,
)

DateTime = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
Date = Annotated[str, Field(json_schema_extra={"format": "date"})]
REGISTRATION_STATES = ("open", "not_yet", "closed", "full", "cancelled", "draft", "past")

if TYPE_CHECKING:  # the values are read at run time (enum): to the type checker, strings
    AwardStatusName: TypeAlias = str
    CeremonyStatusName: TypeAlias = str
    RegistrationStateName: TypeAlias = str
    SourceName: TypeAlias = str
else:
    AwardStatusName = enum(AwardStatus.values())
    CeremonyStatusName = enum(CeremonyStatus.values())
    RegistrationStateName = enum(REGISTRATION_STATES)
    SourceName = enum(("online", "staff", "api"))


class Output(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorDetail(BaseModel):
    code: str
    message: str = Field(description="In the language of Accept-Language (kk, ru, en).")
    fields: dict[str, str] = Field(description="Field name -> what is wrong with it.")


class Error(BaseModel):
    error: ErrorDetail


class District(Output):
    code: str
    name_kk: str
    name_ru: str
    name_en: str


class DistrictList(Output):
    items: list[District]


class Ceremony(Output):
    id: int
    title_kk: str
    title_ru: str
    title_en: str | None = Field(description="null when not given: English readers see title_ru.")
    description_kk: str
    description_ru: str
    starts_at: DateTime
    venue: str
    venue_kk: str | None = Field(description="null when not given: venue_ru, venue_kk, then venue are shown.")
    venue_ru: str | None
    venue_en: str | None
    address: str
    district: str
    capacity: int
    seats_taken: int
    seats_left: int
    registration_opens_at: DateTime | None
    registration_closes_at: DateTime | None
    registration: RegistrationStateName = Field(description="Whether one can register now.")
    waitlist: bool
    status: CeremonyStatusName


class CeremonyList(Output):
    items: list[Ceremony]


class Needs(Output):
    wheelchair: bool
    hearing: bool
    near_exit: bool
    note: str


class Registration(Output):
    id: int
    ceremony_id: int
    full_name: str
    email: str | None
    phone: str | None
    companions: int
    seats: int
    category: CategoryName
    needs: Needs
    status: RegistrationStatusName
    source: SourceName
    created_at: DateTime
    cancelled_at: DateTime | None
    ticket_code: str
    checked_in_at: DateTime | None
    companions_arrived: int | None


class RegistrationPage(Output):
    ceremony: Ceremony
    items: list[Registration]
    page: int
    per_page: int
    total: int


class RegistrationCreated(Output):
    id: int
    status: Literal["confirmed", "waitlisted"]
    seats: int
    token: str = Field(description="The private manage token.")
    manage_url: str
    position: int = Field(None, description="Only when waitlisted: the place on the waiting list.")  # type: ignore[assignment]  # not nullable in the schema: None is the default only


class PublicRegistration(Output):
    id: int
    status: RegistrationStatusName
    seats: int
    companions: int
    full_name: str
    ceremony: Ceremony
    manage_url: str
    ticket_code: str | None = Field(description="Only while confirmed.")
    checked_in_at: DateTime | None
    position: int | None = Field(description="The place on the waiting list, while waitlisted.")


class Cancelled(Output):
    id: int
    status: RegistrationStatusName
    seats: int


class Checkin(Output):
    registration: Registration
    checked_in_at: DateTime
    already: bool = Field(description="Checked in before: this scan admitted no one.")


class Quota(Output):
    quota: int
    used: int
    left: int


class Medal(Output):
    code: str
    name_kk: str
    name_ru: str
    name_en: str
    serial_prefix: str
    award_year_from: int
    award_year_to: int | None
    active: bool
    signer_title_kk: str
    signer_title_ru: str
    signer_name: str
    quotas: dict[str, Quota] = Field(description="District code -> quota, used and left.")


class MedalList(Output):
    items: list[Medal]


class Nominee(Output):
    surname: str
    given_name: str
    patronymic: str
    full_name: str
    iin: str | None
    birth_date: Date
    category: NomineeCategoryName
    district: str
    address: str
    phone: str | None


class HistoryEntry(Output):
    at: DateTime
    actor: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    comment: str | None


class Nomination(Output):
    id: int
    status: NominationStatusName
    version: int = Field(description="Send it back with a transition to detect conflicts.")
    nominee: Nominee
    medal: str
    district: str
    grounds: str
    possible_duplicate: bool
    duplicate_confirmed: bool
    last_comment: str
    decree_number: str | None
    decree_date: Date | None
    created_at: DateTime
    submitted_at: DateTime | None
    recommended_at: DateTime | None
    approved_at: DateTime | None


class NominationDetail(Nomination):
    history: list[HistoryEntry] = Field(description="Every change: who, when, from and to, why.")


class NominationPage(Output):
    items: list[Nomination]
    page: int
    per_page: int
    total: int


class NominationCreated(Output):
    id: int
    status: NominationStatusName
    possible_duplicate: bool


class TransitionResult(Output):
    id: int
    status: NominationStatusName
    version: int


class Award(Output):
    serial: str = Field(examples=["ULY-00001"])
    status: AwardStatusName
    full_name: str = Field(description="As the certificate prints it (corrected at a reissue, if it was).")
    surname: str
    given_name: str
    patronymic: str
    medal: str
    district: str
    nomination_id: int
    decree_number: str
    decree_date: Date
    ceremony: int | None
    presented_on: Date | None
    revoked_at: DateTime | None
    revoke_reason: str | None
    reissue_of: str | None
    verify_url: str


class AwardDetail(Award):
    history: list[HistoryEntry]


class AwardRevoked(Award):
    reissued_as: Award = Field(None, description="Only after a revoke with reissue: the new award.")  # type: ignore[assignment]  # not nullable in the schema: None is the default only


class AwardPage(Output):
    items: list[Award]
    page: int
    per_page: int
    total: int


class Attached(Output):
    ceremony: int
    serials: list[str]


class Verification(Output):
    status: AwardStatusName
    full_name: str
    medal: str = Field(description="In the language of Accept-Language.")
    serial: str
    decree_date: Date
    revoked_on: Date | None
    replaced_by: str | None = Field(
        description="For a revoked certificate reissued under a new serial: that serial; else null."
    )
