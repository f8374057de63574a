"""Filters for incidents and statements, shared by the HTML pages and the REST API so a filter
means the same thing everywhere (`/incidents/?kind=detention` and
`/api/v1/incidents/?kind=detention` select the same rows).

Every filter that looks through to detentions or persons does so through their own
`visible_to(user)` querysets: a draft detention or a withheld name must not make an incident
match for a reader who may not see it, or a count would reveal it.
"""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from people.models import Organization, Person

from .models import (
    AllegationKind,
    Detention,
    DisputeStatus,
    Incident,
    IncidentKind,
    Location,
    Outcome,
    Situation,
    Statement,
    StatementKind,
    Verification,
)


def _user(filterset: django_filters.FilterSet):
    request = filterset.request
    return getattr(request, "user", None)


def visible_situations(request) -> QuerySet:
    return Situation.objects.visible_to(getattr(request, "user", None))


class IncidentFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_text",
        label=_("Search"),
        help_text=_(
            "Words in the title, summary or description, or a person's name in any script."
        ),
    )
    date_after = django_filters.DateFilter(
        field_name="start_date",
        lookup_expr="gte",
        label=_("From"),
        help_text=_("Incidents on or after this date (YYYY-MM-DD)."),
    )
    date_before = django_filters.DateFilter(
        field_name="start_date",
        lookup_expr="lte",
        label=_("Until"),
        help_text=_("Incidents on or before this date (YYYY-MM-DD)."),
    )
    situation = django_filters.ModelMultipleChoiceFilter(
        queryset=visible_situations,
        to_field_name="slug",
        label=_("Situation"),
        help_text=_("Slug of a situation; repeat for several."),
    )
    kind = django_filters.MultipleChoiceFilter(
        choices=IncidentKind.choices, label=_("Kind"), help_text=_("Repeat for several.")
    )
    place = django_filters.ModelChoiceFilter(
        queryset=Location.objects.all(),
        to_field_name="slug",
        method="filter_place",
        label=_("Place"),
        help_text=_("Slug of a place; includes everything inside it (a country, its cities)."),
    )
    citizenship = django_filters.MultipleChoiceFilter(
        choices=list(countries),
        method="filter_citizenship",
        label=_("Detainee citizenship"),
        help_text=_("ISO 3166 country code of a detainee's citizenship, e.g. KG."),
    )
    allegation = django_filters.MultipleChoiceFilter(
        choices=AllegationKind.choices,
        method="filter_allegation",
        label=_("Allegation"),
    )
    outcome = django_filters.MultipleChoiceFilter(
        choices=Outcome.choices, method="filter_outcome", label=_("Outcome")
    )
    verification = django_filters.MultipleChoiceFilter(
        choices=Verification.choices, label=_("Verification status")
    )
    updated_since = django_filters.IsoDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        label=_("Updated since"),
        help_text=_("ISO 8601 date and time; only incidents changed since then."),
    )
    ordering = django_filters.OrderingFilter(
        fields=(
            ("start_date", "date"),
            ("updated_at", "updated"),
            ("reported_detained_count", "detained"),
        ),
        field_labels={
            "start_date": _("Date"),
            "updated_at": _("Last update"),
            "reported_detained_count": _("Number detained"),
        },
        label=_("Sort by"),
    )

    class Meta:
        model = Incident
        fields = []

    def visible_detentions(self) -> QuerySet:
        return Detention.objects.visible_to(_user(self))

    def _with_detentions(self, queryset: QuerySet, condition: Q) -> QuerySet:
        matching = self.visible_detentions().filter(condition).values("incident_id")
        return queryset.filter(pk__in=matching)

    def filter_place(self, queryset: QuerySet, name: str, value: Location | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(location__path__startswith=value.path)

    def filter_citizenship(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        if not value:
            return queryset
        return self._with_detentions(queryset, Q(person__citizenship__in=value))

    def filter_allegation(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        if not value:
            return queryset
        return self._with_detentions(queryset, Q(allegations__kind__in=value))

    def filter_outcome(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        if not value:
            return queryset
        return self._with_detentions(queryset, Q(outcome__in=value))

    def filter_text(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        text = (
            Q(title__icontains=value)
            | Q(summary__icontains=value)
            | Q(description__icontains=value)
        )
        named = Person.objects.searchable_by(_user(self)).matching_name(value)
        by_person = self.visible_detentions().filter(person__in=named).values("incident_id")
        return queryset.filter(text | Q(pk__in=by_person))


class StatementFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_text", label=_("Search"))
    speaker = django_filters.ModelChoiceFilter(
        queryset=lambda request: Person.objects.searchable_by(getattr(request, "user", None)),
        field_name="speaker_person",
        to_field_name="slug",
        label=_("Speaker"),
        help_text=_("Slug of the person who spoke."),
    )
    organization = django_filters.ModelChoiceFilter(
        queryset=Organization.objects.all(),
        field_name="speaker_organization",
        to_field_name="slug",
        label=_("Organization"),
        help_text=_("Slug of the organization that spoke or on whose behalf."),
    )
    kind = django_filters.MultipleChoiceFilter(choices=StatementKind.choices, label=_("Kind"))
    dispute_status = django_filters.MultipleChoiceFilter(
        choices=DisputeStatus.choices, label=_("Later disputed?")
    )
    incident = django_filters.ModelChoiceFilter(
        queryset=lambda request: Incident.objects.visible_to(getattr(request, "user", None)),
        field_name="incidents",
        to_field_name="slug",
        label=_("About incident"),
    )
    date_after = django_filters.DateFilter(field_name="said_on", lookup_expr="gte")
    date_before = django_filters.DateFilter(field_name="said_on", lookup_expr="lte")
    updated_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    ordering = django_filters.OrderingFilter(
        fields=(("said_on", "date"), ("updated_at", "updated")), label=_("Sort by")
    )

    class Meta:
        model = Statement
        fields = []

    def filter_text(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        named = Person.objects.searchable_by(_user(self)).matching_name(value)
        return queryset.filter(Q(text__icontains=value) | Q(speaker_person__in=named))
