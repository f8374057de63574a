"""Admin for persons, their other names, organizations and posts.

A person is found by any spelling of any of their names, in the changelist and in every
autocomplete that picks a person (detentions, statements, allegations), because both go
through `PersonAdmin.get_search_results()`.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet, URLField
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_countries.filters import CountryFilter

from cabar_tracker.admin_site import (
    PUBLICATION_FIELDS,
    PUBLICATION_READONLY,
    RecordAdmin,
    RecordInline,
)
from people.models import Organization, Person, PersonName, Position


class PersonNameInline(RecordInline, admin.TabularInline):
    model = PersonName
    # PersonName has two foreign keys to Person; the variants are the person's own names.
    fk_name = "person"
    extra = 0
    show_change_link = True
    fields = ("name", "kind", "script", "other_person", "note")
    readonly_fields = ("script",)
    autocomplete_fields = ("other_person",)


class PositionInline(RecordInline, admin.TabularInline):
    model = Position
    extra = 0
    show_change_link = True
    fields = ("organization", "title", "start_date", "end_date")
    autocomplete_fields = ("organization",)


@admin.register(Person)
class PersonAdmin(RecordAdmin):
    list_display = (
        "name",
        "name_native",
        "citizenship",
        "birth_year",
        "identity_withheld",
        "publication_state",
        "updated_at",
    )
    list_filter = (
        "publication_state",
        "identity_withheld",
        ("citizenship", CountryFilter),
        "sex",
    )
    # Variants are searched through `matching_name()` below, not through a join here.
    search_fields = ("name", "name_native", "slug")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("sources",)
    readonly_fields = ("name_key", *PUBLICATION_READONLY)
    inlines = (PersonNameInline, PositionInline)
    fieldsets = (
        (None, {"fields": ("name", "name_native", "slug", "name_key", "identity_withheld")}),
        (
            _("About"),
            {"fields": ("sex", "birth_year", "citizenship", "occupation", "public_notes")},
        ),
        (_("Sources"), {"fields": ("sources",)}),
        (_("Publication"), {"fields": PUBLICATION_FIELDS}),
        (_("Staff only"), {"fields": ("staff_notes",)}),
    )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Person], search_term: str
    ) -> tuple[QuerySet[Person], bool]:
        """The admin's own word search, or any name (canonical, native or variant) matching
        the term in any script: "Рузахунов", "RUZAKHUNOV" and "Ruzahunov" all find
        "Vikram Ruzakhunov". Autocompletes call this too."""
        matched, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if not search_term.strip():
            return matched, may_have_duplicates
        # A pk subquery, not a join to the variants, so the match adds no duplicate rows
        # and the admin's own `may_have_duplicates` stays the whole answer.
        by_any_name = queryset.filter(pk__in=Person.objects.matching_name(search_term).values("pk"))
        return matched | by_any_name, may_have_duplicates


@admin.register(PersonName)
class PersonNameAdmin(RecordAdmin):
    list_display = ("name", "person", "kind", "script", "other_person")
    list_filter = ("kind", "script")
    list_select_related = ("person", "other_person")
    search_fields = ("name", "person__name", "person__name_native")
    autocomplete_fields = ("person", "other_person", "sources")
    readonly_fields = ("script", "name_key")
    fields = ("person", "name", "kind", "script", "name_key", "other_person", "note", "sources")


@admin.register(Organization)
class OrganizationAdmin(RecordAdmin):
    # Links pasted without a scheme are taken as https (Django 6's default, chosen now).
    formfield_overrides = {URLField: {"assume_scheme": "https"}}
    list_display = ("name", "abbreviation", "kind", "country", "parent", "updated_at")
    list_filter = ("kind", ("country", CountryFilter))
    list_select_related = ("parent",)
    search_fields = ("name", "name_native", "abbreviation", "slug")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("parent", "sources")
    readonly_fields = ("created_at", "updated_at")
    fields = (
        "name",
        "name_native",
        "abbreviation",
        "slug",
        "kind",
        "country",
        "parent",
        "website",
        "description",
        "sources",
        "created_at",
        "updated_at",
    )


@admin.register(Position)
class PositionAdmin(RecordAdmin):
    list_display = ("person", "title", "organization", "start_date", "end_date")
    list_filter = ("organization__kind", ("organization__country", CountryFilter))
    list_select_related = ("person", "organization")
    search_fields = (
        "title",
        "person__name",
        "person__name_native",
        "organization__name",
        "organization__abbreviation",
    )
    # No date_hierarchy: the term of most posts is not known.
    autocomplete_fields = ("person", "organization", "sources")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Position]:
        # `__str__` names the person and the organization: the autocomplete for a statement's
        # post lists positions by it, so load both with the row.
        return super().get_queryset(request).select_related("person", "organization")
