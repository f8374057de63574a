"""Indexes for the site search (`/search/`, incidents/search.py) at a million incidents
(issue 6): before them its incident query computed a text vector for every incident, over 20 s
a request at that size.

- SQLite: an FTS5 trigram table over the statements' text, kept by triggers, as 0007 made for
  the incidents' texts (a case-insensitive substring test from an index).
- PostgreSQL: a trigram GIN index on UPPER(statement text) for the same test, and GIN indexes
  on the full-text documents of incidents and statements (`incidents.text_search`'s
  INCIDENT_DOCUMENT and STATEMENT_DOCUMENT; a query must use the very same expression for
  PostgreSQL to use the index).
"""

import sqlite3

from django.db import migrations

# Copied, not imported: a migration must keep meaning what it meant when it was written.
STATEMENT_TABLE = "incidents_statement_text"
INCIDENT_DOCUMENT = (
    "to_tsvector('english'::regconfig, COALESCE(title, '') || ' ' || COALESCE(summary, '') "
    "|| ' ' || COALESCE(description, ''))"
)
STATEMENT_DOCUMENT = "to_tsvector('english'::regconfig, COALESCE(text, ''))"
POSTGRES_INDEXES = {
    "statement_text_trgm_idx": ("incidents_statement", "(UPPER(text::text)) gin_trgm_ops"),
    "incident_document_idx": ("incidents_incident", f"({INCIDENT_DOCUMENT})"),
    "statement_document_idx": ("incidents_statement", f"({STATEMENT_DOCUMENT})"),
}


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for name, (table, expression) in POSTGRES_INDEXES.items():
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({expression})"
            )
        return
    if vendor != "sqlite" or sqlite3.sqlite_version_info < (3, 34, 0):
        return
    table = STATEMENT_TABLE
    schema_editor.execute(
        f"CREATE VIRTUAL TABLE {table} USING fts5(text, content='incidents_statement', "
        "content_rowid='id', tokenize='trigram')"
    )
    schema_editor.execute(
        f"CREATE TRIGGER {table}_insert AFTER INSERT ON incidents_statement BEGIN "
        f"INSERT INTO {table}(rowid, text) VALUES (new.id, new.text); END"
    )
    schema_editor.execute(
        f"CREATE TRIGGER {table}_delete AFTER DELETE ON incidents_statement BEGIN "
        f"INSERT INTO {table}({table}, rowid, text) VALUES ('delete', old.id, old.text); END"
    )
    schema_editor.execute(
        f"CREATE TRIGGER {table}_update AFTER UPDATE OF text ON incidents_statement BEGIN "
        f"INSERT INTO {table}({table}, rowid, text) VALUES ('delete', old.id, old.text); "
        f"INSERT INTO {table}(rowid, text) VALUES (new.id, new.text); END"
    )
    schema_editor.execute(f"INSERT INTO {table}({table}) VALUES ('rebuild')")


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for name in POSTGRES_INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    elif vendor == "sqlite":
        for suffix in ("insert", "delete", "update"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {STATEMENT_TABLE}_{suffix}")
        schema_editor.execute(f"DROP TABLE IF EXISTS {STATEMENT_TABLE}")


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0008_list_indexes_for_bound_parameters"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
