"""The sender gives way while the rest of the machine keeps its CPU busy
(award_service/mail/giveway.py), measured from the kernel's /proc/stat."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from award_service.mail.giveway import GiveWay, _cpu_ticks

pytestmark = pytest.mark.skipif(_cpu_ticks() is None, reason="needs Linux's /proc/stat")


def test_other_processes_busy_on_every_cpu_are_seen_and_the_own_thread_is_not():
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 1)]
    try:
        time.sleep(0.3)  # started
        gauge = GiveWay(share=0.5, max_seconds=0)
        time.sleep(0.5)
        assert gauge.others_share() >= 0.7  # the burners, on every CPU
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()

    gauge = GiveWay(share=0.5, max_seconds=0)
    deadline = time.thread_time() + 0.4
    while time.thread_time() < deadline:  # this thread busy: not counted as "others"
        pass
    assert gauge.others_share() < 0.7  # one CPU of this thread would be >= 1/cpus of the machine otherwise


def test_it_holds_for_at_most_its_allowance_a_spell_then_sends():
    always_busy = GiveWay(share=-1, max_seconds=0.5, interval=0.1)  # any share is "busy"
    time.sleep(0.25)  # a measurable window
    started = time.monotonic()
    waited = always_busy.wait()
    assert 0.5 <= waited <= 0.6 and time.monotonic() - started >= 0.5
    time.sleep(0.25)
    assert always_busy.wait() == 0  # the spell's allowance is used: no more waiting


def test_a_quiet_share_costs_no_waiting():
    never_busy = GiveWay(share=1.01, max_seconds=10, interval=0.1)  # no machine is busier than all of it
    time.sleep(0.25)
    assert never_busy.wait() == 0 and never_busy.held == 0


def test_it_is_configured_per_thread_and_off_at_zero():
    assert GiveWay.for_thread({"AWARD_MAIL_GIVE_WAY_CPU": 0}) is None
    first = GiveWay.for_thread({"AWARD_MAIL_GIVE_WAY_CPU": 0.6, "AWARD_MAIL_GIVE_WAY_SECONDS": 20})
    assert first is GiveWay.for_thread({"AWARD_MAIL_GIVE_WAY_CPU": 0.6, "AWARD_MAIL_GIVE_WAY_SECONDS": 20})
    assert (first.share, first.max_seconds) == (0.6, 20)
