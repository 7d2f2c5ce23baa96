"""Fixtures of the fault tests: real processes, broken on purpose.

The fault tests start PostgreSQL clusters, gunicorn and other servers of
their own and take minutes, so they are left out of ``make test`` and the
PostgreSQL suite: they run only with ``AWARD_FAULTS=1`` (``.ci/run``'s fault
stage: ``pytest tests/faults -m faults``).  Otherwise they skip, unless
``AWARD_REQUIRE_FAULTS=1`` (CI) turns that into a failure, so that they can
never silently disappear from a CI run.  What they need and cannot find
(PostgreSQL's server programs) is a skip, or with ``AWARD_REQUIRE_FAULTS=1``
a failure, the same way.

Everything is made under one directory, ``AWARD_FAULTS_DIR`` (default: a new
``/tmp/award-faults-*``): one sub-directory per cluster, so that whoever
cleans up (these fixtures, or ``.ci/run``'s trap after a kill) finds every
postmaster by its pid file there.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .harness import PG_BIN, Gunicorn, PostgresCluster, app_env, cleanup_dir, flask_command

RUN_FAULTS = os.environ.get("AWARD_FAULTS", "").strip() == "1"
REQUIRE_FAULTS = os.environ.get("AWARD_REQUIRE_FAULTS", "").strip() == "1"


def unavailable(reason: str):
    """Skip, or fail under AWARD_REQUIRE_FAULTS=1."""
    if REQUIRE_FAULTS:
        pytest.fail(f"{reason}; AWARD_REQUIRE_FAULTS=1 requires the fault tests to run", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _faults_enabled(request):
    if request.node.get_closest_marker("faults") is None:
        pytest.fail("a test under tests/faults must be marked `faults` (pytestmark = pytest.mark.faults)")
    if not RUN_FAULTS:
        unavailable("fault tests start real servers and take minutes: set AWARD_FAULTS=1 to run them")


@pytest.fixture(scope="session")
def faults_dir() -> Iterator[Path]:
    """Where clusters and servers live: AWARD_FAULTS_DIR (kept: its owner removes it), else a new tmp dir."""
    given = os.environ.get("AWARD_FAULTS_DIR", "").strip()
    if given:
        base = Path(given)
        base.mkdir(parents=True, exist_ok=True)
    else:
        base = Path(tempfile.mkdtemp(prefix="award-faults-"))
    base.chmod(0o755)  # the postgres account must reach its cluster's directory
    try:
        yield base
    finally:
        cleanup_dir(base)
        if not given:
            shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_cluster(faults_dir) -> Iterator[PostgresCluster]:
    """A PostgreSQL cluster of this test's own, started; stopped and removed afterwards, whatever happened."""
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        unavailable(f"PostgreSQL's server programs are not in {PG_BIN} (set AWARD_PG_BIN)")
    cluster = PostgresCluster(faults_dir / f"pg-{uuid.uuid4().hex[:8]}")
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def start_gunicorn(tmp_path, faults_dir) -> Iterator:
    """``start_gunicorn(env, workers=2)``: the app under gunicorn, stopped
    afterwards; its logs in the test's tmp_path, its pid file in faults_dir
    (for a cleanup after a kill)."""
    servers: list[Gunicorn] = []

    def start(env: dict[str, str], workers: int = 2, **kwargs) -> Gunicorn:
        kwargs.setdefault("pid_file", faults_dir / f"gunicorn-{uuid.uuid4().hex[:8]}.pid")
        server = Gunicorn(env, tmp_path / f"gunicorn-{len(servers) + 1}", workers=workers, **kwargs)
        servers.append(server)
        return server.start()

    try:
        yield start
    finally:
        for server in servers:
            server.stop()


@dataclass
class Site:
    """A migrated database on the test's own cluster, its ceremonies, and the app's environment."""

    cluster: PostgresCluster
    database_url: str
    env: dict[str, str]
    ceremonies: dict[str, int] = field(default_factory=dict)
    staff: dict[str, str] = field(default_factory=dict)


STAFF_PASSWORD = "faults-" + uuid.uuid4().hex


def make_site(cluster: PostgresCluster, instance: Path, **env: str) -> Site:
    """Create and migrate (``flask db upgrade``) a database, then make its
    ceremonies and an organiser through the app's services:

    - ``big``: room for every registration of a load;
    - ``small``: 12 seats, no waiting list: contested, then refused (409 ``ceremony_full``);
    - ``waitlist``: 6 seats and a waiting list: contested, then waitlisted (201)."""
    from award_service import create_app
    from award_service.accounts.service import create_user
    from award_service.actor import Actor
    from award_service.ceremonies.service import create_ceremony
    from award_service.extensions import db

    url = cluster.create_database("award")
    instance.mkdir(parents=True, exist_ok=True)
    site_env = app_env(url, instance, **env)
    flask_command(site_env, "db", "upgrade")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": site_env["SECRET_KEY"],
            "AWARD_INSTANCE_PATH": str(instance),
            "AWARD_MAIL_DIR": str(instance / "mail"),
        }
    )
    site = Site(cluster, url, site_env)
    system = Actor.system("fault tests")
    base = {
        "title_kk": "Жеңіс күні — тексеру",
        "title_ru": "День Победы — проверка",
        "starts_at": "2099-05-09T10:00",
        "venue": "Алаш алаңы",
        "address": "Жезқазған",
        "district": "zhezkazgan",
        "status": "published",
    }
    with app.app_context():
        for name, extra in {
            "big": {"capacity": 100_000},
            "small": {"capacity": 12},
            "waitlist": {"capacity": 6, "waitlist": True},
        }.items():
            site.ceremonies[name] = create_ceremony(db.session, system, {**base, **extra}, tz="Asia/Almaty").id
        email = "organiser.faults@example.kz"
        create_user(
            db.session,
            system,
            email=email,
            name="Гүлмира Сейітқызы",
            roles=["organiser"],
            district=None,
            password=STAFF_PASSWORD,
        )
        site.staff = {"email": email, "name": "Гүлмира Сейітқызы", "password": STAFF_PASSWORD}
        db.session.remove()
        db.engine.dispose()
    return site


@pytest.fixture
def site(pg_cluster, tmp_path) -> Site:
    """The test's own cluster with a migrated database and its ceremonies."""
    return make_site(
        pg_cluster,
        tmp_path / "instance",
        # The load comes from one address: the per-address limit stays on, out of its way.
        AWARD_REGISTRATION_RATE_LIMIT="1000000 per minute",
    )
