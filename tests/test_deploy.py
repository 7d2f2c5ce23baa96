"""The production profile's files, checked by the tools that will read them.

- deploy/gunicorn.conf.py: loaded by gunicorn (``--check-config``, ``--print-config``);
  a refused configuration stops gunicorn and the Celery worker with one line.
- deploy/systemd/*: ``systemd-analyze verify`` on copies whose paths point at this
  checkout's virtualenv (so every ExecStart exists).
- deploy/nginx/award-service.conf: ``nginx -t`` inside a throw-away main config (its
  own prefix, pid, temp paths, a self-signed certificate made by openssl), then the
  same nginx run on free loopback ports in front of the app: redirect, TLS, HSTS,
  the forwarded headers the app trusts, static files, the body limit, /metrics and
  /readyz for the local machine only.
- ``make serve``: gunicorn, the Celery worker and beat start, answer, and all stop
  on SIGTERM or Ctrl-C, leaving no process behind.

nginx is not installed on the machine (its package would start a server on port
80): ``.ci/nginx-binary`` unpacks Debian's binary into a cache and prints its path,
given here as AWARD_NGINX.  A tool that is missing skips its test, unless
AWARD_REQUIRE_DEPLOY_TOOLS=1 (CI), where it fails.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
SITE = DEPLOY / "nginx" / "award-service.conf"
UNITS = sorted((DEPLOY / "systemd").iterdir())
REFUSED_SQLITE = (
    "award-service refused to start: the database is SQLite, which production does not run on: "
    "set DATABASE_URL=postgresql://USER@HOST/DBNAME (README, Deployment)"
)


def tool(name: str, env_var: str | None = None) -> str:
    path = (os.environ.get(env_var) if env_var else None) or shutil.which(name)
    if path and os.access(path, os.X_OK):
        return path
    message = f"{name} is not available" + (f" (set {env_var}; bash .ci/nginx-binary prints one)" if env_var else "")
    if os.environ.get("AWARD_REQUIRE_DEPLOY_TOOLS") == "1":
        pytest.fail(f"AWARD_REQUIRE_DEPLOY_TOOLS=1 but {message}")
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a fresh development install in ``tmp_path``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWARD_", "GUNICORN_", "SERVE_")) and k not in ("DATABASE_URL", "SECRET_KEY")
    }
    env.update(AWARD_INSTANCE_PATH=str(tmp_path / "instance"), PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


# ------------------------------------------------------------------ gunicorn


def test_gunicorn_loads_the_config_and_the_app(tmp_path):
    port = free_port()
    env = clean_env(tmp_path, GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="3")
    gunicorn = [str(BIN / "gunicorn"), "-c", str(DEPLOY / "gunicorn.conf.py")]
    checked = subprocess.run(
        [*gunicorn, "--check-config"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stderr
    printed = subprocess.run(
        [*gunicorn, "--print-config"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert printed.returncode == 0, printed.stderr
    settings = {
        key.strip(): value.strip()
        for key, value in (line.split(" = ", 1) for line in printed.stdout.splitlines() if " = " in line)
    }
    assert settings["bind"] == f"['127.0.0.1:{port}']"
    assert settings["workers"] == "3"
    assert settings["worker_class"] == "sync"
    assert settings["preload_app"] == "False"
    assert settings["wsgi_app"] == "wsgi:app"
    assert settings["control_socket_disable"] == "True"  # no shared ~/.gunicorn/gunicorn.ctl


def test_gunicorn_refuses_a_production_config_in_one_line_and_stops(tmp_path):
    env = clean_env(
        tmp_path, AWARD_ENV="production", SECRET_KEY="s", GUNICORN_BIND=f"127.0.0.1:{free_port()}", GUNICORN_WORKERS="2"
    )
    result = subprocess.run(
        [str(BIN / "gunicorn"), "-c", str(DEPLOY / "gunicorn.conf.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,  # halts at once; a master respawning failing workers would run into this
    )
    # The master refuses while reading its config file: one line, no worker forked.
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().splitlines() == [REFUSED_SQLITE]


def test_gunicorn_without_the_config_file_still_refuses_in_one_line(tmp_path):
    """``gunicorn wsgi:app`` (no deploy/gunicorn.conf.py): each worker says why in one line,
    and the master halts (gunicorn's "App failed to load") instead of respawning them."""
    env = clean_env(tmp_path, AWARD_ENV="production", SECRET_KEY="s")
    result = subprocess.run(
        [str(BIN / "gunicorn"), "-w", "1", "-b", f"127.0.0.1:{free_port()}", "--no-control-socket", "wsgi:app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 4, result.stderr  # APP_LOAD_ERROR: the master halted
    assert [line for line in result.stderr.splitlines() if "refused" in line] == [REFUSED_SQLITE]
    assert "Traceback" not in result.stderr


def test_the_celery_worker_refuses_in_one_line(tmp_path):
    env = clean_env(tmp_path, AWARD_ENV="production", SECRET_KEY="s", AWARD_CELERY_BROKER_URL="redis://127.0.0.1:1/0")
    result = subprocess.run(
        [str(BIN / "celery"), "-A", "award_service.worker", "worker"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [REFUSED_SQLITE]


# ------------------------------------------------------------------ systemd


def render_units(target: Path) -> list[Path]:
    """The units with this checkout's paths, so that systemd finds every command."""
    env_file = target / "env"
    env_file.write_text((DEPLOY / "env.example").read_text())
    rendered = []
    for unit in UNITS:
        text = (
            unit.read_text()
            .replace("/srv/award-service/venv", str(BIN.parent))
            .replace("/srv/award-service/app", str(ROOT))
            .replace("/etc/award-service/env", str(env_file))
        )
        path = target / unit.name
        path.write_text(text)
        rendered.append(path)
    return rendered


def test_the_systemd_units_verify(tmp_path):
    analyze = tool("systemd-analyze")
    units = render_units(tmp_path)
    assert {u.name for u in units} == {
        "award-service.target",
        "award-service-web.service",
        "award-service-worker.service",
        "award-service-beat.service",
        "award-service-migrate.service",
    }
    result = subprocess.run(
        [analyze, "verify", "--man=no", *map(str, units)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    ours = [line for line in result.stderr.splitlines() if "award-service" in line]
    assert ours == [], ours  # not even a warning (an unknown key is only a warning)

    # The check can fail: a misspelt key and a missing command are reported.
    broken = tmp_path / "broken" / "award-service-web.service"
    broken.parent.mkdir()
    broken.write_text(
        units[[u.name for u in units].index("award-service-web.service")]
        .read_text()
        .replace("Restart=on-failure", "Restartt=on-failure")
        .replace(str(BIN / "gunicorn"), "/nonexistent/gunicorn")
    )
    result = subprocess.run([analyze, "verify", "--man=no", str(broken)], capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "Restartt" in result.stderr and "/nonexistent/gunicorn" in result.stderr


def test_the_units_run_unprivileged_hardened_and_restarting():
    for unit in UNITS:
        if unit.suffix != ".service":
            continue
        lines = set(unit.read_text().splitlines())
        for wanted in (
            "User=award-service",
            "EnvironmentFile=/etc/award-service/env",
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "PrivateTmp=yes",
            "CapabilityBoundingSet=",
        ):
            assert wanted in lines, (unit.name, wanted)
        if unit.name != "award-service-migrate.service":
            assert "Restart=on-failure" in lines and "PartOf=award-service.target" in lines, unit.name
    web = (DEPLOY / "systemd" / "award-service-web.service").read_text()
    assert "ExecStartPre=/srv/award-service/venv/bin/flask --app award_service production check" in web
    assert "-c /srv/award-service/app/deploy/gunicorn.conf.py" in web


def test_env_example_sets_every_variable_production_needs():
    from award_service.config import ENV_VARS

    names = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", (DEPLOY / "env.example").read_text(), re.MULTILINE))
    for name in (
        "AWARD_ENV",
        "SECRET_KEY",
        "DATABASE_URL",
        "AWARD_BASE_URL",
        "AWARD_PROXY_COUNT",
        "AWARD_REDIS_URL",
        "AWARD_CELERY_BROKER_URL",
        "AWARD_INSTANCE_PATH",
        "AWARD_READY_OUTBOX_MAX_PENDING",
        "AWARD_READY_OUTBOX_MAX_AGE_SECONDS",
        "AWARD_SMTP_HOST",
        "AWARD_MAIL_FROM",
        "GUNICORN_BIND",
    ):
        assert name in names, name
    unknown = {n for n in names if n.startswith("AWARD_") and n not in ENV_VARS}
    assert unknown <= {"AWARD_INSTANCE_PATH", "AWARD_ADMIN_EMAIL", "AWARD_ADMIN_PASSWORD"}, unknown


# ------------------------------------------------------------------ nginx


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    openssl = tool("openssl")
    cert, key = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"),
            *("-subj", "/CN=award.example.kz", "-days", "2", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def nginx_setup(tmp_path: Path, site_text: str) -> Path:
    """A throw-away main config around ``site_text``: everything under ``tmp_path``."""
    for folder in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp_path / folder).mkdir(exist_ok=True)
    (tmp_path / "site.conf").write_text(site_text)
    main = tmp_path / "nginx.conf"
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers that can read the test's files
    main.write_text(
        f"""{user}worker_processes 1;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
events {{ worker_connections 64; }}
http {{
    types {{ text/css css; application/javascript js; text/html html; }}
    default_type application/octet-stream;
    access_log {tmp_path}/access.log;
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fastcgi;
    uwsgi_temp_path {tmp_path}/uwsgi;
    scgi_temp_path {tmp_path}/scgi;
    include {tmp_path}/site.conf;
}}
"""
    )
    return main


def with_certificate(site: str, cert: Path, key: Path) -> str:
    return site.replace("/etc/ssl/award-service/fullchain.pem", str(cert)).replace(
        "/etc/ssl/award-service/privkey.pem", str(key)
    )


def nginx_test(nginx: str, tmp_path: Path, main: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(main)], capture_output=True, text=True, timeout=60
    )


def test_nginx_accepts_the_site(tmp_path):
    nginx = tool("nginx", "AWARD_NGINX")
    cert, key = self_signed(tmp_path)
    main = nginx_setup(tmp_path, with_certificate(SITE.read_text(), cert, key))
    result = nginx_test(nginx, tmp_path, main)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr and "test is successful" in result.stderr
    assert "[warn]" not in result.stderr and "[emerg]" not in result.stderr, result.stderr

    # The check can fail: a directive misspelt is refused.
    broken = nginx_setup(
        tmp_path, with_certificate(SITE.read_text(), cert, key).replace("proxy_pass", "proxy_passs", 1)
    )
    result = nginx_test(nginx, tmp_path, broken)
    assert result.returncode != 0 and "proxy_passs" in result.stderr


@contextmanager
def app_server(make_app):
    """The app with AWARD_PROXY_COUNT=1 on a free port, and a route that tells what it saw."""
    from flask import request
    from werkzeug.serving import make_server

    app = make_app(AWARD_PROXY_COUNT=1)

    def seen():
        return {
            "scheme": request.scheme,
            "host": request.host,
            "remote_addr": request.remote_addr,
            "request_id": request.headers.get("X-Request-ID"),
        }

    app.add_url_rule("/test-seen", "test_seen", seen)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(timeout=10)


def https(port: int, path: str, *, method: str = "GET", headers=None, source: str = "127.0.0.1"):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the test's self-signed certificate
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=20, source_address=(source, 0))
    try:
        conn.request(method, path, headers={"Host": "award.example.kz", **(headers or {})})
        response = conn.getresponse()
        return response, response.read()
    finally:
        conn.close()


def test_nginx_in_front_of_the_app(tmp_path, make_app):
    nginx = tool("nginx", "AWARD_NGINX")
    cert, key = self_signed(tmp_path)
    http_port, https_port = free_port(), free_port()
    with app_server(make_app) as app_port:
        site = (
            with_certificate(SITE.read_text(), cert, key)
            .replace("listen [::]:80;\n", "")
            .replace("listen [::]:443 ssl http2;\n", "")
            .replace("listen 80;", f"listen 127.0.0.1:{http_port};")
            .replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
            .replace("server 127.0.0.1:8000", f"server 127.0.0.1:{app_port}")
            .replace("/srv/award-service/app/", f"{ROOT}/")
        )
        main = nginx_setup(tmp_path, site)
        assert nginx_test(nginx, tmp_path, main).returncode == 0
        errors = (tmp_path / "nginx.stderr").open("w")
        server = subprocess.Popen(
            [nginx, "-p", str(tmp_path), "-c", str(main), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=errors,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                with suppress(OSError), socket.create_connection(("127.0.0.1", https_port), timeout=1):
                    break
                assert server.poll() is None, (tmp_path / "nginx.stderr").read_text()
                time.sleep(0.1)

            # Port 80 only redirects to HTTPS.
            plain = requests.get(
                f"http://127.0.0.1:{http_port}/ceremonies/?q=x",
                headers={"Host": "award.example.kz"},
                allow_redirects=False,
                timeout=20,
            )
            assert plain.status_code == 301
            assert plain.headers["Location"] == "https://award.example.kz/ceremonies/?q=x"

            # HTTPS: the app's page, with HSTS, over TLS 1.2 or 1.3.
            response, body = https(https_port, "/healthz")
            assert response.status == 200 and b'"ok"' in body
            assert response.getheader("Strict-Transport-Security") == "max-age=63072000"

            # What the app sees through ProxyFix: https, the public host, the client's address
            # (not one the client claims), nginx's request id.
            response, body = https(https_port, "/test-seen", headers={"X-Forwarded-For": "203.0.113.9"})
            seen = json.loads(body)
            assert seen["scheme"] == "https" and seen["host"] == "award.example.kz"
            assert seen["remote_addr"] == "127.0.0.1"
            assert seen["request_id"] and len(seen["request_id"]) == 32

            # Static files straight from the package, cached an hour, with HSTS still.
            response, body = https(https_port, "/static/style.css")
            assert response.status == 200
            assert body == (ROOT / "award_service" / "static" / "style.css").read_bytes()
            assert response.getheader("Cache-Control") in ("max-age=3600, public", "public, max-age=3600")
            assert response.getheader("Strict-Transport-Security") == "max-age=63072000"

            # The body limit is the app's MAX_CONTENT_LENGTH (16 MB): more is refused by nginx.
            response, _ = https(
                https_port, "/api/v1/ceremonies", method="POST", headers={"Content-Length": str(16 * 1024 * 1024 + 1)}
            )
            assert response.status == 413

            # /readyz (and /metrics) only from the machine itself and the monitoring network.
            response, body = https(https_port, "/readyz")
            assert response.status == 200 and b'"checks"' in body
            response, _ = https(https_port, "/readyz", source="127.0.0.2")  # another address
            assert response.status == 403
            response, _ = https(https_port, "/metrics", source="127.0.0.2")
            assert response.status == 403
            response, _ = https(https_port, "/healthz", source="127.0.0.2")
            assert response.status == 200  # liveness stays public
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)
            errors.close()


# ------------------------------------------------------------------ make serve


def descendants(pid: int) -> dict[int, str]:
    """Every process below ``pid``, with its command line."""
    children: dict[int, list[int]] = {}
    commands: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            commands[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: dict[int, str] = {}
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found[child] = commands.get(child, "")
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; only its parent's wait is missing


@pytest.mark.parametrize("stop", ["SIGTERM to make", "Ctrl-C (SIGINT to the group)"])
def test_make_serve_starts_the_three_and_stops_them_all(tmp_path, stop):
    tool("make")
    try:
        import redis

        redis.Redis(host="127.0.0.1", port=6379, socket_timeout=2).ping()
    except Exception as exc:
        pytest.fail(f"make serve needs Redis on 127.0.0.1:6379 (the machine's): {exc}")
    port = free_port()
    env = clean_env(
        tmp_path,
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="2",
        AWARD_CELERY_BROKER_URL="redis://127.0.0.1:6379/15",  # the shared Redis: DB 15, never flushed
        SERVE_WORKER_CONCURRENCY="1",
        SERVE_STOP_SECONDS="20",
    )
    log = (tmp_path / "serve.log").open("w")
    make = subprocess.Popen(
        ["make", "serve"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    seen: dict[int, str] = {}
    try:
        deadline = time.monotonic() + 180  # the first run may reinstall the package (make's install target)
        while time.monotonic() < deadline:
            assert make.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            with suppress(requests.RequestException):
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            time.sleep(0.5)
        else:
            pytest.fail("make serve did not answer /healthz:\n" + (tmp_path / "serve.log").read_text()[-3000:])

        ready = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["broker"] == {**ready.json()["checks"]["broker"], "ok": True, "configured": True}
        assert ready.json()["checks"]["database"]["backend"] == "sqlite"  # no DATABASE_URL: the embedded SQLite

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            seen = descendants(make.pid)
            gunicorns = [c for c in seen.values() if "gunicorn" in c and "deploy/gunicorn.conf.py" in c]
            workers = [c for c in seen.values() if "award_service.worker worker" in c]
            beats = [c for c in seen.values() if "award_service.worker beat" in c]
            if len(gunicorns) >= 3 and len(workers) >= 2 and beats:  # master + 2, worker + its pool child
                break
            time.sleep(0.5)
        else:
            pytest.fail(f"not all processes seen: {seen}")
        assert any("deploy/serve.py" in c for c in seen.values())

        if stop == "SIGTERM to make":
            make.send_signal(signal.SIGTERM)
        else:
            os.killpg(make.pid, signal.SIGINT)
        make.wait(timeout=45)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(alive(pid) for pid in seen):
            time.sleep(0.2)
        left = {pid: command for pid, command in seen.items() if alive(pid)}
        assert left == {}, left
        output = (tmp_path / "serve.log").read_text()
        for name in ("web", "worker", "beat"):
            assert f"serve | {name} stopped" in output, output[-3000:]
    finally:
        for pid in [make.pid, *seen]:
            with suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            make.wait(timeout=10)
        log.close()
