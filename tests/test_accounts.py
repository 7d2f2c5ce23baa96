from sqlalchemy import select, text

from award_service.accounts.models import ApiToken, User
from award_service.audit.models import AuditEvent
from award_service.extensions import db

from .conftest import PASSWORD


def test_cli_creates_a_user_and_a_token_that_the_api_accepts(runner, client):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "Org@Example.com",
            "--name",
            "Айгерім Сейітқызы",
            "--role",
            "organiser",
            "--role",
            "clerk",
            "--district",
            "satbayev",
            "--password",
            "long-enough-password",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "org@example.com"))
    assert user.roles == {"organiser", "clerk"} and user.district.code == "satbayev"
    assert user.password_hash.startswith("$argon2") and "long-enough-password" not in user.password_hash

    result = runner.invoke(args=["users", "token", "--email", "org@example.com"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert len(token) >= 40
    stored = db.session.scalars(select(ApiToken.token_hash)).all()
    assert token not in stored and len(stored) == 1
    response = client.get("/api/v1/ceremonies/1/registrations", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404  # authenticated and allowed: the ceremony just does not exist
    response = client.get("/api/v1/ceremonies/1/registrations", headers={"Authorization": f"Bearer {token}x"})
    assert response.status_code == 401


def test_cli_refuses_bad_input_clearly(runner):
    result = runner.invoke(
        args=["users", "create", "--email", "not-an-email", "--name", "X", "--role", "wizard", "--password", "short"]
    )
    assert result.exit_code != 0
    assert "email" in result.output and "roles" in result.output and "password" in result.output
    assert db.session.scalar(select(User.id)) is None
    result = runner.invoke(args=["users", "token", "--email", "nobody@example.com"])
    assert result.exit_code != 0 and "no user" in result.output


def test_cli_generates_a_password_when_none_is_given(runner, client):
    result = runner.invoke(args=["users", "create", "--email", "c@example.com", "--name", "C", "--role", "clerk"])
    assert result.exit_code == 0, result.output
    password = result.output.strip().splitlines()[-1].removeprefix("password: ")
    response = client.post("/staff/login", data={"email": "c@example.com", "password": password})
    assert response.status_code == 302


def test_ensure_admin_creates_the_first_admin_once(runner, monkeypatch):
    monkeypatch.setenv("AWARD_ADMIN_EMAIL", "akim@example.com")
    monkeypatch.delenv("AWARD_ADMIN_PASSWORD", raising=False)
    first = runner.invoke(args=["users", "ensure-admin"])
    assert first.exit_code == 0 and "akim@example.com" in first.output and "Password" in first.output
    second = runner.invoke(args=["users", "ensure-admin"])
    assert second.exit_code == 0 and second.output == ""
    assert db.session.scalar(select(User).where(User.email == "akim@example.com")).roles == {"admin"}


def test_login_logout_and_audit(client, make_user):
    user = make_user("organiser")
    response = client.post("/staff/login", data={"email": user.email, "password": "wrong-password"})
    assert response.status_code == 401
    assert client.get("/staff/").status_code == 302
    response = client.post("/staff/login", data={"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.login")).actor_id == user.id
    assert client.post("/staff/logout").status_code == 302
    assert client.get("/staff/").status_code == 302


def test_login_does_not_follow_offsite_next(client, make_user):
    user = make_user("organiser")
    response = client.post("/staff/login?next=https://evil.example/x", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/staff/"
    response = client.post("/staff/login?next=//evil.example", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/staff/"


def test_inactive_user_cannot_log_in(client, make_user, app, system):
    from award_service.accounts.service import update_user

    user = make_user("organiser")
    update_user(db.session, system, user, {"active": False})
    response = client.post("/staff/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 401


def test_login_is_rate_limited(make_app, make_user):
    app = make_app(AWARD_RATELIMIT_ENABLED=True, AWARD_LOGIN_RATE_LIMIT="3 per minute")
    with app.app_context():
        client = app.test_client()
        codes = [
            client.post("/staff/login", data={"email": "x@example.com", "password": "nope"}).status_code
            for _ in range(4)
        ]
    assert codes == [401, 401, 401, 429]


def test_csrf_is_enforced_on_forms(make_app, make_user):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        client = app.test_client()
        response = client.post("/staff/login", data={"email": "x@example.com", "password": "nope"})
        assert response.status_code == 400
        page = client.get("/staff/login").text
        import re

        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post("/staff/login", data={"email": "x@example.com", "password": "nope", "csrf_token": token})
        assert response.status_code == 401


def test_admin_manages_users_through_pages(en_client, login, make_user):
    client = en_client
    admin = login(make_user("admin"))
    response = client.post(
        "/staff/users/new",
        data={
            "email": "new@example.com",
            "name": "Гүлмира Оспанова",
            "roles": ["clerk", "organiser"],
            "district": "karazhal",
            "password": "a-long-password",
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "new@example.com"))
    assert user.roles == {"clerk", "organiser"} and user.district.code == "karazhal"

    response = client.post(
        "/staff/users/new", data={"email": "new@example.com", "name": "", "roles": [], "password": "short"}
    )
    assert response.status_code == 422
    for message in ("already exists", "Enter a name", "at least one role", "at least 10"):
        assert message in response.text

    response = client.post(
        f"/staff/users/{user.id}",
        data={"email": "new@example.com", "name": "Гүлмира", "roles": ["clerk"], "district": "", "active": "y"},
    )
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.roles == {"clerk"} and user.district is None
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.update")).one()
    assert event.actor_id == admin.id and event.after["roles"] == ["clerk"]

    response = client.post(
        f"/staff/users/{admin.id}", data={"email": admin.email, "name": admin.name, "roles": ["clerk"]}
    )
    assert response.status_code == 409  # an admin cannot remove their own admin role

    response = client.post(f"/staff/users/{user.id}/token")
    assert response.status_code == 200 and "aws_" in response.text


def test_audit_events_are_append_only_in_the_database(app, make_user):
    make_user("admin")
    event_id = db.session.scalar(select(AuditEvent.id))
    for statement in (
        f"UPDATE audit_events SET action = 'x' WHERE id = {event_id}",
        f"DELETE FROM audit_events WHERE id = {event_id}",
    ):
        try:
            db.session.execute(text(statement))
            db.session.commit()
        except Exception as exc:  # the trigger raises a driver-specific error
            db.session.rollback()
            assert "append-only" in str(exc)  # noqa: PT017  (the error type is the driver's)
        else:
            raise AssertionError(f"{statement} was allowed")
    assert db.session.get(AuditEvent, event_id).action == "user.create"


def test_rate_limits_are_shared_between_workers_through_redis(make_app):
    """Two app instances (two gunicorn workers) count against one limit when Redis stores it."""
    import uuid

    import redis

    server = redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=1)
    try:
        server.ping()
    except redis.exceptions.ConnectionError:
        import pytest

        pytest.skip("no Redis on 127.0.0.1:6379")
    config = {
        "AWARD_RATELIMIT_ENABLED": True,
        "AWARD_LOGIN_RATE_LIMIT": "2 per minute",
        "AWARD_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
        "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
    }
    first, second = make_app(**config), make_app(**config)
    codes = []
    for app in (first, second, first):
        with app.app_context():
            codes.append(
                app.test_client().post("/staff/login", data={"email": "x@example.com", "password": "nope"}).status_code
            )
    assert codes == [401, 401, 429]
    keys = server.keys(f"*{config['RATELIMIT_KEY_PREFIX']}*")
    assert keys, "the limit was not counted in Redis"
    server.delete(*keys)


def test_each_client_is_its_own_user_within_one_app_context(app, make_user, login, client):
    login(make_user("organiser"))
    assert client.get("/staff/").status_code == 200
    assert app.test_client().get("/staff/").status_code == 302


def test_production_hashes_passwords_at_argon2s_default_cost(db_url):
    """The tests' cheap argon2 parameters (conftest) must never be what a deployment gets."""
    import argon2

    from award_service import create_app
    from award_service.accounts.service import hash_password
    from award_service.config import DEFAULTS

    assert DEFAULTS["AWARD_ARGON2_PARAMS"] == {}
    app = create_app({"SECRET_KEY": "production-like", "SQLALCHEMY_DATABASE_URI": db_url})  # no test settings
    with app.app_context():
        stored = hash_password("correct-horse-battery")
    default = argon2.PasswordHasher()
    assert argon2.extract_parameters(stored) == argon2.Parameters(
        type=default.type,
        version=argon2.low_level.ARGON2_VERSION,
        salt_len=default.salt_len,
        hash_len=default.hash_len,
        time_cost=default.time_cost,
        memory_cost=default.memory_cost,
        parallelism=default.parallelism,
    )
    assert default.memory_cost >= 64 * 1024 and default.time_cost >= 3  # argon2-cffi's own defaults, for the record


def test_tests_hash_passwords_cheaply_and_still_check_them(app, make_user):
    import argon2

    from award_service.accounts.service import authenticate

    user = make_user("organiser")
    assert argon2.extract_parameters(user.password_hash).time_cost == 1
    assert authenticate(db.session, user.email, PASSWORD) is not None
    assert authenticate(db.session, user.email, "wrong-password!") is None
    assert authenticate(db.session, "nobody@example.com", PASSWORD) is None


def test_first_run_ends_with_the_admin_login_framed_and_a_lost_password_can_be_replaced(runner, client, monkeypatch):
    # `make run` calls ensure-admin --url after the install, the migrations and the demo,
    # so the one-time password is the last thing before the server's banner, in a frame.
    monkeypatch.delenv("AWARD_ADMIN_EMAIL", raising=False)
    monkeypatch.delenv("AWARD_ADMIN_PASSWORD", raising=False)
    first = runner.invoke(args=["users", "ensure-admin", "--url", "http://127.0.0.1:5000/"])
    assert first.exit_code == 0, first.output
    lines = first.output.strip().splitlines()
    assert lines[0].startswith("+-") and lines[-1] == lines[0]
    assert all(line.startswith("| ") and line.endswith(" |") and len(line) == len(lines[0]) for line in lines[1:-1])
    body = "\n".join(lines)
    assert "http://127.0.0.1:5000/" in body and "admin@example.com" in body
    password = next(line for line in lines if "Password" in line).split(": ", 1)[1].rstrip(" |")
    assert client.post("/staff/login", data={"email": "admin@example.com", "password": password}).status_code == 302
    client.post("/staff/logout")

    # Later runs print where to go and how to get a new password, never the old one.
    again = runner.invoke(args=["users", "ensure-admin", "--url", "http://127.0.0.1:5000/"])
    assert again.exit_code == 0 and password not in again.output and "users password" in again.output

    renewed = runner.invoke(args=["users", "password", "--email", "ADMIN@example.com"])
    assert renewed.exit_code == 0, renewed.output
    new = renewed.output.split("(shown once): ", 1)[1].split(" ", 1)[0]
    assert new != password
    assert client.post("/staff/login", data={"email": "admin@example.com", "password": password}).status_code == 401
    assert client.post("/staff/login", data={"email": "admin@example.com", "password": new}).status_code == 302
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.update"))
    # Generated and printed: a one-time password, to be changed (the production check reads this).
    assert event.actor_label == "cli" and event.after == {"password": "(one-time)"}
    assert runner.invoke(args=["users", "password", "--email", "nobody@example.com"]).exit_code != 0


def test_the_user_page_history_is_in_words(client, make_user, login):
    """Field names as labels, values as words (roles, district, yes/no), local
    times; never None/True/False nor the raw action codes."""
    admin = make_user("admin")
    user = make_user("organiser")
    login(admin)
    response = client.post(
        f"/staff/users/{user.id}?lang=en",
        data={"email": user.email, "name": user.name, "roles": ["organiser", "clerk"], "district": "zhezkazgan"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(f"/staff/users/{user.id}?lang=en").get_data(as_text=True)
    history = " ".join(page[page.index("History") : page.index("</ul>", page.index("History"))].split())
    assert "Account created" in history and "Account changed" in history
    assert "Roles: Organiser → Clerk, Organiser" in history
    assert "District: — → Zhezkazgan city" in history
    assert "Active: yes → no" in history  # the form's unticked box deactivates
    assert not any(raw in history for raw in ("user.update", "user.create", "None", "True", "False", "<code>"))
