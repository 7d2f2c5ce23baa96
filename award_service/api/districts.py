from __future__ import annotations

from ..districts import service
from ..extensions import db
from . import api_actor, bp, json_body, staff_required
from . import responses as out
from .schemas import DistrictInput
from .spec import checked_body, operation, respond


@bp.get("/districts")
@operation("Districts: codes and names", tag="districts", response=out.DistrictList)
def list_districts():
    return respond(out.DistrictList, {"items": [d.to_dict() for d in service.all_districts(db.session)]})


@bp.post("/districts")
@operation("Add a district (admin)", tag="districts", body=DistrictInput, response=out.District, status=201)
@staff_required("districts.manage")
def create_district():
    with checked_body(DistrictInput, json_body()) as data:
        district = service.create_district(db.session, api_actor(), data)
    return respond(out.District, district.to_dict(), 201)
