"""Filters for persons, organizations and posts, shared by the pages and the REST API (see
incidents/filters.py for why there is one FilterSet per resource).

Name search goes through `Person.objects.searchable_by(user)`: the public never finds a
withheld identity by any of its names, nor picks one out by its slug.
"""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from incidents import mirror
from incidents.filters import (
    TextQueryFilter,
    slug_filter,
    updated_since_filter,
)
from people.models import Organization, OrganizationKind, Person, Position


def _user(filterset: django_filters.FilterSet):
    return getattr(filterset.request, "user", None)


class PersonFilter(django_filters.FilterSet):
    q = TextQueryFilter(
        method="filter_name",
        label=_("Name"),
        help_text=_(
            "Any spelling of a name, in Latin or Cyrillic script: 'Рузахунов', "
            "'Ruzahunov' and 'RUZAKHUNOV' find the same person."
        ),
    )
    search = TextQueryFilter(method="filter_name", label=_("Name"), help_text=_("The same as q."))
    citizenship = django_filters.MultipleChoiceFilter(
        choices=list(countries),
        label=_("Citizenship"),
        help_text=_("ISO 3166 country code, e.g. KG; repeat for several."),
    )
    updated_since = updated_since_filter()

    class Meta:
        model = Person
        fields = []

    def filter_name(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if not value.strip():
            return queryset
        named = Person.objects.searchable_by(_user(self)).matching_name(value)
        return queryset.filter(pk__in=named.values("pk"))


class OrganizationFilter(django_filters.FilterSet):
    q = TextQueryFilter(
        method="filter_text",
        label=_("Search"),
        help_text=_("Words in the name (either script) or the abbreviation."),
    )
    search = TextQueryFilter(method="filter_text", label=_("Search"), help_text=_("The same as q."))
    kind = django_filters.MultipleChoiceFilter(
        choices=OrganizationKind.choices, label=_("Kind"), help_text=_("Repeat for several.")
    )
    country = django_filters.MultipleChoiceFilter(
        choices=list(countries),
        label=_("Country"),
        help_text=_("ISO 3166 country code; repeat for several."),
    )
    updated_since = updated_since_filter(
        mirror.organizations_changed_since,
        _(
            "ISO 8601 date and time; organizations changed since then, or that came into "
            "public use since then (named by a public record)."
        ),
    )

    class Meta:
        model = Organization
        fields = []

    def filter_text(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value)
            | Q(name_native__icontains=value)
            | Q(abbreviation__icontains=value)
        )


class PositionFilter(django_filters.FilterSet):
    person = slug_filter(
        Person.objects.searchable_by,
        label=_("Person"),
        help_text=_("Slug of the person who held the post; repeat for several."),
    )
    organization = slug_filter(
        Organization.objects.visible_to,
        label=_("Organization"),
        help_text=_("Slug of the organization; repeat for several."),
    )

    updated_since = updated_since_filter(
        mirror.positions_changed_since,
        _(
            "ISO 8601 date and time; posts changed since then, or whose holder or "
            "organization changed (a post is public only with its holder's name)."
        ),
    )

    class Meta:
        model = Position
        fields = []
