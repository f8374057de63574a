"""Incidents of detention and abuse, where and when they happened, and where each fact is from.

Vocabulary after the HURIDOCS Events Standard Formats: an Incident (event) happens at a
Location within a Situation; a Detention is the involvement of one Person in it; Allegations
are what was alleged about that detention and by whom; Statements are what officials and
bodies said; every record cites Sources.
"""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models, transaction
from django.db.models import Exists, F, OuterRef, Prefetch, Q, Sum
from django.http import QueryDict
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from cabar_tracker.history import HistoryRecordingQuerySet, TrackedHistory, VersionedModel
from cabar_tracker.publishing import (
    PublicationState,
    PublishableModel,
    PublishableQuerySet,
    ReviewedModel,
    can_see_unpublished,
    may_publish,
)
from incidents.partial_dates import (
    DateMatch,
    PartialDate,
    PartialDateAttribute,
    PartialDated,
    PartialDateSpan,
    check_plausible_dates,
    custody_days,
    possible_span,
    precision_constraint,
    precision_field,
    range_condition,
    span_constraints,
)

language_code_validator = RegexValidator(
    r"^[a-z]{2,3}$", _("Use a two- or three-letter ISO 639 language code, e.g. 'ru'.")
)


class Situation(PartialDateSpan, PublishableModel):
    """The wider context that groups incidents: 'January 2022 unrest in Kazakhstan'."""

    title = models.CharField(_("title"), max_length=250)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    summary = models.TextField(_("summary"), blank=True)
    description = models.TextField(_("description"), blank=True)
    start_date = models.DateField(_("start date"), null=True, blank=True)
    start_date_precision = precision_field(_("start date precision"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    end_date_precision = precision_field(_("end date precision"))
    sources = models.ManyToManyField(
        "Source", related_name="situations", blank=True, verbose_name=_("sources")
    )

    start = PartialDateAttribute("start_date")
    end = PartialDateAttribute("end_date")

    history = TrackedHistory(m2m_fields=[sources])

    class Meta:
        ordering = ["-start_date", "title"]
        verbose_name = _("situation")
        verbose_name_plural = _("situations")
        constraints = span_constraints("situation")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("incidents:situation_detail", kwargs={"slug": self.slug})


class LocationKind(models.TextChoices):
    COUNTRY = "country", _("Country")
    REGION = "region", _("Region or province")
    CITY = "city", _("City, town or village")
    DISTRICT = "district", _("District of a city")
    BORDER_CROSSING = "border_crossing", _("Border crossing or checkpoint")
    POLICE_STATION = "police_station", _("Police station")
    DETENTION_FACILITY = "detention_facility", _("Detention facility or prison")
    COURT = "court", _("Court")
    DIPLOMATIC_MISSION = "diplomatic_mission", _("Embassy or consulate")
    OTHER_SITE = "other_site", _("Other site")


class CoordinatePrecision(models.TextChoices):
    EXACT = "exact", _("Exact place")
    APPROXIMATE = "approximate", _("Approximate, within a few kilometres")
    CITY = "city", _("Centre of the city")
    REGION = "region", _("Centre of the region")
    COUNTRY = "country", _("Centre of the country")


class LocationQuerySet(HistoryRecordingQuerySet):
    def within(self, location: Location):
        """The location and every place inside it (a country includes its cities and sites)."""
        return self.filter(path__startswith=location.path)

    def in_public_use(self):
        """The places a public record uses, and the places they are inside.

        A place has no publication state of its own: one created for a draft case (its
        name, its exact coordinates) stays a draft until something published uses it: a
        published incident's place, a public detention's place of custody or release, a
        timeline event of a published incident. A country is public once a city in it is.

        Lazy, and cheap at any number of cases: the places used are uncorrelated
        subqueries on keys, each starting from the few rows that name a place at all (a
        detention's place of custody is rare: read by its index, 2 ms instead of 600 at
        100,000 incidents), then every place is tested against the used places only, by
        path prefix. Matching each place's path against every case's took 3.5 s.
        """
        published = Incident.objects.published()
        detentions = Detention.objects.published()
        with_place = Detention._base_manager.filter
        events = IncidentEvent.objects.filter(
            location__isnull=False,
            incident__publication_state=PublicationState.PUBLISHED,
            incident__archived_at__isnull=True,
        )
        used = Location._base_manager.filter(
            Q(pk__in=published.values("location_id"))
            | Q(
                pk__in=detentions.filter(
                    pk__in=with_place(custody_location__isnull=False).values("pk")
                ).values("custody_location")
            )
            | Q(
                pk__in=detentions.filter(
                    pk__in=with_place(release_location__isnull=False).values("pk")
                ).values("release_location")
            )
            | Q(
                pk__in=detentions.filter(
                    pk__in=with_place(arrest_location__isnull=False).values("pk")
                ).values("arrest_location")
            )
            | Q(pk__in=events.values("location_id"))
            | Q(pk__in=Account.objects.of_public_records().values("value_location"))
        )
        return self.filter(Exists(used.filter(path__startswith=OuterRef("path"))))

    def visible_to(self, user):
        if can_see_unpublished(user):
            return self.all()
        return self.in_public_use()


class Location(ReviewedModel):
    """A place in a tree: country > region > city > site (checkpoint, police station…).

    `path` holds the ids from the root ("/3/17/42/") so "this place and everything inside it"
    is one indexed prefix match, on SQLite and PostgreSQL alike. It is derived on save.
    """

    name = models.CharField(_("name (Latin script)"), max_length=200)
    name_native = models.CharField(_("name (native script)"), max_length=200, blank=True)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=24, choices=LocationKind.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("inside"),
    )
    country = CountryField(_("country"))
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    coordinate_precision = models.CharField(
        _("coordinate precision"), max_length=16, choices=CoordinatePrecision.choices, blank=True
    )
    description = models.TextField(_("description"), blank=True)
    # Serves `LocationQuerySet.within()`: prefix match for a place and its descendants.
    path = models.CharField(
        _("tree path"), max_length=255, editable=False, blank=True, db_index=True
    )
    # For a mirror's `updated_since` (places are not publishable, but they change).
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    objects = LocationQuerySet.as_manager()

    history = TrackedHistory()

    def is_public_record(self) -> bool:
        # A draft's place is the editor's to correct until something published uses it.
        return self.pk is not None and Location.objects.in_public_use().filter(pk=self.pk).exists()

    class Meta:
        ordering = ["path"]
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="location_latitude_in_range",
                violation_error_message=_("Latitude must be between -90 and 90."),
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="location_longitude_in_range",
                violation_error_message=_("Longitude must be between -180 and 180."),
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__isnull=False, longitude__isnull=False),
                name="location_coordinates_both_or_neither",
                violation_error_message=_("Give both latitude and longitude, or neither."),
            ),
            models.CheckConstraint(
                condition=~Q(parent=F("pk")),
                name="location_not_own_parent",
                violation_error_message=_("A place cannot be inside itself."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        old_path = self.path
        if self.pk is None:
            super().save(*args, **kwargs)
            kwargs = {}
        self.path = f"{self.parent.path if self.parent_id else '/'}{self.pk}/"
        super().save(*args, **kwargs)
        if old_path and old_path != self.path:
            # The place moved in the tree: its descendants move with it.
            for child in Location.objects.filter(path__startswith=old_path).exclude(pk=self.pk):
                child.path = self.path + child.path[len(old_path) :]
                child.save(update_fields=["path"])

    def get_absolute_url(self) -> str:
        return reverse("incidents:location_detail", kwargs={"slug": self.slug})

    def clean(self):
        super().clean()
        if (self.latitude is None) != (self.longitude is None):
            field = "longitude" if self.longitude is None else "latitude"
            raise ValidationError({field: _("Give both latitude and longitude, or neither.")})
        # The range constraints repeat here so the message sits on the field to correct
        # (full_clean() reports a failed check constraint on no field).
        if self.latitude is not None and not -90 <= self.latitude <= 90:
            raise ValidationError({"latitude": _("Latitude must be between -90 and 90.")})
        if self.longitude is not None and not -180 <= self.longitude <= 180:
            raise ValidationError({"longitude": _("Longitude must be between -180 and 180.")})
        if self.latitude is not None and not self.coordinate_precision:
            raise ValidationError(
                {"coordinate_precision": _("Say how precise the coordinates are.")}
            )
        if (
            self.parent_id
            and self.pk
            and (self.parent_id == self.pk or self.parent.path.startswith(self.path or "\0"))
        ):
            raise ValidationError({"parent": _("A place cannot be inside itself.")})

    @property
    def depth(self) -> int:
        return self.path.count("/") - 1

    @property
    def ancestor_ids(self) -> list[int]:
        """The ids of the places this one is inside, root first, read from the path."""
        return [int(part) for part in self.path.strip("/").split("/")[:-1] if part]

    def ancestors(self) -> models.QuerySet:
        """The places this one is inside, root first (one query)."""
        return Location.objects.filter(pk__in=self.ancestor_ids).order_by("path")

    @property
    def has_coordinates(self) -> bool:
        return self.latitude is not None and self.longitude is not None


class IncidentKind(models.TextChoices):
    DETENTION = "detention", _("Detention")
    MASS_DETENTION = "mass_detention", _("Mass detention")
    ILL_TREATMENT = "ill_treatment", _("Ill-treatment")
    DEPORTATION = "deportation", _("Deportation or extradition")
    DISAPPEARANCE = "disappearance", _("Enforced disappearance")
    OTHER = "other", _("Other")


class Verification(models.TextChoices):
    REPORTED = "reported", _("Reported")
    CORROBORATED = "corroborated", _("Corroborated")
    CONFIRMED = "confirmed", _("Confirmed")
    DISPUTED = "disputed", _("Disputed")
    REFUTED = "refuted", _("Refuted")


# The order of every list of incidents: newest first. The explicit NULLS LAST matters: SQLite
# and PostgreSQL disagree on where NULLs go in a descending sort, and an undated incident
# should not top the list on one of them.
NEWEST_FIRST = (F("start_date").desc(nulls_last=True), F("pk").desc())


class IncidentQuerySet(PublishableQuerySet):
    def in_location(self, location: Location):
        return self.filter(location__path__startswith=location.path)

    def around_place(self, *, inside: Location | None = None, at: Location | None = None):
        """Incidents that may have happened at the same place: at `at`, at a place inside
        it or at a place containing it; or, for a place not recorded yet that is `inside`
        a recorded one, at that one or a place containing it."""
        if at is not None:
            return self.filter(
                Q(location__path__startswith=at.path) | Q(location_id__in=at.ancestor_ids)
            )
        if inside is not None:
            return self.filter(location_id__in=[*inside.ancestor_ids, inside.pk])
        return self.none()

    def may_overlap(self, start: PartialDate | None, end: PartialDate | None = None):
        """Incidents whose span may share a day with the span `start`…`end`, each date
        taken at its precision ("January 2022" is any day of the month, "around 7 January"
        a few days either side). An unknown date may be any day: an undated incident may
        overlap anything, and with no `start` every incident may."""
        if start is None:
            return self.all()
        earliest, latest = possible_span(start, end)
        return self.filter(range_condition(earliest, latest, DateMatch.POSSIBLE))

    def dated_in(
        self,
        after: datetime.date | None,
        before: datetime.date | None,
        match: str = DateMatch.POSSIBLE,
    ):
        """Incidents that may fall in the range `after`…`before`, or with `match="certain"`
        certainly fall within it (`range_condition`)."""
        return self.filter(range_condition(after, before, match or DateMatch.POSSIBLE))


class Incident(PartialDateSpan, PublishableModel):
    """One event of detention or abuse at a place and time."""

    span_earliest_field = "earliest_date"
    span_latest_field = "latest_date"

    title = models.CharField(_("title"), max_length=250)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=24, choices=IncidentKind.choices)
    situation = models.ForeignKey(
        Situation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incidents",
        verbose_name=_("situation"),
    )
    location = models.ForeignKey(
        Location,
        on_delete=models.PROTECT,
        related_name="incidents",
        verbose_name=_("place"),
        help_text=_("The most precise place known; a country or city if nothing finer."),
    )
    start_date = models.DateField(_("date"), null=True, blank=True)
    start_date_precision = precision_field(_("date precision"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    end_date_precision = precision_field(_("end date precision"))
    # The first and the last day the incident may have taken place on (`possible_span`):
    # the start's earliest possible day, and the end's latest possible day, or the start's
    # when there is no end ("January 2022" → 1–31 January 2022; "around 7 January 2022" →
    # 4–10 January). Both empty when the start is unknown. Set on every save and bulk
    # creation (PartialDateSpan.normalize_dates); a date filter compares a range with them
    # (`range_condition`), so an incident known to the month may be found by any day of it.
    earliest_date = models.DateField(
        _("earliest possible date"), null=True, editable=False, db_index=True
    )
    latest_date = models.DateField(
        _("latest possible date"), null=True, editable=False, db_index=True
    )
    summary = models.TextField(_("summary"), blank=True)
    description = models.TextField(_("description"), blank=True)
    reported_detained_count = models.PositiveIntegerField(
        _("reported number detained"),
        null=True,
        blank=True,
        help_text=_("As reported, which may exceed the people named. Empty if not reported."),
    )
    reported_released_count = models.PositiveIntegerField(
        _("reported number released"), null=True, blank=True
    )
    reported_count_note = models.CharField(
        _("note on the reported numbers"),
        max_length=250,
        blank=True,
        help_text=_("Words of the source when there is no exact number, e.g. 'tens of'."),
    )
    verification = models.CharField(
        _("verification status"),
        max_length=16,
        choices=Verification.choices,
        default=Verification.REPORTED,
        db_index=True,
    )
    staff_notes = models.TextField(_("staff-only notes"), blank=True)
    sources = models.ManyToManyField(
        "Source", related_name="incidents", blank=True, verbose_name=_("sources")
    )

    start = PartialDateAttribute("start_date")
    end = PartialDateAttribute("end_date")

    objects = IncidentQuerySet.as_manager()

    history = TrackedHistory(m2m_fields=[sources])

    class Meta:
        ordering = ["-start_date", "-pk"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        # The reviewer's powers, for every kind of record (granted through the roles in
        # cabar_tracker/roles.py): publishing and unpublishing, and reverting to an older
        # version.
        permissions = [
            ("publish_record", _("Can publish and unpublish records")),
            ("revert_record", _("Can revert a record to an earlier version")),
        ]
        constraints = [
            *span_constraints("incident"),
            models.CheckConstraint(
                condition=Q(reported_detained_count__isnull=True)
                | Q(reported_detained_count__gte=0),
                name="incident_detained_count_not_negative",
                violation_error_message=_("The number detained cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(reported_released_count__isnull=True)
                | Q(reported_released_count__gte=0),
                name="incident_released_count_not_negative",
                violation_error_message=_("The number released cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(reported_released_count__isnull=True)
                | Q(reported_detained_count__isnull=True)
                | Q(reported_released_count__lte=F("reported_detained_count")),
                name="incident_released_not_more_than_detained",
                violation_error_message=_("The number released cannot exceed the number detained."),
            ),
        ]
        # Indexes for the public list, API and exports (issue 6; EXPLAIN in bench/README.md).
        # They lead with the two columns of `published()` (state = ?, archived_at IS NULL),
        # which every public read tests, rather than being partial indexes on them: SQLite
        # cannot use a partial index when the state arrives as a bound parameter, as it
        # does from the ORM, and fell back to sorting every published row. PostgreSQL also
        # gets a partial (start_date DESC NULLS LAST, id DESC) index, which SQLite cannot
        # declare (incidents/migrations/0005).
        indexes = [
            # Newest first / oldest first, first and deep pages (OFFSET and keyset):
            # ORDER BY start_date, id … LIMIT n; and any date range. Covering for the
            # page's ids.
            models.Index(
                fields=["publication_state", "archived_at", "start_date", "id"],
                name="incident_state_date_idx",
            ),
            # The filtered list "country + kind + year": kind = ? AND start_date BETWEEN ?
            # AND ?, with location_id in the index so the place test (the location's path
            # starts with the country's) joins the small location table without reading
            # the incident rows.
            models.Index(
                fields=["publication_state", "archived_at", "kind", "start_date", "location"],
                name="incident_state_kind_date_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("incidents:incident_detail", kwargs={"slug": self.slug})

    def clean(self):
        super().clean()  # the dates, by PartialDateSpan
        if (
            self.reported_released_count is not None
            and self.reported_detained_count is not None
            and self.reported_released_count > self.reported_detained_count
        ):
            raise ValidationError(
                {
                    "reported_released_count": _(
                        "The number released cannot exceed the number detained."
                    )
                }
            )
        self.check_reported_groups()

    def check_reported_groups(self) -> None:
        """The overall reported numbers may not fall below what the reported groups add up
        to (`ReportedGroup`): 38 of Kyrgyzstan cannot be part of 30 detained."""
        if self.pk is None or (
            self.reported_detained_count is None and self.reported_released_count is None
        ):
            return
        totals = ReportedGroup._base_manager.filter(incident_id=self.pk).aggregate(
            detained=Sum("detained_count"), released=Sum("released_count")
        )
        errors = {}
        for field, group_field, overall, total in (
            ("reported_detained_count", "detained_count", self.reported_detained_count,
             totals["detained"]),
            ("reported_released_count", "released_count", self.reported_released_count,
             totals["released"]),
        ):  # fmt: skip
            if overall is not None and total is not None and total > overall:
                errors[field] = exceeds_overall_message(group_field, total, overall)
        if errors:
            raise ValidationError(errors)


class DetentionRole(models.TextChoices):
    DETAINEE = "detainee", _("Detainee")
    VICTIM = "victim", _("Victim")
    WITNESS = "witness", _("Witness")


class Outcome(models.TextChoices):
    STILL_HELD = "still_held", _("Still held")
    RELEASED = "released", _("Released")
    HANDED_OVER = "handed_over", _("Deported or handed over")
    CHARGED = "charged", _("Charged")
    CONVICTED = "convicted", _("Convicted")
    UNKNOWN = "unknown", _("Unknown")


class DetentionQuerySet(PublishableQuerySet):
    """A detention is shown only with its incident and its person: the one rule that pages,
    counts, facets, exports, search and the API all go through."""

    def published(self):
        """Public only if the detention, its incident and its person are all published: a
        person whose record has not been reviewed yet is not shown at all, not even by a
        count that would reveal them."""
        return self._visible_apart_from_incident(None).filter(
            incident__publication_state="published", incident__archived_at__isnull=True
        )

    def visible_to(self, user):
        if can_see_unpublished(user):
            return self._visible_apart_from_incident(user).filter(
                incident__archived_at__isnull=True
            )
        return self.published()

    def visible_apart_from_incident(self, user):
        """`visible_to(user)` less the test of the incident, for callers that test the
        incidents themselves (ids read from `Incident.objects.visible_to(user)`, or a
        result filtered by it afterwards). With the incident's join, SQLite read every
        incident to test it against a list of ids (3 s at a million)."""
        return self._visible_apart_from_incident(user)

    def _visible_apart_from_incident(self, user):
        return self.visible_apart_from_person(user).filter(_person_shown_condition(user))

    def visible_apart_from_person(self, user):
        """The detention's own half of `visible_to(user)`; `person_shown()` is the person's,
        for rows read with their person's state and archive date."""
        return self.not_archived() if can_see_unpublished(user) else super().published()


def person_shown(user, publication_state: str, archived_at) -> bool:
    """The person's half of `DetentionQuerySet.visible_apart_from_incident`, tested on values
    already read: the same rule as `_person_shown_condition`."""
    if can_see_unpublished(user):
        return archived_at is None
    return publication_state == PublicationState.PUBLISHED and archived_at is None


def _person_shown_condition(user) -> Q:
    if can_see_unpublished(user):
        return Q(person__archived_at__isnull=True)
    return Q(person__publication_state=PublicationState.PUBLISHED, person__archived_at__isnull=True)


class Detention(PartialDateSpan, PublishableModel):
    """The involvement of one person in one incident, with custody and release."""

    span_start_field = "detained_on"
    span_end_field = "released_on"
    span_end_before_start_message = _("The release cannot be before the detention.")
    reviewer_guarded_fields = ("incident_id",)

    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="detentions", verbose_name=_("incident")
    )
    person = models.ForeignKey(
        "people.Person",
        on_delete=models.PROTECT,
        related_name="detentions",
        verbose_name=_("person"),
    )
    role = models.CharField(
        _("role"), max_length=16, choices=DetentionRole.choices, default=DetentionRole.DETAINEE
    )
    detained_on = models.DateField(_("detained on"), null=True, blank=True)
    detained_on_precision = precision_field(_("detention date precision"))
    custody_location = models.ForeignKey(
        Location,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="custodies",
        verbose_name=_("place of custody"),
    )
    released_on = models.DateField(_("released on"), null=True, blank=True)
    released_on_precision = precision_field(_("release date precision"))
    release_location = models.ForeignKey(
        Location,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="releases",
        verbose_name=_("place of release or handover"),
    )
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.UNKNOWN
    )
    # Where the person was arrested, as distinct from where they were held (a village on
    # the road, then a police station in the city).
    arrest_location = models.ForeignKey(
        Location,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="arrests",
        verbose_name=_("place of arrest"),
    )
    detaining_organization = models.ForeignKey(
        "people.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="detentions_made",
        verbose_name=_("detaining authority (organization)"),
    )
    detaining_authority_text = models.CharField(
        _("detaining authority (as reported)"),
        max_length=250,
        blank=True,
        help_text=_(
            "Who detained the person, in the source's words, when no organization is known "
            "(e.g. 'the military', 'police officers')."
        ),
    )
    reported_age = models.PositiveSmallIntegerField(
        _("reported age"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(130)],
        help_text=_("The age at the time of the detention, as reported."),
    )
    charges = models.TextField(_("charges"), blank=True)
    details = models.TextField(_("details"), blank=True)
    staff_notes = models.TextField(_("staff-only notes"), blank=True)
    sources = models.ManyToManyField(
        "Source", related_name="detentions", blank=True, verbose_name=_("sources")
    )

    detained = PartialDateAttribute("detained_on")
    released = PartialDateAttribute("released_on")

    objects = DetentionQuerySet.as_manager()

    history = TrackedHistory(m2m_fields=[sources])

    class Meta:
        ordering = ["incident", "detained_on", "pk"]
        verbose_name = _("detention")
        verbose_name_plural = _("detentions")
        constraints = [
            precision_constraint("detention", "detained_on"),
            precision_constraint("detention", "released_on"),
            models.CheckConstraint(
                condition=Q(released_on__isnull=True)
                | Q(detained_on__isnull=True)
                | Q(released_on__gte=F("detained_on")),
                name="detention_release_not_before_detention",
                violation_error_message=_("The release cannot be before the detention."),
            ),
            models.UniqueConstraint(
                fields=["incident", "person"],
                name="detention_one_per_person_and_incident",
                violation_error_message=_("This person is already recorded in this incident."),
            ),
        ]
        indexes = [
            # The public's detentions list (API) and its CSV, newest detained first, page
            # after page and chunk after chunk: ORDER BY detained_on, id LIMIT n from a
            # position (cabar_tracker.keyset), read from this index: 30 ms a chunk at
            # 100,000 detentions, where SQLite sorted every visible one (2.4 s). Partial, on
            # what the public sees: with the state as its leading columns, SQLite took it
            # for a case's detentions too (incident_id = ? ORDER BY detained_on) and read
            # every detention, 0.9 s a case page instead of 1 ms.
            models.Index(
                fields=["detained_on", "id"],
                condition=Q(publication_state="published", archived_at__isnull=True),
                name="detention_public_detained_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} – {self.incident}"

    def get_absolute_url(self) -> str:
        return f"{self.incident.get_absolute_url()}#detention-{self.pk}"

    def reviewer_only_changes(self, stored: dict | None) -> list[str]:
        changes = super().reviewer_only_changes(stored)
        # A published detention moved to another case appears there at once.
        if (
            stored is not None
            and stored["publication_state"] == PublicationState.PUBLISHED
            and stored["incident_id"] != self.incident_id
        ):
            changes.append(gettext("move a published detention to another incident"))
        return changes

    def clean(self):
        super().clean()  # the dates, by PartialDateSpan
        if self.released_on and self.outcome == Outcome.STILL_HELD:
            raise ValidationError(
                {"outcome": _("A person with a release date is not 'still held'.")}
            )

    @property
    def detaining_authority(self) -> str:
        """Who detained the person: the organization, or the words of the source."""
        if self.detaining_organization_id:
            return str(self.detaining_organization)
        return self.detaining_authority_text

    @property
    def days_in_custody(self) -> int | None:
        """Whole days from detention to release, only when both days are known exactly."""
        detained, released = self.detained, self.released
        if detained and released and detained.is_exact_day and released.is_exact_day:
            return (released.value - detained.value).days
        return None

    @property
    def custody_bounds(self) -> tuple[int, int] | None:
        """The fewest and the most days the person may have been held (`custody_days`):
        "January 2022" to 10 January 2022 is 0 to 9 days. None when a date is unknown."""
        return custody_days(self.detained, self.released)


class AllegationKind(models.TextChoices):
    ILL_TREATMENT = "ill_treatment", _("Ill-treatment or beating")
    TORTURE = "torture", _("Torture")
    FORCED_CONFESSION = "forced_confession", _("Forced confession")
    NO_LAWYER = "no_lawyer", _("Denied a lawyer")
    NO_CONSULAR_ACCESS = "no_consular_access", _("Denied consular access")
    INCOMMUNICADO = "incommunicado", _("Held incommunicado")
    MISIDENTIFICATION = "misidentification", _("Misidentification")
    OTHER = "other", _("Other")


class AllegationStatus(models.TextChoices):
    ALLEGED = "alleged", _("Alleged")
    DENIED = "denied", _("Denied")
    RETRACTED = "retracted", _("Retracted")
    CONFIRMED = "confirmed", _("Confirmed")


class Allegation(ReviewedModel):
    """What was alleged about a detention, and who alleged it."""

    detention = models.ForeignKey(
        Detention,
        on_delete=models.CASCADE,
        related_name="allegations",
        verbose_name=_("detention"),
    )
    kind = models.CharField(_("kind"), max_length=24, choices=AllegationKind.choices)
    alleged_by_person = models.ForeignKey(
        "people.Person",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="allegations_made",
        verbose_name=_("alleged by (person)"),
    )
    alleged_by_organization = models.ForeignKey(
        "people.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="allegations_made",
        verbose_name=_("alleged by (organization)"),
    )
    statement = models.ForeignKey(
        "Statement",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="allegations",
        verbose_name=_("made in statement"),
    )
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=AllegationStatus.choices,
        default=AllegationStatus.ALLEGED,
        help_text=_(
            "Whether the allegation stands: alleged, later denied or retracted (by whom: "
            "record it as an account), or confirmed."
        ),
    )
    sources = models.ManyToManyField(
        "Source", related_name="allegations", blank=True, verbose_name=_("sources")
    )

    objects = HistoryRecordingQuerySet.as_manager()
    history = TrackedHistory(m2m_fields=[sources])

    class Meta:
        ordering = ["detention", "kind"]
        verbose_name = _("allegation")
        verbose_name_plural = _("allegations")

    review_creation = True

    def is_public_record(self) -> bool:
        return Detention.objects.filter(pk=self.detention_id).published().exists()

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.detention.person}"

    @property
    def alleged_by(self):
        return self.alleged_by_organization or self.alleged_by_person


class EventKind(models.TextChoices):
    MEDIA_REPORT = "media_report", _("Media report or broadcast")
    PROTEST = "protest", _("Protest or appeal")
    TRANSFER = "transfer", _("Transfer or handover")
    ANNOUNCEMENT = "announcement", _("Announcement")
    COURT = "court", _("Court or investigation step")
    OTHER = "other", _("Other")


class IncidentEventQuerySet(HistoryRecordingQuerySet):
    def visible_to(self, user):
        return self.filter(incident__in=Incident.objects.visible_to(user))


class IncidentEvent(PartialDated, ReviewedModel):
    """A dated event of an incident that is neither a detention, a release nor a statement
    (a broadcast, a protest, a handover); the case timeline merges all of them."""

    partial_date_field = "occurred_on"

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="events", verbose_name=_("incident")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=EventKind.choices)
    occurred_on = models.DateField(_("date"), null=True, blank=True)
    occurred_on_precision = precision_field(_("date precision"))
    title = models.CharField(_("what happened"), max_length=250)
    description = models.TextField(_("description"), blank=True)
    location = models.ForeignKey(
        Location,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("place"),
    )
    sources = models.ManyToManyField(
        "Source", related_name="events", blank=True, verbose_name=_("sources")
    )

    occurred = PartialDateAttribute("occurred_on")

    objects = IncidentEventQuerySet.as_manager()

    history = TrackedHistory(m2m_fields=[sources])

    class Meta:
        ordering = ["incident", "occurred_on", "pk"]
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")
        constraints = [precision_constraint("incidentevent", "occurred_on")]

    review_creation = True

    def is_public_record(self) -> bool:
        return Incident.objects.filter(pk=self.incident_id).published().exists()

    def __str__(self) -> str:
        return self.title


class ReportedGroupQuerySet(HistoryRecordingQuerySet):
    """A reported group is public with its incident: it has no state of its own."""

    def published(self):
        return self.filter(
            incident__publication_state=PublicationState.PUBLISHED,
            incident__archived_at__isnull=True,
        )

    def visible_to(self, user):
        if can_see_unpublished(user):
            return self.filter(incident__archived_at__isnull=True)
        return self.published()


class ReportedGroup(ReviewedModel):
    """People of one citizenship an incident's sources report as detained, counted rather
    than named ("38 citizens of Kyrgyzstan were detained in Shymkent"), beside the people
    named in its detentions (issue 13, item 2). The citizenship filter and facet find an
    incident by its groups as by its named detainees, and the case page says which numbers
    are reported and which people are named.

    `Incident.reported_detained_count` stays the overall reported number; the groups say
    how it divides by citizenship, as far as the sources say, so their numbers may not add
    up to more than it (`clean()`). A group on a published incident is public: an editor's
    change to it waits for a reviewer (incidents.revisions), like a timeline event."""

    incident = models.ForeignKey(
        Incident,
        on_delete=models.CASCADE,
        related_name="reported_groups",
        verbose_name=_("incident"),
    )
    citizenship = CountryField(_("citizenship"))
    detained_count = models.PositiveIntegerField(
        _("number detained"),
        null=True,
        blank=True,
        help_text=_(
            "As reported. Empty when the source gives no exact number: say so in the note."
        ),
    )
    released_count = models.PositiveIntegerField(
        _("number released"), null=True, blank=True, help_text=_("As reported, if reported.")
    )
    note = models.CharField(
        _("note on the numbers"),
        max_length=250,
        blank=True,
        help_text=_("Words of the source when there is no exact number, e.g. 'tens of'."),
    )
    sources = models.ManyToManyField(
        "Source", related_name="reported_groups", blank=True, verbose_name=_("sources")
    )

    objects = ReportedGroupQuerySet.as_manager()

    history = TrackedHistory(m2m_fields=[sources])

    class Meta:
        ordering = ["incident", "citizenship"]
        verbose_name = _("reported group")
        verbose_name_plural = _("reported groups")
        constraints = [
            # Also serves "the groups of an incident" (the case page, the API, exports).
            models.UniqueConstraint(
                fields=["incident", "citizenship"],
                name="reportedgroup_one_per_incident_and_citizenship",
                violation_error_message=_(
                    "This incident already has a reported number for this citizenship."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(citizenship=""),
                name="reportedgroup_has_citizenship",
                violation_error_message=_("Give the citizenship of the people reported."),
            ),
            models.CheckConstraint(
                condition=Q(detained_count__isnull=True) | Q(detained_count__gt=0),
                name="reportedgroup_detained_count_positive",
                violation_error_message=_("The number detained must be at least 1."),
            ),
            models.CheckConstraint(
                condition=Q(detained_count__isnull=False) | ~Q(note=""),
                name="reportedgroup_number_or_note",
                violation_error_message=_(
                    "Give the number detained, or the source's words in the note when it "
                    "gives no exact number."
                ),
            ),
            models.CheckConstraint(
                condition=Q(released_count__isnull=True) | Q(released_count__gte=0),
                name="reportedgroup_released_count_not_negative",
                violation_error_message=_("The number released cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(released_count__isnull=True)
                | Q(detained_count__isnull=True)
                | Q(released_count__lte=F("detained_count")),
                name="reportedgroup_released_not_more_than_detained",
                violation_error_message=_("The number released cannot exceed the number detained."),
            ),
        ]
        indexes = [
            # The citizenship filter and facet: `incident IN (SELECT incident_id FROM
            # reportedgroup WHERE citizenship IN (…))`, covering.
            models.Index(fields=["citizenship", "incident"], name="reportedgroup_citizenship_idx"),
        ]

    review_creation = True

    def __str__(self) -> str:
        number = self.detained_count if self.detained_count is not None else self.note
        return gettext("%(number)s of %(country)s") % {
            "number": number,
            "country": self.citizenship.name or self.citizenship.code,
        }

    def is_public_record(self) -> bool:
        return Incident.objects.filter(pk=self.incident_id).published().exists()

    def get_absolute_url(self) -> str:
        return f"{self.incident.get_absolute_url()}#people-detained"

    @property
    def compact(self) -> str:
        """ "KG:38", or "KG:?" when the source gives no exact number: the form of the
        exports' `reported_by_citizenship` column and of the API's lists."""
        number = "?" if self.detained_count is None else str(self.detained_count)
        return f"{self.citizenship.code}:{number}"

    def clean(self):
        super().clean()
        if (
            self.released_count is not None
            and self.detained_count is not None
            and self.released_count > self.detained_count
        ):
            raise ValidationError(
                {"released_count": _("The number released cannot exceed the number detained.")}
            )
        if self.incident_id is None:
            return
        # The unique constraint again, with its message on the field: a form that leaves
        # the incident out (it is the page's) would not test it, and the save would fail.
        if (
            self.citizenship
            and ReportedGroup._base_manager.filter(
                incident_id=self.incident_id, citizenship=self.citizenship
            )
            .exclude(pk=self.pk)
            .exists()
        ):
            raise ValidationError(
                {
                    "citizenship": _(
                        "This incident already has a reported number for this citizenship."
                    )
                }
            )
        others = (
            ReportedGroup._base_manager.filter(incident_id=self.incident_id)
            .exclude(pk=self.pk)
            .aggregate(detained=Sum("detained_count"), released=Sum("released_count"))
        )
        incident = Incident._base_manager.filter(pk=self.incident_id).values(
            "reported_detained_count", "reported_released_count"
        )[0]
        errors = {}
        for field, overall_field, key in (
            ("detained_count", "reported_detained_count", "detained"),
            ("released_count", "reported_released_count", "released"),
        ):
            own, overall = getattr(self, field), incident[overall_field]
            if own is None or overall is None:
                continue
            total = own + (others[key] or 0)
            if total > overall:
                errors[field] = exceeds_overall_message(field, total, overall)
        if errors:
            raise ValidationError(errors)


def exceeds_overall_message(field: str, total: int, overall: int) -> str:
    """The refusal when the numbers by citizenship add up to more than the incident's."""
    if field == "detained_count":
        text = gettext(
            "The numbers detained by citizenship add up to %(total)s, more than the "
            "incident's reported number detained (%(overall)s). Correct one of them."
        )
    else:
        text = gettext(
            "The numbers released by citizenship add up to %(total)s, more than the "
            "incident's reported number released (%(overall)s). Correct one of them."
        )
    return text % {"total": total, "overall": overall}


class StatementKind(models.TextChoices):
    CLAIM = "claim", _("Claim")
    DENIAL = "denial", _("Denial")
    PROTEST = "protest", _("Protest")
    DEMAND = "demand", _("Demand or appeal")
    ASSURANCE = "assurance", _("Assurance")
    ACKNOWLEDGEMENT = "acknowledgement", _("Acknowledgement")
    TESTIMONY = "testimony", _("Account by the person concerned")
    COMMENT = "comment", _("Expert comment")


class Medium(models.TextChoices):
    PRESS_RELEASE = "press_release", _("Press release or official statement")
    REMARKS = "remarks", _("Remarks to journalists")
    SPEECH = "speech", _("Speech at a meeting")
    SOCIAL_MEDIA = "social_media", _("Social media post")
    TELEVISION = "television", _("Television")
    INTERVIEW = "interview", _("Interview or quote to the media")
    REPORT = "report", _("Report")
    OTHER = "other", _("Other")


class DisputeStatus(models.TextChoices):
    NOT_DISPUTED = "not_disputed", _("Not disputed")
    DISPUTED = "disputed", _("Disputed")
    REFUTED = "refuted", _("Refuted")


class Statement(PartialDated, PublishableModel):
    """What an official, a body or another person said about incidents and people."""

    partial_date_field = "said_on"

    said_on = models.DateField(_("date"), null=True, blank=True)
    said_on_precision = precision_field(_("date precision"))
    speaker_person = models.ForeignKey(
        "people.Person",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="statements_made",
        verbose_name=_("speaker"),
    )
    speaker_organization = models.ForeignKey(
        "people.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="statements",
        verbose_name=_("on behalf of (organization)"),
    )
    position = models.ForeignKey(
        "people.Position",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="statements",
        verbose_name=_("post held at the time"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=StatementKind.choices)
    medium = models.CharField(_("medium"), max_length=16, choices=Medium.choices, blank=True)
    text = models.TextField(_("quote or summary"))
    is_direct_quote = models.BooleanField(
        _("direct quote"), default=False, help_text=_("The text is the speaker's own words.")
    )
    language = models.CharField(
        _("language"),
        max_length=3,
        blank=True,
        validators=[language_code_validator],
        help_text=_("ISO 639 code of the language the text is in, e.g. 'en', 'ru', 'ky'."),
    )
    situation = models.ForeignKey(
        Situation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="statements",
        verbose_name=_("situation"),
    )
    incidents = models.ManyToManyField(
        Incident, related_name="statements", blank=True, verbose_name=_("about incidents")
    )
    people = models.ManyToManyField(
        "people.Person",
        related_name="statements_about",
        blank=True,
        verbose_name=_("about people"),
    )
    dispute_status = models.CharField(
        _("later disputed?"),
        max_length=16,
        choices=DisputeStatus.choices,
        default=DisputeStatus.NOT_DISPUTED,
        db_index=True,
    )
    dispute_note = models.TextField(
        _("how it was disputed"), blank=True, help_text=_("By whom and how, with a source.")
    )
    sources = models.ManyToManyField(
        "Source", related_name="statements", blank=True, verbose_name=_("sources")
    )

    said = PartialDateAttribute("said_on")

    history = TrackedHistory(m2m_fields=[incidents, people, sources])

    class Meta:
        ordering = ["-said_on", "-pk"]
        verbose_name = _("statement")
        verbose_name_plural = _("statements")
        constraints = [
            precision_constraint("statement", "said_on"),
            models.CheckConstraint(
                condition=Q(speaker_person__isnull=False) | Q(speaker_organization__isnull=False),
                name="statement_has_speaker",
                violation_error_message=_("A statement needs a speaker: a person or a body."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.speaker}: {self.text[:60]}"

    def get_absolute_url(self) -> str:
        return reverse("incidents:statement_detail", kwargs={"pk": self.pk})

    def clean(self):
        super().clean()  # the date, by PartialDated
        if not self.speaker_person_id and not self.speaker_organization_id:
            raise ValidationError(
                {"speaker_person": _("A statement needs a speaker: a person or a body.")}
            )
        if (
            self.position_id
            and self.speaker_person_id
            and self.position.person_id != self.speaker_person_id
        ):
            raise ValidationError({"position": _("This post is held by someone else.")})
        if self.dispute_status != DisputeStatus.NOT_DISPUTED and not self.dispute_note.strip():
            raise ValidationError(
                {"dispute_note": _("Say by whom and how the statement was disputed.")}
            )

    @property
    def speaker(self):
        return self.speaker_person or self.speaker_organization


class SourceKind(models.TextChoices):
    NEWS_ARTICLE = "news_article", _("News article")
    OFFICIAL = "official", _("Official document or statement")
    REPORT = "report", _("Report by an organization")
    SOCIAL_MEDIA = "social_media", _("Social media post")
    VIDEO = "video", _("Video or broadcast")
    TESTIMONY = "testimony", _("Testimony or interview")
    COURT_DOCUMENT = "court_document", _("Court document")
    OTHER = "other", _("Other")


def normalized_url(url: str) -> str:
    """A web address as compared for "the same source": spaces around it, the case of its
    scheme and host, and a trailing slash make no difference."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:  # "http://[" and the like: compare as typed
        return url
    return urlunsplit(
        (
            parts.scheme.lower(),
            parts.netloc.lower(),
            parts.path.rstrip("/"),
            parts.query,
            parts.fragment,
        )
    )


class SourceQuerySet(PublishableQuerySet):
    def with_url(self, url: str):
        """The sources whose address is `url` once both are normalized (`normalized_url`);
        a list, as the comparison is made in Python on a few rows found by the database."""
        wanted = normalized_url(url)
        if not wanted:
            return []
        parts = urlsplit(wanted)
        # Case-insensitive containment finds every spelling of the host and the path's
        # trailing slash; the exact comparison is the normalized one.
        rows = self.filter(url__icontains=f"{parts.netloc}{parts.path}" or wanted)
        return [source for source in rows.order_by("pk") if normalized_url(source.url) == wanted]


class Source(PartialDated, PublishableModel):
    """Where a fact comes from. Every published record cites at least one."""

    partial_date_field = "published_on"

    title = models.CharField(_("title"), max_length=400)
    kind = models.CharField(
        _("kind"), max_length=16, choices=SourceKind.choices, default=SourceKind.NEWS_ARTICLE
    )
    url = models.URLField(_("URL"), max_length=1000, blank=True)
    publisher = models.CharField(_("publisher"), max_length=250, blank=True)
    published_on = models.DateField(_("published on"), null=True, blank=True)
    published_on_precision = precision_field(_("publication date precision"))
    language = models.CharField(
        _("language"), max_length=3, blank=True, validators=[language_code_validator]
    )
    archived_url = models.URLField(
        _("archived copy"), max_length=1000, blank=True, help_text=_("e.g. a Wayback Machine URL.")
    )
    accessed_on = models.DateField(_("accessed on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    publication_date = PartialDateAttribute("published_on")

    objects = SourceQuerySet.as_manager()

    history = TrackedHistory()

    class Meta:
        ordering = ["title"]
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        constraints = [
            precision_constraint("source", "published_on"),
            models.UniqueConstraint(
                fields=["url"],
                condition=~Q(url=""),
                name="source_unique_url",
                violation_error_message=_("A source with this URL already exists."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.publisher}: {self.title}" if self.publisher else self.title

    def get_absolute_url(self) -> str:
        return reverse("incidents:source_detail", kwargs={"pk": self.pk})

    def date_fields(self) -> tuple[str, ...]:
        # The day it was read is a plain date, but a typo there is as implausible.
        return (*super().date_fields(), "accessed_on")

    def clean(self):
        super().clean()  # the dates, by PartialDated
        # Django reports a conditional unique constraint (empty URLs may repeat) on no
        # field; check here so the message sits on the URL.
        if self.url and Source.objects.filter(url=self.url).exclude(pk=self.pk).exists():
            raise ValidationError({"url": _("A source with this URL already exists.")})


def visible_sources(user) -> Prefetch:
    """Prefetch a record's `sources` that `user` may see, as `record.visible_sources`,
    in the order pages and the API list them (by title; the id breaks ties so that a
    representation, and its ETag, never changes with the database's whim)."""
    return Prefetch(
        "sources",
        queryset=Source.objects.visible_to(user).order_by("title", "pk"),
        to_attr="visible_sources",
    )


# --- attributed accounts -------------------------------------------------------------------


class Fact(models.TextChoices):
    """The facts of a case that sources may tell differently, each recorded as accounts."""

    INCIDENT_DATE = "incident_date", _("Date of the incident")
    INCIDENT_PLACE = "incident_place", _("Place of the incident")
    DETENTION_DATE = "detention_date", _("Date of detention")
    ARREST_PLACE = "arrest_place", _("Place of arrest")
    DETAINING_AUTHORITY = "detaining_authority", _("Detaining authority")
    CUSTODY_PLACE = "custody_place", _("Place of custody")
    RELEASE_DATE = "release_date", _("Date of release")
    RELEASE_PLACE = "release_place", _("Place of release or handover")
    OUTCOME = "outcome", _("Outcome")
    REPORTED_AGE = "reported_age", _("Reported age")
    ALLEGATION_STATUS = "allegation_status", _("Status of the allegation")


class ValueKind(models.TextChoices):
    DATE = "date", _("a date")
    PLACE = "place", _("a place")
    AUTHORITY = "authority", _("an organization or a description")
    NUMBER = "number", _("a number")
    CHOICE = "choice", _("a choice")


@dataclass(frozen=True)
class FactSpec:
    """Where a fact lives on its record: the subject (incident, detention or allegation),
    the kind of value, and the record's field that holds the preferred value (a date's
    precision is its `_precision` companion; an authority's free text is
    `detaining_authority_text`). `empty` is the record's value meaning "nothing known"."""

    subject: str
    kind: str
    field: str
    empty: object = None
    choices: type[models.TextChoices] | None = None


FACTS: dict[str, FactSpec] = {
    Fact.INCIDENT_DATE: FactSpec("incident", ValueKind.DATE, "start_date"),
    Fact.INCIDENT_PLACE: FactSpec("incident", ValueKind.PLACE, "location_id"),
    Fact.DETENTION_DATE: FactSpec("detention", ValueKind.DATE, "detained_on"),
    Fact.ARREST_PLACE: FactSpec("detention", ValueKind.PLACE, "arrest_location_id"),
    Fact.DETAINING_AUTHORITY: FactSpec(
        "detention", ValueKind.AUTHORITY, "detaining_organization_id"
    ),
    Fact.CUSTODY_PLACE: FactSpec("detention", ValueKind.PLACE, "custody_location_id"),
    Fact.RELEASE_DATE: FactSpec("detention", ValueKind.DATE, "released_on"),
    Fact.RELEASE_PLACE: FactSpec("detention", ValueKind.PLACE, "release_location_id"),
    Fact.OUTCOME: FactSpec("detention", ValueKind.CHOICE, "outcome", Outcome.UNKNOWN, Outcome),
    Fact.REPORTED_AGE: FactSpec("detention", ValueKind.NUMBER, "reported_age"),
    Fact.ALLEGATION_STATUS: FactSpec(
        "allegation", ValueKind.CHOICE, "status", None, AllegationStatus
    ),
}
SUBJECTS = ("incident", "detention", "allegation")


def facts_of(subject: str) -> list[str]:
    """The facts recorded as accounts on a record of this kind, in the order pages list them."""
    return [fact for fact, spec in FACTS.items() if spec.subject == subject]


class AccountRank(models.TextChoices):
    """After Wikidata's statement ranks: the preferred account is the record's value; normal
    ones are other accounts told beside it; deprecated ones are known to be wrong but kept,
    as sources repeat them."""

    PREFERRED = "preferred", _("Preferred")
    NORMAL = "normal", _("Other account")
    DEPRECATED = "deprecated", _("Deprecated")


class AccountQuerySet(HistoryRecordingQuerySet):
    def of_public_records(self):
        """The accounts the public sees: those of a published incident, of a public
        detention, of an allegation on one. Starts from the accounts (few) to their
        records, as `LocationQuerySet.in_public_use` needs it cheap."""
        return self.filter(
            Q(incident__in=Incident.objects.published().values("pk"))
            | Q(detention__in=Detention.objects.published().values("pk"))
            | Q(allegation__detention__in=Detention.objects.published().values("pk"))
        )

    def visible_to(self, user):
        if can_see_unpublished(user):
            return self.all()
        return self.of_public_records()

    def of(self, record: models.Model):
        """The accounts of one incident, detention or allegation."""
        return self.filter(**{record._meta.model_name: record})

    def in_page_order(self):
        """Preferred first, then the others, deprecated last; oldest first within a rank."""
        rank_order = models.Case(
            *(models.When(rank=rank, then=index) for index, rank in enumerate(AccountRank)),
            output_field=models.IntegerField(),
        )
        return self.order_by("fact", rank_order, "pk")


def _one_subject() -> Q:
    return (
        Q(incident__isnull=False, detention__isnull=True, allegation__isnull=True)
        | Q(incident__isnull=True, detention__isnull=False, allegation__isnull=True)
        | Q(incident__isnull=True, detention__isnull=True, allegation__isnull=False)
    )


def _fact_fits_subject() -> Q:
    return (
        Q(incident__isnull=False, fact__in=facts_of("incident"))
        | Q(detention__isnull=False, fact__in=facts_of("detention"))
        | Q(allegation__isnull=False, fact__in=facts_of("allegation"))
    )


class Account(PartialDated, ReviewedModel):
    """One source's (or one person's) account of one fact of a record: "detained on 7 January
    2022 by the military in Samsy", as Vikram Ruzakhunov told Viory. After Wikidata's
    statements with references and ranks: a record's fact may have several accounts, each
    citing its sources and saying who asserts it; one is preferred.

    The record's own columns keep the preferred value (so every filter, count and export
    goes on reading them); `incidents/accounts.py` keeps the two in step from every door.
    An account is shown with its record and is public when its record is: an editor's change
    to an account of a published record waits for a reviewer, as an allegation's does."""

    partial_date_field = "value_date"

    incident = models.ForeignKey(
        Incident,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="accounts",
        verbose_name=_("incident"),
    )
    detention = models.ForeignKey(
        Detention,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="accounts",
        verbose_name=_("detention"),
    )
    allegation = models.ForeignKey(
        Allegation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="accounts",
        verbose_name=_("allegation"),
    )
    fact = models.CharField(_("fact"), max_length=24, choices=Fact.choices)
    # The value, in the column of its kind (`FACTS`); the others stay empty.
    value_date = models.DateField(_("date"), null=True, blank=True)
    value_date_precision = precision_field(_("date precision"))
    value_location = models.ForeignKey(
        Location,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="accounts",
        verbose_name=_("place"),
    )
    value_organization = models.ForeignKey(
        "people.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="accounts_as_value",
        verbose_name=_("organization"),
    )
    value_text = models.CharField(
        _("in the source's words"),
        max_length=250,
        blank=True,
        help_text=_("For a detaining authority that is no recorded organization: 'the military'."),
    )
    value_number = models.PositiveSmallIntegerField(
        _("number"), null=True, blank=True, validators=[MaxValueValidator(130)]
    )
    value_choice = models.CharField(_("value"), max_length=16, blank=True)
    asserted_by_person = models.ForeignKey(
        "people.Person",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="accounts_asserted",
        verbose_name=_("asserted by (person)"),
    )
    asserted_by_organization = models.ForeignKey(
        "people.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="accounts_asserted",
        verbose_name=_("asserted by (organization)"),
    )
    asserted_by_text = models.CharField(
        _("asserted by (as reported)"),
        max_length=250,
        blank=True,
        help_text=_(
            "Who says it and where, in words: 'speaking to Viory', 'as quoted by AKIpress'. "
            "Public: never name a withheld person here."
        ),
    )
    rank = models.CharField(
        _("rank"), max_length=16, choices=AccountRank.choices, default=AccountRank.NORMAL
    )
    note = models.TextField(
        _("note"), blank=True, help_text=_("What exactly the source says, in our words. Public.")
    )
    sources = models.ManyToManyField(
        "Source", related_name="accounts", blank=True, verbose_name=_("sources")
    )

    objects = AccountQuerySet.as_manager()
    history = TrackedHistory(m2m_fields=[sources])

    class Meta:
        ordering = ["fact", "pk"]
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            models.CheckConstraint(
                condition=_one_subject(),
                name="account_has_exactly_one_subject",
                violation_error_message=_(
                    "An account is of exactly one incident, detention or allegation."
                ),
            ),
            models.CheckConstraint(
                condition=_fact_fits_subject(),
                name="account_fact_fits_subject",
                violation_error_message=_("This fact is not recorded on this kind of record."),
            ),
            precision_constraint("account", "value_date"),
            # One preferred account per fact of a record (three constraints: a NULL key is
            # never equal to another, so one constraint over the three keys would hold
            # nothing).
            *(
                models.UniqueConstraint(
                    fields=[subject, "fact"],
                    condition=Q(rank=AccountRank.PREFERRED, **{f"{subject}__isnull": False}),
                    name=f"account_one_preferred_per_{subject}_fact",
                    violation_error_message=_("This fact already has a preferred account."),
                )
                for subject in SUBJECTS
            ),
        ]

    review_creation = True

    def __str__(self) -> str:
        return f"{self.get_fact_display()}: {self.value_label()}"

    @property
    def subject(self) -> models.Model | None:
        """The incident, detention or allegation this is an account of."""
        for name in SUBJECTS:
            if getattr(self, f"{name}_id"):
                try:
                    return getattr(self, name)
                except ObjectDoesNotExist:  # removed with it (an allegation's accounts)
                    return None
        return None

    @property
    def spec(self) -> FactSpec | None:
        return FACTS.get(self.fact)

    def is_public_record(self) -> bool:
        # Public exactly when the record it belongs to is, by that record's own rule: so the
        # guard that stops an editor here is the one that would stop them writing the record.
        subject = self.subject
        return subject is not None and subject.is_public_record()

    @property
    def is_preferred(self) -> bool:
        return self.rank == AccountRank.PREFERRED

    @property
    def date(self) -> PartialDate | None:
        return PartialDate.of(self.value_date, self.value_date_precision)

    def value_label(self) -> str:
        """The value in words ("January 2022", "Almaty", "the military", "Denied")."""
        spec = self.spec
        if spec is None:
            return ""
        if spec.kind == ValueKind.DATE:
            return str(self.date or "")
        if spec.kind == ValueKind.PLACE:
            return str(self.value_location or "")
        if spec.kind == ValueKind.AUTHORITY:
            return str(self.value_organization or self.value_text)
        if spec.kind == ValueKind.NUMBER:
            return "" if self.value_number is None else str(self.value_number)
        if spec.kind == ValueKind.CHOICE and spec.choices is not None:
            labels = dict(spec.choices.choices)
            return str(labels.get(self.value_choice, self.value_choice))
        return ""

    @property
    def asserted_by(self):
        return self.asserted_by_person or self.asserted_by_organization

    def get_constraints(self):
        # A new preferred account replaces the one before (the same save demotes it, in
        # incidents.accounts): "one preferred per fact" holds after the save, so validation
        # before it must not refuse the change. The database still enforces it.
        return [
            (model, [c for c in constraints if not c.name.startswith("account_one_preferred")])
            for model, constraints in super().get_constraints()
        ]

    def save(self, *args, **kwargs):
        # The record keeps the preferred value: incidents.accounts writes it, in the same
        # transaction (and refuses first what the review rule refuses).
        from incidents import accounts

        with transaction.atomic():
            accounts.before_account_save(self)
            super().save(*args, **kwargs)
            accounts.after_account_save(self)

    def delete(self, *args, **kwargs):
        from incidents import accounts

        with transaction.atomic():
            accounts.before_account_delete(self)
            result = super().delete(*args, **kwargs)
            accounts.after_account_delete(self)
        return result

    # Which value column each kind uses, for clean(): the others must stay empty.
    VALUE_FIELDS = {
        ValueKind.DATE: ("value_date",),
        ValueKind.PLACE: ("value_location",),
        ValueKind.AUTHORITY: ("value_organization", "value_text"),
        ValueKind.NUMBER: ("value_number",),
        ValueKind.CHOICE: ("value_choice",),
    }

    def clean(self):
        super().clean()  # the date, by PartialDated
        subjects = [name for name in SUBJECTS if getattr(self, f"{name}_id")]
        if len(subjects) != 1:
            raise ValidationError(
                _("An account is of exactly one incident, detention or allegation.")
            )
        spec = self.spec
        if spec is None:
            return
        if spec.subject != subjects[0]:
            raise ValidationError({"fact": _("This fact is not recorded on this kind of record.")})
        errors = {}
        wanted = self.VALUE_FIELDS[spec.kind]
        for names in self.VALUE_FIELDS.values():
            for name in names:
                if name not in wanted and _has_value(getattr(self, name)):
                    errors[name] = _("This fact takes %(kind)s: leave this empty.") % {
                        "kind": ValueKind(spec.kind).label
                    }
        if not any(_has_value(getattr(self, name)) for name in wanted):
            errors[wanted[0]] = _("Give the value this account tells (%(kind)s).") % {
                "kind": ValueKind(spec.kind).label
            }
        choice = self.value_choice
        if spec.kind == ValueKind.CHOICE and choice and choice not in spec.choices.values:
            errors["value_choice"] = _("Choose one of: %(choices)s.") % {
                "choices": ", ".join(str(label) for label in spec.choices.labels)
            }
        if errors:
            raise ValidationError(errors)


def _has_value(value) -> bool:
    return value is not None and value != ""


class FollowUpKind(models.TextChoices):
    LETTER = "letter", _("Letter")
    CALL = "call", _("Phone call")
    CONSULAR_REQUEST = "consular_request", _("Consular request")
    VISIT = "visit", _("Visit")
    LEGAL_AID = "legal_aid", _("Legal aid")
    PUBLIC_STATEMENT = "public_statement", _("Public statement")
    OTHER = "other", _("Other")


class FollowUpActionQuerySet(HistoryRecordingQuerySet):
    def next_steps_due(self, on_or_before: datetime.date):
        """Open next steps whose due date has come (or passed) by the given day."""
        return self.filter(
            next_step_due__isnull=False,
            next_step_due__lte=on_or_before,
            next_step_done_at__isnull=True,
        ).order_by("next_step_due", "pk")


class FollowUpAction(VersionedModel):
    """What staff did about a detention, and the next step. Staff-only: never public."""

    detention = models.ForeignKey(
        Detention,
        on_delete=models.PROTECT,
        related_name="follow_up_actions",
        verbose_name=_("detention"),
    )
    taken_on = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=20, choices=FollowUpKind.choices)
    addressee = models.CharField(
        _("addressee"), max_length=250, blank=True, help_text=_("Who it was addressed to.")
    )
    outcome = models.TextField(_("outcome"), blank=True)
    next_step = models.TextField(_("next step"), blank=True)
    next_step_due = models.DateField(_("next step due"), null=True, blank=True)
    next_step_done_at = models.DateTimeField(_("next step done at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="follow_up_actions",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = FollowUpActionQuerySet.as_manager()
    history = TrackedHistory()

    class Meta:
        ordering = ["-taken_on", "-pk"]
        verbose_name = _("follow-up action")
        verbose_name_plural = _("follow-up actions")
        constraints = [
            models.CheckConstraint(
                condition=Q(next_step_due__isnull=True) | ~Q(next_step=""),
                name="followupaction_due_date_needs_a_next_step",
                violation_error_message=_("A due date needs a next step."),
            ),
        ]
        indexes = [
            # Serves the "next steps due" staff page: open steps by due date.
            models.Index(
                fields=["next_step_due"],
                condition=Q(next_step_done_at__isnull=True),
                name="followup_open_steps_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.taken_on}): {self.detention}"

    def clean(self):
        super().clean()
        check_plausible_dates(self, ("taken_on", "next_step_due"))
        if self.next_step_due and not self.next_step.strip():
            raise ValidationError({"next_step": _("A due date needs a next step.")})


class CountDimension(models.TextChoices):
    """What a row of `PublicIncidentCount` counts by, besides its bucket."""

    TOTAL = "", _("All incidents of the bucket")
    VERIFICATION = "verification", _("Verification status")
    CITIZENSHIP = "citizenship", _("Detainee citizenship")
    ALLEGATION = "allegation", _("Allegation")
    OUTCOME = "outcome", _("Outcome")
    MONTH = "month", _("Month of the date")


class PublicIncidentCount(models.Model):
    """Counts of the published incidents, kept per bucket (situation, kind, place, year), so
    the case list's summary, chart and facets read a few thousand rows instead of every
    incident and detention (issue 6). Derived data, for anonymous readers only: staff, who
    also see drafts, get the counts computed live. `incidents/public_counts.py` keeps these
    rows in step with every write and explains which filters they can answer.

    One bucket has one TOTAL row (incidents, people detained and released by the counting
    rule of `facets.py`, and the first and last date known to the day), and one row per
    value of each other dimension: incidents with that verification status, incidents with
    at least one public detention of that citizenship / allegation / outcome, and incidents
    and people detained per month of the date ("2022-01"; "2022" for a date known only to the
    year). Every incident has one bucket, so counts add up across buckets without counting
    an incident twice. A citizenship row counts the incidents with a public detention of
    that citizenship or a reported group of it (`ReportedGroup`), and the people reported
    and named of it.

    `situation_id` and `location_id` are plain integers, not foreign keys: 0 stands for "no
    situation" so that the unique key holds on both databases (NULLs are never equal), and
    the rows are rebuilt from the incidents, never edited, so nothing can dangle for long.
    """

    situation_id = models.BigIntegerField(_("situation id"), default=0)
    kind = models.CharField(_("kind"), max_length=24, choices=IncidentKind.choices)
    location_id = models.BigIntegerField(_("place id"))
    year = models.PositiveSmallIntegerField(_("year"), help_text=_("0 for undated incidents."))
    dimension = models.CharField(
        _("dimension"), max_length=16, choices=CountDimension.choices, blank=True
    )
    value = models.CharField(_("value"), max_length=24, blank=True)
    incidents = models.PositiveIntegerField(_("incidents"))
    people_detained = models.PositiveIntegerField(_("people detained"), default=0)
    people_released = models.PositiveIntegerField(_("people released"), default=0)
    # A citizenship row only: the people of that citizenship its incidents' sources report
    # in numbers (`ReportedGroup`), and those named in their public detentions. The two
    # are shown apart ("42 reported, 2 named"): a named person may be one of the reported.
    people_reported = models.PositiveIntegerField(_("people reported"), default=0)
    people_named = models.PositiveIntegerField(_("people named"), default=0)
    first_exact_date = models.DateField(_("first date known to the day"), null=True)
    last_exact_date = models.DateField(_("last date known to the day"), null=True)

    class Meta:
        verbose_name = _("public incident count")
        verbose_name_plural = _("public incident counts")
        constraints = [
            models.UniqueConstraint(
                fields=["situation_id", "kind", "location_id", "year", "dimension", "value"],
                name="public_count_one_row_per_bucket_value",
            ),
        ]
        indexes = [
            # Every read picks one dimension, narrows by year, kind, place and situation (the
            # filters) and sums the counts: all of it from this index alone (covering, so
            # no table lookups). Refreshing a bucket deletes by the unique key.
            models.Index(
                fields=[
                    "dimension",
                    "year",
                    "kind",
                    "location_id",
                    "situation_id",
                    "value",
                    "incidents",
                    "people_detained",
                    "people_released",
                    "people_reported",
                    "people_named",
                ],
                name="public_count_covering_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}/{self.location_id}/{self.year} {self.dimension}={self.value}"


# --- proposed changes to public records --------------------------------------------------------


class RevisionAction(models.TextChoices):
    CHANGE = "change", _("Change")
    CREATE = "create", _("Addition")
    DELETE = "delete", _("Removal")


class RevisionStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for review")
    PUBLISHED = "published", _("Published")
    RETURNED = "returned", _("Returned to its author")
    SUPERSEDED = "superseded", _("Replaced by a later proposal")


class RevisionQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status=RevisionStatus.PENDING)

    def of(self, record: models.Model):
        # By the content type's natural key, joined: no separate (cached, so sometimes
        # counted, sometimes not) content type query.
        return self.filter(**self.keys(record, "content_type", "object_id"))

    @staticmethod
    def keys(record: models.Model, type_field: str, id_field: str) -> dict:
        return {
            f"{type_field}__app_label": record._meta.app_label,
            f"{type_field}__model": record._meta.model_name,
            id_field: record.pk,
        }

    def about(self, record: models.Model):
        """Proposals for the record itself and for its rows (a person's name variants)."""
        return self.filter(
            Q(**self.keys(record, "content_type", "object_id"))
            | Q(**self.keys(record, "parent_content_type", "parent_id"))
        )


class Revision(models.Model):
    """A change to a public record proposed by someone who may not publish, held here while
    the live row stays as the public sees it (incidents.revisions). After Wagtail's
    revisions: one row per proposal, with the content proposed and the content it was based
    on, so publishing applies only what the proposal changed."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    # The record changed or removed; for an addition, none until it is published.
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    record = GenericForeignKey("content_type", "object_id")
    action = models.CharField(
        _("action"), max_length=8, choices=RevisionAction.choices, default=RevisionAction.CHANGE
    )
    # The record whose page shows this one (a person for a name variant), for the queue.
    parent_content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    parent_id = models.PositiveBigIntegerField(null=True, blank=True)
    parent = GenericForeignKey("parent_content_type", "parent_id")
    base_version = models.PositiveIntegerField(_("based on version"), null=True, blank=True)
    # publishing.content_of() of the live record when proposed, and of the proposal.
    base = models.JSONField(_("public content"), default=dict, encoder=DjangoJSONEncoder)
    proposed = models.JSONField(_("proposed content"), default=dict, encoder=DjangoJSONEncoder)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=RevisionStatus.choices,
        default=RevisionStatus.PENDING,
        db_index=True,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="proposed_revisions",
        verbose_name=_("proposed by"),
    )
    created_at = models.DateTimeField(_("proposed at"), auto_now_add=True)
    note = models.TextField(_("note to the reviewer"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reviewed_revisions",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.TextField(_("reviewer's note"), blank=True)

    objects = RevisionQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("proposed change")
        verbose_name_plural = _("proposed changes")
        indexes = [
            models.Index(fields=["content_type", "object_id", "status"], name="revision_record_idx")
        ]
        constraints = [
            # One proposal per record waits at a time: a new one replaces it (superseded).
            models.UniqueConstraint(
                fields=["content_type", "object_id"],
                condition=Q(status="pending", object_id__isnull=False),
                name="revision_one_pending_per_record",
            ),
        ]

    def __str__(self) -> str:
        subject = f"{self.content_type.name} {self.object_id or ''}".strip()
        return f"{self.get_action_display()} #{self.pk}: {subject}"

    @property
    def model(self):
        return self.content_type.model_class()

    def changed_fields(self) -> list[str]:
        """The attnames and link names whose proposed value differs from the base."""
        base_fields = self.base.get("fields", {})
        base_links = self.base.get("links", {})
        fields = [
            name
            for name, value in self.proposed.get("fields", {}).items()
            if base_fields.get(name) != value
        ]
        links = [
            name
            for name, ids in self.proposed.get("links", {}).items()
            if base_links.get(name, []) != ids
        ]
        return fields + links


# --- old addresses -------------------------------------------------------------------------


class SlugRedirect(models.Model):
    """A slug a record (of either app: incident, situation, place, person, organization) no
    longer has, so its old address answers with a 301 to the current one (issue 13, item
    4). Kept by `incidents/permalinks.py` from every save and bulk write; one table for the
    five kinds, as they are looked up the same way (kind and slug) by one function.

    `public` is false for a slug that may never lead the public anywhere: the slugs of a
    person while their identity was withheld, and the name-derived slug a person had before
    it was withheld. A record's own history shows the change too; this is derived from it
    (the migration that made it filled it from the history)."""

    content_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, verbose_name=_("kind of record")
    )
    object_id = models.PositiveBigIntegerField(_("record id"))
    record = GenericForeignKey("content_type", "object_id")
    old_slug = models.SlugField(_("old slug"), max_length=200)
    public = models.BooleanField(
        _("redirects the public"),
        default=True,
        help_text=_("False for the slugs of a withheld identity: they answer 404 to the public."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("old address")
        verbose_name_plural = _("old addresses")
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "old_slug"], name="slug_redirect_one_per_kind_and_slug"
            ),
        ]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="slug_redirect_record_idx")
        ]

    def __str__(self) -> str:
        return f"{self.content_type.model}/{self.old_slug} → {self.object_id}"


class ImportJobState(models.TextChoices):
    QUEUED = "queued", _("Waiting for the worker")
    CHECKING = "checking", _("Checking the rows")
    WRITING = "writing", _("Writing the records")
    SUCCEEDED = "succeeded", _("Done")
    FAILED = "failed", _("Failed: nothing was imported")


class ImportJobQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The jobs a user may follow: their own; every job for a reviewer (who publishes
        what imports propose)."""
        if not user.is_authenticated or not user.is_staff:
            return self.none()
        if may_publish(user):
            return self
        return self.filter(uploaded_by=user)


class ImportJob(models.Model):
    """A CSV file of detentions sent for import, checked and imported by a background job
    (incidents.import_jobs), with its progress and, when done, its report. Staff-only: the
    file may name withheld persons."""

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="import_jobs",
        help_text=_("Empty for an import run from the command line without --user."),
    )
    file_name = models.CharField(_("file name"), max_length=255)
    # The file as sent (UTF-8 text, at most import_views.MAX_FILE_SIZE): kept in the
    # database so that a worker on another machine reads it, and as the record of what
    # was imported.
    content = models.TextField(_("content"))
    dry_run = models.BooleanField(_("check only"), default=False)
    # The language the report's messages are written in: the uploader's.
    language = models.CharField(max_length=16, default="en")
    state = models.CharField(
        _("state"), max_length=16, choices=ImportJobState.choices, default=ImportJobState.QUEUED
    )
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_checked = models.PositiveIntegerField(_("rows checked"), default=0)
    # incidents.import_jobs.report_data(): rows, counts, errors, the records written.
    report = models.JSONField(_("report"), default=dict, encoder=DjangoJSONEncoder)
    task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The import page's list of recent jobs, the uploader's own, newest first.
            models.Index(fields=["uploaded_by", "-created_at"], name="importjob_uploader_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_state_display()})"

    @property
    def finished(self) -> bool:
        return self.state in (ImportJobState.SUCCEEDED, ImportJobState.FAILED)

    def progress_url(self) -> str:
        return reverse("staff:import_job", args=[self.pk])


class ExportKind(models.TextChoices):
    """The page exports a job can write (incidents.exports.PAGE_EXPORTS)."""

    INCIDENTS_CSV = "incidents_csv", _("cases, one row per incident (CSV)")
    DETENTIONS_CSV = "detentions_csv", _("cases, one row per person detained (CSV)")
    INCIDENTS_JSON = "incidents_json", _("cases with their detentions (JSON)")
    STATEMENTS_CSV = "statements_csv", _("statements (CSV)")


class ExportJobStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting for the worker")
    RUNNING = "running", _("Writing the file")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Deleted")


def new_export_token() -> str:
    """The job's address: 43 random URL-safe characters (256 bits), never guessed."""
    return secrets.token_urlsafe(32)


class ExportJobQuerySet(models.QuerySet):
    def for_reader(self, user):
        """The jobs a reader may open. A public job (no owner: it was run with the public's
        view, so it holds only what any reader may see) is open to whoever has its address; a
        staff member's job (drafts, staff-only columns) only to that member, while still
        staff. Anyone else gets a 404, as if the address did not exist."""
        public = Q(requested_by__isnull=True)
        if can_see_unpublished(user):
            return self.filter(public | Q(requested_by=user))
        return self.filter(public)


class ExportJob(models.Model):
    """A page export too large to stream (more than settings.EXPORT_JOB_ROWS rows), written
    by a background job (incidents.export_jobs) into a file in the default storage, which
    the reader downloads from the job's page (`/exports/<token>/`).

    Who it is for is fixed when it is asked for: `requested_by` is set only for staff, whose
    job is run with their view (drafts, staff-only columns) and opened by them alone; every
    other job has none and is run with the public's view."""

    kind = models.CharField(_("export"), max_length=32, choices=ExportKind.choices)
    # The filter, as the export's query string (`place=almaty&bom=1`): what the job selects
    # and what the file is named after.
    query = models.TextField(_("filter"), blank=True)
    # The reader's language: the job writes the file under it, as the page would have.
    language = models.CharField(max_length=16, default="en")
    # Scheme and host of the site as the reader reached it, for the file's absolute links.
    site_url = models.CharField(max_length=200)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        # The file is theirs alone: it goes with them (`clean_jobs` removes files no job names).
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="export_jobs",
        help_text=_("The staff member whose view the file holds; empty for a public export."),
    )
    token = models.CharField(max_length=64, unique=True, default=new_export_token, editable=False)
    status = models.CharField(
        _("status"), max_length=16, choices=ExportJobStatus.choices, default=ExportJobStatus.QUEUED
    )
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows written"), default=0)
    file = models.FileField(_("file"), upload_to="exports/", max_length=255, blank=True)
    error = models.TextField(_("error"), blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("asked for"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = ExportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # The address is the only way to a public job: it must be there.
            models.CheckConstraint(condition=~Q(token=""), name="export_job_has_token"),
            # A job is ready only with its file.
            models.CheckConstraint(
                condition=~Q(status=ExportJobStatus.DONE) | ~Q(file=""),
                name="export_job_done_has_file",
            ),
        ]
        indexes = [
            # clean_jobs: the jobs still running since before a time (stuck), and those
            # asked for before a time (files past their retention).
            models.Index(fields=["status", "started_at"], name="exportjob_status_started_idx"),
            models.Index(fields=["created_at"], name="exportjob_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()})"

    @property
    def finished(self) -> bool:
        return self.status not in (ExportJobStatus.QUEUED, ExportJobStatus.RUNNING)

    def query_dict(self) -> QueryDict:
        return QueryDict(self.query)

    def progress_url(self) -> str:
        return reverse("incidents:export_job", args=[self.token])

    def download_url(self) -> str:
        return reverse("incidents:export_download", args=[self.token])


# --- what a mirror must know ---------------------------------------------------------------


class PublicUseKind(models.TextChoices):
    LOCATION = "location", _("place")
    ORGANIZATION = "organization", _("organization")
    POSITION = "position", _("post")


class PublicUse(models.Model):
    """When a place, an organization or a post last entered or left public use.

    These three have no publication state: the public sees a place once something published
    uses it, an organization once a public record names it, a post once its holder is
    public by name (`in_public_use()`, `visible_positions`). So nothing of theirs records
    the moment they appear or disappear, and a mirror (the API's `updated_since` and
    `removals`) needs that moment. `incidents.mirror.bring_public_use_up_to_date()` keeps it
    here: it compares what is in public use now with the last state it recorded and records
    each difference at the time it looks. A row exists only for what was public once, so the
    removals feed names nothing the public never saw."""

    kind = models.CharField(_("kind of record"), max_length=16, choices=PublicUseKind.choices)
    object_id = models.PositiveBigIntegerField(_("record id"))
    public = models.BooleanField(_("in public use"))
    changed_at = models.DateTimeField(_("entered or left public use at"))

    class Meta:
        verbose_name = _("public use")
        verbose_name_plural = _("public use")
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="public_use_one_per_record")
        ]
        indexes = [
            # Serves `updated_since` and `removals`: the rows of one kind changed since then.
            models.Index(fields=["kind", "changed_at"], name="public_use_kind_changed_idx")
        ]

    def __str__(self) -> str:
        state = "public" if self.public else "not public"
        return f"{self.kind} {self.object_id}: {state} since {self.changed_at:%Y-%m-%d %H:%M}"
