"""Sustained registrations with e-mail, in the production arrangement:
``bench/registration.py --sustained [SECONDS] --rate N`` (defaults 300 s and
120/s) runs this module instead of the comparison with the ceiling.

Prints figures beside the issue's targets; never passes or fails.  In one run:

1. a fresh PostgreSQL database for the service (``flask db upgrade``), an
   organiser and an API token, as in the comparison; dropped at the end;
2. the service under gunicorn (``--workers`` sync workers) with Redis db 12
   as its broker (emptied first) and, started before any load, the Celery mail
   worker (concurrency 1) beside it at the lowest CPU priority (``nice -n 19``,
   ``--worker-nice``; the value read back from /proc is printed): a one-box
   deployment;
3. ``POST /api/v1/ceremonies/<id>/registrations`` with a unique e-mail each,
   offered at a fixed rate: wrk with bench/register.lua pacing every thread
   through its ``delay()`` hook on a schedule of fixed times (a slow answer does
   not lower the rate; when all ``--connections`` are busy the requests fall
   behind and catch up); without wrk, the threaded Python client on the same
   schedule.  First a warm-up (``--warmup`` s at the same rate) whose mail is
   drained, then the measured window of SECONDS;
4. the figures: offered and achieved registrations/s, non-2xx by status and
   error code, request latency p50/p99/max, how far the pacing fell behind;
   from the outbox, over the messages the window made (``created_at``: the
   registration's time, taken in its transaction just before the commit;
   ``sent_at``: when the confirmation left), p50/p95/max of ``sent_at -
   created_at``, the backlog through the window, the messages unsent when the
   load stopped and how long they took to leave, the messages the worker sent
   a second during the window; the CPU a registration of the gunicorn workers
   and their PostgreSQL backends, and a message of the worker's processes and
   its PostgreSQL backends (from the window's start until its mail has left),
   from /proc; the machine's CPU use, others' work included;
5. a summary table, each figure beside its target.

With the worker keeping up, the messages it sends a second equal the rate
offered: its capacity shows in the comparison's drains
(``--mail worker-during-load``).  Redis's own CPU is in no figure.
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import sys
import tempfile
import threading
import time
from contextlib import ExitStack, closing
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from _harness import (
    BIG_CAPACITY,
    CLK_TCK,
    Q_LAST_MESSAGE,
    Q_WAITING,
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
    machine_cpu,
    make_ceremony,
    prepare_service,
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

# The targets, printed beside the figures (never judged).
RATE_TARGET = 120.0  # registrations/s with e-mail, sustained
SUSTAIN_TARGET = 300.0  # for this many seconds
P95_TARGET = 30.0  # s from the registration to its confirmation leaving
MAIL_RATE_TARGET = 100.0  # messages/s, one worker
MAIL_CPU_TARGET = 10.0  # ms of CPU a message


class BacklogSampler(threading.Thread):
    """The outbox's backlog (queued or sending) every ``every`` seconds, on a connection of its own."""

    def __init__(self, url: str, every: float):
        super().__init__(name="backlog-sampler", daemon=True)
        self.url, self.every = url, every
        self.samples: list[tuple[float, int]] = []
        self.started = time.monotonic()
        self.stopping = threading.Event()
        self.error: Exception | None = None

    def run(self) -> None:
        start = self.started = time.monotonic()
        try:
            with closing(psycopg.connect(self.url, autocommit=True, connect_timeout=5)) as conn:
                while not self.stopping.is_set():
                    waiting = conn.execute(Q_WAITING).fetchone()[0]
                    self.samples.append((time.monotonic() - start, waiting))
                    self.stopping.wait(self.every)
        except psycopg.Error as exc:  # the figures say so; the run goes on
            self.error = exc

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)


def run_sustained(args: argparse.Namespace, use_wrk: bool) -> int:
    load = run_wrk if use_wrk else run_python_load
    dbs = Databases(args.pg)
    logdir = Path(tempfile.mkdtemp(prefix="award_bench_"))
    f: dict = {}
    try:
        with ExitStack() as stack:
            try:
                service_db = dbs.create("sus")
            except psycopg.Error as exc:
                raise BenchError(f"cannot create a database through {args.pg}: {exc}") from exc
            url = dbs.url(service_db)
            log(f"database {service_db}; logs in {logdir}")
            env = dict(
                base_env(),
                DATABASE_URL=url,
                AWARD_MAIL_DIR=str(logdir / "mail"),
                AWARD_CELERY_BROKER_URL=args.broker,
            )
            empty_redis_db(args.broker)
            t0 = time.monotonic()
            token = prepare_service(env)
            log(f"schema, organiser and token ready in {time.monotonic() - t0:.1f} s")

            service = Server("service", "wsgi:app", env, args.workers, logdir)
            stack.callback(service.stop)
            service.wait_healthy()
            worker = MailWorker(worker_env(env, url, service.port), logdir, nice=args.worker_nice)
            stack.callback(worker.stop)
            ceremony = make_ceremony(service.port, token, "Sustained", BIG_CAPACITY)
            path = f"/api/v1/ceremonies/{ceremony}/registrations"
            count_rows = f"select count(*) from registrations where ceremony_id = {int(ceremony)}"
            run_id = secrets.token_hex(3)

            def drive(label: str, seconds: float) -> LoadResult:
                return load(
                    service.port,
                    path,
                    f"s{run_id}{label}",
                    duration=seconds,
                    connections=args.connections,
                    threads=args.threads,
                    rate=args.rate,
                )

            # warm-up at the offered rate, its mail drained
            if args.warmup > 0:
                log(f"warm-up: {args.warmup:g} s at {args.rate:g}/s, then its mail drained")
                drive("w", args.warmup)
                if wait_outbox_empty(url, args.mail_drain_timeout):
                    raise BenchError("the warm-up's mail did not leave within --mail-drain-timeout")
            if worker.proc.poll() is not None:
                raise BenchError(f"the mail worker exited with {worker.proc.returncode}; log:\n{worker.log_tail()}")
            f["nice"] = worker.niceness()
            f["autogroup"] = worker.priority()

            # the window
            log(
                f"offering {args.rate:g} registrations/s for {args.sustained:g} s "
                f"({args.connections} connections, {load.__name__})"
            )
            rows_before = settled_count(url, count_rows)
            first_id = scalar(url, Q_LAST_MESSAGE)  # the window's messages: ids above this one
            web_before = cpu_snapshot(args.pg, service, service_db)
            worker_before = worker_cpu_snapshot(args.pg, worker, service_db)
            machine_before = machine_cpu()
            sampler = BacklogSampler(url, every=max(1.0, args.sustained / 100))
            sampler.start()
            started = datetime.now(UTC)
            result = drive("m", args.sustained)
            stopped = datetime.now(UTC)
            f["stopped_at"] = time.monotonic() - sampler.started
            machine_after = machine_cpu()
            f["rows"] = settled_count(url, count_rows) - rows_before
            web_after = cpu_snapshot(args.pg, service, service_db)
            log(f"load stopped: {scalar(url, Q_WAITING)} messages waiting; draining")
            f["left"] = wait_outbox_empty(url, args.mail_drain_timeout)
            worker_after = worker_cpu_snapshot(args.pg, worker, service_db)
            sampler.stop()

            f["web_cpu"] = cpu_spent(web_before, web_after)
            f["worker_cpu"] = cpu_spent(worker_before, worker_after)
            busy = machine_after[0] - machine_before[0]
            f["machine_busy"] = busy / CLK_TCK / result.duration  # cores busy on average
            f["samples"] = sampler.samples
            f["sampler_error"] = sampler.error
            (
                f["made"],
                f["sent"],
                f["unsent_at_stop"],
                f["sent_in_window"],
                f["p50"],
                f["p95"],
                f["max"],
                f["last_sent"],
            ) = rows(
                url,
                "select count(*), count(sent_at), count(*) filter (where sent_at is null or sent_at > %s), "
                "count(*) filter (where sent_at between %s and %s), "
                "percentile_disc(0.5) within group (order by sent_at - created_at), "
                "percentile_disc(0.95) within group (order by sent_at - created_at), "
                "max(sent_at - created_at), max(sent_at) "
                "from outbox_messages where id > %s",
                stopped,
                started,
                stopped,
                first_id,
            )[0]
            f["outbox"] = dict(rows(url, "select status, count(*) from outbox_messages group by status"))
            worker.stop()
            service.stop()
            f["worker_log_errors"] = server_log_errors(worker)
            f["service_log_errors"] = server_log_errors(service)
    except BenchError as exc:
        print(f"benchmark could not run: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        dbs.drop_all()
        if args.keep_logs:
            log(f"gunicorn and worker logs kept in {logdir}")
        else:
            shutil.rmtree(logdir, ignore_errors=True)

    print_figures(args, result, f, stopped)
    return 0


def seconds(value) -> float:
    return value.total_seconds() if value is not None else float("nan")


def print_figures(args, result: LoadResult, f: dict, stopped: datetime) -> None:
    window = result.duration
    nice = ", ".join(map(str, f["nice"])) or "?"
    tool = result.tool + (", paced by register.lua's delay()" if result.tool == "wrk" else ", paced threads")
    print(
        f"arrangement: production -- a Celery worker (concurrency 1) started beside gunicorn ({args.workers} sync "
        f"workers) before the load, at nice {args.worker_nice} (read back: {nice}"
        + (f"; scheduling: {f['autogroup']}" if f.get("autogroup") else "")
        + "); PostgreSQL; Redis broker"
    )
    print(
        f"load: registrations with e-mail offered at {args.rate:g}/s for {args.sustained:g} s by {tool}, "
        f"{args.threads if result.tool == 'wrk' else args.connections} threads, {args.connections} connections, "
        f"after a {args.warmup:g} s warm-up at the same rate whose mail was drained first"
    )

    achieved = result.requests / window if window else 0.0
    created = result.created / window if window else 0.0
    print(
        f"registrations: offered {args.rate:g}/s, achieved {achieved:.1f}/s ({result.requests} responses in "
        f"{window:.1f} s), 201 {created:.1f}/s ({result.created}); {result.describe_errors()}   "
        f"[target >= {RATE_TARGET:g}/s for {SUSTAIN_TARGET:g} s]"
    )
    if result.latency_ms:
        print("  request latency p50 {:.1f} ms, p99 {:.1f} ms, max {:.1f} ms".format(*result.latency_ms))
    if result.paced:
        late, lag = result.paced
        print(
            f"  pacing: {late} requests went out more than 100 ms behind their time (when every connection was "
            f"busy); the furthest behind: {lag:.0f} ms"
        )

    made, sent = f["made"], f["sent"]
    lower = " (a lower bound: some never left)" if sent < made else ""
    print(
        f"registration -> confirmation leaving (sent_at - created_at), over the {made} messages the window made: "
        f"p50 {seconds(f['p50']):.2f} s, p95 {seconds(f['p95']):.2f} s, max {seconds(f['max']):.2f} s{lower}   "
        f"[target p95 <= {P95_TARGET:g} s]"
    )
    samples = f["samples"]
    if samples:
        step = max(len(samples) // 10, 1)
        shown = ", ".join(f"{t:.0f} s: {n}" for t, n in samples[::step])
        print(
            f"  backlog (queued or sending), the load stopping at {f['stopped_at']:.0f} s: {shown}; "
            f"most {max(n for _, n in samples)}"
        )
    if f["sampler_error"]:
        print(f"  (the backlog sampler stopped: {f['sampler_error']})")
    drain = max((f["last_sent"] - stopped).total_seconds(), 0.0) if f["last_sent"] and f["unsent_at_stop"] else 0.0
    print(
        f"  unsent when the load stopped: {f['unsent_at_stop']} (the requests still in flight included); "
        + (
            f"they left within {drain:.1f} s"
            if not f["left"]
            else f"{f['left']} still waiting after {args.mail_drain_timeout:.0f} s"
        )
    )
    outbox = ", ".join(f"{k}: {v}" for k, v in sorted(f["outbox"].items()))
    mail_rate = f["sent_in_window"] / window if window else 0.0
    print(
        f"mail: the worker sent {mail_rate:.1f} messages/s during the window ({f['sent_in_window']} of the "
        f"{made}; at most the rate offered); outbox at the end: {outbox}; errors in its log: "
        f"{f['worker_log_errors']}   [target: one worker >= {MAIL_RATE_TARGET:g}/s]"
    )

    w, web = f["worker_cpu"], f["web_cpu"]
    n_msg, n_req = max(sent, 1), max(f["rows"], 1)
    w_ms = (w["app"] + w["pg"]) / n_msg * 1000
    web_ms = (web["app"] + web["pg"]) / n_req * 1000
    print(
        f"CPU: worker {w_ms:.1f} ms a message (its processes {w['app'] / n_msg * 1000:.1f} + its PostgreSQL "
        f"backends {w['pg'] / n_msg * 1000:.1f}; over {sent} messages, window and drain)   "
        f"[target <= {MAIL_CPU_TARGET:g} ms]"
    )
    print(
        f"  web side {web_ms:.1f} ms a registration (gunicorn workers {web['app'] / n_req * 1000:.1f} + their "
        f"PostgreSQL backends {web['pg'] / n_req * 1000:.1f}; over {f['rows']} registrations)"
    )
    print(
        f"  machine: {f['machine_busy']:.2f} of its cores busy on average during the window (everything, others' "
        f"work, wrk and Redis included); errors in the gunicorn log: {f['service_log_errors']}"
    )

    table = [
        ("figure", "measured", "target"),
        ("registrations/s offered", f"{args.rate:g}", "-"),
        ("registrations/s achieved (201)", f"{created:.1f}", f">= {RATE_TARGET:g}"),
        ("window", f"{window:.0f} s", f">= {SUSTAIN_TARGET:g} s"),
        ("non-2xx", f"{result.non_2xx}", "-"),
        (
            "request latency p50 / p99",
            "{:.0f} / {:.0f} ms".format(*result.latency_ms[:2]) if result.latency_ms else "-",
            "-",
        ),
        ("to confirmation sent p50", f"{seconds(f['p50']):.2f} s", "-"),
        ("to confirmation sent p95", f"{seconds(f['p95']):.2f} s", f"<= {P95_TARGET:g} s"),
        ("to confirmation sent max", f"{seconds(f['max']):.2f} s", "-"),
        ("unsent at the load's end", f"{f['unsent_at_stop']}", "-"),
        ("messages/s sent (window)", f"{mail_rate:.1f}", f">= {MAIL_RATE_TARGET:g}"),
        ("worker CPU ms/message", f"{w_ms:.1f}", f"<= {MAIL_CPU_TARGET:g}"),
        ("web CPU ms/registration", f"{web_ms:.1f}", "-"),
    ]
    print()
    print(
        f"summary: --sustained {args.sustained:g} --rate {args.rate:g}, worker at nice {args.worker_nice}, "
        f"{result.tool}, {args.connections} connections, gunicorn {args.workers} workers"
    )
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    for row in table:
        print(f"  {row[0].ljust(widths[0])}  {row[1].rjust(widths[1])}  {row[2].rjust(widths[2])}")
