"""Reading an import file: the header, every row checked with the same rules as
the form and the API, duplicates within the file and against the database.
:func:`parse_upload` saves nothing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask_babel import format_number
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...accounts.permissions import can
from ...districts.models import District
from ...errors import Forbidden, ValidationFailed
from ...medals.models import Medal
from ...medals.service import get_medal
from ...spreadsheets import SpreadsheetError, looks_like_formula, read_rows
from ...text import TextError, clean_text
from ...timeutil import utcnow
from .. import nominees
from ..models import Nomination, Nominee
from ..workflow import INACTIVE_STATUSES
from . import columns as cols
from .example import example_error

NOMINEE_COLUMNS = nominees.NOMINEE_FIELDS
COLUMNS = (*NOMINEE_COLUMNS, "medal", "grounds")
MAX_ROWS = 20_000
MAX_BYTES = 20 * 1024 * 1024
CHUNK = 1000  # ids or keys per IN (...) list


@dataclass(frozen=True)
class RowError:
    """``row``: the spreadsheet's row number (the header is row 1; 0: the whole
    file); ``column``: a column name, or "" when the row or file as a whole is
    wrong; ``value``: what the cell said, as the person sees it ("" when empty),
    so that the page can say `Row 7, IIN "12345": ...`."""

    row: int
    column: str
    message: str
    value: str = ""

    def to_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message, "value": self.value}


VALUE_SHOWN = 80  # characters of an offending value shown beside its error


def shown(value) -> str:
    """A cell as the person saw it in the spreadsheet, for an error message."""
    if value is None:
        return ""
    if isinstance(value, datetime) and value.time() == time(0):
        value = value.date()
    if isinstance(value, date) and not isinstance(value, datetime):
        text = value.strftime("%d.%m.%Y")
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    else:
        text = " ".join(str(value).split())
    return text if len(text) <= VALUE_SHOWN else text[: VALUE_SHOWN - 1] + "…"


@dataclass
class Preview:
    rows: list[dict] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    total: int = 0
    filename: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)

    @property
    def possible_duplicates(self) -> int:
        return sum(1 for r in self.rows if r["possible_duplicate"])


def _cell_text(value, column: str) -> tuple[object, bool]:
    """A cell as the parsers take it, and whether it is a formula.

    Numbers typed into Excel come back as int or float: an IIN or a phone
    number loses nothing as long as the float is whole (an IIN's leading zero,
    dropped by Excel, is put back)."""
    if value is None:
        return "", False
    if isinstance(value, str):
        formula = looks_like_formula(value) and not (column == "phone" and _phone_like(value))
        return value.strip(), formula  # " zhezkazgan " is zhezkazgan: spaces around a code are invisible
    if isinstance(value, bool):
        return str(value), False
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        text = str(value)
        if column == "iin" and value >= 0 and len(text) < 12:
            text = text.zfill(12)
        return text, False
    if isinstance(value, datetime) and value.time() == time(0):
        value = value.date()
    if isinstance(value, date) and not isinstance(value, datetime):
        return (value if column == "birth_date" else value.isoformat()), False
    if isinstance(value, (datetime, float, time, timedelta)):
        return str(value), False
    return "", True  # openpyxl's ArrayFormula / DataTableFormula


def _phone_like(value: str) -> bool:
    """+7 (701) 234-56-78: a phone, not a formula (no letters, no operators but the leading +)."""
    text = value.strip()
    return text.startswith("+") and len(text) > 1 and all(ch.isdigit() or ch in " ()-" for ch in text[1:])


# ------------------------------------------------------------------ parsing


def expected_columns() -> str:
    """The columns, as the template in the current language names them."""
    return ", ".join(cols.header_labels(COLUMNS))


def _header(cells: list) -> tuple[list[str], list[RowError]]:
    """Each header cell's column (its label in any language, or its code)."""
    lookup = cols.header_lookup(COLUMNS)
    typed = ["" if c is None else " ".join(str(c).lstrip("\ufeff").split()) for c in cells]
    while typed and not typed[-1]:
        typed.pop()
    names = [lookup.get(cols.normal(t), "") for t in typed]
    errors = []
    unknown = [t for t, n in zip(typed, names) if not n]
    missing = [str(label) for c, label in zip(COLUMNS, cols.header_labels(COLUMNS)) if c not in names]
    repeated = sorted({label for c, label in zip(COLUMNS, cols.header_labels(COLUMNS)) if names.count(c) > 1})
    expected = expected_columns()
    if not any(typed):
        errors.append(RowError(1, "", str(_l("The first row must name the columns: %(columns)s.", columns=expected))))
        return names, errors
    if unknown:
        listed = ", ".join(f"«{n}»" if n else str(_l("(empty)")) for n in unknown[:20])
        errors.append(
            RowError(
                1,
                "",
                str(
                    _l(
                        "Unknown columns in the header: %(names)s. The columns are: %(columns)s.",
                        names=listed,
                        columns=expected,
                    )
                ),
            )
        )
    if missing:
        errors.append(RowError(1, "", str(_l("Missing columns in the header: %(names)s.", names=", ".join(missing)))))
    if repeated:
        errors.append(
            RowError(1, "", str(_l("Columns named twice in the header: %(names)s.", names=", ".join(repeated))))
        )
    return names, errors


class _Context:
    """What stays the same from row to row: lookups made once per file."""

    def __init__(self, session, user, today: date):
        self.session = session
        self.districts = {d.code: d for d in session.scalars(select(District))}
        self.user = user
        self.today = today
        self.medals: dict = {}
        # A category, district or medal by its name in any language, or its code.
        self.lookups = {
            "category": cols.category_lookup(),
            "district": cols.named_lookup(self.districts.values()),
            "medal": cols.named_lookup(session.scalars(select(Medal))),
        }

    def medal(self, code):
        if code not in self.medals:
            self.medals[code] = get_medal(self.session, code) if isinstance(code, str) and code else None
        return self.medals[code]


def _check_row(ctx: _Context, row: int, values: dict) -> tuple[dict | None, list[RowError]]:
    errors: dict = {}
    cells: dict = {}
    for column in COLUMNS:
        value, formula = _cell_text(values.get(column), column)
        if formula:
            errors[column] = _l(
                "This cell is a formula or starts with = + - @, which spreadsheets run as a "
                "formula. Type the value itself."
            )
            value = ""
        if column in ctx.lookups:
            value = cols.resolve(value, ctx.lookups[column])
        cells[column] = value
    nominee_data = {c: cells[c] for c in NOMINEE_COLUMNS}
    clean = None
    try:
        clean = nominees.parse_nominee(ctx.session, nominee_data, today=ctx.today, districts=ctx.districts)
    except ValidationFailed as exc:
        for key, message in exc.fields.items():
            errors.setdefault(key, message)
    medal = ctx.medal(cells["medal"] or None)
    if "medal" not in errors:
        if medal is None:
            errors["medal"] = _l("Choose a medal.") if not cells["medal"] else _l("Unknown medal.")
        elif not medal.active:
            errors["medal"] = _l("This medal is no longer awarded.")
    grounds = ""
    if "grounds" not in errors:
        try:
            grounds = clean_text(
                cells["grounds"] if isinstance(cells["grounds"], str) else str(cells["grounds"]),
                max_length=5000,
                multiline=True,
            )
        except TextError as exc:
            errors["grounds"] = exc.args[0]
        else:
            if not grounds:
                errors["grounds"] = _l("This field is required.")
    district = clean["district"] if clean is not None else ctx.districts.get(cells["district"])
    if (
        district is not None
        and "district" not in errors
        and ctx.user is not None
        and not can(ctx.user, "nominations.create", district)
    ):
        errors["district"] = _l("You can enter nominations only for your own district.")
    if errors:
        return None, [
            RowError(row, column, str(errors[column]), shown(values.get(column)))
            for column in COLUMNS
            if column in errors
        ] + [RowError(row, key, str(message)) for key, message in errors.items() if key not in COLUMNS]
    assert clean is not None and medal is not None  # no errors: the nominee parsed, the medal was found
    if problem := example_error(clean):
        return None, [RowError(row, "", problem, shown(f"{clean['surname']} {clean['given_name']}"))]
    district = clean.pop("district")
    clean.update(
        row=row,
        district_id=district.id,
        district=district.code,
        medal_id=medal.id,
        medal=medal.code,
        grounds=grounds,
        possible_duplicate=False,
        possible_duplicate_of=[],
        possible_duplicate_rows=[],
    )
    return clean, []


def _chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def active_with_iins(session, rows: list[dict]) -> dict[tuple[int, str], int]:
    """(medal id, IIN) -> an active nomination already in the database
    (duplicates.active_with_iin, for many rows in a few queries)."""
    found: dict[tuple[int, str], int] = {}
    by_medal: dict[int, list[str]] = {}
    for r in rows:
        if r["iin"]:
            by_medal.setdefault(r["medal_id"], []).append(r["iin"])
    for medal_id, iins in by_medal.items():
        for part in _chunks(sorted(set(iins))):
            stmt = (
                select(Nomination.iin, Nomination.id)
                .where(
                    Nomination.medal_id == medal_id,
                    Nomination.iin.in_(part),
                    Nomination.status.not_in(INACTIVE_STATUSES),
                )
                .order_by(Nomination.id)
            )
            for iin, nomination_id in session.execute(stmt):
                found.setdefault((medal_id, iin), nomination_id)
    return found


def _similar_in_database(session, rows: list[dict]) -> dict[tuple, list[int]]:
    """(medal id, birth date, name skeleton) -> active nominations of someone
    born that day with a name of that skeleton (duplicates.likely_duplicates, in bulk)."""
    found: dict[tuple, list[int]] = {}
    by_medal: dict[int, set] = {}
    for r in rows:
        by_medal.setdefault(r["medal_id"], set()).add(r["birth_date"])
    wanted = {(r["medal_id"], r["birth_date"], r["name_skeleton"]) for r in rows}
    for medal_id, dates in by_medal.items():
        for part in _chunks(sorted(dates)):
            stmt = (
                select(Nominee.birth_date, Nominee.name_skeleton, Nomination.id)
                .join(Nominee, Nominee.id == Nomination.nominee_id)
                .where(
                    Nomination.medal_id == medal_id,
                    Nomination.status.not_in(INACTIVE_STATUSES),
                    Nominee.birth_date.in_(part),
                )
                .order_by(Nomination.id)
            )
            for birth, skeleton, nomination_id in session.execute(stmt):
                key = (medal_id, birth, skeleton)
                if key in wanted:
                    found.setdefault(key, []).append(nomination_id)
    return found


def duplicate_message(existing_id: int) -> str:
    return str(_l("This person (same IIN) already has an active nomination for this medal: № %(id)d.", id=existing_id))


def _check_duplicates(session, rows: list[dict]) -> list[RowError]:
    errors = []
    first_row: dict[tuple[int, str], int] = {}
    for r in rows:
        if r["iin"]:
            key = (r["medal_id"], r["iin"])
            if key in first_row:
                errors.append(
                    RowError(
                        r["row"],
                        "iin",
                        str(_l("The same person (IIN) and medal as in row %(row)d.", row=first_row[key])),
                        r["iin"],
                    )
                )
            else:
                first_row[key] = r["row"]
    existing = active_with_iins(session, rows)
    for r in rows:
        if r["iin"] and (r["medal_id"], r["iin"]) in existing:
            errors.append(RowError(r["row"], "iin", duplicate_message(existing[(r["medal_id"], r["iin"])]), r["iin"]))
    # Likely duplicates (same birth date, similar name) are flagged, not refused.
    similar = _similar_in_database(session, rows)
    groups: dict[tuple, list[int]] = {}
    for r in rows:
        groups.setdefault((r["medal_id"], r["birth_date"], r["name_skeleton"]), []).append(r["row"])
    for r in rows:
        group = (r["medal_id"], r["birth_date"], r["name_skeleton"])
        r["possible_duplicate_of"] = similar.get(group, [])[:10]
        r["possible_duplicate_rows"] = [n for n in groups[group] if n != r["row"]][:10]
        r["possible_duplicate"] = bool(r["possible_duplicate_of"] or r["possible_duplicate_rows"])
    return errors


def parse_upload(session, user, filename: str, data: bytes, *, today: date | None = None) -> Preview:
    """Read and check a CSV or XLSX file of nominations; save nothing.

    ``user``: who imports (their district scope applies; None: no scope)."""
    if user is not None and not can(user, "nominations.create"):
        raise Forbidden()
    today = today or utcnow().date()
    preview = Preview(filename=filename or "")
    if not data:
        preview.errors.append(RowError(0, "", str(_l("The file is empty."))))
        return preview
    if len(data) > MAX_BYTES:
        preview.errors.append(RowError(0, "", str(_l("The file is larger than 20 MB. Split it into smaller files."))))
        return preview
    reader = read_rows(data)
    ctx = _Context(session, user, today)
    names: list[str] = []
    try:
        for index, cells in reader:
            if index == 1:
                names, header_errors = _header(cells)
                if header_errors:
                    preview.errors.extend(header_errors)
                    return preview
                continue
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue  # blank rows (Excel keeps many at the end)
            if index > MAX_ROWS + 1:
                preview.errors.append(
                    RowError(
                        index,
                        "",
                        str(
                            _l(
                                "The file has more than %(n)s rows. Split it into smaller files.",
                                n=format_number(MAX_ROWS),
                            )
                        ),
                    )
                )
                preview.rows.clear()
                return preview
            preview.total += 1
            if len(cells) > len(names) and any(c not in (None, "") for c in cells[len(names) :]):
                preview.errors.append(
                    RowError(index, "", str(_l("This row has more cells than the header has columns.")))
                )
                continue
            values = {name: cells[i] if i < len(cells) else None for i, name in enumerate(names)}
            clean, errors = _check_row(ctx, index, values)
            if errors:
                preview.errors.extend(errors)
            elif clean is not None:
                preview.rows.append(clean)
    except SpreadsheetError as exc:
        preview.errors.append(RowError(exc.row, "", exc.message))
        preview.rows.clear()
        return preview
    finally:
        reader.close()  # type: ignore[attr-defined]  # a generator; spreadsheets.read_rows says Iterator
    if not names:
        preview.errors.append(
            RowError(1, "", str(_l("The first row must name the columns: %(columns)s.", columns=expected_columns())))
        )
        return preview
    if preview.total == 0:
        preview.errors.append(RowError(2, "", str(_l("The file has a header but no rows of nominations."))))
        return preview
    preview.errors.extend(_check_duplicates(session, preview.rows))
    preview.errors.sort(key=lambda e: (e.row, COLUMNS.index(e.column) if e.column in COLUMNS else -1))
    return preview


# ------------------------------------------------------------------- saving


# ------------------------------------------------------ uploads between steps
