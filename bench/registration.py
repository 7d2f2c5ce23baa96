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
5. every registration with an e-mail also decides a confirmation (ticket PDF
   and calendar file attached), composed and sent as .eml files in a
   temporary folder, by one of three arrangements (``--mail``):

   ``worker`` (the default): the service has a broker (Redis db 12 on this
   machine, emptied first) and the requests are measured with the tasks
   waiting there; after the load a Celery worker (concurrency 1) is started
   and sends the whole backlog: the web tier's cost and the mail's apart.

   ``worker-during-load``, the production arrangement: the Celery worker
   (concurrency 1) starts beside gunicorn before the load, at the lowest CPU
   priority (``nice -n 19``, ``--worker-nice``; the value read back from /proc
   is printed), as a one-box deployment would run it; its PostgreSQL backends
   keep the server's priority.

   ``in-process``, the embedded default: no broker, the gunicorn workers' own
   sender thread composes and sends.

   In the last two the mail is sent while the sides run, so after every
   registration run (warm-up included) the outbox is drained before the next
   side runs: a burst's mail never takes CPU from the phone-only side or the
   ceiling.  For each measured round: the messages it made, how many left
   during the burst, how many waited when it stopped and how long they took
   after it (messages/s = those / the time from the burst's end to the last
   ``sent_at``); the worker's CPU per message (its processes and its
   PostgreSQL backends, from the burst's start to its mail drained), or, in
   process, the mail's CPU per message by difference (the registrations'
   gunicorn + PostgreSQL CPU during the bursts and the drains, less the
   phone-only side's CPU a request for as many requests).  With ``worker``,
   the backlog's rate (first to last ``sent_at``) and the worker's CPU per
   message, its start-up included;
6. an overbooking check: many registrations (companions 0, 1, 2) fired at
   once at a 50-seat ceremony, seats_taken read back through
   ``GET /api/v1/ceremonies/<id>`` and summed in the database; one e-mail sent
   20 times at once (exactly one may be accepted); and the big ceremony's
   seats_taken compared with the 201s wrk saw, the confirmed rows and the
   audit events;
7. a summary table: per side (registration with e-mail, phone only, ceiling)
   req/s, the ratio to the ceiling, CPU ms a request (gunicorn workers +
   their PostgreSQL backends) and, for the mail, messages/s and CPU ms a
   message, with the issue's targets beside them (printed, never judged).

    .venv/bin/python bench/registration.py [--duration 10] [--rounds 5] [--connections 16] [--workers 2]
                                           [--mail worker|worker-during-load|in-process] [--worker-nice 19]
                                           [--broker redis://127.0.0.1:6379/12]
    .venv/bin/python bench/registration.py --sustained [300] [--rate 120] [--worker-nice 19]

``--sustained [SECONDS]`` runs instead registrations with e-mail offered at a
fixed ``--rate`` a second (wrk paced by bench/register.lua's ``delay()``) for
SECONDS (default 300) to the production arrangement, with no ceiling side: the
achieved rate, and from the outbox the time from each registration to its
confirmation leaving (p50/p95/max), the backlog, the CPU a registration and a
message; bench/sustained.py says what and how.

About 40-50 s with the defaults (``--mail worker``); the arrangements that
drain each burst's mail before the next side take longer, by the drains.
Redis's own CPU (the broker) is in no figure.  wrk is preferred (Debian
package ``wrk``): a Python client on a 2-core machine competes with the server
for the CPU.  Without wrk, a threaded Python client is used and the figures
say so.  bench/profile_registration.py shows where one registration's time
goes, bench/profile_mail.py where one confirmation's does.
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
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from _harness import (
    BENCH,
    BIG_CAPACITY,
    Q_LAST_MESSAGE,
    Q_WAITING,
    ROOT,
    BenchError,
    Databases,
    LoadResult,
    MailWorker,
    Server,
    base_env,
    cpu_snapshot,
    cpu_spent,
    empty_redis_db,
    log,
    make_ceremony,
    merge,
    prepare_service,
    request,
    rows,
    run_python_load,
    run_wrk,
    scalar,
    server_log_errors,
    settled_count,
    wait_outbox_empty,
    worker_cpu_snapshot,
    worker_env,
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


# The targets, printed next to the figures (never judged: benches do not pass or fail).
RATIO_TARGET = {"worker-during-load": 0.6, "in-process": 0.3}  # --mail worker: none
PHONE_RATIO_TARGET = 0.7
MAIL_RATE_TARGET = 100.0  # messages/s, one worker
MAIL_CPU_TARGET = 10.0  # ms of CPU a message

WHO_SENDS = {
    "worker": "a Celery worker (concurrency 1) started when the load ended (the web tier measured alone)",
    "worker-during-load": "the production arrangement: a Celery worker (concurrency 1) started beside gunicorn "
    "before the load, at nice {nice}",
    "in-process": "the embedded default: no broker, the gunicorn workers' own sender thread",
}


def parse_args(argv=None) -> argparse.Namespace:
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
        default=None,
        help="who composes and sends the confirmations: a Celery worker started after the load "
        "(default), the production arrangement (a worker beside gunicorn from the start, at --worker-nice), "
        "or the gunicorn workers themselves, no broker (the embedded default); in the last two each "
        "registration run's mail is drained before the next side runs",
    )
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=None,
        help="the mail worker's nice value (default 19, the lowest CPU priority, beside the load: "
        "--mail worker-during-load and --sustained; 0 for --mail worker)",
    )
    parser.add_argument(
        "--sustained",
        type=float,
        nargs="?",
        const=300.0,
        default=None,
        metavar="SECONDS",
        help="instead of the comparison: registrations with e-mail offered at --rate a second for SECONDS "
        "(default 300) to the production arrangement (worker beside gunicorn at --worker-nice), and the time "
        "from each registration to its confirmation leaving (bench/sustained.py)",
    )
    parser.add_argument(
        "--rate", type=float, default=120.0, help="with --sustained: registrations offered a second (default 120)"
    )
    parser.add_argument(
        "--broker",
        default="redis://127.0.0.1:6379/12",
        help="Redis database for the Celery worker; it is emptied first (default db 12)",
    )
    parser.add_argument(
        "--mail-drain-timeout",
        type=float,
        default=600.0,
        help="seconds to wait for the outbox to empty after a load (default 600)",
    )
    args = parser.parse_args(argv)
    if args.sustained is not None:
        if args.mail not in (None, "worker-during-load"):
            parser.error("--sustained measures the production arrangement (--mail worker-during-load) only")
        args.mail = "worker-during-load"
        if args.sustained < 1 or args.rate <= 0:
            parser.error("--sustained needs at least 1 s and --rate more than 0")
        if args.rate * (args.sustained + args.warmup) > 0.95 * BIG_CAPACITY:
            parser.error(
                f"--rate x --sustained would fill the {BIG_CAPACITY}-seat ceremony; shorten the run or lower the rate"
            )
    elif args.rounds < 1 or args.duration / args.rounds < 1:
        parser.error("each round needs at least 1 s (--duration / --rounds)")
    args.mail = args.mail or "worker"
    if args.worker_nice is None:
        args.worker_nice = 0 if args.mail == "worker" else 19
    if args.threads > args.connections:
        args.threads = args.connections
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    use_wrk = shutil.which("wrk") is not None
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

    if args.sustained is not None:
        from sustained import run_sustained

        return run_sustained(args, use_wrk)
    return run_comparison(args, use_wrk)


def run_comparison(args: argparse.Namespace, use_wrk: bool) -> int:
    load = run_wrk if use_wrk else run_python_load
    mail_during_load = args.mail != "worker"  # sent while the sides run: drained after each registration run
    header = WHO_SENDS[args.mail].format(nice=args.worker_nice)
    log(f"mail: {header}")
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

            svc_env = dict(base_env(), DATABASE_URL=svc_url, AWARD_MAIL_DIR=str(logdir / "mail"))
            if args.mail != "in-process":
                empty_redis_db(args.broker)
                svc_env["AWARD_CELERY_BROKER_URL"] = args.broker
            ceil_env = dict(base_env(), DATABASE_URL=ceil_url)

            # 1. schema, organiser, token
            t0 = time.monotonic()
            token = prepare_service(svc_env)
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
                started = MailWorker(worker_env(svc_env, svc_url, service.port), logdir, nice=args.worker_nice)
                stack.callback(started.stop)
                return started

            if args.mail == "worker-during-load":
                worker = start_worker()

            # 3. ceremonies
            big_id = make_ceremony(service.port, token, "Bench", BIG_CAPACITY)
            small_id = make_ceremony(service.port, token, "Overbooking", args.small_capacity)
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
            runs = dict.fromkeys(sides, 0)  # numbers each run's block of phone numbers
            mail_rounds: list[dict] = []

            def drive(side: str, label: str, seconds: float, measure_cpu: bool = False) -> LoadResult:
                """One wrk run; with measure_cpu, add the CPU the server side spent and the rows it wrote,
                counted after the requests in flight at wrk's stop have finished.  A registration run's
                mail, when it is sent during the load, is drained before this returns (and measured)."""
                port, path, prefix = sides[side]
                server, dbname, url, count_query = servers[side]
                mail_here = mail_during_load and side == "registration"
                if measure_cpu or mail_here:
                    rows_before = settled_count(url, count_query)
                    before = cpu_snapshot(args.pg, server, dbname)
                if mail_here:
                    last_id = scalar(svc_url, Q_LAST_MESSAGE)
                    worker_before = worker_cpu_snapshot(args.pg, worker, service_db) if worker else None
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
                stopped = datetime.now(UTC)
                if measure_cpu or mail_here:
                    rows_after = settled_count(url, count_query)
                    after = cpu_snapshot(args.pg, server, dbname)
                if measure_cpu:
                    for kind, spent in cpu_spent(before, after).items():
                        cpu[side][kind] += spent
                    cpu[side]["rows"] += rows_after - rows_before
                if mail_here:
                    m = drain_round(svc_url, last_id, stopped, args.mail_drain_timeout)
                    m["registrations"] = rows_after - rows_before
                    m["web_cpu"] = cpu_spent(before, after)  # gunicorn + its backends during the burst
                    if worker is not None:
                        m["worker_cpu"] = cpu_spent(worker_before, worker_cpu_snapshot(args.pg, worker, service_db))
                    else:  # in-process: the web side's CPU while it drained its own mail
                        m["drain_cpu"] = cpu_spent(after, cpu_snapshot(args.pg, server, dbname))
                    if measure_cpu:
                        mail_rounds.append(m)
                    log(
                        f"{label}: {m['made']} messages, {m['waiting_at_stop']} still unsent when the burst "
                        f"stopped, drained {m['drain_seconds']:.1f} s after it"
                    )
                return result

            # 4 and 5. warm-up, then the measured time in rounds that alternate the sides
            if worker is not None:
                if worker.proc.poll() is not None:
                    raise BenchError(f"the mail worker exited with {worker.proc.returncode}; log:\n{worker.log_tail()}")
                figures["worker_nice"] = worker.niceness()
                figures["worker_autogroup"] = worker.priority()
            q_outbox = "select status, count(*) from outbox_messages group by status"
            figures["loadavg_before"] = os.getloadavg()
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
            # 7. the mail catches up: wait for the outbox to empty (--mail worker: all of it waits until now)
            load_ended = time.monotonic()
            figures["waiting_at_end"] = scalar(svc_url, Q_WAITING)
            if args.mail == "worker":
                log(f"starting the mail worker: {figures['waiting_at_end']} messages wait")
                worker = start_worker()
                worker_before = {"app": {}, "pg": {}}  # from its start: its start-up counts
            figures["waiting_after"] = wait_outbox_empty(
                svc_url, max(load_ended + args.mail_drain_timeout - time.monotonic(), 0), poll=0.5
            )
            figures["drain_seconds"] = time.monotonic() - load_ended
            figures["outbox"] = dict(rows(svc_url, q_outbox))
            figures["mail_files"] = sum(1 for _ in (logdir / "mail").glob("*.eml")) if (logdir / "mail").exists() else 0
            figures["sent_measured"], first_sent, last_sent = rows(
                svc_url, "select count(*), min(sent_at), max(sent_at) from outbox_messages where status = 'sent'"
            )[0]
            span = (last_sent - first_sent).total_seconds() if first_sent and last_sent else 0.0
            figures["mail_rate"] = (figures["sent_measured"] - 1) / span if span > 0 else 0.0
            if worker is not None:
                if args.mail == "worker":
                    figures["worker_cpu"] = cpu_spent(worker_before, worker_cpu_snapshot(args.pg, worker, service_db))
                    figures["worker_nice"] = worker.niceness()
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
    nice = figures.get("worker_nice")
    print(
        f"arrangement: --mail {args.mail}: confirmations sent by {header}"
        + (f" (read back: nice {', '.join(map(str, nice))})" if nice else "")
        + (f", scheduling: {figures['worker_autogroup']}" if figures.get("worker_autogroup") else "")
        + (
            "; each registration run's mail drained before the next side runs"
            if mail_during_load
            else "; the requests measured with the mail waiting in Redis"
        )
    )
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
    target = RATIO_TARGET.get(args.mail)
    print(
        f"ratio: {ratio:.2f} ({f'target >= {target}' if target else 'no target for this arrangement'}); "
        f"without e-mail {phone_ratio:.2f} (target >= {PHONE_RATIO_TARGET})"
    )
    per_request = {}
    for side in ("registration", "phone only", "ceiling"):
        # per row written, the requests wrk left in flight included (their CPU is counted too)
        n = max(cpu[side]["rows"], 1)
        per_request[side] = {k: cpu[side][k] / n * 1000 for k in ("app", "pg")}
    r, p, c = per_request["registration"], per_request["phone only"], per_request["ceiling"]

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
    outbox_counts = ", ".join(f"{k}: {v}" for k, v in sorted(figures["outbox"].items()))
    print("e-mail: confirmations composed (ticket PDF, calendar file) and sent as .eml files")
    print(f"  outbox at the end: {outbox_counts}; .eml files written: {figures['mail_files']}")
    mail = mail_figures(args, figures, mail_rounds, per_request["phone only"], reg.duration)
    for line in mail["lines"]:
        print(f"  {line}")

    # The summary.
    reg_target = f">= {target}" if target else "-"
    table = [
        ("side", "req/s", "ratio", "target", "CPU ms/req (gunicorn + PG)", "mail msg/s", "mail CPU ms/msg"),
        (
            "registration with e-mail",
            f"{reg.rate:.0f}",
            f"{ratio:.2f}",
            reg_target,
            f"{cost(r):.1f} ({r['app']:.1f} + {r['pg']:.1f})",
            mail["rate"],
            mail["cpu"],
        ),
        (
            "phone only",
            f"{phone.rate:.0f}",
            f"{phone_ratio:.2f}",
            f">= {PHONE_RATIO_TARGET}",
            f"{cost(p):.1f} ({p['app']:.1f} + {p['pg']:.1f})",
            "-",
            "-",
        ),
        ("ceiling", f"{ceil.rate:.0f}", "1.00", "-", f"{cost(c):.1f} ({c['app']:.1f} + {c['pg']:.1f})", "-", "-"),
    ]
    print()
    print(
        f"summary: --mail {args.mail}"
        + (f" (worker at nice {args.worker_nice})" if args.mail != "in-process" else "")
        + f", {tool}, {args.connections} connections, {args.rounds} rounds of {args.duration / args.rounds:g} s "
        f"per side, gunicorn {args.workers} workers"
    )
    print_table(table)
    print(
        f"  mail targets: one worker >= {MAIL_RATE_TARGET:g} messages/s, <= {MAIL_CPU_TARGET:g} ms of CPU a message; "
        f"{mail['note']}"
    )
    return 0


def cost(x: dict) -> float:
    return x["app"] + x["pg"]


def drain_round(url: str, last_id: int, stopped: datetime, timeout: float) -> dict:
    """Wait for the outbox to empty after a registration run; what became of the messages it made
    (ids above ``last_id``): sent while the burst ran, or after it stopped (the requests still in
    flight then included) and how long after."""
    left = wait_outbox_empty(url, timeout)
    made, sent_during, unsent_at_stop, last_sent = rows(
        url,
        "select count(*), count(*) filter (where sent_at <= %s), count(*) filter (where sent_at is null "
        "or sent_at > %s), max(sent_at) from outbox_messages where id > %s",
        stopped,
        stopped,
        last_id,
    )[0]
    drain = max((last_sent - stopped).total_seconds(), 0.0) if last_sent and unsent_at_stop else 0.0
    return {
        "made": made,
        "left": left,
        "sent_during": sent_during,
        "waiting_at_stop": unsent_at_stop,
        "drain_seconds": drain,
    }


def mail_figures(args, figures: dict, mail_rounds: list[dict], phone_cost: dict, burst_seconds: float) -> dict:
    """Lines describing the mail, and the summary's messages/s, CPU a message and note."""
    lines = []
    if args.mail == "worker":
        waited = (
            f"{figures['drain_seconds']:.1f} s later"
            if not figures["waiting_after"]
            else f"NOT within {args.mail_drain_timeout:.0f} s ({figures['waiting_after']} still waiting)"
        )
        lines.append(
            f"waiting when the load ended: {figures['waiting_at_end']}; empty {waited}; "
            f"{figures['mail_rate']:.1f} messages/s from the first sent to the last"
        )
        n = max(figures["sent_measured"], 1)
        w = figures.get("worker_cpu", {"app": 0.0, "pg": 0.0})
        lines.append(
            f"worker CPU per message sent: {cost(w) / n * 1000:.1f} ms "
            f"(worker {w['app'] / n * 1000:.1f} + its PostgreSQL backends {w['pg'] / n * 1000:.1f}), "
            f"over {figures['sent_measured']} messages (its start-up included); errors in its log: "
            f"{figures.get('worker_log_errors', 0)}"
        )
        return {
            "lines": lines,
            "rate": f"{figures['mail_rate']:.1f}",
            "cpu": f"{cost(w) / n * 1000:.1f}",
            "note": "messages/s: the whole backlog, first sent to last, with nothing else running",
        }

    made = sum(m["made"] for m in mail_rounds)
    during = sum(m["sent_during"] for m in mail_rounds)
    at_stop = sum(m["waiting_at_stop"] for m in mail_rounds)
    drain = sum(m["drain_seconds"] for m in mail_rounds)
    left = sum(m["left"] for m in mail_rounds)
    drain_rate = at_stop / drain if drain > 0 else 0.0
    lines.append(
        f"measured rounds: {made} messages made; {during} sent while their burst ran ({during / burst_seconds:.1f}/s), "
        f"{at_stop} unsent when it stopped, sent in {drain:.1f} s after it "
        f"({drain_rate:.1f} messages/s, from the burst's end to the last sent)"
        + (f"; {left} NOT sent within {args.mail_drain_timeout:.0f} s" if left else "")
    )
    for i, m in enumerate(mail_rounds):
        lines.append(
            f"  round {i + 1}: {m['made']} made, {m['sent_during']} sent during the burst, "
            f"{m['waiting_at_stop']} after it in {m['drain_seconds']:.1f} s"
        )
    if args.mail == "worker-during-load":
        w = {k: sum(m["worker_cpu"][k] for m in mail_rounds) for k in ("app", "pg")}
        n = max(made, 1)
        per_message = cost(w) / n * 1000
        lines.append(
            f"worker CPU per message: {per_message:.1f} ms (worker {w['app'] / n * 1000:.1f} + its PostgreSQL "
            f"backends {w['pg'] / n * 1000:.1f}), over the measured rounds' {made} messages, from each burst's "
            f"start to its mail drained; errors in its log: {figures.get('worker_log_errors', 0)}"
        )
        note = (
            "msg/s: the backlog after each burst, from the burst's end to the last sent (the worker at nice "
            f"{args.worker_nice} gets little CPU while the burst runs)"
        )
    else:
        # The web side sends its own mail: its cost is the registrations' CPU (during the bursts and while
        # draining) beyond what the same number of phone-only registrations cost.
        burst = {k: sum(m["web_cpu"][k] for m in mail_rounds) for k in ("app", "pg")}
        drained = {k: sum(m["drain_cpu"][k] for m in mail_rounds) for k in ("app", "pg")}
        regs = sum(m["registrations"] for m in mail_rounds)
        extra = cost(burst) + cost(drained) - cost(phone_cost) / 1000 * regs
        per_message = max(extra, 0.0) / max(made, 1) * 1000
        lines.append(
            f"mail CPU per message, by difference: {per_message:.1f} ms = (the registrations' gunicorn + PostgreSQL "
            f"CPU during the bursts {cost(burst):.2f} s + while draining {cost(drained):.2f} s - {regs} x the "
            f"phone-only {cost(phone_cost):.1f} ms) / {made} messages"
        )
        note = (
            "msg/s: the backlog after each burst, sent by the gunicorn workers' threads; CPU a message estimated "
            "by difference from the phone-only side"
        )
    return {
        "lines": lines,
        "rate": f"{drain_rate:.1f}" if at_stop >= 20 else f"kept up ({during / burst_seconds:.1f})",
        "cpu": f"{per_message:.1f}",
        "note": note,
    }


def print_table(table: list[tuple]) -> None:
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print(
            "  " + "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
        )


if __name__ == "__main__":
    sys.exit(main())
