"""Rate limits kept in Redis (AWARD_REDIS_URL) while that Redis goes away: the
requests are answered as usual, limited by this process's memory, and the
limits return to Redis when it is back.  A redis-server of the test's own on a
free port, killed mid-test (never the machine's shared one)."""

from __future__ import annotations

import time

from .test_mail_helpers import own_redis  # noqa: F401  (fixture)

CODE = "AAAAAAAAAAAAAAAA"  # no such certificate: 404 after the limit is counted


def test_rate_limits_fall_back_to_memory_while_redis_is_down(make_app, own_redis):
    app = make_app(AWARD_RATELIMIT_ENABLED=True, AWARD_REDIS_URL=own_redis.url, AWARD_VERIFY_RATE_LIMIT="3 per minute")
    assert app.config["RATELIMIT_STORAGE_URI"] == own_redis.url
    client = app.test_client()

    def four() -> list[int]:
        return [client.get(f"/api/v1/verify/{CODE}").status_code for _ in range(4)]

    assert four() == [404, 404, 404, 429]
    assert own_redis.keys("LIMITS*")  # counted in Redis

    own_redis.stop()
    started = time.monotonic()
    answers = four()
    took = time.monotonic() - started
    # Answered as usual (not 500), and still limited: by this process's memory, from zero.
    assert answers == [404, 404, 404, 429]
    assert took < 3, f"four requests took {took:.1f} s with Redis down"
    response = client.get(f"/api/v1/verify/{CODE}")
    assert response.status_code == 429 and response.json["error"]["code"] == "rate_limited"

    # Redis back (empty: it kept nothing): within seconds the limiter checks it again and counts there.
    own_redis.start()
    deadline = time.monotonic() + 20
    while not own_redis.keys("LIMITS*") and time.monotonic() < deadline:
        assert client.get(f"/api/v1/verify/{CODE}").status_code in (404, 429)
        time.sleep(0.25)
    assert own_redis.keys("LIMITS*"), "the limiter did not return to Redis within 20 s"
