"""Old addresses (issue 13, item 4): the `SlugRedirect` table, filled from the history.

Every slug an incident, situation, place, person or organization had before its current one
is in its history rows (django-simple-history); each becomes an old address of the record,
so links made before this release answer 301 too. A slug two records had in turn leads to
the one that had it last. A person's slugs never lead the public anywhere (`public` false)
if they were held while the identity was withheld, or before it was withheld (the name-made
slug a withheld person had: answering with the new address would confirm who they are).
"""

import re

import django.db.models.deletion
from django.db import migrations, models

WITHHELD_SLUG = re.compile(r"p-[0-9a-f]{12}")

SLUGGED = [
    ("incidents", "Incident"),
    ("incidents", "Situation"),
    ("incidents", "Location"),
    ("people", "Person"),
    ("people", "Organization"),
]


def old_slugs(model, historical, *, withheld_aware: bool) -> dict:
    """{old_slug: (object_id, last seen, public)} from the history of `model`."""
    current = dict(model._base_manager.values_list("pk", "slug"))
    columns = ["id", "slug", "history_date"]
    if withheld_aware:
        columns.append("identity_withheld")
    rows = historical.objects.order_by("id", "history_date", "history_id").values_list(*columns)
    found: dict = {}
    per_record: dict = {}
    for row in rows.iterator():
        object_id, slug, when = row[:3]
        withheld = bool(row[3]) if withheld_aware else False
        per_record.setdefault(object_id, []).append((slug, when, withheld))
    for object_id, history in per_record.items():
        if object_id not in current:  # deleted since: nothing to lead to
            continue
        for index, (slug, when, _withheld) in enumerate(history):
            if not slug or slug == current[object_id]:
                continue
            # Held while withheld, or before being withheld: never public.
            hidden = any(later_withheld for _s, _w, later_withheld in history[index:])
            public = not (hidden or WITHHELD_SLUG.fullmatch(slug))
            seen = found.get(slug)
            if seen is not None and seen[0] == object_id:
                found[slug] = (object_id, max(seen[1], when), seen[2] and public)
            elif seen is None or seen[1] <= when:
                found[slug] = (object_id, when, public)
    return found


def backfill_slug_redirects(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    SlugRedirect = apps.get_model("incidents", "SlugRedirect")
    for app_label, name in SLUGGED:
        model = apps.get_model(app_label, name)
        historical = apps.get_model(app_label, f"Historical{name}")
        content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=name.lower())
        found = old_slugs(model, historical, withheld_aware=name == "Person")
        existing = set(
            SlugRedirect.objects.filter(content_type=content_type).values_list(
                "old_slug", flat=True
            )
        )
        SlugRedirect.objects.bulk_create(
            [
                SlugRedirect(
                    content_type=content_type,
                    object_id=object_id,
                    old_slug=slug,
                    public=public,
                )
                for slug, (object_id, _when, public) in found.items()
                if slug not in existing
            ],
            batch_size=500,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("incidents", "0013_revision"),
        ("people", "0009_position_updated_at"),
    ]

    operations = [
        migrations.CreateModel(
            name="SlugRedirect",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("object_id", models.PositiveBigIntegerField(verbose_name="record id")),
                ("old_slug", models.SlugField(max_length=200, verbose_name="old slug")),
                (
                    "public",
                    models.BooleanField(
                        default=True,
                        help_text="False for the slugs of a withheld identity: they answer 404 to the public.",
                        verbose_name="redirects the public",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                (
                    "content_type",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        to="contenttypes.contenttype",
                        verbose_name="kind of record",
                    ),
                ),
            ],
            options={
                "verbose_name": "old address",
                "verbose_name_plural": "old addresses",
                "indexes": [
                    models.Index(
                        fields=["content_type", "object_id"], name="slug_redirect_record_idx"
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("content_type", "old_slug"),
                        name="slug_redirect_one_per_kind_and_slug",
                    )
                ],
            },
        ),
        migrations.RunPython(backfill_slug_redirects, migrations.RunPython.noop),
    ]
