"""``flask --app award_service backup create|restore|verify|prune|keys``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from ... import keys
from ...extensions import db
from ...timeutil import utcnow
from . import service
from .archive import BackupError

backup_cli = AppGroup("backup", help="Backups of the database: create, restore, verify, prune.")


def _unreachable(exc: SQLAlchemyError) -> click.ClickException:
    """The database did not answer (down, or no such database): one line, no traceback."""
    reason = " ".join(str(getattr(exc, "orig", None) or exc).split())[:300]
    return click.ClickException(f"the database cannot be used: {reason}")


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def _summary(manifest: dict) -> str:
    tables = manifest["tables"]
    awards = manifest.get("awards") or {"rows": 0}
    return (
        f"{manifest['database']['kind']}, migration {manifest['alembic_revision'] or 'none'}, "
        f"{len(tables)} tables, {sum(tables.values())} rows, {awards['rows']} awards"
    )


def _recipients(given: tuple[str, ...]) -> list[str]:
    if given:
        return list(given)
    configured = str(current_app.config.get("AWARD_BACKUP_ENCRYPT_TO") or "")
    return [item.strip() for item in configured.split(",") if item.strip()]


@backup_cli.command("create")
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="The backup file, or a directory to name it in (award-backup-<UTC time>.tar). Default: AWARD_BACKUP_DIR.",
)
@click.option(
    "--encrypt-to",
    "encrypt_to",
    multiple=True,
    metavar="RECIPIENT",
    help="Encrypt to an age recipient (age1…, ssh-ed25519 …, or a file of them); repeat for several. "
    "Default: AWARD_BACKUP_ENCRYPT_TO.",
)
def create(output, encrypt_to):
    """Back up the database (SQLite: online backup; PostgreSQL: pg_dump) with a manifest and its checksum."""
    try:
        made = service.create(current_app.config, db.engine, db.session, output, _recipients(encrypt_to))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    except SQLAlchemyError as exc:
        raise _unreachable(exc) from exc
    manifest = made.manifest
    click.echo(
        f"backup written: {made.path} ({_summary(manifest)}; {_size(made.path.stat().st_size)}, {made.seconds:.1f} s)"
    )
    click.echo(f"dump sha256: {manifest['dump']['sha256']}")
    if manifest["encrypted_to"]:
        click.echo(f"encrypted to {manifest['encrypted_to']} age recipient(s): restore with --identity")
    else:
        click.echo("not encrypted: it holds personal data, keep it where only the operators can read it")
    click.echo("keys the data needs (not in the backup: keep them in escrow, apart from the backups):")
    for key in manifest["keys"]:
        click.echo(f"  {key['name']} ({key['config']}): {key['fingerprint']}")
    if not made.audited:
        click.echo("warning: the backup could not be audited (see the log)")


@backup_cli.command("restore")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that holds data.")
@click.option(
    "--identity",
    type=click.Path(path_type=Path),
    default=None,
    help="age identity file to decrypt an encrypted backup.",
)
@click.option(
    "--replace-key",
    "replace_keys",
    multiple=True,
    metavar="NAME",
    help="Restore under this configuration's key instead of the backup's, for a key no stored data depends on "
    "(secret_key: everyone signs in again). Never allowed for keys that encrypt or sign stored data.",
)
def restore(file, force, identity, replace_keys):
    """Restore FILE into the configured database, all or nothing; stop the service and workers first."""
    try:
        done = service.restore(
            current_app.config,
            db.engine,
            db.session,
            file,
            identity=identity,
            force=force,
            replace_keys=frozenset(replace_keys),
        )
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    except SQLAlchemyError as exc:
        raise _unreachable(exc) from exc
    manifest = done.manifest
    click.echo(
        f"restored {file} (made {manifest['created_at']} by release {manifest.get('app_version')}): "
        f"{_summary(manifest)}; rows and the award register's checksum match the manifest ({done.seconds:.1f} s)"
    )
    for name in done.replaced_keys:
        click.echo(f"key {name} replaced by this configuration's: sessions and open forms signed with the old one end")
    heads = ", ".join(done.heads)
    if done.behind:
        click.echo(
            f"the database is at migration {done.revision}, behind this release's {heads}: "
            "run `flask --app award_service db upgrade` before starting the service"
        )
    else:
        click.echo(f"the database is at migration {done.revision}, this release's head: the service can start")
    if not done.audited:
        click.echo("warning: the restore could not be audited (see the log)")


@backup_cli.command("verify")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--identity", type=click.Path(path_type=Path), default=None, help="age identity file, if encrypted.")
def verify(file, identity):
    """Read FILE, check its checksum, show its manifest and whether this configuration has the keys it needs."""
    try:
        checked = service.verify(current_app.config, file, identity)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    manifest = checked.manifest
    click.echo(f"{file}: checksum ok; made {manifest['created_at']} by release {manifest.get('app_version')}")
    click.echo(f"  {_summary(manifest)}{'; encrypted' if checked.encrypted else ''}")
    for key in manifest["keys"]:
        click.echo(f"  needs {key['name']} ({key['config']}): {key['fingerprint']}")
    if checked.key_problems:
        raise click.ClickException("this configuration cannot restore it: " + "; ".join(checked.key_problems))
    click.echo("  this configuration has every key it needs")


@backup_cli.command("prune")
@click.argument("directory", type=click.Path(path_type=Path), required=False)
@click.option("--keep-days", type=int, default=None, help="Default: AWARD_BACKUP_KEEP_DAYS.")
@click.option(
    "--keep-count",
    type=int,
    default=None,
    help="Keep this many newest whatever their age. Default: AWARD_BACKUP_KEEP_COUNT.",
)
@click.option("--dry-run", is_flag=True, help="Only say what would be deleted.")
def prune(directory, keep_days, keep_count, dry_run):
    """Delete backups older than the retention setting from DIRECTORY (default AWARD_BACKUP_DIR); never the newest."""
    config = current_app.config
    if directory is None:
        if not config.get("AWARD_BACKUP_DIR"):
            raise click.ClickException("give the DIRECTORY of the backups, or set AWARD_BACKUP_DIR")
        directory = Path(config["AWARD_BACKUP_DIR"])
    try:
        result = service.prune(
            directory,
            keep_days=config["AWARD_BACKUP_KEEP_DAYS"] if keep_days is None else keep_days,
            keep_count=config["AWARD_BACKUP_KEEP_COUNT"] if keep_count is None else keep_count,
            now=utcnow(),
            dry_run=dry_run,
        )
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    verb = "would delete" if dry_run else "deleted"
    for path in result.deleted:
        click.echo(f"{verb} {path.name}")
    click.echo(f"{verb} {len(result.deleted)}, kept {len(result.kept)}")


@backup_cli.command("keys")
def show_keys():
    """The fingerprints of the keys this configuration holds, to compare with the escrow's and a backup's."""
    for key in keys.registered():
        value = key.value(current_app.config)
        shown = keys.fingerprint(value) if value is not None else "not set"
        click.echo(f"{key.name} ({key.config}): {shown}")
        click.echo(f"  {key.protects}")
