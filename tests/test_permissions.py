"""Who may do what: every protected page and endpoint × every role, plus district scope."""

import pytest

from award_service.accounts.models import ROLES
from award_service.accounts.permissions import PERMISSIONS, can

from .conftest import registration_data

PUBLIC_PREFIXES = (
    "/static/",
    "/language/",
    "/healthz",
    "/readyz",
    "/r/",
    "/ceremonies/",
    "/staff/login",
    "/v/",
    "/verify",
)


def _protected_rules(app):
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        yield rule, getattr(view, "required_permission", None)


def _url(rule, ids):
    values = {arg: ids[arg] for arg in rule.arguments}
    path = rule.rule
    for key, value in values.items():
        path = path.replace(f"<int:{key}>", str(value)).replace(f"<{key}>", str(value))
    return path


@pytest.fixture
def world(make_user, make_ceremony, client, app):
    ceremony = make_ceremony()
    client.post(f"/ceremonies/{ceremony.id}", data=registration_data())
    from award_service.ceremonies.models import Registration
    from award_service.extensions import db

    registration = db.session.query(Registration).one()
    target = make_user("clerk")
    from award_service.actor import Actor
    from award_service.medals.service import create_medal
    from award_service.nominations.service import create_nomination

    system = Actor.system("test")
    medal = create_medal(
        db.session,
        system,
        {
            "code": "victory80",
            "name_kk": "Жеңіс 80",
            "name_ru": "Победа 80",
            "name_en": "Victory 80",
            "serial_prefix": "ULY",
            "quotas": {"zhezkazgan": 397},
        },
    )
    nomination = create_nomination(
        db.session,
        system,
        {
            "nominee": {
                "surname": "Әбенов",
                "given_name": "Қайрат",
                "birth_date": "1928-01-02",
                "category": "home_front_worker",
                "district": "zhezkazgan",
            },
            "medal": medal.code,
            "grounds": "Тыл еңбеккері",
        },
    )
    from award_service.nominations.transitions import transition

    transition(db.session, system, nomination, "submit")
    transition(db.session, Actor(user=make_user("reviewer")), nomination, "recommend")
    transition(
        db.session,
        Actor(user=make_user("commission")),
        nomination,
        "approve",
        decree_number="45",
        decree_date="2025-04-28",
    )  # issues certificate ULY-00001
    return {
        "ceremony_id": ceremony.id,
        "registration_id": registration.id,
        "user_id": target.id,
        "action": "close",
        "token": registration.token,
        "nomination_id": nomination.id,
        "code": medal.code,
        "document_id": 1,
        "serial": "ULY-00001",
        "direction": "up",
    }


def test_every_staff_page_and_api_endpoint_names_its_permission(app):
    unguarded = []
    for rule, permission in _protected_rules(app):
        path = rule.rule
        if path == "/" or path.startswith(PUBLIC_PREFIXES) or path.startswith("/api/"):
            continue
        if path in ("/staff/", "/staff/logout"):
            continue  # any logged-in staff member (login_required)
        if path == "/metrics":
            continue  # the scraper's, guarded by AWARD_METRICS_TOKEN, not a staff permission (tests/test_metrics.py)
        if permission is None:
            unguarded.append(path)
    assert unguarded == []


@pytest.mark.parametrize("role", [None, *ROLES])
def test_permission_matrix(app, make_user, token_for, world, role):
    """Each protected route: anonymous -> login/401; a role without the permission -> 403; with it -> allowed."""
    checked = 0
    user = make_user(role) if role else None
    headers = token_for(user) if user else {}
    client = app.test_client()
    if user is not None:
        client.post("/staff/login", data={"email": user.email, "password": "correct-horse-battery"})
    for rule, permission in _protected_rules(app):
        if permission is None:
            continue
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        url = _url(rule, world)
        if rule.rule.startswith("/api/"):
            # a fresh client: the API must not see the session cookie
            response = app.test_client().open(url, method=method, headers=headers, json={} if method != "GET" else None)
        else:
            response = client.open(url, method=method, data={})
        allowed = role is not None and role in PERMISSIONS[permission]
        if role is None:
            expected = 401 if rule.rule.startswith("/api/") else 302
            assert response.status_code == expected, (url, response.status_code)
            if expected == 302:
                assert "/staff/login" in response.headers["Location"]
        elif allowed:
            assert response.status_code not in (401, 403, 500), (role, url, response.status_code)
        else:
            assert response.status_code == 403, (role, url, response.status_code)
        checked += 1
    assert checked >= 15


def test_district_scope_in_can(make_user, make_ceremony):
    ceremony = make_ceremony(district="zhezkazgan")
    regional = make_user("organiser")
    local = make_user("organiser", district="zhezkazgan")
    elsewhere = make_user("organiser", district="karazhal")
    admin_elsewhere = make_user("admin", district="karazhal")
    assert can(regional, "ceremonies.manage", ceremony)
    assert can(local, "ceremonies.manage", ceremony)
    assert not can(elsewhere, "ceremonies.manage", ceremony)
    assert can(admin_elsewhere, "ceremonies.manage", ceremony)
    assert not can(None, "ceremonies.manage")
    with pytest.raises(KeyError):
        can(regional, "no.such.permission")


def test_deactivated_token_user_is_refused(client, make_user, token_for, system):
    from award_service.accounts.service import update_user
    from award_service.extensions import db

    user = make_user("organiser")
    headers = token_for(user)
    assert client.get("/api/v1/ceremonies/1/registrations", headers=headers).status_code == 404
    update_user(db.session, system, user, {"active": False})
    assert client.get("/api/v1/ceremonies/1/registrations", headers=headers).status_code == 401


def test_session_cookie_does_not_authenticate_the_api(client, make_user, login, world):
    login(make_user("organiser"))
    response = client.get(f"/api/v1/ceremonies/{world['ceremony_id']}/registrations")
    assert response.status_code == 401
