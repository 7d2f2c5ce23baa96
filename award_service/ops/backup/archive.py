"""The backup file: a tar archive of two members, ``manifest.json`` first and
then the database dump, optionally encrypted to age recipients as a whole.

The manifest says what the dump is (format version, when, which database and
migration, which release, rows per table, the awards' checksum, the dump's
SHA-256) and which keys the data needs, by fingerprint.  Reading a backup
checks the dump against its SHA-256 before anything is restored from it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyrage

FORMAT = "award-service-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 1024 * 1024
CHUNK = 1024 * 1024
AGE_MAGIC = b"age-encryption.org/v1\n"
AGE_ARMOR = b"-----BEGIN AGE ENCRYPTED FILE-----"
# award-backup-20250509T101500Z.tar, .tar.age when encrypted: sorted by name is sorted by time.
NAME_RE = re.compile(r"^award-backup-(\d{8}T\d{6}Z)\.tar(\.age)?$")


class BackupError(Exception):
    """A backup cannot be made, read or restored; the message is one line for the operator."""


def default_name(now: datetime, encrypted: bool) -> str:
    return f"award-backup-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}.tar" + (".age" if encrypted else "")


def name_time(name: str) -> datetime | None:
    """When a backup named by :func:`default_name` was made; None for any other name."""
    match = NAME_RE.match(name)
    if match is None:
        return None
    return datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# ------------------------------------------------------------------ encryption


def parse_recipients(values: list[str]) -> list[Any]:
    """age recipients: ``age1…`` public keys, ``ssh-ed25519``/``ssh-rsa`` public
    keys, or the path of a file of them (one a line, ``#`` comments), as ``age -R`` reads."""
    recipients: list[Any] = []
    for value in values:
        for item in _recipient_items(value.strip()):
            try:
                if item.startswith("age1"):
                    recipients.append(pyrage.x25519.Recipient.from_str(item))
                elif item.startswith("ssh-"):
                    recipients.append(pyrage.ssh.Recipient.from_str(item))
                else:
                    raise BackupError(f"not an age recipient (age1… or ssh-…) nor a file of them: {item[:60]}")
            except pyrage.RecipientError as exc:
                raise BackupError(f"not a valid age recipient: {item[:60]} ({exc})") from exc
    if values and not recipients:
        raise BackupError("no recipient given to encrypt to")
    return recipients


def _recipient_items(value: str) -> list[str]:
    if not value:
        return []
    if value.startswith(("age1", "ssh-")):
        return [value]
    path = Path(value)
    if not path.is_file():
        raise BackupError(f"not an age recipient (age1… or ssh-…) nor a file of them: {value[:60]}")
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def load_identities(path: Path) -> list[Any]:
    """The private keys of an age identity file (``AGE-SECRET-KEY-…`` lines, as
    ``age-keygen`` writes them) or an OpenSSH private key."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BackupError(f"cannot read the identity file {path}: {exc.strerror}") from exc
    try:
        if data.lstrip().startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----"):
            return [pyrage.ssh.Identity.from_buffer(data)]
        identities = [
            pyrage.x25519.Identity.from_str(line.strip())
            for line in data.decode("utf-8").splitlines()
            if line.strip().startswith("AGE-SECRET-KEY-")
        ]
    except (pyrage.IdentityError, UnicodeDecodeError) as exc:
        raise BackupError(f"{path} holds no usable age identity ({exc})") from exc
    if not identities:
        raise BackupError(f"{path} holds no age identity (AGE-SECRET-KEY-… line)")
    return identities


def is_encrypted(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(len(AGE_ARMOR))
    return head.startswith((AGE_MAGIC, AGE_ARMOR))


# ------------------------------------------------------------------ writing


def write(output: Path, manifest: dict[str, Any], dump: Path, dump_name: str, recipients: list[Any]) -> None:
    """Write the backup to ``output`` whole or not at all: a hidden partial file
    in the same directory (mode 0600: it holds personal data), synced, then
    renamed into place; never over an existing file."""
    if output.exists():
        raise BackupError(f"{output} exists already: choose another name (a backup is never overwritten)")
    directory = output.parent
    if not directory.is_dir():
        raise BackupError(f"the directory {directory} does not exist")
    fd, partial_name = tempfile.mkstemp(dir=directory, prefix=f".{output.name}.", suffix=".partial")
    partial = Path(partial_name)
    try:
        with os.fdopen(fd, "wb") as raw:
            if recipients:
                with tempfile.TemporaryDirectory(dir=dump.parent) as plain_dir:
                    plain = Path(plain_dir) / "backup.tar"
                    with plain.open("wb") as fh:
                        _write_tar(fh, manifest, dump, dump_name)
                    with plain.open("rb") as fh:
                        try:
                            pyrage.encrypt_io(fh, raw, recipients)
                        except pyrage.EncryptError as exc:
                            raise BackupError(f"cannot encrypt the backup: {exc}") from exc
            else:
                _write_tar(raw, manifest, dump, dump_name)
            raw.flush()
            os.fsync(raw.fileno())
        if output.exists():
            raise BackupError(f"{output} appeared while the backup was written: it is left as it was")
        os.replace(partial, output)
        _fsync_directory(directory)
    finally:
        partial.unlink(missing_ok=True)


def _write_tar(fh: Any, manifest: dict[str, Any], dump: Path, dump_name: str) -> None:
    body = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=False).encode("utf-8")
    mtime = int(datetime.now(UTC).timestamp())
    with tarfile.open(fileobj=fh, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mode, info.mtime = len(body), 0o600, mtime
        tar.addfile(info, io.BytesIO(body))
        info = tarfile.TarInfo(dump_name)
        info.size, info.mode, info.mtime = dump.stat().st_size, 0o600, mtime
        with dump.open("rb") as dump_fh:
            tar.addfile(info, dump_fh)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ------------------------------------------------------------------ reading


@dataclass
class Opened:
    """A backup read and checked: its manifest, and the dump in a temporary directory."""

    manifest: dict[str, Any]
    dump: Path
    encrypted: bool


@contextmanager
def opened(path: Path, identities: list[Any] | None, workdir: Path) -> Iterator[Opened]:
    """Read ``path`` (decrypting it with ``identities`` when it is encrypted),
    check its manifest and the dump's SHA-256, and yield the dump extracted
    into ``workdir``.  Anything wrong is a one-line :class:`BackupError`."""
    if not path.is_file():
        raise BackupError(f"no backup file at {path}")
    encrypted = is_encrypted(path)
    tar_path = path
    if encrypted:
        if not identities:
            raise BackupError(f"{path} is encrypted (age): give --identity with the private key to read it")
        tar_path = workdir / "backup.tar"
        with path.open("rb") as src, tar_path.open("wb") as dst:
            try:
                pyrage.decrypt_io(src, dst, identities)
            except pyrage.DecryptError as exc:
                raise BackupError(
                    f"cannot decrypt {path}: the identity does not match any recipient, or the file is damaged ({exc})"
                ) from exc
    try:
        manifest, dump = _read_tar(tar_path, workdir)
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        raise BackupError(f"{path} is damaged or not an Award Service backup ({_one_line(exc)})") from exc
    expected = manifest["dump"]["sha256"]
    actual = sha256_file(dump)
    if actual != expected:
        raise BackupError(
            f"{path} is damaged: the dump's SHA-256 is {actual[:16]}…, its manifest says {expected[:16]}…; "
            "nothing was restored"
        )
    try:
        yield Opened(manifest, dump, encrypted)
    finally:
        if encrypted:
            tar_path.unlink(missing_ok=True)


def _read_tar(tar_path: Path, workdir: Path) -> tuple[dict[str, Any], Path]:
    with tarfile.open(tar_path, mode="r:") as tar:
        first = tar.next()
        if first is None or first.name != MANIFEST or not first.isfile():
            raise ValueError(f"its first member is not {MANIFEST}")
        if first.size > MAX_MANIFEST_BYTES:
            raise ValueError("its manifest is too large")
        manifest_fh = tar.extractfile(first)
        assert manifest_fh is not None
        manifest = json.loads(manifest_fh.read().decode("utf-8"))
        check_manifest(manifest)
        member = tar.next()
        if member is None or member.name != manifest["dump"]["name"] or not member.isfile():
            raise ValueError(f"it has no member {manifest['dump']['name']}")
        if member.size != manifest["dump"]["size"]:
            raise ValueError(f"its dump holds {member.size} bytes, the manifest says {manifest['dump']['size']}")
        source = tar.extractfile(member)
        assert source is not None
        dump = workdir / Path(manifest["dump"]["name"]).name
        with dump.open("wb") as out:
            shutil.copyfileobj(source, out, CHUNK)
        if dump.stat().st_size != member.size:
            raise ValueError("its dump is cut short")
    return manifest, dump


def check_manifest(manifest: Any) -> None:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ValueError("its manifest is not an Award Service backup manifest")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(f"format version {version!r}; this release reads version {FORMAT_VERSION}")
    for field_name in ("created_at", "database", "alembic_revision", "tables", "dump", "keys"):
        if field_name not in manifest:
            raise ValueError(f"its manifest has no {field_name!r}")
    dump = manifest["dump"]
    if not isinstance(dump, dict) or not all(k in dump for k in ("name", "size", "sha256")):
        raise ValueError("its manifest does not describe the dump")
    if "/" in dump["name"] or dump["name"].startswith("."):
        raise ValueError("its dump has an unsafe name")


def _one_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())[:200]
