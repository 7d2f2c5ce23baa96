"""SQLite: SQLite's online backup API, both ways.

Backing up copies the live database page by page in one step, under one read
lock, so the copy is one consistent moment while the service goes on writing
(WAL lets it); the copy is then compressed.  Restoring checks the copy first
(integrity, rows, the awards' checksum), then writes it over the target with
the same API in one write transaction: SQLite's own journal makes that all or
nothing, and the service's open connections see the new data at their next
transaction rather than a file swapped beneath them (a rename would leave them
writing to the old, unlinked file, next to a WAL file of another database).
"""

from __future__ import annotations

import gzip
import shutil
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import facts
from .archive import CHUNK, BackupError

DUMP_NAME = "database.sqlite3.gz"
BUSY_TIMEOUT = 30


class _Waited(Exception):
    pass


def _copy(source: sqlite3.Connection, destination: sqlite3.Connection, timeout: float) -> None:
    """The whole database in one backup step, one snapshot and one write
    transaction; Python's loop retries a busy database without end, so the
    progress callback gives up after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout

    def progress(status: int, remaining: int, total: int) -> None:
        if status in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) and time.monotonic() > deadline:
            raise _Waited()

    source.backup(destination, pages=-1, progress=progress, sleep=0.1)


def _query(connection: sqlite3.Connection):
    def run(sql: str) -> Sequence[Sequence[Any]]:
        return connection.execute(sql).fetchall()

    return run


def read_facts(connection: sqlite3.Connection) -> dict[str, Any]:
    query = _query(connection)
    tables = facts.sqlite_tables(query)
    return {
        "tables": facts.row_counts(query, tables),
        "alembic_revision": facts.revision(query, tables),
        "awards": facts.sqlite_awards(query, tables),
    }


def target_facts(path: Path, *, timeout: float = BUSY_TIMEOUT) -> dict[str, Any] | None:
    """The facts of the database at ``path``; None when there is no file."""
    if not path.exists() or path.stat().st_size == 0:
        return None
    connection = sqlite3.connect(path, timeout=timeout)
    try:
        return read_facts(connection)
    finally:
        connection.close()


def dump(path: Path, workdir: Path, *, timeout: float = BUSY_TIMEOUT) -> tuple[Path, dict[str, Any]]:
    """A compressed consistent copy of the database at ``path``, and its facts."""
    if not path.is_file():
        raise BackupError(f"no SQLite database at {path}")
    copy = workdir / "database.sqlite3"
    source = sqlite3.connect(path, timeout=timeout)
    target = sqlite3.connect(copy)
    try:
        _copy(source, target, timeout)
        target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
        found = read_facts(target)
        found["sqlite_version"] = sqlite3.sqlite_version
    except _Waited as exc:
        raise BackupError(f"the backup waited {timeout:g} s for the database another connection holds") from exc
    except sqlite3.Error as exc:
        raise BackupError(f"the SQLite backup failed: {exc}") from exc
    finally:
        target.close()
        source.close()
    compressed = workdir / DUMP_NAME
    with copy.open("rb") as src, gzip.open(compressed, "wb", compresslevel=6) as dst:
        shutil.copyfileobj(src, dst, CHUNK)
    copy.unlink()
    return compressed, found


def restore(
    dump_path: Path, target: Path, manifest: dict[str, Any], workdir: Path, *, timeout: float = BUSY_TIMEOUT
) -> dict[str, Any]:
    """Write the backup's database over ``target`` (made if missing), after
    checking it against the manifest; returns the restored facts."""
    copy = workdir / "restore.sqlite3"
    try:
        with gzip.open(dump_path, "rb") as src, copy.open("wb") as dst:
            shutil.copyfileobj(src, dst, CHUNK)
    except (OSError, EOFError) as exc:
        raise BackupError(f"the SQLite dump cannot be read ({exc})") from exc
    source = sqlite3.connect(copy)
    try:
        check = source.execute("PRAGMA integrity_check").fetchall()
        if check != [("ok",)]:
            raise BackupError(f"the backup's database fails SQLite's integrity check: {check[0][0]}")
        found = read_facts(source)
        compare(manifest, found)
        if not target.parent.is_dir():
            raise BackupError(f"the directory {target.parent} does not exist")
        destination = sqlite3.connect(target, timeout=timeout)
        try:
            _copy(source, destination, timeout)
        finally:
            destination.close()
    except _Waited as exc:
        raise BackupError(
            f"the restore waited {timeout:g} s for the database another connection is writing, and wrote nothing: "
            "stop the service and its workers, then restore again"
        ) from exc
    except sqlite3.Error as exc:
        raise BackupError(f"the SQLite restore failed, the database is as it was: {exc}") from exc
    finally:
        source.close()
    return found


def compare(manifest: dict[str, Any], found: dict[str, Any]) -> None:
    """Refuse data that differs from what its manifest says."""
    if found["tables"] != manifest["tables"]:
        differing = sorted(
            t
            for t in set(found["tables"]) | set(manifest["tables"])
            if found["tables"].get(t) != manifest["tables"].get(t)
        )
        t = differing[0]
        raise BackupError(
            f"the dump does not match its manifest: table {t} holds {found['tables'].get(t)} rows, "
            f"the manifest says {manifest['tables'].get(t)}"
        )
    if found["awards"] != manifest.get("awards"):
        raise BackupError("the dump does not match its manifest: the award register's checksum differs")
    if found["alembic_revision"] != manifest["alembic_revision"]:
        raise BackupError(
            f"the dump is at migration {found['alembic_revision']}, its manifest says {manifest['alembic_revision']}"
        )
