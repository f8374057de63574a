"""An index for the case list's text search (`q`: words anywhere in an incident's title,
summary or description), so that a search at a million incidents reads the matches from
an index instead of every row (issue 6; EXPLAIN in bench/README.md).

The search stays a case-insensitive substring match on both databases:

- SQLite: an FTS5 table with the trigram tokenizer (SQLite 3.34 and later), kept by
  triggers, which answers substring queries of three or more characters and folds case in
  every script (SQLite's own LIKE folds only ASCII). `incidents.text_search` uses it when it
  exists and the query is long enough, and falls back to LIKE otherwise.
- PostgreSQL: trigram GIN indexes (pg_trgm, enabled by people/0002) on the upper-cased
  columns, the expression Django's `icontains` compares, so the unchanged filter uses them.
"""

import sqlite3

from django.db import migrations

TABLE = "incidents_incident_text"
COLUMNS = ("title", "summary", "description")
POSTGRES_INDEXES = {column: f"incident_{column}_trgm_idx" for column in COLUMNS}


def sqlite_has_trigram() -> bool:
    return sqlite3.sqlite_version_info >= (3, 34, 0)


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for column, name in POSTGRES_INDEXES.items():
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON incidents_incident "
                f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
            )
        return
    if vendor != "sqlite" or not sqlite_has_trigram():
        return
    columns = ", ".join(COLUMNS)
    new = ", ".join(f"new.{c}" for c in COLUMNS)
    old = ", ".join(f"old.{c}" for c in COLUMNS)
    schema_editor.execute(
        f"CREATE VIRTUAL TABLE {TABLE} USING fts5({columns}, content='incidents_incident', "
        "content_rowid='id', tokenize='trigram')"
    )
    schema_editor.execute(
        f"CREATE TRIGGER {TABLE}_insert AFTER INSERT ON incidents_incident BEGIN "
        f"INSERT INTO {TABLE}(rowid, {columns}) VALUES (new.id, {new}); END"
    )
    schema_editor.execute(
        f"CREATE TRIGGER {TABLE}_delete AFTER DELETE ON incidents_incident BEGIN "
        f"INSERT INTO {TABLE}({TABLE}, rowid, {columns}) VALUES ('delete', old.id, {old}); END"
    )
    schema_editor.execute(
        f"CREATE TRIGGER {TABLE}_update AFTER UPDATE OF {columns} ON incidents_incident BEGIN "
        f"INSERT INTO {TABLE}({TABLE}, rowid, {columns}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO {TABLE}(rowid, {columns}) VALUES (new.id, {new}); END"
    )
    schema_editor.execute(f"INSERT INTO {TABLE}({TABLE}) VALUES ('rebuild')")


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for name in POSTGRES_INDEXES.values():
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    elif vendor == "sqlite":
        for suffix in ("insert", "delete", "update"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_{suffix}")
        schema_editor.execute(f"DROP TABLE IF EXISTS {TABLE}")


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0006_public_incident_counts"),
        ("people", "0002_trigram_extension"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
