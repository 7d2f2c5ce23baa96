"""Metrics and logs under the production profile's gunicorn: a real gunicorn
with two workers started from deploy/gunicorn.conf.py on a free port, on this
test's database (SQLite, or PostgreSQL with TEST_DATABASE_URL), with a
multiprocess folder of its own and AWARD_LOG_FORMAT=json.

- Requests from several threads at once land on both workers (told apart by
  the ``pid`` of their log lines); one scrape of /metrics then counts every
  one of them, which no single worker's view could.
- Requests carrying a name, a phone, an e-mail, an IIN, a ticket token in the
  path and searches in the query leave none of them in the captured stderr,
  every line of which is JSON (gunicorn's own included), while the requests'
  ids, routes and statuses are there, and the confirmation e-mail's line
  carries the id of the request that decided it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from .nomination_factories import *  # noqa: F403  (fixtures: medal, cast, staff_user)
from .nomination_factories import MEDAL_CODE, nominee_data
from .test_mail_helpers import free_port

ROOT = Path(__file__).resolve().parent.parent
CONF = ROOT / "deploy" / "gunicorn.conf.py"
METRICS_TOKEN = "metrics-token-for-the-test"


class Gunicorn:
    """gunicorn -c deploy/gunicorn.conf.py in a process group of its own, its
    stderr in a file; stopped (SIGTERM, then SIGKILL) by :meth:`stop`."""

    def __init__(self, tmp_path: Path, db_url: str, workers: int = 2, stale_metrics: bool = False, **env):
        self.stale_metrics = stale_metrics
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.stderr_path = tmp_path / "gunicorn.stderr"
        self.metrics_dir = tmp_path / "metrics"
        self.mail_dir = tmp_path / "mail"
        clean = {
            k: v for k, v in os.environ.items() if not k.startswith(("AWARD_", "FLASK_", "PROMETHEUS_", "GUNICORN_"))
        }
        self.env = {
            **clean,
            "SECRET_KEY": "gunicorn-test-secret",
            "DATABASE_URL": db_url,
            "AWARD_INSTANCE_PATH": str(tmp_path / "instance"),
            "AWARD_BASE_URL": self.base,
            "AWARD_RATELIMIT_ENABLED": "false",
            "AWARD_MAIL_GIVE_WAY_CPU": "0",
            "AWARD_MAIL_DIR": str(self.mail_dir),
            "AWARD_LOG_FORMAT": "json",
            "AWARD_METRICS_TOKEN": METRICS_TOKEN,
            "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir),
            "PYTHONDONTWRITEBYTECODE": "1",
            **env,
        }
        self.cmd = [
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
        self.proc: subprocess.Popen | None = None
        self.responses = 0  # every response this test received from the server
        self.lock = threading.Lock()

    def start(self, timeout: float = 60.0) -> None:
        if self.stale_metrics:
            # The folder of a run that crashed, a file of a process that is gone: on_starting removes it.
            self.metrics_dir.mkdir()
            (self.metrics_dir / "counter_999999999.db").write_bytes(b"\0" * 8)
        # (Otherwise the folder does not exist yet: the config makes it.)
        self._stderr = self.stderr_path.open("wb")
        self.proc = subprocess.Popen(
            self.cmd,
            cwd=str(ROOT),
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"gunicorn exited with {self.proc.returncode}:\n{self.stderr()}")
            try:
                if self.get("/healthz", timeout=30).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise AssertionError(f"gunicorn did not answer within {timeout} s:\n{self.stderr()}")

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        response = requests.request(method, self.base + path, **kwargs)
        with self.lock:
            self.responses += 1
        return response

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            except ProcessLookupError:
                pass
        if self.proc is not None:
            self._stderr.close()

    def stderr(self) -> str:
        return self.stderr_path.read_text("utf-8", "replace")

    def lines(self) -> list[dict]:
        """Every line gunicorn and its workers wrote to stderr, each parsed as JSON."""
        parsed = []
        for number, line in enumerate(self.stderr().splitlines(), start=1):
            if line.strip():
                try:
                    parsed.append(json.loads(line))
                except ValueError:
                    raise AssertionError(f"stderr line {number} is not JSON: {line!r}") from None
        return parsed


@pytest.fixture
def gunicorn(tmp_path, db_url):
    servers = []

    def start(**options) -> Gunicorn:
        server = Gunicorn(tmp_path, db_url, **options)
        servers.append(server)
        server.start()
        return server

    yield start
    for server in servers:
        server.stop()


def samples_of(text: str) -> dict[tuple[str, frozenset], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def registration_body(i: int) -> dict:
    return {"full_name": f"Қасымова Әйгерім {i}", "email": f"load{i}@example.kz", "category": "guest", "consent": True}


def test_one_scrape_sums_every_worker(app, gunicorn, make_ceremony):
    ceremony_id = make_ceremony(capacity=500).id
    server = gunicorn(stale_metrics=True)
    assert not (server.metrics_dir / "counter_999999999.db").exists()  # the last run's files went

    created = Counter()
    tokens = []
    failures = []

    def work(t: int):
        try:
            _work(t)
        except Exception as exc:  # told to the test below, not lost in the thread
            failures.append(exc)

    def _work(t: int):
        for i in range(15):
            n = t * 100 + i
            kind = i % 3
            if kind == 0:
                response = server.post(f"/api/v1/ceremonies/{ceremony_id}/registrations", json=registration_body(n))
                if response.status_code == 201:
                    with server.lock:
                        created[201] += 1
                        tokens.append(response.json()["token"])
            elif kind == 1:
                assert server.get(f"/ceremonies/{ceremony_id}").status_code == 200
            else:
                assert server.get("/healthz").status_code == 200

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert created[201] == 40
    token = tokens[0]
    assert server.get(f"/r/{token}").status_code == 200
    assert server.get("/metrics").status_code == 401  # no token
    assert server.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401

    # Which worker answered what: the request lines written so far (the scrape below is not among them).
    requests_by_pid = Counter(line["pid"] for line in server.lines() if line["logger"] == "award_service.request")
    made = server.responses
    scrape = server.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert scrape.status_code == 200
    assert sum(requests_by_pid.values()) == made
    assert len(requests_by_pid) == 2, requests_by_pid  # both workers answered
    assert max(requests_by_pid.values()) < made  # so neither worker's own count is the total

    samples = samples_of(scrape.text)
    total = sum(v for (name, _), v in samples.items() if name == "award_http_requests_total")
    assert total == made
    registered = sum(
        v
        for (name, labels), v in samples.items()
        if name == "award_http_requests_total"
        and dict(labels)["route"] == "/api/v1/ceremonies/<ceremony_id>/registrations"
    )
    assert registered == 40
    confirmed = samples[("award_registrations_total", frozenset({"status": "confirmed", "source": "api"}.items()))]
    assert confirmed == 40
    count = sum(v for (name, _), v in samples.items() if name == "award_http_request_duration_seconds_count")
    assert count == made
    assert (
        samples[
            ("award_ceremony_seats_left", frozenset({"ceremony": str(ceremony_id), "district": "zhezkazgan"}.items()))
        ]
        == 460
    )
    assert token not in scrape.text and 'route="/r/<token>"' in scrape.text
    assert "load1@example.kz" not in scrape.text


def test_json_logs_carry_ids_and_routes_and_no_person(app, gunicorn, make_ceremony, cast, token_for):
    ceremony_id = make_ceremony().id
    organiser = token_for(cast.organiser)
    nominator = token_for(cast.nominator)
    nominee = nominee_data(surname="Сейтжанов", given_name="Ербол", phone="+7 705 111 22 33")
    iin = nominee["iin"]
    server = gunicorn()

    person = {
        "full_name": "Жанболат Әбенов",
        "phone": "+7 701 234 56 78",
        "email": "zhanbolat.abenov@example.kz",
        "category": "veteran",
        "consent": True,
    }
    registered = server.post(
        f"/api/v1/ceremonies/{ceremony_id}/registrations", json=person, headers={"X-Request-ID": "pii-reg.1"}
    )
    assert registered.status_code == 201, registered.text
    assert registered.headers["X-Request-ID"] == "pii-reg.1"
    token = registered.json()["token"]
    assert server.get(f"/r/{token}", headers={"X-Request-ID": "pii-page"}).status_code == 200
    assert server.get(f"/r/{token}/ticket.pdf", headers={"X-Request-ID": "pii-ticket"}).status_code == 200
    assert server.get(f"/api/v1/registrations/{token}").status_code == 200
    for q in ("Жанболат", "87012345678", "zhanbolat.abenov@example.kz"):
        found = server.get(f"/api/v1/ceremonies/{ceremony_id}/registrations", params={"q": q}, headers=organiser)
        assert found.status_code == 200 and found.json()["items"], q
    created = server.post(
        "/api/v1/nominations",
        json={"nominee": nominee, "medal": MEDAL_CODE, "grounds": "Тыл еңбеккері, 1941–1945 жж."},
        headers={**nominator, "X-Request-ID": "pii-nomination"},
    )
    assert created.status_code == 201, created.text
    assert server.get("/api/v1/nominations", params={"q": iin}, headers=nominator).status_code == 200
    assert server.get("/staff/ceremonies/", params={"q": "Жанболат"}).status_code in (200, 302)
    refused = server.post("/staff/login", data={"email": person["email"], "password": "x"})
    assert refused.status_code in (400, 401)  # no CSRF token: refused before any check
    bad_id = server.get("/healthz", headers={"X-Request-ID": person["email"]})
    assert bad_id.headers["X-Request-ID"] != person["email"]

    # The confirmation goes out from a worker's sender thread; then the server stops (its lines flushed).
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(
        line.get("logger") == "award_service.mail.sending" and line.get("request_id") == "pii-reg.1"
        for line in server.lines()
    ):
        time.sleep(0.1)
    server.stop()

    lines = server.lines()  # every line is JSON, gunicorn's own included
    text = server.stderr()
    for secret in (
        "Жанболат",
        "Әбенов",
        "zhanbolat",
        "abenov",
        "701 234 56 78",
        "7012345678",
        "87012345678",
        "Сейтжанов",
        "Ербол",
        "7051112233",
        iin,
        token,
        organiser["Authorization"].split()[1],
        nominator["Authorization"].split()[1],
    ):
        assert secret not in text, secret
    assert any(line["logger"] == "gunicorn.error" for line in lines)  # gunicorn's lines, as JSON
    by_id = {line["request_id"]: line for line in lines if line["logger"] == "award_service.request"}
    assert by_id["pii-reg.1"]["route"] == "/api/v1/ceremonies/<ceremony_id>/registrations"
    assert by_id["pii-reg.1"]["status"] == 201 and by_id["pii-reg.1"]["method"] == "POST"
    assert by_id["pii-page"]["route"] == "/r/<token>" and by_id["pii-page"]["status"] == 200
    assert by_id["pii-ticket"]["route"] == "/r/<token>/ticket.pdf"
    assert by_id["pii-nomination"]["user_id"] == cast.nominator.id and by_id["pii-nomination"]["status"] == 201
    assert all(isinstance(line["duration_ms"], float) for line in by_id.values())
    sent = [line for line in lines if line.get("logger") == "award_service.mail.sending"]
    assert any(line["request_id"] == "pii-reg.1" and line["message"].endswith(" sent") for line in sent), sent
    assert list(server.mail_dir.glob("*.eml"))  # the e-mail itself went out (a file, no SMTP server here)
