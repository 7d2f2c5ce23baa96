"""Real processes for the mail and broker fault tests (tests/faults/test_mail_faults.py).

Everything here is the test's own and is removed afterwards, even on failure:
a PostgreSQL database on the shared server (``award_test_<tag>_mailfaults_<random>``,
dropped WITH (FORCE); CI's clean-up finds leftovers by the tag), an SMTP
server (aiosmtpd in a thread of the test process, on a fixed free port, that
can be stopped and started again there, and slowed down), a redis-server on
a free port, gunicorn with two workers serving the app with
deploy/gunicorn.conf.py, and a Celery worker and beat, each in a process
group of its own so that a SIGKILL takes the whole of it, as systemd's or the
kernel's would.  Nothing of the machine's own (the shared PostgreSQL server's
other databases, the shared Redis) is touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from award_service.config import PROJECT_ROOT, normalise_database_url

from ..test_mail_helpers import Recorder, RedisServer, SmtpServer, free_port

BIN = Path(sys.executable).parent
SERVER_URL = os.environ.get("TEST_DATABASE_URL", "").strip() or "postgresql://postgres@127.0.0.1:5432/postgres"
PASSWORD = "correct-horse-battery-staple"
# Small clocks, so that minutes of an outage take seconds here.
FAST_MAIL = {
    "AWARD_MAIL_SWEEP_SECONDS": "1",
    "AWARD_MAIL_RETRY_SECONDS": "1",
    "AWARD_MAIL_RETRY_MAX_SECONDS": "2",
    "AWARD_MAIL_MAX_ATTEMPTS": "100",
    "AWARD_MAIL_LEASE_SECONDS": "4",
    "AWARD_SMTP_TIMEOUT": "3",
    "AWARD_MAIL_GIVE_WAY_CPU": "0",
}


# ------------------------------------------------------------------ the database


def _database_name() -> str:
    tag = re.sub(r"[^a-z0-9]", "", os.environ.get("AWARD_TEST_DB_TAG", "").lower()) or "local"
    return f"award_test_{tag}_mailfaults_{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def mail_database(tmp_path_factory) -> Iterator[str]:
    """A database of this module's own on the shared PostgreSQL server,
    migrated by ``flask db upgrade`` as a deployment does; dropped afterwards."""
    server = make_url(normalise_database_url(SERVER_URL))
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = _database_name()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # pragma: no cover - the machine's PostgreSQL is not there
        admin.dispose()
        pytest.fail(f"cannot create a database on {SERVER_URL}: {exc}")
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        instance = tmp_path_factory.mktemp("migrate")
        result = subprocess.run(
            [str(BIN / "flask"), "--app", "award_service", "db", "upgrade"],
            cwd=PROJECT_ROOT,
            env=app_env(url, instance),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def mail_engine(mail_database) -> Iterator[Engine]:
    engine = create_engine(mail_database)
    yield engine
    engine.dispose()


def app_env(database_url: str, instance: Path, **extra: str) -> dict[str, str]:
    """The environment of a process of the service (gunicorn, Celery, flask)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWARD_", "GUNICORN_"))}
    env.update(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "mail-faults-secret-key",
            "AWARD_INSTANCE_PATH": str(instance),
            "AWARD_BASE_URL": "http://award.test",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


# ------------------------------------------------------------------ the SMTP server


class SlowRecorder(Recorder):
    """Keeps each message as it takes it, then answers after ``delay`` seconds."""

    def __init__(self) -> None:
        super().__init__()
        self.delay = 0.0

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 Message accepted for delivery"

    def count(self) -> int:
        with self.lock:
            return len(self.received)

    def message_ids(self) -> Counter:
        """How many times each Message-ID arrived."""
        return Counter(m["Message-ID"] for m in self.messages())


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.recorder = SlowRecorder()
    server.start()
    try:
        yield server
    finally:
        server.stop()


# ------------------------------------------------------------------ processes


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(p) for p in (task / "children").read_text().split()]
    return found


class Process:
    """A process of the service in a process group of its own, its output in a file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path):
        self.name = name
        self.argv = argv
        self.env = env
        self.log = log
        self.popen: subprocess.Popen | None = None

    def start(self) -> Process:
        out = self.log.open("ab")
        try:
            self.popen = subprocess.Popen(
                self.argv, cwd=PROJECT_ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        finally:
            out.close()
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill_group(self) -> None:
        """SIGKILL the process and everything it started (its pool, its workers): no goodbye."""
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(20)

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM (a graceful stop), then SIGKILL for whatever is left of the group."""
        if self.popen is None:
            return
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
                self.popen.wait(timeout)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)  # stray children of the group
        if self.popen.poll() is None:
            self.popen.wait(10)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


class Gunicorn(Process):
    """gunicorn with deploy/gunicorn.conf.py and two sync workers on a free port."""

    def __init__(self, env: dict[str, str], log: Path, workers: int = 2):
        self.port = free_port()
        env = {
            **env,
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": str(workers),
            # gunicorn 25.1+ opens a control socket at one path for every instance on the machine
            "GUNICORN_CMD_ARGS": "--no-control-socket",
        }
        super().__init__("gunicorn", [str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py"], env, log)
        self.workers = workers
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self, wait: float = 60) -> Gunicorn:
        super().start()
        self.wait_for_workers(timeout=wait)
        return self

    def worker_pids(self) -> list[int]:
        return sorted(_children(self.pid))

    def wait_for_workers(self, gone=(), timeout: float = 60) -> list[int]:
        """Until ``workers`` workers run (none of ``gone``) and the service answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.running(), self.output()[-3000:]
            pids = self.worker_pids()
            if len(pids) == self.workers and not set(pids) & set(gone):
                try:
                    if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                        return pids
                except requests.RequestException:
                    pass
            time.sleep(0.1)
        raise AssertionError(f"gunicorn's workers did not come up:\n{self.output()[-3000:]}")

    def reload(self) -> list[int]:
        """``kill -HUP`` the master: new workers replace the old, gracefully."""
        old = self.worker_pids()
        os.kill(self.pid, signal.SIGHUP)
        return self.wait_for_workers(gone=old)


def celery_worker(env: dict[str, str], log: Path) -> Process:
    """The worker as deployed: the prefork pool (one child: one message in flight at a time)."""
    argv = [str(BIN / "celery"), "-A", "award_service.worker", "worker", "--loglevel=INFO", "--concurrency=1"]
    return Process("celery worker", [*argv, "--without-gossip", "--without-mingle"], env, log)


def celery_beat(env: dict[str, str], log: Path, schedule: Path) -> Process:
    argv = [str(BIN / "celery"), "-A", "award_service.worker", "beat", "--loglevel=INFO", "-s", str(schedule)]
    return Process("celery beat", argv, env, log)


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    """Processes a test starts go here; all stopped afterwards, whatever happened."""
    started: list[Process] = []
    try:
        yield started
    finally:
        for process in reversed(started):
            process.stop()


@pytest.fixture
def redis_server(tmp_path) -> Iterator[RedisServer]:
    """A redis-server of this test's own (never the shared one), started."""
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# ------------------------------------------------------------------ talking to the service


def register(base_url: str, ceremony_id: int, n: int, tag: str) -> tuple[int, float, dict]:
    """One registration through the API; (status, seconds, answer)."""
    body = {
        "full_name": person_name(tag, n),
        "phone": f"+7701{n:07d}",
        "email": f"{tag}{n}@example.kz",
        "category": "guest",
        "consent": True,
    }
    started = time.monotonic()
    try:
        response = requests.post(f"{base_url}/api/v1/ceremonies/{ceremony_id}/registrations", json=body, timeout=30)
    except requests.RequestException as exc:
        return 0, time.monotonic() - started, {"error": str(exc)}
    took = time.monotonic() - started
    try:
        answer = response.json()
    except ValueError:
        answer = {"text": response.text[:200]}
    return response.status_code, took, answer


def person_name(tag: str, n: int) -> str:
    """A made-up person's name, letters only (the name rule refuses digits)."""
    letters = "абвгдежзик"
    return f"Айгүл Тест{''.join(letters[int(d)] for d in str(n))}ова"


def register_many(
    base_url: str, ceremony_id: int, count: int, tag: str, threads: int = 4, start: int = 0
) -> list[tuple]:
    """People ``start`` … ``count - 1``, four at a time."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda n: register(base_url, ceremony_id, n, tag), range(start, count)))


def staff_session(base_url: str, email: str, password: str = PASSWORD) -> requests.Session:
    """Logged in through the login form (its CSRF token included), as a browser would."""
    session = requests.Session()
    page = session.get(f"{base_url}/staff/login", timeout=10)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text) or re.search(
        r'name="csrf_token" value="([^"]+)"', page.text
    )
    assert token, page.text[:500]
    response = session.post(
        f"{base_url}/staff/login",
        data={"csrf_token": token.group(1), "email": email, "password": password},
        timeout=20,
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:500]
    return session


def backlog_on_the_page(session: requests.Session, base_url: str) -> str:
    """What the organisers' mail page says about the backlog, in English."""
    import html

    page = session.get(f"{base_url}/staff/mail/?lang=en", timeout=10)
    assert page.status_code == 200, page.status_code
    found = re.search(r'<p id="backlog" class="[^"]*">(.*?)</p>', page.text, re.S)
    assert found, page.text[:1000]
    return " ".join(html.unescape(found.group(1)).split())


def readiness(base_url: str) -> dict:
    """``/readyz``'s body; the node stays in service (200) whatever the mail's state."""
    answer = requests.get(f"{base_url}/readyz", timeout=10)
    assert answer.status_code == 200, (answer.status_code, answer.text[:500])
    return answer.json()


def make_ceremony_and_organiser(database_url: str, instance: Path, tag: str, capacity: int = 500) -> tuple[int, str]:
    """A published ceremony and an organiser, written by the service's own functions
    (an app of this process on the test database; it sends no mail)."""
    from datetime import UTC, datetime, timedelta

    from award_service import create_app
    from award_service.accounts.service import create_user
    from award_service.actor import Actor
    from award_service.ceremonies.service import create_ceremony
    from award_service.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "mail-faults-secret-key",
            "AWARD_MAIL_SWEEP_SECONDS": 0,
            "AWARD_ARGON2_PARAMS": {"time_cost": 1, "memory_cost": 8, "parallelism": 1},
        }
    )
    email = f"organiser-{tag}@example.kz"
    try:
        with app.app_context():
            system = Actor.system("faults")
            starts = (datetime.now(UTC) + timedelta(days=20)).strftime("%Y-%m-%dT19:00")
            ceremony = create_ceremony(
                db.session,
                system,
                {
                    "title_kk": f"Жеңіс күні {tag}",
                    "title_ru": f"День Победы {tag}",
                    "starts_at": starts,
                    "venue": "Алаш алаңы",
                    "address": "Жезқазған",
                    "district": "zhezkazgan",
                    "capacity": capacity,
                    "status": "published",
                },
                tz=app.config["AWARD_TIMEZONE"],
            )
            create_user(db.session, system, email=email, name="Organiser", roles=["organiser"], password=PASSWORD)
            ceremony_id = ceremony.id
            db.session.remove()
    finally:
        with app.app_context():
            db.engine.dispose()
    return ceremony_id, email


def outbox_of(engine: Engine, ceremony_id: int) -> list[dict]:
    """The outbox rows about the registrations of one ceremony."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT o.id, o.status, o.attempts, o.to_address, o.created_at FROM outbox_messages o"
                " JOIN registrations r ON o.object_type = 'registration' AND o.object_id = CAST(r.id AS TEXT)"
                " WHERE r.ceremony_id = :c ORDER BY o.id"
            ),
            {"c": ceremony_id},
        ).mappings()
        return [dict(r) for r in rows]


def wait_until(predicate, timeout: float, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


def received_for(recorder: SlowRecorder, ids) -> Counter:
    """How many times each of these outbox messages arrived, by their Message-ID."""
    wanted = {f"<outbox.{i}.": i for i in ids}
    found: Counter = Counter()
    for message_id, n in recorder.message_ids().items():
        for prefix, i in wanted.items():
            if message_id.startswith(prefix):
                found[i] += n
    return found


def message_ids_by_row(recorder: SlowRecorder) -> dict[int, set[str]]:
    """Each outbox id and the Message-IDs it arrived under (one, always)."""
    found: dict[int, set[str]] = {}
    for message_id in recorder.message_ids():
        matched = re.match(r"<outbox\.(\d+)\.", message_id)
        if matched:
            found.setdefault(int(matched.group(1)), set()).add(message_id)
    return found


def no_personal_data(texts: list[str], values: list[str]) -> list[str]:
    """The values (names, e-mails, phones) found in these logs: none, always."""
    return [v for v in values if any(v in t for t in texts)]
