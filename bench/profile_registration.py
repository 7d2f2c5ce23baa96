#!/usr/bin/env python3
"""Where one registration's time goes: a companion to bench/registration.py.

In one process, against fresh PostgreSQL databases (dropped at the end), the
registration API endpoint and the ceiling (bench/ceiling_app.py) are each
called N times through Flask's test client: the whole WSGI stack, without
gunicorn or sockets to the client.  Prints, for both:

* wall time per request, split into CPU of this process (Python: Flask,
  SQLAlchemy, psycopg, the app) and waiting (PostgreSQL and the round trips);
* every round trip to PostgreSQL one request makes, counted at the psycopg
  level (so pool pings, BEGIN, COMMIT and ROLLBACK are counted too);

and for the registration: the SQL statements with their time, the app's
functions by cumulative time, own time by package, and cProfile's top lists.

    .venv/bin/python bench/profile_registration.py [-n 500] [--top 25]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import secrets
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from contextlib import closing, contextmanager
from pathlib import Path

import psycopg
from _harness import print_profile_summary
from psycopg import sql
from psycopg._connection_base import BaseConnection

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

BODY = {"category": "guest", "consent": True, "companions": 0}


@contextmanager
def fresh_database(admin_url: str, label: str):
    name = f"award_bench_{label}_{secrets.token_hex(4)}"
    with closing(psycopg.connect(admin_url, autocommit=True)) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with closing(psycopg.connect(admin_url, autocommit=True)) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def count_round_trips():
    """Count what psycopg sends: cursor executes (queries, pool pings) and its own commands."""
    trips: Counter = Counter()
    original_command = BaseConnection._exec_command
    original_execute = psycopg.Cursor.execute

    def exec_command(self, command, *a, **kw):
        text = command.decode() if isinstance(command, bytes) else str(command)
        trips[" ".join(text.split())[:40]] += 1
        return original_command(self, command, *a, **kw)

    def execute(self, query, *a, **kw):
        text = " ".join(str(query).split())
        trips["ping (;)" if text == ";" else text[:40]] += 1
        return original_execute(self, query, *a, **kw)

    BaseConnection._exec_command = exec_command
    psycopg.Cursor.execute = execute
    try:
        yield trips
    finally:
        BaseConnection._exec_command = original_command
        psycopg.Cursor.execute = original_execute


def measure(post, n: int, prefix: str):
    with count_round_trips() as trips:
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(n):
            post(i, prefix)
        wall = (time.perf_counter() - t0) / n
        cpu = (time.process_time() - c0) / n
    return wall, cpu, trips


def describe(label: str, wall: float, cpu: float, trips: Counter, n: int) -> None:
    print(
        f"{label}: {wall * 1000:.2f} ms wall ({1 / wall:,.0f} req/s on one core); "
        f"CPU in this process {cpu * 1000:.2f} ms, waiting on PostgreSQL {(wall - cpu) * 1000:.2f} ms"
    )
    total = sum(trips.values()) / n
    print(
        f"  round trips to PostgreSQL a request: {total:.1f}: "
        + "; ".join(f"{k} x{v / n:.1f}" for k, v in sorted(trips.items(), key=lambda kv: -kv[1]))
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=500, help="requests per measurement (default 500)")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument(
        "--broker",
        default="redis://127.0.0.1:6379/12",
        help="the confirmations are handed to this broker, as in production with a worker; no "
        "worker takes them, and the database is emptied at the end (default Redis db 12). "
        "'none': no broker, this process's sender thread sends them, beside the requests",
    )
    args = parser.parse_args(argv)

    for key in [k for k in os.environ if k.startswith("AWARD_")]:
        del os.environ[key]
    os.environ.update(
        SECRET_KEY="award-bench-not-a-secret",
        AWARD_ENV="production",
        AWARD_RATELIMIT_ENABLED="false",
        AWARD_BASE_URL="http://127.0.0.1:5000",
    )
    mail_dir = Path(tempfile.mkdtemp(prefix="award_prof_mail_"))
    os.environ["AWARD_MAIL_DIR"] = str(mail_dir)  # in-process sending: .eml files here, removed at the end
    if args.broker != "none":
        os.environ["AWARD_CELERY_BROKER_URL"] = args.broker
        _empty_redis(args.broker)
    with fresh_database(args.pg, "prof_ceil") as ceil_url, fresh_database(args.pg, "prof_svc") as svc_url:
        os.environ["DATABASE_URL"] = ceil_url
        ceiling = ceiling_post()
        os.environ["DATABASE_URL"] = svc_url
        service_post, engine, dispose = registration_post()
        try:
            for i in range(50):  # warm-up: imports, statement caches, the pools' connections
                ceiling(i, "warm")
                service_post(i, "warm")
            describe("ceiling (one INSERT), in process", *measure(ceiling, args.n, "m"), args.n)
            wall, cpu, trips = measure(service_post, args.n, "plain")
            describe("registration, in process", wall, cpu, trips, args.n)
            statements_and_profile(service_post, engine, args)
        finally:
            dispose()
            if args.broker != "none":
                _empty_redis(args.broker)
            shutil.rmtree(mail_dir, ignore_errors=True)


def _empty_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.flushdb()
    finally:
        client.close()


def ceiling_post():
    import ceiling_app

    ceiling_app.app.config["SQLALCHEMY_DATABASE_URI"] = ceiling_app._database_url()
    with ceiling_app.app.app_context():
        ceiling_app.db.create_all()
    client = ceiling_app.app.test_client()

    def post(i: int, prefix: str):
        resp = client.post(
            "/insert", json={"full_name": f"Қасымова Әйгерім {i}", "email": f"{prefix}-{i}@bench.kz", **BODY}
        )
        if resp.status_code != 201:
            raise SystemExit(f"ceiling answered {resp.status_code}: {resp.get_data(as_text=True)}")

    return post


def registration_post(with_app: bool = False):
    from flask_migrate import upgrade

    from award_service import create_app
    from award_service.actor import Actor
    from award_service.ceremonies import service
    from award_service.extensions import db

    app = create_app()
    with app.app_context():
        upgrade()
        ceremony = service.create_ceremony(
            db.session,
            Actor.system("bench"),
            {
                "title_kk": "Bench",
                "title_ru": "Bench",
                "starts_at": "2027-05-09T19:00",
                "venue": "Alash Square",
                "district": "zhezkazgan",
                "capacity": 100_000,
                "status": "published",
            },
            tz="Asia/Almaty",
        )
        ceremony_id = ceremony.id
        engine = db.engine
    client = app.test_client()
    path = f"/api/v1/ceremonies/{ceremony_id}/registrations"

    def post(i: int, prefix: str):
        resp = client.post(
            path,
            json={"full_name": f"Қасымова Әйгерім {i}", "email": f"{prefix}-{i}@bench.kz", **BODY},
            headers={"Accept-Language": "kk"},
        )
        if resp.status_code != 201:
            raise SystemExit(f"registration answered {resp.status_code}: {resp.get_data(as_text=True)}")

    def dispose():
        with app.app_context():
            db.engine.dispose()

    if with_app:
        return post, engine, dispose, app
    return post, engine, dispose


def statements_and_profile(post, engine, args) -> None:
    from sqlalchemy import event

    statements: dict[str, list[float]] = defaultdict(list)

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("t0", []).append(time.perf_counter())

    def after(conn, cursor, statement, parameters, context, executemany):
        t0 = conn.info["t0"].pop()
        statements[" ".join(statement.split())[:110]].append(time.perf_counter() - t0)

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    for i in range(args.n):
        post(i, "sql")
    event.remove(engine, "before_cursor_execute", before)
    event.remove(engine, "after_cursor_execute", after)
    n = args.n
    print("  SQL statements through SQLAlchemy (execute, round trip included), per request:")
    for t, count, stmt in sorted(((sum(v) / n, len(v) / n, s) for s, v in statements.items()), reverse=True):
        print(f"  {t * 1000:6.2f} ms  x{count:.1f}  {stmt}")

    profile = cProfile.Profile()
    profile.enable()
    for i in range(n):
        post(i, "prof")
    profile.disable()

    stats = pstats.Stats(profile)
    total = sum(
        ct
        for (f, _, fn), (cc, nc, tt, ct, callers) in stats.stats.items()
        if fn == "post" and f.endswith("profile_registration.py")
    )
    print_profile_summary(stats, n, total, "request", args.top, 12)
    out = io.StringIO()
    callees = pstats.Stats(profile, stream=out)
    callees.print_callees(r"api/ceremonies.py:\d+\(register\)")
    callees.print_callees(r"ceremonies/registrations.py:\d+\(register\)")
    print(f"\n--- what the endpoint and the service call (cProfile, {n} registrations, seconds in all) ---")
    for line in out.getvalue().splitlines():
        if "{" in line and "}" in line and "->" not in line:
            continue  # cheap built-ins
        if line.strip() and not line.startswith(("   Ordered by", "Function ")):
            print(
                line.replace(str(ROOT / ".venv/lib/python3.11/site-packages") + "/", "").replace(str(ROOT) + "/", "")[
                    :200
                ]
            )
    for key in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(key).print_stats(args.top)
        text = out.getvalue()
        print(f"\n--- cProfile, {n} registrations, sorted by {key} ---")
        print(
            text[text.find("   ncalls") :].rstrip().replace(str(ROOT / ".venv/lib/python3.11/site-packages") + "/", "")
        )


if __name__ == "__main__":
    sys.exit(main())
