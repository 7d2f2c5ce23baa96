"""The OpenAPI document is generated from the schemas the API validates with:
every route of the blueprint is in it with the statuses and error codes it can
answer, and what real calls answer validates against it (a drift fails here)."""

from __future__ import annotations

import re

import pytest
from jsonschema import Draft202012Validator
from pydantic import create_model

from award_service.api import responses as out
from award_service.api.openapi import api_routes, build_document
from award_service.api.schemas import RegistrationInput
from award_service.ceremonies.models import REGISTRATION_STATUSES, Registration
from award_service.extensions import db
from award_service.nominations.models import STATUSES

from .conftest import future
from .nomination_factories import *  # noqa: F403  (fixtures)
from .nomination_factories import MEDAL_CODE, advance, nominate, nominee_data

ERROR_CODES = {
    400: {"malformed_json"},
    401: {"unauthorized"},
    403: {"forbidden"},
    413: {"payload_too_large"},
    415: {"unsupported_media_type"},
    429: {"rate_limited"},
    503: {"unavailable"},
}


@pytest.fixture
def document(client):
    return client.get("/api/v1/openapi.json").json


def operation_for(document, url: str, method: str) -> tuple[str, dict]:
    path = url.split("?")[0].removeprefix("/api/v1")
    for template, ops in document["paths"].items():
        pattern = "^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template)) + "$"
        if (
            re.match(pattern, path)
            and method.lower() in ops
            and not (
                "{" in template
                and template.replace("{serial}", "") != template
                and path.rsplit("/", 1)[-1] in ("batch.pdf", "presentation-sheet.pdf")
            )
        ):
            return template, ops[method.lower()]
    raise AssertionError(f"{method} {path} is not in the document")


def check(document, response, url: str, method: str = "GET") -> dict:
    """Assert the response's status is documented for the operation and its body
    validates against the documented schema; return the body."""
    template, op = operation_for(document, url, method)
    status = str(response.status_code)
    assert status in op["responses"], f"{method} {template} answered an undocumented {status}: {response.data[:300]}"
    content = op["responses"][status].get("content", {})
    if "application/pdf" in content:
        assert response.mimetype == "application/pdf"
        return {}
    schema = {**content["application/json"]["schema"], "components": document["components"]}
    body = response.json
    errors = sorted(e.message for e in Draft202012Validator(schema).iter_errors(body))
    assert not errors, (method, template, status, errors[:5])
    return body


def test_every_route_of_the_blueprint_is_documented_with_its_responses(app, document):
    routes = list(api_routes(app))
    assert len(routes) == sum(len(ops) for ops in document["paths"].values()) >= 25
    for rule, path, method, view in routes:
        op = document["paths"][path][method]
        statuses = {int(s) for s in op["responses"]}
        assert any(200 <= s < 300 for s in statuses), path
        for argument in rule.arguments:
            assert {"name": argument, "in": "path"}.items() <= next(
                p for p in op["parameters"] if p["name"] == argument
            ).items()
            assert 404 in statuses, path
        if getattr(view, "required_permission", None):
            assert {401, 403} <= statuses and op["security"] == [{"bearer": []}], path
        if "requestBody" in op:
            assert {400, 413, 415, 422} <= statuses, path
        if path != "/openapi.json":  # every other operation reads the database
            assert "Retry-After" in op["responses"]["503"]["headers"], path
        for status, response in op["responses"].items():
            if int(status) >= 400:
                codes = set(
                    response["content"]["application/json"]["schema"]["allOf"][1]["properties"]["error"]["properties"][
                        "code"
                    ]["enum"]
                )
                assert codes >= ERROR_CODES.get(int(status), set()) and codes, (path, status)


def test_the_document_is_openapi_3_1_with_valid_json_schemas(document):
    assert document["openapi"] == "3.1.0"
    for _name, schema in document["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
    assert build_document("http://x")["paths"] == document["paths"]  # the routes alone decide the paths


def test_fields_that_had_drifted_are_documented(document):
    schemas = document["components"]["schemas"]
    registration = schemas["Registration"]["properties"]
    assert {"ticket_code", "checked_in_at", "companions_arrived"} <= set(registration)
    assert registration["status"]["enum"] == list(REGISTRATION_STATUSES)
    assert "waitlisted" in schemas["PublicRegistration"]["properties"]["status"]["enum"]
    assert {"submitted_at", "recommended_at", "approved_at", "created_at"} <= set(schemas["Nomination"]["properties"])
    assert schemas["Nomination"]["properties"]["status"]["enum"] == list(STATUSES)
    assert {"signer_title_kk", "signer_title_ru", "signer_name"} <= set(schemas["Medal"]["properties"])
    # Each response model lists every field as required (it is always there) and nothing else.
    assert set(schemas["Registration"]["required"]) == set(registration)
    assert schemas["Registration"]["additionalProperties"] is False


def test_limits_come_from_the_models(document, client, make_ceremony):
    limit = Registration.__table__.c.full_name.type.length
    props = document["components"]["schemas"]["RegistrationInput"]["properties"]
    assert (
        props["full_name"]["maxLength"] == limit == RegistrationInput.model_fields["full_name"].metadata[0].max_length
    )
    url = f"/api/v1/ceremonies/{make_ceremony().id}/registrations"
    body = {"full_name": "Ә" * (limit + 1), "phone": "+77010000001", "category": "veteran", "consent": True}
    response = client.post(url, json=body)
    assert response.status_code == 422 and set(response.json["error"]["fields"]) == {"full_name"}
    check(document, response, url, "POST")


def test_a_returned_field_missing_from_its_schema_fails(monkeypatch, client, make_ceremony, caplog):
    """What the handlers return is checked against the documented model: a field
    a view returns and the schema lacks (here: venue) is caught."""
    make_ceremony()
    fields = {name: (info.annotation, info) for name, info in out.Ceremony.model_fields.items() if name != "venue"}
    narrow = create_model("Ceremony", __base__=out.Output, **fields)
    monkeypatch.setattr(
        out, "CeremonyList", create_model("CeremonyList", __base__=out.Output, items=(list[narrow], ...))
    )
    assert client.get("/api/v1/ceremonies").status_code == 500  # in tests; logged and answered in production
    assert "items.0.venue" in caplog.text and "extra_forbidden" in caplog.text


def test_real_calls_validate_against_the_document(document, client, make_ceremony, cast, token_for):
    admin, organiser, clerk = token_for(cast.admin), token_for(cast.organiser), token_for(cast.clerk)

    def call(method, url, *, status, headers=None, **kwargs):
        response = client.open(url, method=method, headers=headers or {}, **kwargs)
        assert response.status_code == status, (method, url, response.status_code, response.data[:300])
        return check(document, response, url, method)

    call("GET", "/api/v1/openapi.json", status=200)
    call("GET", "/api/v1/districts", status=200)
    call(
        "POST",
        "/api/v1/districts",
        status=201,
        headers=admin,
        json={"code": "baikonyr", "name_kk": "Байқоңыр", "name_ru": "Байконур", "name_en": "Baikonyr"},
    )
    call("POST", "/api/v1/districts", status=403, headers=organiser, json={})
    call("POST", "/api/v1/districts", status=401, json={})
    created = call(
        "POST",
        "/api/v1/ceremonies",
        status=201,
        headers=organiser,
        json={
            "title_kk": "Жеңіс",
            "title_ru": "Победа",
            "starts_at": future(),
            "venue": "Алаш алаңы",
            "district": "zhezkazgan",
            "capacity": 1,
            "waitlist": True,
            "status": "published",
        },
    )
    cid = created["id"]
    call("GET", "/api/v1/ceremonies", status=200)
    call("GET", f"/api/v1/ceremonies/{cid}", status=200)
    call("GET", "/api/v1/ceremonies/999999", status=404)
    reg_url = f"/api/v1/ceremonies/{cid}/registrations"
    first = call(
        "POST",
        reg_url,
        status=201,
        json={"full_name": "Жанболат Әбенов", "phone": "+77012345678", "category": "veteran", "consent": True},
    )
    second = call(
        "POST",
        reg_url,
        status=201,
        json={
            "full_name": "Айгүл Сейітова",
            "email": "a@example.kz",
            "category": "family",
            "consent": True,
            "needs": ["hearing"],
        },
    )
    assert second["status"] == "waitlisted" and second["position"] == 1
    call(
        "POST",
        reg_url,
        status=409,
        json={"full_name": "Жанболат Әбенов", "phone": "+77012345678", "category": "veteran", "consent": True},
    )
    call("POST", reg_url, status=422, json={})
    call("POST", reg_url, status=400, data="{x", content_type="application/json")
    call("POST", reg_url, status=415, data="x", content_type="text/plain")
    mine = call("GET", f"/api/v1/registrations/{first['token']}", status=200)
    call("GET", f"/api/v1/registrations/{second['token']}", status=200)
    call("GET", f"/api/v1/registrations/{second['token']}/ticket.pdf", status=409)
    call("GET", f"/api/v1/registrations/{first['token']}/ticket.pdf", status=200)
    admitted = call(
        "POST",
        "/api/v1/checkin",
        status=200,
        headers=clerk,
        json={"code": mine["ticket_code"], "companions_arrived": 0},
    )
    assert admitted["already"] is False and admitted["registration"]["ticket_code"] == mine["ticket_code"]
    call("POST", "/api/v1/checkin", status=404, headers=clerk, json={"code": "NOPE-NOPE"})
    call("GET", f"{reg_url}?status=confirmed&page=1&per_page=10", status=200, headers=organiser)
    call("GET", f"{reg_url}?status=lost", status=422, headers=organiser)
    call("POST", f"/api/v1/registrations/{second['token']}/cancel", status=200, json={"reason": "Ауырып қалдым"})
    call("POST", f"/api/v1/registrations/{second['token']}/cancel", status=409)

    call("GET", "/api/v1/medals", status=200, headers=admin)
    call("PUT", f"/api/v1/medals/{MEDAL_CODE}/quotas", status=200, headers=admin, json={"satbayev": 10})
    call("PUT", "/api/v1/medals/none/quotas", status=404, headers=admin, json={"satbayev": 10})
    nominator = token_for(cast.nominator)
    made = call(
        "POST",
        "/api/v1/nominations",
        status=201,
        headers=nominator,
        json={"nominee": nominee_data(), "medal": MEDAL_CODE, "grounds": "Тыл еңбеккері"},
    )
    call("POST", "/api/v1/nominations", status=422, headers=nominator, json={"nominee": {}, "medal": 5})
    call("GET", "/api/v1/nominations?status=draft", status=200, headers=nominator)
    call("GET", f"/api/v1/nominations/{made['id']}", status=200, headers=nominator)
    call(
        "POST",
        f"/api/v1/nominations/{made['id']}/transitions",
        status=200,
        headers=nominator,
        json={"action": "submit", "confirm_duplicate": True},
    )
    call(
        "POST",
        f"/api/v1/nominations/{made['id']}/transitions",
        status=409,
        headers=nominator,
        json={"action": "submit"},
    )

    award = advance(nominate(cast.nominator), "approved", cast)
    db.session.expire_all()
    serial = call("GET", "/api/v1/awards", status=200, headers=clerk)["items"][0]["serial"]
    assert award.status == "approved"
    call("GET", f"/api/v1/awards/{serial}", status=200, headers=clerk)
    call("GET", f"/api/v1/awards/{serial}/certificate.pdf?format=card", status=200, headers=clerk)
    call("GET", "/api/v1/awards/batch.pdf?district=nowhere", status=422, headers=clerk)
    call("POST", f"/api/v1/ceremonies/{cid}/awards", status=200, headers=clerk, json={"serials": [serial]})
    call("GET", f"/api/v1/awards/presentation-sheet.pdf?ceremony={cid}", status=200, headers=clerk)
    call("GET", "/api/v1/awards/decree-annex.pdf?number=45&date=2025-04-28", status=200, headers=clerk)
    call("GET", "/api/v1/awards/decree-annex.pdf?number=99&date=2025-04-28", status=404, headers=clerk)
    call("GET", "/api/v1/awards/decree-annex.pdf?number=45", status=422, headers=clerk)
    verified = call("GET", f"/api/v1/awards/{serial}", status=200, headers=clerk)["verify_url"]
    call("GET", "/api/v1/verify/" + verified.rstrip("/").rsplit("/", 1)[-1], status=200)
    call("GET", "/api/v1/verify/NOSUCHCODE", status=404)
    revoked = call(
        "POST", f"/api/v1/awards/{serial}/revoke", status=200, headers=admin, json={"reason": "Қате", "reissue": True}
    )
    assert revoked["status"] == "revoked" and revoked["reissued_as"]["reissue_of"] == serial
    call("POST", f"/api/v1/awards/{serial}/revoke", status=409, headers=admin, json={"reason": "Қате"})
    corrected = call(
        "POST",
        f"/api/v1/awards/{revoked['reissued_as']['serial']}/reissue",
        status=201,
        headers=admin,
        json={"reason": "Тегі қате жазылған", "corrections": {"surname": "Әбенова"}},
    )
    assert corrected["surname"] == "Әбенова"
    old_code = revoked["reissued_as"]["verify_url"].rsplit("/", 1)[-1]
    assert call("GET", f"/api/v1/verify/{old_code}", status=200)["replaced_by"] == corrected["serial"]
    # The ceremony is weeks away: presenting now is refused until confirmed.
    early = {"date": "2025-05-09"}
    call("POST", f"/api/v1/awards/{corrected['serial']}/presented", status=409, headers=clerk, json=early)
    call(
        "POST",
        f"/api/v1/awards/{corrected['serial']}/presented",
        status=200,
        headers=clerk,
        json={**early, "confirm_early": True},
    )


def test_what_the_schema_refuses_is_refused_and_nothing_is_stored(client, cast, token_for):
    """Found by schemathesis: confirm_duplicate {} was read as "no" and the nomination
    submitted.  The schema refuses it; the service's dry run adds nothing and stores nothing."""
    nomination = nominate(cast.nominator)
    response = client.post(
        f"/api/v1/nominations/{nomination.id}/transitions",
        headers=token_for(cast.nominator),
        json={"action": "submit", "confirm_duplicate": {}, "version": "x"},
    )
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"confirm_duplicate", "version"}
    db.session.expire_all()
    assert db.session.get(type(nomination), nomination.id).status == "draft"


def test_other_schemathesis_findings(client, cast, token_for, make_ceremony):
    """A cancel reason past its documented length was cut silently; a serial with a NUL
    byte and a version past a database integer were 500s on PostgreSQL; an empty
    query filter is "any", as documented."""
    url = f"/api/v1/ceremonies/{make_ceremony().id}/registrations"
    made = client.post(
        url, json={"full_name": "Жанболат Әбенов", "phone": "+77012345678", "category": "veteran", "consent": "yes"}
    )
    assert made.status_code == 201
    cancel = f"/api/v1/registrations/{made.json['token']}/cancel"
    response = client.post(cancel, json={"reason": "x" * 501})
    assert response.status_code == 422 and set(response.json["error"]["fields"]) == {"reason"}
    assert client.post(cancel, json={"reason": "x" * 500}).status_code == 200
    clerk = token_for(cast.clerk)
    ceremony = make_ceremony()
    response = client.post(f"/api/v1/ceremonies/{ceremony.id}/awards", headers=clerk, json={"serials": ["A\x00B"]})
    assert response.status_code == 422 and "serials" in response.json["error"]["fields"]
    nomination = nominate(cast.nominator)
    response = client.post(
        f"/api/v1/nominations/{nomination.id}/transitions",
        headers=token_for(cast.nominator),
        json={"action": "submit", "version": -12014720333508411129856},
    )
    assert response.status_code == 422 and set(response.json["error"]["fields"]) == {"version"}
    response = client.post(
        f"/api/v1/nominations/{nomination.id}/transitions",
        headers=token_for(cast.nominator),
        json={"action": "submit", "decree_number": False},
    )
    assert response.status_code == 422 and set(response.json["error"]["fields"]) == {"decree_number"}
    assert client.get("/api/v1/nominations?status=&page=", headers=token_for(cast.nominator)).status_code == 200
    response = client.get("/api/v1/awards?q=a%00b&district=x%00", headers=clerk)  # a 500 on PostgreSQL
    assert response.status_code == 422 and set(response.json["error"]["fields"]) == {"q", "district"}
