"""People, the bodies they act for, and the posts they hold.

Vocabulary after Popolo: a Person holds a Position (a post) in an Organization for a time,
so a statement can name "head of GKNB" as the post its speaker held on its date.
"""

from __future__ import annotations

import re
import secrets

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from cabar_tracker.history import HistoryRecordingQuerySet, TrackedHistory
from cabar_tracker.publishing import (
    PublishableModel,
    PublishableQuerySet,
    ReviewedModel,
    can_see_unpublished,
    name_shown_to,
    shown_to,
)
from cabar_tracker.text_index import (
    MIN_INDEXED_LENGTH,
    rowids_containing_all,
    sqlite_trigram_index_available,
)
from incidents.partial_dates import check_plausible_dates
from people.names import detect_script, name_key, name_key_words

UNPUBLISHED_PERSON_LABEL = _("A person not yet published")

WITHHELD_SLUG = re.compile(r"p-[0-9a-f]{12}")


def new_withheld_slug() -> str:
    """A slug that says nothing of the person: for a withheld identity."""
    return f"p-{secrets.token_hex(6)}"


def is_withheld_slug(slug: str) -> bool:
    return bool(WITHHELD_SLUG.fullmatch(slug or ""))


class PersonQuerySet(PublishableQuerySet):
    def searchable_by(self, user):
        """Persons whose names this user may search: staff search everyone they can see;
        the public never finds a withheld identity by its name."""
        visible = self.visible_to(user)
        if can_see_unpublished(user):
            return visible
        return visible.filter(identity_withheld=False)

    def matching_name(self, query: str):
        """Persons any of whose names (canonical, native or a variant) match the query in
        any script: every word of the query's key must occur in one stored key.

        A name someone was wrongly identified by is not their name: "misidentified as"
        relations are not searched, so "Yuburov" does not find Ruzakhunov.
        """
        words = name_key_words(query)
        if not words:
            return self.none()
        variant_owners = (
            PersonName.objects.filter(_key_contains_words(PERSONNAME_KEY_INDEX, words))
            .exclude(kind=NameKind.MISIDENTIFIED_AS)
            .values("person_id")
        )
        on_person = _key_contains_words(PERSON_KEY_INDEX, words)
        return self.filter(on_person | Q(pk__in=variant_owners))


# The SQLite FTS5 tables over the name keys (people/migrations/0007).
PERSON_KEY_INDEX = "people_person_key"
PERSONNAME_KEY_INDEX = "people_personname_key"


def _key_contains_words(index: str, words: list[str]) -> Q:
    """`name_key` contains every one of the words. On SQLite the words long enough for the
    trigram index are looked up in it (a LIKE reads every key), the others tested by LIKE
    on the rows it found; PostgreSQL's LIKE uses the trigram GIN index of 0006 itself."""
    indexed = []
    if sqlite_trigram_index_available():
        indexed = [word for word in words if len(word) >= MIN_INDEXED_LENGTH]
    condition = rowids_containing_all(index, indexed) if indexed else Q()
    for word in words:
        if word not in indexed:
            condition &= Q(name_key__contains=word)
    return condition


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")


class Person(PublishableModel):
    name = models.CharField(
        _("name (Latin script)"),
        max_length=200,
        help_text=_("Canonical name in Latin script, given name first: 'Vikram Ruzakhunov'."),
    )
    name_native = models.CharField(
        _("name (native script)"),
        max_length=200,
        blank=True,
        help_text=_("The name as written in its own script, e.g. Cyrillic. Empty if unknown."),
    )
    name_key = models.CharField(
        _("search key"),
        max_length=400,
        editable=False,
        blank=True,
        db_index=True,
        help_text=_("Normalized spelling of the name and native name, set on save."),
    )
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    sex = models.CharField(_("sex"), max_length=8, choices=Sex.choices, blank=True)
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    citizenship = CountryField(_("citizenship"), blank=True)
    occupation = models.CharField(_("occupation"), max_length=200, blank=True)
    public_notes = models.TextField(_("public notes"), blank=True)
    staff_notes = models.TextField(
        _("staff-only notes"),
        blank=True,
        help_text=_("Never shown to the public, in the API or in exports."),
    )
    identity_withheld = models.BooleanField(
        _("identity withheld"),
        default=False,
        help_text=_(
            "Show only a neutral label (e.g. 'Detainee, citizen of Kyrgyzstan') in public, "
            "never the name or its variants."
        ),
    )
    sources = models.ManyToManyField(
        "incidents.Source", related_name="persons", blank=True, verbose_name=_("sources")
    )

    objects = PersonQuerySet.as_manager()

    history = TrackedHistory(m2m_fields=[sources])

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        permissions = [("merge_person", _("Can merge two records of the same person"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(birth_year__isnull=True)
                | Q(birth_year__gte=1900, birth_year__lte=2100),
                name="person_birth_year_plausible",
                violation_error_message=_("Birth year must be between 1900 and 2100."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("people:person_detail", kwargs={"slug": self.slug})

    reviewer_guarded_fields = ("identity_withheld",)

    def reviewer_only_changes(self, stored: dict | None) -> list[str]:
        changes = super().reviewer_only_changes(stored)
        if stored is not None and stored["identity_withheld"] and not self.identity_withheld:
            changes.append(gettext("show the name of a person whose identity is withheld"))
        return changes

    @classmethod
    def from_db(cls, db, field_names, values):
        person = super().from_db(db, field_names, values)
        # What the database holds, to log a change of it (`_stored_withheld`).
        person._stored_identity_withheld = person.__dict__.get("identity_withheld")
        return person

    def _stored_withheld(self, adding: bool) -> bool | None:
        """Whether the stored record withholds the identity (False for a new one), or None
        when the save does not write the field."""
        if adding:
            return False
        stored = getattr(self, "_stored_identity_withheld", None)
        if stored is None:  # not loaded from the database (a reverted copy): ask it
            stored = (
                type(self)
                ._base_manager.filter(pk=self.pk)
                .values_list("identity_withheld", flat=True)
                .first()
            )
        return stored

    def save(self, *args, **kwargs):
        adding = self._state.adding
        update_fields = kwargs.get("update_fields")
        writes_withheld = update_fields is None or "identity_withheld" in update_fields
        before = self._stored_withheld(adding) if writes_withheld else None
        self.name_key = name_key(f"{self.name} {self.name_native}")
        derived = {"name_key"}
        # A withheld identity never keeps a slug made from its name, whatever path set it
        # (admin pre-fill, API, staff form, importer, a person withheld later):
        # /people/<name-slug>/ answering at all would confirm the person is recorded here.
        if self.identity_withheld and not is_withheld_slug(self.slug):
            self.slug = new_withheld_slug()
            derived.add("slug")
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], *derived}
        if before and not self.identity_withheld:
            # Showing a withheld identity can endanger the person: whatever the door (form,
            # proposal publish, API, admin, merge), the person at the keyboard confirms who
            # they are first (accounts/reauth.py; commands are the operator's).
            from accounts import reauth

            reauth.require_recent(gettext("show a withheld identity"))
        super().save(*args, **kwargs)
        if before is not None and bool(before) != self.identity_withheld:
            # Withholding an identity, or showing it again, is a security event, whatever
            # door it came through (form, proposal, API, import, merge, revert, admin).
            from accounts import security_log

            security_log.record(
                "identity.withheld" if self.identity_withheld else "identity.shown",
                user=getattr(self, "_history_user", None),
                target=security_log.target(self),
            )
        self._stored_identity_withheld = self.identity_withheld

    def clean(self):
        super().clean()
        if self.birth_year is not None and not 1900 <= self.birth_year <= 2100:
            raise ValidationError({"birth_year": _("Birth year must be between 1900 and 2100.")})

    @property
    def public_label(self) -> str:
        """The neutral label shown in public instead of a withheld name."""
        if self.citizenship:
            return _("Person withheld, citizen of %(country)s") % {"country": self.citizenship.name}
        return str(_("Person withheld"))

    def display_name(self, *, for_staff: bool) -> str:
        if self.identity_withheld and not for_staff:
            return self.public_label
        return self.name

    def name_for(self, user) -> str:
        """The person as this reader may see them named, wherever a record that is shown
        links to them (a speaker, a detainee, a post holder): the name; the neutral label
        of a withheld identity; or, for a person whose own record is not public, only
        "A person not yet published", with no citizenship and no hint whether the identity
        will be withheld."""
        if name_shown_to(self, user):
            return self.display_name(for_staff=can_see_unpublished(user))
        if not shown_to(self, user):
            return str(UNPUBLISHED_PERSON_LABEL)
        return str(self.public_label)


class NameKind(models.TextChoices):
    SPELLING = "spelling", _("Other spelling")
    TRANSLITERATION = "transliteration", _("Transliteration")
    NATIVE_SCRIPT = "native_script", _("Native script")
    ALIAS = "alias", _("Alias or nickname")
    MISIDENTIFIED_AS = "misidentified_as", _("Misidentified as")


class Script(models.TextChoices):
    LATIN = "latin", _("Latin")
    CYRILLIC = "cyrillic", _("Cyrillic")
    MIXED = "mixed", _("Mixed")
    OTHER = "other", _("Other")


class PersonName(ReviewedModel):
    """Another name for a person: a spelling, a transliteration, an alias, or a name the
    person was wrongly identified by (with the real bearer of that name, if recorded)."""

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="name_variants", verbose_name=_("person")
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(
        _("kind"), max_length=20, choices=NameKind.choices, default=NameKind.SPELLING
    )
    script = models.CharField(
        _("script"), max_length=10, choices=Script.choices, editable=False, blank=True
    )
    name_key = models.CharField(
        _("search key"), max_length=400, editable=False, blank=True, db_index=True
    )
    other_person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="names_misattributed",
        verbose_name=_("real bearer of the name"),
        help_text=_("For 'misidentified as': the person the name actually belongs to."),
    )
    note = models.TextField(_("note"), blank=True)
    sources = models.ManyToManyField(
        "incidents.Source", related_name="person_names", blank=True, verbose_name=_("sources")
    )

    objects = HistoryRecordingQuerySet.as_manager()
    history = TrackedHistory(m2m_fields=[sources])

    class Meta:
        ordering = ["person", "kind", "name"]
        verbose_name = _("name variant")
        verbose_name_plural = _("name variants")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "name", "kind"], name="person_name_unique_per_kind"
            ),
            models.CheckConstraint(
                condition=Q(other_person__isnull=True) | Q(kind="misidentified_as"),
                name="person_name_other_person_only_for_misidentification",
                violation_error_message=_(
                    "A real bearer of the name is recorded only for 'misidentified as'."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(other_person=F("person")),
                name="person_name_other_person_not_self",
                violation_error_message=_("A person cannot be misidentified as themselves."),
            ),
        ]

    review_creation = True

    def is_public_record(self) -> bool:
        return Person.objects.filter(pk=self.person_id).published().exists()

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def save(self, *args, **kwargs):
        self.name_key = name_key(self.name)
        self.script = detect_script(self.name)
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        if self.other_person_id and self.kind != NameKind.MISIDENTIFIED_AS:
            raise ValidationError(
                {
                    "other_person": _(
                        "A real bearer of the name is recorded only for 'misidentified as'."
                    )
                }
            )
        if self.other_person_id and self.other_person_id == self.person_id:
            raise ValidationError(
                {"other_person": _("A person cannot be misidentified as themselves.")}
            )


class OrganizationKind(models.TextChoices):
    HEAD_OF_STATE = "head_of_state", _("Head of state and their office")
    GOVERNMENT = "government", _("Government or cabinet")
    MINISTRY = "ministry", _("Ministry")
    SECURITY_SERVICE = "security_service", _("Security service")
    POLICE = "police", _("Police")
    COURT = "court", _("Court or prosecutor")
    DIPLOMATIC_MISSION = "diplomatic_mission", _("Embassy or consulate")
    OMBUDSMAN = "ombudsman", _("Ombudsman")
    INTERGOVERNMENTAL = "intergovernmental", _("Intergovernmental organization")
    MEDIA = "media", _("Media")
    ACADEMIC = "academic", _("University or research body")
    NGO = "ngo", _("Non-governmental organization")
    OTHER = "other", _("Other")


class OrganizationQuerySet(HistoryRecordingQuerySet):
    def in_public_use(self):
        """The organizations a public record names, and those they are part of: the speaker
        of a published statement, the body that made an allegation about a public
        detention, the employer of a post shown on a published person's page. One created
        while entering a draft stays a draft until something published uses it.

        Lazy, and cheap at any number of statements: the organizations used are a
        subquery on keys (evaluated once per query, each part starting from the rows that
        name an organization at all), matched against organizations only. Testing each
        organization against every statement instead took 4 s at 10,000 statements."""
        from incidents.models import Account, Allegation, Detention, Statement

        speakers = Statement.objects.published().filter(speaker_organization__isnull=False)
        # From the few allegations an organization made to their detentions, not the other
        # way round (every detention tested first took seconds).
        by_organizations = Allegation.objects.filter(alleged_by_organization__isnull=False)
        accusers = by_organizations.filter(
            detention__in=Detention.objects.published().filter(
                pk__in=by_organizations.values("detention")
            )
        )
        # The body that detained someone (a public detention's), and the bodies the
        # accounts of public records name, as the value or as who asserts it.
        detaining = Detention.objects.published().filter(detaining_organization__isnull=False)
        accounts = Account.objects.of_public_records()
        used = Organization._base_manager.filter(
            Q(pk__in=speakers.values("speaker_organization"))
            | Q(pk__in=accusers.values("alleged_by_organization"))
            | Q(pk__in=visible_positions(None).values("organization"))
            | Q(pk__in=detaining.values("detaining_organization"))
            | Q(
                pk__in=accounts.filter(value_organization__isnull=False).values(
                    "value_organization"
                )
            )
            | Q(
                pk__in=accounts.filter(asserted_by_organization__isnull=False).values(
                    "asserted_by_organization"
                )
            )
        )
        # It, the body it is part of, and that body's own (uncorrelated subqueries, each
        # evaluated once).
        return self.filter(
            Q(pk__in=used.values("pk"))
            | Q(pk__in=used.values("parent"))
            | Q(pk__in=used.values("parent__parent"))
        )

    def visible_to(self, user):
        if can_see_unpublished(user):
            return self.all()
        return self.in_public_use()


class Organization(ReviewedModel):
    name = models.CharField(_("name"), max_length=250)
    name_native = models.CharField(_("name (native script)"), max_length=250, blank=True)
    abbreviation = models.CharField(_("abbreviation"), max_length=30, blank=True)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=24, choices=OrganizationKind.choices)
    country = CountryField(
        _("country"), blank=True, help_text=_("Empty for intergovernmental bodies.")
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("part of"),
    )
    website = models.URLField(_("website"), blank=True)
    description = models.TextField(_("description"), blank=True)
    sources = models.ManyToManyField(
        "incidents.Source", related_name="organizations", blank=True, verbose_name=_("sources")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = OrganizationQuerySet.as_manager()
    history = TrackedHistory(m2m_fields=[sources])

    def is_public_record(self) -> bool:
        # One entered with a draft is the editor's to correct until something published
        # names it.
        return Organization.objects.in_public_use().filter(pk=self.pk).exists()

    class Meta:
        ordering = ["name"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=F("pk")),
                name="organization_not_own_parent",
                violation_error_message=_("An organization cannot be part of itself."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.abbreviation})" if self.abbreviation else self.name

    def get_absolute_url(self) -> str:
        return reverse("people:organization_detail", kwargs={"slug": self.slug})


class Position(ReviewedModel):
    """A post held by a person in an organization, for a time if known."""

    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="positions", verbose_name=_("person")
    )
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="positions",
        verbose_name=_("organization"),
    )
    title = models.CharField(
        _("title of the post"), max_length=200, help_text=_("e.g. 'Head', 'Consul-General'.")
    )
    start_date = models.DateField(_("held from"), null=True, blank=True)
    end_date = models.DateField(_("held until"), null=True, blank=True)
    sources = models.ManyToManyField(
        "incidents.Source", related_name="positions", blank=True, verbose_name=_("sources")
    )
    # For a mirror's `updated_since`.
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    objects = HistoryRecordingQuerySet.as_manager()
    history = TrackedHistory(m2m_fields=[sources])

    class Meta:
        ordering = ["organization__name", "title", "-start_date"]
        verbose_name = _("position")
        verbose_name_plural = _("positions")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(end_date__gte=F("start_date")),
                name="position_ends_after_start",
                violation_error_message=_("A post cannot end before it starts."),
            ),
            models.UniqueConstraint(
                fields=["person", "organization", "title", "start_date"],
                name="position_unique_term",
            ),
        ]

    review_creation = True

    def is_public_record(self) -> bool:
        # The organization's page lists the posts of published people only.
        return Person.objects.filter(pk=self.person_id).published().exists()

    def __str__(self) -> str:
        return f"{self.person}, {self.title}, {self.organization}"

    def clean(self):
        super().clean()
        check_plausible_dates(self, ("start_date", "end_date"))
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": _("A post cannot end before it starts.")})

    def was_held_on(self, day) -> bool:
        return (self.start_date is None or self.start_date <= day) and (
            self.end_date is None or day <= self.end_date
        )


def visible_positions(user) -> models.QuerySet:
    """Posts whose holder the user may see by name: for the public, not those of a withheld
    identity or a person not yet published, as a post ("head of the security service")
    names its holder. Pages and API alike."""
    return Position.objects.filter(person__in=Person.objects.searchable_by(user))
