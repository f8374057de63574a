"""Each incident's earliest and latest possible day (issue 13, uncertain dates): a new
`earliest_date`, and `latest_date` now widened for a date known only approximately ("around
7 January" may be as late as 10 January). Both are filled by the same pure function that
save() and bulk_create() use (`fill_possible_span`), not by the model's save()."""

from django.db import migrations, models

from incidents.partial_dates import possible_span, span_dates

BATCH = 2000


def fill_possible_span(incidents) -> list:
    """Set `earliest_date` and `latest_date` on each of `incidents` (any objects with the
    start and end fields) from its partial dates; returns those whose values changed."""
    changed = []
    for incident in incidents:
        earliest, latest = possible_span(*span_dates(incident))
        if (incident.earliest_date, incident.latest_date) != (earliest, latest):
            incident.earliest_date, incident.latest_date = earliest, latest
            changed.append(incident)
    return changed


def fill(apps, schema_editor):
    Incident = apps.get_model("incidents", "Incident")
    rows = Incident.objects.order_by().only(
        "pk",
        "start_date",
        "start_date_precision",
        "end_date",
        "end_date_precision",
        "earliest_date",
        "latest_date",
    )
    batch = []
    for incident in rows.iterator(chunk_size=BATCH):
        batch.append(incident)
        if len(batch) >= BATCH:
            Incident.objects.bulk_update(
                fill_possible_span(batch), ["earliest_date", "latest_date"]
            )
            batch = []
    if batch:
        Incident.objects.bulk_update(fill_possible_span(batch), ["earliest_date", "latest_date"])


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0013_revision"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalincident",
            name="earliest_date",
            field=models.DateField(
                db_index=True, editable=False, null=True, verbose_name="earliest possible date"
            ),
        ),
        migrations.AddField(
            model_name="incident",
            name="earliest_date",
            field=models.DateField(
                db_index=True, editable=False, null=True, verbose_name="earliest possible date"
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
