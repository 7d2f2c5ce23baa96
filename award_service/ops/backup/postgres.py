"""PostgreSQL: ``pg_dump`` in its custom format, ``pg_restore`` into one transaction.

Backing up: a REPEATABLE READ transaction exports its snapshot; the manifest's
facts are read in it and ``pg_dump --snapshot`` dumps exactly that moment, so
the counts and the dump agree while the service goes on writing.

Restoring: ``pg_restore`` turns the dump into SQL (``--clean --if-exists``,
no owners or grants, so another role on another server can restore it), which
``psql`` runs inside one transaction that this module opens and closes:

1. drop every table of the schema (tables a later migration added, which the
   dump would not replace, included);
2. the dump;
3. check the rows of every table and the award register's checksum against
   the manifest, raising an exception on any difference;
4. COMMIT, written only after ``pg_restore`` has finished without error.

Any failure before the COMMIT (an error in the SQL, a check, ``pg_restore``
stopping half-way) ends the connection with the transaction open, and the
server rolls it back: the database is as it was.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import URL, Connection, Engine

from . import facts
from .archive import CHUNK, BackupError

DUMP_NAME = "database.pgdump"
TOOLS = ("pg_dump", "pg_restore", "psql")


def _query(connection: Connection):
    def run(sql: str) -> Sequence[Sequence[Any]]:
        return [tuple(row) for row in connection.execute(text(sql)).all()]

    return run


def libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URI for the tools, and their environment: the
    password travels in PGPASSWORD, never on a command line others can read."""
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    env.setdefault("PGAPPNAME", "award-backup")
    env["PGOPTIONS"] = (env.get("PGOPTIONS", "") + " -c client_min_messages=warning").strip()
    uri = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not on PATH: install PostgreSQL's client tools (the server's major version)")
    return found


def _last_error(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if "ERROR" in line or "error" in line or "FATAL" in line]
    return (errors or lines or ["no message"])[-1][:300]


def read_facts(connection: Connection, schema: str) -> dict[str, Any]:
    query = _query(connection)
    tables = facts.postgres_tables(query, schema)
    return {
        "tables": facts.row_counts(query, tables, schema),
        "alembic_revision": facts.revision(query, tables, schema),
        "awards": facts.postgres_awards(query, tables, schema),
    }


def target_facts(engine: Engine) -> tuple[str, dict[str, Any]]:
    with engine.connect() as connection:
        schema = str(connection.scalar(text("SELECT current_schema()")))
        found = read_facts(connection, schema)
        connection.rollback()
    return schema, found


def dump(engine: Engine, workdir: Path, *, lock_timeout: float = 30) -> tuple[Path, dict[str, Any]]:
    """``pg_dump --format=custom`` of one snapshot, and the facts of that snapshot."""
    output = workdir / DUMP_NAME
    uri, env = libpq(engine.url)
    pg_dump = _tool("pg_dump")
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot = str(connection.scalar(text("SELECT pg_export_snapshot()")))
            schema = str(connection.scalar(text("SELECT current_schema()")))
            found = read_facts(connection, schema)
            found["schema"] = schema
            found["server_version"] = str(connection.scalar(text("SHOW server_version")))
            result = subprocess.run(
                [
                    pg_dump,
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    f"--lock-wait-timeout={int(lock_timeout * 1000)}",
                    f"--file={output}",
                    "--dbname",
                    uri,
                ],
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                check=False,
            )
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {_last_error(result.stderr)}")
    return output, found


def _checks(manifest: dict[str, Any], schema: str) -> str:
    """A DO block that raises unless the restored data is what the manifest says."""
    lines = []
    for table, rows in sorted(manifest["tables"].items()):
        name = f"{facts.quote(schema)}.{facts.quote(table)}"
        label = table.replace("'", "''")
        lines.append(
            f"  SELECT count(*) INTO n FROM {name};\n"
            f"  IF n <> {int(rows)} THEN RAISE EXCEPTION 'restore check: table {label} holds % rows, "
            f"the manifest says {int(rows)}', n; END IF;"
        )
    awards = manifest.get("awards")
    if awards:
        digest = str(awards["sha256"])
        if not all(c in "0123456789abcdef" for c in digest):
            raise BackupError("the manifest's awards checksum is not a SHA-256")
        lines.append(
            f"  SELECT d INTO h FROM ({facts.postgres_awards_sql(schema)}) AS t(c, d);\n"
            f"  IF h <> '{digest}' THEN RAISE EXCEPTION 'restore check: the award register''s checksum differs'; "
            "END IF;"
        )
    body = "\n".join(lines)
    return f"DO $award_restore_check$\nDECLARE n bigint; h text;\nBEGIN\n{body}\nEND\n$award_restore_check$;\n"


def _drop_tables(schema: str) -> str:
    literal = "'" + schema.replace("'", "''") + "'"
    return (
        "DO $award_restore_drop$\nDECLARE r record;\nBEGIN\n"
        f"  FOR r IN SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = {literal} LOOP\n"
        f"    EXECUTE format('DROP TABLE IF EXISTS %I.%I CASCADE', {literal}, r.tablename);\n"
        "  END LOOP;\nEND\n$award_restore_drop$;\n"
    )


def restore(
    dump_path: Path, engine: Engine, manifest: dict[str, Any], target_schema: str, *, lock_timeout: float = 30
) -> None:
    """Replace the database's data with the dump's, in one transaction (see the
    module).  Waits at most ``lock_timeout`` seconds for the tables: a running
    service or worker in the middle of a transaction holds them."""
    schema = str(manifest["database"].get("schema") or "public")
    if schema != target_schema:
        raise BackupError(
            f"the backup's tables are in schema {schema}, this database's connection uses {target_schema}"
        )
    uri, env = libpq(engine.url)
    pg_restore, psql = _tool("pg_restore"), _tool("psql")
    engine.dispose()  # our own pooled connections hold nothing the restore must wait for
    with tempfile.TemporaryFile() as restore_err, tempfile.TemporaryFile() as psql_err:
        source = subprocess.Popen(
            [
                pg_restore,
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--file=-",
                str(dump_path),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=restore_err,
            env=env,
        )
        sink = subprocess.Popen(
            [psql, "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", "--dbname", uri],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=psql_err,
            env=env,
        )
        assert source.stdout is not None and sink.stdin is not None
        committed = False
        try:
            sink.stdin.write(
                f"BEGIN;\nSET LOCAL lock_timeout = '{int(lock_timeout * 1000)}ms';\n{_drop_tables(schema)}".encode()
            )
            shutil.copyfileobj(source.stdout, sink.stdin, CHUNK)
            if source.wait() == 0:
                sink.stdin.write(b"\n" + _checks(manifest, schema).encode() + b"COMMIT;\n")
                committed = True
        except BrokenPipeError:
            pass  # psql stopped at an error: what it said is read below
        finally:
            with contextlib.suppress(BrokenPipeError):
                sink.stdin.close()
            if source.poll() is None:
                source.kill()
            source.wait()
            source.stdout.close()
            sink_code = sink.wait()
        restore_err.seek(0)
        psql_err.seek(0)
        restore_text = restore_err.read().decode("utf-8", "replace")
        psql_text = psql_err.read().decode("utf-8", "replace")
    if sink_code != 0:
        if "lock timeout" in psql_text:
            raise BackupError(
                f"the restore waited {lock_timeout:g} s for tables another connection holds and was rolled back: "
                "stop the service and its workers, then restore again"
            )
        raise BackupError(f"the restore failed and was rolled back: {_last_error(psql_text)}")
    if source.returncode != 0 or not committed:
        raise BackupError(f"pg_restore failed; the restore was rolled back: {_last_error(restore_text)}")
