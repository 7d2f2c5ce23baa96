"""From the award register to the PDF renderer: what each certificate says,
read from the database in batches so that a 10,000-certificate PDF streams
with memory that does not grow with it."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Response, current_app, stream_with_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from .. import codes, pdf
from ..ceremonies.models import Ceremony
from ..errors import Conflict, NotFound, ValidationFailed
from ..extensions import DbSession
from ..medals.models import Medal
from ..telemetry import CERTIFICATES_RENDERED
from ..timeutil import show_datetime, to_local
from .models import Award
from .queries import printable_query, validate_filters

BATCH_ROWS = 200  # rows fetched from the database at a time


def verify_url(code: str) -> str:
    return f"{current_app.config['AWARD_BASE_URL'].rstrip('/')}/v/{code}"


def revoked_on(award: Award) -> str | None:
    """The local date a revoked certificate was revoked (ISO), else None."""
    if award.revoked_at is None:
        return None
    return to_local(award.revoked_at, current_app.config["AWARD_TIMEZONE"]).date().isoformat()


def check_format(value) -> str:
    fmt = value or "a4"
    if fmt not in pdf.FORMATS:
        raise ValidationFailed({"format": _l("Choose the format: %(formats)s.", formats=", ".join(pdf.FORMATS))})
    return fmt


class _Signers:
    """Each medal's signer, with its signature image read once per batch."""

    def __init__(self, session: DbSession) -> None:
        self.session = session
        self.cache: dict[int, tuple] = {}

    def __call__(self, medal: Medal) -> tuple:
        if medal.id not in self.cache:
            image = self.session.scalar(select(Medal.signature_image).where(Medal.id == medal.id))
            self.cache[medal.id] = (medal.signer_title_kk, medal.signer_title_ru, medal.signer_name, image)
        return self.cache[medal.id]


def content(award: Award, signers: _Signers) -> pdf.CertificateContent:
    medal = award.medal
    title_kk, title_ru, name, image = signers(medal)
    return pdf.CertificateContent(
        full_name=award.full_name,
        medal_name_kk=medal.name_kk,
        medal_name_ru=medal.name_ru,
        serial=award.serial,
        decree_number=award.decree_number,
        decree_date=award.decree_date,
        signer_title_kk=title_kk,
        signer_title_ru=title_ru,
        signer_name=name,
        verify_url=verify_url(award.verify_code),
        verify_code=codes.grouped(award.verify_code),
        signature_image=image,
    )


def certificate(session, award: Award, fmt: str) -> bytes:
    body = pdf.certificate_pdf(content(award, _Signers(session)), fmt)
    CERTIFICATES_RENDERED.labels(fmt).inc()
    return body


def _stream_rows(session, stmt) -> Iterator[Award]:
    """Rows a batch at a time (a server-side cursor on PostgreSQL); each batch
    is let go of once rendered."""
    result = session.execute(stmt.execution_options(yield_per=BATCH_ROWS))
    for partition in result.scalars().partitions():
        yield from partition
        for award in partition:
            session.expunge(award)


def ensure_some(session, stmt) -> int:
    count = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    if not count:
        raise NotFound(_l("No valid certificate matches this choice: nothing to print."))
    return count


def stream_batch(session, stmt, fmt: str) -> Iterator[bytes]:
    signers = _Signers(session)

    def contents() -> Iterator[pdf.CertificateContent]:
        for award in _stream_rows(session, stmt):
            yield content(award, signers)
            # Asked for the next one: this one is drawn (the format was checked before the first).
            CERTIFICATES_RENDERED.labels(fmt).inc()

    return pdf.stream_certificates(contents(), fmt)


def sheet_header(ceremony: Ceremony | None, medals: list[Medal]) -> pdf.SheetHeader:
    lines = []
    if ceremony is not None:
        lines.append(f"{ceremony.title_kk} / {ceremony.title_ru}")
        starts = show_datetime(ceremony.starts_at, pdf.PRINTED_LANGUAGE, current_app.config["AWARD_TIMEZONE"])
        lines.append(f"{starts}, {ceremony.printed_venue()}")
    for medal in medals:
        lines.append(medal.name_kk)
    return pdf.SheetHeader(title_lines=tuple(lines))


def stream_sheet(session, stmt, ceremony: Ceremony | None) -> Iterator[bytes]:
    medal_ids = select(Award.medal_id).where(Award.id.in_(stmt.order_by(None).with_only_columns(Award.id)))
    medals = list(session.scalars(select(Medal).where(Medal.id.in_(medal_ids)).order_by(Medal.code)))
    rows = (
        pdf.SheetRow(number=i, full_name=a.full_name, serial=a.serial)
        for i, a in enumerate(_stream_rows(session, stmt), start=1)
    )
    return pdf.stream_presentation_sheet(sheet_header(ceremony, medals), rows)


# ------------------------------------------------- responses (API and pages)


def pdf_response(body, filename: str, *, download: bool = False):
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'{"attachment" if download else "inline"}; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def certificate_response(session, award: Award, fmt: str):
    """One certificate; a revoked one is never printed."""
    if award.status != "valid":
        raise Conflict(_l("Certificate %(serial)s is revoked; it is not printed.", serial=award.serial), code="revoked")
    try:
        body = certificate(session, award, fmt)
    except pdf.MissingGlyphError as exc:
        raise ValidationFailed(
            {
                "full_name": _l(
                    "The certificate fonts have no letter %(char)s (U+%(code)s); correct the name.",
                    char=exc.char,
                    code=f"{ord(exc.char):04X}",
                )
            }
        ) from exc
    return pdf_response(body, f"{award.serial}-{fmt}.pdf")


def batch_response(session, user, args):
    """The certificates of a filter (a ceremony, a medal, a district), streamed."""
    fmt = check_format(args.get("format"))
    filters = validate_filters(session, args)
    stmt = printable_query(user, **filters)
    ensure_some(session, stmt)
    return pdf_response(stream_with_context(stream_batch(session, stmt, fmt)), f"certificates-{fmt}.pdf", download=True)


def sheet_response(session, user, args):
    """The presentation sheet of a ceremony, in presentation order."""
    if not args.get("ceremony"):
        raise ValidationFailed({"ceremony": _l("Choose the ceremony.")})
    filters = validate_filters(session, args)
    stmt = printable_query(user, **filters)
    ensure_some(session, stmt)
    ceremony = filters["ceremony"]
    return pdf_response(
        stream_with_context(stream_sheet(session, stmt, ceremony)),
        f"presentation-sheet-{ceremony.id}.pdf",
        download=True,
    )
