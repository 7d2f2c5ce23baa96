"""Saving an import: every row as a draft nomination in one transaction, or
nothing; the file is parsed again, so nothing the browser sends back is trusted."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError

from ...accounts.permissions import can
from ...actor import Actor
from ...audit import record
from ...audit.models import INSERT_AUDIT_EVENT
from ...errors import Conflict, Forbidden, ValidationFailed
from ...timeutil import utcnow
from ..models import Nomination, Nominee
from .reading import Preview, RowError, active_with_iins, duplicate_message
from .uploads import ImportUpload, id_of_upload


def _snapshot(r: dict) -> dict:
    return {
        "surname": r["surname"],
        "given_name": r["given_name"],
        "patronymic": r["patronymic"],
        "iin": r["iin"],
        "birth_date": r["birth_date"].isoformat(),
        "category": r["category"],
        "district": r["district"],
        "address": r["address"],
        "phone": r["phone"],
        "medal": r["medal"],
        "grounds": r["grounds"],
        "status": "draft",
        "possible_duplicate_of": r["possible_duplicate_of"],
        "import_row": r["row"],
    }


def _conflict(errors: list[RowError]) -> Conflict:
    return Conflict(
        _l(
            "Nothing was saved: %(n)d rows have the same IIN and medal as a nomination saved in the meantime.",
            n=len({e.row for e in errors}),
        ),
        code="duplicate_nominee",
        rows=[e.to_dict() for e in errors],
    )


def save(session, actor: Actor, preview: Preview, *, upload: ImportUpload | None = None) -> int:
    """Save every row of a clean preview as a draft nomination, in one
    transaction; or nothing (Conflict) when the preview has errors or a
    duplicate was saved meanwhile.  ``upload`` is deleted in the same
    transaction, first: of two "Save all" clicks on one upload, one saves and
    the other gets a Conflict (``import_already_saved``), even for rows without
    an IIN, which no index guards.  Returns the number of nominations saved."""
    user = actor.user
    upload_id = id_of_upload(upload) if upload is not None else None
    if user is not None and not can(user, "nominations.create"):
        raise Forbidden()
    if preview.errors:
        raise Conflict(
            _l("Nothing was saved: the file has errors. Correct them and upload it again."),
            code="invalid",
            rows=[e.to_dict() for e in preview.errors],
        )
    if not preview.rows:
        raise ValidationFailed({"file": _l("The file has a header but no rows of nominations.")})
    if user is not None:
        district_ids = {r["district_id"] for r in preview.rows}
        if any(not can(user, "nominations.create", _DistrictRef(d)) for d in district_ids):
            raise Forbidden(_l("You can enter nominations only for your own district."))
    rows = preview.rows
    created_by = user.id if user is not None else None
    actor_label = actor.display
    try:
        if upload_id is not None:
            taken = session.execute(
                delete(ImportUpload).where(ImportUpload.id == upload_id).execution_options(synchronize_session=False)
            )
            if taken.rowcount != 1:
                raise Conflict(_l("This file has already been saved."), code="import_already_saved")
        existing = active_with_iins(session, rows)
        clashes = [
            RowError(r["row"], "iin", duplicate_message(existing[(r["medal_id"], r["iin"])]), r["iin"])
            for r in rows
            if r["iin"] and (r["medal_id"], r["iin"]) in existing
        ]
        if clashes:
            raise _conflict(clashes)
        now = utcnow()
        nominee_ids = _insert_many(
            session,
            Nominee.__table__,
            [
                {
                    "surname": r["surname"],
                    "given_name": r["given_name"],
                    "patronymic": r["patronymic"],
                    "iin": r["iin"],
                    "birth_date": r["birth_date"],
                    "category": r["category"],
                    "district_id": r["district_id"],
                    "address": r["address"],
                    "phone": r["phone"],
                    "search_key": r["search_key"],
                    "name_skeleton": r["name_skeleton"],
                    "created_at": now,
                }
                for r in rows
            ],
        )
        nomination_ids = _insert_many(
            session,
            Nomination.__table__,
            [
                {
                    "nominee_id": nominee_id,
                    "medal_id": r["medal_id"],
                    "district_id": r["district_id"],
                    "iin": r["iin"],
                    "search_key": r["search_key"],
                    "grounds": r["grounds"],
                    "status": "draft",
                    "version": 1,
                    "possible_duplicate": r["possible_duplicate"],
                    "duplicate_confirmed": False,
                    "last_comment": "",
                    "created_by_id": created_by,
                    "created_at": now,
                    "updated_at": now,
                }
                for r, nominee_id in zip(rows, nominee_ids)
            ],
        )
        common = {
            "occurred_at": now,
            "actor_id": created_by,
            "actor_label": actor_label,
            "before": None,
            "reason": None,
            "client_addr": actor.client_addr,
        }
        session.connection().execute(
            INSERT_AUDIT_EVENT,
            [
                {
                    **common,
                    "action": "nomination.create",
                    "object_type": "nomination",
                    "object_id": str(nomination_id),
                    "after": _snapshot(r),
                }
                for r, nomination_id in zip(rows, nomination_ids)
            ],
        )
        record(
            session,
            actor,
            "nomination.import",
            "nomination_import",
            f"{nomination_ids[0]}-{nomination_ids[-1]}",
            after={
                "filename": preview.filename,
                "count": len(nomination_ids),
                "first_id": nomination_ids[0],
                "last_id": nomination_ids[-1],
                "possible_duplicates": preview.possible_duplicates,
            },
        )
        session.commit()
    except IntegrityError:
        # The unique index on active (medal, IIN): someone saved one of these
        # people between the check above and the insert.
        session.rollback()
        existing = active_with_iins(session, rows)
        clashes = [
            RowError(r["row"], "iin", duplicate_message(existing[(r["medal_id"], r["iin"])]), r["iin"])
            for r in rows
            if r["iin"] and (r["medal_id"], r["iin"]) in existing
        ]
        raise _conflict(clashes) if clashes else Conflict(code="conflict") from None
    except OperationalError as exc:
        session.rollback()
        if "locked" not in str(exc):
            raise
        # SQLite: another request wrote since this one started reading.
        raise Conflict(_l("Someone else saved at the same moment. Upload the file again."), code="conflict") from None
    except BaseException:
        session.rollback()
        raise
    return len(nomination_ids)


def _insert_many(session, table, rows: list[dict]) -> list[int]:
    """Insert ``rows`` (dicts with the same keys, in the same order) with as
    few round trips as the database allows; their new ids, in order.

    PostgreSQL: the ids are taken from the table's sequence in one query and
    the rows streamed with COPY on the session's own connection (inside its
    transaction): an executemany of 10,000 rows spends seconds adapting
    parameters in Python, COPY a fraction of that.  Elsewhere (SQLite): one
    multi-row INSERT … RETURNING per batch."""
    if session.get_bind().dialect.name == "postgresql":
        from psycopg import sql

        sequence = func.pg_get_serial_sequence(table.name, "id")
        ids = list(session.scalars(select(func.nextval(sequence)).select_from(func.generate_series(1, len(rows)))))
        columns = ["id", *rows[0]]
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        connection = session.connection().connection.dbapi_connection
        with connection.cursor() as cursor, cursor.copy(statement) as copy:
            for new_id, row in zip(ids, rows):
                copy.write_row((new_id, *row.values()))
        return ids
    return list(session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars())


@dataclass(frozen=True)
class _DistrictRef:
    """Something in a district, for :func:`can`'s scope check."""

    district_id: int
