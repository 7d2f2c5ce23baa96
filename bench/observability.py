#!/usr/bin/env python3
"""Benchmark: what metrics and JSON logs cost a request (issue 13: goal under 5 %).

Prints figures; never passes or fails (it exits non-zero only when the
benchmark itself could not run).  In one run:

1. a fresh PostgreSQL database on 127.0.0.1:5432 (user postgres), migrated
   with ``flask db upgrade``, an organiser and an API token made with the CLI;
   the database is dropped at the end, also on failure, Ctrl-C or SIGTERM;
2. the service twice under the production profile's gunicorn
   (``gunicorn -c deploy/gunicorn.conf.py``, the same sync workers), on that
   database:

   ``on``:  ``AWARD_LOG_FORMAT=json`` (a JSON line a request, written to a
   file as a journal would take it) and metrics on (every request counted and
   timed in prometheus_client's multiprocess files);

   ``off``: plain logs (no line a request) and ``AWARD_METRICS_ENABLED=false``
   (no HTTP metrics, no /metrics); the request id stays on both sides;

3. two workloads, each driven by wrk with the same connections: a
   registration (``POST /api/v1/ceremonies/<id>/registrations`` with a unique
   phone number, no e-mail, bench/register.lua) and a page load
   (``GET /ceremonies/<id>``, the public ceremony page with its form).  After
   a warm-up of each side, the measured time is split into rounds in which the
   sides take turns, the first side alternating from round to round, so that
   other work on this shared 2-core machine weighs on both alike;
4. per workload: req/s of each side per round and over all rounds, the ratio
   on/off and the cost in per cent of throughput, and the CPU a request (the
   gunicorn workers plus their PostgreSQL backends, from /proc): a figure that
   depends much less on what else the machine is doing;
5. a check that the ``on`` side did what it is measured for: one scrape of its
   /metrics counts every request it answered, and its log holds a JSON line
   for each.

    .venv/bin/python bench/observability.py [--duration 30] [--rounds 6] [--connections 16] [--workers 2]
                                            [--workload registration|page|both]

About 2 minutes with the defaults.  wrk is needed (Debian package ``wrk``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from _harness import (
    BIG_CAPACITY,
    ROOT,
    BenchError,
    Databases,
    LoadResult,
    Process,
    base_env,
    cpu_snapshot,
    cpu_spent,
    free_port,
    log,
    make_ceremony,
    merge,
    prepare_service,
    request,
    run_wrk,
    settled_count,
)

CONF = ROOT / "deploy" / "gunicorn.conf.py"
PHONE_BLOCK = 500_000  # register.lua: +7 701 <base + thread * 200,000 + n>, 7 digits


class ProfileServer(Process):
    """gunicorn -c deploy/gunicorn.conf.py (the production profile) on a free port."""

    def __init__(self, name: str, env: dict, workers: int, logdir: Path):
        self.name = name
        self.port = free_port()
        env = dict(env, AWARD_BASE_URL=f"http://127.0.0.1:{self.port}")
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(CONF),
            "--chdir",
            str(ROOT),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--no-control-socket",
        ]
        super().__init__(cmd, env, logdir / f"{name}.log")

    def wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"{self.name}: gunicorn exited with {self.proc.returncode}; log:\n{self.log_tail()}")
            try:
                if request(self.port, "GET", "/healthz", timeout=30)[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise BenchError(f"{self.name}: /healthz did not answer 200 within {timeout:.0f} s")


def run_wrk_get(port: int, path: str, *, duration: float, connections: int, threads: int) -> LoadResult:
    """wrk GETs of one path, as fast as the connections go."""
    from collections import Counter

    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(round(duration), 1)}s",
        "--timeout",
        "10s",
        "--latency",
        f"http://127.0.0.1:{port}{path}",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    if result.returncode != 0:
        raise BenchError(f"wrk failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    out = result.stdout
    rate = re.search(r"Requests/sec:\s*([\d.]+)", out)
    total = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    if not rate or not total:
        raise BenchError(f"could not read wrk's output:\n{out}")
    seconds = float(total.group(2)) / (1000 if total.group(3) == "ms" else 1)
    requests_made = int(total.group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
    bad = int(non_2xx.group(1)) if non_2xx else 0
    statuses = Counter({200: requests_made - bad, 0: bad} if bad else {200: requests_made})

    def ms(label: str) -> float:
        m = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return 0.0
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    latency = (ms("50%"), ms("99%"), ms("99%"))
    return LoadResult("wrk", float(rate.group(1)), requests_made, seconds, statuses, Counter(), {}, latency)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=30.0, help="measured seconds per side and workload")
    parser.add_argument("--rounds", type=int, default=6, help="rounds the measured time is split into (default 6)")
    parser.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds per side and workload")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    parser.add_argument("--workload", choices=("registration", "page", "both"), default="both")
    parser.add_argument(
        "--pg",
        default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="admin connection to the local PostgreSQL server",
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep the servers' logs (path printed)")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.duration / args.rounds < 1:
        parser.error("each round needs at least 1 s (--duration / --rounds)")
    if 2 * (args.rounds + 1) * PHONE_BLOCK >= 10_000_000:
        parser.error("too many rounds for register.lua's phone numbers (at most 8)")
    args.threads = min(args.threads, args.connections)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install -y wrk): this benchmark needs it", file=sys.stderr)
        return 2

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return run(args)
    except BenchError as exc:
        print(f"benchmark could not run: {exc}", file=sys.stderr)
        return 1


def run(args: argparse.Namespace) -> int:
    dbs = Databases(args.pg)
    logdir = Path(tempfile.mkdtemp(prefix="award_bench_obs_"))
    workloads = ["registration", "page"] if args.workload == "both" else [args.workload]
    try:
        with ExitStack() as stack:
            dbname = dbs.create("obs")
            url = dbs.url(dbname)
            log(f"database {dbname}; logs in {logdir}")
            env = dict(base_env(), DATABASE_URL=url, AWARD_MAIL_DIR=str(logdir / "mail"))
            for name in [k for k in env if k.startswith(("PROMETHEUS_", "GUNICORN_"))]:
                del env[name]
            token = prepare_service(env)
            sides = {
                "on": ProfileServer(
                    "on",
                    dict(
                        env,
                        AWARD_LOG_FORMAT="json",
                        AWARD_METRICS_ENABLED="true",
                        PROMETHEUS_MULTIPROC_DIR=str(logdir / "metrics-on"),
                    ),
                    args.workers,
                    logdir,
                ),
                "off": ProfileServer(
                    "off",
                    dict(
                        env,
                        AWARD_LOG_FORMAT="text",
                        AWARD_METRICS_ENABLED="false",
                        PROMETHEUS_MULTIPROC_DIR=str(logdir / "metrics-off"),
                    ),
                    args.workers,
                    logdir,
                ),
            }
            for server in sides.values():
                stack.callback(server.stop)
            for server in sides.values():
                server.wait_healthy()
            ceremony_id = make_ceremony(sides["on"].port, token, "Observability", BIG_CAPACITY)
            rows_query = f"select count(*) from registrations where ceremony_id = {int(ceremony_id)}"
            runs = {"n": 0}

            def drive(workload: str, side: str, seconds: float, measure: bool) -> tuple[LoadResult, dict | None]:
                server = sides[side]
                before = cpu_snapshot(args.pg, server, dbname) if measure else None
                if workload == "registration":
                    runs["n"] += 1
                    result = run_wrk(
                        server.port,
                        f"/api/v1/ceremonies/{ceremony_id}/registrations",
                        f"{side}{runs['n']}",
                        duration=seconds,
                        connections=args.connections,
                        threads=args.threads,
                        contact="phone",
                        phone_base=runs["n"] * PHONE_BLOCK,
                    )
                    settled_count(url, rows_query)  # the requests in flight at wrk's stop have finished
                else:
                    result = run_wrk_get(
                        server.port,
                        f"/ceremonies/{ceremony_id}",
                        duration=seconds,
                        connections=args.connections,
                        threads=args.threads,
                    )
                    time.sleep(0.2)
                spent = cpu_spent(before, cpu_snapshot(args.pg, server, dbname)) if measure else None
                return result, spent

            report = {}
            for workload in workloads:
                for side in sides:
                    drive(workload, side, args.warmup, measure=False)
                per_round = args.duration / args.rounds
                results: dict[str, list[LoadResult]] = {side: [] for side in sides}
                cpu = {side: {"app": 0.0, "pg": 0.0} for side in sides}
                for r in range(args.rounds):
                    order = ["on", "off"] if r % 2 == 0 else ["off", "on"]
                    for side in order:
                        result, spent = drive(workload, side, per_round, measure=True)
                        results[side].append(result)
                        assert spent is not None
                        for kind in ("app", "pg"):
                            cpu[side][kind] += spent[kind]
                        log(f"{workload} round {r + 1} {side}: {result.rate:.0f} req/s")
                report[workload] = {side: (merge(results[side]), cpu[side]) for side in sides}

            check = check_on_side(sides["on"], logdir)
            print_report(args, report, check)
            if args.keep_logs:
                log(f"logs kept in {logdir}")
    finally:
        dbs.drop_all()
        if not args.keep_logs:
            shutil.rmtree(logdir, ignore_errors=True)
    return 0


def check_on_side(server: ProfileServer, logdir: Path) -> dict:
    """What the ``on`` side did: the requests its /metrics counted and the JSON request lines of its log."""
    lines = requests_logged = not_json = 0
    for line in (logdir / "on.log").read_text("utf-8", "replace").splitlines():
        if not line.strip():
            continue
        lines += 1
        try:
            record = json.loads(line)
        except ValueError:
            not_json += 1
            continue
        requests_logged += record.get("logger") == "award_service.request"
    status, text = request(server.port, "GET", "/metrics")
    counted = 0.0
    if status == 200 and isinstance(text, str):
        for row in text.splitlines():
            if row.startswith("award_http_requests_total{"):
                counted += float(row.rsplit(" ", 1)[1])
    return {"lines": lines, "requests_logged": requests_logged, "not_json": not_json, "counted": counted}


def print_report(args, report: dict, check: dict) -> None:
    print(
        f"\nmetrics + JSON logs on vs off; gunicorn -c deploy/gunicorn.conf.py, {args.workers} sync workers, "
        f"PostgreSQL; wrk -c{args.connections} -t{args.threads}; {args.rounds} rounds of "
        f"{args.duration / args.rounds:.1f} s a side, sides alternating"
    )
    for workload, sides in report.items():
        what = (
            "POST /api/v1/ceremonies/<id>/registrations (phone only)"
            if workload == "registration"
            else "GET /ceremonies/<id>"
        )
        on, off = sides["on"][0], sides["off"][0]
        print(f"\n{workload}: {what}")
        for i, (a, b) in enumerate(zip(on.rounds, off.rounds)):
            print(f"  round {i + 1}: on {a.rate:7.0f} req/s   off {b.rate:7.0f} req/s   on/off {a.rate / b.rate:.3f}")
        ratio = on.rate / off.rate
        cpu_on = (sides["on"][1]["app"] + sides["on"][1]["pg"]) / max(on.requests, 1) * 1000
        cpu_off = (sides["off"][1]["app"] + sides["off"][1]["pg"]) / max(off.requests, 1) * 1000
        app_on = sides["on"][1]["app"] / max(on.requests, 1) * 1000
        app_off = sides["off"][1]["app"] / max(off.requests, 1) * 1000
        print(
            f"  all rounds: on {on.rate:.0f} req/s ({on.requests} requests, {on.describe_errors()}); "
            f"off {off.rate:.0f} req/s ({off.requests} requests, {off.describe_errors()})"
        )
        print(f"  throughput on/off: {ratio:.3f} -> cost {100 * (1 - ratio):+.1f} % (goal: under 5 %)")
        print(
            f"  CPU a request (gunicorn workers + PostgreSQL backends): on {cpu_on:.3f} ms, off {cpu_off:.3f} ms "
            f"-> {100 * (cpu_on / cpu_off - 1):+.1f} %; gunicorn workers alone: on {app_on:.3f} ms, "
            f"off {app_off:.3f} ms ({app_on - app_off:+.3f} ms)"
        )
    print(
        f"\non side: /metrics counted {check['counted']:.0f} requests; its log has {check['lines']} lines, "
        f"{check['requests_logged']} of them request lines, {check['not_json']} not JSON"
    )


if __name__ == "__main__":
    sys.exit(main())
