"""Backups and restore through the real commands, on the suite's database (SQLite,
or PostgreSQL when TEST_DATABASE_URL is set): the Ulytau demo backed up and
restored into a fresh database, compared table by table and award by award;
certificates verify and the next approval takes the next serial after it; the
refusals (a database that holds data, a damaged file, another key); a restore
that fails leaves the database as it was; encryption; a backup taken while the
service takes registrations; a backup of an older migration restored over a
newer database and brought forward; pruning."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import tarfile
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyrage
import pytest
import requests
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url

from award_service import keys
from award_service.accounts.models import User
from award_service.actor import Actor
from award_service.audit.models import AuditEvent
from award_service.awards.models import Award
from award_service.ceremonies.models import Ceremony, Registration
from award_service.extensions import db, for_dialect
from award_service.medals.models import Medal, MedalQuota
from award_service.nominations import transitions
from award_service.nominations.models import Nomination, Nominee
from award_service.ops.backup import archive

# ------------------------------------------------------------------ helpers


@pytest.fixture
def fresh_app(database, tmp_path):
    """Apps on empty databases, to restore into: a new file on SQLite; on
    PostgreSQL a new database named like conftest's (award_test_<tag>_<worker>_…,
    so that CI's clean-up finds what a killed run leaves).  ``fresh_app(url=…)``
    makes another app on a database made before.  At the end each app lets go of
    its connections, then the databases are dropped."""
    from award_service import create_app

    from .conftest import BASE_CONFIG

    apps, made = [], []
    server = None
    if database["kind"] == "postgresql":
        server = create_engine(make_url(database["url"]).set(database="postgres"), isolation_level="AUTOCOMMIT")

    def new_url() -> str:
        if server is None:
            return f"sqlite:///{tmp_path / f'restored-{len(apps)}.sqlite3'}"
        parts = [os.environ.get("AWARD_TEST_DB_TAG", ""), os.environ.get("PYTEST_XDIST_WORKER", "")]
        name = "_".join(
            ["award_test", *(re.sub(r"[^a-z0-9]", "", p.lower()) for p in parts if p), "bk", uuid.uuid4().hex[:12]]
        )
        with server.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return make_url(database["url"]).set(database=name).render_as_string(hide_password=False)

    def make(url: str | None = None, **config):
        app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": url or new_url(), **config})
        apps.append(app)
        return app

    yield make
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    if server is not None:
        with server.connect() as conn:
            for name in made:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def cli(app, *args: str):
    """``flask --app award_service ARGS`` on ``app`` (its own app context: the
    commands run in the current one when there is one)."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)


def created_path(output: str) -> Path:
    match = re.search(r"^backup written: (.+?) \(", output, re.M)
    assert match, output
    return Path(match.group(1))


def one_line_error(result) -> str:
    """A refusal: exit code 1 and one line of explanation."""
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


def table_counts() -> dict[str, int]:
    connection = db.session.connection()
    names = inspect(connection).get_table_names()
    return {t: connection.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in sorted(names)}


def awards_checksum() -> tuple[int, str]:
    """The register as a reader of certificates sees it: serial, name parts, code, status, decree, ceremony."""
    rows = db.session.execute(
        select(
            Award.serial,
            Award.number,
            Award.surname,
            Award.given_name,
            Award.patronymic,
            Award.full_name,
            Award.verify_code,
            Award.status,
            Award.decree_number,
            Award.decree_date,
            Award.ceremony_id,
            Award.reissue_of_id,
        )
    ).all()
    text_rows = sorted(json.dumps([str(v) for v in row], ensure_ascii=False) for row in rows)
    return len(rows), hashlib.sha256("\n".join(text_rows).encode()).hexdigest()


def schema_differences():
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": for_dialect(connection.dialect.name)}
        )
        return compare_metadata(context, db.metadata)


def rewrite(path: Path, out: Path, change) -> None:
    """A copy of a backup with its manifest changed by ``change`` (the dump, and so its checksum, untouched)."""
    with tarfile.open(path) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
        member = tar.getmember(manifest["dump"]["name"])
        dump = tar.extractfile(member).read()
    change(manifest)
    with tarfile.open(out, "w") as tar:
        for name, data in (("manifest.json", json.dumps(manifest).encode()), (member.name, dump)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def add_ceremony(app, title: str, capacity: int = 50) -> int:
    from award_service.ceremonies.service import create_ceremony

    from .conftest import future

    ceremony = create_ceremony(
        db.session,
        Actor.system("test"),
        {
            "title_kk": title,
            "title_ru": title,
            "starts_at": future(),
            "venue": "Алаш алаңы",
            "address": "Жезқазған",
            "district": "zhezkazgan",
            "capacity": capacity,
            "status": "published",
        },
        tz=app.config["AWARD_TIMEZONE"],
    )
    return ceremony.id


# ------------------------------------------------------------------ the round trip


def test_demo_backed_up_and_restored_into_a_fresh_database_keeps_every_row_and_certificate(
    app, fresh_app, tmp_path, caplog
):
    caplog.set_level(logging.INFO, logger="award_service")
    assert cli(app, "demo", "load").exit_code == 0
    before = table_counts()
    awards_before = awards_checksum()
    assert awards_before[0] > 300 and before["registrations"] > 100  # the demo's register and ceremonies
    medal = db.session.scalar(select(Medal))
    prefix, last_number = medal.serial_prefix, db.session.scalar(select(func.max(Award.number)))
    assert medal.serial_counter == last_number  # the counter is a row: backed up with the awards
    codes = {a.verify_code: (a.serial, a.status, a.full_name) for a in db.session.scalars(select(Award))}
    people = [n.surname for n in db.session.scalars(select(Nominee).limit(50))]
    emails = [r.email for r in db.session.scalars(select(Registration).where(Registration.email != "").limit(20))]

    made = cli(app, "backup", "create", "--output", str(tmp_path))
    assert made.exit_code == 0, made.output
    path = created_path(made.output)
    assert archive.NAME_RE.match(path.name) and path.stat().st_mode & 0o077 == 0  # sortable name, owner-only
    fingerprint = keys.fingerprint(b"test-secret-key")
    assert f"secret_key (SECRET_KEY): {fingerprint}" in made.output
    with tarfile.open(path) as tar:
        assert tar.getnames()[0] == "manifest.json"
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert manifest["tables"] == before
    assert manifest["awards"]["rows"] == awards_before[0]
    assert manifest["keys"] == [
        {"name": "secret_key", "config": "SECRET_KEY", "fingerprint": fingerprint, "replaceable": True}
    ]
    assert manifest["database"]["kind"] == db.engine.dialect.name
    db.session.expire_all()
    created_event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
    assert (created_event.action, created_event.object_id) == ("backup.create", path.name)

    target = fresh_app()
    restored = cli(target, "backup", "restore", str(path))
    assert restored.exit_code == 0, restored.output
    assert "this release's head: the service can start" in restored.output
    with target.app_context():
        after = table_counts()
        assert after == {**before, "audit_events": before["audit_events"] + 1}
        assert awards_checksum() == awards_before
        last = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
        assert (last.action, last.object_id, last.after["revision"]) == (
            "backup.restore",
            path.name,
            manifest["alembic_revision"],
        )
        assert schema_differences() == []

        # Every certificate verifies as before, by the public API; the page too.
        client = target.test_client()
        for code, (serial, status, full_name) in codes.items():
            answer = client.get(f"/api/v1/verify/{code}")
            assert answer.status_code == 200 and answer.json["serial"] == serial, code
            assert (answer.json["status"], answer.json["full_name"]) == (status, full_name)
        code, (serial, _, full_name) = next(iter(codes.items()))
        page = client.get(f"/v/{code}")
        assert page.status_code == 200 and serial in page.text and full_name in page.text

        # The next approval takes the next serial: no gap, no repeat.
        commission = db.session.scalar(select(User).where(User.email == "commission.chair@example.com"))
        room = select(MedalQuota.district_id).where(MedalQuota.used < MedalQuota.quota)
        waiting = db.session.scalars(
            select(Nomination)
            .where(Nomination.status == "recommended", Nomination.district_id.in_(room))
            .order_by(Nomination.id)
        ).first()
        assert waiting is not None
        transitions.transition(
            db.session,
            Actor(user=commission),
            waiting,
            "approve",
            decree_number="77",
            decree_date=date(2025, 5, 5).isoformat(),
            confirm_duplicate=True,
        )
        new = db.session.scalar(select(Award).where(Award.nomination_id == waiting.id))
        assert new.number == last_number + 1
        assert new.serial == f"{prefix}-{last_number + 1:05d}"
        assert db.session.scalar(select(func.count()).select_from(Award).where(Award.serial == new.serial)) == 1

    # The logs say what happened and hold no one's personal data.
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("award_service.ops"))
    assert "backup created" in logged and "backup restored" in logged
    for word in people + emails:
        assert word not in logged


# ------------------------------------------------------------------ refusals


def test_restore_refuses_a_database_that_holds_data_and_force_replaces_it(app, tmp_path):
    first = add_ceremony(app, "Жеңіс күні — Сәтбаев")
    path = created_path(cli(app, "backup", "create", "--output", str(tmp_path)).output)
    second = add_ceremony(app, "Жеңіс күні — Қаражал")

    db.session.remove()
    error = one_line_error(cli(app, "backup", "restore", str(path)))
    assert "the database is not empty: audit_events (" in error and "ceremonies (2 rows)" in error
    assert "--force" in error and "districts" not in error  # the districts the first migration seeds do not count
    assert set(db.session.scalars(select(Ceremony.id))) == {first, second}
    db.session.remove()

    forced = cli(app, "backup", "restore", str(path), "--force")
    assert forced.exit_code == 0, forced.output
    db.session.remove()
    assert set(db.session.scalars(select(Ceremony.id))) == {first}
    actions = list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    # The restore replaced the audit table too (the second ceremony's event is gone); it is audited after.
    assert actions[-1] == "backup.restore" and actions.count("ceremony.create") == 1


def test_a_restore_that_fails_its_checks_leaves_the_database_as_it_was(app, tmp_path):
    add_ceremony(app, "Жеңіс күні — Жезқазған")
    path = created_path(cli(app, "backup", "create", "--output", str(tmp_path)).output)
    later = add_ceremony(app, "Жеңіс күні — Ұлытау")
    counts = table_counts()
    db.session.remove()

    # The dump is sound (its checksum matches) but holds one ceremony fewer than its manifest claims:
    # the restore gets as far as writing, finds the difference, and undoes everything.
    lying = tmp_path / "lying.tar"
    rewrite(path, lying, lambda m: m["tables"].update(ceremonies=m["tables"]["ceremonies"] + 1))
    error = one_line_error(cli(app, "backup", "restore", str(lying), "--force"))
    assert "ceremonies holds 1 rows" in error and "manifest says 2" in error
    db.session.remove()
    assert table_counts() == counts and db.session.get(Ceremony, later) is not None


def test_restore_refuses_a_damaged_or_cut_file_before_touching_anything(app, fresh_app, tmp_path):
    add_ceremony(app, "Жеңіс күні")
    path = created_path(cli(app, "backup", "create", "--output", str(tmp_path)).output)
    target = fresh_app()

    damaged = tmp_path / "damaged.tar"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit, in the dump
    damaged.write_bytes(bytes(data))
    error = one_line_error(cli(target, "backup", "restore", str(damaged)))
    assert "is damaged: the dump's SHA-256 is" in error and "nothing was restored" in error
    assert "is damaged" in one_line_error(cli(target, "backup", "verify", str(damaged)))

    cut = tmp_path / "cut.tar"
    cut.write_bytes(path.read_bytes()[: len(data) // 3])
    assert "is damaged or not an Award Service backup" in one_line_error(cli(target, "backup", "restore", str(cut)))
    not_backup = tmp_path / "notes.tar"
    not_backup.write_bytes(b"Ulytau region, backup notes\n" * 100)
    assert "is damaged or not an Award Service backup" in one_line_error(
        cli(target, "backup", "restore", str(not_backup))
    )
    with target.app_context():
        assert table_counts() == {}  # nothing was written


def test_restore_refuses_when_the_configured_key_is_missing_or_another(app, fresh_app, tmp_path):
    add_ceremony(app, "Жеңіс күні")
    path = created_path(cli(app, "backup", "create", "--output", str(tmp_path)).output)
    expected = keys.fingerprint(b"test-secret-key")

    other = fresh_app(SECRET_KEY="another-secret-key")
    error = one_line_error(cli(other, "backup", "restore", str(path)))
    assert f"SECRET_KEY (key secret_key) is not the backup's: expected fingerprint {expected}" in error
    assert keys.fingerprint(b"another-secret-key") in error and "test-secret-key" not in error
    with other.app_context():
        assert table_counts() == {}
    verified = cli(other, "backup", "verify", str(path))
    assert verified.exit_code == 1 and "cannot restore it" in verified.output

    # The secret key protects no stored data: the operator may say to go on under the new one.
    replaced = cli(other, "backup", "restore", str(path), "--replace-key", "secret_key")
    assert replaced.exit_code == 0, replaced.output
    assert "key secret_key replaced" in replaced.output
    with other.app_context():
        last = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
        assert last.after["replaced_keys"] == ["secret_key"]


def test_a_key_that_protects_stored_data_is_required_and_never_replaced(make_app, fresh_app, tmp_path, monkeypatch):
    """The shape the data-encryption and credential-signing keys (issues 14, 16) will take."""
    data_key = keys.DataKey("data_encryption", "AWARD_TEST_DATA_KEY", "encrypts IINs", replaceable=False)
    monkeypatch.setitem(keys._REGISTRY, data_key.name, data_key)
    source = make_app(AWARD_TEST_DATA_KEY="k" * 32)
    with source.app_context():
        add_ceremony(source, "Жеңіс күні")
    made = cli(source, "backup", "create", "--output", str(tmp_path))
    path = created_path(made.output)
    expected = keys.fingerprint(b"k" * 32)
    assert f"data_encryption (AWARD_TEST_DATA_KEY): {expected}" in made.output

    target = fresh_app()
    error = one_line_error(cli(target, "backup", "restore", str(path)))
    assert (
        f"AWARD_TEST_DATA_KEY (key data_encryption) is not set; the backup needs the key with fingerprint {expected}"
        in (error)
    )
    error = one_line_error(cli(target, "backup", "restore", str(path), "--replace-key", "data_encryption"))
    assert "key data_encryption (AWARD_TEST_DATA_KEY) cannot be replaced" in error
    with target.app_context():
        assert table_counts() == {}
    keyed = fresh_app(target.config["SQLALCHEMY_DATABASE_URI"], AWARD_TEST_DATA_KEY="k" * 32)
    assert cli(keyed, "backup", "restore", str(path)).exit_code == 0


def test_a_restore_gives_up_on_tables_a_running_transaction_holds_and_writes_nothing(make_app, database, tmp_path):
    """The service (or a worker) in the middle of a transaction: the restore
    waits AWARD_BACKUP_LOCK_TIMEOUT, then says to stop them, and changes nothing."""
    app = make_app(AWARD_BACKUP_LOCK_TIMEOUT=1)
    with app.app_context():
        add_ceremony(app, "Жеңіс күні")
    path = created_path(cli(app, "backup", "create", "--output", str(tmp_path)).output)
    with app.app_context():
        later = add_ceremony(app, "Жеңіс күні — екінші")
        url = db.engine.url
    holder = create_engine(url)
    try:
        with holder.connect() as busy:
            if database["kind"] == "sqlite":
                busy.exec_driver_sql("BEGIN IMMEDIATE")  # a writer between two statements
            busy.execute(text("SELECT count(*) FROM ceremonies")).scalar()  # PostgreSQL: a reader in a transaction
            started = time.monotonic()
            error = one_line_error(cli(app, "backup", "restore", str(path), "--force"))
            assert 1 <= time.monotonic() - started < 20
            assert "waited 1 s for" in error and "stop the service and its workers" in error
            busy.rollback()
    finally:
        holder.dispose()
    with app.app_context():
        assert db.session.get(Ceremony, later) is not None  # as it was
    assert cli(app, "backup", "restore", str(path), "--force").exit_code == 0
    with app.app_context():
        assert db.session.get(Ceremony, later) is None


def test_a_database_that_cannot_be_reached_is_one_line_not_a_traceback(app, fresh_app, database, tmp_path):
    add_ceremony(app, "Жеңіс күні")
    path = created_path(cli(app, "backup", "create", "--output", str(tmp_path)).output)
    if database["kind"] == "postgresql":
        missing = make_url(database["url"]).set(database="award_test_no_such_database").render_as_string(False)
    else:
        missing = f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'db.sqlite3'}"
    nowhere = fresh_app(missing)
    error = one_line_error(cli(nowhere, "backup", "restore", str(path)))
    assert "award_test_no_such_database" in error or "does not exist" in error, error
    error = one_line_error(cli(nowhere, "backup", "create", "--output", str(tmp_path)))
    assert "award_test_no_such_database" in error or "no SQLite database" in error, error


# ------------------------------------------------------------------ encryption


def test_encrypted_backup_round_trip_with_an_age_key(app, make_app, fresh_app, tmp_path):
    add_ceremony(app, "Ұлы Жеңіс — ұрпаққа мұра")
    identity = pyrage.x25519.Identity.generate()
    key_file = tmp_path / "backup-key.txt"
    key_file.write_text(f"# a test key\n{identity}\n")
    made = cli(app, "backup", "create", "--output", str(tmp_path), "--encrypt-to", str(identity.to_public()))
    assert made.exit_code == 0, made.output
    path = created_path(made.output)
    assert path.name.endswith(".tar.age") and "encrypted to 1 age recipient" in made.output
    sealed = path.read_bytes()
    assert sealed.startswith(b"age-encryption.org/v1\n")
    assert b"manifest.json" not in sealed and "Ұлы Жеңіс".encode() not in sealed
    with tarfile.open(fileobj=io.BytesIO(pyrage.decrypt(sealed, [identity]))) as tar:  # any age tool reads it
        assert tar.getnames()[0] == "manifest.json"

    target = fresh_app()
    assert "is encrypted (age): give --identity" in one_line_error(cli(target, "backup", "restore", str(path)))
    stranger = tmp_path / "stranger.txt"
    stranger.write_text(f"{pyrage.x25519.Identity.generate()}\n")
    error = one_line_error(cli(target, "backup", "restore", str(path), "--identity", str(stranger)))
    assert "cannot decrypt" in error
    restored = cli(target, "backup", "restore", str(path), "--identity", str(key_file))
    assert restored.exit_code == 0, restored.output
    with target.app_context():
        assert db.session.scalar(select(Ceremony.title_kk)) == "Ұлы Жеңіс — ұрпаққа мұра"

    # A scheduled backup encrypts by the setting: a file of recipients, as `age -R` reads.
    recipients = tmp_path / "recipients.txt"
    recipients.write_text(f"# operators\n{identity.to_public()}\n")
    scheduled = make_app(AWARD_BACKUP_DIR=str(tmp_path / "nightly"), AWARD_BACKUP_ENCRYPT_TO=str(recipients))
    (tmp_path / "nightly").mkdir()
    again = cli(scheduled, "backup", "create")
    assert again.exit_code == 0, again.output
    nightly = created_path(again.output)
    assert nightly.parent == tmp_path / "nightly" and nightly.name.endswith(".tar.age")
    checked = cli(scheduled, "backup", "verify", str(nightly), "--identity", str(key_file))
    assert checked.exit_code == 0 and "checksum ok" in checked.output and "every key it needs" in checked.output


# ------------------------------------------------------------------ while the service writes


def test_a_backup_taken_while_registrations_go_on_is_one_consistent_moment(live_server, fresh_app, tmp_path):
    app, base_url = live_server
    with app.app_context():
        ceremony_id = add_ceremony(app, "Жеңіс күні — тіркеу", capacity=5000)
    answered: list[int] = []
    stop = threading.Event()

    def register():
        with requests.Session() as session:
            i = 0
            while not stop.is_set() and i < 400:
                body = {
                    "full_name": f"Қатысушы Әбенов {i}",
                    "email": f"p{i}@example.kz",
                    "category": "resident",
                    "companions": i % 2,
                    "consent": True,
                }
                response = session.post(
                    f"{base_url}/api/v1/ceremonies/{ceremony_id}/registrations", json=body, timeout=60
                )
                answered.append(response.status_code)
                i += 1

    writer = threading.Thread(target=register)
    writer.start()
    try:
        deadline = time.monotonic() + 20
        while len(answered) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        before = len(answered)
        made = cli(app, "backup", "create", "--output", str(tmp_path))
        during = len(answered)
    finally:
        stop.set()
        writer.join(timeout=60)
    assert made.exit_code == 0, made.output
    assert set(answered) == {201}
    assert during > before >= 5  # registrations were answered while the backup ran

    target = fresh_app()
    # The restore checks every table's rows against the manifest: a dump of one moment passes.
    restored = cli(target, "backup", "restore", str(created_path(made.output)))
    assert restored.exit_code == 0, restored.output
    with target.app_context():
        ceremony = db.session.get(Ceremony, ceremony_id)
        seats = db.session.scalar(
            select(func.coalesce(func.sum(Registration.seats), 0)).where(
                Registration.ceremony_id == ceremony_id, Registration.status == "confirmed"
            )
        )
        assert ceremony.seats_taken == seats  # no half-written registration in the backup


# ------------------------------------------------------------------ an older release's backup


def test_a_backup_of_an_older_migration_restores_over_a_newer_database_and_upgrades(app, fresh_app, tmp_path):
    """Rolling back a release: the pre-upgrade backup (here at 0008, before the
    outbox tables of 0009) restored over a database at head, then brought
    forward again by `flask db upgrade`."""
    from flask_migrate import upgrade

    older = fresh_app()
    with older.app_context():
        upgrade(revision="0008")
        db.session.execute(
            text("UPDATE districts SET name_ru = :name WHERE code = 'ulytau'"), {"name": "Улытауский район"}
        )
        db.session.commit()
    made = cli(older, "backup", "create", "--output", str(tmp_path))
    assert made.exit_code == 0 and "migration 0008" in made.output, made.output

    add_ceremony(app, "Жеңіс күні")
    db.session.remove()
    try:
        restored = cli(app, "backup", "restore", str(created_path(made.output)), "--force")
        assert restored.exit_code == 0, restored.output
        assert "the database is at migration 0008, behind this release's 0014" in restored.output
        assert "flask --app award_service db upgrade" in restored.output
        names = set(inspect(db.engine).get_table_names())
        assert "outbox_messages" not in names and "ceremonies" in names  # tables of later migrations are gone
    finally:
        upgrade()  # the run's database goes on at head whatever happened
    db.session.remove()
    assert schema_differences() == []
    assert db.session.scalar(text("SELECT count(*) FROM ceremonies")) == 0
    assert db.session.scalar(text("SELECT name_ru FROM districts WHERE code = 'ulytau'")) == "Улытауский район"


# ------------------------------------------------------------------ retention


def test_prune_deletes_old_backups_but_keeps_the_newest_and_anything_else(make_app, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    now = datetime.now(UTC)
    ages = [1, 3, 10, 40, 41, 90, 400]  # days
    names = [archive.default_name(now - timedelta(days=d), encrypted=d == 40) for d in ages]
    for name in names:
        (folder / name).write_bytes(b"x")
    strangers = ["notes.txt", "award-backup-latest.tar", ".award-backup-x.tar.partial", "db.sqlite3"]
    for name in strangers:
        (folder / name).write_bytes(b"y")

    app = make_app(AWARD_BACKUP_DIR=str(folder), AWARD_BACKUP_KEEP_DAYS=30, AWARD_BACKUP_KEEP_COUNT=2)
    dry = cli(app, "backup", "prune", "--dry-run")
    assert dry.exit_code == 0 and "would delete 4, kept 3" in dry.output
    assert len(list(folder.iterdir())) == len(names) + len(strangers)

    result = cli(app, "backup", "prune")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == sorted(names[:3] + strangers)  # 1, 3 and 10 days old

    # Everything is old: the newest stays whatever the settings say.
    assert cli(app, "backup", "prune", "--keep-days", "0", "--keep-count", "0").exit_code == 0
    assert sorted(p.name for p in folder.iterdir()) == sorted([names[0], *strangers])
    # A count keeps backups past their days.
    for name in names[1:4]:
        (folder / name).write_bytes(b"x")
    assert cli(app, "backup", "prune", str(folder), "--keep-days", "0", "--keep-count", "3").exit_code == 0
    assert sorted(p.name for p in folder.iterdir()) == sorted([*names[:3], *strangers])
