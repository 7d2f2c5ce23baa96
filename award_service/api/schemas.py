"""What the API accepts: request bodies and query strings, declared once.

Limits are read from where the services keep them (the models' column
lengths, the services' constants and patterns), never written here again.
Unknown keys are ignored, as the services ignore them."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, TypeAlias

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, RootModel, StrictBool, StrictInt, WithJsonSchema

from .. import pdf
from ..awards.models import Award
from ..awards.service import MAX_SERIALS
from ..ceremonies.models import CATEGORIES, MAX_COMPANIONS, Ceremony, Registration
from ..ceremonies.states import RegistrationStatus
from ..ceremonies.validation import MAX_CAPACITY, NEED_CODES
from ..districts.models import District
from ..districts.service import CODE_RE as DISTRICT_CODE_RE
from ..medals.models import Medal
from ..medals.service import CODE_RE as MEDAL_CODE_RE
from ..medals.service import MAX_QUOTA, PREFIX_RE
from ..nominations.models import NOMINEE_CATEGORIES, Nomination, Nominee
from ..nominations.workflow import ACTIONS, NominationStatus
from ..parsing import FALSE_VALUES, TRUE_VALUES

PAGE_MAX = 1_000_000
# A path parameter that is a database id (the OpenAPI schema of <int:...> segments).
ID = {"type": "integer"}
PER_PAGE_MAX = 500
PER_PAGE_DEFAULT = 100
CANCEL_REASON_MAX = 500
AWARD_FILTER_STATUSES = ("valid", "revoked", "presented", "not_presented")
AWARD_YEARS = (1945, 2100)
SEARCH_MAX = 100
DB_INT_MAX = 2**31 - 1  # a database integer (ids, versions)


def length(column: Any) -> int:
    """The length of a String column: the one place a text field's limit lives."""
    return column.property.columns[0].type.length


def enum(values: Iterable[str]) -> Any:
    """A closed set of strings, from the state machine or tuple the models keep (one import each).
    Built at run time, so the type checker sees ``str`` (the aliases below)."""
    return Literal[tuple(values)]


if TYPE_CHECKING:
    ActionName: TypeAlias = str
    AwardFilterStatus: TypeAlias = str
    CategoryName: TypeAlias = str
    NeedCode: TypeAlias = str
    NominationStatusName: TypeAlias = str
    NomineeCategoryName: TypeAlias = str
    PdfFormatName: TypeAlias = str
    RegistrationStatusName: TypeAlias = str
else:
    ActionName = enum(ACTIONS)
    AwardFilterStatus = enum(AWARD_FILTER_STATUSES)
    CategoryName = enum(CATEGORIES)
    NeedCode = enum(NEED_CODES)
    NominationStatusName = enum(NominationStatus.values())
    NomineeCategoryName = enum(NOMINEE_CATEGORIES)
    PdfFormatName = enum(pdf.FORMATS)
    RegistrationStatusName = enum(RegistrationStatus.values())


def _json_values(values: Iterable[object]) -> list[object]:
    """For JSON Schema's enum, where 1 and true differ (in a Python set they are one)."""
    values = [v for v in values if v is not None]
    booleans = [v for v in (True, False) if any(v == x for x in values)]  # True also stands for 1, False for 0
    rest = sorted((v for v in values if not isinstance(v, (bool, int))), key=str)
    return booleans + [int(v) for v in booleans] + rest


def _one_of(values: Collection[object]) -> Callable[[object], object]:
    def check(value: object) -> object:
        if not (isinstance(value, (str, int, bool)) or value is None) or value not in values:
            raise ValueError("not one of the accepted values")
        return value

    return check


# The services read true/false the way HTML forms send them; these say exactly that.
FormBool = Annotated[
    Any,
    AfterValidator(_one_of(TRUE_VALUES | FALSE_VALUES)),
    WithJsonSchema(
        {
            "anyOf": [{"type": "boolean"}, {"enum": _json_values(TRUE_VALUES | FALSE_VALUES)}, {"type": "null"}],
            "description": "true or false; also "
            f"{', '.join(repr(v) for v in _json_values(TRUE_VALUES) if v is not True)} "
            "for true and the others listed for false.",
        }
    ),
]
Consent = Annotated[
    Any,
    AfterValidator(_one_of(TRUE_VALUES)),
    WithJsonSchema(
        {
            "enum": _json_values(TRUE_VALUES),
            "description": 'Must be true (or 1, "yes", …): consent to the processing of personal data.',
        }
    ),
]
NoNul = r"^[^\x00]*$"


class Input(BaseModel):
    model_config = ConfigDict(extra="ignore")


class DistrictInput(Input):
    code: Annotated[str, Field(pattern=DISTRICT_CODE_RE.pattern, max_length=length(District.code))]
    name_kk: Annotated[str, Field(max_length=length(District.name_kk))]
    name_ru: Annotated[str, Field(max_length=length(District.name_ru))]
    name_en: Annotated[str, Field(max_length=length(District.name_en))]


LocalDateTime = Annotated[
    str,
    Field(
        description="ISO 8601, e.g. 2025-05-09T19:00; without an offset it is Kazakhstan time (UTC+5).",
        examples=["2030-05-09T19:00"],
    ),
]


class CeremonyInput(Input):
    title_kk: Annotated[str, Field(max_length=length(Ceremony.title_kk))]
    title_ru: Annotated[str, Field(max_length=length(Ceremony.title_ru))]
    title_en: Annotated[str, Field(max_length=length(Ceremony.title_en))] | None = Field(
        default=None, description="Optional; without it English readers see the Russian title."
    )
    description_kk: str = ""
    description_ru: str = ""
    starts_at: LocalDateTime
    venue: Annotated[str, Field(max_length=length(Ceremony.venue))] = Field(
        description="Shown in every language that has no venue_xx of its own."
    )
    venue_kk: Annotated[str, Field(max_length=length(Ceremony.venue_kk))] | None = None
    venue_ru: Annotated[str, Field(max_length=length(Ceremony.venue_ru))] | None = None
    venue_en: Annotated[str, Field(max_length=length(Ceremony.venue_en))] | None = None
    address: Annotated[str, Field(max_length=length(Ceremony.address))] = ""
    district: str = Field(description="A district code from GET /districts.")
    capacity: int = Field(ge=1, le=MAX_CAPACITY)
    registration_opens_at: LocalDateTime | None = None
    registration_closes_at: LocalDateTime | None = None
    waitlist: FormBool = False
    status: Literal["draft", "published"] = "draft"


class NeedsFlags(Input):
    wheelchair: FormBool = False
    hearing: FormBool = False
    near_exit: FormBool = False
    note: Annotated[str, Field(max_length=length(Registration.needs_note))] = ""


class RegistrationInput(Input):
    """At least one of email and phone."""

    full_name: Annotated[str, Field(max_length=length(Registration.full_name))]
    email: (
        Annotated[str, Field(json_schema_extra={"format": "email"}, max_length=length(Registration.email))] | None
    ) = None
    phone: str | None = Field(None, description="A Kazakhstan number; stored as +7XXXXXXXXXX.")
    companions: int = Field(0, ge=0, le=MAX_COMPANIONS)
    category: CategoryName
    needs: list[NeedCode] | NeedsFlags | Annotated[str, Field(max_length=length(Registration.needs_note))] | None = (
        Field(None, description="A list of needs, an object of flags with an optional note, or a free-text note.")
    )
    consent: Consent


class CancelInput(Input):
    reason: Annotated[str, Field(max_length=CANCEL_REASON_MAX)] | None = None


class CheckinInput(Input):
    code: str = Field(description="The ticket code, as scanned or typed (dashes and case do not matter).")
    companions_arrived: int | None = Field(
        None, ge=0, le=MAX_COMPANIONS, description="Companions who came; default: all registered."
    )
    ceremony: StrictInt | None = Field(
        None, ge=1, le=DB_INT_MAX, description="This door's ceremony: another's ticket is refused (409 wrong_ceremony)."
    )


Quota = Annotated[int, Field(ge=0, le=MAX_QUOTA)]


class MedalInput(Input):
    code: Annotated[str, Field(pattern=MEDAL_CODE_RE.pattern, max_length=length(Medal.code))]
    name_kk: Annotated[str, Field(max_length=length(Medal.name_kk))]
    name_ru: Annotated[str, Field(max_length=length(Medal.name_ru))]
    name_en: Annotated[str, Field(max_length=length(Medal.name_en))]
    serial_prefix: str = Field(pattern=PREFIX_RE.pattern)
    award_year_from: int = Field(2025, ge=AWARD_YEARS[0], le=AWARD_YEARS[1])
    award_year_to: Annotated[int, Field(ge=AWARD_YEARS[0], le=AWARD_YEARS[1])] | None = None
    quotas: dict[str, Quota] = Field(default_factory=dict, description="District code -> quota.")
    signer_title_kk: Annotated[str, Field(max_length=length(Medal.signer_title_kk))] = ""
    signer_title_ru: Annotated[str, Field(max_length=length(Medal.signer_title_ru))] = ""
    signer_name: Annotated[str, Field(max_length=length(Medal.signer_name))] = ""


class QuotaInput(RootModel[dict[str, Quota]]):
    """District code -> quota (not below what is already approved)."""

    error_prefix: ClassVar[str] = "quotas."


NAME_RULE = 'At least 2 letters (an initial such as "А." is refused: 422 with the field\'s message).'


class NomineeInput(Input):
    surname: Annotated[str, Field(max_length=length(Nominee.surname), description=NAME_RULE)]
    given_name: Annotated[str, Field(max_length=length(Nominee.given_name), description=NAME_RULE)]
    patronymic: Annotated[
        str, Field(max_length=length(Nominee.patronymic), description="Empty if the person has none. " + NAME_RULE)
    ] = ""
    iin: str | StrictInt | None = Field(
        None, description="12 digits (a string, or a number); its checksum and birth date are checked."
    )
    birth_date: str = Field(description="2025-05-09 or 09.05.2025.", examples=["1926-03-15"])
    category: NomineeCategoryName
    district: str = Field(description="A district code from GET /districts.")
    address: Annotated[str, Field(max_length=length(Nominee.address))] = ""
    phone: str | None = None


class NominationInput(Input):
    nominee: NomineeInput
    medal: str = Field(description="A medal code from GET /medals.")
    grounds: str


class TransitionInput(Input):
    action: ActionName
    comment: str | None = Field(None, description="Required for return and reject.")
    decree_number: (
        Annotated[str, Field(description="Required for approve.", max_length=length(Nomination.decree_number))]
        | StrictInt
        | None
    ) = None
    decree_date: str | None = Field(None, description="Required for approve.")
    confirm_duplicate: StrictBool = Field(False, description="Submit although a likely duplicate was flagged.")
    version: StrictInt | None = Field(
        None, ge=1, le=DB_INT_MAX, description="Refused with 409 conflict if it changed meanwhile."
    )


class NameCorrections(Input):
    """The name the new certificate prints; a part left out (or null) stays as printed."""

    surname: Annotated[str, Field(max_length=length(Award.surname))] | None = None
    given_name: Annotated[str, Field(max_length=length(Award.given_name))] | None = None
    patronymic: Annotated[str, Field(max_length=length(Award.patronymic))] | None = Field(
        None, description='"" removes the patronymic.'
    )


CORRECTIONS_NOTE = (
    "Checked as a nominee's name is at entry (the text gate, the lengths, the name rules); "
    "the nomination's own record is not changed."
)


class RevokeInput(Input):
    reason: str
    reissue: StrictBool = Field(False, description="Issue a new certificate (new serial) in its place.")
    corrections: NameCorrections | None = Field(
        None, description="Only with reissue: the corrected name of the new certificate. " + CORRECTIONS_NOTE
    )


class ReissueInput(Input):
    reason: str | None = Field(
        None,
        description="Required when the certificate is still valid (the reissue revokes it) or when corrections "
        "are given; optional for a revoked certificate reissued as it was.",
    )
    corrections: NameCorrections | None = Field(
        None, description="The corrected name of the new certificate. " + CORRECTIONS_NOTE
    )


class PresentedInput(Input):
    date: str = Field(description="2025-05-09 or 09.05.2025; not in the future, not before the decree.")
    confirm_early: StrictBool = Field(
        False,
        description="The certificate's ceremony is more than a day away: without this, the answer is 409 "
        "ceremony_in_future (nothing changed); with it, the certificate is marked presented anyway.",
    )


Serial = Annotated[str, Field(pattern=NoNul, max_length=length(Award.serial))]


class AttachInput(Input):
    serials: list[Serial] | Serial = Field(max_length=MAX_SERIALS, description="Serial numbers (or one).")


# --- query strings ---------------------------------------------------------

QueryText = Annotated[str, Field(pattern=NoNul)]


class Paging(Input):
    page: Annotated[int, Field(ge=1, le=PAGE_MAX)] | Literal[""] | None = 1
    per_page: Annotated[int, Field(ge=1, le=PER_PAGE_MAX)] | Literal[""] | None = PER_PAGE_DEFAULT


class RegistrationQuery(Paging):
    q: QueryText | None = Field(
        None,
        description=(
            "Search, as the organisers' pages do: a name in any spelling (Kazakh or Russian Cyrillic, Latin: "
            '"Esenov" finds "Есенов"; every word must match), a phone however it is written '
            '("8 701 010 00 11", "+7 701 010-00-11") or its last digits (at least 3), or a part of an e-mail.'
        ),
        max_length=100,
    )
    status: RegistrationStatusName | Literal[""] | None = None


class NominationQuery(Paging):
    status: NominationStatusName | Literal[""] | None = None
    district: QueryText | None = None
    medal: QueryText | None = None
    category: NomineeCategoryName | Literal[""] | None = None
    q: Annotated[str, Field(max_length=SEARCH_MAX, pattern=NoNul)] | None = Field(
        None, description="A name in either script, or the start of an IIN."
    )


class AwardFilters(Input):
    ceremony: Annotated[int, Field(ge=1, le=DB_INT_MAX)] | Literal[""] | None = None
    medal: QueryText | None = None
    district: QueryText | None = None
    status: AwardFilterStatus | Literal[""] | None = None
    q: QueryText | None = Field(None, description="Surname (its start) or serial.")


class AwardQuery(AwardFilters, Paging):
    pass


class FormatQuery(Input):
    format: PdfFormatName | Literal[""] | None = Field(
        "a4", description="a4 (landscape) or card (A6, 4 on an A4 sheet)."
    )


class BatchQuery(AwardFilters, FormatQuery):
    pass


class AnnexQuery(Input):
    number: Annotated[str, Field(pattern=NoNul, min_length=1, max_length=length(Nomination.decree_number))] = Field(
        description="The decree's number, as entered at the approval."
    )
    date: str = Field(description="The decree's date: 2025-04-28 or 28.04.2025.")


class SheetQuery(AwardFilters):
    ceremony: Annotated[int, Field(ge=1, le=DB_INT_MAX)]
