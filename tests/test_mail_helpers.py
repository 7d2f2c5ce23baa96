"""A real SMTP server for the mail tests (aiosmtpd on loopback), and readers for
what it received.  Nothing is mocked: the app talks SMTP to it over TCP."""

from __future__ import annotations

import email
import email.policy
import shutil
import socket
import subprocess
import threading
import time

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Recorder:
    """The server's handler: keeps every message; refuses the recipients in
    ``rejected`` with a permanent 550, as a real server does for an unknown mailbox."""

    def __init__(self):
        self.received: list[tuple[str, list[str], bytes]] = []
        self.rejected: set[str] = set()
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.rejected:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    def messages(self) -> list[email.message.EmailMessage]:
        with self.lock:
            return [email.message_from_bytes(content, policy=email.policy.default) for _, _, content in self.received]


class SmtpServer:
    """aiosmtpd's Controller on 127.0.0.1 at a fixed port, stoppable and restartable there."""

    def __init__(self):
        self.port = free_port()
        self.recorder = Recorder()
        self.controller: Controller | None = None

    def start(self) -> None:
        for _ in range(50):  # the port may linger for a moment after a stop
            try:
                self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
                self.controller.start()
                return
            except (OSError, RuntimeError):
                self.controller = None
                time.sleep(0.1)
        raise RuntimeError(f"cannot start the SMTP server on port {self.port}")

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def messages_for(self, ids) -> list[email.message.EmailMessage]:
        """The messages of these outbox ids (by their Message-ID), in order received."""
        wanted = {f"<outbox.{i}." for i in ids}
        return [m for m in self.recorder.messages() if any(m["Message-ID"].startswith(w) for w in wanted)]

    def wait_for(self, ids, timeout: float = 20.0) -> list[email.message.EmailMessage]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.messages_for(ids)
            if len(found) >= len(ids) or time.monotonic() > deadline:
                return found
            time.sleep(0.05)


class RedisServer:
    """A redis-server of the test's own on a free loopback port (never the
    machine's shared one), stoppable and restartable on that port; no disk."""

    def __init__(self, directory):
        self.port = free_port()
        self.directory = str(directory)
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"),
                *("--dir", self.directory, "--daemonize", "no", "--loglevel", "warning"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.kill()  # as if it crashed: nothing is saved (nothing is configured to be)
        if process is not None:
            process.wait(10)

    def keys(self, pattern: str = "*") -> list[bytes]:
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2)
        try:
            return client.keys(pattern)
        finally:
            client.close()


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of this test's own, started; removed afterwards even on failure."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not on PATH (Debian package redis-server)")
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp():
    """The test SMTP server, started for one test."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def attachments(message) -> dict[str, tuple[str, bytes]]:
    """filename -> (content type, bytes)."""
    return {
        part.get_filename(): (part.get_content_type(), part.get_payload(decode=True))
        for part in message.iter_attachments()
    }


def text_body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_body(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def test_the_test_server_speaks_smtp_and_refuses_like_a_real_one():
    """The server the mail tests use: a message goes through smtplib; a refused
    recipient gets a permanent 550; after a stop nothing listens; it restarts on the same port."""
    import smtplib

    server = SmtpServer()
    server.recorder.rejected.add("nobody@example.kz")
    server.start()
    try:
        with smtplib.SMTP("127.0.0.1", server.port, timeout=10) as client:
            client.sendmail("a@example.kz", ["b@example.kz"], b"Subject: hi\r\nMessage-ID: <x@y>\r\n\r\nbody\r\n")
            with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
                client.sendmail("a@example.kz", ["nobody@example.kz"], b"Subject: hi\r\n\r\nbody\r\n")
        assert refused.value.recipients["nobody@example.kz"][0] == 550
        assert [m["Subject"] for m in server.recorder.messages()] == ["hi"]
        server.stop()
        with pytest.raises(OSError):
            smtplib.SMTP("127.0.0.1", server.port, timeout=5)
        server.start()
        with smtplib.SMTP("127.0.0.1", server.port, timeout=10) as client:
            assert client.noop()[0] == 250
    finally:
        server.stop()


def test_messages_are_built_and_written_as_the_stdlib_would():
    """transport.build encodes attachments in one call and serialize() writes
    each body in one piece: the parts and the bytes must be what the stdlib's
    own add_attachment and as_bytes make (a Python upgrade that changes them
    fails here)."""
    import email
    import email.policy
    import os
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from award_service.mail.transport import Attachment, build, serialize

    attachments = [
        Attachment("ticket-7.pdf", "application/pdf", os.urandom(130_001)),  # not a multiple of 57 bytes
        Attachment("ceremony.ics", "text/calendar; method=REQUEST; charset=utf-8", b"BEGIN:VCALENDAR\r\n"),
        Attachment("Куәлік №7.pdf", "application/pdf", b"%PDF-1.4\n" * 10),  # a filename in RFC 2231
        Attachment("empty.bin", "application/octet-stream", b""),
    ]
    row = SimpleNamespace(
        id=7,
        created_at=datetime(2026, 5, 1, tzinfo=UTC),
        to_address="asel@example.kz",
        subject="Тіркеу расталды — Регистрация подтверждена",
        body_text="Сәлеметсіз бе!\nЗдравствуйте!\r\nline three\n",
        body_html="<p>Сәлеметсіз бе!</p>\n",
        language="kk",
    )
    config = {"AWARD_BASE_URL": "https://award.example.kz", "AWARD_MAIL_FROM": ""}
    msg = build(row, attachments, config, datetime(2026, 5, 1, 9, tzinfo=UTC))
    written = serialize(msg)
    assert written == msg.as_bytes(policy=email.policy.SMTP)

    reference = email.message.EmailMessage(policy=email.policy.SMTP)
    reference.set_content(row.body_text)
    reference.add_alternative(row.body_html, subtype="html")
    for a in attachments:
        main, _, rest = a.content_type.partition("/")
        sub, *params = [p.strip() for p in rest.split(";")]
        reference.add_attachment(
            a.data, maintype=main, subtype=sub, filename=a.filename, params=dict(p.split("=") for p in params) or None
        )
    ours = list(email.message_from_bytes(written, policy=email.policy.default).iter_attachments())
    theirs = list(reference.iter_attachments())
    assert len(ours) == len(theirs) == len(attachments)
    for mine, ref, a in zip(ours, theirs, attachments, strict=True):
        assert mine.get_content_type() == ref.get_content_type()
        assert dict(mine.get_params()) == dict(ref.get_params())
        assert mine.get_filename() == ref.get_filename() == a.filename
        assert mine["Content-Transfer-Encoding"] == ref["Content-Transfer-Encoding"] == "base64"
        assert mine.get_payload(decode=True) == a.data
        assert mine.get_payload().replace("\r\n", "\n") == ref.get_payload()  # the same base64 lines
