#!/usr/bin/env python3
"""Where one confirmation's sending time goes: a companion to bench/registration.py.

In one process, against a fresh PostgreSQL database (dropped at the end): N
registrations with an e-mail are made through the JSON API (their
confirmations handed to a broker no worker reads, Redis db 12, emptied
first and at the end), then the sender sends them in batches as the Celery
task ``send_messages`` would (``sending.deliver``), written as .eml files to a
temporary folder (removed at the end).  Prints, per message:

* wall time, CPU of this process, and the time waiting on PostgreSQL;
* every round trip to PostgreSQL (counted at the psycopg level);
* the size of the ticket and of the whole message;
* the app's functions by cumulative time and own time by package (cProfile).

    .venv/bin/python bench/profile_mail.py [-n 300] [--batch 50] [--top 25]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _harness import print_profile_summary  # noqa: E402
from profile_registration import _empty_redis, count_round_trips, fresh_database, registration_post  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=300, help="messages per measurement (default 300)")
    parser.add_argument("--batch", type=int, default=50, help="ids a task carries (default 50)")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/12")
    args = parser.parse_args(argv)

    for key in [k for k in os.environ if k.startswith("AWARD_")]:
        del os.environ[key]
    os.environ.update(
        SECRET_KEY="award-bench-not-a-secret",
        AWARD_ENV="production",
        AWARD_RATELIMIT_ENABLED="false",
        AWARD_BASE_URL="http://127.0.0.1:5000",
        AWARD_CELERY_BROKER_URL=args.broker,
    )
    mail_dir = Path(tempfile.mkdtemp(prefix="award_prof_mail_"))
    os.environ["AWARD_MAIL_DIR"] = str(mail_dir)
    _empty_redis(args.broker)
    try:
        with fresh_database(args.pg, "prof_mail") as url:
            os.environ["DATABASE_URL"] = url
            post, _engine, dispose, app = registration_post(with_app=True)
            try:
                run(app, post, args, mail_dir)
            finally:
                dispose()
    finally:
        _empty_redis(args.broker)
        shutil.rmtree(mail_dir, ignore_errors=True)
    return 0


def run(app, post, args, mail_dir: Path) -> None:
    from sqlalchemy import select

    from award_service.extensions import db
    from award_service.mail import sending
    from award_service.mail.models import OutboxMessage

    n, batch = args.n, args.batch
    for i in range(3 * n + 20):
        post(i, "m")

    def queued(limit: int) -> list[int]:
        with app.app_context():
            ids = list(
                db.session.scalars(
                    select(OutboxMessage.id)
                    .where(OutboxMessage.status == "queued")
                    .order_by(OutboxMessage.id)
                    .limit(limit)
                )
            )
            db.session.remove()
        return ids

    def send(ids: list[int]) -> None:
        with app.app_context():
            for start in range(0, len(ids), batch):
                counts = sending.deliver(db.session, ids[start : start + batch])
                if counts.get("sent") != len(ids[start : start + batch]):
                    raise SystemExit(f"not all sent: {counts}")
            db.session.remove()

    send(queued(20))  # warm-up: templates, fonts, statement caches, the pool
    ids = queued(n)
    with count_round_trips() as trips:
        t0, c0 = time.perf_counter(), time.process_time()
        send(ids)
        wall, cpu = (time.perf_counter() - t0) / n, (time.process_time() - c0) / n
    print(
        f"sending {n} confirmations in tasks of {batch}: {wall * 1000:.2f} ms wall a message "
        f"({1 / wall:,.0f} messages/s on one core); CPU in this process {cpu * 1000:.2f} ms, "
        f"waiting {(wall - cpu) * 1000:.2f} ms"
    )
    print(
        f"  round trips to PostgreSQL a message: {sum(trips.values()) / n:.1f}: "
        + "; ".join(f"{k} x{v / n:.2f}" for k, v in sorted(trips.items(), key=lambda kv: -kv[1]))
    )
    emls = sorted(mail_dir.glob("*.eml"))
    sizes = [p.stat().st_size for p in emls[-n:]]
    print(f"  message size: {sum(sizes) / len(sizes) / 1024:.1f} KB on average (.eml, base64 included)")
    import email

    with open(emls[-1], "rb") as fh:
        parsed = email.message_from_binary_file(fh)
    for part in parsed.walk():
        if part.get_filename():
            print(f"  attachment {part.get_filename()}: {len(part.get_payload(decode=True)) / 1024:.1f} KB")

    ids = queued(n)
    profile = cProfile.Profile()
    profile.enable()
    send(ids)
    profile.disable()
    stats = pstats.Stats(profile)
    total = sum(tt for (_f, _l, _fn), (_cc, _nc, tt, _ct, _callers) in stats.stats.items())
    print_profile_summary(stats, n, total, "message", args.top, 15)
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(args.top)
    text = out.getvalue()
    print(f"\n--- cProfile, {n} messages, sorted by own time ---")
    print(text[text.find("   ncalls") :].rstrip().replace(str(ROOT / ".venv/lib/python3.11/site-packages") + "/", ""))


if __name__ == "__main__":
    sys.exit(main())
