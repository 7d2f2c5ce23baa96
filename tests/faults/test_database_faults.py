"""The database goes away, and a worker dies, under a registration load (issue 13, item 5).

Real processes: a PostgreSQL cluster of the test's own (initdb on a free
port), the app under gunicorn with ``deploy/gunicorn.conf.py`` and 2 workers,
and threads posting registrations to the public API while others read pages
and the API.  Afterwards every answer is compared with the database:

- every 201 is a registration row (same id, token, ceremony, phone and state);
- a row whose request got no 201 belongs to a request that got no answer (the
  worker died under it) or a 503 (the server went away under it): it was
  stored, the client was not told so; nothing else;
- nothing is half-written: for every ceremony the seats taken equal the seats
  of its confirmed registrations (the waiting list holds none), each
  registration has its one audit event and, with an e-mail, its message;
- no answer is a 500, and the logs of gunicorn hold none of the personal data
  sent (names, phones, e-mails, tokens).

Run with ``AWARD_FAULTS=1 pytest tests/faults -m faults`` (``.ci/run``'s fault stage).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict

import psycopg
import pytest
import requests

from .conftest import Site
from .harness import (
    Answer,
    Gunicorn,
    Load,
    Request,
    counts,
    csrf_token,
    personal_data_in,
    personal_values,
    registration_request,
    rotation,
    send,
    staff_session,
)

pytestmark = pytest.mark.faults

RECOVERY_SECONDS = 5.0  # the service serves again within this long after the database is back
SLOWEST_ANSWER = 10.0  # no request waits longer than this, outage or not
MESSAGE_503 = {
    "kk": "Қызмет уақытша қолжетімсіз. Бір минуттан кейін қайталап көріңіз.",
    "ru": "Сервис временно недоступен. Повторите попытку через минуту.",
}


# ---------------------------------------------------------------- checks


def check_database(site: Site, answers: list[Answer], unanswered_ok: set[str]) -> dict[str, int]:
    """Compare the registration answers with the database (see the module's
    docstring); ``unanswered_ok``: the outcomes ("503", "ConnectionError", …)
    whose request may have stored a row all the same.  Returns the figures."""
    sent = [a for a in answers if a.kind == "register"]
    by_phone = {a.person["phone"]: a for a in sent}
    assert len(by_phone) == len(sent), "the load sent a phone twice"
    with psycopg.connect(site.database_url) as conn:
        rows = {
            r[0]: r
            for r in conn.execute(
                "SELECT id, token, ceremony_id, phone, email, seats, status FROM registrations ORDER BY id"
            )
        }
        ceremonies = {r[0]: (r[1], r[2]) for r in conn.execute("SELECT id, seats_taken, capacity FROM ceremonies")}
        events = list(
            conn.execute("SELECT object_id, action FROM audit_events WHERE object_type = 'registration' ORDER BY id")
        )
        messages = list(
            conn.execute("SELECT object_id, kind FROM outbox_messages WHERE object_type = 'registration' ORDER BY id")
        )

    # Every 201 is in the database, as it was answered.
    created = [a for a in sent if a.status == 201]
    for a in created:
        row = rows.get(a.body["id"])
        assert row is not None, f"answered 201 but not stored: {a.describe()}"
        _, token, ceremony_id, phone, _, seats, status = row
        assert (token, ceremony_id, phone, seats) == (
            a.body["token"],
            a.meta["ceremony"],
            a.person["phone"],
            a.meta["seats"],
        ), f"stored otherwise than answered: {a.describe()} vs {row}"
        promoted = status == "confirmed" and a.body["status"] == "waitlisted"  # a seat freed for it later
        assert status == a.body["status"] or promoted, f"{a.describe()} vs {row}"

    # A row without a 201: only for a request that got no answer, or one that may have been cut off after storing.
    answered_ids = {a.body["id"] for a in created}
    for row in rows.values():
        if row[0] in answered_ids:
            continue
        request = by_phone.get(row[3])
        assert request is not None, f"a registration nobody sent: {row}"
        outcome = str(request.status) if request.status is not None else (request.error or "").split(":")[0]
        assert outcome in unanswered_ok, f"stored, but answered {outcome}: {request.describe()}"
    assert len({r[3] for r in rows.values()}) == len(rows), "a phone registered twice"

    # Nothing half-written: seats, audit events, messages.
    held: dict[int, int] = defaultdict(int)
    for row in rows.values():
        if row[6] == "confirmed":
            held[row[2]] += row[5]
    for ceremony_id, (seats_taken, capacity) in ceremonies.items():
        assert seats_taken == held[ceremony_id], (
            f"ceremony {ceremony_id}: seats_taken {seats_taken}, confirmed registrations hold {held[ceremony_id]}"
        )
        assert seats_taken <= capacity
    actions = defaultdict(list)
    for object_id, action in events:
        actions[int(object_id)].append(action)
    assert set(actions) <= set(rows), f"audit events of registrations that do not exist: {set(actions) - set(rows)}"
    for registration_id, row in rows.items():
        made = [x for x in actions[registration_id] if x in ("registration.create", "registration.waitlist")]
        assert len(made) == 1, f"registration {registration_id}: audit events {actions[registration_id]}"
        if "registration.promote" in actions[registration_id]:
            assert made == ["registration.waitlist"] and row[6] == "confirmed"
    kinds = defaultdict(list)
    for object_id, kind in messages:
        kinds[int(object_id)].append(kind)
    assert set(kinds) <= set(rows), f"messages about registrations that do not exist: {set(kinds) - set(rows)}"
    for registration_id, row in rows.items():
        if row[4]:
            assert kinds[registration_id], f"registration {registration_id} has an e-mail and no message"
        assert len(kinds[registration_id]) == len(set(kinds[registration_id])), kinds[registration_id]

    # Refusals are the contested ceremony's, and only for want of seats.
    for a in sent:
        if a.status == 409:
            assert a.body["error"]["code"] == "ceremony_full", a.describe()
            assert a.meta["ceremony"] == site.ceremonies["small"], a.describe()
    return {
        "answered 201": len(created),
        "rows": len(rows),
        "rows without a 201": len(rows) - len(answered_ids),
        "seats taken": sum(s for s, _ in ceremonies.values()),
    }


# What the logs say when a request failed with an error nobody handled: Flask's
# log of an unhandled exception, ours (web.unexpected), a failure in Flask's
# after-request hooks while answering an error, gunicorn's own 500.
REQUEST_FAILURES = (
    "Exception on ",
    "unhandled error",
    "Request finalizing failed",
    "Error handling request",
)


def check_logs(server: Gunicorn, answers: list[Answer], site: Site) -> None:
    """Personal data never in the logs: none of the names, phones, e-mails and
    tokens of the load (nor the organiser's name and e-mail) in gunicorn's
    output or the access log.  And no request failed unhandled: an outage is a
    one-line warning per request, not a stack trace."""
    values = personal_values(answers) | {site.staff["name"], site.staff["email"]}
    found = personal_data_in([server.log, server.access_log], values)
    assert not found, f"personal data in the logs: {found[:10]}"
    text = server.log_text()
    failures = [line for line in text.splitlines() if any(marker in line for marker in REQUEST_FAILURES)]
    assert not failures, failures[:10]
    # Background threads (the mail sender) may log their own failures with a stack trace: shown, not judged here.
    print(f"  logs: {len(text.splitlines())} lines, {text.count('Traceback')} stack traces (background threads)")


def report(title: str, figures: dict) -> None:
    print(f"\n{title}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))


# ---------------------------------------------------------------- 1. a worker SIGKILLed


KILLS = 4
# What a client sees of the request a killed worker was serving: the connection
# closed before any answer, or after the headers and before the body.
CUT_OFF = {"ConnectionError", "ChunkedEncodingError"}


def test_a_worker_killed_mid_load_loses_no_registration_answered_201(site, start_gunicorn):
    """SIGKILL a worker while 4 threads register (the oldest worker, 4 times:
    each original and each replacement in turn); the master replaces it and
    registrations go on.  Then every answer is compared with the database."""
    server = start_gunicorn(site.env, workers=2)
    load = Load(server.url, registration_request(list(site.ceremonies.values())), threads=4).start()
    created = lambda answers: sum(a.status == 201 for a in answers)  # noqa: E731
    kills = []
    try:
        assert load.wait_for(lambda a: created(a) >= 50, timeout=30), counts(load.snapshot())
        for _ in range(KILLS):
            victim = server.worker_pids()[0]
            before = created(load.snapshot())
            server.kill_worker(victim)
            kills.append(victim)
            workers = server.wait_for_workers(gone=[victim], timeout=30)
            # Registrations go on after the kill (the other worker, then the new one too).
            assert load.wait_for(lambda a, n=before: created(a) >= n + 60, timeout=30), counts(load.snapshot())
            print(f"\nSIGKILL worker {victim}: replaced, workers now {workers}")
    finally:
        answers = load.stop()

    outcome = counts(answers)
    report("answers", outcome)
    lost = [a for a in answers if a.status is None]
    for a in lost:
        print("cut off (the killed worker's request in flight):", a.describe())
    assert not [a for a in answers if a.status is not None and a.status >= 500], outcome
    assert set(outcome) <= {"201", "409", *CUT_OFF}, outcome
    # A sync worker serves one request at a time: a kill cuts at most the one it was serving.
    assert len(lost) <= len(kills), [a.describe() for a in lost]
    assert max(a.seconds for a in answers) < SLOWEST_ANSWER
    figures = check_database(site, answers, unanswered_ok=CUT_OFF)
    report("database", figures)
    check_logs(server, answers, site)


# ---------------------------------------------------------------- 2. the database stopped and started


def _outage_probes(server: Gunicorn, site: Site) -> tuple[list[Request], Answer]:
    """What the readers ask during the outage: pages (public and a logged-in
    organiser's, in Kazakh and Russian, one with a manage token in its path),
    the public registration form (sent with its CSRF token, refused for its
    empty fields: the CSRF and rate-limit layers, nothing stored) and the API;
    and the registration whose token they use."""
    with requests.Session() as session:
        made = send(
            session, server.url, registration_request([site.ceremonies["big"]], tag="probe")(10**7 - 1), 0, (5, 20)
        )
    assert made.status == 201, made.describe()
    token = made.body["token"]
    staff = staff_session(server.url, site.staff["email"], site.staff["password"])
    big = site.ceremonies["big"]
    visitor = requests.Session()  # the public registration form, sent with its CSRF token and no name
    form = {"csrf_token": csrf_token(visitor, f"{server.url}/ceremonies/{big}"), "full_name": ""}
    probes = [
        Request(
            "form",
            "POST",
            f"/ceremonies/{big}",
            data=form,
            headers={"Accept-Language": "kk"},
            meta={"lang": "kk"},
            session=visitor,
        ),
        Request("page", "GET", "/", headers={"Accept-Language": "ru"}, meta={"lang": "ru"}),
        Request("page", "GET", f"/ceremonies/{big}", headers={"Accept-Language": "kk"}, meta={"lang": "kk"}),
        Request("page", "GET", f"/r/{token}", headers={"Accept-Language": "ru"}, meta={"lang": "ru"}),
        Request("staff", "GET", "/staff/", headers={"Accept-Language": "kk"}, meta={"lang": "kk"}, session=staff),
        Request(
            "staff",
            "GET",
            f"/staff/ceremonies/{big}",
            headers={"Accept-Language": "ru"},
            meta={"lang": "ru"},
            session=staff,
        ),
        Request("api", "GET", "/api/v1/ceremonies", headers={"Accept-Language": "ru"}, meta={"lang": "ru"}),
        Request("api", "GET", f"/api/v1/registrations/{token}", headers={"Accept-Language": "kk"}, meta={"lang": "kk"}),
        Request("readyz", "GET", "/readyz", meta={"lang": "en"}),
    ]
    return probes, made


def _check_503(a: Answer, site: Site) -> None:
    """A 503 is the plain page or the API's error, in the language asked, with Retry-After."""
    assert a.headers.get("Retry-After") == "5", a.describe()
    lang = a.meta["lang"]
    if a.path.startswith("/api/"):
        assert a.body is not None and a.body["error"]["code"] == "unavailable", a.describe()
        assert a.body["error"]["message"] == MESSAGE_503[lang], a.describe()
    else:
        assert a.headers.get("Content-Type", "").startswith("text/html"), a.describe()
        assert MESSAGE_503[lang] in a.text, a.describe()
        assert site.staff["name"] not in a.text  # the plain page: no logged-in user loaded
        assert "Traceback" not in a.text and "Internal Server Error" not in a.text


def _restart_under_load(server: Gunicorn, site: Site, mode: str, probes: list[Request], seq: int) -> dict:
    """Registrations and readers running; the cluster stopped (``mode``), left
    down 3 s, started; the load carries on until every worker has served
    again.  Returns the answers and the moments."""
    load = Load(server.url, registration_request(list(site.ceremonies.values()), tag=mode), threads=4, first_seq=seq)
    readers = Load(server.url, rotation(probes), threads=2, first_seq=seq + 5 * 10**6)
    load.start()
    readers.start()
    try:
        assert load.wait_for(lambda a: sum(x.status == 201 for x in a) >= 30, timeout=30), counts(load.snapshot())
        stopping = time.monotonic()
        down = site.cluster.stop(mode)
        time.sleep(3)
        starting = time.monotonic()
        up = site.cluster.start()
        workers = server.worker_pids()

        def served(answers: list[Answer]) -> bool:
            by = server.answered_by()
            return all(any(a.done > up and by.get(a.seq, (0, 0)) == (pid, 201) for a in answers) for pid in workers)

        load.wait_for(served, timeout=RECOVERY_SECONDS + 5)
        time.sleep(1)
    finally:
        answers = load.stop() + readers.stop()
    return {
        "answers": answers,
        "stopping": stopping,
        "down": down,
        "starting": starting,
        "up": up,
        "workers": workers,
    }


def _check_outage(run: dict, server: Gunicorn, site: Site, mode: str) -> None:
    answers: list[Answer] = run["answers"]
    phases = Counter()
    for a in answers:
        if a.done < run["stopping"]:
            phase = "before"
        elif a.sent >= run["down"] and a.done <= run["starting"]:
            phase = "down"
        elif a.done <= run["up"]:
            phase = "stopping/starting"
        else:
            phase = "after"
        a.meta["phase"] = phase
        phases[(phase, a.kind, a.status if a.status is not None else "no answer")] += 1
    print(f"\n{mode}: stop took {run['down'] - run['stopping']:.2f} s, start {run['up'] - run['starting']:.2f} s")
    for key, n in sorted(phases.items(), key=str):
        print(f"  {key}: {n}")

    no_answer = [a for a in answers if a.status is None]
    assert not no_answer, [a.describe() for a in no_answer[:5]]
    errors = [a for a in answers if a.status >= 500 and a.status != 503]
    assert not errors, [a.describe() for a in errors[:5]]
    slow = [a for a in answers if a.seconds >= SLOWEST_ANSWER]
    assert not slow, [a.describe() for a in slow[:5]]
    down = [a for a in answers if a.meta["phase"] == "down"]
    assert down and all(a.status == 503 for a in down), Counter(a.status for a in down)
    for kind in ("register", "page", "staff", "api", "form", "readyz"):
        assert any(a.kind == kind for a in down), f"no {kind} request during the outage"
    for a in answers:
        if a.kind == "readyz":  # readiness: its own body, "fail" while the database is away
            assert a.body is not None, a.describe()
            if a.status == 503:
                assert a.body["status"] == "fail" and a.body["checks"]["database"]["ok"] is False, a.describe()
            else:
                assert a.status == 200 and a.body["status"] in ("ok", "degraded"), a.describe()
        elif a.status == 503:
            _check_503(a, site)
        elif a.kind == "form":
            assert a.status == 422, a.describe()  # the form, refused for its empty fields (not for its CSRF token)
        else:
            assert a.status in (200, 201, 409), a.describe()

    # Each worker serves again (a 201) within RECOVERY_SECONDS of the server accepting connections.
    by = server.answered_by()
    for pid in run["workers"]:
        first = min(
            (a.done for a in answers if a.done > run["up"] and by.get(a.seq, (0, 0)) == (pid, 201)), default=None
        )
        assert first is not None, f"worker {pid} served no registration after the restart"
        print(f"  worker {pid}: first 201 {first - run['up']:.3f} s after PostgreSQL accepted connections")
        assert first - run["up"] <= RECOVERY_SECONDS


def test_the_database_stopped_and_started_mid_load(site, start_gunicorn):
    """``pg_ctl stop -m fast`` then ``-m immediate`` (crash recovery at the
    start) under load: 503s while it is down, every worker serving again within
    5 s of its start, nothing lost or half-written; then a restart while no
    request runs: the first request of each worker after it is served, not
    answered 503 for a dead pooled connection."""
    server = start_gunicorn(site.env, workers=2)
    probes, made = _outage_probes(server, site)
    answers: list[Answer] = [made]
    for i, mode in enumerate(("fast", "immediate")):
        run = _restart_under_load(server, site, mode, probes, seq=(i + 1) * 10**6)
        _check_outage(run, server, site, mode)
        answers += run["answers"]

    # Idle: the pools hold connections the restart killed.
    site.cluster.stop("fast")
    up = site.cluster.start()
    register = registration_request([site.ceremonies["big"]], tag="idle")
    idle: list[Answer] = []
    with requests.Session() as session:
        seen: set[int] = set()
        seq = 9 * 10**6
        while seen != set(server.worker_pids()) and seq < 9 * 10**6 + 200:
            seq += 1
            idle.append(send(session, server.url, register(seq), seq, (5, 20)))
            by = server.answered_by()
            seen |= {by[a.seq][0] for a in idle if a.seq in by}
    print(f"\nidle restart: {len(idle)} requests reached workers {sorted(seen)} from {time.monotonic() - up:.2f} s")
    assert seen == set(server.worker_pids()), (seen, server.worker_pids())
    assert all(a.status == 201 for a in idle), [a.describe() for a in idle if a.status != 201]
    answers += idle

    figures = check_database(site, answers, unanswered_ok={"503"})
    report("database", figures)
    check_logs(server, answers, site)
