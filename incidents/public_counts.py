"""Counts of published incidents maintained per bucket (`PublicIncidentCount`), so that the
case list's summary, chart and facets cost the same at a million incidents as at a hundred.

Counting the public list live means, for every page view, one GROUP BY per facet over every
matching incident, and over every detention for the citizenship, allegation and outcome
facets: seconds at a million incidents (bench/README.md). The counts only change when
something is written, so they are kept per bucket (situation, kind, place, year) and a page
sums a few thousand rows.

**Which filters the counts answer** (`for_filters`): an anonymous reader's list filtered by
any of situation, kind and place (with everything inside it). Anything else (text search,
verification, a detainee filter, any date range, `updated_since`) and every staff
reader, who also sees drafts, are counted live by `facets.py`, over a set that the filter
has already narrowed.

**How they stay right.** Every write that can change what the public sees of an incident
refreshes the buckets involved (before and after the write) in the same transaction: an
incident saved or deleted (its old and new bucket), a detention, an allegation or a
reported group saved or deleted (its incident's), a person saved (the incidents they are
detained in), and the bulk paths of `HistoryRecordingQuerySet` (`update()`,
`bulk_update()`, `bulk_create()`), which report the rows they write to
`watch_bulk_writes`. Refreshing a bucket recomputes it from the incidents, with the same
querysets as the live counts, so it cannot drift; `rebuild()` (`manage.py
rebuild_public_counts`) recomputes every bucket, for data written around the ORM (the
synthetic generator's bulk load).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Max, Min, Q, QuerySet, Sum

from cabar_tracker.history import watch_bulk_writes
from cabar_tracker.publishing import can_see_unpublished
from incidents.counting import (
    DAY,
    MONTH,
    PLACEABLE,
    RELEASED_OUTCOMES,
    DateRow,
    Summary,
    choose_unit,
    reported_number,
)
from incidents.models import (
    Allegation,
    CountDimension,
    Detention,
    DetentionRole,
    Incident,
    Location,
    PublicIncidentCount,
    ReportedGroup,
)
from incidents.partial_dates import DatePrecision
from people.models import Person

# (situation id or 0, kind, location id, year or 0)
Bucket = tuple[int, str, int, int]

# The filters the counts can answer; `ordering` only sorts, and `date_match` alone (without
# a range) changes nothing. No date range: a range matches an incident by its possible days
# (earliest_date…latest_date, issue 13), which counts keyed by the start's year cannot tell
# apart: "around 2 January 2023" may fall in 2022; a span begun in one year may reach into
# the next; an undated incident may fall in any range but is certainly within none.
ANSWERABLE_FILTERS = {"situation", "kind", "place", "date_match", "ordering"}
# Buckets refreshed per query; keeps the OR of bucket conditions a reasonable size.
REFRESH_CHUNK = 100
BATCH_SIZE = 5_000
EXACT_PRECISIONS = tuple(PLACEABLE[DAY])  # dates known to the day (or around a day)
DETENTION_DIMENSIONS = {
    CountDimension.CITIZENSHIP: "person__citizenship",
    CountDimension.ALLEGATION: "allegations__kind",
    CountDimension.OUTCOME: "outcome",
}


# --- reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CitizenshipNumbers:
    """The citizenship facet's numbers for one country: incidents, and people reported in
    numbers (`ReportedGroup`) and named (detentions), which are shown apart."""

    incidents: int
    reported: int
    named: int


@dataclass(frozen=True)
class PublicCounts:
    """The maintained counts narrowed to one set of filters (values as validated by
    `IncidentFilter`). Each method is one query; `leave_out` drops a filter, as a facet
    leaves out its own."""

    situation_ids: tuple[int, ...] = ()
    kinds: tuple[str, ...] = ()
    place_paths: tuple[str, ...] = ()

    def rows(self, dimension: str, *, leave_out: str | None = None) -> QuerySet:
        rows = PublicIncidentCount.objects.filter(dimension=dimension).order_by()
        if self.situation_ids and leave_out != "situation":
            rows = rows.filter(situation_id__in=self.situation_ids)
        if self.kinds and leave_out != "kind":
            rows = rows.filter(kind__in=self.kinds)
        if self.place_paths and leave_out != "place":
            inside = Q()
            for path in self.place_paths:
                inside |= Q(path__startswith=path)
            rows = rows.filter(location_id__in=Location.objects.filter(inside).values("pk"))
        return rows

    def summary(self) -> Summary:
        totals = self.rows(CountDimension.TOTAL).aggregate(
            incidents=Sum("incidents"),
            detained=Sum("people_detained"),
            released=Sum("people_released"),
        )
        return Summary(totals["incidents"] or 0, totals["detained"] or 0, totals["released"] or 0)

    def by(self, column: str, *, leave_out: str | None = None) -> dict:
        """Incidents per value of a bucket column (`kind`, `situation_id`, `location_id`)."""
        rows = self.rows(CountDimension.TOTAL, leave_out=leave_out)
        return dict(rows.values_list(column).annotate(n=Sum("incidents")))

    def by_value(self, dimension: str) -> dict[str, int]:
        """Incidents per value of a dimension (verification, citizenship, allegation, outcome)."""
        return dict(self.rows(dimension).values_list("value").annotate(n=Sum("incidents")))

    def by_citizenship(self) -> dict[str, CitizenshipNumbers]:
        """Per citizenship: incidents with a named detainee or a reported group of it, and
        the people of it reported in numbers and named (one query, like `by_value`)."""
        rows = (
            self.rows(CountDimension.CITIZENSHIP)
            .values_list("value")
            .annotate(
                n=Sum("incidents"), reported=Sum("people_reported"), named=Sum("people_named")
            )
        )
        return {
            code: CitizenshipNumbers(n, reported or 0, named or 0)
            for code, n, reported, named in rows
        }

    def date_rows(self) -> list[DateRow] | None:
        """The chart's rows, at month resolution, or None when the chart needs finer bars
        than months (dates known to the day span six months or less), which only the
        incidents themselves can give."""
        span = self.rows(CountDimension.TOTAL).aggregate(
            first=Min("first_exact_date"), last=Max("last_exact_date")
        )
        if span["first"] is not None and choose_unit(span["first"], span["last"]) != MONTH:
            return None
        rows = []
        for value, people, incidents in (
            self.rows(CountDimension.MONTH)
            .values_list("value")
            .annotate(people=Sum("people_detained"), n=Sum("incidents"))
        ):
            if len(value) == 4:  # "2022": known only to the year
                day, precision = datetime.date(int(value), 1, 1), DatePrecision.YEAR
            else:
                year, month = value.split("-")
                day, precision = datetime.date(int(year), int(month), 1), DatePrecision.MONTH
            rows.append(DateRow(day, precision, people or 0, incidents))
        undated = self.rows(CountDimension.TOTAL).filter(year=0)
        totals = undated.aggregate(people=Sum("people_detained"), n=Sum("incidents"))
        if totals["n"]:
            rows.append(DateRow(None, "", totals["people"] or 0, totals["n"]))
        return rows


def for_filters(filterset, user) -> PublicCounts | None:
    """The maintained counts for a validated `IncidentFilter` over what `user` may see, or
    None when they cannot answer it (see the module docstring): count live then."""
    if can_see_unpublished(user):
        return None
    chosen = {
        name: value
        for name, value in filterset.form.cleaned_data.items()
        if value not in (None, "", [], ())
    }
    if not set(chosen) <= ANSWERABLE_FILTERS:
        return None
    return PublicCounts(
        situation_ids=tuple(situation.pk for situation in chosen.get("situation", ())),
        kinds=tuple(chosen.get("kind", ())),
        place_paths=tuple(place.path for place in chosen.get("place", ())),
    )


# --- computing ----------------------------------------------------------------------------


def _bucket(situation_id, kind, location_id, start_date) -> Bucket:
    return (situation_id or 0, kind, location_id, start_date.year if start_date else 0)


def _incidents_in(buckets: Iterable[Bucket]) -> Q:
    condition = Q(pk__in=[])
    for situation_id, kind, location_id, year in buckets:
        term = Q(kind=kind, location_id=location_id)
        term &= Q(situation_id=situation_id) if situation_id else Q(situation__isnull=True)
        if year:
            term &= Q(
                start_date__gte=datetime.date(year, 1, 1),
                start_date__lte=datetime.date(year, 12, 31),
            )
        else:
            term &= Q(start_date__isnull=True)
        condition |= term
    return condition


def _rows_in(buckets: Iterable[Bucket]) -> Q:
    condition = Q(pk__in=[])
    for situation_id, kind, location_id, year in buckets:
        condition |= Q(situation_id=situation_id, kind=kind, location_id=location_id, year=year)
    return condition


def compute(incidents: QuerySet[Incident]) -> list[PublicIncidentCount]:
    """Every count row of the given published incidents, grouped by bucket.

    Three streamed reads (the public detentions with their incident's bucket, their
    allegations, the incidents) added up here. As GROUP BY queries with the counting
    rule's per-incident subquery, PostgreSQL took over 40 minutes for a million
    incidents (a hash join per subquery); this takes a minute or two, and is the same
    code for one bucket as for all of them.
    """
    incidents = incidents.order_by()
    detentions = (
        Detention.objects.published().filter(incident__in=incidents.values("pk")).order_by()
    )
    # Per incident: named detainees and those released (the counting rule), and which
    # citizenships, outcomes and allegations its public detentions have.
    named: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    with_value: dict[tuple[Bucket, str, str], set[int]] = defaultdict(set)
    # Per bucket and citizenship: the people reported in numbers, and those named.
    people_of: dict[tuple[Bucket, str], list[int]] = defaultdict(lambda: [0, 0])
    for (
        incident_id,
        situation_id,
        kind,
        location_id,
        start_date,
        citizenship,
        outcome,
        role,
    ) in detentions.values_list(
        "incident_id",
        "incident__situation_id",
        "incident__kind",
        "incident__location_id",
        "incident__start_date",
        "person__citizenship",
        "outcome",
        "role",
    ).iterator(chunk_size=BATCH_SIZE):
        bucket = _bucket(situation_id, kind, location_id, start_date)
        if role != DetentionRole.WITNESS:
            named[incident_id][0] += 1
            if outcome in RELEASED_OUTCOMES:
                named[incident_id][1] += 1
            if citizenship:
                people_of[(bucket, citizenship)][1] += 1
        if citizenship:
            with_value[(bucket, CountDimension.CITIZENSHIP, citizenship)].add(incident_id)
        if outcome:
            with_value[(bucket, CountDimension.OUTCOME, outcome)].add(incident_id)
    allegations = Allegation.objects.filter(detention__in=detentions.values("pk")).order_by()
    for (
        incident_id,
        situation_id,
        kind,
        location_id,
        start_date,
        allegation,
    ) in allegations.values_list(
        "detention__incident_id",
        "detention__incident__situation_id",
        "detention__incident__kind",
        "detention__incident__location_id",
        "detention__incident__start_date",
        "kind",
    ).iterator(chunk_size=BATCH_SIZE):
        bucket = _bucket(situation_id, kind, location_id, start_date)
        with_value[(bucket, CountDimension.ALLEGATION, allegation)].add(incident_id)

    # The reported groups: an incident of their citizenship, people reported of it, and
    # per incident what they add up to (its reported numbers when it gives no overall one).
    groups = ReportedGroup.objects.filter(incident__in=incidents.values("pk")).order_by()
    group_numbers: dict[int, tuple[list, list]] = defaultdict(lambda: ([], []))
    for (
        incident_id,
        situation_id,
        kind,
        location_id,
        start_date,
        citizenship,
        group_detained,
        group_released,
    ) in groups.values_list(
        "incident_id",
        "incident__situation_id",
        "incident__kind",
        "incident__location_id",
        "incident__start_date",
        "citizenship",
        "detained_count",
        "released_count",
    ).iterator(chunk_size=BATCH_SIZE):
        bucket = _bucket(situation_id, kind, location_id, start_date)
        with_value[(bucket, CountDimension.CITIZENSHIP, citizenship)].add(incident_id)
        people_of[(bucket, citizenship)][0] += group_detained or 0
        group_numbers[incident_id][0].append(group_detained)
        group_numbers[incident_id][1].append(group_released)

    totals: dict[Bucket, dict] = {}
    per_value: dict[tuple[Bucket, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for (
        pk,
        situation_id,
        kind,
        location_id,
        start_date,
        precision,
        verification,
        reported_detained,
        reported_released,
    ) in incidents.values_list(
        "pk",
        "situation_id",
        "kind",
        "location_id",
        "start_date",
        "start_date_precision",
        "verification",
        "reported_detained_count",
        "reported_released_count",
    ).iterator(chunk_size=BATCH_SIZE):
        bucket = _bucket(situation_id, kind, location_id, start_date)
        named_detained, named_released = named.get(pk, (0, 0))
        by_group = group_numbers.get(pk, ([], []))
        detained = max(reported_number(reported_detained, by_group[0]), named_detained)
        released = max(reported_number(reported_released, by_group[1]), named_released)
        total = totals.setdefault(
            bucket, {"incidents": 0, "detained": 0, "released": 0, "first": None, "last": None}
        )
        total["incidents"] += 1
        total["detained"] += detained
        total["released"] += released
        if start_date is not None and precision in EXACT_PRECISIONS:
            total["first"] = min(filter(None, (total["first"], start_date)))
            total["last"] = max(filter(None, (total["last"], start_date)))
        per_value[(bucket, CountDimension.VERIFICATION, verification)][0] += 1
        if start_date is not None:
            # The chart: per month of the date, or per year for a date known only to it.
            if precision == DatePrecision.YEAR:
                period = f"{start_date.year:04d}"
            else:
                period = f"{start_date.year:04d}-{start_date.month:02d}"
            month = per_value[(bucket, CountDimension.MONTH, period)]
            month[0] += 1
            month[1] += detained

    def row(bucket: Bucket, dimension: str, value: str, **counts) -> PublicIncidentCount:
        situation_id, kind, location_id, year = bucket
        return PublicIncidentCount(
            situation_id=situation_id,
            kind=kind,
            location_id=location_id,
            year=year,
            dimension=dimension,
            value=value,
            **counts,
        )

    made = [
        row(
            bucket,
            CountDimension.TOTAL,
            "",
            incidents=total["incidents"],
            people_detained=total["detained"],
            people_released=total["released"],
            first_exact_date=total["first"],
            last_exact_date=total["last"],
        )
        for bucket, total in totals.items()
    ]
    made += [
        row(bucket, dimension, value, incidents=n, people_detained=detained)
        for (bucket, dimension, value), (n, detained) in per_value.items()
    ]
    # Only incidents in `incidents` count (a detention's incident is always one of them).
    made += [
        row(
            bucket,
            dimension,
            value,
            incidents=len(ids),
            people_reported=people_of[(bucket, value)][0] if citizenship_row else 0,
            people_named=people_of[(bucket, value)][1] if citizenship_row else 0,
        )
        for (bucket, dimension, value), ids in with_value.items()
        for citizenship_row in [dimension == CountDimension.CITIZENSHIP]
    ]
    return made


def row_key(row: PublicIncidentCount) -> tuple:
    """Everything a count row says, to compare stored rows with recomputed ones."""
    return (
        row.situation_id,
        row.kind,
        row.location_id,
        row.year,
        row.dimension,
        row.value,
        row.incidents,
        row.people_detained,
        row.people_released,
        row.people_reported,
        row.people_named,
        row.first_exact_date,
        row.last_exact_date,
    )


def refresh(buckets: Iterable[Bucket]) -> None:
    """Recompute the rows of these buckets from the published incidents."""
    buckets = sorted(set(buckets))
    with transaction.atomic():
        for start in range(0, len(buckets), REFRESH_CHUNK):
            chunk = buckets[start : start + REFRESH_CHUNK]
            PublicIncidentCount.objects.filter(_rows_in(chunk)).delete()
            rows = compute(Incident.objects.published().filter(_incidents_in(chunk)))
            PublicIncidentCount.objects.bulk_create(rows, batch_size=BATCH_SIZE)


def _plan_for_every_row() -> None:
    """PostgreSQL plans a server-side cursor (`iterator()`) for its first tenth of rows by
    default (`cursor_tuple_fraction`), favouring nested loops; a rebuild reads every row,
    so ask for the plan that is fastest to the end."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL cursor_tuple_fraction = 1.0")


def rebuild() -> int:
    """Recompute every row; returns how many there are."""
    with transaction.atomic():
        _plan_for_every_row()
        PublicIncidentCount.objects.all().delete()
        rows = compute(Incident.objects.published())
        PublicIncidentCount.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    return len(rows)


# --- which buckets a write touches --------------------------------------------------------


# Each takes ids, or a queryset of ids (then it is one query, with a subquery).


def buckets_of_incidents(ids) -> set[Bucket]:
    rows = Incident._base_manager.filter(pk__in=ids).values_list(
        "situation_id", "kind", "location_id", "start_date"
    )
    return {_bucket(*row) for row in rows}


def buckets_of_detentions(ids) -> set[Bucket]:
    incident_ids = Detention._base_manager.filter(pk__in=ids).values("incident_id")
    return buckets_of_incidents(incident_ids)


def buckets_of_allegations(ids) -> set[Bucket]:
    detention_ids = Allegation._base_manager.filter(pk__in=ids).values("detention_id")
    return buckets_of_detentions(detention_ids)


def buckets_of_reported_groups(ids) -> set[Bucket]:
    incident_ids = ReportedGroup._base_manager.filter(pk__in=ids).values("incident_id")
    return buckets_of_incidents(incident_ids)


def buckets_of_people(ids) -> set[Bucket]:
    incident_ids = Detention._base_manager.filter(person_id__in=ids).values("incident_id")
    return buckets_of_incidents(incident_ids)


BUCKETS_OF = {
    Incident: buckets_of_incidents,
    Detention: buckets_of_detentions,
    Allegation: buckets_of_allegations,
    ReportedGroup: buckets_of_reported_groups,
    Person: buckets_of_people,
}


def buckets_of(model, ids: Iterable[int | None]) -> set[Bucket]:
    """The buckets the rows of `model` with these ids count in (as stored now)."""
    ids = [pk for pk in ids if pk is not None]
    if not ids:
        return set()
    return BUCKETS_OF[model](ids)


# Rows with no publication state of their own: a save refreshes their incident's bucket
# (a refresh counts published incidents only, so a draft's row changes nothing).
ALWAYS_REFRESHED = (Allegation, ReportedGroup)


def _is_public(model, pk) -> bool:
    return pk is not None and model.objects.published().filter(pk=pk).exists()


def _before_save(sender, instance, **kwargs) -> None:
    """Remember where the stored row counted (its buckets), and whether it counted at all."""
    if instance._state.adding:  # nothing stored yet, so nothing counted
        instance._counted_buckets, instance._was_public = set(), False
        return
    instance._counted_buckets = buckets_of(sender, [instance.pk])
    instance._was_public = sender in ALWAYS_REFRESHED or _is_public(sender, instance.pk)


def _after_save(sender, instance, **kwargs) -> None:
    # A draft that stays a draft changes nothing the public sees (the common case while
    # staff edit, and for every factory-made draft in the tests).
    if not (
        getattr(instance, "_was_public", True)
        or sender in ALWAYS_REFRESHED
        or _is_public(sender, instance.pk)
    ):
        return
    refresh(getattr(instance, "_counted_buckets", set()) | buckets_of(sender, [instance.pk]))


def _after_delete(sender, instance, **kwargs) -> None:
    if sender is Incident:
        refresh({_bucket(instance.situation_id, instance.kind, instance.location_id,
                         instance.start_date)})  # fmt: skip
    elif sender is Detention:
        refresh(buckets_of(Incident, [instance.incident_id]))
    elif sender is Allegation:
        refresh(buckets_of(Detention, [instance.detention_id]))
    elif sender is ReportedGroup:
        refresh(buckets_of(Incident, [instance.incident_id]))


def connect() -> None:
    """Keep the counts in step with every write (called once, from the app's ready())."""
    from django.db.models.signals import post_delete, post_save, pre_save

    for model in BUCKETS_OF:
        uid = f"public_counts_{model._meta.label_lower}"
        pre_save.connect(_before_save, sender=model, dispatch_uid=uid)
        post_save.connect(_after_save, sender=model, dispatch_uid=uid)
        post_delete.connect(_after_delete, sender=model, dispatch_uid=uid)
    watch_bulk_writes(_bulk_write)


def _bulk_write(model, pks: list[int]):
    """`watch_bulk_writes` callback: note the buckets before the write, refresh after."""
    if model not in BUCKETS_OF:
        return None
    before = buckets_of(model, pks)

    def after() -> None:
        refresh(before | buckets_of(model, pks))

    return after
