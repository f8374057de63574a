"""Indexes for name search on SQLite (issue 6): FTS5 trigram tables over the normalized name
keys of persons and of their name variants, kept by triggers.

`PersonQuerySet.matching_name` asks whether each word of the query's key occurs in a stored
key (a substring test). PostgreSQL answers it from the trigram GIN indexes of 0006; SQLite
had nothing but LIKE, which read all 300,000 people of the benchmark (120-150 ms) for every
search. An FTS5 table with the trigram tokenizer (SQLite 3.34 and later) answers the same
substring test from an index, for words of three or more letters (`people.name_index`).
A vocabulary table over the persons' index tells how many keys hold each letter triple, so
the fuzzy pass of the site search (`incidents.search._near_misses`) looks up its rarest triples
first. Nothing is created on PostgreSQL or on an older SQLite.
"""

import sqlite3

from django.db import migrations

TABLES = {
    "people_person_key": "people_person",
    "people_personname_key": "people_personname",
}
VOCABULARY = "people_person_key_vocabulary"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite" or sqlite3.sqlite_version_info < (3, 34, 0):
        return
    for table, content in TABLES.items():
        schema_editor.execute(
            f"CREATE VIRTUAL TABLE {table} USING fts5(name_key, content='{content}', "
            "content_rowid='id', tokenize='trigram')"
        )
        schema_editor.execute(
            f"CREATE TRIGGER {table}_insert AFTER INSERT ON {content} BEGIN "
            f"INSERT INTO {table}(rowid, name_key) VALUES (new.id, new.name_key); END"
        )
        schema_editor.execute(
            f"CREATE TRIGGER {table}_delete AFTER DELETE ON {content} BEGIN "
            f"INSERT INTO {table}({table}, rowid, name_key) "
            "VALUES ('delete', old.id, old.name_key); END"
        )
        schema_editor.execute(
            f"CREATE TRIGGER {table}_update AFTER UPDATE OF name_key ON {content} BEGIN "
            f"INSERT INTO {table}({table}, rowid, name_key) "
            "VALUES ('delete', old.id, old.name_key); "
            f"INSERT INTO {table}(rowid, name_key) VALUES (new.id, new.name_key); END"
        )
        schema_editor.execute(f"INSERT INTO {table}({table}) VALUES ('rebuild')")
    schema_editor.execute(
        f"CREATE VIRTUAL TABLE {VOCABULARY} USING fts5vocab(people_person_key, 'row')"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    schema_editor.execute(f"DROP TABLE IF EXISTS {VOCABULARY}")
    for table in TABLES:
        for suffix in ("insert", "delete", "update"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_{suffix}")
        schema_editor.execute(f"DROP TABLE IF EXISTS {table}")


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0006_name_key_trigram_indexes"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
