"""The demo cases: the CABAR article's facts, entered faithfully and idempotently, and the two
other published accounts of the Ruzakhunov case beside CABAR's."""

import datetime

import pytest
from django.core.management import call_command

from cabar_tracker.publishing import PublicationState
from incidents.models import (
    Account,
    AccountRank,
    Allegation,
    AllegationKind,
    Detention,
    DisputeStatus,
    Fact,
    Incident,
    IncidentEvent,
    IncidentKind,
    Location,
    Outcome,
    ReportedGroup,
    Situation,
    Source,
    Statement,
)
from people.models import NameKind, Organization, Person, PersonName, Position

ALL_MODELS = [Source, Location, Organization, Person, PersonName, Position, Situation,
              Incident, ReportedGroup, Detention, Allegation, IncidentEvent,
              Statement, Account]  # fmt: skip

ASIAN_URL = "http://www.theasian.asia/archives/111657"
VIORY_URL = (
    "https://viory.video/en/videos/a3039_10012022/kyrgyzstan-well-known-jazz-musician-returns-"
    "home-after-being-detained-in-kazakhstan"
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    call_command("load_demo", stdout=None)


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in ALL_MODELS}


def test_it_is_idempotent(demo):
    first = row_counts()
    call_command("load_demo")
    assert row_counts() == first
    assert all(count > 0 for count in first.values()), first


def history_counts() -> dict[str, int]:
    return {model.__name__: model.history.count() for model in ALL_MODELS}


def test_running_it_again_writes_no_history_and_no_new_versions(demo):
    histories = history_counts()
    versions = {
        model.__name__: sorted(model._base_manager.values_list("pk", "version"))
        for model in ALL_MODELS
    }
    updated = sorted(Incident.objects.values_list("pk", "updated_at"))
    call_command("load_demo", stdout=None)
    assert history_counts() == histories
    assert {
        model.__name__: sorted(model._base_manager.values_list("pk", "version"))
        for model in ALL_MODELS
    } == versions
    # The cases' "last updated", which citations quote, does not move either.
    assert sorted(Incident.objects.values_list("pk", "updated_at")) == updated


def test_dry_run_saves_nothing(db):
    call_command("load_demo", "--dry-run")
    assert sum(row_counts().values()) == 0


def test_it_reports_the_shymkent_38_and_the_almaty_four_as_citizens_of_kyrgyzstan(demo):
    groups = {
        group.incident.slug: group
        for group in ReportedGroup.objects.select_related("incident").prefetch_related("sources")
    }
    assert set(groups) == {"shymkent-38-kyrgyz-citizens", "four-kyrgyz-citizens-almaty"}
    shymkent, almaty = groups["shymkent-38-kyrgyz-citizens"], groups["four-kyrgyz-citizens-almaty"]
    assert (shymkent.citizenship.code, shymkent.detained_count, shymkent.released_count) == (
        "KG",
        38,
        38,
    )
    # "will be released" on 11 January: the article does not say they were.
    assert (almaty.citizenship.code, almaty.detained_count, almaty.released_count) == (
        "KG",
        4,
        None,
    )
    for group in groups.values():
        assert [source.url for source in group.sources.all()] == [""]  # CABAR's article
        assert "CABAR" in group.sources.get().publisher


def test_the_demo_s_citizenship_filter_finds_the_unnamed_kyrgyz_citizens(demo, client):
    response = client.get("/incidents/", {"citizenship": "KG"})

    slugs = {incident.slug for incident in response.context["page"].object_list}
    assert {"shymkent-38-kyrgyz-citizens", "four-kyrgyz-citizens-almaty"} <= slugs


def test_it_records_ruzakhunovs_release_at_ak_zhol_on_10_january(demo):
    detention = Detention.objects.get(person__slug="vikram-ruzakhunov")
    assert detention.released_on == datetime.date(2022, 1, 10)
    assert detention.released_on_precision == "day"
    assert str(detention.released) == "10 January 2022"
    assert detention.release_location.name == "Ak Zhol checkpoint"
    assert detention.outcome == Outcome.HANDED_OVER
    # The article says only that he was detained during the clashes: the month, no day.
    assert str(detention.detained) == "January 2022"
    assert detention.incident.location.name == "Almaty"
    assert detention.person.occupation == "Jazz musician and pianist"
    assert detention.person.citizenship.code == "KG"


def test_it_records_38_reported_in_shymkent_with_no_invented_names(demo):
    incident = Incident.objects.get(slug="shymkent-38-kyrgyz-citizens")
    assert incident.kind == IncidentKind.MASS_DETENTION
    assert incident.reported_detained_count == 38
    assert incident.reported_released_count == 38
    assert incident.location.name == "Shymkent"
    # The article names none of the 38.
    assert incident.detentions.count() == 0


def test_it_records_the_interior_ministry_claim_as_disputed(demo):
    claim = Statement.objects.get(speaker_organization__slug="interior-ministry-kazakhstan")
    assert claim.dispute_status == DisputeStatus.DISPUTED
    assert "Zakir Yuburov" in claim.text
    assert claim.dispute_note
    assert set(claim.people.values_list("slug", flat=True)) == {
        "vikram-ruzakhunov",
        "zakir-yuburov",
    }


def test_it_records_misidentified_as_as_a_name_relation(demo):
    relation = PersonName.objects.get(kind=NameKind.MISIDENTIFIED_AS)
    assert relation.person.slug == "vikram-ruzakhunov"
    assert relation.name == "Zakir Yuburov"
    assert relation.other_person.slug == "zakir-yuburov"


def test_it_attributes_torogeldievs_ill_treatment_to_the_ombudsman_institute(demo):
    allegation = Allegation.objects.get(detention__person__slug="baialy-torogeldiev")
    assert allegation.kind == AllegationKind.ILL_TREATMENT
    assert allegation.alleged_by_organization.name == "Ombudsman Institute of the Kyrgyz Republic"
    assert allegation.alleged_by_person is None
    assert allegation.statement.speaker_organization == allegation.alleged_by_organization
    assert allegation.detention.incident.location.name == "Shymkent"


def test_it_records_yuburovs_detention_on_7_january(demo):
    detention = Detention.objects.get(person__slug="zakir-yuburov")
    assert str(detention.detained) == "7 January 2022"
    # Nothing is said of his release.
    assert detention.released_on is None
    assert detention.outcome == Outcome.UNKNOWN


def test_it_records_the_four_in_almaty_and_the_consuls_assurance(demo):
    incident = Incident.objects.get(slug="four-kyrgyz-citizens-almaty")
    assert incident.reported_detained_count == 4
    statement = incident.statements.get()
    assert statement.speaker_person.name == "Nazarali Aripov"
    assert statement.position.title == "Consul-General"
    assert str(statement.said) == "11 January 2022"


def test_it_names_every_official_with_the_post_held(demo):
    posts = {
        (p.person.name, p.title, p.organization.slug)
        for p in Position.objects.select_related("person", "organization")
    }
    assert posts == {
        ("Kamchybek Tashiev", "Head", "gknb-kyrgyzstan"),
        ("Sadyr Zhaparov", "President", "presidency-kyrgyzstan"),
        ("Akylbek Zhaparov", "Head of government", "cabinet-of-ministers-kyrgyzstan"),
        ("Nazarali Aripov", "Consul-General", "consulate-general-kyrgyzstan-kazakhstan"),
    }
    csto_speech = Statement.objects.get(speaker_person__slug="akylbek-zhaparov")
    assert str(csto_speech.said) == "10 January 2022"


def cabar_article() -> Source:
    return Source.objects.get(publisher__startswith="CABAR")


def test_every_record_cites_the_article(demo):
    article = cabar_article()
    assert article.publisher.startswith("CABAR")
    for model in [Organization, Person, PersonName, Position, Situation, Incident, Detention,
                  Allegation, IncidentEvent, Statement]:  # fmt: skip
        uncited = model.objects.exclude(sources=article)
        assert not uncited.exists(), f"{model.__name__} without the article: {list(uncited)}"


def test_it_leaves_unknowns_empty(demo):
    # The article gives no Cyrillic spellings, birth years or custody places.
    assert not Person.objects.exclude(name_native="").exists()
    assert not Person.objects.filter(birth_year__isnull=False).exists()
    assert not Detention.objects.filter(custody_location__isnull=False).exists()
    assert cabar_article().url == ""


def test_everything_is_published(demo):
    for model in [Person, Situation, Incident, Detention, Statement, Source]:
        assert not model.objects.exclude(publication_state=PublicationState.PUBLISHED).exists()


def test_persons_are_found_by_any_spelling(demo):
    for spelling in ["Рузахунов", "RUZAKHUNOV", "Ruzahunov", "Викрам Рузахунов"]:
        found = Person.objects.matching_name(spelling)
        assert list(found.values_list("slug", flat=True)) == ["vikram-ruzakhunov"], spelling


# --- the other accounts of the Ruzakhunov case (shared/seed/ruzakhunov-other-accounts.md) ---


def ruzakhunov() -> Detention:
    return Detention.objects.get(person__slug="vikram-ruzakhunov")


def told(fact, **subject) -> list[tuple[str, str, str, str]]:
    """(rank, value, who asserts it, source URLs) of each account of a fact."""
    rows = []
    for account in Account.objects.filter(fact=fact, **subject).order_by("pk"):
        who = ", ".join(
            str(part)
            for part in (
                account.asserted_by_person,
                account.asserted_by_organization and account.asserted_by_organization.slug,
                account.asserted_by_text,
            )
            if part
        )
        urls = " ".join(sorted(s.url or s.publisher for s in account.sources.all()))
        rows.append((account.rank, account.value_label(), who, urls))
    return rows


def test_it_loads_the_two_other_sources_published_with_their_dates(demo):
    asian = Source.objects.get(url=ASIAN_URL)
    viory = Source.objects.get(url=VIORY_URL)
    assert (asian.publisher, str(asian.publication_date)) == ("The AsiaN", "11 January 2022")
    assert (viory.publisher, str(viory.publication_date)) == ("Viory", "10 January 2022")
    assert asian.is_published and viory.is_published


def test_cabars_account_stays_preferred_beside_the_other_two(demo):
    detention = ruzakhunov()
    assert str(detention.detained) == "January 2022"
    assert detention.arrest_location.slug == "almaty"
    assert detention.detaining_authority == "Kazakh police officers"
    cabar = "CABAR - Central Asian Bureau for Analytical Reporting"
    assert told(Fact.DETENTION_DATE, detention=detention) == [
        ("preferred", "January 2022", "cabar", cabar),
        ("normal", "7 January 2022", "Vikram Ruzakhunov, speaking to Viory", VIORY_URL),
    ]
    assert told(Fact.ARREST_PLACE, detention=detention) == [
        ("preferred", "Almaty", "cabar", cabar),
        ("normal", "Samsy", "Vikram Ruzakhunov, speaking to Viory", VIORY_URL),
        (
            "normal",
            "Samsy",
            "Vikram Ruzakhunov, as quoted by AKIpress, reported by The AsiaN",
            ASIAN_URL,
        ),
    ]
    assert [row[:2] for row in told(Fact.DETAINING_AUTHORITY, detention=detention)] == [
        ("preferred", "Kazakh police officers"),
        ("normal", "the military"),
        ("normal", "the military"),
    ]


def test_samsy_is_a_village_of_almaty_region_in_kazakhstan(demo):
    samsy = Location.objects.get(slug="samsy")
    assert [place.slug for place in samsy.ancestors()] == ["kazakhstan", "almaty-region"]
    assert samsy.latitude is None  # no source gives its coordinates


def test_his_denials_are_accounts_of_the_allegations_status(demo):
    ill_treatment = Allegation.objects.get(
        detention=ruzakhunov(), kind=AllegationKind.ILL_TREATMENT
    )
    assert ill_treatment.status == "alleged"
    assert [row[:2] for row in told(Fact.ALLEGATION_STATUS, allegation=ill_treatment)] == [
        ("preferred", "Alleged"),
        ("normal", "Denied"),
        ("normal", "Denied"),
    ]
    notes = Account.objects.filter(allegation=ill_treatment, rank=AccountRank.NORMAL)
    assert all("Samsy" in account.note for account in notes)


def test_nothing_is_invented_for_the_other_accounts(demo):
    # The AsiaN gives no day of the detention; nobody gives his age or a place of custody.
    assert not Account.objects.filter(sources__url=ASIAN_URL, fact=Fact.DETENTION_DATE).exists()
    assert not Account.objects.filter(fact=Fact.REPORTED_AGE).exists()
    assert not Account.objects.filter(fact=Fact.CUSTODY_PLACE).exists()
    others = Account.objects.exclude(rank=AccountRank.PREFERRED)
    assert {s.url for a in others for s in a.sources.all()} == {ASIAN_URL, VIORY_URL}
