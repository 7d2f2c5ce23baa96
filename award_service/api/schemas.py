"""What the API accepts: request bodies and query strings, declared once.

Limits are read from where the services keep them (the models' column
lengths, the services' constants and patterns), never written here again.
Unknown keys are ignored, as the services ignore them."""
from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from ..awards import pdf
from ..awards.service import MAX_SERIALS
from ..ceremonies.models import CATEGORIES, MAX_COMPANIONS, REGISTRATION_STATUSES, Ceremony, Registration
from ..ceremonies.validation import MAX_CAPACITY, NEED_CODES
from ..districts.models import District
from ..districts.service import CODE_RE as DISTRICT_CODE_RE
from ..medals.models import Medal
from ..medals.service import CODE_RE as MEDAL_CODE_RE
from ..medals.service import MAX_QUOTA, PREFIX_RE
from ..nominations.models import NOMINEE_CATEGORIES, STATUSES, Nomination, Nominee
from ..nominations.workflow import ACTIONS

PAGE_MAX = 1_000_000
PER_PAGE_MAX = 500
PER_PAGE_DEFAULT = 100
CANCEL_REASON_MAX = 500
AWARD_FILTER_STATUSES = ("valid", "revoked", "presented", "not_presented")
AWARD_YEARS = (1945, 2100)
SEARCH_MAX = 100


def length(column) -> int:
    """The length of a String column: the one place a text field's limit lives."""
    return column.property.columns[0].type.length


def text(column=None, *, description: str | None = None, **kwargs):
    if column is not None:
        kwargs["max_length"] = length(column)
    return Annotated[str, Field(description=description, **kwargs)]


def enum(values):
    """A closed set of strings, from the tuple the models keep (one import each)."""
    return Literal[tuple(values)]


class Input(BaseModel):
    model_config = ConfigDict(extra="ignore")


class DistrictInput(Input):
    code: text(District.code, pattern=DISTRICT_CODE_RE.pattern)
    name_kk: text(District.name_kk)
    name_ru: text(District.name_ru)
    name_en: text(District.name_en)


LocalDateTime = Annotated[str, Field(
    description="ISO 8601, e.g. 2025-05-09T19:00; without an offset it is Kazakhstan time (UTC+5).",
    examples=["2030-05-09T19:00"])]


class CeremonyInput(Input):
    title_kk: text(Ceremony.title_kk)
    title_ru: text(Ceremony.title_ru)
    description_kk: str = ""
    description_ru: str = ""
    starts_at: LocalDateTime
    venue: text(Ceremony.venue)
    address: text(Ceremony.address) = ""
    district: str = Field(description="A district code from GET /districts.")
    capacity: int = Field(ge=1, le=MAX_CAPACITY)
    registration_opens_at: LocalDateTime | None = None
    registration_closes_at: LocalDateTime | None = None
    waitlist: bool = False
    status: Literal["draft", "published"] = "draft"


class NeedsFlags(Input):
    wheelchair: bool = False
    hearing: bool = False
    near_exit: bool = False
    note: text(Registration.needs_note) = ""


class RegistrationInput(Input):
    """At least one of email and phone."""
    full_name: text(Registration.full_name)
    email: text(Registration.email, json_schema_extra={"format": "email"}) | None = None
    phone: str | None = Field(None, description="A Kazakhstan number; stored as +7XXXXXXXXXX.")
    companions: int = Field(0, ge=0, le=MAX_COMPANIONS)
    category: enum(CATEGORIES)
    needs: list[enum(NEED_CODES)] | NeedsFlags | text(Registration.needs_note) | None = Field(
        None, description="A list of needs, an object of flags with an optional note, or a free-text note.")
    consent: bool = Field(description="Must be true: consent to the processing of personal data.",
                          json_schema_extra={"const": True})


class CancelInput(Input):
    reason: Annotated[str, Field(max_length=CANCEL_REASON_MAX)] | None = None


class CheckinInput(Input):
    code: str = Field(description="The ticket code, as scanned or typed (dashes and case do not matter).")
    companions_arrived: int | None = Field(None, ge=0, le=MAX_COMPANIONS,
                                           description="Companions who came; default: all registered.")
    ceremony: int | None = Field(None, description="This door's ceremony: another's ticket is refused "
                                                   "(409 wrong_ceremony).")


Quota = Annotated[int, Field(ge=0, le=MAX_QUOTA)]


class MedalInput(Input):
    code: text(Medal.code, pattern=MEDAL_CODE_RE.pattern)
    name_kk: text(Medal.name_kk)
    name_ru: text(Medal.name_ru)
    name_en: text(Medal.name_en)
    serial_prefix: str = Field(pattern=PREFIX_RE.pattern)
    award_year_from: int = Field(2025, ge=AWARD_YEARS[0], le=AWARD_YEARS[1])
    award_year_to: Annotated[int, Field(ge=AWARD_YEARS[0], le=AWARD_YEARS[1])] | None = None
    quotas: dict[str, Quota] = Field(
        default_factory=dict, description="District code -> quota.")
    signer_title_kk: text(Medal.signer_title_kk) = ""
    signer_title_ru: text(Medal.signer_title_ru) = ""
    signer_name: text(Medal.signer_name) = ""


class QuotaInput(RootModel[dict[str, Quota]]):
    """District code -> quota (not below what is already approved)."""
    error_prefix: ClassVar[str] = "quotas."


class NomineeInput(Input):
    surname: text(Nominee.surname)
    given_name: text(Nominee.given_name)
    patronymic: text(Nominee.patronymic) = ""
    iin: str | int | None = Field(None, description="12 digits (a string, or a number); its checksum and birth "
                                                    "date are checked.")
    birth_date: str = Field(description="2025-05-09 or 09.05.2025.", examples=["1926-03-15"])
    category: enum(NOMINEE_CATEGORIES)
    district: str = Field(description="A district code from GET /districts.")
    address: text(Nominee.address) = ""
    phone: str | None = None


class NominationInput(Input):
    nominee: NomineeInput
    medal: str = Field(description="A medal code from GET /medals.")
    grounds: str


class TransitionInput(Input):
    action: enum(ACTIONS)
    comment: str | None = Field(None, description="Required for return and reject.")
    decree_number: text(Nomination.decree_number, description="Required for approve.") | int | None = None
    decree_date: str | None = Field(None, description="Required for approve.")
    confirm_duplicate: bool = Field(False, description="Submit although a likely duplicate was flagged.")
    version: int | None = Field(None, description="Refused with 409 conflict if it changed meanwhile.")


class RevokeInput(Input):
    reason: str
    reissue: bool = Field(False, description="Issue a new certificate (new serial) in its place.")


class PresentedInput(Input):
    date: str = Field(description="2025-05-09 or 09.05.2025; not in the future, not before the decree.")


class AttachInput(Input):
    serials: list[str] = Field(max_length=MAX_SERIALS)


# --- query strings ---------------------------------------------------------

class Paging(Input):
    page: int = Field(1, ge=1, le=PAGE_MAX)
    per_page: int = Field(PER_PAGE_DEFAULT, ge=1, le=PER_PAGE_MAX)


class RegistrationQuery(Paging):
    q: str | None = Field(None, description="Name, phone or e-mail.")
    status: enum(REGISTRATION_STATUSES) | None = None


class NominationQuery(Paging):
    status: enum(STATUSES) | None = None
    district: str | None = None
    medal: str | None = None
    category: enum(NOMINEE_CATEGORIES) | None = None
    q: Annotated[str, Field(max_length=SEARCH_MAX)] | None = Field(
        None, description="A name in either script, or the start of an IIN.")


class AwardFilters(Input):
    ceremony: int | None = None
    medal: str | None = None
    district: str | None = None
    status: enum(AWARD_FILTER_STATUSES) | None = None
    q: str | None = Field(None, description="Surname (its start) or serial.")


class AwardQuery(AwardFilters, Paging):
    pass


class FormatQuery(Input):
    format: enum(pdf.FORMATS) = Field("a4", description="a4 (landscape) or card (A6, 4 on an A4 sheet).")


class BatchQuery(AwardFilters, FormatQuery):
    pass


class SheetQuery(AwardFilters):
    ceremony: int
