"""Run the processes of ``deploy/Procfile`` together, and stop them together (``make serve``).

    python deploy/serve.py [deploy/Procfile]

Each process runs in a process group of its own (its children -- gunicorn's
workers, Celery's pool -- with it) and is told to stop, by SIGTERM to its whole
group, when this supervisor gets SIGINT (Ctrl-C) or SIGTERM, or when any of the
processes ends.  Whatever is still running ``SERVE_STOP_SECONDS`` later (20)
gets SIGKILL.  Each group leader also gets SIGTERM from the kernel if the
supervisor itself dies, even by SIGKILL (Linux's parent-death signal), so no
process is left behind; the supervisor asks the same of its own parent
(``make``).  Exit status: the first process's that ended on its own, or 128 +
the signal that stopped the supervisor.

Why not a Procfile manager from PyPI (honcho, foreman's Python port): it would
be a dependency for a local trial only (systemd runs production), and honcho
kills what has not stopped five seconds after SIGTERM -- less than gunicorn's
graceful timeout -- and leaves the processes running if it is killed itself.
The standard library does this in a page.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINE = re.compile(r"^([A-Za-z0-9_]+):\s*(.+)$")
PR_SET_PDEATHSIG = 1


def read_procfile(path: Path) -> dict[str, str]:
    processes = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = LINE.match(line.strip())
        if match and not line.lstrip().startswith("#"):
            processes[match.group(1)] = match.group(2)
    if not processes:
        raise SystemExit(f"{path}: no processes")
    return processes


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the supervisor dies (Linux)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def say(message: str) -> None:
    print(f"serve | {message}", file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    procfile = Path(argv[1]) if len(argv) > 1 else ROOT / "deploy" / "Procfile"
    parent = os.getppid()
    _die_with_parent()  # `make serve` killed alone (not its group): stop as on SIGTERM
    if os.getppid() != parent:
        return 1  # the parent died before the line above
    grace = float(os.environ.get("SERVE_STOP_SECONDS", "20"))
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("PYTHONUNBUFFERED", "1")

    stop_signal: list[int] = []

    def on_signal(signum, frame):
        if not stop_signal:
            stop_signal.append(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    running: dict[str, subprocess.Popen] = {}
    for name, command in read_procfile(procfile).items():
        running[name] = subprocess.Popen(
            ["/bin/sh", "-c", f"exec {command}"],
            cwd=ROOT,
            env=env,
            start_new_session=True,  # its own process group: stopped with its children
            preexec_fn=_die_with_parent,
        )
        say(f"{name} started (pid {running[name].pid}): {command}")

    status: int | None = None
    while not stop_signal and status is None:
        for name, process in running.items():
            code = process.poll()
            if code is not None:
                say(f"{name} ended (exit status {code}); stopping the others")
                status = code or 1
                break
        else:
            time.sleep(0.2)
    if stop_signal:
        say(f"{signal.Signals(stop_signal[0]).name} received; stopping")
        status = 128 + stop_signal[0]

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C does not cut the shutdown short
    _signal_all(running, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(p.poll() is None for p in running.values()):
        time.sleep(0.1)
    late = [name for name, p in running.items() if p.poll() is None]
    if late:
        say(f"still running after {grace:g} s, killed: {', '.join(late)}")
    _signal_all(running, signal.SIGKILL)  # also any child left in a group whose leader ended
    for name, process in running.items():
        process.wait()
        say(f"{name} stopped (exit status {process.returncode})")
    return status if status is not None else 0


def _signal_all(running: dict[str, subprocess.Popen], signum: int) -> None:
    for process in running.values():
        with contextlib.suppress(ProcessLookupError):  # the whole group has ended
            os.killpg(process.pid, signum)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
