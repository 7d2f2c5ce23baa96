"""What bench/registration.py and bench/sustained.py share: fresh databases,
the service and the ceiling under gunicorn, the Celery mail worker, the load
generators (wrk with bench/register.lua, or a threaded Python client) and the
CPU the processes and their PostgreSQL backends spent, read from /proc.

Imported by its name (``from _harness import ...``): bench/ is run as scripts,
so Python puts this folder on sys.path.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import closing
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
LUA = BENCH / "register.lua"
SECRET_KEY = "award-bench-not-a-secret"
ORGANISER_EMAIL = "bench.organiser@bench.kz"
BIG_CAPACITY = 100_000  # award_service/ceremonies/validation.py MAX_CAPACITY
WORKER_APP_NAME = "award-bench-mail-worker"  # its PostgreSQL backends' application_name


class BenchError(RuntimeError):
    """The benchmark itself cannot run."""


def log(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ databases


class Databases:
    """Fresh databases on the local server, dropped on close."""

    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self.names: list[str] = []

    def create(self, label: str) -> str:
        name = f"award_bench_{label}_{secrets.token_hex(4)}"
        with closing(psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5)) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.names.append(name)
        return name

    def url(self, name: str) -> str:
        base = self.admin_url.rsplit("/", 1)[0]
        return f"{base}/{name}"

    def drop_all(self) -> None:
        for name in reversed(self.names):
            try:
                with closing(psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5)) as conn:
                    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
                log(f"dropped database {name}")
            except Exception as exc:  # keep dropping the others
                print(f"warning: could not drop database {name}: {exc}", file=sys.stderr)
        self.names.clear()


def scalar(url: str, query: str, *params):
    with closing(psycopg.connect(url, connect_timeout=5)) as conn:
        return conn.execute(query, params).fetchone()[0]


def rows(url: str, query: str, *params) -> list[tuple]:
    with closing(psycopg.connect(url, connect_timeout=5)) as conn:
        return conn.execute(query, params).fetchall()


# -------------------------------------------------------------------- servers


def free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port: int, method: str, path: str, body=None, headers=None, timeout: float = 30.0):
    """(status, parsed JSON or raw text) for one HTTP request."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        payload = None
        hdrs = dict(headers or {})
        if body is not None:
            payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
            hdrs["Content-Type"] = "application/json"
        conn.request(method, path, body=payload, headers=hdrs)
        resp = conn.getresponse()
        raw = resp.read()
        try:
            return resp.status, json.loads(raw)
        except ValueError:
            return resp.status, raw.decode("utf-8", "replace")
    finally:
        conn.close()


class Process:
    """A command in its own process group, its output in a log file; stopped
    (SIGTERM to the group this script created, then SIGKILL) on close."""

    GRACE = 15.0

    def __init__(self, cmd: list[str], env: dict, log_path: Path, cwd: Path = ROOT):
        self.log_path = log_path
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            cmd, cwd=str(cwd), env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def log_tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text("utf-8", "replace").splitlines()[-n:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=self.GRACE)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
            except ProcessLookupError:
                pass
        self._log.close()


class Server(Process):
    """gunicorn, with the service's or the ceiling's app."""

    def __init__(self, name: str, app: str, env: dict, workers: int, logdir: Path, chdir: Path = ROOT):
        self.name = name
        self.port = free_port()
        env = dict(env, AWARD_BASE_URL=f"http://127.0.0.1:{self.port}")
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(workers),
            "-k",
            "sync",
            "-b",
            f"127.0.0.1:{self.port}",
            "--chdir",
            str(chdir),
            "--log-level",
            "warning",
            app,
        ]
        super().__init__(cmd, env, logdir / f"{name}.log", cwd=chdir)

    def wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"{self.name}: gunicorn exited with {self.proc.returncode}; log:\n{self.log_tail()}")
            try:
                status, _ = request(self.port, "GET", "/healthz", timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise BenchError(f"{self.name}: /healthz did not answer 200 within {timeout:.0f} s; log:\n{self.log_tail()}")


class MailWorker(Process):
    """A Celery worker (``award_service.worker``); it finishes its task on SIGTERM.

    ``nice``: started under ``nice -n NICE`` (19: the lowest CPU priority, as a
    one-box deployment runs it beside the web server); its pool's children
    inherit it.  Its PostgreSQL backends keep the server's priority.

    Like every process here it runs in a session of its own, and where the
    kernel groups a session's processes for the scheduler (autogroup, on by
    default), a process's nice value weighs only against its own group: the
    worker's group would get as much CPU as gunicorn's, whatever its nice.  So
    the group's own nice is set too (``/proc/<pid>/autogroup``); and where the
    kernel has the cgroup ``cpu.idle`` switch, the worker runs in a cgroup of its
    own with it on, as a one-box deployment's unit does (systemd
    ``CPUWeight=idle``): it gets the CPU the web tier leaves, and gives it back
    as soon as a request wakes."""

    GRACE = 30.0

    def __init__(self, env: dict, logdir: Path, concurrency: int = 1, nice: int = 0):
        self.nice = nice
        cmd = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "award_service.worker",
            "worker",
            "--loglevel",
            "warning",
            "--concurrency",
            str(concurrency),
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        if nice:
            cmd = ["nice", "-n", str(nice), *cmd]  # nice execs the command: same pid
        super().__init__(cmd, env, logdir / "mail-worker.log")
        self.cgroup: IdleCgroup | None = None
        if nice:
            set_autogroup_nice(self.proc.pid, nice)
            self.cgroup = IdleCgroup.create(f"award-bench-mail-{self.proc.pid}")
            if self.cgroup is not None:
                self.cgroup.add(self.proc.pid)

    def stop(self) -> None:
        super().stop()
        if self.cgroup is not None:
            self.cgroup.remove()

    def priority(self) -> str:
        """Its scheduling group (autogroup nice) and its cgroup, as /proc says."""
        parts = [self.autogroup()]
        if self.cgroup is not None:
            parts.append(f"cgroup {self.cgroup.path} cpu.idle={self.cgroup.idle()}")
        return ", ".join(p for p in parts if p)

    def niceness(self) -> list[int]:
        """The nice values its processes run at now (read back from /proc)."""
        return sorted({n for n in (nice_of(pid) for pid in process_tree(self.proc.pid)) if n is not None})

    def autogroup(self) -> str:
        """Its scheduling group and that group's nice, as /proc says ('' without autogroup)."""
        try:
            return Path(f"/proc/{self.proc.pid}/autogroup").read_text().strip()
        except OSError:
            return ""


class IdleCgroup:
    """A cgroup (v1 ``cpu`` hierarchy, or v2 with the cpu controller) whose
    ``cpu.idle`` is 1: its processes run only on CPU nobody else wants.  Made
    by the benchmark for its mail worker and removed when the worker stops; the
    processes the worker forks (its pool) are born in it."""

    ROOTS = (Path("/sys/fs/cgroup/cpu"), Path("/sys/fs/cgroup"))

    def __init__(self, path: Path):
        self.path = path

    @classmethod
    def create(cls, name: str) -> IdleCgroup | None:
        for root in cls.ROOTS:
            if not (root / "cpu.idle").exists() and not (root / "cgroup.subtree_control").exists():
                continue
            path = root / name
            try:
                path.mkdir()
                if not (path / "cpu.idle").exists():
                    path.rmdir()
                    continue
                (path / "cpu.idle").write_text("1")
            except OSError:
                continue
            return cls(path)
        return None  # no cgroup with cpu.idle here: the nice values alone

    def add(self, pid: int) -> None:
        for each in process_tree(pid):
            with contextlib.suppress(OSError):  # it ended meanwhile
                (self.path / "cgroup.procs").write_text(str(each))

    def idle(self) -> str:
        try:
            return (self.path / "cpu.idle").read_text().strip()
        except OSError:
            return "?"

    def remove(self) -> None:
        for _ in range(50):
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:  # processes still leaving
                time.sleep(0.1)


def set_autogroup_nice(pid: int, nice: int) -> None:
    """Give the scheduling group of ``pid``'s session the nice value ``nice``
    (nothing to do where the kernel has no autogroups)."""
    path = Path(f"/proc/{pid}/autogroup")
    if not path.exists():
        return
    try:
        path.write_text(str(nice))
    except OSError as exc:
        raise BenchError(f"could not set the mail worker's scheduling group to nice {nice}: {exc}") from exc


def empty_redis_db(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.flushdb()
    except redis.RedisError as exc:
        raise BenchError(f"the broker {url} cannot be reached: {exc}") from exc
    finally:
        client.close()


def with_application_name(url: str, name: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}application_name={name}"


def flask_cli(env: dict, *args: str) -> str:
    cmd = [sys.executable, "-m", "flask", "--app", "award_service", *args]
    result = subprocess.run(cmd, cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=180)
    if result.returncode != 0:
        raise BenchError(f"{' '.join(cmd[2:])} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result.stdout


# ------------------------------------------------------------ load generators


class LoadResult:
    def __init__(
        self,
        tool: str,
        rate: float,
        requests: int,
        duration: float,
        statuses: Counter,
        codes: Counter,
        socket_errors: dict,
        latency_ms: tuple[float, float, float] | None,
    ):
        self.tool = tool
        self.rate = rate
        self.requests = requests
        self.duration = duration
        self.statuses = statuses
        self.codes = codes
        self.socket_errors = socket_errors
        self.latency_ms = latency_ms
        # paced runs (rate given): (requests sent more than LATE_MS behind their time, the most behind in ms)
        self.paced: tuple[int, float] | None = None

    @property
    def created(self) -> int:
        return self.statuses.get(201, 0)

    @property
    def non_2xx(self) -> int:
        return sum(n for s, n in self.statuses.items() if not 200 <= s < 300)

    def describe_errors(self) -> str:
        parts = [f"non-2xx {self.non_2xx}"]
        if self.codes:
            parts.append("(" + ", ".join(f"{k} x{n}" for k, n in sorted(self.codes.items())) + ")")
        errs = {k: v for k, v in self.socket_errors.items() if v}
        parts.append("socket errors " + (", ".join(f"{k} {v}" for k, v in errs.items()) if errs else "0"))
        return " ".join(parts)


def run_wrk(
    port: int,
    path: str,
    prefix: str,
    *,
    duration: float,
    connections: int,
    threads: int,
    contact: str = "email",
    phone_base: int = 0,
    rate: float = 0.0,
) -> LoadResult:
    """wrk with bench/register.lua; ``rate`` > 0: that many requests a second offered, paced by its delay()."""
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(round(duration), 1)}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{port}",
        "--",
        path,
        prefix,
        contact,
        str(phone_base),
    ]
    if rate > 0:
        cmd += [str(rate), str(threads)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    if result.returncode != 0:
        raise BenchError(f"wrk failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    statuses, codes = Counter(), Counter()
    requests = duration_us = 0
    socket_errors = {}
    latency = paced = None
    for line in result.stdout.splitlines():
        parts = line.split()
        if not parts or parts[0] != "WRKSTAT":
            continue
        if parts[1] == "status":
            statuses[int(parts[2])] += int(parts[3])
        elif parts[1] == "code":
            codes[parts[2]] += int(parts[3])
        elif parts[1] == "requests":
            requests = int(parts[2])
        elif parts[1] == "duration_us":
            duration_us = int(parts[2])
        elif parts[1] == "errors":
            # wrk's "status" error counter is non-2xx/3xx responses, counted above already.
            socket_errors = dict(zip(("connect", "read", "write", "status", "timeout"), map(int, parts[2:7])))
            socket_errors.pop("status")
        elif parts[1] == "latency_us":
            latency = tuple(int(x) / 1000 for x in parts[2:5])
        elif parts[1] == "paced":
            paced = (int(parts[2]), float(parts[3]))
    if not duration_us:
        raise BenchError(f"could not read wrk's output:\n{result.stdout}\n{result.stderr}")
    m = re.search(r"Requests/sec:\s*([\d.]+)", result.stdout)
    seconds = duration_us / 1e6
    achieved = float(m.group(1)) if m else requests / seconds
    loaded = LoadResult("wrk", achieved, requests, seconds, statuses, codes, socket_errors, latency)
    loaded.paced = paced
    return loaded


def run_python_load(
    port: int,
    path: str,
    prefix: str,
    *,
    duration: float,
    connections: int,
    threads: int,
    contact: str = "email",
    phone_base: int = 0,
    rate: float = 0.0,
) -> LoadResult:
    """Fallback when wrk is missing: one thread per connection (slower; shares the CPU).  ``rate`` > 0:
    requests at fixed times, ``rate`` a second, taken in turn by whichever thread is free (as register.lua)."""
    statuses, codes = Counter(), Counter()
    errors = Counter()
    latencies: list[float] = []
    lock = threading.Lock()
    start = time.monotonic()
    stop_at = start + duration
    schedule = {"next": start, "late": 0, "max_lag": 0.0}

    def next_time() -> float:
        with lock:
            at = schedule["next"]
            schedule["next"] = at + 1 / rate
        lag = time.monotonic() - at
        if lag > 0:
            with lock:
                schedule["max_lag"] = max(schedule["max_lag"], lag * 1000)
                schedule["late"] += lag > 0.1
        return at

    def worker(tid: int):
        n = 0
        local_status, local_codes, local_lat, local_err = Counter(), Counter(), [], Counter()
        while time.monotonic() < stop_at:
            if rate > 0:
                at = next_time()
                if at >= stop_at:
                    break
                time.sleep(max(at - time.monotonic(), 0))
            n += 1
            reach = (
                {"phone": f"+7701{phone_base + tid * 200_000 + n:07d}"}
                if contact == "phone"
                else {"email": f"{prefix}-t{tid}-{n}@bench.kz"}
            )
            body = {
                "full_name": f"Қасымова Әйгерім {tid}-{n}",
                **reach,
                "category": "guest",
                "consent": True,
                "companions": 0,
            }
            t0 = time.perf_counter()
            try:
                status, data = request(port, "POST", path, body, {"Accept-Language": "kk"}, timeout=10)
            except OSError:
                local_err["read"] += 1
                continue
            local_lat.append(time.perf_counter() - t0)
            local_status[status] += 1
            if status >= 400:
                code = data.get("error", {}).get("code", "-") if isinstance(data, dict) else "-"
                local_codes[f"{status}:{code}"] += 1
        with lock:
            statuses.update(local_status)
            codes.update(local_codes)
            errors.update(local_err)
            latencies.extend(local_lat)

    pool = [threading.Thread(target=worker, args=(i + 1,)) for i in range(connections)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    seconds = time.monotonic() - start
    total = sum(statuses.values())
    latencies.sort()
    lat = None
    if latencies:
        lat = (
            latencies[len(latencies) // 2] * 1000,
            latencies[int(len(latencies) * 0.99)] * 1000,
            latencies[-1] * 1000,
        )
    loaded = LoadResult(
        "python threads",
        total / seconds,
        total,
        seconds,
        statuses,
        codes,
        {"connect": 0, "read": errors["read"], "write": 0, "timeout": 0},
        lat,
    )
    if rate > 0:
        loaded.paced = (int(schedule["late"]), float(schedule["max_lag"]))
    return loaded


# ---------------------------------------------------------------- CPU spent

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _proc_stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, utime + stime in clock ticks) of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read().decode()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # after "pid (comm) "
    return int(fields[1]), int(fields[11]) + int(fields[12])


def nice_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read().decode()
    except OSError:
        return None
    return int(raw[raw.rindex(")") + 2 :].split()[16])


def gunicorn_workers(master_pid: int) -> list[int]:
    workers = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _proc_stat(int(entry))
            if stat is not None and stat[0] == master_pid:
                workers.append(int(entry))
    return workers


def _snapshot(admin_url: str, app_pids: list[int], dbname: str, worker_backends: bool) -> dict[str, dict[int, int]]:
    """CPU ticks so far of these processes and of the PostgreSQL backends serving
    ``dbname``: the mail worker's (told apart by application_name), or the others."""
    with closing(psycopg.connect(admin_url, autocommit=True, connect_timeout=5)) as conn:
        backends = [
            r[0]
            for r in conn.execute(
                "select pid from pg_stat_activity where datname = %s and pid <> pg_backend_pid() "
                f"and application_name {'=' if worker_backends else '<>'} %s",
                (dbname, WORKER_APP_NAME),
            )
        ]
    snap: dict[str, dict[int, int]] = {"app": {}, "pg": {}}
    for kind, pids in (("app", app_pids), ("pg", backends)):
        for pid in pids:
            stat = _proc_stat(pid)
            if stat is not None:
                snap[kind][pid] = stat[1]
    return snap


def cpu_snapshot(admin_url: str, server: Server, dbname: str) -> dict[str, dict[int, int]]:
    """The server's gunicorn workers and the PostgreSQL backends serving them."""
    return _snapshot(admin_url, gunicorn_workers(server.proc.pid), dbname, worker_backends=False)


def process_tree(root: int) -> list[int]:
    """The process and all its descendants."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _proc_stat(int(entry))
            if stat is not None:
                parents[int(entry)] = stat[0]
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in tree and pid not in tree}
        tree |= more
        grew = bool(more)
    return sorted(tree)


def worker_cpu_snapshot(admin_url: str, worker: MailWorker, dbname: str) -> dict[str, dict[int, int]]:
    """The mail worker's processes and the PostgreSQL backends serving it."""
    return _snapshot(admin_url, process_tree(worker.proc.pid), dbname, worker_backends=True)


def cpu_spent(before: dict, after: dict) -> dict[str, float]:
    """Seconds of CPU between two snapshots (processes that started meanwhile count from zero)."""
    return {
        kind: sum(t - before[kind].get(pid, 0) for pid, t in after[kind].items()) / CLK_TCK for kind in ("app", "pg")
    }


def machine_cpu() -> tuple[int, int]:
    """(busy, all) clock ticks of every core so far, from /proc/stat: the whole machine, others' work included."""
    with open("/proc/stat") as fh:
        ticks = [int(x) for x in fh.readline().split()[1:9]]  # user nice system idle iowait irq softirq steal
    return sum(ticks) - ticks[3] - ticks[4], sum(ticks)


def merge(results: list[LoadResult]) -> LoadResult:
    """Rounds of one side added up: rate = all responses / all measured time."""
    requests = sum(r.requests for r in results)
    seconds = sum(r.duration for r in results)
    statuses, codes, socket_errors = Counter(), Counter(), Counter()
    for r in results:
        statuses.update(r.statuses)
        codes.update(r.codes)
        socket_errors.update(r.socket_errors)
    merged = LoadResult(
        results[0].tool, requests / seconds, requests, seconds, statuses, codes, dict(socket_errors), None
    )
    merged.rounds = results
    return merged


def server_log_errors(server) -> int:
    try:
        text = server.log_path.read_text("utf-8", "replace")
    except OSError:
        return 0
    return sum(1 for line in text.splitlines() if "Traceback" in line or "[ERROR]" in line)


# ---------------------------------------------------------------- the service


def base_env() -> dict:
    """This process's environment without AWARD_*/FLASK_* settings, for a production-like service."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWARD_", "FLASK_"))}
    env.update(
        SECRET_KEY=SECRET_KEY,
        AWARD_ENV="production",
        AWARD_RATELIMIT_ENABLED="false",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def prepare_service(env: dict) -> str:
    """``flask db upgrade``, an organiser and an API token for them (returned)."""
    flask_cli(env, "db", "upgrade")
    password = secrets.token_urlsafe(16)
    flask_cli(
        env,
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
    return flask_cli(env, "users", "token", "--email", ORGANISER_EMAIL).strip().splitlines()[-1].strip()


def make_ceremony(port: int, token: str, title: str, capacity: int) -> int:
    """A published ceremony, made through ``POST /api/v1/ceremonies``; its id."""
    status, data = request(
        port,
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
        {"Authorization": f"Bearer {token}"},
    )
    if status != 201:
        raise BenchError(f"POST /api/v1/ceremonies answered {status}: {data}")
    return data["id"]


def worker_env(svc_env: dict, svc_url: str, port: int) -> dict:
    """The service's environment for the mail worker, its PostgreSQL backends named apart."""
    return dict(
        svc_env,
        AWARD_BASE_URL=f"http://127.0.0.1:{port}",
        DATABASE_URL=with_application_name(svc_url, WORKER_APP_NAME),
    )


def settled_count(url: str, query: str, timeout: float = 10.0) -> int:
    """A row count once the requests still in flight when the load generator stopped have finished."""
    last, deadline = scalar(url, query), time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.15)
        now = scalar(url, query)
        if now == last:
            return now
        last = now
    return last


Q_WAITING = "select count(*) from outbox_messages where status in ('queued', 'sending')"
Q_LAST_MESSAGE = "select coalesce(max(id), 0) from outbox_messages"


def wait_outbox_empty(url: str, timeout: float, poll: float = 0.25) -> int:
    """Wait until no message is queued or being sent (or ``timeout`` s); the number still waiting."""
    deadline = time.monotonic() + timeout
    while (waiting := scalar(url, Q_WAITING)) and time.monotonic() < deadline:
        time.sleep(poll)
    return waiting


def print_profile_summary(stats, n: int, total: float, unit: str, top: int, packages: int) -> None:
    """Print award_service's functions by cumulative time and every package's own
    time, per ``unit`` (one of ``n``), from a :class:`pstats.Stats`."""
    from collections import defaultdict

    ours = []
    by_package: dict[str, float] = defaultdict(float)
    for (filename, line, func), (_cc, nc, tt, ct, _callers) in stats.stats.items():
        if "/award_service/" in filename:
            ours.append((ct, nc, f"award_service/{filename.split('/award_service/')[1]}:{line}({func})"))
        if "site-packages/" in filename:
            package = filename.split("site-packages/")[1].split("/")[0]
        elif "/award_service/" in filename:
            package = "award_service"
        elif filename == "~":
            package = "built-ins (C)"
        elif "/bench/" in filename:
            package = "bench (the driving loop)"
        else:
            package = "stdlib " + Path(filename).parent.name
        if package == "psycopg" and func == "wait":
            package = "psycopg wait() (blocked on the socket)"
        by_package[package] += tt
    print(f"\n--- award_service functions by cumulative time (cProfile: Python inflated; per {unit}) ---")
    for ct, nc, where in sorted(ours, reverse=True)[:top]:
        print(f"  {ct / n * 1000:6.2f} ms {ct / total * 100:5.1f}%  x{nc / n:.1f}  {where}")
    print(f"\n--- own time by package (cProfile; per {unit}) ---")
    for package, tt in sorted(by_package.items(), key=lambda kv: -kv[1])[:packages]:
        print(f"  {tt / n * 1000:6.2f} ms {tt / total * 100:5.1f}%  {package}")
