"""Indexes for the public case list, API and exports at scale (issue 6).

The two partial indexes are declared in Incident.Meta.indexes. PostgreSQL gets one more,
which SQLite cannot declare (it refuses NULLS LAST in an index): the newest-first order is
`start_date DESC NULLS LAST, id DESC`, and a plain (start_date, id) index read backwards
gives NULLS FIRST, so PostgreSQL would sort every published row for the first page.
"""

from django.db import migrations, models

PUBLISHED = "publication_state = 'published' AND archived_at IS NULL"


def create_newest_first(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # The list page and the API, newest first: first page and keyset (cursor) pages.
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS incident_public_newest_idx ON incidents_incident "
        f"(start_date DESC NULLS LAST, id DESC) WHERE {PUBLISHED}"
    )


def drop_newest_first(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS incident_public_newest_idx")


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0004_follow_up_actions_and_review_permissions"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="incident",
            index=models.Index(
                condition=models.Q(
                    ("archived_at__isnull", True), ("publication_state", "published")
                ),
                fields=["start_date", "id"],
                name="incident_public_date_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="incident",
            index=models.Index(
                condition=models.Q(
                    ("archived_at__isnull", True), ("publication_state", "published")
                ),
                fields=["kind", "start_date", "location"],
                name="incident_public_kind_date_idx",
            ),
        ),
        migrations.RunPython(create_newest_first, drop_newest_first, elidable=False),
    ]
