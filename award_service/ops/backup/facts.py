"""What a backup's manifest says about the data, read the same way from the
database being backed up and from a restored one: the tables and their rows,
the migration, and a checksum of the award register."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

Query = Callable[[str], Sequence[Sequence[Any]]]

# Tables a freshly migrated database already holds rows in: Alembic's own, and
# the districts the first migration loads.  Rows elsewhere make a database
# "not empty" (any change to a district writes an audit event, so a changed
# district shows as rows in audit_events).
SEEDED = frozenset({"alembic_version", "districts"})
# The award register's checksum covers these columns (present since migration 0006).
AWARD_COLUMNS = ("serial", "full_name", "verify_code", "status")
FIELD_SEP, ROW_SEP = "\x1f", "\x1e"


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sqlite_tables(query: Query) -> list[str]:
    rows = query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")
    return sorted(str(r[0]) for r in rows)


def postgres_tables(query: Query, schema: str) -> list[str]:
    literal = "'" + schema.replace("'", "''") + "'"
    rows = query(f"SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = {literal}")
    return sorted(str(r[0]) for r in rows)


def row_counts(query: Query, tables: list[str], schema: str | None = None) -> dict[str, int]:
    prefix = f"{quote(schema)}." if schema else ""
    return {t: int(query(f"SELECT count(*) FROM {prefix}{quote(t)}")[0][0]) for t in tables}


def revision(query: Query, tables: list[str], schema: str | None = None) -> str | None:
    if "alembic_version" not in tables:
        return None
    prefix = f"{quote(schema)}." if schema else ""
    rows = query(f"SELECT version_num FROM {prefix}alembic_version")
    if len(rows) != 1:
        return None  # several heads, or none: not a database this release made
    return str(rows[0][0])


def awards_digest_of_rows(rows: Sequence[Sequence[Any]]) -> str:
    """SHA-256 of the register's rows sorted by serial (code-point order, which
    is PostgreSQL's COLLATE "C" order of their UTF-8 bytes), fields joined by
    U+001F and rows by U+001E: the same value :data:`POSTGRES_AWARDS_DIGEST` computes."""
    ordered = sorted(tuple("" if v is None else str(v) for v in row) for row in rows)
    text = ROW_SEP.join(FIELD_SEP.join(row) for row in ordered)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sqlite_awards(query: Query, tables: list[str]) -> dict[str, Any] | None:
    if "awards" not in tables:
        return None
    rows = query(f"SELECT {', '.join(AWARD_COLUMNS)} FROM awards")
    return {"rows": len(rows), "sha256": awards_digest_of_rows(rows)}


def postgres_awards_sql(schema: str) -> str:
    """One row: the register's row count and the checksum of
    :func:`awards_digest_of_rows`, computed by the server (so that a restore
    can check it inside its own transaction)."""
    fields = ", ".join(f"coalesce({c}::text, '')" for c in AWARD_COLUMNS)
    return (
        "SELECT count(*), encode(sha256(convert_to(coalesce(string_agg("
        f"concat_ws(E'\\x1f', {fields}), E'\\x1e' ORDER BY serial COLLATE \"C\"), ''), 'UTF8')), 'hex') "
        f"FROM {quote(schema)}.awards"
    )


def postgres_awards(query: Query, tables: list[str], schema: str) -> dict[str, Any] | None:
    if "awards" not in tables:
        return None
    count, digest = query(postgres_awards_sql(schema))[0]
    return {"rows": int(count), "sha256": str(digest)}


def holding_rows(counts: dict[str, int]) -> dict[str, int]:
    """The tables that make a database not empty, with their rows."""
    return {t: n for t, n in sorted(counts.items()) if n and t not in SEEDED}
