"""Backups: create, restore, verify, prune.

The functions take what they need (the configuration, the engine, a session,
paths) and raise :class:`BackupError` with one line for the operator; the
``flask backup`` commands (``cli.py``) call them.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from ... import keys
from ...actor import Actor
from ...audit import record
from ...extensions import DbSession
from ...timeutil import utcnow
from . import archive, facts, postgres, sqlite
from .archive import BackupError

log = logging.getLogger(__name__)
ACTOR = Actor.system("backup")


def app_version() -> str:
    try:
        return package_version("award-service")
    except PackageNotFoundError:
        return "unknown"


def database_kind(engine: Engine) -> str:
    name = engine.dialect.name
    if name not in ("sqlite", "postgresql"):
        raise BackupError(f"backups support SQLite and PostgreSQL, not {name}")
    return name


def sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError("the SQLite database is in memory or given as a URI: there is no file to back up")
    return Path(database)


def _lock_timeout(config: Mapping[str, Any]) -> float:
    return float(config.get("AWARD_BACKUP_LOCK_TIMEOUT") or 30)


def needed_keys(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The manifest's ``keys``: each registered key the configuration holds, by fingerprint."""
    needed = []
    for key in keys.registered():
        value = key.value(config)
        if value is None:
            continue
        needed.append(
            {
                "name": key.name,
                "config": key.config,
                "fingerprint": keys.fingerprint(value),
                "replaceable": key.replaceable,
            }
        )
    return needed


def _work_directory(near: Path) -> tempfile.TemporaryDirectory[str]:
    """A private temporary directory beside ``near`` (same file system, which
    has room for the database), else the system's."""
    directory = near if near.is_dir() else near.parent
    try:
        return tempfile.TemporaryDirectory(dir=directory, prefix=".award-backup-")
    except OSError:
        return tempfile.TemporaryDirectory(prefix="award-backup-")


# ------------------------------------------------------------------ create


@dataclass
class Created:
    path: Path
    manifest: dict[str, Any]
    seconds: float
    audited: bool


def create(
    config: Mapping[str, Any],
    engine: Engine,
    session: DbSession,
    output: Path | None,
    recipients: list[str],
    *,
    now: datetime | None = None,
) -> Created:
    """Back up the database to ``output`` (a file, or a directory to name it in;
    default AWARD_BACKUP_DIR), encrypted to ``recipients`` when given."""
    started = time.monotonic()
    now = now or utcnow()
    parsed = archive.parse_recipients(recipients)
    if output is None:
        if not config.get("AWARD_BACKUP_DIR"):
            raise BackupError("give --output FILE (or a directory), or set AWARD_BACKUP_DIR")
        output = Path(config["AWARD_BACKUP_DIR"])
    if output.is_dir():
        output = output / archive.default_name(now, bool(parsed))
    kind = database_kind(engine)
    with _work_directory(output.parent) as work:
        workdir = Path(work)
        if kind == "sqlite":
            dump, found = sqlite.dump(sqlite_path(engine), workdir, timeout=_lock_timeout(config))
            database = {"kind": kind, "sqlite_version": found["sqlite_version"]}
            dump_format = "SQLite database file, gzip"
        else:
            dump, found = postgres.dump(engine, workdir, lock_timeout=_lock_timeout(config))
            database = {"kind": kind, "server_version": found["server_version"], "schema": found["schema"]}
            dump_format = "pg_dump custom format"
        manifest = {
            "format": archive.FORMAT,
            "format_version": archive.FORMAT_VERSION,
            "created_at": now.isoformat(),
            "app_version": app_version(),
            "database": database,
            "alembic_revision": found["alembic_revision"],
            "tables": found["tables"],
            "awards": found["awards"],
            "dump": {
                "name": dump.name,
                "format": dump_format,
                "size": dump.stat().st_size,
                "sha256": archive.sha256_file(dump),
            },
            "keys": needed_keys(config),
            "encrypted_to": len(parsed),
        }
        archive.write(output, manifest, dump, dump.name, parsed)
    seconds = time.monotonic() - started
    size = output.stat().st_size
    log.info(
        "backup created: file=%s kind=%s revision=%s tables=%d rows=%d bytes=%d encrypted=%s seconds=%.1f",
        output.name,
        kind,
        manifest["alembic_revision"],
        len(manifest["tables"]),
        sum(manifest["tables"].values()),
        size,
        "yes" if parsed else "no",
        seconds,
    )
    audited = _audit(
        session,
        "backup.create",
        output.name,
        {
            "kind": kind,
            "revision": manifest["alembic_revision"],
            "sha256": manifest["dump"]["sha256"],
            "bytes": size,
            "encrypted": bool(parsed),
            "keys": [k["fingerprint"] for k in manifest["keys"]],
        },
    )
    return Created(output, manifest, seconds, audited)


def _audit(session: DbSession, action: str, name: str, after: dict[str, Any]) -> bool:
    """Audit where the database lets us; a backup or restore that worked is not undone by a failed audit."""
    try:
        record(session, ACTOR, action, "backup", name, after=after)
        session.commit()
    except SQLAlchemyError as exc:
        session.rollback()
        log.warning("%s could not be audited: %s", action, type(exc).__name__)
        return False
    return True


# ------------------------------------------------------------------ reading and checking


def key_problems(
    manifest: Mapping[str, Any], config: Mapping[str, Any], replace: frozenset[str] = frozenset()
) -> tuple[list[str], list[str]]:
    """(refusals, keys replaced): each key the backup needs must be in the
    configuration with the same fingerprint, unless the operator asked to
    replace it and nothing stored depends on it."""
    problems: list[str] = []
    replaced: list[str] = []
    registered = {k.name: k for k in keys.registered()}
    needed = {str(k["name"]): k for k in manifest.get("keys", [])}
    for name in sorted(replace - set(needed)):
        problems.append(f"--replace-key {name}: the backup needs no key of that name")
    for name, entry in needed.items():
        config_name = str(entry["config"])
        expected = str(entry["fingerprint"])
        current = keys.fingerprint_of(config, config_name)
        if current == expected:
            continue
        known = registered.get(name)
        replaceable = known.replaceable if known is not None else bool(entry.get("replaceable"))
        if name in replace:
            if replaceable:
                replaced.append(name)
                continue
            problems.append(
                f"key {name} ({config_name}) cannot be replaced: stored data is encrypted or signed with it; "
                f"set the key with fingerprint {expected} from your key escrow"
            )
            continue
        if current is None:
            problems.append(
                f"{config_name} (key {name}) is not set; the backup needs the key with fingerprint {expected}"
            )
        else:
            problems.append(
                f"{config_name} (key {name}) is not the backup's: expected fingerprint {expected}, "
                f"this configuration's is {current}"
            )
    return problems, replaced


def migration_heads() -> tuple[Any, tuple[str, ...]]:
    from alembic.script import ScriptDirectory

    from ...extensions import migrate

    script = ScriptDirectory(str(migrate.directory))
    return script, tuple(script.get_heads())


def _known_revision(revision: str | None) -> tuple[bool, tuple[str, ...]]:
    script, heads = migration_heads()
    if revision is None:
        return True, heads
    try:
        return script.get_revision(revision) is not None, heads
    except Exception:  # alembic's ResolutionError and CommandError alike: not one of ours
        return False, heads


@dataclass
class Verified:
    manifest: dict[str, Any]
    encrypted: bool
    key_problems: list[str]


def verify(config: Mapping[str, Any], path: Path, identity: Path | None) -> Verified:
    """Read a backup and check its checksum; say which keys this configuration lacks."""
    identities = archive.load_identities(identity) if identity else None
    with _work_directory(path.parent) as work, archive.opened(path, identities, Path(work)) as opened:
        problems, _ = key_problems(opened.manifest, config)
        return Verified(opened.manifest, opened.encrypted, problems)


# ------------------------------------------------------------------ restore


@dataclass
class Restored:
    manifest: dict[str, Any]
    tables: dict[str, int]
    revision: str | None
    heads: tuple[str, ...]
    replaced_keys: list[str] = field(default_factory=list)
    audited: bool = False
    seconds: float = 0.0

    @property
    def behind(self) -> bool:
        return self.revision is not None and self.revision not in self.heads


def restore(
    config: Mapping[str, Any],
    engine: Engine,
    session: DbSession,
    path: Path,
    *,
    identity: Path | None = None,
    force: bool = False,
    replace_keys: frozenset[str] = frozenset(),
) -> Restored:
    """Replace the database with the backup's, all or nothing (see sqlite.py
    and postgres.py for how each does it), then audit the restore in it."""
    started = time.monotonic()
    identities = archive.load_identities(identity) if identity else None
    kind = database_kind(engine)
    with _work_directory(path.parent) as work, archive.opened(path, identities, Path(work)) as opened:
        manifest = opened.manifest
        backup_kind = manifest["database"].get("kind")
        if backup_kind != kind:
            raise BackupError(f"{path.name} is a {backup_kind} backup; this service's database is {kind}")
        problems, replaced = key_problems(manifest, config, replace_keys)
        if problems:
            raise BackupError("restore refused: " + "; ".join(problems))
        revision = manifest["alembic_revision"]
        known, heads = _known_revision(revision)
        if not known:
            raise BackupError(
                f"the backup is at migration {revision}, which this release does not know: "
                f"restore it with the release that made it ({manifest.get('app_version')}) or a later one"
            )
        session.close()  # no connection of ours holds the database while it is replaced
        if kind == "sqlite":
            target = sqlite_path(engine)
            engine.dispose()
            try:
                current = sqlite.target_facts(target, timeout=_lock_timeout(config))
            except Exception as exc:
                raise BackupError(f"{target} cannot be read as a SQLite database ({exc})") from exc
            _refuse_unless_empty(current["tables"] if current else {}, force)
            restored = sqlite.restore(opened.dump, target, manifest, Path(work), timeout=_lock_timeout(config))
            tables = restored["tables"]
        else:
            schema, current = postgres.target_facts(engine)
            _refuse_unless_empty(current["tables"], force)
            postgres.restore(opened.dump, engine, manifest, schema, lock_timeout=_lock_timeout(config))
            tables = dict(manifest["tables"])
        engine.dispose()
    result = Restored(manifest, tables, revision, heads, replaced)
    result.seconds = time.monotonic() - started
    log.info(
        "backup restored: file=%s kind=%s revision=%s tables=%d rows=%d forced=%s replaced_keys=%s seconds=%.1f",
        path.name,
        kind,
        revision,
        len(tables),
        sum(tables.values()),
        "yes" if force else "no",
        ",".join(replaced) or "none",
        result.seconds,
    )
    result.audited = _audit(
        session,
        "backup.restore",
        path.name,
        {
            "kind": kind,
            "created_at": manifest["created_at"],
            "revision": revision,
            "sha256": manifest["dump"]["sha256"],
            "app_version": manifest.get("app_version"),
            "forced": force,
            "replaced_keys": replaced,
        },
    )
    return result


def _refuse_unless_empty(counts: dict[str, int], force: bool) -> None:
    holding = facts.holding_rows(counts)
    if holding and not force:
        listed = ", ".join(f"{t} ({n} {'row' if n == 1 else 'rows'})" for t, n in holding.items())
        raise BackupError(
            f"the database is not empty: {listed}; a restore replaces all of it: "
            "back it up first, then run the restore again with --force"
        )


# ------------------------------------------------------------------ prune


@dataclass
class Pruned:
    deleted: list[Path]
    kept: list[Path]


def prune(directory: Path, *, keep_days: int, keep_count: int, now: datetime, dry_run: bool = False) -> Pruned:
    """Delete the backups in ``directory`` older than ``keep_days``, keeping the
    ``keep_count`` newest whatever their age (at least one: never the newest).
    Only files named as ``create`` names them are looked at; age is read from
    the name (copies keep it, unlike a file's modification time)."""
    if keep_days < 0:
        raise BackupError("the days to keep backups cannot be negative")
    if not directory.is_dir():
        raise BackupError(f"no directory {directory}")
    keep_count = max(1, keep_count)
    found = []
    for path in directory.iterdir():
        made = archive.name_time(path.name)
        if made is not None and path.is_file():
            found.append((made, path.name, path))
    found.sort(reverse=True)  # newest first
    cutoff = now - timedelta(days=keep_days)
    deleted, kept = [], []
    for index, (made, _, path) in enumerate(found):
        if index >= keep_count and made < cutoff:
            deleted.append(path)
        else:
            kept.append(path)
    if not dry_run:
        for path in deleted:
            path.unlink(missing_ok=True)
        if deleted:
            log.info("backups pruned: deleted=%d kept=%d keep_days=%d", len(deleted), len(kept), keep_days)
    return Pruned(deleted, kept)
