"""Trigram indexes on the normalized name keys, PostgreSQL only (issue 6).

Name search (`PersonQuerySet.matching_name`: name_key LIKE '%word%' for each word, on the
person and on its name variants; and the fuzzy pass, `TrigramWordSimilarity` on name_key)
cannot use a B-tree index. A GIN index with gin_trgm_ops (pg_trgm, enabled by 0002) answers
both. SQLite has no such index, so the operation does nothing there (and a GinIndex in
Meta.indexes would fail on it).
"""

from django.db import migrations

INDEXES = {
    "person_name_key_trgm_idx": "people_person",
    "personname_name_key_trgm_idx": "people_personname",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (name_key gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0005_staff_role_groups"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
