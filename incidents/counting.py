"""The counting rule for people, used by the summary, the list rows, the map and the chart:
an incident's people detained is the larger of its reported number and the number of people
named in its visible detentions (witnesses are not detainees and are not counted); people
released likewise, from the reported number released and the named detentions that ended in
release or handover. A source saying "38 detained" while naming two gives 38, not 40.

It is one module because four places count people (the list's summary, rows, map and
chart, and the maintained counts of `public_counts.py`), and they must agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, Greatest

from .models import Detention, DetentionRole, Incident, Outcome

RELEASED_OUTCOMES = (Outcome.RELEASED, Outcome.HANDED_OVER)


def named_detentions_count(user, **conditions) -> Coalesce:
    """Per incident (as a correlated subquery): its visible detentions of detained people."""
    detentions = (
        Detention.objects.visible_to(user)
        .filter(incident=OuterRef("pk"), **conditions)
        .exclude(role=DetentionRole.WITNESS)
        .order_by()
        .values("incident")
        .annotate(named=Count("pk"))
        .values("named")
    )
    return Coalesce(Subquery(detentions, output_field=IntegerField()), 0)


def people_detained(user) -> Greatest:
    """max(reported number detained, named detainees) of one incident, as an expression."""
    return Greatest(
        Coalesce("reported_detained_count", 0, output_field=IntegerField()),
        named_detentions_count(user),
        output_field=IntegerField(),
    )


def people_released(user) -> Greatest:
    """max(reported number released, named detainees released or handed over)."""
    return Greatest(
        Coalesce("reported_released_count", 0, output_field=IntegerField()),
        named_detentions_count(user, outcome__in=RELEASED_OUTCOMES),
        output_field=IntegerField(),
    )


@dataclass(frozen=True)
class Summary:
    incidents: int
    people_detained: int
    people_released: int


def summarize(incidents: QuerySet[Incident], user) -> Summary:
    """The summary line of a filtered set, in one aggregate query."""
    totals = incidents.order_by().aggregate(
        incidents=Count("pk"),
        detained=Sum(people_detained(user)),
        released=Sum(people_released(user)),
    )
    return Summary(totals["incidents"], totals["detained"] or 0, totals["released"] or 0)
