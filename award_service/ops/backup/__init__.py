"""Backups and restore: ``flask --app award_service backup …``.

One file per backup: a tar of ``manifest.json`` and the database dump
(``archive``), made and restored by SQLite's online backup API (``sqlite``) or
pg_dump/pg_restore (``postgres``), orchestrated by ``service`` for the
commands in ``cli``.
"""

from .archive import BackupError

__all__ = ["BackupError"]
