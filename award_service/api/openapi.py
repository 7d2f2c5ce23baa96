"""GET /api/v1/openapi.json: the API described for integrators (OpenAPI 3.1)."""
from __future__ import annotations

from flask import current_app

from ..ceremonies.models import CATEGORIES, MAX_COMPANIONS
from ..nominations.models import NOMINEE_CATEGORIES, STATUSES
from ..nominations.workflow import ACTIONS
from . import bp


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _error(description: str, codes: list[str]) -> dict:
    return {"description": f"{description} (error.code: {', '.join(codes)})", **_json(_ref("Error"))}


def _op(summary: str, responses: dict, *, staff: bool = False, body: str | None = None, params=(),
        tag: str = "ceremonies") -> dict:
    op = {"summary": summary, "tags": [tag], "responses": responses}
    if staff:
        op["security"] = [{"bearer": []}]
        op["responses"].setdefault("401", _error("No valid token", ["unauthorized"]))
        op["responses"].setdefault("403", _error("The token's user lacks the role", ["forbidden"]))
    if body:
        op["requestBody"] = {"required": True, **_json(_ref(body))}
        op["responses"].setdefault("400", _error("Malformed JSON", ["malformed_json"]))
        op["responses"].setdefault("413", _error("Body over the size limit", ["payload_too_large"]))
        op["responses"].setdefault("415", _error("Not application/json", ["unsupported_media_type"]))
        op["responses"].setdefault("422", _error("Invalid fields; see error.fields", ["invalid"]))
    if params:
        op["parameters"] = list(params)
    return op


def _path_param(name: str, schema_type: str = "integer") -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": schema_type}}


def _query(name: str, schema_type: str = "string", description: str = "") -> dict:
    return {"name": name, "in": "query", "required": False, "schema": {"type": schema_type},
            "description": description}


DATETIME = {"type": "string", "format": "date-time"}
NULLABLE_DATETIME = {"type": ["string", "null"], "format": "date-time"}

SCHEMAS = {
    "Error": {
        "type": "object", "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["code", "message", "fields"], "properties": {
            "code": {"type": "string"}, "message": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"},
                       "description": "Field name -> what is wrong with it."}}}},
    },
    "District": {"type": "object", "properties": {k: {"type": "string"} for k in
                                                   ("code", "name_kk", "name_ru", "name_en")}},
    "DistrictList": {"type": "object", "properties": {"items": {"type": "array", "items": _ref("District")}}},
    "CeremonyInput": {
        "type": "object",
        "required": ["title_kk", "title_ru", "starts_at", "venue", "district", "capacity"],
        "properties": {
            "title_kk": {"type": "string", "maxLength": 200}, "title_ru": {"type": "string", "maxLength": 200},
            "description_kk": {"type": "string", "maxLength": 5000},
            "description_ru": {"type": "string", "maxLength": 5000},
            "starts_at": {**DATETIME, "description": "ISO 8601; without an offset it is Kazakhstan time (UTC+5)."},
            "venue": {"type": "string", "maxLength": 200}, "address": {"type": "string", "maxLength": 300},
            "district": {"type": "string", "description": "A district code from GET /districts."},
            "capacity": {"type": "integer", "minimum": 1, "maximum": 100000},
            "registration_opens_at": NULLABLE_DATETIME, "registration_closes_at": NULLABLE_DATETIME,
            "waitlist": {"type": "boolean", "default": False},
            "status": {"type": "string", "enum": ["draft", "published"], "default": "draft"},
        },
    },
    "Ceremony": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"}, "title_kk": {"type": "string"}, "title_ru": {"type": "string"},
            "description_kk": {"type": "string"}, "description_ru": {"type": "string"},
            "starts_at": DATETIME, "venue": {"type": "string"}, "address": {"type": "string"},
            "district": {"type": "string"}, "capacity": {"type": "integer"}, "seats_taken": {"type": "integer"},
            "seats_left": {"type": "integer"}, "registration_opens_at": NULLABLE_DATETIME,
            "registration_closes_at": NULLABLE_DATETIME,
            "registration": {"type": "string",
                             "enum": ["open", "not_yet", "closed", "full", "cancelled", "draft", "past"]},
            "waitlist": {"type": "boolean"},
            "status": {"type": "string", "enum": ["draft", "published", "closed", "cancelled"]},
        },
    },
    "CeremonyList": {"type": "object", "properties": {"items": {"type": "array", "items": _ref("Ceremony")}}},
    "Needs": {
        "description": "A list of codes, an object of flags with an optional note, or a free-text note.",
        "oneOf": [
            {"type": "array", "items": {"type": "string", "enum": ["wheelchair", "hearing", "near_exit"]}},
            {"type": "object", "properties": {"wheelchair": {"type": "boolean"}, "hearing": {"type": "boolean"},
                                              "near_exit": {"type": "boolean"},
                                              "note": {"type": "string", "maxLength": 500}}},
            {"type": "string", "maxLength": 500},
        ],
    },
    "RegistrationInput": {
        "type": "object", "required": ["full_name", "category", "consent"],
        "description": "At least one of email and phone.",
        "properties": {
            "full_name": {"type": "string", "maxLength": 200}, "email": {"type": "string", "format": "email"},
            "phone": {"type": "string", "description": "Kazakhstan number; stored as +7XXXXXXXXXX."},
            "companions": {"type": "integer", "minimum": 0, "maximum": MAX_COMPANIONS, "default": 0},
            "category": {"type": "string", "enum": list(CATEGORIES)},
            "needs": _ref("Needs"), "consent": {"type": "boolean", "const": True},
        },
    },
    "RegistrationCreated": {
        "type": "object",
        "properties": {"id": {"type": "integer"}, "status": {"type": "string"}, "seats": {"type": "integer"},
                       "token": {"type": "string", "description": "The private manage token."},
                       "manage_url": {"type": "string", "format": "uri"}},
    },
    "Registration": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"}, "ceremony_id": {"type": "integer"}, "full_name": {"type": "string"},
            "email": {"type": ["string", "null"]}, "phone": {"type": ["string", "null"]},
            "companions": {"type": "integer"}, "seats": {"type": "integer"},
            "category": {"type": "string", "enum": list(CATEGORIES)},
            "needs": {"type": "object"}, "status": {"type": "string", "enum": ["confirmed", "cancelled"]},
            "source": {"type": "string", "enum": ["online", "staff", "api"]},
            "created_at": DATETIME, "cancelled_at": NULLABLE_DATETIME,
        },
    },
    "RegistrationPage": {
        "type": "object",
        "properties": {"ceremony": _ref("Ceremony"), "items": {"type": "array", "items": _ref("Registration")},
                       "page": {"type": "integer"}, "per_page": {"type": "integer"}, "total": {"type": "integer"}},
    },
    "PublicRegistration": {
        "type": "object",
        "properties": {"id": {"type": "integer"}, "status": {"type": "string"}, "seats": {"type": "integer"},
                       "companions": {"type": "integer"}, "full_name": {"type": "string"},
                       "ceremony": _ref("Ceremony"), "manage_url": {"type": "string", "format": "uri"}},
    },
    "Quota": {"type": "object", "properties": {"quota": {"type": "integer"}, "used": {"type": "integer"},
                                               "left": {"type": "integer"}}},
    "Medal": {
        "type": "object",
        "properties": {
            "code": {"type": "string"}, "name_kk": {"type": "string"}, "name_ru": {"type": "string"},
            "name_en": {"type": "string"}, "serial_prefix": {"type": "string"},
            "award_year_from": {"type": "integer"}, "award_year_to": {"type": ["integer", "null"]},
            "active": {"type": "boolean"},
            "quotas": {"type": "object", "additionalProperties": _ref("Quota"),
                       "description": "District code -> quota, used and left."},
        },
    },
    "MedalList": {"type": "object", "properties": {"items": {"type": "array", "items": _ref("Medal")}}},
    "QuotaInput": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0},
                   "description": "District code -> quota (not below what is already approved)."},
    "MedalInput": {
        "type": "object", "required": ["code", "name_kk", "name_ru", "name_en", "serial_prefix"],
        "properties": {
            "code": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{1,31}$"},
            "name_kk": {"type": "string"}, "name_ru": {"type": "string"}, "name_en": {"type": "string"},
            "serial_prefix": {"type": "string", "pattern": "^[A-Z0-9]{1,8}$"},
            "award_year_from": {"type": "integer", "default": 2025}, "award_year_to": {"type": ["integer", "null"]},
            "quotas": _ref("QuotaInput"),
        },
    },
    "Nominee": {
        "type": "object", "required": ["surname", "given_name", "birth_date", "category", "district"],
        "properties": {
            "surname": {"type": "string", "maxLength": 100}, "given_name": {"type": "string", "maxLength": 100},
            "patronymic": {"type": "string", "maxLength": 100},
            "iin": {"type": ["string", "null"], "pattern": "^[0-9]{12}$",
                    "description": "Optional; checksum and birth date are checked."},
            "birth_date": {"type": "string", "format": "date"},
            "category": {"type": "string", "enum": list(NOMINEE_CATEGORIES)},
            "district": {"type": "string"}, "address": {"type": "string", "maxLength": 300},
            "phone": {"type": ["string", "null"]},
        },
    },
    "NominationInput": {
        "type": "object", "required": ["nominee", "medal", "grounds"],
        "properties": {"nominee": _ref("Nominee"), "medal": {"type": "string"},
                       "grounds": {"type": "string", "maxLength": 5000}},
    },
    "NominationCreated": {"type": "object", "properties": {
        "id": {"type": "integer"}, "status": {"type": "string"}, "possible_duplicate": {"type": "boolean"}}},
    "Nomination": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"}, "status": {"type": "string", "enum": list(STATUSES)},
            "version": {"type": "integer", "description": "Send it back with a transition to detect conflicts."},
            "nominee": _ref("Nominee"), "medal": {"type": "string"}, "district": {"type": "string"},
            "grounds": {"type": "string"}, "possible_duplicate": {"type": "boolean"},
            "duplicate_confirmed": {"type": "boolean"}, "last_comment": {"type": "string"},
            "decree_number": {"type": ["string", "null"]},
            "decree_date": {"type": ["string", "null"], "format": "date"},
            "history": {"type": "array", "items": {"type": "object"},
                        "description": "Only on GET /nominations/{id}: every change, who, when, comment."},
        },
    },
    "NominationPage": {"type": "object", "properties": {
        "items": {"type": "array", "items": _ref("Nomination")}, "page": {"type": "integer"},
        "per_page": {"type": "integer"}, "total": {"type": "integer"}}},
    "TransitionInput": {
        "type": "object", "required": ["action"],
        "properties": {
            "action": {"type": "string", "enum": list(ACTIONS)},
            "comment": {"type": "string", "description": "Required for return and reject."},
            "decree_number": {"type": "string", "description": "Required for approve."},
            "decree_date": {"type": "string", "format": "date", "description": "Required for approve."},
            "confirm_duplicate": {"type": "boolean",
                                  "description": "Submit although a likely duplicate was flagged."},
            "version": {"type": "integer", "description": "Refuse with 409 conflict if it changed meanwhile."},
        },
    },
    "TransitionResult": {"type": "object", "properties": {
        "id": {"type": "integer"}, "status": {"type": "string"}, "version": {"type": "integer"}}},
    "Award": {
        "type": "object",
        "properties": {
            "serial": {"type": "string", "examples": ["ULY-00001"]},
            "status": {"type": "string", "enum": ["valid", "revoked"]},
            "full_name": {"type": "string"}, "medal": {"type": "string"}, "district": {"type": "string"},
            "nomination_id": {"type": "integer"}, "decree_number": {"type": "string"},
            "decree_date": {"type": "string", "format": "date"}, "ceremony": {"type": ["integer", "null"]},
            "presented_on": {"type": ["string", "null"], "format": "date"}, "revoked_at": NULLABLE_DATETIME,
            "revoke_reason": {"type": ["string", "null"]}, "reissue_of": {"type": ["string", "null"]},
            "verify_url": {"type": "string"},
            "history": {"type": "array", "items": {"type": "object"}, "description": "Only on GET /awards/{serial}."},
            "reissued_as": {"type": "object", "description": "Only after revoke with reissue: the new award."},
        },
    },
    "AwardPage": {"type": "object", "properties": {
        "items": {"type": "array", "items": _ref("Award")}, "page": {"type": "integer"},
        "per_page": {"type": "integer"}, "total": {"type": "integer"}}},
    "RevokeInput": {"type": "object", "required": ["reason"], "properties": {
        "reason": {"type": "string", "maxLength": 1000},
        "reissue": {"type": "boolean", "description": "Issue a new certificate (new serial) in its place."}}},
    "PresentedInput": {"type": "object", "required": ["date"], "properties": {
        "date": {"type": "string", "description": "2025-05-09 or 09.05.2025; not in the future, not before the "
                                                  "decree."}}},
    "AttachInput": {"type": "object", "required": ["serials"], "properties": {
        "serials": {"type": "array", "items": {"type": "string"}, "maxItems": 1000}}},
    "Attached": {"type": "object", "properties": {
        "ceremony": {"type": "integer"}, "serials": {"type": "array", "items": {"type": "string"}}}},
    "Verification": {"type": "object", "required": ["status", "full_name", "medal", "serial", "decree_date"],
                     "properties": {
                         "status": {"type": "string", "enum": ["valid", "revoked"]},
                         "full_name": {"type": "string"},
                         "medal": {"type": "string", "description": "In the language of Accept-Language."},
                         "serial": {"type": "string"}, "decree_date": {"type": "string", "format": "date"},
                         "revoked_on": {"type": ["string", "null"], "format": "date"}}},
    "CheckinInput": {"type": "object", "required": ["code"], "properties": {
        "code": {"type": "string", "description": "The ticket code (as scanned, or typed; dashes and case do not "
                                                  "matter)"},
        "companions_arrived": {"type": "integer", "minimum": 0,
                               "description": "Companions who came; default: all registered"},
        "ceremony": {"type": "integer", "description": "This door's ceremony: another ceremony's ticket is "
                                                       "refused (409 wrong_ceremony)"}}},
    "Checkin": {"type": "object", "properties": {
        "registration": {"type": "object"}, "checked_in_at": DATETIME,
        "already": {"type": "boolean", "description": "Checked in before: this scan admitted no one"}}},
    "CancelInput": {"type": "object", "properties": {"reason": {"type": "string", "maxLength": 500}}},
    "Cancelled": {"type": "object", "properties": {"id": {"type": "integer"}, "status": {"type": "string"},
                                                   "seats": {"type": "integer"}}},
}

CEREMONY_ID = _path_param("ceremony_id")
NOMINATION_ID = _path_param("nomination_id")
MEDAL_CODE = _path_param("code", "string")
TOKEN = _path_param("token", "string")
SERIAL = _path_param("serial", "string")
CODE = _path_param("code", "string")
PDF = {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}
FORMAT = {"name": "format", "in": "query", "required": False, "schema": {"type": "string", "enum": ["a4", "card"]},
          "description": "a4 (landscape, default) or card (A6, 4 on an A4 sheet with crop marks)"}
AWARD_FILTERS = [_query("ceremony", "integer"), _query("medal"), _query("district"),
                 _query("status", description="valid, revoked, presented or not_presented"),
                 _query("q", description="surname (start) or serial")]


def build_document(server_url: str) -> dict:
    not_found = _error("No such object", ["not_found"])
    return {
        "openapi": "3.1.0",
        "info": {"title": "Award Service API", "version": "1.0.0",
                 "description": "Ceremonies and registrations, nominations, awards and certificates. Staff send Authorization: Bearer <token> "
                                "(flask --app award_service users token --email E). Errors are "
                                '{"error": {"code", "message", "fields"}}. Messages follow Accept-Language '
                                "(kk, ru, en)."},
        "servers": [{"url": server_url + "/api/v1"}],
        "components": {"schemas": SCHEMAS,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": {
            "/openapi.json": {"get": _op("This document", {"200": {"description": "OpenAPI 3.1"}}, tag="meta")},
            "/districts": {
                "get": _op("Districts: codes and names", {"200": {"description": "ok", **_json(_ref("DistrictList"))}},
                           tag="districts"),
                "post": _op("Add a district (admin)", {"201": {"description": "created", **_json(_ref("District"))}},
                            staff=True, body="District", tag="districts"),
            },
            "/ceremonies": {
                "get": _op("Published upcoming ceremonies",
                           {"200": {"description": "ok", **_json(_ref("CeremonyList"))}}),
                "post": _op("Create a ceremony (organiser)",
                            {"201": {"description": "created", **_json(_ref("Ceremony"))}},
                            staff=True, body="CeremonyInput"),
            },
            "/ceremonies/{ceremony_id}": {
                "get": _op("One ceremony", {"200": {"description": "ok", **_json(_ref("Ceremony"))},
                                            "404": not_found}, params=[CEREMONY_ID]),
            },
            "/ceremonies/{ceremony_id}/registrations": {
                "post": _op("Register (public)", {
                    "201": {"description": "registered", **_json(_ref("RegistrationCreated"))},
                    "404": not_found,
                    "409": _error("Cannot register", ["ceremony_full", "registration_closed",
                                                      "duplicate_registration"]),
                    "429": _error("Too many attempts from this address", ["rate_limited"]),
                }, body="RegistrationInput", params=[CEREMONY_ID]),
                "get": _op("Registrations of a ceremony (organiser)", {
                    "200": {"description": "ok", **_json(_ref("RegistrationPage"))}, "404": not_found,
                }, staff=True, params=[CEREMONY_ID, _query("q", description="name, phone or e-mail"),
                                       _query("status"), _query("page", "integer"), _query("per_page", "integer")]),
            },
            "/medals": {
                "get": _op("Medals with their quotas (staff)", {"200": {"description": "ok",
                                                                        **_json(_ref("MedalList"))}},
                           staff=True, tag="medals"),
                "post": _op("Create a medal (admin)", {"201": {"description": "created", **_json(_ref("Medal"))}},
                            staff=True, body="MedalInput", tag="medals"),
            },
            "/medals/{code}/quotas": {
                "put": _op("Set quotas per district (admin)", {
                    "200": {"description": "ok", **_json(_ref("Medal"))}, "404": not_found,
                }, staff=True, body="QuotaInput", params=[MEDAL_CODE], tag="medals"),
            },
            "/nominations": {
                "post": _op("Enter a nomination (nominator; created as draft)", {
                    "201": {"description": "created", **_json(_ref("NominationCreated"))},
                    "409": _error("Same IIN already nominated for this medal", ["duplicate_nominee"]),
                }, staff=True, body="NominationInput", tag="nominations"),
                "get": _op("Nominations visible to the token's user", {
                    "200": {"description": "ok", **_json(_ref("NominationPage"))},
                }, staff=True, tag="nominations", params=[
                    _query("status"), _query("district"), _query("medal"), _query("category"),
                    _query("q", description="name in either script, or the start of an IIN"),
                    _query("page", "integer"), _query("per_page", "integer")]),
            },
            "/nominations/{nomination_id}": {
                "get": _op("One nomination with its history", {
                    "200": {"description": "ok", **_json(_ref("Nomination"))}, "404": not_found,
                }, staff=True, params=[NOMINATION_ID], tag="nominations"),
            },
            "/nominations/{nomination_id}/transitions": {
                "post": _op("Move a nomination through the workflow", {
                    "200": {"description": "done", **_json(_ref("TransitionResult"))}, "404": not_found,
                    "409": _error("Refused", ["invalid_transition", "quota_exceeded", "conflict",
                                              "duplicate_nominee"]),
                }, staff=True, body="TransitionInput", params=[NOMINATION_ID], tag="nominations"),
            },
            "/awards": {
                "get": _op("Awards in presentation order (Kazakh alphabetical by surname)", {
                    "200": {"description": "ok", **_json(_ref("AwardPage"))},
                    "422": _error("Unknown filter value", ["invalid"]),
                }, staff=True, tag="awards", params=[*AWARD_FILTERS, _query("page", "integer"),
                                                     _query("per_page", "integer")]),
            },
            "/awards/batch.pdf": {
                "get": _op("One PDF of the valid certificates of a filter, streamed (clerk, admin)", {
                    "200": {"description": "PDF", **PDF}, "404": _error("Nothing to print", ["not_found"]),
                    "422": _error("Unknown filter value or format", ["invalid"]),
                }, staff=True, tag="awards", params=[*AWARD_FILTERS, FORMAT]),
            },
            "/awards/presentation-sheet.pdf": {
                "get": _op("The presentation sheet of a ceremony (clerk, admin)", {
                    "200": {"description": "PDF", **PDF}, "404": _error("Nothing to print", ["not_found"]),
                    "422": _error("No or unknown ceremony", ["invalid"]),
                }, staff=True, tag="awards", params=[{**_query("ceremony", "integer"), "required": True},
                                                     *AWARD_FILTERS[1:]]),
            },
            "/awards/{serial}": {
                "get": _op("One award with its history", {
                    "200": {"description": "ok", **_json(_ref("Award"))}, "404": not_found,
                }, staff=True, tag="awards", params=[SERIAL]),
            },
            "/awards/{serial}/certificate.pdf": {
                "get": _op("The certificate (clerk, admin)", {
                    "200": {"description": "PDF", **PDF}, "404": not_found,
                    "409": _error("Revoked certificates are not printed", ["revoked"]),
                    "422": _error("Unknown format", ["invalid"]),
                }, staff=True, tag="awards", params=[SERIAL, FORMAT]),
            },
            "/awards/{serial}/revoke": {
                "post": _op("Revoke (admin), optionally reissuing", {
                    "200": {"description": "revoked", **_json(_ref("Award"))}, "404": not_found,
                    "409": _error("Already revoked or changed meanwhile", ["revoked", "conflict"]),
                }, staff=True, tag="awards", body="RevokeInput", params=[SERIAL]),
            },
            "/awards/{serial}/reissue": {
                "post": _op("A new certificate in place of a revoked one (admin)", {
                    "201": {"description": "issued", **_json(_ref("Award"))}, "404": not_found,
                    "409": _error("Not revoked, or already reissued", ["invalid_transition", "conflict"]),
                }, staff=True, tag="awards", params=[SERIAL]),
            },
            "/awards/{serial}/presented": {
                "post": _op("Mark presented (clerk); the nomination becomes awarded", {
                    "200": {"description": "done", **_json(_ref("Award"))}, "404": not_found,
                    "409": _error("Revoked or already presented", ["revoked", "already_presented", "conflict"]),
                }, staff=True, tag="awards", body="PresentedInput", params=[SERIAL]),
            },
            "/ceremonies/{ceremony_id}/awards": {
                "post": _op("Attach awards to the ceremony where they will be presented (clerk)", {
                    "200": {"description": "attached", **_json(_ref("Attached"))}, "404": not_found,
                    "409": _error("Revoked, presented elsewhere, or a cancelled ceremony",
                                  ["revoked", "already_presented", "ceremony_cancelled"]),
                }, staff=True, tag="awards", body="AttachInput", params=[CEREMONY_ID]),
            },
            "/verify/{code}": {
                "get": _op("Check a certificate by the code on it (public, rate-limited)", {
                    "200": {"description": "found", **_json(_ref("Verification"))},
                    "404": _error("No certificate has this code", ["not_found"]),
                    "429": _error("Too many checks from this address", ["rate_limited"]),
                }, tag="awards", params=[CODE]),
            },
            "/checkin": {
                "post": _op("Admit a ticket's holder at the door (organiser, clerk)", {
                    "200": {"description": "admitted, or already admitted", **_json(_ref("Checkin"))},
                    "404": _error("No ticket has this code", ["not_found"]),
                    "409": _error("Cancelled registration or another ceremony's ticket",
                                  ["cancelled", "wrong_ceremony"]),
                }, staff=True, tag="ceremonies", body="CheckinInput"),
            },
            "/registrations/{token}": {
                "get": _op("A registration by its manage token (public)", {
                    "200": {"description": "ok", **_json(_ref("PublicRegistration"))}, "404": not_found,
                }, params=[TOKEN]),
            },
            "/registrations/{token}/ticket.pdf": {
                "get": _op("The admission ticket (public, by the manage token)", {
                    "200": {"description": "PDF", **PDF}, "404": not_found,
                    "409": _error("The registration was cancelled", ["cancelled"]),
                }, params=[TOKEN]),
            },
            "/registrations/{token}/cancel": {
                "post": {**_op("Cancel by the manage token (public); the body is optional", {
                    "200": {"description": "cancelled", **_json(_ref("Cancelled"))}, "404": not_found,
                    "409": _error("Already cancelled or the ceremony has started",
                                  ["already_cancelled", "registration_closed"]),
                }, params=[TOKEN]), "requestBody": {"required": False, **_json(_ref("CancelInput"))}},
            },
        },
    }


@bp.get("/openapi.json")
def openapi_document():
    return build_document(current_app.config["AWARD_BASE_URL"])
