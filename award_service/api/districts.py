from __future__ import annotations

from ..districts import service
from ..extensions import db
from . import api_actor, bp, json_body, staff_required


@bp.get("/districts")
def list_districts():
    return {"items": [d.to_dict() for d in service.all_districts(db.session)]}


@bp.post("/districts")
@staff_required("districts.manage")
def create_district():
    district = service.create_district(db.session, api_actor(), json_body())
    return district.to_dict(), 201
