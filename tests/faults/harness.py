"""Real processes for the fault tests, and what they leave behind to check.

- :class:`PostgresCluster`: a PostgreSQL cluster of the test's own (``initdb``,
  trust authentication) in a directory of its own, on a free loopback port,
  its unix socket beside it; started and stopped with ``pg_ctl`` (``fast`` or
  ``immediate``) and started again on the same port; :meth:`destroy` stops it
  whatever state it is in (by the pid in ``postmaster.pid`` if ``pg_ctl``
  cannot) and removes the directory.
- :class:`Gunicorn`: the app under gunicorn with ``deploy/gunicorn.conf.py``,
  on a free port, with the environment given; stdout and stderr go to one
  file, and an access log of our own names for every request the worker pid,
  the status and the request's ``X-Fault-Seq`` header (nothing else: no path,
  no query, no personal data), so that a test can tell which worker answered.
  Worker pids are the master's children; :meth:`Gunicorn.kill_worker` sends
  SIGKILL and :meth:`Gunicorn.wait_for_workers` waits until the master has
  replaced it.
- :class:`Load`: N threads, a ``requests.Session`` each, sending requests made
  by a function (e.g. :func:`registration_request`) until stopped, recording
  every answer; a request that got no HTTP answer (connection refused or
  reset, a timeout) is recorded as such, never dropped.  An exception that is
  not a failed request (a bug in the test) ends the load and is raised by
  :meth:`Load.stop`.
- :func:`personal_data_in` finds personal data (names, phones, e-mails,
  tokens) in log files.

Processes are found again by pid files, never by name: :func:`cleanup_dir`
stops every cluster and gunicorn under a directory (``.ci/run`` does the same
in its trap, for a run killed at its time limit).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def _pg_bin() -> Path:
    """PostgreSQL's server programs: AWARD_PG_BIN, else the newest /usr/lib/postgresql/<version>/bin."""
    if os.environ.get("AWARD_PG_BIN"):
        return Path(os.environ["AWARD_PG_BIN"])
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    return versions[-1].parent if versions else Path("/usr/lib/postgresql/15/bin")


PG_BIN = _pg_bin()


def free_port() -> int:
    """A loopback port free now (bound with port 0, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (dead, not yet reaped by its parent) is not alive.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (from /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(p) for p in task.read_text().split()]
        except OSError:
            continue
    return sorted(p for p in set(found) if _pid_alive(p))


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


# ---------------------------------------------------------------- PostgreSQL


class PostgresCluster:
    """A PostgreSQL cluster of one test: ``root/data``, socket in ``root``, log ``root/postgres.log``.

    initdb and the server refuse to run as root: when the tests run as root,
    the cluster's programs run as the ``postgres`` account (AWARD_PG_USER) and
    ``root`` is given to it."""

    def __init__(self, root: Path, port: int | None = None):
        self.root = Path(root)
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = port or free_port()
        self.user = None
        if os.geteuid() == 0:
            self.user = pwd.getpwnam(os.environ.get("AWARD_PG_USER", "postgres"))

    # -- running the cluster's programs
    def _run(self, *args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess:
        kwargs: dict[str, Any] = {}
        if self.user is not None:
            kwargs.update(user=self.user.pw_uid, group=self.user.pw_gid, extra_groups=[])
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
        result = subprocess.run(
            [str(PG_BIN / args[0]), *args[1:]],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            **kwargs,
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"{args[0]} exited with {result.returncode}:\n{result.stdout}\n{result.stderr}\n{self.log_tail()}"
            )
        return result

    def init(self) -> PostgresCluster:
        self.root.mkdir(parents=True, exist_ok=False)
        if self.user is not None:
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)
        self.root.chmod(0o755)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.root}'",
            "max_connections": "60",
            "shared_buffers": "32MB",
            "log_line_prefix": "'%m [%p] '",
            "log_min_messages": "warning",
        }
        with (self.data / "postgresql.conf").open("a") as fh:
            fh.write("\n# tests/faults/harness.py\n")
            fh.writelines(f"{name} = {value}\n" for name, value in settings.items())
        return self

    def start(self, timeout: float = 60) -> float:
        """Start (on the same port as before) and wait until it accepts
        connections; returns the monotonic time it did."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", str(int(timeout)), "start")
        deadline = time.monotonic() + timeout
        while not self.accepts():
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL on port {self.port} did not accept connections\n{self.log_tail()}")
            time.sleep(0.02)
        return time.monotonic()

    def stop(self, mode: str = "fast", timeout: float = 60) -> float:
        """``pg_ctl stop -m fast`` (clients disconnected, a clean shutdown) or
        ``immediate`` (every process killed; crash recovery at the next start);
        returns the monotonic time it was down."""
        assert mode in ("smart", "fast", "immediate")
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", str(int(timeout)), "stop")
        return time.monotonic()

    def accepts(self) -> bool:
        """Whether the server answers a real connection (``SELECT 1``)."""
        import psycopg

        try:
            with psycopg.connect(self.url(), connect_timeout=2) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def postmaster_pid(self) -> int | None:
        return postmaster_pid(self.data)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "postgres.log:\n" + "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no postgres.log)"

    def destroy(self) -> None:
        """Stop the server whatever state it is in, and remove its directory."""
        stop_cluster(self.data, run=lambda *args: self._run(*args, timeout=30, check=False))
        shutil.rmtree(self.root, ignore_errors=True)


def postmaster_pid(data: Path) -> int | None:
    """The postmaster of the cluster in ``data``, if it runs (its pid file
    names it, and that process is a postgres serving this directory)."""
    try:
        pid = int((data / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    if not _pid_alive(pid) or str(data) not in _cmdline(pid):
        return None
    return pid


def stop_cluster(data: Path, run: Callable[..., Any] | None = None) -> None:
    """Stop the cluster in ``data``: ``pg_ctl stop -m immediate``, then SIGKILL
    to the postmaster named by its pid file and to its children."""
    pid = postmaster_pid(data)
    if pid is None:
        return
    if run is not None:
        with contextlib.suppress(subprocess.TimeoutExpired, OSError):
            run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "-t", "20", "stop")
    pid = postmaster_pid(data)
    if pid is None:
        return
    backends = children(pid)
    for p in [pid, *backends]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(_pid_alive(p) for p in [pid, *backends]) and time.monotonic() < deadline:
        time.sleep(0.05)


def stop_gunicorn(pid_file: Path) -> None:
    """Stop the gunicorn master named by ``pid_file`` (if it is one) and its workers."""
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return
    if not _pid_alive(pid) or "gunicorn" not in _cmdline(pid):
        return
    workers = children(pid)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    for p in [pid, *workers]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, signal.SIGKILL)


def cleanup_dir(base: Path) -> None:
    """Stop every cluster (``base/*/data``) and gunicorn (``base/gunicorn-*.pid``)
    under ``base``, and remove ``base``'s contents."""
    for data in Path(base).glob("*/data"):
        stop_cluster(data)
    for pid_file in Path(base).glob("gunicorn-*.pid"):
        stop_gunicorn(pid_file)
    for child in Path(base).iterdir() if Path(base).exists() else []:
        shutil.rmtree(child, ignore_errors=True)


# ---------------------------------------------------------------- the app


def app_env(database_url: str, instance: Path, **extra: str) -> dict[str, str]:
    """The environment of the production profile for a server or a ``flask`` command."""
    env = {
        "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "AWARD_ENV": "production",
        "SECRET_KEY": "faults-" + os.urandom(16).hex(),
        "DATABASE_URL": database_url,
        "AWARD_INSTANCE_PATH": str(instance),
        "AWARD_MAIL_DIR": str(instance / "mail"),
        "AWARD_LOG_FORMAT": "json",
        "AWARD_BASE_URL": "http://127.0.0.1",
    }
    env.update(extra)
    return env


def flask_command(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    """``flask --app award_service ARGS`` in ``env``; its output (raises with it on failure)."""
    result = subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "award_service", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} exited with {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result.stdout


ACCESS_FORMAT = "%(p)s %(s)s %({x-fault-seq}i)s"  # worker pid as <pid>, status, the request's sequence number


class Gunicorn:
    """The app under gunicorn (``deploy/gunicorn.conf.py``) on a free loopback port."""

    def __init__(
        self, env: dict[str, str], root: Path, workers: int = 2, timeout: int = 30, pid_file: Path | None = None
    ):
        self.root = Path(root)
        self.pid_file = Path(pid_file) if pid_file else self.root / "gunicorn.pid"
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.env = {**env, "AWARD_BASE_URL": self.url}
        self.log = self.root / "gunicorn.log"
        self.access_log = self.root / "access.log"
        self.timeout = timeout
        self.process: subprocess.Popen | None = None

    def start(self, wait: float = 60) -> Gunicorn:
        command = [
            str(VENV_BIN / "gunicorn"),
            "-c",
            str(REPO / "deploy" / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--timeout",
            str(self.timeout),
            "--access-logfile",
            str(self.access_log),
            "--access-logformat",
            ACCESS_FORMAT,
            # Its own control socket (gunicorn 23+ makes one in ~/.gunicorn, shared by every server there).
            "--control-socket",
            str(self.root / "gunicorn.ctl"),
            "--pid",
            str(self.pid_file),
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + wait
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}")
            if len(self.worker_pids()) == self.workers and self._healthy():
                return self
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not come up in {wait} s:\n{self.log_tail()}")
            time.sleep(0.1)

    def _healthy(self) -> bool:
        try:
            return requests.get(self.url + "/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    @property
    def master_pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def worker_pids(self) -> list[int]:
        return children(self.master_pid) if self.process is not None else []

    def kill_worker(self, pid: int) -> None:
        assert pid in self.worker_pids(), f"{pid} is not a worker of gunicorn {self.master_pid}"
        os.kill(pid, signal.SIGKILL)

    def wait_for_workers(self, gone: Iterable[int] = (), timeout: float = 30) -> list[int]:
        """Wait until the master runs its full number of workers, none of them in ``gone``."""
        gone = set(gone)
        deadline = time.monotonic() + timeout
        while True:
            pids = self.worker_pids()
            if len(pids) == self.workers and not gone & set(pids):
                return pids
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn has workers {pids}, not {self.workers} new ones\n{self.log_tail()}")
            time.sleep(0.05)

    def stop(self, timeout: float = 40) -> None:
        """SIGTERM (a graceful stop), then SIGKILL to the master and its workers."""
        if self.process is None or self.process.poll() is not None:
            return
        workers = self.worker_pids()
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            for pid in [self.master_pid, *workers]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.process.wait(10)
        deadline = time.monotonic() + 10
        while any(_pid_alive(p) for p in workers) and time.monotonic() < deadline:
            time.sleep(0.05)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "gunicorn log:\n" + "\n".join(self.log_text().splitlines()[-lines:])

    def answered_by(self) -> dict[int, tuple[int, int]]:
        """From the access log: request sequence number -> (worker pid, status)."""
        found = {}
        if not self.access_log.exists():
            return found
        for line in self.access_log.read_text(errors="replace").splitlines():
            if line.startswith("{"):  # AWARD_LOG_FORMAT=json: gunicorn's access line is the record's message
                try:
                    line = str(json.loads(line).get("message", ""))
                except ValueError:
                    continue
            match = re.fullmatch(r"<(\d+)> (\d{3}) (\d+)", line.strip())
            if match:
                found[int(match[3])] = (int(match[1]), int(match[2]))
        return found


# ---------------------------------------------------------------- load


@dataclass
class Answer:
    """One request and what came back: an HTTP status, or ``error`` when nothing did."""

    seq: int
    kind: str
    method: str
    path: str
    sent: float  # monotonic
    done: float = 0.0
    status: int | None = None
    body: Any = None  # the JSON, if the answer was JSON
    text: str = ""  # the answer's first 4,000 characters otherwise
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None  # "ConnectionError: ..." when no HTTP answer came
    person: dict[str, Any] = field(default_factory=dict)  # what was sent about a person
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return self.done - self.sent

    def describe(self) -> str:
        what = f"HTTP {self.status}" if self.status is not None else self.error
        return f"#{self.seq} {self.method} {self.path} -> {what} in {self.seconds:.2f} s: {self.text[:300]!r}"


@dataclass
class Request:
    kind: str
    method: str
    path: str
    json: Any = None
    data: dict[str, str] | None = None  # a form's fields
    headers: dict[str, str] = field(default_factory=dict)
    person: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    session: requests.Session | None = None  # a session of its own (e.g. logged in), else the thread's


GIVEN = ("Әсел", "Нұрлан", "Гүлнар", "Жанболат", "Айгерім", "Серік", "Мәдина", "Ерлан", "Ольга", "Дмитрий")
FAMILY = ("Жақыпова", "Сәрсенов", "Оспанова", "Әбенов", "Құсайынова", "Ильин", "Тұрсынова", "Бекмағамбетов")


def person(n: int, tag: str = "") -> dict[str, Any]:
    """The n-th attendee of a load: a name, a phone of its own, an e-mail for every other one."""
    name = f"{GIVEN[n % len(GIVEN)]} {FAMILY[(n // len(GIVEN)) % len(FAMILY)]}"
    data: dict[str, Any] = {"full_name": name, "phone": f"+7705{n % 10**7:07d}"}
    if n % 2:
        data["email"] = f"fault{tag}{n}@example.kz"
    return data


def registration_request(ceremonies: list[int], tag: str = "", languages=("kk", "ru")) -> Callable[[int], Request]:
    """Registrations for the ceremonies in turn, 1 to 3 seats each (companions 0 to 2)."""

    def make(seq: int) -> Request:
        who = person(seq, tag)
        ceremony = ceremonies[seq % len(ceremonies)]
        body = {**who, "companions": seq % 3, "category": "guest", "consent": True}
        language = languages[seq % len(languages)]
        return Request(
            "register",
            "POST",
            f"/api/v1/ceremonies/{ceremony}/registrations",
            json=body,
            headers={"Accept-Language": language},
            person=who,
            meta={"ceremony": ceremony, "seats": 1 + seq % 3, "lang": language},
        )

    return make


def csrf_token(session: requests.Session, url: str) -> str:
    """The CSRF token of the form on the page at ``url`` (for this session)."""
    page = session.get(url, timeout=10)
    page.raise_for_status()
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text) or re.search(
        r'name="csrf_token" value="([^"]+)"', page.text
    )
    assert match, f"no CSRF token on {url}"
    return match[1]


def staff_session(base_url: str, email: str, password: str) -> requests.Session:
    """A session logged in through the login form (its CSRF token included)."""
    session = requests.Session()
    token = csrf_token(session, base_url + "/staff/login")
    answer = session.post(
        base_url + "/staff/login",
        data={"csrf_token": token, "email": email, "password": password},
        timeout=30,
        allow_redirects=False,
    )
    assert answer.status_code == 302, f"login: HTTP {answer.status_code}"
    return session


def rotation(requests_: list[Request]) -> Callable[[int], Request]:
    """The same few requests in turn (pages and API reads during an outage)."""
    return lambda seq: requests_[seq % len(requests_)]


class Load:
    """``threads`` threads sending ``make(seq)``'s requests to ``base_url``
    until :meth:`stop`; every answer (or failure to get one) is in ``answers``."""

    def __init__(
        self,
        base_url: str,
        make: Callable[[int], Request],
        threads: int = 4,
        timeout: tuple[float, float] = (5.0, 20.0),
        pause: float = 0.0,
        first_seq: int = 1,
    ):
        self.base_url = base_url
        self.make = make
        self.threads_n = threads
        self.timeout = timeout
        self.pause = pause
        self.answers: list[Answer] = []
        self.crashes: list[BaseException] = []
        self._seq = itertools.count(first_seq)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> Load:
        for i in range(self.threads_n):
            thread = threading.Thread(target=self._run, name=f"load-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def _run(self) -> None:
        own = requests.Session()
        try:
            while not self._stop.is_set():
                with self._lock:
                    seq = next(self._seq)
                request = self.make(seq)
                answer = send(request.session or own, self.base_url, request, seq, self.timeout)
                with self._lock:
                    self.answers.append(answer)
                if self.pause:
                    self._stop.wait(self.pause)
        except BaseException as exc:  # a bug in the test, not a failed request: stop and report it
            self.crashes.append(exc)
            self._stop.set()
        finally:
            own.close()

    def snapshot(self) -> list[Answer]:
        with self._lock:
            return list(self.answers)

    def wait_for(self, condition: Callable[[list[Answer]], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self._stop.is_set():
            if condition(self.snapshot()):
                return True
            time.sleep(0.05)
        return condition(self.snapshot())

    def stop(self, timeout: float = 60) -> list[Answer]:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        alive = [t.name for t in self._threads if t.is_alive()]
        if self.crashes:
            raise RuntimeError(f"the load generator failed: {self.crashes[0]!r}") from self.crashes[0]
        if alive:
            raise RuntimeError(f"load threads still running after {timeout} s: {alive}")
        return sorted(self.answers, key=lambda a: a.seq)


def send(session: requests.Session, base_url: str, request: Request, seq: int, timeout: tuple[float, float]) -> Answer:
    headers = {"X-Fault-Seq": str(seq), **request.headers}
    answer = Answer(
        seq,
        request.kind,
        request.method,
        request.path,
        time.monotonic(),
        person=dict(request.person),
        meta=dict(request.meta),  # each answer its own (a Request may be sent many times)
    )
    try:
        response = session.request(
            request.method,
            base_url + request.path,
            json=request.json,
            data=request.data,
            headers=headers,
            timeout=timeout,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        answer.done = time.monotonic()
        answer.error = f"{type(exc).__name__}: {exc}"
        return answer
    answer.done = time.monotonic()
    answer.status = response.status_code
    answer.headers = dict(response.headers)
    answer.text = response.text[:4000]
    if response.headers.get("Content-Type", "").startswith("application/json"):
        try:
            answer.body = response.json()
        except json.JSONDecodeError:
            answer.body = None
    return answer


def counts(answers: Iterable[Answer]) -> dict[str, int]:
    """How many of each outcome: ``"201"``, ``"503"``, ``"ConnectionError"``…"""
    found: dict[str, int] = {}
    for a in answers:
        key = str(a.status) if a.status is not None else (a.error or "?").split(":", 1)[0]
        found[key] = found.get(key, 0) + 1
    return dict(sorted(found.items()))


# ---------------------------------------------------------------- logs


def personal_data_in(paths: Iterable[Path], values: Iterable[str]) -> list[str]:
    """Each ``value`` (a name, a phone in the forms it may take, an e-mail, a
    token) found in the files, as "file: value"; empty when none is."""
    wanted = {v for v in values if v and len(v) >= 6}
    found = []
    for path in paths:
        if not Path(path).exists():
            continue
        text = Path(path).read_text(errors="replace")
        # JSON logs escape non-ASCII characters: look for both spellings.
        for value in sorted(wanted):
            if value in text or json.dumps(value)[1:-1] in text:
                found.append(f"{Path(path).name}: {value}")
    return found


def personal_values(answers: Iterable[Answer]) -> set[str]:
    """What a load sent or got back about people: names, phones (as sent and
    stored: +7…, digits), e-mails, manage tokens and ticket codes."""
    values: set[str] = set()
    for a in answers:
        for key in ("full_name", "email"):
            if a.person.get(key):
                values.add(a.person[key])
        if a.person.get("phone"):
            values.add(a.person["phone"])
            values.add(a.person["phone"].lstrip("+"))
        if isinstance(a.body, dict):
            for key in ("token", "ticket_code"):
                if isinstance(a.body.get(key), str):
                    values.add(a.body[key])
    return values
