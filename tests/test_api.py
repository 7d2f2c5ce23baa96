"""API conventions: error bodies, content types, sizes, the OpenAPI document."""

from award_service.api.openapi import build_document


def test_error_body_shape_for_http_errors(client):
    for method, url, status, code in [
        ("GET", "/api/v1/nope", 404, "not_found"),
        ("DELETE", "/api/v1/ceremonies", 405, "method_not_allowed"),
        ("POST", "/api/v1/ceremonies", 401, "unauthorized"),
        ("GET", "/api/v1/ceremonies/123456", 404, "not_found"),
    ]:
        response = client.open(url, method=method)
        assert response.status_code == status and response.is_json, url
        error = response.json["error"]
        assert error["code"] == code and error["message"] and error["fields"] == {}


def test_bodies_that_are_not_json_objects(client, make_ceremony):
    url = f"/api/v1/ceremonies/{make_ceremony().id}/registrations"
    cases = [
        ({"data": "{not json", "content_type": "application/json"}, 400, "malformed_json"),
        ({"data": "[1, 2]", "content_type": "application/json"}, 400, "malformed_json"),
        ({"data": b"\xff\xfe", "content_type": "application/json"}, 400, "malformed_json"),
        ({"data": "full_name=x", "content_type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"),
        ({"data": "{}", "content_type": "text/plain"}, 415, "unsupported_media_type"),
        (
            {"data": '{"full_name": "' + "x" * 70_000 + '"}', "content_type": "application/json"},
            413,
            "payload_too_large",
        ),
    ]
    for kwargs, status, code in cases:
        response = client.post(url, **kwargs)
        assert response.status_code == status, (kwargs.get("content_type"), response.status_code)
        assert response.json["error"]["code"] == code


def test_empty_object_lists_every_missing_field(client, make_ceremony):
    response = client.post(f"/api/v1/ceremonies/{make_ceremony().id}/registrations", json={})
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"full_name", "phone", "email", "category", "consent"}


def test_openapi_describes_every_api_route(app, client):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.") and document["servers"][0]["url"] == "http://award.test/api/v1"
    documented = {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = rule.rule.removeprefix("/api/v1")
        for arg in rule.arguments:
            path = path.replace(f"<{arg}>", f"{{{arg}}}").replace(f"<int:{arg}>", f"{{{arg}}}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((path, method))
    assert routes == documented


def test_openapi_refs_resolve():
    document = build_document("http://x")
    schemas = document["components"]["schemas"]

    def walk(node):
        if isinstance(node, dict):
            ref = node.get("$ref")
            if ref:
                assert ref.removeprefix("#/components/schemas/") in schemas, ref
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)


def test_districts_reference_data(client, make_user, token_for):
    items = client.get("/api/v1/districts").json["items"]
    assert {d["code"] for d in items} == {"zhezkazgan", "satbayev", "karazhal", "ulytau", "zhanaarka"}
    assert {d["name_kk"] for d in items} >= {"Жезқазған қаласы", "Ұлытау ауданы"}
    headers = token_for(make_user("admin"))
    created = client.post(
        "/api/v1/districts",
        headers=headers,
        json={"code": "baikonyr", "name_kk": "Байқоңыр", "name_ru": "Байконур", "name_en": "Baikonyr"},
    )
    assert created.status_code == 201
    again = client.post(
        "/api/v1/districts", headers=headers, json={"code": "baikonyr", "name_kk": "", "name_ru": "Б", "name_en": "B"}
    )
    assert again.status_code == 422 and set(again.json["error"]["fields"]) == {"code", "name_kk"}
    assert len(client.get("/api/v1/districts").json["items"]) == 6


def test_values_of_the_wrong_json_type_are_field_errors(client, make_ceremony, make_user, token_for):
    """Found by schemathesis: objects where scalars belong, and ids beyond a database integer."""
    ceremony = make_ceremony()
    response = client.post(
        f"/api/v1/ceremonies/{ceremony.id}/registrations",
        json={
            "full_name": "Айгүл",
            "phone": "+77010000001",
            "category": {"x": 1},
            "consent": {"yes": True},
            "companions": [],
            "needs": {"wheelchair": {"a": 1}},
        },
    )
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"category", "consent", "companions", "needs"}
    headers = token_for(make_user("organiser"))
    response = client.post(
        "/api/v1/ceremonies",
        headers=headers,
        json={
            "title_kk": {},
            "title_ru": [],
            "starts_at": {},
            "venue": 5,
            "district": {"code": "ulytau"},
            "capacity": {},
            "waitlist": {},
            "status": {},
        },
    )
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) >= {
        "title_kk",
        "title_ru",
        "starts_at",
        "venue",
        "district",
        "capacity",
        "waitlist",
        "status",
    }
    for huge in ("99999999999999999999999", "-4491512062736427593298304040960", "2147483648"):
        assert client.get(f"/api/v1/ceremonies/{huge}").status_code == 404
        assert client.get(f"/ceremonies/{huge}").status_code == 404
        assert client.get(f"/staff/ceremonies/{huge}").status_code in (302, 404)


def test_paging_arguments_are_bounded(client, make_ceremony, make_user, token_for, login):
    ceremony = make_ceremony()
    headers = token_for(make_user("organiser"))
    url = f"/api/v1/ceremonies/{ceremony.id}/registrations"
    response = client.get(f"{url}?page=1731610282673949952&per_page=17710161488339070353408", headers=headers)
    assert response.status_code == 422 and set(response.json["error"]["fields"]) == {"page", "per_page"}
    assert client.get(f"{url}?page=abc", headers=headers).status_code == 422
    assert client.get(f"{url}?page=2&per_page=10", headers=headers).json["items"] == []
    login(make_user("organiser"))
    assert client.get(f"/staff/ceremonies/{ceremony.id}?page=99999999999999999999999").status_code == 200
