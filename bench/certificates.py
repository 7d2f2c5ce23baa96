#!/usr/bin/env python3
"""Benchmark: certificate PDFs, against the ceiling of a minimal reportlab page.

Prints figures; never passes or fails.  In one run, one process:

1. ``write_certificates`` of ``--pages`` certificates with varied Kazakh,
   Russian and Kazakh-Latin names (made lazily, so the input list does not
   count in the memory figures) into a temporary file: pages/s and
   certificates/s; the process's RSS high-water mark afterwards;
2. the same renderer under tracemalloc for the full batch and a tenth of it:
   the peak of Python allocations must not grow with the batch;
3. the ceiling: a minimal page (the frame as a Form XObject, one line of text,
   one QR code from zxing-cpp drawn as one path of merged runs) with a plain
   reportlab Canvas, the same number of times, saved to a temporary file;
4. one ``certificate_pdf()`` call: median and p95 over ``--single`` calls;
5. one certificate request, ``GET /api/v1/awards/<serial>/certificate.pdf``,
   through the app (Flask test client, in this process) on a fresh PostgreSQL
   database (``--pg``; migrated, an approved nomination, a clerk's token;
   dropped at the end): server time per request, median and p95 over
   ``--requests`` requests.  ``--pg ''`` skips it;
6. on the same database, ``GET /api/v1/awards/batch.pdf?medal=victory80``
   with 1,000 and then 10,000 awards in the register (``--batch-request``),
   read chunk by chunk as a client would: time and the tracemalloc peak of the
   whole request, rows from the database included (it must not grow with the
   batch).

    .venv/bin/python bench/certificates.py [--pages 2000] [--format a4|card] [--single 200]
                                           [--requests 200] [--pg postgresql://postgres@127.0.0.1:5432/postgres]
                                           [--profile]

``--profile`` runs the batch once more under cProfile and prints the top
functions by own time.

Sections are functions taking plain arguments (``sample_items``,
``bench_batch``, ``bench_memory``, ``bench_ceiling``, ``bench_single``), so a
section timing a certificate request through the app can be added beside them.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import gc
import os
import pstats
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "bench"))

from _pg import SECRET_KEY, BenchError, migrated_database  # noqa: E402

from award_service.pdf import CertificateContent, certificate_pdf, write_certificates  # noqa: E402
from award_service.pdf.layouts import FORMAT_LAYOUTS  # noqa: E402

SURNAMES = [
    "Әбдіқалықов",
    "Жанболатов",
    "Джанбулатов",
    "Сейітқасымов",
    "Нұрмағамбетов",
    "Қасымов",
    "Өтегенов",
    "Ұзақбаев",
    "Үсенов",
    "Ғабдуллин",
    "Һашимов",
    "Іргебаев",
    "Иванов",
    "Петренко",
    "Ким",
    "Шевченко",
    "Абдрахманов-Нұрмағамбетов",
    "Bekmağambetov",
    "Şäkenov",
    "Ūlyqbekov",
]
GIVEN = [
    "Гүлжазира",
    "Мұхамедқали",
    "Әлия",
    "Ерғали",
    "Нұрсұлтан",
    "Айгерім",
    "Қайрат",
    "Өмірзақ",
    "Ұлбосын",
    "Иван",
    "Мария",
    "Сергей",
    "Däulet",
    "Ñurğali",
    "Ülbike",
    "İlyas",
]
PATRONYMICS = [
    "Нұрсұлтанқызы",
    "Сейітқасымұлы",
    "Әбдікерімұлы",
    "Қасымқызы",
    "Иванович",
    "Петровна",
    "Ерғалиұлы",
    "",
    "",
    "Ömirzaqūly",
]


def sample_items(n: int, seed: int = 80, signature: bytes | None = None) -> Iterator[CertificateContent]:
    """n certificates with varied names, made one at a time."""
    rnd = random.Random(seed)
    for i in range(1, n + 1):
        name = " ".join(p for p in (rnd.choice(SURNAMES), rnd.choice(GIVEN), rnd.choice(PATRONYMICS)) if p)
        code = "".join(rnd.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(16))
        yield CertificateContent(
            full_name=name,
            medal_name_kk="1941–1945 жж. Ұлы Отан соғысындағы Жеңістің 80 жылы",
            medal_name_ru="80 лет Победы в Великой Отечественной войне 1941–1945 гг.",
            serial=f"ULY-{i:05d}",
            decree_number="45",
            decree_date=datetime.date(2025, 4, 28),
            signer_title_kk="Ұлытау облысының әкімі",
            signer_title_ru="Аким области Ұлытау",
            signer_name="Д. Б. Әбдікерім",
            verify_url=f"https://awards.example.kz/v/{code}",
            verify_code=code,
            signature_image=signature,
        )


def rss_high_water_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def bench_batch(n: int, fmt: str) -> dict:
    with tempfile.TemporaryFile() as out:
        gc.collect()
        start = time.perf_counter()
        pages = write_certificates(sample_items(n), fmt, out)
        seconds = time.perf_counter() - start
        size = out.tell()
    return {"certificates": n, "pages": pages, "seconds": seconds, "bytes": size}


def bench_memory(n: int, fmt: str) -> int:
    """Peak bytes allocated by Python while streaming n certificates (to /dev/null)."""
    with open(os.devnull, "wb") as out:
        gc.collect()
        tracemalloc.start()
        write_certificates(sample_items(n), fmt, out)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def bench_ceiling(n: int) -> dict:
    """A minimal page the usual reportlab way: Canvas, the frame as a form, one line of
    text in an embedded TrueType font, a QR code from zxing-cpp as one path of merged
    horizontal runs.  The Canvas keeps all pages until save()."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.pdfgen.canvas import Canvas

    from award_service.pdf import fonts, qr

    font = fonts.font("serif-bold")  # registered with pdfmetrics once per process
    items = sample_items(n)
    w, h = landscape(A4)
    with tempfile.TemporaryFile() as out:
        gc.collect()
        start = time.perf_counter()
        c = Canvas(out, pagesize=(w, h))
        c.beginForm("frame")
        c.setLineWidth(3)
        c.rect(20, 20, w - 40, h - 40)
        c.setLineWidth(1)
        c.rect(30, 30, w - 60, h - 60)
        c.endForm()
        for item in items:
            c.doForm("frame")
            c.setFont(font.fontName, 24)
            c.drawCentredString(w / 2, h / 2, item.full_name)
            size, matrix = qr.qr_matrix(item.verify_url)
            module = 100 / size
            p = c.beginPath()
            for x, y, length in qr.runs(size, matrix):
                p.rect(w - 150 + x * module, 60 + y * module, length * module, module)
            c.drawPath(p, stroke=0, fill=1)
            c.showPage()
        c.save()
        seconds = time.perf_counter() - start
    return {"pages": n, "seconds": seconds}


def bench_single(fmt: str, repeat: int) -> list[float]:
    item = next(sample_items(1, seed=1))
    certificate_pdf(item, fmt)  # warm: fonts loaded, caches filled
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        certificate_pdf(item, fmt)
        times.append((time.perf_counter() - start) * 1000)
    return times


def _more_awards(db, count: int, template_nomination_id: int) -> None:
    """``count`` more awards of the medal, written with Core (nominees,
    nominations, awards), names from ``sample_items``."""
    from sqlalchemy import func, insert, select

    from award_service.awards.collation import sort_key
    from award_service.awards.models import Award
    from award_service.medals.models import Medal
    from award_service.nominations.models import Nomination, Nominee
    from award_service.timeutil import utcnow

    session = db.session
    template = session.get(Nomination, template_nomination_id)
    nominee = template.nominee
    start = session.scalar(select(func.max(Award.number))) or 0
    now = utcnow()
    names = [item.full_name for item in sample_items(count, seed=start)]
    nominee_ids = (
        session.execute(
            insert(Nominee).returning(Nominee.id, sort_by_parameter_order=True),
            [
                {
                    "surname": n.split()[0],
                    "given_name": n.split()[1],
                    "patronymic": "",
                    "iin": None,
                    "birth_date": nominee.birth_date,
                    "category": nominee.category,
                    "district_id": nominee.district_id,
                    "address": "",
                    "phone": None,
                    "search_key": "",
                    "name_skeleton": "",
                    "created_at": now,
                }
                for n in names
            ],
        )
        .scalars()
        .all()
    )
    nomination_ids = (
        session.execute(
            insert(Nomination).returning(Nomination.id, sort_by_parameter_order=True),
            [
                {
                    "nominee_id": i,
                    "medal_id": template.medal_id,
                    "district_id": template.district_id,
                    "iin": None,
                    "search_key": "",
                    "grounds": "",
                    "status": "approved",
                    "version": 4,
                    "possible_duplicate": False,
                    "duplicate_confirmed": False,
                    "last_comment": "",
                    "decree_number": "45",
                    "decree_date": template.decree_date,
                    "approved_by_id": template.approved_by_id,
                    "recommended_by_id": template.recommended_by_id,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in nominee_ids
            ],
        )
        .scalars()
        .all()
    )
    session.execute(
        insert(Award),
        [
            {
                "serial": f"ULY-{start + k:05d}",
                "medal_id": template.medal_id,
                "number": start + k,
                "nomination_id": nid,
                "district_id": template.district_id,
                "full_name": name,
                "sort_key": sort_key(*name.split()[:2]),
                "decree_number": "45",
                "decree_date": template.decree_date,
                "verify_code": f"{start + k:016d}".translate(str.maketrans("0123456789", "ABCDEFGHIJ")),
                "status": "valid",
                "revoke_reason": "",
                "created_at": now,
            }
            for k, (nid, name) in enumerate(zip(nomination_ids, names), start=1)
        ],
    )
    session.execute(Medal.__table__.update().values(serial_counter=start + count))
    session.commit()


def bench_batch_request(app, db, headers: dict, nomination_id: int, sizes=(1000, 10_000), fmt: str = "a4") -> list:
    """GET /api/v1/awards/batch.pdf with ``sizes`` awards in the register,
    the response read as a client would, chunk by chunk: time, pages/s, and
    the tracemalloc peak of the whole request (database rows, rendering)."""
    results = []
    have = 1
    client = app.test_client()
    for size in sizes:
        with app.app_context():
            _more_awards(db, size - have, nomination_id)
            db.session.remove()
        have = size
        gc.collect()
        tracemalloc.start()
        start = time.perf_counter()
        response = client.get(f"/api/v1/awards/batch.pdf?medal=victory80&format={fmt}", headers=headers, buffered=False)
        received = sum(len(chunk) for chunk in response.response)
        response.close()
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        if response.status_code != 200:
            raise BenchError(f"batch.pdf: {response.status_code}")
        results.append((size, seconds, peak, received))
    return results


def bench_request(pg_url: str, fmt: str, repeat: int, batch_sizes=()) -> tuple[list[float], list]:
    """Server time of GET /api/v1/awards/<serial>/certificate.pdf, in ms; and
    (with ``batch_sizes``) the batch PDF through the app."""
    with migrated_database(pg_url, "award_bench_certificates") as (url, _):
        from award_service import create_app
        from award_service.accounts.service import create_api_token, create_user
        from award_service.actor import Actor
        from award_service.awards.models import Award
        from award_service.extensions import db
        from award_service.medals.service import create_medal
        from award_service.nominations import service, transitions

        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": SECRET_KEY,
                "AWARD_RATELIMIT_ENABLED": False,
                "AWARD_BASE_URL": "https://awards.example.kz",
            }
        )
        with app.app_context():
            system = Actor.system("bench")
            create_medal(
                db.session,
                system,
                {
                    "code": "victory80",
                    "name_kk": "1941–1945 жж. Ұлы Отан соғысындағы Жеңістің 80 жылы",
                    "name_ru": "80 лет Победы в Великой Отечественной войне 1941–1945 гг.",
                    "name_en": "80 Years",
                    "serial_prefix": "ULY",
                    "quotas": {"zhezkazgan": 397},
                    "signer_title_kk": "Ұлытау облысының әкімі",
                    "signer_title_ru": "Аким области Ұлытау",
                    "signer_name": "Б. Т. Сәрсенбаев",
                },
            )
            people = {
                role: Actor(
                    user=create_user(
                        db.session,
                        system,
                        email=f"{role}@bench.kz",
                        name=role,
                        roles=[role],
                        password="bench-password-2025",
                    )
                )
                for role in ("reviewer", "commission", "clerk")
            }
            nomination = service.create_nomination(
                db.session,
                system,
                {
                    "nominee": {
                        "surname": "Әбдіқалықова-Нұрмағамбетова",
                        "given_name": "Гүлжазира",
                        "patronymic": "Сейітқасымқызы",
                        "birth_date": "1927-03-14",
                        "category": "home_front_worker",
                        "district": "zhezkazgan",
                    },
                    "medal": "victory80",
                    "grounds": "Тыл еңбеккері",
                },
            )
            transitions.transition(db.session, system, nomination, "submit")
            transitions.transition(db.session, people["reviewer"], nomination, "recommend")
            transitions.transition(
                db.session, people["commission"], nomination, "approve", decree_number="45", decree_date="2025-04-28"
            )
            serial = db.session.query(Award.serial).scalar()
            nomination_id = nomination.id
            headers = {"Authorization": f"Bearer {create_api_token(db.session, system, people['clerk'].user)}"}
            db.session.remove()
        client = app.test_client()
        path = f"/api/v1/awards/{serial}/certificate.pdf?format={fmt}"
        for _ in range(10):  # warm: fonts, caches, the connection pool
            client.get(path, headers=headers)
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            response = client.get(path, headers=headers)
            times.append((time.perf_counter() - start) * 1000)
            if response.status_code != 200:
                raise BenchError(f"{path}: {response.status_code} {response.data[:200]!r}")
        batches = bench_batch_request(app, db, headers, nomination_id, batch_sizes, fmt) if batch_sizes else []
        with app.app_context():
            db.engine.dispose()
        return times, batches


def profile_batch(n: int, fmt: str, top: int = 25) -> None:
    prof = cProfile.Profile()
    with open(os.devnull, "wb") as out:
        prof.enable()
        write_certificates(sample_items(n), fmt, out)
        prof.disable()
    stats = pstats.Stats(prof, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(top)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=2000, help="certificates in the batch (default 2000)")
    ap.add_argument("--format", choices=sorted(FORMAT_LAYOUTS), default="a4")
    ap.add_argument("--single", type=int, default=200, help="certificate_pdf() calls to time (default 200)")
    ap.add_argument("--requests", type=int, default=200, help="certificate requests to time (default 200)")
    ap.add_argument(
        "--pg",
        default=os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="PostgreSQL server for the request section ('' skips it)",
    )
    ap.add_argument(
        "--batch-request",
        default="1000,10000",
        help="awards in the register for the batch.pdf requests, comma-separated ('' skips)",
    )
    ap.add_argument("--profile", action="store_true", help="also profile the batch with cProfile")
    args = ap.parse_args(argv)
    n, fmt = args.pages, args.format

    print(f"certificates: {n} in format {fmt!r}, Python {sys.version.split()[0]}, pid {os.getpid()}")
    bench_single(fmt, 3)  # load fonts, warm caches before timing anything

    batch = bench_batch(n, fmt)
    rate = batch["pages"] / batch["seconds"]
    print(f"certificates: {rate:.0f} pages/s")
    print(
        f"  {batch['pages']} pages ({n} certificates, {n / batch['seconds']:.0f} certificates/s) in "
        f"{batch['seconds']:.2f} s, {batch['bytes'] / 1e6:.1f} MB, "
        f"{batch['bytes'] / max(batch['pages'], 1) / 1024:.1f} KiB a page"
    )
    print(f"  RSS high-water after the batch: {rss_high_water_mib():.1f} MiB")

    small = max(n // 10, 1)
    peak_small = bench_memory(small, fmt)
    peak_full = bench_memory(n, fmt)
    print(
        f"  tracemalloc peak: {peak_small / 2**20:.2f} MiB for {small} certificates, "
        f"{peak_full / 2**20:.2f} MiB for {n} (ratio {peak_full / peak_small:.2f})"
    )

    ceiling = bench_ceiling(n)
    ceiling_rate = ceiling["pages"] / ceiling["seconds"]
    print(f"ceiling: {ceiling_rate:.0f} pages/s")
    print(
        f"  (reportlab Canvas, frame form + one line + one QR path, {n} pages in {ceiling['seconds']:.2f} s;"
        f" RSS high-water now {rss_high_water_mib():.1f} MiB: the Canvas keeps every page until save())"
    )
    print(
        f"  ratio pages/s: {rate / ceiling_rate:.2f}; ratio certificates/s to ceiling pages/s "
        f"(one name and one QR each): {n / batch['seconds'] / ceiling_rate:.2f}"
    )

    times = bench_single(fmt, args.single)
    p95 = sorted(times)[int(len(times) * 0.95) - 1]
    print(
        f"single certificate_pdf(): median {statistics.median(times):.2f} ms, p95 {p95:.2f} ms over {len(times)} calls"
    )
    if args.pg:
        sizes = tuple(int(x) for x in args.batch_request.split(",") if x.strip())
        try:
            times, batches = bench_request(args.pg, fmt, args.requests, sizes)
        except BenchError as exc:
            print(f"certificate request: not measured: {exc}")
        else:
            for size, seconds, peak, received in batches:
                print(
                    f"batch request GET /api/v1/awards/batch.pdf, {size:,} certificates: {seconds:.1f} s "
                    f"({size / seconds:.0f} certificates/s through the app, PostgreSQL), {received / 1e6:.1f} MB "
                    f"streamed, tracemalloc peak {peak / 2**20:.2f} MiB"
                )
            p95 = sorted(times)[int(len(times) * 0.95) - 1]
            print(
                f"certificate request GET /api/v1/awards/<serial>/certificate.pdf (PostgreSQL, in-process): "
                f"median {statistics.median(times):.2f} ms, p95 {p95:.2f} ms over {len(times)} requests "
                f"(target 20 ms)"
            )
    print(f"RSS high-water at the end: {rss_high_water_mib():.1f} MiB")

    if args.profile:
        profile_batch(min(n, 2000), fmt)
    return 0


if __name__ == "__main__":
    sys.exit(main())
