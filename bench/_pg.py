"""What the PostgreSQL benchmarks share: a fresh database on the local
server, migrated with the project's own `flask db upgrade`, dropped at the end."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "award-bench-not-a-secret"


class BenchError(RuntimeError):
    """The benchmark itself cannot run."""


def log(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


class Database:
    """A fresh database on the local server, dropped on close."""

    def __init__(self, admin_url: str, prefix: str = "award_bench"):
        self.admin_url = admin_url
        self.prefix = prefix
        self.name: str | None = None

    def create(self) -> str:
        name = f"{self.prefix}_{secrets.token_hex(4)}"
        try:
            with closing(psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5)) as conn:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.Error as exc:
            raise BenchError(f"cannot create a database on {self.admin_url}: {exc}") from None
        self.name = name
        return f"{self.admin_url.rsplit('/', 1)[0]}/{name}"

    def drop(self) -> None:
        if self.name is None:
            return
        try:
            with closing(psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5)) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))
            log(f"dropped database {self.name}")
        except Exception as exc:
            print(f"warning: could not drop database {self.name}: {exc}", file=sys.stderr)
        self.name = None


def migrate(url: str, instance: str) -> None:
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY=SECRET_KEY, AWARD_INSTANCE_PATH=instance)
    cmd = [sys.executable, "-m", "flask", "--app", "award_service", "db", "upgrade"]
    result = subprocess.run(cmd, cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise BenchError(f"flask db upgrade failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")


@contextmanager
def migrated_database(admin_url: str, prefix: str, *, keep: bool = False) -> Iterator[tuple[str, Database]]:
    """(url, database) of a fresh, migrated database and an instance folder of
    its own (AWARD_INSTANCE_PATH); both go at the end unless ``keep``."""
    database = Database(admin_url, prefix)
    instance = tempfile.mkdtemp(prefix="award-bench-")
    try:
        url = database.create()
        log(f"database {database.name}: migrating")
        migrate(url, instance)
        os.environ["AWARD_INSTANCE_PATH"] = instance
        yield url, database
    finally:
        if keep and database.name:
            log(
                f"database kept: {database.name} (drop it with: psql -h 127.0.0.1 -U postgres -c "
                f"'DROP DATABASE {database.name}')"
            )
        else:
            database.drop()
        shutil.rmtree(instance, ignore_errors=True)
