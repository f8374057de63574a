"""Each fact a record already tells becomes its one preferred account, citing the record's
sources (issue 13, item 3); and the staff roles get the permissions on accounts.

A fact is told when its column is not empty: an incident's date and place; a detention's
date, places of arrest, custody and release, release date, detaining authority, reported age,
and an outcome other than "unknown"; every allegation's status. The accounts are written in
bulk, a chunk of records at a time, without history entries (like the rows of any data
migration: the record's own history holds the value). Running it again adds nothing: a
record's fact that has a preferred account already is skipped.
"""

from __future__ import annotations

from django.db import migrations

from cabar_tracker.roles import sync_role_groups

CHUNK = 2000

# subject: [(fact, kind, column)], as incidents.models.FACTS was when this was written.
FACTS = {
    "incident": [
        ("incident_date", "date", "start_date"),
        ("incident_place", "place", "location_id"),
    ],
    "detention": [
        ("detention_date", "date", "detained_on"),
        ("arrest_place", "place", "arrest_location_id"),
        ("detaining_authority", "authority", "detaining_organization_id"),
        ("custody_place", "place", "custody_location_id"),
        ("release_date", "date", "released_on"),
        ("release_place", "place", "release_location_id"),
        ("outcome", "choice", "outcome"),
        ("reported_age", "number", "reported_age"),
    ],
    "allegation": [("allegation_status", "choice", "status")],
}
EMPTY = {"outcome": "unknown"}


def _columns(subject: str) -> list[str]:
    names = ["id"]
    for _fact, kind, column in FACTS[subject]:
        names.append(column)
        if kind == "date":
            names.append(f"{column}_precision")
        if kind == "authority":
            names.append("detaining_authority_text")
    return names


def _truncated(day, precision: str):
    """The representative day of a date at its precision (the record may hold a later day
    inside the period: a release in "January 2022" after a detention on 7 January)."""
    if precision == "year":
        return day.replace(month=1, day=1)
    if precision == "month":
        return day.replace(day=1)
    return day


def _account_fields(kind: str, column: str, row: dict) -> dict | None:
    """The value columns of an account telling what the record's row tells, or None."""
    value = row[column]
    if kind == "date":
        if value is None:
            return None
        precision = row[f"{column}_precision"] or "day"
        return {"value_date": _truncated(value, precision), "value_date_precision": precision}
    if kind == "place":
        return {"value_location_id": value} if value else None
    if kind == "authority":
        text = (row["detaining_authority_text"] or "").strip()
        if not value and not text:
            return None
        return {"value_organization_id": value, "value_text": text}
    if kind == "number":
        return {"value_number": value} if value is not None else None
    if value in (None, "", EMPTY.get(column)):
        return None
    return {"value_choice": value}


def accounts_from_records(apps, schema_editor) -> None:
    Account = apps.get_model("incidents", "Account")
    for subject, facts in FACTS.items():
        model = apps.get_model("incidents", subject)
        sources = model._meta.get_field("sources").remote_field.through
        source_column = f"{subject}_id"
        rows = model._base_manager.order_by("pk").values(*_columns(subject))
        chunk: list[dict] = []
        for row in rows.iterator(chunk_size=CHUNK):
            chunk.append(row)
            if len(chunk) == CHUNK:
                _write(Account, sources, subject, source_column, facts, chunk)
                chunk = []
        if chunk:
            _write(Account, sources, subject, source_column, facts, chunk)


def _write(Account, sources, subject, source_column, facts, rows) -> None:
    ids = [row["id"] for row in rows]
    told = set(
        Account._base_manager.filter(**{f"{subject}_id__in": ids}, rank="preferred").values_list(
            f"{subject}_id", "fact"
        )
    )
    cited: dict[int, list[int]] = {}
    for record_id, source_id in sources.objects.filter(**{f"{source_column}__in": ids}).values_list(
        source_column, "source_id"
    ):
        cited.setdefault(record_id, []).append(source_id)
    new = []
    for row in rows:
        for fact, kind, column in facts:
            if (row["id"], fact) in told:
                continue
            fields = _account_fields(kind, column, row)
            if fields is None:
                continue
            new.append(
                Account(**{f"{subject}_id": row["id"]}, fact=fact, rank="preferred", **fields)
            )
    created = Account._base_manager.bulk_create(new)
    links = Account._meta.get_field("sources").remote_field.through
    subject_of = {account.pk: getattr(account, f"{subject}_id") for account in created}
    links.objects.bulk_create(
        links(account_id=account_pk, source_id=source_id)
        for account_pk, record_id in subject_of.items()
        for source_id in cited.get(record_id, [])
    )


def give_roles_account_permissions(apps, schema_editor) -> None:
    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0016_attributed_accounts"),
        ("people", "0009_position_updated_at"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("authtoken", "0004_alter_tokenproxy_options"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(accounts_from_records, migrations.RunPython.noop),
        migrations.RunPython(give_roles_account_permissions, migrations.RunPython.noop),
    ]
