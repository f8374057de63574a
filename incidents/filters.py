"""Filters for incidents and statements, shared by the HTML pages and the REST API so a filter
means the same thing everywhere (`/incidents/?kind=detention` and
`/api/v1/incidents/?kind=detention` select the same rows).

Every filter that looks through to detentions or persons does so through their own
`visible_to(user)` querysets: a draft detention or a withheld name must not make an incident
match for a reader who may not see it, or a count would reveal it.
"""

from __future__ import annotations

import datetime
import re

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from django_filters.fields import IsoDateTimeField, ModelMultipleChoiceField
from drf_spectacular.utils import extend_schema_field

from incidents import mirror
from incidents.models import (
    Allegation,
    AllegationKind,
    Detention,
    DetentionRole,
    DisputeStatus,
    Incident,
    IncidentKind,
    Location,
    LocationKind,
    Outcome,
    ReportedGroup,
    Situation,
    Source,
    SourceKind,
    Statement,
    StatementKind,
    Verification,
)
from incidents.partial_dates import DateMatch, range_condition
from incidents.permalinks import moved_to
from incidents.text_search import (
    QUERY_MAX_LENGTH,
    TEXT_FIELDS,
    check_text_query,
    incident_text_contains,
    scanned_contains,
)
from people.models import Organization, Person

# What a slug can be (SlugField): anything else is refused without asking the database.
SLUG_PATTERN = re.compile(r"^[-a-zA-Z0-9_]{1,200}$")


class TextQueryField(forms.CharField):
    """A text search's query: at most QUERY_MAX_LENGTH characters and QUERY_MAX_WORDS
    words, no control characters; anything else is a 400 naming the parameter."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", QUERY_MAX_LENGTH)
        super().__init__(*args, **kwargs)

    def validate(self, value):
        super().validate(value)
        check_text_query(value)


class TextQueryFilter(django_filters.CharFilter):
    field_class = TextQueryField


class SlugsField(ModelMultipleChoiceField):
    """Records chosen by slug, each a current slug or an old one (`SlugRedirect`): a link
    made before a slug was corrected still filters by that record (issue 13). The old slug
    leads only where `permalinks.moved_to` would take this reader: never, for the public,
    to a withheld identity or by a slug it had while withheld. Cleans to the records, in
    the order given; an unknown slug, or one of a record the reader may not see, is an
    invalid choice like any other, so the answer reveals nothing."""

    # The value is not repeated back: a slug someone guessed (a withheld person's) must not
    # appear in any answer, even their own.
    default_error_messages = {
        "invalid_choice": _(
            "Select a valid choice. That choice is not one of the available choices."
        ),
    }

    def __init__(self, *args, user=None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean(self, value):
        # An empty value is no choice (a form's "Anyone" option sends `speaker=`).
        value = [item for item in value or [] if str(item).strip()]
        if not value and not self.required:
            return []
        return super().clean(value)

    def _invalid(self, value: str) -> ValidationError:
        return ValidationError(
            self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
        )

    def _check_values(self, value) -> list:
        slugs = list(dict.fromkeys(str(item) for item in value))
        for slug in slugs:
            if not SLUG_PATTERN.match(slug):
                raise self._invalid(slug)
        found = {record.slug: record for record in self.queryset.filter(slug__in=slugs)}
        records = []
        for slug in slugs:
            record = found.get(slug)
            if record is None:
                record = moved_to(self.user, self.queryset.model, slug)
                if record is None or not self.queryset.filter(pk=record.pk).exists():
                    raise self._invalid(slug)
            records.append(record)
        return records


class SlugsFilter(django_filters.ModelMultipleChoiceFilter):
    """`?name=<slug>&name=<slug>`: records chosen by slug (`SlugsField`); a record matches
    any of them. Compared by key, with no join to the chosen records' table."""

    field_class = SlugsField

    @property
    def field(self):
        self.extra["user"] = getattr(self.get_request(), "user", None)
        return super().field

    def filter(self, queryset: QuerySet, value) -> QuerySet:
        if not value:
            return queryset
        queryset = queryset.filter(**{f"{self.field_name}__in": [record.pk for record in value]})
        return queryset.distinct() if self.distinct else queryset


def slug_filter(records, **kwargs) -> SlugsFilter:
    """`?name=<slug>`, repeatable: records chosen by their slugs among `records`, a
    queryset or, where visibility depends on the reader, a function of the request's user
    (such as `Incident.objects.visible_to`). A slug the reader may not see is refused as an
    invalid choice, exactly like one that does not exist, so the answer reveals nothing.
    A many-to-many lookup passes `distinct=True`."""
    if not isinstance(records, QuerySet):
        user_records = records

        def records(request):
            return user_records(getattr(request, "user", None))

    kwargs.setdefault("distinct", False)
    chosen = SlugsFilter(queryset=records, to_field_name="slug", **kwargs)
    # The schema cannot read a queryset that depends on the request: each value is a slug
    # (drf-spectacular makes the repeatable parameter an array of them).
    description = kwargs.get("help_text") or kwargs.get("label")
    return extend_schema_field({"type": "string", "description": description})(chosen)


def inside_any(path_field: str, places) -> Q:
    """Rows whose place path (`path_field`) is one of `places` or inside one of them."""
    condition = Q()
    for place in places:
        condition |= Q(**{f"{path_field}__startswith": place.path})
    return condition


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date and time, converted to UTC. PostgreSQL refuses offsets beyond
    ±15:59 ("2024-05-01T00:00-20:48" is valid ISO 8601 and would be a server error), and a
    time near the end of the calendar may not convert at all: both are invalid input."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(datetime.UTC)
        except OverflowError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


def updated_since_filter(changed_since=None, help_text=None) -> UtcIsoDateTimeFilter:
    """`updated_since`, the same on every resource, so a mirror syncs each the same way:
    the records whose list item may have changed since then, or that came back into
    public view. `changed_since(since)` gives that condition for a resource whose item
    shows other records (`incidents.mirror`); without it, the record's own `updated_at`."""
    if changed_since is None:
        return UtcIsoDateTimeFilter(
            field_name="updated_at",
            lookup_expr="gte",
            label=_("Updated since"),
            help_text=help_text or _("ISO 8601 date and time; only records changed since then."),
        )

    def filter_changed(queryset: QuerySet, name: str, value) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(changed_since(value))

    return UtcIsoDateTimeFilter(
        method=filter_changed, label=_("Updated since"), help_text=help_text
    )


def _user(filterset: django_filters.FilterSet):
    request = filterset.request
    return getattr(request, "user", None)


# A text search matching at most this many incidents filters by the list of their ids.
TEXT_ID_LIMIT = 10_000


def start_date_hint(after: datetime.date | None, before: datetime.date | None, match: str) -> Q:
    """What a range of `date_match=certain` implies for `start_date` (the start's
    representative day, which the list's indexes hold: it lies between the earliest and the
    latest possible day), added to `range_condition` so that the planners read those indexes
    by a range of days rather than walk them whole (SQLite, 50,000 incidents, a year five
    years back: 1.8 ms instead of 66). Never narrower than the range condition. None for
    `possible`: undated incidents may match, and `start_date <= … OR start_date IS NULL` made
    SQLite combine two index searches, slower than without it."""
    hint = Q()
    if match == DateMatch.CERTAIN:
        if after is not None:
            hint &= Q(start_date__gte=after)
        if before is not None:
            hint &= Q(start_date__lte=before)
    return hint


def citizenship_incident_ids(codes: list[str], detentions: QuerySet) -> QuerySet:
    """The ids of the incidents with one of `detentions` (visible to the reader) of a person
    of these citizenships, or a reported group of one of them: the citizenship filter's
    and facet's one rule."""
    named = detentions.filter(person__citizenship__in=codes).order_by().values("incident_id")
    reported = ReportedGroup._base_manager.filter(citizenship__in=codes).order_by()
    # UNION ALL: `IN` ignores repeats, and removing them would sort every match first.
    return named.union(reported.values("incident_id"), all=True)


class IncidentFilter(django_filters.FilterSet):
    # No filter here can repeat an incident (each tests the incident's own columns, a forward
    # foreign key or `pk IN (subquery)`), so none asks for DISTINCT: a DISTINCT list is
    # sorted in full before its first page, where a plain one reads the date index in order
    # and stops after a page (bench/README.md has the EXPLAIN).
    q = TextQueryFilter(
        method="filter_text",
        label=_("Search"),
        help_text=_(
            "Words in the title, summary or description, or a person's name in any script."
        ),
    )
    # A date range (issue 13): by default the incidents that MAY fall in it, those whose
    # possible days (earliest_date…latest_date, each date at its precision) share a day
    # with it, undated ones included; with `date_match=certain`, only those whose possible
    # days all lie inside it. "January 2022 – 10 January 2022" may fall on or after 5
    # January, but is not certainly within it. The three are applied together, by
    # `filter_date_range`.
    date_after = django_filters.DateFilter(
        method="filter_date_range",
        label=_("From"),
        help_text=_(
            "Incidents that may have taken place on or after this date (YYYY-MM-DD), each "
            "date taken at its precision; see date_match."
        ),
    )
    date_before = django_filters.DateFilter(
        method="filter_date_range",
        label=_("Until"),
        help_text=_(
            "Incidents that may have taken place on or before this date (YYYY-MM-DD), each "
            "date taken at its precision; see date_match."
        ),
    )
    date_match = django_filters.ChoiceFilter(
        method="filter_nothing",  # read by filter_date_range
        choices=DateMatch.choices,
        empty_label=None,
        label=_("Dates"),
        help_text=_(
            "How date_after and date_before treat a date known only to the month, the "
            "year or approximately: 'possible' (the default) finds incidents that may fall "
            "in the range, undated ones included; 'certain' only those certainly within it."
        ),
        error_messages={
            "invalid_choice": _(
                "Choose 'possible' (may fall in the range) or 'certain' (certainly within "
                "the range); %(value)s is neither."
            )
        },
    )
    situation = slug_filter(
        Situation.objects.visible_to,
        label=_("Situation"),
        help_text=_("Slug of a situation; repeat for several."),
    )
    kind = django_filters.MultipleChoiceFilter(
        distinct=False,
        choices=IncidentKind.choices,
        label=_("Kind"),
        help_text=_("Repeat for several."),
    )
    place = slug_filter(
        Location.objects.visible_to,
        method="filter_place",
        label=_("Place"),
        help_text=_(
            "Slug of a place; includes everything inside it (a country, its cities). Repeat "
            "for several."
        ),
    )
    citizenship = django_filters.MultipleChoiceFilter(
        distinct=False,
        choices=list(countries),
        method="filter_citizenship",
        label=_("Detainee citizenship"),
        help_text=_(
            "ISO 3166 country code, e.g. KG: incidents with a named detainee of that "
            "citizenship, or a reported number of people of it (38 of Kyrgyzstan)."
        ),
    )
    allegation = django_filters.MultipleChoiceFilter(
        distinct=False,
        choices=AllegationKind.choices,
        method="filter_allegation",
        label=_("Allegation"),
    )
    outcome = django_filters.MultipleChoiceFilter(
        distinct=False, choices=Outcome.choices, method="filter_outcome", label=_("Outcome")
    )
    verification = django_filters.MultipleChoiceFilter(
        distinct=False, choices=Verification.choices, label=_("Verification status")
    )
    updated_since = updated_since_filter(
        mirror.incidents_changed_since,
        _(
            "ISO 8601 date and time; incidents changed since then, or whose situation or "
            "place changed (a case published again is changed)."
        ),
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
    # One incident by its slug: the case page's "this case as CSV / JSON" links use it.
    slug = django_filters.CharFilter(
        field_name="slug",
        label=_("Incident"),
        help_text=_("Slug of one incident, e.g. to export a single case."),
    )

    class Meta:
        model = Incident
        fields = []

    def visible_detentions(self) -> QuerySet:
        return Detention.objects.visible_to(_user(self))

    def filter_nothing(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset

    def date_range(self) -> tuple[datetime.date | None, datetime.date | None, str]:
        """The validated `date_after`, `date_before` and `date_match` (default possible)."""
        data = self.form.cleaned_data
        return (
            data.get("date_after"),
            data.get("date_before"),
            data.get("date_match") or DateMatch.POSSIBLE,
        )

    def filter_date_range(self, queryset: QuerySet, name: str, value) -> QuerySet:
        """The whole range, `date_match` included, applied once: by `date_after`, or by
        `date_before` when there is no `date_after`. (The list applies each filter on its
        own, `facets.filtered_incidents`, so one filter reads the others' values.)"""
        after, before, match = self.date_range()
        if name == "date_before" and after is not None:
            return queryset
        return queryset.filter(
            range_condition(after, before, match), start_date_hint(after, before, match)
        )

    def _with_detentions(self, queryset: QuerySet, condition: Q) -> QuerySet:
        matching = self.visible_detentions().filter(condition).values("incident_id")
        return queryset.filter(pk__in=matching)

    def filter_place(self, queryset: QuerySet, name: str, value: list[Location]) -> QuerySet:
        if not value:
            return queryset
        return queryset.filter(inside_any("location__path", value))

    def filter_citizenship(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        """Incidents with a visible detention of a person of that citizenship, or a group
        of it reported in numbers (`ReportedGroup`, public with its incident, which the
        queryset tests already), as one `pk IN (… UNION ALL …)`."""
        if not value:
            return queryset
        return queryset.filter(pk__in=citizenship_incident_ids(value, self.visible_detentions()))

    def filter_allegation(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        if not value:
            return queryset
        return self._with_detentions(queryset, Q(allegations__kind__in=value))

    def filter_outcome(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        if not value:
            return queryset
        return self._with_detentions(queryset, Q(outcome__in=value))

    # The ids `q` matches, when a caller has already read them (the case list does, to
    # count over a short list of ids instead of searching again for every count).
    text_match_ids: list[int] | None = None

    def named_incident_ids(self, value: str, limit: int) -> list[int] | None:
        """The ids of the incidents (not yet tested for visibility) with a visible detention
        of a person whose name matches `value`, read a step at a time by their indexes:
        the persons, then their detentions. None when more than `limit` persons or
        incidents match. Kept for the request: the list view and the filter both ask."""
        key = (value, limit)
        cache = self.__dict__.setdefault("_named_incident_ids", {})
        if key not in cache:
            user = _user(self)
            named = Person.objects.searchable_by(user).matching_name(value)
            named_ids = list(named.values_list("pk", flat=True)[: limit + 1])
            ids = None
            if len(named_ids) <= limit:
                by_person = (
                    Detention.objects.visible_apart_from_incident(user)
                    .filter(person_id__in=named_ids)
                    .order_by()
                    .values_list("incident_id", flat=True)
                    .distinct()
                )
                ids = list(by_person[: limit + 1])
                if len(ids) > limit:
                    ids = None
            cache[key] = ids
        return cache[key]

    def text_condition(self, value: str) -> Q:
        """What `q` matches when it matches many (more than `text_candidates` reads): the
        words in the texts, or a detained person's name. The texts are tested row by row,
        not looked up in the text index: with so many matches, the first page's rows in
        the list's order are found after a few hundred, while the index would hand over
        every match first (1.8 s for a word in 40% of a million incidents). The incidents
        of the persons named are a list of ids where they are few: as a subquery inside
        this OR, PostgreSQL misjudged its size and rescanned it for every incident (over
        30 s). The detentions are tested without their incident (the filtered queryset
        tests the incidents already): with it, SQLite read every incident's detentions
        (0.4 s at a million) to find a name."""
        by_person_ids = self.named_incident_ids(value, TEXT_ID_LIMIT)
        if by_person_ids is not None:
            by_person = Q(pk__in=by_person_ids)
        else:
            named = Person.objects.searchable_by(_user(self)).matching_name(value)
            by_person = Q(
                pk__in=Detention.objects.visible_apart_from_incident(_user(self))
                .filter(person__in=named)
                .values("incident_id")
            )
        return scanned_contains(TEXT_FIELDS, value) | by_person

    def text_candidates(self, value: str, limit: int) -> set[int] | None:
        """The ids of the incidents `q` may match (not yet tested for visibility), read a
        step at a time, each by an index: people by name, their detentions, the texts by
        the text index. None when there are more than `limit`. As one SQL condition (an
        OR of subqueries) the planners read every incident to test it; as a short list
        they look each one up."""
        by_person = self.named_incident_ids(value, limit)
        if by_person is None:
            return None
        by_text = Incident.objects.filter(incident_text_contains(value)).order_by()
        candidates = set(by_person)
        candidates |= set(by_text.values_list("pk", flat=True)[: limit + 1])
        return candidates if len(candidates) <= limit else None

    def filter_text(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        if self.text_match_ids is None:
            candidates = self.text_candidates(value, TEXT_ID_LIMIT)
            if candidates is not None:
                return queryset.filter(pk__in=candidates)
            return queryset.filter(self.text_condition(value))
        return queryset.filter(pk__in=self.text_match_ids)


class StatementFilter(django_filters.FilterSet):
    q = TextQueryFilter(method="filter_text", label=_("Search"))
    speaker = slug_filter(
        Person.objects.searchable_by,
        field_name="speaker_person",
        label=_("Speaker"),
        help_text=_("Slug of the person who spoke; repeat for several."),
    )
    organization = slug_filter(
        Organization.objects.visible_to,
        field_name="speaker_organization",
        label=_("Organization"),
        help_text=_("Slug of the organization that spoke or on whose behalf; repeat for several."),
    )
    kind = django_filters.MultipleChoiceFilter(choices=StatementKind.choices, label=_("Kind"))
    dispute_status = django_filters.MultipleChoiceFilter(
        choices=DisputeStatus.choices, label=_("Later disputed?")
    )
    incident = slug_filter(
        Incident.objects.visible_to,
        field_name="incidents",
        distinct=True,
        label=_("About incident"),
        help_text=_("Slug of an incident the statement is about; repeat for several."),
    )
    date_after = django_filters.DateFilter(
        field_name="said_on",
        lookup_expr="gte",
        help_text=_("Statements made on or after this date (YYYY-MM-DD)."),
    )
    date_before = django_filters.DateFilter(
        field_name="said_on",
        lookup_expr="lte",
        help_text=_("Statements made on or before this date (YYYY-MM-DD)."),
    )
    updated_since = updated_since_filter(
        mirror.statements_changed_since,
        _(
            "ISO 8601 date and time; statements changed since then, or whose speaker, post "
            "or situation changed."
        ),
    )
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


# --- filters of the other resources (shared with their pages as they come) ------------------


class IncidentApiFilter(IncidentFilter):
    """IncidentFilter as the API offers it: the same filters plus `search`, the name API
    clients expect, as an alias of `q` (same matching, same visibility)."""

    search = TextQueryFilter(method="filter_text", label=_("Search"), help_text=_("The same as q."))


class StatementApiFilter(StatementFilter):
    """StatementFilter plus `search`, an alias of `q` (see IncidentApiFilter)."""

    search = TextQueryFilter(method="filter_text", label=_("Search"), help_text=_("The same as q."))


class DetentionFilter(django_filters.FilterSet):
    incident = slug_filter(
        Incident.objects.visible_to,
        label=_("Incident"),
        help_text=_("Slug of the incident; repeat for several."),
    )
    person = slug_filter(
        # searchable_by: a withheld identity cannot be singled out by its slug either.
        Person.objects.searchable_by,
        label=_("Person"),
        help_text=_("Slug of the person detained; repeat for several."),
    )
    role = django_filters.MultipleChoiceFilter(
        choices=DetentionRole.choices, label=_("Role"), help_text=_("Repeat for several.")
    )
    outcome = django_filters.MultipleChoiceFilter(
        choices=Outcome.choices, label=_("Outcome"), help_text=_("Repeat for several.")
    )
    citizenship = django_filters.MultipleChoiceFilter(
        choices=list(countries),
        field_name="person__citizenship",
        label=_("Citizenship"),
        help_text=_("ISO 3166 country code of the person's citizenship, e.g. KG."),
    )
    allegation = django_filters.MultipleChoiceFilter(
        choices=AllegationKind.choices,
        method="filter_allegation",
        label=_("Allegation"),
        help_text=_("Detentions with an allegation of this kind; repeat for several."),
    )
    date_after = django_filters.DateFilter(
        field_name="detained_on",
        lookup_expr="gte",
        label=_("Detained from"),
        help_text=_("Detained on or after this date (YYYY-MM-DD)."),
    )
    date_before = django_filters.DateFilter(
        field_name="detained_on",
        lookup_expr="lte",
        label=_("Detained until"),
        help_text=_("Detained on or before this date (YYYY-MM-DD)."),
    )
    updated_since = updated_since_filter(
        mirror.detentions_changed_since,
        _(
            "ISO 8601 date and time; detentions changed since then, or whose incident, "
            "person or places changed (a detention shows again when its incident is "
            "published again)."
        ),
    )
    ordering = django_filters.OrderingFilter(
        fields=(("detained_on", "detained"), ("updated_at", "updated")),
        field_labels={"detained_on": _("Date detained"), "updated_at": _("Last update")},
        label=_("Sort by"),
    )

    class Meta:
        model = Detention
        fields = []

    def filter_allegation(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        if not value:
            return queryset
        alleged = Allegation.objects.filter(kind__in=value).values("detention_id")
        return queryset.filter(pk__in=alleged)


class LocationFilter(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(
        choices=LocationKind.choices, label=_("Kind"), help_text=_("Repeat for several.")
    )
    country = django_filters.MultipleChoiceFilter(
        choices=list(countries),
        label=_("Country"),
        help_text=_("ISO 3166 country code, e.g. KZ; repeat for several."),
    )
    within = slug_filter(
        Location.objects.visible_to,
        method="filter_within",
        label=_("Within"),
        help_text=_("Slug of a place: that place and every place inside it; repeat for several."),
    )
    updated_since = updated_since_filter(
        mirror.locations_changed_since,
        _(
            "ISO 8601 date and time; places changed since then, or that came into public "
            "use since then (a place is public once something published uses it)."
        ),
    )

    class Meta:
        model = Location
        fields = []

    def filter_within(self, queryset: QuerySet, name: str, value: list[Location]) -> QuerySet:
        if not value:
            return queryset
        return queryset.filter(inside_any("path", value))


class SourceFilter(django_filters.FilterSet):
    q = TextQueryFilter(
        method="filter_text",
        label=_("Search"),
        help_text=_("Words in the title, the publisher or the address."),
    )
    search = TextQueryFilter(method="filter_text", label=_("Search"), help_text=_("The same as q."))
    kind = django_filters.MultipleChoiceFilter(
        choices=SourceKind.choices, label=_("Kind"), help_text=_("Repeat for several.")
    )
    language = django_filters.CharFilter(
        label=_("Language"), help_text=_("ISO 639 code of the source's language, e.g. ru.")
    )
    updated_since = updated_since_filter()

    class Meta:
        model = Source
        fields = []

    def filter_text(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(title__icontains=value) | Q(publisher__icontains=value) | Q(url__icontains=value)
        )


class SituationFilter(django_filters.FilterSet):
    q = TextQueryFilter(
        method="filter_text",
        label=_("Search"),
        help_text=_("Words in the title or the summary."),
    )
    search = TextQueryFilter(method="filter_text", label=_("Search"), help_text=_("The same as q."))
    updated_since = updated_since_filter()

    class Meta:
        model = Situation
        fields = []

    def filter_text(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(summary__icontains=value))
