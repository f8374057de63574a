"""Admin for incidents, the places they happen at, and their sources.

The admin is the superuser's back office: it shows staff-only fields (grouped under "Staff
only" so nobody copies them into public text by mistake) and drafts alike. Every changelist
names its related rows through `list_select_related`, so a page of 100 rows costs the same
handful of queries as a page of 3; `tests/test_admin.py` pins that.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin
from django.db.models import Model, QuerySet, URLField
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_countries.filters import CountryFilter

from cabar_tracker.admin_site import (
    PUBLICATION_FIELDS,
    PUBLICATION_READONLY,
    RecordAdmin,
    RecordInline,
)
from incidents.models import (
    Account,
    Allegation,
    Detention,
    FollowUpAction,
    Incident,
    IncidentEvent,
    Location,
    ReportedGroup,
    Situation,
    Source,
    Statement,
)
from people.models import Person


def partial_date_column(
    attribute: str, *, description: str, ordering: str
) -> Callable[[admin.ModelAdmin, Model], str | None]:
    """A changelist column showing a date at its known precision ("January 2022"), never
    the representative day stored for sorting ("1 January 2022"); sorted by that day."""

    @admin.display(description=description, ordering=ordering)
    def column(model_admin: admin.ModelAdmin, obj: Model) -> str | None:
        partial_date = getattr(obj, attribute)
        # None shows the admin's empty value ("-").
        return str(partial_date) if partial_date else None

    return column


def with_person_named(queryset: QuerySet, search_term: str, person_path: str) -> QuerySet:
    """Rows of `queryset` whose person at `person_path` has any name (canonical, native or a
    variant, in any script) matching the search term, by `Person.objects.matching_name()`."""
    if not search_term.strip():
        return queryset.none()
    # A pk subquery keeps the match free of joins, so it cannot duplicate rows.
    matching = Person.objects.matching_name(search_term).values("pk")
    return queryset.filter(**{f"{person_path}__in": matching})


@admin.register(Situation)
class SituationAdmin(RecordAdmin):
    list_display = ("title", "start_shown", "end_shown", "publication_state", "updated_at")
    list_filter = ("publication_state",)
    search_fields = ("title", "slug", "summary")
    date_hierarchy = "start_date"
    prepopulated_fields = {"slug": ("title",)}
    autocomplete_fields = ("sources",)
    readonly_fields = PUBLICATION_READONLY
    fieldsets = (
        (None, {"fields": ("title", "slug", "summary", "description")}),
        (
            _("Dates"),
            {"fields": ("start_date", "start_date_precision", "end_date", "end_date_precision")},
        ),
        (_("Sources"), {"fields": ("sources",)}),
        (_("Publication"), {"fields": PUBLICATION_FIELDS}),
    )

    start_shown = partial_date_column("start", description=_("start"), ordering="start_date")
    end_shown = partial_date_column("end", description=_("end"), ordering="end_date")


@admin.register(Location)
class LocationAdmin(RecordAdmin):
    list_display = ("indented_name", "name_native", "kind", "country", "coordinate_precision")
    list_filter = ("kind", ("country", CountryFilter))
    search_fields = ("name", "name_native", "slug")
    # `path` orders the tree depth-first: "/" sorts before digits, so "/1/2/" (inside 1)
    # comes before "/10/" and every place is followed by the places inside it.
    ordering = ("path",)
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("parent",)
    readonly_fields = ("path",)
    fieldsets = (
        (None, {"fields": ("name", "name_native", "slug", "kind", "parent", "country", "path")}),
        (
            _("Coordinates"),
            {"fields": ("latitude", "longitude", "coordinate_precision")},
        ),
        (None, {"fields": ("description",)}),
    )

    @admin.display(description=_("name"), ordering="path")
    def indented_name(self, location: Location) -> str:
        # Plain-text indentation rather than inline styles, which the CSP would block.
        return f"{'— ' * max(location.depth - 1, 0)}{location.name}"


class DetentionInline(RecordInline, admin.TabularInline):
    """The people of an incident, entered with the incident. Charges, details, sources and
    staff notes are edited on the detention's own page (the change link)."""

    model = Detention
    extra = 0
    show_change_link = True
    fields = (
        "person",
        "role",
        "detained_on",
        "detained_on_precision",
        "custody_location",
        "released_on",
        "released_on_precision",
        "release_location",
        "outcome",
        "publication_state",
    )
    autocomplete_fields = ("person", "custody_location", "release_location")


class IncidentEventInline(RecordInline, admin.TabularInline):
    model = IncidentEvent
    extra = 0
    show_change_link = True
    fields = ("occurred_on", "occurred_on_precision", "kind", "title", "location")
    autocomplete_fields = ("location",)


class ReportedGroupInline(RecordInline, admin.TabularInline):
    """The people an incident's sources report by citizenship, in numbers."""

    model = ReportedGroup
    extra = 0
    show_change_link = True
    fields = ("citizenship", "detained_count", "released_count", "note")


@admin.register(Incident)
class IncidentAdmin(RecordAdmin):
    list_display = (
        "title",
        "kind",
        "location",
        "start_shown",
        "verification",
        "publication_state",
        "updated_at",
    )
    list_filter = (
        "kind",
        "verification",
        "publication_state",
        ("location__country", CountryFilter),
        "situation",
    )
    list_select_related = ("location",)
    search_fields = ("title", "slug", "summary", "location__name", "location__name_native")
    date_hierarchy = "start_date"
    prepopulated_fields = {"slug": ("title",)}
    autocomplete_fields = ("situation", "location", "sources")
    readonly_fields = PUBLICATION_READONLY
    inlines = (DetentionInline, ReportedGroupInline, IncidentEventInline)
    fieldsets = (
        (None, {"fields": ("title", "slug", "kind", "situation", "location")}),
        (
            _("Dates"),
            {"fields": ("start_date", "start_date_precision", "end_date", "end_date_precision")},
        ),
        (
            _("What happened"),
            {
                "fields": (
                    "summary",
                    "description",
                    "reported_detained_count",
                    "reported_released_count",
                    "reported_count_note",
                    "verification",
                )
            },
        ),
        (_("Sources"), {"fields": ("sources",)}),
        (_("Publication"), {"fields": PUBLICATION_FIELDS}),
        (_("Staff only"), {"fields": ("staff_notes",)}),
    )

    start_shown = partial_date_column("start", description=_("date"), ordering="start_date")


class AllegationInline(RecordInline, admin.StackedInline):
    model = Allegation
    extra = 0
    fields = (
        "kind",
        "status",
        "alleged_by_person",
        "alleged_by_organization",
        "statement",
        "description",
        "sources",
    )
    autocomplete_fields = ("alleged_by_person", "alleged_by_organization", "statement", "sources")


@admin.register(Detention)
class DetentionAdmin(RecordAdmin):
    list_display = (
        "person",
        "incident",
        "role",
        "detained_shown",
        "released_shown",
        "outcome",
        "publication_state",
        "updated_at",
    )
    list_filter = (
        "role",
        "outcome",
        "publication_state",
        ("person__citizenship", CountryFilter),
        "incident__situation",
    )
    list_select_related = ("person", "incident")
    search_fields = ("person__name", "person__name_native", "incident__title", "charges")
    date_hierarchy = "detained_on"
    autocomplete_fields = (
        "incident",
        "person",
        "arrest_location",
        "detaining_organization",
        "custody_location",
        "release_location",
        "sources",
    )
    readonly_fields = PUBLICATION_READONLY
    inlines = (AllegationInline,)
    fieldsets = (
        (None, {"fields": ("incident", "person", "role")}),
        (
            _("Custody"),
            {
                "fields": (
                    "detained_on",
                    "detained_on_precision",
                    "arrest_location",
                    "detaining_organization",
                    "detaining_authority_text",
                    "custody_location",
                    "reported_age",
                )
            },
        ),
        (
            _("Release"),
            {"fields": ("released_on", "released_on_precision", "release_location", "outcome")},
        ),
        (None, {"fields": ("charges", "details")}),
        (_("Sources"), {"fields": ("sources",)}),
        (_("Publication"), {"fields": PUBLICATION_FIELDS}),
        (_("Staff only"), {"fields": ("staff_notes",)}),
    )

    detained_shown = partial_date_column(
        "detained", description=_("detained"), ordering="detained_on"
    )
    released_shown = partial_date_column(
        "released", description=_("released"), ordering="released_on"
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Detention]:
        # `__str__` names the person and the incident: the autocomplete for allegations
        # lists detentions by it, so load both with the row.
        return super().get_queryset(request).select_related("person", "incident")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Detention], search_term: str
    ) -> tuple[QuerySet[Detention], bool]:
        """Also find a detention by any spelling of its person's name ("Рузахунов")."""
        matched, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return matched | with_person_named(queryset, search_term, "person"), may_have_duplicates


@admin.register(Allegation)
class AllegationAdmin(RecordAdmin):
    list_display = ("kind", "detention", "alleged_by_shown", "statement")
    list_filter = ("kind", ("detention__person__citizenship", CountryFilter))
    # `detention.__str__` reads the person and the incident; `statement.__str__` its speaker.
    list_select_related = (
        "detention__person",
        "detention__incident",
        "alleged_by_person",
        "alleged_by_organization",
        "statement__speaker_person",
        "statement__speaker_organization",
    )
    search_fields = (
        "detention__person__name",
        "detention__person__name_native",
        "detention__incident__title",
        "description",
    )
    autocomplete_fields = (
        "detention",
        "alleged_by_person",
        "alleged_by_organization",
        "statement",
        "sources",
    )

    @admin.display(description=_("alleged by"))
    def alleged_by_shown(self, allegation: Allegation) -> str | None:
        alleged_by = allegation.alleged_by
        return str(alleged_by) if alleged_by else None


@admin.register(Account)
class AccountAdmin(RecordAdmin):
    """Accounts of a record's facts. Saving one here goes through the same save as every door
    (incidents/accounts.py): a preferred account's value becomes its record's."""

    list_display = ("fact", "value_shown", "rank", "incident", "detention", "allegation")
    list_filter = ("fact", "rank")
    list_select_related = (
        "incident",
        "detention__person",
        "detention__incident",
        "allegation__detention__person",
        "value_location",
        "value_organization",
    )
    search_fields = ("value_text", "asserted_by_text", "note")
    autocomplete_fields = (
        "incident",
        "detention",
        "allegation",
        "value_location",
        "value_organization",
        "asserted_by_person",
        "asserted_by_organization",
        "sources",
    )

    @admin.display(description=_("value"))
    def value_shown(self, account: Account) -> str:
        return account.value_label()


@admin.register(IncidentEvent)
class IncidentEventAdmin(RecordAdmin):
    list_display = ("title", "incident", "kind", "occurred_shown", "location")
    list_filter = ("kind",)
    list_select_related = ("incident", "location")
    search_fields = ("title", "description", "incident__title")
    date_hierarchy = "occurred_on"
    autocomplete_fields = ("incident", "location", "sources")

    occurred_shown = partial_date_column("occurred", description=_("date"), ordering="occurred_on")


@admin.register(ReportedGroup)
class ReportedGroupAdmin(RecordAdmin):
    list_display = ("incident", "citizenship", "detained_count", "released_count", "note")
    list_filter = (("citizenship", CountryFilter),)
    list_select_related = ("incident",)
    search_fields = ("note", "incident__title")
    autocomplete_fields = ("incident", "sources")


@admin.register(Statement)
class StatementAdmin(RecordAdmin):
    list_display = (
        "text_start",
        "speaker_shown",
        "kind",
        "medium",
        "said_shown",
        "dispute_status",
        "publication_state",
        "updated_at",
    )
    list_filter = ("kind", "medium", "dispute_status", "is_direct_quote", "publication_state")
    list_select_related = ("speaker_person", "speaker_organization")
    search_fields = (
        "text",
        "speaker_person__name",
        "speaker_person__name_native",
        "speaker_organization__name",
        "speaker_organization__abbreviation",
    )
    date_hierarchy = "said_on"
    autocomplete_fields = (
        "speaker_person",
        "speaker_organization",
        "position",
        "situation",
        "incidents",
        "people",
        "sources",
    )
    readonly_fields = PUBLICATION_READONLY
    fieldsets = (
        (None, {"fields": ("said_on", "said_on_precision")}),
        (_("Speaker"), {"fields": ("speaker_person", "speaker_organization", "position")}),
        (
            _("What was said"),
            {"fields": ("kind", "medium", "text", "is_direct_quote", "language")},
        ),
        (_("About"), {"fields": ("situation", "incidents", "people")}),
        (_("Dispute"), {"fields": ("dispute_status", "dispute_note")}),
        (_("Sources"), {"fields": ("sources",)}),
        (_("Publication"), {"fields": PUBLICATION_FIELDS}),
    )

    said_shown = partial_date_column("said", description=_("date"), ordering="said_on")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Statement]:
        # `__str__` names the speaker: the autocomplete for allegations lists statements by it.
        return (
            super().get_queryset(request).select_related("speaker_person", "speaker_organization")
        )

    @admin.display(description=_("quote or summary"), ordering="text")
    def text_start(self, statement: Statement) -> str:
        return statement.text if len(statement.text) <= 80 else f"{statement.text[:79]}…"

    @admin.display(description=_("speaker"))
    def speaker_shown(self, statement: Statement) -> str:
        return str(statement.speaker)


@admin.register(Source)
class SourceAdmin(RecordAdmin):
    # Links pasted without a scheme are taken as https (Django 6's default, chosen now).
    formfield_overrides = {URLField: {"assume_scheme": "https"}}
    list_display = (
        "title",
        "publisher",
        "kind",
        "published_shown",
        "language",
        "publication_state",
        "updated_at",
    )
    list_filter = ("kind", "language", "publication_state")
    search_fields = ("title", "publisher", "url", "archived_url")
    date_hierarchy = "published_on"
    readonly_fields = PUBLICATION_READONLY
    fieldsets = (
        (None, {"fields": ("title", "kind", "url", "publisher", "language")}),
        (
            _("Dates"),
            {"fields": ("published_on", "published_on_precision", "accessed_on")},
        ),
        (None, {"fields": ("archived_url", "notes")}),
        (_("Publication"), {"fields": PUBLICATION_FIELDS}),
    )

    published_shown = partial_date_column(
        "publication_date", description=_("published"), ordering="published_on"
    )


@admin.register(FollowUpAction)
class FollowUpActionAdmin(RecordAdmin):
    list_display = ("taken_on", "kind", "detention", "addressee", "next_step_due", "created_by")
    list_filter = ("kind", "next_step_due")
    # `detention.__str__` reads the person and the incident.
    list_select_related = ("detention__person", "detention__incident", "created_by")
    search_fields = ("addressee", "outcome", "next_step", "detention__person__name")
    autocomplete_fields = ("detention",)
    readonly_fields = ("created_by", "created_at", "updated_at")
    date_hierarchy = "taken_on"

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
