"""How a message leaves: over SMTP (smtplib), or, with no SMTP server
configured (the embedded default), as an .eml file under the instance folder.

A transport sends one message at a time and says how it went:
:class:`PermanentFailure` (the server refused this recipient or this message
with a 5xx: retrying will not help), :class:`TemporaryFailure` (try again
later), and ``broken`` on a temporary failure when the connection itself is
gone (the server is down: a sweep stops there rather than try every due
message against a dead server).
"""

from __future__ import annotations

import binascii
import os
import re
import secrets
import smtplib
import ssl
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.generator import BytesGenerator
from email.header import Header
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


class TemporaryFailure(Exception):
    def __init__(self, message: str, broken: bool = False):
        super().__init__(message)
        self.broken = broken


class PermanentFailure(Exception):
    pass


def mail_domain(config) -> str:
    host = urlsplit(config["AWARD_BASE_URL"]).hostname or "localhost"
    if host.replace(".", "").isdigit() or ":" in host:
        return "localhost"  # an IP address is no mail domain
    return host


def sender(config) -> str:
    """The From header: AWARD_MAIL_FROM, else no-reply at the site's host name."""
    return config.get("AWARD_MAIL_FROM") or f"no-reply@{mail_domain(config)}"


def envelope_sender(config) -> str:
    return parseaddr(sender(config))[1]


def _content_type(value: str) -> tuple[str, str, dict]:
    main, *params = [part.strip() for part in value.split(";")]
    maintype, _, subtype = main.partition("/")
    return maintype, subtype, dict(p.split("=", 1) for p in params if "=" in p)


def build(message, attachments, config, now: datetime) -> EmailMessage:
    """The RFC 5322 message of an outbox row.  Its Message-ID is fixed per row,
    so a message sent twice (a sender died after the server took it) can be
    recognised as one by the receiving side."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender(config)
    msg["To"] = message.to_address
    msg["Subject"] = _header("Subject", message.subject)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = f"<outbox.{message.id}.{int(message.created_at.timestamp())}@{mail_domain(config)}>"
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    msg.set_content(message.body_text)
    if message.body_html:
        msg.add_alternative(message.body_html, subtype="html")
    if attachments:
        msg.make_mixed()
        for attachment in attachments:
            msg.attach(_attachment_part(attachment))
    _set_boundaries(msg)
    # Last: set_content and the multipart conversions move Content-* headers into the parts.
    msg["Content-Language"] = message.language
    return msg


def _attachment_part(attachment) -> EmailMessage:
    """An attachment as a base64 part, encoded in one C call and cut into
    76-character lines: the stdlib's content manager (and base64.encodebytes)
    call the encoder for every 57 bytes (~2,300 calls for a 130 KB attachment).
    The same lines and headers."""
    maintype, subtype, params = _content_type(attachment.content_type)
    part = EmailMessage(policy=SMTP)
    part.add_header("Content-Type", f"{maintype}/{subtype}", **params)
    part.add_header("Content-Transfer-Encoding", "base64")
    part.add_header("Content-Disposition", "attachment", filename=attachment.filename)
    encoded = binascii.b2a_base64(attachment.data, newline=False).decode("ascii")
    part.set_payload("".join([encoded[i : i + 76] + "\n" for i in range(0, len(encoded), 76)]))
    return part


_NEWLINES = re.compile(r"\r\n|\r|\n")  # as email.generator splits a body


def _set_boundaries(msg: EmailMessage) -> None:
    """Random boundaries of 128 bits, which no body can contain: left unset,
    the generator picks one and searches the whole serialised body for it
    (twice for a message with a ticket)."""
    for part in msg.walk():
        if part.is_multipart():
            part.set_boundary(f"=_award_{secrets.token_hex(16)}")


class _Generator(BytesGenerator):
    """The stdlib's generator, writing each body in one piece: it writes a
    body a line at a time, two calls a line (~4,700 for a message with a
    130 KB attachment).  The bytes are the same (tests/test_mail_helpers.py
    compares them with ``as_bytes``)."""

    def _write_lines(self, lines: str) -> None:
        if lines:
            assert self.policy is not None  # flatten() sets the message's policy
            if "\r" in lines:
                self.write(self.policy.linesep.join(_NEWLINES.split(lines)))
            else:  # the usual case, in one C call
                self.write(lines.replace("\n", self.policy.linesep))


def serialize(msg: EmailMessage) -> bytes:
    """The message as it goes on the wire (CRLF line ends), written once."""
    out = BytesIO()
    _Generator(out, mangle_from_=False, policy=msg.policy).flatten(msg, unixfrom=False)
    return out.getvalue()


class EncodedHeader(str):
    """A header encoded here (RFC 2047) rather than by the email policy.

    Python's folder of long non-ASCII headers (3.11) loses the space between two
    encoded words when it breaks a line before a non-letter ("Победа — наследие"
    arrives as "Победа— наследие").  ``email.header.Header`` encodes the spaces
    inside the words, so nothing is lost.  The policy emits an object with a
    ``name`` and a ``fold`` as it is (EmailPolicy.header_store_parse / fold)."""

    name: str

    def __new__(cls, name: str, value: str):
        header = str.__new__(cls, value)
        header.name = name
        return header

    def fold(self, *, policy) -> str:
        encoded = Header(str(self), "utf-8", maxlinelen=75, header_name=self.name).encode(linesep=policy.linesep)
        return f"{self.name}: {encoded}{policy.linesep}"


def _header(name: str, value: str):
    return value if value.isascii() else EncodedHeader(name, value)


class SmtpTransport:
    """One SMTP connection, opened on the first message and kept for the batch."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.host = config["AWARD_SMTP_HOST"]
        self.port = int(config["AWARD_SMTP_PORT"])
        self.user = config["AWARD_SMTP_USER"]
        self.password = config["AWARD_SMTP_PASSWORD"]
        self.starttls = config["AWARD_SMTP_STARTTLS"]
        self.use_ssl = config["AWARD_SMTP_SSL"]
        self.timeout = config["AWARD_SMTP_TIMEOUT"]
        self.from_addr = envelope_sender(config)
        self.connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        connection: smtplib.SMTP
        if self.use_ssl:
            connection = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.starttls:
                connection.starttls(context=context)
            if self.user:
                connection.login(self.user, self.password)
        except BaseException:
            connection.close()
            raise
        return connection

    def send(self, msg: EmailMessage, to_address: str) -> None:
        for attempt in (1, 2):
            try:
                if self.connection is None:
                    self.connection = self._connect()
                if to_address.isascii():
                    self.connection.sendmail(self.from_addr, [to_address], serialize(msg))
                else:  # SMTPUTF8: smtplib chooses the policy
                    self.connection.send_message(msg, self.from_addr, [to_address])
                return
            except smtplib.SMTPRecipientsRefused as exc:
                code, text = next(iter(exc.recipients.values()))
                error = f"{code} {_text(text)}"
                if 500 <= code < 600:
                    raise PermanentFailure(f"The server refused the recipient: {error}") from exc
                raise TemporaryFailure(f"The server deferred the recipient: {error}") from exc
            except smtplib.SMTPDataError as exc:
                error = f"{exc.smtp_code} {_text(exc.smtp_error)}"
                if 500 <= exc.smtp_code < 600:
                    raise PermanentFailure(f"The server refused the message: {error}") from exc
                raise TemporaryFailure(f"The server deferred the message: {error}") from exc
            except smtplib.SMTPServerDisconnected as exc:
                self.close()
                if attempt == 1:
                    continue  # a kept connection the server has closed meanwhile: once more, fresh
                raise TemporaryFailure(f"SMTP server disconnected: {exc}", broken=True) from exc
            except smtplib.SMTPResponseException as exc:
                self.close()
                raise TemporaryFailure(f"SMTP error: {exc.smtp_code} {_text(exc.smtp_error)}", broken=True) from exc
            except (OSError, smtplib.SMTPException) as exc:
                self.close()
                raise TemporaryFailure(
                    f"Cannot reach the SMTP server {self.host}:{self.port}: {exc}", broken=True
                ) from exc

    def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            try:
                connection.quit()
            except (OSError, smtplib.SMTPException):
                connection.close()


class FileTransport:
    """No SMTP server configured: each message becomes one .eml file, written
    whole (a temporary file renamed), named by time, id and kind."""

    def __init__(self, directory: Path):
        self.directory = directory

    def send(self, msg: EmailMessage, to_address: str, *, name: str) -> Path:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".eml.tmp")
            with os.fdopen(fd, "wb") as fh:
                fh.write(serialize(msg))
            path = self.directory / name
            os.replace(tmp, path)
            return path
        except OSError as exc:
            raise TemporaryFailure(f"Cannot write the message to {self.directory}: {exc}", broken=True) from exc

    def close(self) -> None:
        pass


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def mail_dir(app) -> Path:
    return Path(app.config.get("AWARD_MAIL_DIR") or os.path.join(app.instance_path, "mail"))
