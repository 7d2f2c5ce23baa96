"""Soak: the production profile under a steady registration load for minutes.

    .venv/bin/python bench/soak.py [--duration 600] [--rate 60] [--slice 60]

Issue 13's soak: ten minutes at half the rate the production profile sustains
with mail sent alongside (120 registrations/s, bench/sustained.py), so 60/s.
Prints figures, never passes or fails.  In one run:

1. a fresh PostgreSQL database (``flask db upgrade``, an organiser and an API
   token), dropped at the end;
2. the production profile: gunicorn started with ``deploy/gunicorn.conf.py``
   (``--workers`` sync workers, metrics in a multiprocess folder of this run,
   ``AWARD_LOG_FORMAT=json``), the Celery mail worker beside it at nice 19 on
   Redis db 12 (emptied first), sharing the metrics folder;
3. a warm-up (``--warmup`` s at the rate) whose mail is drained, then the
   load in slices of ``--slice`` seconds: wrk with bench/register.lua pacing
   ``--rate`` registrations a second, each with its own e-mail (so a
   confirmation is sent for each); every slice prints its p50/p99/max latency,
   statuses and errors, the outbox backlog at its end, and the resident memory
   (VmRSS) of every process of the service;
4. at the end: latency over time, RSS of each process at the start and at the
   end (the growth beside the 10 % bound), the mail backlog when the load
   stopped and how long it took to leave, the errors (non-2xx and socket
   errors), and ``/metrics``'s request count beside the requests made.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from _harness import (
    BIG_CAPACITY,
    ROOT,
    BenchError,
    Databases,
    MailWorker,
    Process,
    Server,
    base_env,
    empty_redis_db,
    free_port,
    gunicorn_workers,
    log,
    make_ceremony,
    prepare_service,
    process_tree,
    run_wrk,
    scalar,
    wait_outbox_empty,
    worker_env,
)
from _harness import (
    Q_WAITING as WAITING,
)

RSS_GROWTH_BOUND = 0.10  # the issue: no growth beyond 10 %


class ProfileServer(Server):
    """gunicorn as the production profile starts it: ``-c deploy/gunicorn.conf.py``."""

    def __init__(self, env: dict, workers: int, logdir: Path):
        self.name = "service"
        self.port = free_port()
        env = dict(
            env,
            AWARD_BASE_URL=f"http://127.0.0.1:{self.port}",
            GUNICORN_BIND=f"127.0.0.1:{self.port}",
            GUNICORN_WORKERS=str(workers),
        )
        cmd = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py")]
        Process.__init__(self, cmd, env, logdir / "service.log", cwd=ROOT)


def rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def processes(server: ProfileServer, worker: MailWorker) -> dict[str, int]:
    """Every process of the service by a stable name: the gunicorn master and its
    workers (by their order), the Celery worker's processes."""
    named = {"gunicorn master": server.proc.pid}
    for i, pid in enumerate(sorted(gunicorn_workers(server.proc.pid)), 1):
        named[f"gunicorn worker {i} ({pid})"] = pid
    for i, pid in enumerate(process_tree(worker.proc.pid)):
        named["celery main" if i == 0 else f"celery child {i} ({pid})"] = pid
    return named


def rss_of(named: dict[str, int]) -> dict[str, int | None]:
    return {name: rss_kb(pid) for name, pid in named.items()}


def server_durations(log_path: Path, windows: list[tuple[datetime, datetime]]) -> list[list[float]]:
    """The service's own time for each request (its JSON log line's ``duration_ms``), by window.

    wrk's latency, paced through register.lua's ``delay()``, also counts time a
    connection waited for its turn (its percentiles at a low rate are those of
    the pacing); the app's line is the time from the request's arrival in the
    worker to its answer."""
    found: list[list[float]] = [[] for _ in windows]
    for line in log_path.read_text("utf-8", "replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if "duration_ms" not in record or not str(record.get("route", "")).endswith("/registrations"):
            continue
        at = datetime.fromisoformat(record["time"])
        for i, (start, end) in enumerate(windows):
            if start <= at <= end:
                found[i].append(float(record["duration_ms"]))
                break
    return found


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def metrics_requests(port: int, token: str) -> float | None:
    """The sum of award_http_requests_total over every worker, as one scrape shows it."""
    import urllib.request

    req = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {token}"})
    try:
        text = urllib.request.urlopen(req, timeout=10).read().decode()
    except OSError:
        return None
    total = 0.0
    for line in text.splitlines():
        if line.startswith("award_http_requests_total{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres", help="PostgreSQL admin URL")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/12", help="Redis for Celery (emptied first)")
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of load (default 600)")
    parser.add_argument("--rate", type=float, default=60.0, help="registrations offered a second (default 60)")
    parser.add_argument("--slice", type=float, default=60.0, help="seconds a figure covers (default 60)")
    parser.add_argument("--warmup", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--mail-drain-timeout", type=float, default=300.0)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is missing: apt-get install wrk", file=sys.stderr)
        return 2

    dbs = Databases(args.pg)
    logdir = Path(tempfile.mkdtemp(prefix="award_soak_"))
    metrics_dir = logdir / "metrics"
    metrics_dir.mkdir()
    metrics_token = secrets.token_urlsafe(24)
    try:
        with ExitStack() as stack:
            try:
                name = dbs.create("soak")
            except psycopg.Error as exc:
                raise BenchError(f"cannot create a database through {args.pg}: {exc}") from exc
            url = dbs.url(name)
            log(f"database {name}; logs in {logdir}")
            env = dict(
                base_env(),
                DATABASE_URL=url,
                AWARD_MAIL_DIR=str(logdir / "mail"),
                AWARD_CELERY_BROKER_URL=args.broker,
                AWARD_LOG_FORMAT="json",
                AWARD_METRICS_TOKEN=metrics_token,
                PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
            )
            empty_redis_db(args.broker)
            token = prepare_service(env)
            server = ProfileServer(env, args.workers, logdir)
            stack.callback(server.stop)
            server.wait_healthy()
            worker = MailWorker(worker_env(env, url, server.port), logdir, nice=19)
            stack.callback(worker.stop)
            ceremony = make_ceremony(server.port, token, "Soak", BIG_CAPACITY)
            path = f"/api/v1/ceremonies/{ceremony}/registrations"
            run_id = secrets.token_hex(3)

            if args.warmup > 0:
                log(f"warm-up: {args.warmup:g} s at {args.rate:g}/s, then its mail drained")
                run_wrk(
                    server.port,
                    path,
                    f"k{run_id}w",
                    duration=args.warmup,
                    connections=args.connections,
                    threads=args.threads,
                    rate=args.rate,
                )
                if wait_outbox_empty(url, args.mail_drain_timeout):
                    raise BenchError("the warm-up's mail did not leave")
            named = processes(server, worker)
            rss_start = rss_of(named)
            scraped_before = metrics_requests(server.port, metrics_token)
            slices = max(1, round(args.duration / args.slice))
            log(
                f"soak: {slices} slices of {args.slice:g} s at {args.rate:g} registrations/s "
                f"(with e-mail), {args.workers} gunicorn workers, the Celery worker at nice 19"
            )
            print(
                f"{'slice':>5} {'at s':>6} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} "
                f"{'201':>6} {'errors':>7} {'backlog':>8} {'RSS MB (each process)':<}"
            )
            made = errors = 0
            figures = []
            began = time.monotonic()
            windows: list[tuple[datetime, datetime]] = []
            for i in range(slices):
                window_start = datetime.now(UTC)
                result = run_wrk(
                    server.port,
                    path,
                    f"k{run_id}s{i}",
                    duration=args.slice,
                    connections=args.connections,
                    threads=args.threads,
                    rate=args.rate,
                )
                windows.append((window_start, datetime.now(UTC)))
                backlog = scalar(url, WAITING)
                rss = rss_of(named)
                made += result.requests
                errs = result.non_2xx + sum(v for v in result.socket_errors.values() if v)
                errors += errs
                p50, p99, worst = result.latency_ms or (float("nan"),) * 3
                figures.append((i + 1, time.monotonic() - began, result.rate, p50, p99, worst, backlog))
                print(
                    f"{i + 1:>5} {time.monotonic() - began:>6.0f} {result.rate:>7.1f} {p50:>7.1f} {p99:>7.1f} "
                    f"{worst:>7.1f} {result.created:>6} {errs:>7} {backlog:>8} "
                    + " ".join(f"{(v or 0) / 1024:.0f}" for v in rss.values()),
                    flush=True,
                )
                if errs:
                    print(f"      {result.describe_errors()}")
            stopped_backlog = scalar(url, WAITING)
            t0 = time.monotonic()
            left = wait_outbox_empty(url, args.mail_drain_timeout)
            drained = time.monotonic() - t0
            rss_end = rss_of(named)
            scraped_after = metrics_requests(server.port, metrics_token)
            sent = scalar(url, "select count(*) from outbox_messages where status = 'sent'")
            failed = scalar(url, "select count(*) from outbox_messages where status = 'failed'")
            log_lines = (logdir / "service.log").read_text("utf-8", "replace").splitlines()
            tracebacks = sum("Traceback" in line for line in log_lines)

            print()
            print(f"requests made {made}, errors (non-2xx and socket) {errors}")
            print(
                f"mail: {stopped_backlog} waiting when the load stopped, all gone {drained:.1f} s later"
                if not left
                else f"mail: {left} still waiting {args.mail_drain_timeout:.0f} s after the load"
            )
            print(f"outbox: {sent} sent, {failed} failed")
            if scraped_before is not None and scraped_after is not None:
                print(
                    f"/metrics: award_http_requests_total grew by {scraped_after - scraped_before:.0f} "
                    f"(requests made {made}, plus the scrape itself)"
                )
            print(f"service log: {len(log_lines)} lines, {tracebacks} tracebacks")
            print()
            print(
                f"{'process':<34} {'RSS start MB':>12} {'RSS end MB':>11} {'growth':>8}  bound {RSS_GROWTH_BOUND:.0%}"
            )
            for key in named:
                a, b = rss_start.get(key), rss_end.get(key)
                if a and b:
                    growth = (b - a) / a
                    print(f"{key:<34} {a / 1024:>12.1f} {b / 1024:>11.1f} {growth:>+8.1%}")
                else:
                    print(f"{key:<34} {'-':>12} {'-':>11}  (gone: {b is None})")
            p50s = [f[3] for f in figures]
            p99s = [f[4] for f in figures]
            print()
            print(
                f"wrk's latency over time: p50 {min(p50s):.1f}–{max(p50s):.1f} ms, "
                f"p99 {min(p99s):.1f}–{max(p99s):.1f} ms across {len(figures)} slices"
            )
            print("the service's own time a registration (its JSON log's duration_ms), by slice:")
            print(f"{'slice':>5} {'requests':>9} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}")
            for i, values in enumerate(server_durations(logdir / "service.log", windows), 1):
                print(
                    f"{i:>5} {len(values):>9} {percentile(values, 0.5):>7.1f} {percentile(values, 0.99):>7.1f} "
                    f"{max(values, default=float('nan')):>7.1f}"
                )
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    finally:
        dbs.drop_all()
        if os.environ.get("AWARD_SOAK_KEEP_LOGS") != "1":
            shutil.rmtree(logdir, ignore_errors=True)
        else:
            print(f"logs kept in {logdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
