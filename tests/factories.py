"""factory_boy factories for every model. Records are published unless a test says otherwise,
so tests about drafts state `publication_state=PublicationState.DRAFT` explicitly."""

import datetime

import factory
from django.contrib.auth import get_user_model

from cabar_tracker.publishing import PublicationState
from incidents import models as incidents
from people import models as people


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.django.Password("correct horse battery staple")


class StaffUserFactory(UserFactory):
    is_staff = True


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = incidents.Source

    title = factory.Sequence(lambda n: f"Report number {n}")
    url = factory.Sequence(lambda n: f"https://news.example.org/reports/{n}")
    publisher = "Example News"
    published_on = datetime.date(2022, 1, 12)
    published_on_precision = "day"
    language = "en"
    publication_state = PublicationState.PUBLISHED


class SituationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = incidents.Situation

    title = factory.Sequence(lambda n: f"Unrest number {n}")
    slug = factory.Sequence(lambda n: f"unrest-{n}")
    start_date = datetime.date(2022, 1, 1)
    start_date_precision = "month"
    publication_state = PublicationState.PUBLISHED


class CountryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = incidents.Location
        django_get_or_create = ("slug",)

    name = "Kazakhstan"
    slug = factory.LazyAttribute(lambda loc: loc.name.lower().replace(" ", "-"))
    kind = incidents.LocationKind.COUNTRY
    country = "KZ"


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = incidents.Location

    name = factory.Sequence(lambda n: f"Town {n}")
    slug = factory.Sequence(lambda n: f"town-{n}")
    kind = incidents.LocationKind.CITY
    parent = factory.SubFactory(CountryFactory)
    country = factory.LazyAttribute(lambda loc: loc.parent.country if loc.parent else "KZ")
    latitude = None
    longitude = None


class IncidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = incidents.Incident

    title = factory.Sequence(lambda n: f"Detention number {n}")
    slug = factory.Sequence(lambda n: f"detention-{n}")
    kind = incidents.IncidentKind.DETENTION
    situation = factory.SubFactory(SituationFactory)
    location = factory.SubFactory(LocationFactory)
    start_date = datetime.date(2022, 1, 7)
    start_date_precision = "day"
    summary = "A person was detained."
    publication_state = PublicationState.PUBLISHED


class PublicPlaceFactory(LocationFactory):
    """A place a published incident uses, which makes it public: a place nothing published
    uses yet is a draft's (incidents.models.LocationQuerySet.in_public_use)."""

    class Meta:
        skip_postgeneration_save = True  # the hook saves another record, not this one

    @factory.post_generation
    def used_by(place, create, extracted, **kwargs):
        if create:
            IncidentFactory(location=place)


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = people.Person

    name = factory.Sequence(lambda n: f"Test Person{n}")
    slug = factory.Sequence(lambda n: f"person-{n}")
    citizenship = "KG"
    publication_state = PublicationState.PUBLISHED


class PersonNameFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = people.PersonName

    person = factory.SubFactory(PersonFactory)
    name = factory.Sequence(lambda n: f"Variant {n}")
    kind = people.NameKind.SPELLING


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = people.Organization

    name = factory.Sequence(lambda n: f"Ministry number {n}")
    slug = factory.Sequence(lambda n: f"ministry-{n}")
    kind = people.OrganizationKind.MINISTRY
    country = "KZ"


class PositionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = people.Position

    person = factory.SubFactory(PersonFactory)
    organization = factory.SubFactory(OrganizationFactory)
    title = "Minister"


class DetentionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = incidents.Detention

    incident = factory.SubFactory(IncidentFactory)
    person = factory.SubFactory(PersonFactory)
    detained_on = datetime.date(2022, 1, 7)
    detained_on_precision = "day"
    outcome = incidents.Outcome.UNKNOWN
    publication_state = PublicationState.PUBLISHED


class AllegationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = incidents.Allegation

    detention = factory.SubFactory(DetentionFactory)
    kind = incidents.AllegationKind.ILL_TREATMENT
    alleged_by_organization = factory.SubFactory(OrganizationFactory)


class IncidentEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = incidents.IncidentEvent

    incident = factory.SubFactory(IncidentFactory)
    kind = incidents.EventKind.MEDIA_REPORT
    occurred_on = datetime.date(2022, 1, 9)
    occurred_on_precision = "day"
    title = "A video was broadcast"


class ReportedGroupFactory(factory.django.DjangoModelFactory):
    """People of one citizenship an incident's sources report in numbers, unnamed."""

    class Meta:
        model = incidents.ReportedGroup

    incident = factory.SubFactory(IncidentFactory)
    citizenship = "KG"
    detained_count = 5


class StatementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = incidents.Statement

    said_on = datetime.date(2022, 1, 10)
    said_on_precision = "day"
    speaker_organization = factory.SubFactory(OrganizationFactory)
    kind = incidents.StatementKind.CLAIM
    text = "The ministry said something."
    publication_state = PublicationState.PUBLISHED


class PublicOrganizationFactory(OrganizationFactory):
    """An organization a published statement names as its speaker, which makes it public
    (people.models.OrganizationQuerySet.in_public_use)."""

    class Meta:
        skip_postgeneration_save = True  # the hook saves another record, not this one

    @factory.post_generation
    def used_by(organization, create, extracted, **kwargs):
        if create:
            StatementFactory(speaker_organization=organization)


class FollowUpActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = incidents.FollowUpAction

    detention = factory.SubFactory(DetentionFactory)
    taken_on = datetime.date(2022, 1, 12)
    kind = incidents.FollowUpKind.CONSULAR_REQUEST
    addressee = "Consulate General"
    next_step = "Call the consulate again"
    next_step_due = datetime.date(2022, 1, 14)


class AccountFactory(factory.django.DjangoModelFactory):
    """Another account of a published detention's fact: arrested elsewhere, as a newspaper
    reports the detainee saying, citing a published source."""

    class Meta:
        model = incidents.Account
        skip_postgeneration_save = True  # the hook links sources, it changes no field

    detention = factory.SubFactory(DetentionFactory)
    fact = incidents.Fact.ARREST_PLACE
    value_location = factory.SubFactory(LocationFactory)
    asserted_by_text = "speaking to a newspaper"
    rank = incidents.AccountRank.NORMAL
    note = "He said he was arrested on the road."

    @factory.post_generation
    def sources(account, create, extracted, **kwargs):
        if create:
            account.sources.set(extracted if extracted is not None else [SourceFactory()])


class ExportJobFactory(factory.django.DjangoModelFactory):
    """A public export job (no owner) waiting for the worker; give `status`, `file`,
    `requested_by` for other states."""

    class Meta:
        model = incidents.ExportJob

    kind = incidents.ExportKind.INCIDENTS_CSV
    query = "kind=detention"
    site_url = "http://testserver"
