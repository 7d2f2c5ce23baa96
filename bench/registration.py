#!/usr/bin/env python3
"""Benchmark: public registrations through the JSON API, against a ceiling.

Prints figures; never passes or fails (it exits non-zero only when the
benchmark itself could not run).  In one run:

1. two fresh PostgreSQL databases on 127.0.0.1:5432 (user postgres), one for
   the service (``flask db upgrade``) and one for the ceiling app; both are
   dropped at the end, also on failure, Ctrl-C or SIGTERM;
2. an organiser and an API token made with the service's CLI
   (``flask --app award_service users create`` / ``users token``);
3. the service (``wsgi:app``) and the ceiling (bench/ceiling_app.py: parse the
   same JSON, one INSERT, commit, through Flask-SQLAlchemy + psycopg 3), each
   under gunicorn with the same number of sync workers;
4. a published ceremony made through ``POST /api/v1/ceremonies``, then
   ``POST /api/v1/ceremonies/<id>/registrations`` (with a unique e-mail each,
   and, as a third side, with a unique phone number only) and the ceiling's
   ``POST /insert`` driven by wrk (bench/register.lua; every response counted
   by status and error code) with the same connections: a warm-up each, then
   the measured time split into rounds in which the sides take turns, so that
   other work on this shared 2-core machine weighs on all alike.  Besides
   req/s, the CPU the gunicorn workers and the PostgreSQL backends spent per
   request is measured from /proc: a cost that depends much less on what else
   the machine is doing;
5. every registration with an e-mail also decides a
   confirmation (ticket PDF and calendar file attached), composed and sent as
   .eml files in a temporary folder.  ``--mail worker`` (the default): the
   service has a broker (Redis db 12 on this machine, emptied first) and the
   requests are measured with the tasks waiting there; then a Celery worker
   (concurrency 1) is started and sends the backlog: the web tier's cost and
   the mail's are measured apart.  ``--mail worker-during-load``: the worker
   runs beside gunicorn from the start, taking CPU from both sides of the
   comparison (the steady state of a 2-core server).  ``--mail in-process``: no
   broker, the gunicorn workers' own sender thread sends (the embedded
   default).  After the load the outbox is watched until it is empty: messages
   sent a second (first to last ``sent_at``) and the worker's CPU per message
   (its PostgreSQL backends included);
6. an overbooking check: many registrations (companions 0, 1, 2) fired at
   once at a 50-seat ceremony, seats_taken read back through
   ``GET /api/v1/ceremonies/<id>`` and summed in the database; one e-mail sent
   20 times at once (exactly one may be accepted); and the big ceremony's
   seats_taken compared with the 201s wrk saw, the confirmed rows and the
   audit events.

    .venv/bin/python bench/registration.py [--duration 10] [--connections 16] [--workers 2]
                                           [--mail worker|worker-during-load|in-process]
                                           [--broker redis://127.0.0.1:6379/12]

About 40-50 s with the defaults.  wrk is preferred (Debian package ``wrk``):
a Python client on a 2-core machine competes with the server for the CPU.
Without wrk, a threaded Python client is used and the figures say so.
bench/profile_registration.py shows where one registration's time goes.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import psycopg
from _harness import (
    BENCH,
    BIG_CAPACITY,
    ORGANISER_EMAIL,
    ROOT,
    SECRET_KEY,
    WORKER_APP_NAME,
    BenchError,
    Databases,
    LoadResult,
    MailWorker,
    Server,
    cpu_snapshot,
    cpu_spent,
    empty_redis_db,
    flask_cli,
    log,
    merge,
    request,
    rows,
    run_python_load,
    run_wrk,
    scalar,
    server_log_errors,
    with_application_name,
    worker_cpu_snapshot,
)


def overbooking_check(port: int, ceremony_id: int, attempts: int) -> dict:
    """Fire ``attempts`` registrations at once (companions 0, 1, 2 in turn)."""
    barrier = threading.Barrier(attempts)
    results: list[tuple[int, object, int]] = []
    lock = threading.Lock()

    def attempt(i: int):
        companions = i % 3
        body = {
            "full_name": f"Жанболатова Гүлнар {i}",
            "email": f"over-{i}@bench.kz",
            "category": "family",
            "consent": True,
            "companions": companions,
        }
        try:
            barrier.wait(timeout=30)
            status, data = request(port, "POST", f"/api/v1/ceremonies/{ceremony_id}/registrations", body, timeout=60)
        except (OSError, threading.BrokenBarrierError) as exc:
            status, data = 0, repr(exc)
        with lock:
            results.append((status, data, companions + 1))

    pool = [threading.Thread(target=attempt, args=(i,)) for i in range(attempts)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    statuses = Counter(s for s, _, _ in results)
    codes = Counter(
        f"{s}:{d.get('error', {}).get('code', '-')}" for s, d, _ in results if s >= 400 and isinstance(d, dict)
    )
    seats_granted = sum(d.get("seats", 0) for s, d, _ in results if s == 201 and isinstance(d, dict))
    return {"statuses": statuses, "codes": codes, "seats_granted": seats_granted}


def duplicate_check(port: int, ceremony_id: int, attempts: int) -> Counter:
    """The same e-mail sent ``attempts`` times at once: exactly one may be accepted."""
    barrier = threading.Barrier(attempts)
    results: Counter = Counter()
    lock = threading.Lock()
    email = f"same-{secrets.token_hex(4)}@bench.kz"

    def attempt(i: int):
        body = {"full_name": f"Нұрланов Бауыржан {i}", "email": email, "category": "resident", "consent": True}
        try:
            barrier.wait(timeout=30)
            status, data = request(port, "POST", f"/api/v1/ceremonies/{ceremony_id}/registrations", body, timeout=60)
            key = (
                str(status)
                if status < 400 or not isinstance(data, dict)
                else f"{status}:{data.get('error', {}).get('code', '-')}"
            )
        except (OSError, threading.BrokenBarrierError) as exc:
            key = f"failed:{type(exc).__name__}"
        with lock:
            results[key] += 1

    pool = [threading.Thread(target=attempt, args=(i,)) for i in range(attempts)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return results


def print_rounds(result: LoadResult) -> None:
    for i, r in enumerate(getattr(result, "rounds", [result])):
        lat = "latency p50 {:.1f} ms, p99 {:.1f} ms, max {:.1f} ms".format(*r.latency_ms) if r.latency_ms else ""
        print(f"  round {i + 1}: {r.rate:.0f} req/s over {r.duration:.1f} s; {lat}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per side (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per side (default 2)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections (default 16)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="the measured time is split into this many rounds per side, the sides taking "
        "turns, so that other load on the machine hits both alike (default 5)",
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument(
        "--overbooking-attempts",
        type=int,
        default=200,
        help="simultaneous registrations at the 50-seat ceremony (default 200)",
    )
    parser.add_argument("--small-capacity", type=int, default=50)
    parser.add_argument(
        "--pg",
        default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="admin connection to the local PostgreSQL server",
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep the gunicorn logs (path printed)")
    parser.add_argument(
        "--mail",
        choices=("worker", "worker-during-load", "in-process"),
        default="worker",
        help="who composes and sends the confirmations: a Celery worker started after the load "
        "(default), one running beside gunicorn throughout, or the gunicorn workers "
        "themselves (no broker)",
    )
    parser.add_argument(
        "--broker",
        default="redis://127.0.0.1:6379/12",
        help="Redis database for --mail worker; it is emptied first (default db 12)",
    )
    parser.add_argument(
        "--mail-drain-timeout",
        type=float,
        default=600.0,
        help="seconds to wait for the outbox to empty after the load (default 600)",
    )
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.duration / args.rounds < 1:
        parser.error("each round needs at least 1 s (--duration / --rounds)")
    if args.threads > args.connections:
        args.threads = args.connections

    use_wrk = shutil.which("wrk") is not None
    load = run_wrk if use_wrk else run_python_load
    if not use_wrk:
        log(
            "wrk not found (apt-get install -y wrk): using a threaded Python client, which competes with the "
            "server for the CPU; the figures are lower than wrk's"
        )

    # Ctrl-C and SIGTERM both unwind through the finally blocks (servers stopped, databases dropped).
    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored

    dbs = Databases(args.pg)
    logdir = Path(tempfile.mkdtemp(prefix="award_bench_"))
    figures: dict = {}
    try:
        with ExitStack() as stack:
            try:
                service_db = dbs.create("svc")
                ceiling_db = dbs.create("ceil")
            except psycopg.Error as exc:
                raise BenchError(f"cannot create a database through {args.pg}: {exc}") from exc
            svc_url = dbs.url(service_db)
            ceil_url = dbs.url(ceiling_db)
            log(f"databases {service_db}, {ceiling_db}; logs in {logdir}")

            base_env = {k: v for k, v in os.environ.items() if not k.startswith(("AWARD_", "FLASK_"))}
            base_env.update(
                SECRET_KEY=SECRET_KEY,
                AWARD_ENV="production",
                AWARD_RATELIMIT_ENABLED="false",
                PYTHONDONTWRITEBYTECODE="1",
            )
            svc_env = dict(base_env, DATABASE_URL=svc_url, AWARD_MAIL_DIR=str(logdir / "mail"))
            if args.mail != "in-process":
                empty_redis_db(args.broker)
                svc_env["AWARD_CELERY_BROKER_URL"] = args.broker
            ceil_env = dict(base_env, DATABASE_URL=ceil_url)

            # 1. schema, organiser, token
            t0 = time.monotonic()
            flask_cli(svc_env, "db", "upgrade")
            password = secrets.token_urlsafe(16)
            flask_cli(
                svc_env,
                "users",
                "create",
                "--email",
                ORGANISER_EMAIL,
                "--name",
                "Bench Organiser",
                "--role",
                "organiser",
                "--password",
                password,
            )
            token = flask_cli(svc_env, "users", "token", "--email", ORGANISER_EMAIL).strip().splitlines()[-1].strip()
            subprocess.run(
                [sys.executable, str(BENCH / "ceiling_app.py"), "--create-schema"],
                cwd=str(ROOT),
                env=ceil_env,
                check=True,
                capture_output=True,
                timeout=60,
            )
            log(f"schema, organiser and token ready in {time.monotonic() - t0:.1f} s")

            # 2. both servers (an idle gunicorn costs nothing), so the sides can take turns
            service = Server("service", "wsgi:app", svc_env, args.workers, logdir)
            stack.callback(service.stop)
            ceiling = Server("ceiling", "ceiling_app:app", ceil_env, args.workers, logdir, chdir=BENCH)
            stack.callback(ceiling.stop)
            service.wait_healthy()
            ceiling.wait_healthy()
            worker = None

            def start_worker() -> MailWorker:
                started = MailWorker(
                    dict(
                        svc_env,
                        AWARD_BASE_URL=f"http://127.0.0.1:{service.port}",
                        DATABASE_URL=with_application_name(svc_url, WORKER_APP_NAME),
                    ),
                    logdir,
                )
                stack.callback(started.stop)
                return started

            if args.mail == "worker-during-load":
                worker = start_worker()
            auth = {"Authorization": f"Bearer {token}"}

            # 3. ceremonies
            def make_ceremony(title: str, capacity: int) -> int:
                status, data = request(
                    service.port,
                    "POST",
                    "/api/v1/ceremonies",
                    {
                        "title_kk": f"{title} — Жеңістің 80 жылы",
                        "title_ru": f"{title} — 80 лет Победы",
                        "starts_at": "2027-05-09T19:00",
                        "venue": "Alash Square",
                        "district": "zhezkazgan",
                        "capacity": capacity,
                        "status": "published",
                    },
                    auth,
                )
                if status != 201:
                    raise BenchError(f"POST /api/v1/ceremonies answered {status}: {data}")
                return data["id"]

            big_id = make_ceremony("Bench", BIG_CAPACITY)
            small_id = make_ceremony("Overbooking", args.small_capacity)
            # A third side in the same rounds: registrations with a phone number
            # only, no e-mail -- what the confirmation adds to a request.
            sides = {
                "registration": (service.port, f"/api/v1/ceremonies/{big_id}/registrations", "r"),
                "phone only": (service.port, f"/api/v1/ceremonies/{big_id}/registrations", "p"),
                "ceiling": (ceiling.port, "/insert", "c"),
            }
            run_id = secrets.token_hex(3)

            big_rows = f"select count(*) from registrations where ceremony_id = {int(big_id)}"
            servers = {
                "registration": (service, service_db, svc_url, big_rows),
                "phone only": (service, service_db, svc_url, big_rows),
                "ceiling": (ceiling, ceiling_db, ceil_url, "select count(*) from ceiling_rows"),
            }
            cpu = {side: {"app": 0.0, "pg": 0.0, "rows": 0} for side in sides}

            def drained_rows(url: str, query: str) -> int:
                """The row count once the requests still in flight when wrk stopped have finished."""
                last, deadline = scalar(url, query), time.monotonic() + 10
                while time.monotonic() < deadline:
                    time.sleep(0.15)
                    now = scalar(url, query)
                    if now == last:
                        return now
                    last = now
                return last

            runs = dict.fromkeys(sides, 0)  # numbers each run's block of phone numbers

            def drive(side: str, label: str, seconds: float, measure_cpu: bool = False) -> LoadResult:
                """One wrk run; with measure_cpu, add the CPU the server side spent and the rows it wrote,
                counted after the requests in flight at wrk's stop have finished."""
                port, path, prefix = sides[side]
                server, dbname, url, count_query = servers[side]
                if measure_cpu:
                    rows_before = drained_rows(url, count_query)
                    before = cpu_snapshot(args.pg, server, dbname)
                contact = "phone" if side == "phone only" else "email"
                runs[side] += 1
                result = load(
                    port,
                    path,
                    f"{prefix}{run_id}{label}",
                    duration=seconds,
                    connections=args.connections,
                    threads=args.threads,
                    contact=contact,
                    phone_base=runs[side] * 500_000,
                )
                if measure_cpu:
                    rows_after = drained_rows(url, count_query)
                    for kind, spent in cpu_spent(before, cpu_snapshot(args.pg, server, dbname)).items():
                        cpu[side][kind] += spent
                    cpu[side]["rows"] += rows_after - rows_before
                return result

            # 4 and 5. warm-up, then the measured time in rounds that alternate the sides
            if worker is not None and worker.proc.poll() is not None:
                raise BenchError(f"the mail worker exited with {worker.proc.returncode}; log:\n{worker.log_tail()}")
            q_waiting = "select count(*) from outbox_messages where status in ('queued', 'sending')"
            q_outbox = "select status, count(*) from outbox_messages group by status"
            figures["loadavg_before"] = os.getloadavg()
            worker_before = worker_cpu_snapshot(args.pg, worker, service_db) if worker else {"app": {}, "pg": {}}
            round_seconds = args.duration / args.rounds
            log(
                f"warm-up {args.warmup:g} s each, then {args.rounds} rounds of {round_seconds:g} s per side, "
                f"{args.connections} connections, {load.__name__}"
            )
            warm = {side: drive(side, "w", args.warmup) for side in sides} if args.warmup > 0 else {}
            rounds: dict[str, list[LoadResult]] = {side: [] for side in sides}
            for i in range(args.rounds):
                order = list(sides) if i % 2 == 0 else list(reversed(sides))
                for side in order:
                    rounds[side].append(drive(side, f"m{i}", round_seconds, measure_cpu=True))
            figures["loadavg_after"] = os.getloadavg()
            reg, phone, ceil = merge(rounds["registration"]), merge(rounds["phone only"]), merge(rounds["ceiling"])
            reg_warm, phone_warm, ceil_warm = warm.get("registration"), warm.get("phone only"), warm.get("ceiling")

            # 6. overbooking and duplicates (the service is still up)
            log(
                f"overbooking: {args.overbooking_attempts} simultaneous attempts at a "
                f"{args.small_capacity}-seat ceremony"
            )
            over = overbooking_check(service.port, small_id, args.overbooking_attempts)
            dup = duplicate_check(service.port, big_id, 20)
            _, small = request(service.port, "GET", f"/api/v1/ceremonies/{small_id}")
            _, big = request(service.port, "GET", f"/api/v1/ceremonies/{big_id}")
            # 7. the mail catches up: wait for the outbox to empty
            load_ended = time.monotonic()
            figures["waiting_at_end"] = scalar(svc_url, q_waiting)
            if args.mail == "worker":
                log(f"starting the mail worker: {figures['waiting_at_end']} messages wait")
                worker = start_worker()
            deadline = load_ended + args.mail_drain_timeout
            while scalar(svc_url, q_waiting) and time.monotonic() < deadline:
                time.sleep(0.5)
            figures["drain_seconds"] = time.monotonic() - load_ended
            figures["waiting_after"] = scalar(svc_url, q_waiting)
            figures["outbox"] = dict(rows(svc_url, q_outbox))
            figures["mail_files"] = sum(1 for _ in (logdir / "mail").glob("*.eml")) if (logdir / "mail").exists() else 0
            figures["sent_measured"], first_sent, last_sent = rows(
                svc_url, "select count(*), min(sent_at), max(sent_at) from outbox_messages where status = 'sent'"
            )[0]
            span = (last_sent - first_sent).total_seconds() if first_sent and last_sent else 0.0
            figures["mail_rate"] = (figures["sent_measured"] - 1) / span if span > 0 else 0.0
            if worker is not None:
                figures["worker_cpu"] = cpu_spent(worker_before, worker_cpu_snapshot(args.pg, worker, service_db))
                worker.stop()
                figures["worker_log_errors"] = server_log_errors(worker)
            service.stop()
            ceiling.stop()
            figures["service_log_errors"] = server_log_errors(service)
            figures["ceiling_log_errors"] = server_log_errors(ceiling)

            q_rows = "select count(*) from registrations where ceremony_id = %s and status = 'confirmed'"
            q_seats = (
                "select coalesce(sum(seats), 0) from registrations where ceremony_id = %s and status = 'confirmed'"
            )
            q_audit = (
                "select count(*) from audit_events where action = 'registration.create' "
                "and (after->>'ceremony_id')::int = %s"
            )
            figures["big_rows"] = scalar(svc_url, q_rows, big_id)
            figures["big_audit"] = scalar(svc_url, q_audit, big_id)
            figures["small_seats_db"] = scalar(svc_url, q_seats, small_id)
            figures["small_rows"] = scalar(svc_url, q_rows, small_id)
            figures["ceiling_rows"] = scalar(ceil_url, "select count(*) from ceiling_rows")
    except BenchError as exc:
        print(f"benchmark could not run: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        dbs.drop_all()
        if args.keep_logs:
            log(f"gunicorn logs kept in {logdir}")
        else:
            shutil.rmtree(logdir, ignore_errors=True)

    # ------------------------------------------------------------ the figures
    tool = reg.tool
    print(
        f"registration: {reg.rate:.0f} req/s (gunicorn {args.workers} workers, PostgreSQL, "
        f"{args.connections} connections, {reg.duration:.0f} s)"
    )
    threads = args.threads if tool == "wrk" else args.connections
    print(
        f"  load generator: {tool}, {threads} threads, after a {args.warmup:g} s warm-up; "
        f"{reg.requests} responses, 201: {reg.created}, {reg.describe_errors()}"
    )
    print_rounds(reg)
    print(
        f"ceiling (one INSERT): {ceil.rate:.0f} req/s (bench/ceiling_app.py; same gunicorn, load generator, "
        f"connections and duration)"
    )
    print(f"  {ceil.requests} responses, 201: {ceil.created}, {ceil.describe_errors()}")
    print_rounds(ceil)
    print(
        f"registration with a phone number only (no e-mail, same rounds): {phone.rate:.0f} req/s; "
        f"{phone.requests} responses, 201: {phone.created}, {phone.describe_errors()}"
    )
    ratio = reg.rate / ceil.rate if ceil.rate else 0.0
    phone_ratio = phone.rate / ceil.rate if ceil.rate else 0.0
    print(f"ratio: {ratio:.2f} (target >= 0.5); without e-mail {phone_ratio:.2f}")
    per_request = {}
    for side in ("registration", "phone only", "ceiling"):
        # per row written, the requests wrk left in flight included (their CPU is counted too)
        n = max(cpu[side]["rows"], 1)
        per_request[side] = {k: cpu[side][k] / n * 1000 for k in ("app", "pg")}
    r, p, c = per_request["registration"], per_request["phone only"], per_request["ceiling"]

    def cost(x):
        return x["app"] + x["pg"]

    cost_ratio = cost(c) / cost(r) if cost(r) else 0.0
    print(
        f"CPU per request: registration {cost(r):.1f} ms (gunicorn workers {r['app']:.1f} + "
        f"PostgreSQL backends {r['pg']:.1f}), without e-mail {cost(p):.1f} ms ({p['app']:.1f} + {p['pg']:.1f}), "
        f"ceiling {cost(c):.1f} ms ({c['app']:.1f} + {c['pg']:.1f}); cost ratio {cost_ratio:.2f}, without e-mail "
        f"{cost(c) / cost(p) if cost(p) else 0.0:.2f} (less sensitive than req/s to other load on the machine)"
    )
    before, after = figures["loadavg_before"], figures["loadavg_after"]
    print(
        f"  machine: {os.cpu_count()} cores, load average {before[0]:.2f} before and {after[0]:.2f} after the "
        f"measured rounds (other work on the machine lowers both sides' figures)"
    )

    # Overbooking: the small ceremony.
    capacity, taken = small["capacity"], small["seats_taken"]
    excess = max(taken - capacity, 0)
    print(f"overbooking: {excess}")
    o = over
    print(
        f"  {args.overbooking_attempts} simultaneous attempts at a {capacity}-seat ceremony "
        f"(companions 0/1/2 in turn): "
        + ", ".join(f"{s}: {n}" for s, n in sorted(o["statuses"].items()))
        + (" (" + ", ".join(f"{k} x{n}" for k, n in sorted(o["codes"].items())) + ")" if o["codes"] else "")
    )
    same = taken == o["seats_granted"] == figures["small_seats_db"]
    print(
        f"  seats_taken {taken} of {capacity}; seats in 201 answers {o['seats_granted']}; "
        f"seats in confirmed rows {figures['small_seats_db']} ({figures['small_rows']} rows): "
        f"{'consistent' if same else 'MISMATCH'}"
    )

    # The big ceremony: every 201 took exactly one seat.
    dup_ok = dup.get("201", 0) == 1 and dup.get("409:duplicate_registration", 0) == sum(dup.values()) - 1
    print(
        f"  one e-mail sent {sum(dup.values())} times at once to the big ceremony: "
        + ", ".join(f"{k} x{n}" for k, n in sorted(dup.items()))
        + f" ({'ok' if dup_ok else 'UNEXPECTED'})"
    )

    created_seen = (
        reg.created
        + (reg_warm.created if reg_warm else 0)
        + phone.created
        + (phone_warm.created if phone_warm else 0)
        + dup.get("201", 0)
    )
    big_taken = big["seats_taken"]
    in_flight = big_taken - created_seen
    print(
        f"  big ceremony: seats_taken {big_taken}, confirmed rows {figures['big_rows']}, "
        f"registration.create audit events {figures['big_audit']}, 201s seen by {tool} {created_seen} "
        f"(warm-ups + measured, both kinds, + the duplicate check)"
        + ("" if in_flight == 0 else f"; {in_flight} finished after the load generator stopped reading")
    )
    consistent = big_taken == figures["big_rows"] == figures["big_audit"] and 0 <= in_flight <= args.connections * 2 * (
        args.rounds + 1
    )
    print(f"  big ceremony counts: {'consistent' if consistent else 'MISMATCH'}")
    if big_taken >= BIG_CAPACITY:
        print(f"  note: the big ceremony filled up ({BIG_CAPACITY} seats); later requests were 409 ceremony_full")
    ceil_seen = ceil.created + (ceil_warm.created if ceil_warm else 0)
    print(f"  ceiling rows {figures['ceiling_rows']}, 201s seen by {tool} {ceil_seen} (warm-up + measured)")
    print(
        f"errors in the gunicorn logs (tracebacks, [ERROR] lines): service {figures['service_log_errors']}, "
        f"ceiling {figures['ceiling_log_errors']}"
    )

    # The mail the registrations decided.
    who = {
        "worker": "a Celery worker (concurrency 1) started when the load ended",
        "worker-during-load": "a Celery worker (concurrency 1) beside gunicorn throughout",
        "in-process": "the gunicorn workers' own sender thread (no broker)",
    }[args.mail]
    outbox_counts = ", ".join(f"{k}: {v}" for k, v in sorted(figures["outbox"].items()))
    print(f"e-mail: confirmations composed (ticket PDF, calendar file) and sent by {who}, as .eml files")
    print(f"  outbox: {outbox_counts}; .eml files written: {figures['mail_files']}")
    print(
        f"  waiting when the load ended: {figures['waiting_at_end']}; empty "
        + (
            f"{figures['drain_seconds']:.1f} s later"
            if not figures["waiting_after"]
            else f"NOT within {args.mail_drain_timeout:.0f} s ({figures['waiting_after']} still waiting)"
        )
        + f"; {figures['mail_rate']:.1f} messages/s from the first sent to the last"
    )
    if "worker_cpu" in figures:
        n = max(figures["sent_measured"], 1)
        w = figures["worker_cpu"]
        started = " (its start-up included)" if args.mail == "worker" else ""
        print(
            f"  worker CPU per message sent: {(w['app'] + w['pg']) / n * 1000:.1f} ms "
            f"(worker {w['app'] / n * 1000:.1f} + its PostgreSQL backends {w['pg'] / n * 1000:.1f}), "
            f"over {figures['sent_measured']} messages"
            f"{started}; errors in its log: {figures['worker_log_errors']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
