#!/usr/bin/env python3
"""Benchmark: nomination lists and the reviewer's queue with 50,000 nominations,
and importing a 10,000-row XLSX.

Prints figures; never passes or fails (it exits non-zero only when the
benchmark itself could not run).  In one run:

1. a fresh PostgreSQL database on 127.0.0.1:5432 (user postgres), migrated with
   ``flask --app award_service db upgrade``; dropped at the end, also on
   failure, Ctrl-C or SIGTERM;
2. the jubilee medal and the staff (a nominator and a reviewer per district, a
   regional commission member) made with the services; then 50,000 nominees
   and nominations bulk-inserted with Core ``insert()`` (realistic Kazakh and
   Russian names, valid IINs, search keys and name skeletons computed with
   award_service.nominations.names as the service does), spread over the five
   Ulytau districts, every status and every category; ``ANALYZE``;
3. in-process, through the Flask test client on that database, with every SQL
   statement counted (and timed) by a ``before/after_cursor_execute`` listener
   on the engine:
   - ``GET /api/v1/nominations?status=submitted&district=zhezkazgan&q=…`` with
     per_page 25 and 100 (bearer token of the Zhezkazgan reviewer),
   - the staff list page ``/staff/nominations/?status=submitted&q=…`` and the
     reviewer's queue ``/staff/nominations/queue`` (logged in as the reviewer),
     with 25 and 100 rows a page, when those routes exist; otherwise
     ``lists.list_query`` / ``lists.queue_query`` through ``db.paginate``
     (and the figures say so);
   - median and p95 of the time per request over ``--requests`` requests after
     a warm-up, and the CPU time per request of this process (the app) and of
     the PostgreSQL backends (from /proc): on a busy shared machine the wall
     times grow with the other load, the CPU times much less; the statement
     count must not grow with the page size;
   - a page over the 50 ms target: its slowest statement is shown with
     ``EXPLAIN (ANALYZE, BUFFERS)`` (always with ``--explain``);
4. an XLSX of 10,000 new nominations parsed and saved with
   ``award_service.nominations.importer`` (``parse_upload`` + ``save``) as the
   Zhezkazgan nominator: first a file as Excel and LibreOffice save it (text
   in the shared-strings table, dates as date cells; made with XlsxWriter),
   then one as openpyxl writes it (every text inline, slower to read).

    .venv/bin/python bench/nominations.py [--nominations 50000] [--requests 50] [--import-rows 10000]
                                          [--q Ахмет] [--explain] [--keep]
                                          [--pg postgresql://postgres@127.0.0.1:5432/postgres]

About a minute and a half with the defaults on a 2-core machine.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import random
import signal
import statistics
import sys
import time
from contextlib import closing, contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _pg import SECRET_KEY, BenchError, log, migrated_database  # noqa: E402

PASSWORD = "bench-password-2025"
TARGET_MS = 50.0
TARGET_IMPORT_S = 10.0
DISTRICTS = (("zhezkazgan", 40), ("satbayev", 25), ("karazhal", 12), ("ulytau", 8), ("zhanaarka", 15))
STATUSES = (
    ("draft", 8),
    ("submitted", 15),
    ("recommended", 10),
    ("approved", 45),
    ("awarded", 5),
    ("returned", 7),
    ("rejected", 6),
    ("withdrawn", 4),
)
CATEGORIES = (
    ("home_front_worker", 55),
    ("front_veteran", 14),
    ("siege_survivor", 9),
    ("former_prisoner", 8),
    ("other_participant", 8),
    ("partisan", 6),
)
# How many changes each state took to reach (the optimistic-locking counter).
VERSIONS = {
    "draft": 1,
    "submitted": 2,
    "withdrawn": 3,
    "returned": 3,
    "recommended": 3,
    "rejected": 4,
    "approved": 4,
    "awarded": 5,
}
BIRTH_YEARS = {
    "front_veteran": (1920, 1927),
    "home_front_worker": (1922, 1932),
    "siege_survivor": (1926, 1939),
    "partisan": (1920, 1928),
    "former_prisoner": (1928, 1939),
    "other_participant": (1920, 1929),
}
GROUNDS = (
    "1942–1945 жылдары Жезқазған мыс кенішінде кен тасушы болып еңбек еткен. Тыл еңбеккерінің куәлігі бар.",
    "В 1943–1945 гг. работала на Джездинском марганцевом руднике учётчицей. Удостоверение труженика тыла имеется.",
    "Призван в 1942 г. Воевал на Сталинградском фронте, был ранен. Награжден медалью «За отвагу».",
    "С сентября 1941 по январь 1943 г. жила в блокадном Ленинграде. В 1944 г. эвакуирована в Джезказган.",
    "1942–1944 жылдары Белоруссиядағы партизан отрядында соғысқан.",
)


# database: bench/_pg.py


# ------------------------------------------------------------- SQL counting


class StatementCounter:
    """Counts (and times) the statements sent on an engine while ``active``."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.active = False
        self.statements: list[tuple[float, str, object]] = []
        self._started: dict = {}
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        if self.active:
            self._started[id(cursor)] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if self.active:
            started = self._started.pop(id(cursor), None)
            elapsed = time.perf_counter() - started if started is not None else 0.0
            self.statements.append((elapsed, statement, parameters))

    @contextmanager
    def counting(self):
        self.statements = []
        self.active = True
        try:
            yield self
        finally:
            self.active = False

    @property
    def count(self) -> int:
        return len(self.statements)


# --------------------------------------------------------------- the data


def weighted(rng: random.Random, pairs):
    return rng.choices([k for k, _ in pairs], [w for _, w in pairs])[0]


class People:
    """Realistic nominees with unique valid IINs (names from the demo data)."""

    def __init__(self, seed: int):
        from award_service.demo import nominations as demo

        self.demo = demo
        self.rng = random.Random(seed)
        self.iins: set[str] = set()

    def iin(self, birth: date, female: bool) -> str:
        from award_service.nominations import iin

        while True:
            value = iin.make(birth, self.rng.randrange(1, 10000), female=female)
            if value is not None and value not in self.iins:
                self.iins.add(value)
                return value

    def person(self, district: str, category: str) -> dict:
        d, rng = self.demo, self.rng
        female = rng.random() < d.CATEGORY_FEMALE_SHARE[category]
        if rng.random() < 0.72:
            surname = rng.choice(d.KK_SURNAMES) + ("а" if female else "")
            given = rng.choice(d.KK_FEMALE if female else d.KK_MALE)
            father = rng.choice(d.KK_FATHERS)
            patronymic = father + (
                ("қызы" if female else "ұлы") if rng.random() < 0.85 else ("овна" if female else "ович")
            )
        else:
            surname = (
                rng.choice(d.UNCHANGED_SURNAMES)
                if rng.random() < 0.3
                else rng.choice(d.RU_SURNAMES) + ("а" if female else "")
            )
            given = rng.choice(d.RU_FEMALE if female else d.RU_MALE)
            patronymic = rng.choice(d.RU_FATHERS)[1 if female else 0]
        low, high = BIRTH_YEARS[category]
        birth = date(low, 1, 1) + timedelta(days=rng.randrange((date(high, 12, 31) - date(low, 1, 1)).days + 1))
        iin = self.iin(birth, female) if rng.random() < 0.95 else None
        phone = (
            f"+7{rng.choice(('701', '705', '747', '777'))}{rng.randint(2000000, 9999999)}"
            if rng.random() < 0.6
            else None
        )
        if district in d.TOWNS:
            town, streets = d.TOWNS[district][1], d.TOWNS[district][2]
            address = f"{town}, {rng.choice(streets)[1]}, д. {rng.randint(1, 120)}"
        else:
            area, villages = d.VILLAGES[district][1], d.VILLAGES[district][2]
            address = f"{area}, {rng.choice(villages)[1]}, д. {rng.randint(1, 120)}"
        return {
            "surname": surname,
            "given_name": given,
            "patronymic": patronymic,
            "iin": iin,
            "birth_date": birth,
            "category": category,
            "address": address,
            "phone": phone,
            "grounds": rng.choice(GROUNDS),
        }


def setup(app, args) -> dict:
    """Staff, the medal, 50,000 nominations; returns ids and a token."""
    from sqlalchemy import func, insert, select, text

    from award_service import names
    from award_service.accounts.models import User
    from award_service.accounts.service import create_api_token, create_user
    from award_service.actor import Actor
    from award_service.districts.models import District
    from award_service.extensions import db
    from award_service.medals.models import MedalQuota
    from award_service.medals.service import create_medal
    from award_service.nominations.models import Nomination, Nominee

    session = db.session
    system = Actor.system("bench")
    districts = {d.code: d.id for d in session.scalars(select(District))}
    staff = {}
    for code in districts:
        for role in ("nominator", "reviewer"):
            staff[(code, role)] = create_user(
                session,
                system,
                email=f"{role}.{code}@bench.kz",
                name=f"{role} {code}",
                roles=[role],
                district=code,
                password=PASSWORD,
            ).id
    staff[(None, "commission")] = create_user(
        session, system, email="commission@bench.kz", name="Commission", roles=["commission"], password=PASSWORD
    ).id
    medal = create_medal(
        session,
        system,
        {
            "code": "victory80",
            "name_kk": "1941–1945 жж. Ұлы Отан соғысындағы Жеңістің 80 жылы",
            "name_ru": "80 лет Победы в Великой Отечественной войне 1941–1945 гг.",
            "name_en": "80 Years of Victory in the Great Patriotic War 1941–1945",
            "serial_prefix": "ULY",
            "award_year_from": 2025,
            "quotas": dict.fromkeys(districts, args.nominations),
        },
    )
    medal_id = medal.id
    reviewer = session.get(User, staff[("zhezkazgan", "reviewer")])
    token = create_api_token(session, system, reviewer)

    log(f"generating {args.nominations:,} nominees")
    t0 = time.perf_counter()
    people = People(seed=80)
    rng = people.rng
    nominees, nominations = [], []
    base = datetime(2025, 2, 1, 4, 0, tzinfo=UTC)
    for i in range(1, args.nominations + 1):
        code = weighted(rng, DISTRICTS)
        status = weighted(rng, STATUSES)
        p = people.person(code, weighted(rng, CATEGORIES))
        created = base + timedelta(minutes=i)
        nominees.append(
            {
                "id": i,
                "surname": p["surname"],
                "given_name": p["given_name"],
                "patronymic": p["patronymic"],
                "iin": p["iin"],
                "birth_date": p["birth_date"],
                "category": p["category"],
                "district_id": districts[code],
                "address": p["address"],
                "phone": p["phone"],
                "search_key": names.search_key(p["surname"], p["given_name"], p["patronymic"], p["iin"] or "")[
                    : Nominee.search_key.type.length
                ],
                "name_skeleton": names.skeleton(p["surname"], p["given_name"])[: Nominee.name_skeleton.type.length],
                "created_at": created,
            }
        )
        reviewed = status in ("recommended", "approved", "awarded")
        decided = status in ("approved", "awarded")
        nominations.append(
            {
                "id": i,
                "nominee_id": i,
                "medal_id": medal_id,
                "district_id": districts[code],
                "iin": p["iin"],
                "search_key": nominees[-1]["search_key"],
                "grounds": p["grounds"],
                "status": status,
                "version": VERSIONS[status],
                "possible_duplicate": False,
                "duplicate_confirmed": False,
                "last_comment": "Уточните период работы." if status in ("returned", "rejected") else "",
                "decree_number": "45" if decided else None,
                "decree_date": date(2025, 4, 28) if decided else None,
                "created_by_id": staff[(code, "nominator")],
                "submitted_at": created + timedelta(days=1) if status != "draft" else None,
                "recommended_by_id": staff[(code, "reviewer")] if reviewed else None,
                "recommended_at": created + timedelta(days=3) if reviewed else None,
                "approved_by_id": staff[(None, "commission")] if decided else None,
                "approved_at": created + timedelta(days=7) if decided else None,
                "created_at": created,
                "updated_at": created + timedelta(days=7),
            }
        )
    generated = time.perf_counter() - t0
    log(f"inserting (generated in {generated:.1f} s)")
    t0 = time.perf_counter()
    for table, rows in ((Nominee.__table__, nominees), (Nomination.__table__, nominations)):
        for start in range(0, len(rows), 5000):
            session.execute(insert(table), rows[start : start + 5000])
        session.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), (SELECT max(id) FROM {table.name}))")
        )
    used = dict(
        session.execute(
            select(Nomination.district_id, func.count())
            .where(Nomination.status.in_(("approved", "awarded")))
            .group_by(Nomination.district_id)
        ).all()
    )
    for district_id, n in used.items():
        session.execute(
            MedalQuota.__table__.update()
            .where(MedalQuota.medal_id == medal_id, MedalQuota.district_id == district_id)
            .values(used=n)
        )
    session.commit()
    inserted = time.perf_counter() - t0
    session.execute(text("ANALYZE"))
    session.commit()
    return {
        "staff": staff,
        "token": token,
        "medal_id": medal_id,
        "iins": people.iins,
        "people": people,
        "generated": generated,
        "inserted": inserted,
        "districts": districts,
    }


# ------------------------------------------------------------ measurement


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, math.ceil(p / 100 * len(ordered)))) - 1]


class BackendCPU:
    """CPU time spent by the PostgreSQL backends serving one database (from
    /proc: the server runs on this machine).  Unlike the time per request, it
    barely depends on what else the machine is doing."""

    CLK_TCK = os.sysconf("SC_CLK_TCK")

    def __init__(self, admin_url: str, dbname: str):
        self.admin_url, self.dbname = admin_url, dbname

    def seconds(self) -> float:
        with closing(psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5)) as conn:
            pids = [r[0] for r in conn.execute("select pid from pg_stat_activity where datname = %s", (self.dbname,))]
        total = 0
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat", "rb") as fh:
                    raw = fh.read().decode()
            except OSError:
                continue
            fields = raw[raw.rindex(")") + 2 :].split()
            total += int(fields[11]) + int(fields[12])
        return total / self.CLK_TCK


class Measure:
    def __init__(self, label, median, p95, queries, slowest, total=None, status=200, cpu_app=0.0, cpu_pg=0.0):
        self.label, self.median, self.p95, self.queries = label, median, p95, queries
        self.slowest, self.total, self.status = slowest, total, status
        self.cpu_app, self.cpu_pg = cpu_app, cpu_pg  # ms per request


def measure(counter: StatementCounter, label: str, call, *, warmup: int, requests: int) -> Measure:
    """``call()`` -> (HTTP status or 200, total rows matched or None); timed."""
    status, total = 200, None
    for _ in range(warmup):
        status, total = call()
    times, counts, slowest = [], set(), (0.0, "", None)
    pg_before, app_before = counter.backend_cpu.seconds(), time.process_time()
    for _ in range(requests):
        with counter.counting():
            t0 = time.perf_counter()
            status, total = call()
            times.append((time.perf_counter() - t0) * 1000)
        counts.add(counter.count)
        for st in counter.statements:
            if st[0] > slowest[0]:
                slowest = st
    app_cpu = (time.process_time() - app_before) / requests * 1000
    pg_cpu = (counter.backend_cpu.seconds() - pg_before) / requests * 1000
    return Measure(
        label, statistics.median(times), percentile(times, 95), sorted(counts), slowest, total, status, app_cpu, pg_cpu
    )


def explain(engine, statement: str, parameters) -> str:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        raw.rollback()
        return plan
    finally:
        raw.close()


def short_sql(statement: str) -> str:
    """The statement on one line, long column lists elided."""
    import re

    flat = " ".join(statement.split())
    flat = re.sub(r"SELECT [^()]{120,}? FROM ", "SELECT … FROM ", flat)
    return flat[:1500]


def describe(m: Measure) -> str:
    q = "/".join(map(str, m.queries))
    return (
        f"median {m.median:.1f} ms, p95 {m.p95:.1f} ms, CPU {m.cpu_app + m.cpu_pg:.1f} ms (app {m.cpu_app:.1f} + "
        f"PostgreSQL {m.cpu_pg:.1f}), {q} SQL quer{'y' if q == '1' else 'ies'}"
    )


def pages(app, counter, data, args) -> list[tuple[str, list[Measure], str]]:
    """[(name, [per_page 25, per_page 100], note)]"""
    from urllib.parse import urlencode

    from award_service.accounts.models import User
    from award_service.extensions import db
    from award_service.nominations import lists, service

    results = []
    q = args.q
    headers = {"Authorization": f"Bearer {data['token']}"}
    client = app.test_client()

    def api(per_page):
        url = "/api/v1/nominations?" + urlencode(
            {"status": "submitted", "district": "zhezkazgan", "q": q, "per_page": per_page}
        )

        def call():
            response = client.get(url, headers=headers)
            body = response.get_json(silent=True) or {}
            return response.status_code, body.get("total")

        return call

    api_runs = [
        measure(counter, f"api per_page {n}", api(n), warmup=args.warmup, requests=args.requests) for n in (25, 100)
    ]
    results.append((f"API list (status=submitted, district=zhezkazgan, q={q})", api_runs, ""))

    routes = {rule.rule for rule in app.url_map.iter_rules()}
    html = "/staff/nominations/" in routes and "/staff/nominations/queue" in routes
    if html:
        browser = app.test_client()
        response = browser.post("/staff/login", data={"email": "reviewer.zhezkazgan@bench.kz", "password": PASSWORD})
        if response.status_code != 302:
            raise BenchError(f"staff login failed: {response.status_code}")

        def page(url, per_page):
            def call():
                app.config["AWARD_PAGE_SIZE"] = per_page
                response = browser.get(url)
                return response.status_code, None

            return call

        list_url = "/staff/nominations/?" + urlencode({"status": "submitted", "q": q})
        for name, url in (("list page", list_url), ("queue page", "/staff/nominations/queue")):
            runs = [
                measure(counter, f"{name} per_page {n}", page(url, n), warmup=args.warmup, requests=args.requests)
                for n in (25, 100)
            ]
            results.append((name, runs, f"GET {url} as the Zhezkazgan reviewer"))
    else:
        with app.app_context():
            reviewer = db.session.get(User, data["staff"][("zhezkazgan", "reviewer")])
            _ = reviewer.roles  # loaded before the session goes
            db.session.expunge(reviewer)

        def paginate(stmt_factory, per_page):
            def call():
                with app.test_request_context():
                    pagination = db.paginate(stmt_factory(), page=1, per_page=per_page, error_out=False)
                    for n in pagination.items:  # what a row of the page shows
                        _ = (
                            n.nominee.full_name,
                            n.nominee.iin,
                            n.nominee.birth_date,
                            n.district.name_kk,
                            n.medal.name_kk,
                            n.status,
                            n.possible_duplicate,
                        )
                    db.session.remove()
                    return 200, pagination.total

            return call

        for name, factory in (
            ("list page", lambda: lists.list_query(reviewer, status="submitted", q=q)),
            ("queue page", lambda: lists.queue_query(reviewer).order_by(None).order_by(service.Nomination.id)),
        ):
            runs = [
                measure(
                    counter, f"{name} per_page {n}", paginate(factory, n), warmup=args.warmup, requests=args.requests
                )
                for n in (25, 100)
            ]
            results.append(
                (name, runs, "not measured as a page (no /staff/nominations routes): service query through db.paginate")
            )
    return results


def report_pages(app, counter, data, args, *, plans_wanted: bool = True) -> tuple[list[str], bool]:
    """The figures of every page, and whether one was over the target."""
    from award_service.extensions import db

    lines, plans, over = [], [], False
    for name, runs, note in pages(app, counter, data, args):
        a, b = runs
        bad = [m for m in runs if m.status != 200]
        total = f"; {a.total:,} match" if a.total is not None else ""
        lines.append(
            f"{name}: {describe(a)} (per_page 25) / {describe(b)} (per_page 100){total}"
            + (f" — HTTP {bad[0].status}!" if bad else "")
        )
        if note:
            lines.append(f"  {note}")
        grows = max(b.queries) > max(a.queries)
        within = max(a.median, b.median) <= TARGET_MS
        cpu_within = max(a.cpu_app + a.cpu_pg, b.cpu_app + b.cpu_pg) <= TARGET_MS
        over = over or not within
        lines.append(
            f"  SQL queries {'GROW' if grows else 'do not grow'} with the page size; slowest statement "
            f"{max(a.slowest[0], b.slowest[0]) * 1000:.1f} ms; median {'within' if within else 'OVER'} the "
            f"{TARGET_MS:.0f} ms target, CPU per page {'within' if cpu_within else 'OVER'} it"
        )
        for m in runs:
            if plans_wanted and (args.explain or m.median > TARGET_MS):
                with app.app_context():
                    plans.append((m, explain(db.engine, m.slowest[1], m.slowest[2])))
    for m, plan in plans:
        lines.append(f"EXPLAIN ANALYZE of the slowest statement of {m.label} ({m.slowest[0] * 1000:.1f} ms):")
        lines.append("  " + short_sql(m.slowest[1]))
        lines.extend("    " + line for line in plan.splitlines())
    return lines, over


# ------------------------------------------------------------------ import


def _xlsx(columns, rows, *, excel_like: bool) -> bytes:
    """The rows as an XLSX file.  ``excel_like``: as Excel and LibreOffice save
    it, text in the shared-strings table and dates as date cells (made with
    XlsxWriter); otherwise as openpyxl writes it, every text inline in its cell
    (slower to read: each inline string is its own XML element to parse)."""
    buffer = io.BytesIO()
    if excel_like:
        import xlsxwriter

        workbook = xlsxwriter.Workbook(
            buffer,
            {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False},
        )
        sheet = workbook.add_worksheet()
        date_format = workbook.add_format({"num_format": "dd.mm.yyyy"})
        sheet.write_row(0, 0, columns)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row):
                if isinstance(value, date):
                    sheet.write_datetime(r, c, datetime(value.year, value.month, value.day), date_format)
                elif value is not None:
                    sheet.write(r, c, value)
        workbook.close()
    else:
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet()
        sheet.append(columns)
        for row in rows:
            sheet.append(row)
        workbook.save(buffer)
    return buffer.getvalue()


def import_xlsx(app, counter, data, args) -> list[str]:
    """Import ``--import-rows`` new nominations from an Excel-like file, then
    as many again from an openpyxl-written one: parse and save timed apart."""
    from award_service.accounts.models import User
    from award_service.actor import Actor
    from award_service.extensions import db
    from award_service.nominations import importer

    if args.import_rows <= 0:
        return []
    people: People = data["people"]
    rng = people.rng
    columns = list(importer.COLUMNS)
    user = db.session.get(User, data["staff"][("zhezkazgan", "nominator")])
    lines = []
    for excel_like in (True, False):
        rows = []
        for _ in range(args.import_rows):
            p = people.person("zhezkazgan", weighted(rng, CATEGORIES))
            row = {**p, "district": "zhezkazgan", "medal": "victory80"}
            rows.append([row.get(c) for c in columns])
        t0 = time.perf_counter()
        content = _xlsx(columns, rows, excel_like=excel_like)
        made = time.perf_counter() - t0
        kind = "as Excel saves it (shared strings)" if excel_like else "as openpyxl writes it (inline strings)"
        pg0, app0 = counter.backend_cpu.seconds(), time.process_time()
        with counter.counting():
            t0 = time.perf_counter()
            preview = importer.parse_upload(db.session, user, "nominations.xlsx", content)
            parsed = time.perf_counter() - t0
        parse_queries = counter.count
        if preview.errors:
            first = "; ".join(f"row {e.row} {e.column}: {e.message}" for e in preview.errors[:3])
            lines.append(
                f"import {args.import_rows:,} rows XLSX {kind}: parse {parsed:.1f} s, then not saved: "
                f"{len(preview.errors)} errors ({first})"
            )
            continue
        with counter.counting():
            t1 = time.perf_counter()
            saved = importer.save(db.session, Actor(user=user), preview)
            stored = time.perf_counter() - t1
        save_queries = counter.count
        app_cpu, pg_cpu = time.process_time() - app0, counter.backend_cpu.seconds() - pg0
        flagged = sum(1 for r in preview.rows if r.get("possible_duplicate"))
        total = parsed + stored
        verdict = "within" if total <= TARGET_IMPORT_S else "over"
        lines.append(
            f"import {args.import_rows:,} rows XLSX {kind}: {total:.1f} s (parse {parsed:.1f} s in {parse_queries} "
            f"SQL queries, save {stored:.1f} s in {save_queries}; CPU {app_cpu + pg_cpu:.1f} s: app {app_cpu:.1f} + "
            f"PostgreSQL {pg_cpu:.1f}; {saved:,} saved, {flagged} flagged as likely duplicates; file "
            f"{len(content) / 1024:.0f} KB made in {made:.1f} s, not counted) — {verdict} the "
            f"{TARGET_IMPORT_S:.0f} s target"
        )
    return lines


# ------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--nominations", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--import-rows", type=int, default=10_000)
    parser.add_argument("--q", default="Ахмет", help="the name fragment searched for (default: Ахмет)")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE every page's slowest statement")
    parser.add_argument("--keep", action="store_true", help="keep the database for a closer look (not dropped)")
    args = parser.parse_args()

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    lines: list[str] = []
    try:
        with migrated_database(args.pg, "award_bench_nominations", keep=args.keep) as (url, database):
            run(url, database, args, lines)
    except BenchError as exc:
        print("\n".join(lines))
        print(f"benchmark could not run: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\n".join(lines))
        print("interrupted", file=sys.stderr)
        return 130
    except Exception:
        print("\n".join(lines))
        raise
    print("\n".join(lines))
    return 0


def run(url: str, database, args, lines: list[str]) -> None:
    """Fill the database, then measure the pages and the import into ``lines``."""
    from sqlalchemy import text

    from award_service import create_app
    from award_service.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": SECRET_KEY,
            "WTF_CSRF_ENABLED": False,
            "AWARD_RATELIMIT_ENABLED": False,
            "AWARD_BASE_URL": "http://bench.test",
        }
    )
    # The requests run outside any app context of ours, as in a server: each
    # gets its own context and database session, removed when it ends.
    with app.app_context():
        data = setup(app, args)
        counter = StatementCounter(db.engine)
        counter.backend_cpu = BackendCPU(args.pg, database.name)
        server = db.session.execute(text("SHOW server_version")).scalar()
        db.session.remove()
    lines.append(
        f"nominations: {args.nominations:,} in PostgreSQL {server} (generated in "
        f"{data['generated']:.1f} s, inserted in {data['inserted']:.1f} s); {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.2f}; {args.requests} requests per figure after "
        f"{args.warmup} warm-up"
    )
    try:
        log("measuring pages")
        page_lines, _ = report_pages(app, counter, data, args)
        lines.extend(page_lines)
        lines.append(
            f"  load average after the pages: {os.getloadavg()[0]:.2f} (other work on this "
            f"shared machine slows every figure)"
        )
        log("import")
        with app.app_context():
            try:
                lines.extend(import_xlsx(app, counter, data, args))
            finally:
                db.session.remove()
    finally:
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
