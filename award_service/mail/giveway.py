"""The sender gives way to the web tier on a shared machine.

On a one-box deployment the mail worker runs beside gunicorn at the lowest CPU
priority, so that a burst of registrations is answered first and its mail goes
out afterwards.  Priority alone does not do it on a virtual machine: measured
on the 2-core development VM (``bench/registration.py --mail
worker-during-load``), a busy loop in a ``cpu.idle`` cgroup at nice 19 still
cut the web tier's registrations from ~870 to ~630 a second, because the
hypervisor shares the physical cores below the guest's scheduler.  So the
sender holds back by itself: before each batch it looks at how much of the
machine's CPU the rest of the machine used (``/proc/stat``, less the sender's
own thread), and while that is above ``AWARD_MAIL_GIVE_WAY_CPU`` it waits, for
at most ``AWARD_MAIL_GIVE_WAY_SECONDS`` in one busy spell; then it sends anyway
(a burst longer than that gets its mail at the scheduler's priority).  The
share is measured over the time since the previous batch, so a quiet machine
costs no waiting at all.  0 turns it off; where ``/proc/stat`` cannot be read it
is off.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from typing import Any

log = logging.getLogger(__name__)

PROC_STAT = "/proc/stat"
MIN_TICKS = 10  # a shorter window says too little (a tick is 10 ms of one CPU)
_local = threading.local()  # one per thread: the own-CPU reading is the thread's


def _cpu_ticks() -> tuple[int, int] | None:
    """(busy, total) clock ticks of all CPUs since boot."""
    try:
        with open(PROC_STAT, "rb") as fh:
            fields = fh.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != b"cpu":
        return None
    # user nice system idle iowait irq softirq steal
    values = [int(v) for v in fields[1:9]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class GiveWay:
    """Holds the calling thread back while other work keeps the machine's CPU busy."""

    INTERVAL = 0.25  # seconds between looks while holding

    def __init__(self, share: float, max_seconds: float, interval: float = INTERVAL):
        self.share = share
        self.max_seconds = max_seconds
        self.interval = interval
        self.held = 0.0  # seconds held in the current busy spell
        self.tick = os.sysconf("SC_CLK_TCK")
        self._mark = self._snapshot()

    @classmethod
    def for_thread(cls, config: Mapping[str, Any]) -> GiveWay | None:
        """This thread's instance for these settings (None: off), kept between
        calls so that the first batch of a task is measured too."""
        share = float(config.get("AWARD_MAIL_GIVE_WAY_CPU") or 0)
        if share <= 0 or _cpu_ticks() is None:
            return None
        seconds = float(config.get("AWARD_MAIL_GIVE_WAY_SECONDS") or 0)
        mine = getattr(_local, "give_way", None)
        if mine is None or (mine.share, mine.max_seconds) != (share, seconds):
            mine = _local.give_way = cls(share, seconds)
        return mine

    def _snapshot(self) -> tuple[int, int, float] | None:
        ticks = _cpu_ticks()
        return None if ticks is None else (*ticks, time.thread_time())

    def others_share(self) -> float | None:
        """The share of all CPUs the rest of the machine used since the last look
        (None: nothing measurable yet)."""
        now, before = self._snapshot(), self._mark
        if now is None or before is None:
            self._mark = now
            return None
        if now[1] - before[1] < MIN_TICKS:
            return None  # too short to tell; the window goes on from the same mark
        self._mark = now
        own = (now[2] - before[2]) * self.tick
        busy = max(now[0] - before[0] - own, 0.0)
        return busy / (now[1] - before[1])

    def wait(self) -> float:
        """Wait while the machine is busy (within this spell's allowance); the
        seconds waited."""
        waited = 0.0
        while True:
            share = self.others_share()
            if share is None or share < self.share:
                self.held = 0.0  # quiet: a new spell may be waited out again
                break
            if self.held >= self.max_seconds:
                break  # this spell's allowance is used: send anyway
            time.sleep(self.interval)
            self.held += self.interval
            waited += self.interval
        if waited:
            log.info("outbox: gave way to other work for %.2f s", waited)
        return waited
