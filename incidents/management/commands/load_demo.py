"""Load the demo cases: the January 2022 detentions of Kyrgyz citizens in Kazakhstan, as told
by the CABAR article in shared/seed/cabar-kazakhstan-january-2022.txt, and the two other
published accounts of the Ruzakhunov case in shared/seed/ruzakhunov-other-accounts.md (The
AsiaN, Viory), recorded as attributed accounts beside CABAR's, each citing its own address.

Every fact below is from that article and every record cites it. What the article does not
say stays empty: no Cyrillic spellings, birth years, custody places or release dates that it
does not give, and dates only at the precision it gives ("January 2022" where it only says
the detention happened during the clashes). Place coordinates are the only facts not from
the article: city and country centres from a gazetteer, marked as such by their precision,
so the map can show the places.

CABAR's account stays the preferred one (the record's values): detained by Kazakh police
officers in Almaty, in January 2022. The other two, in Ruzakhunov's own words as each outlet
reports them, are the other accounts: arrested by the military in the village of Samsy
(Almaty Region), on 7 January 2022 (Viory; The AsiaN gives no day), and his denial that he
was tortured (the marks came from the rough arrest). Only what the seed file says is entered.

The command is idempotent: every record is found by a natural key (a slug, or its owner and
text) and updated, so running it twice leaves the same rows.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction

from cabar_tracker.publishing import PublicationState
from incidents.models import (
    Account,
    AccountRank,
    Allegation,
    AllegationKind,
    CoordinatePrecision,
    Detention,
    DetentionRole,
    DisputeStatus,
    EventKind,
    Fact,
    Incident,
    IncidentEvent,
    IncidentKind,
    Location,
    LocationKind,
    Medium,
    Outcome,
    ReportedGroup,
    Situation,
    Source,
    SourceKind,
    Statement,
    StatementKind,
    Verification,
)
from people.models import (
    NameKind,
    Organization,
    OrganizationKind,
    Person,
    PersonName,
    Position,
    Sex,
)

PUBLISHED = PublicationState.PUBLISHED
JAN_2022 = (datetime.date(2022, 1, 1), "month")


def day(d: int) -> tuple[datetime.date, str]:
    return datetime.date(2022, 1, d), "day"


SOURCE = {
    "title": "Central Asian States in the Context of Clashes in Kazakhstan",
    "publisher": "CABAR - Central Asian Bureau for Analytical Reporting",
    "kind": SourceKind.NEWS_ARTICLE,
    "language": "en",
    "notes": (
        "English-language analysis published during the January 2022 unrest; the article's "
        "text does not give its own URL or date. A copy of the text is kept with the "
        "project as shared/seed/cabar-kazakhstan-january-2022.txt."
    ),
}

# slug: (name, native name, kind, parent slug, country, latitude, longitude, precision, note)
LOCATIONS = [
    ("kazakhstan", "Kazakhstan", "Қазақстан", LocationKind.COUNTRY, None, "KZ",
     "48.019600", "66.923700", CoordinatePrecision.COUNTRY, ""),
    ("almaty", "Almaty", "Алматы", LocationKind.CITY, "kazakhstan", "KZ",
     "43.238900", "76.889700", CoordinatePrecision.CITY, ""),
    ("shymkent", "Shymkent", "Шымкент", LocationKind.CITY, "kazakhstan", "KZ",
     "42.341700", "69.590100", CoordinatePrecision.CITY, ""),
    ("kyrgyzstan", "Kyrgyzstan", "Кыргызстан", LocationKind.COUNTRY, None, "KG",
     "41.204400", "74.766100", CoordinatePrecision.COUNTRY, ""),
    ("bishkek", "Bishkek", "Бишкек", LocationKind.CITY, "kyrgyzstan", "KG",
     "42.874600", "74.569800", CoordinatePrecision.CITY, ""),
    ("embassy-of-kazakhstan-bishkek", "Embassy of Kazakhstan in Bishkek", "",
     LocationKind.DIPLOMATIC_MISSION, "bishkek", "KG", None, None, "",
     "Relatives of Vikram Ruzakhunov protested in front of it."),
    # From the other accounts: Ruzakhunov said he was arrested in the village of Samsy,
    # Almaty Region (no coordinates: none is given, and the map shows the country).
    ("almaty-region", "Almaty Region", "Алматы облысы", LocationKind.REGION, "kazakhstan", "KZ",
     None, None, "", ""),
    ("samsy", "Samsy", "Самсы", LocationKind.CITY, "almaty-region", "KZ", None, None, "",
     "Village in Almaty Region where, by his own later account, Vikram Ruzakhunov was "
     "arrested by the military."),
    ("ak-zhol-checkpoint", "Ak Zhol checkpoint", "", LocationKind.BORDER_CROSSING,
     "kyrgyzstan", "KG", None, None, "",
     "Checkpoint on the Kazakhstan–Kyrgyzstan border where Vikram Ruzakhunov was met on "
     "his return on 10 January 2022."),
]  # fmt: skip

# slug: (name, abbreviation, kind, country, parent slug)
ORGANIZATIONS = [
    ("foreign-ministry-kyrgyzstan", "Ministry of Foreign Affairs of the Kyrgyz Republic", "",
     OrganizationKind.MINISTRY, "KG", None),
    ("interior-ministry-kazakhstan", "Ministry of Internal Affairs of the Republic of Kazakhstan",
     "", OrganizationKind.MINISTRY, "KZ", None),
    ("gknb-kyrgyzstan", "State Committee for National Security of the Kyrgyz Republic", "GKNB",
     OrganizationKind.SECURITY_SERVICE, "KG", None),
    ("presidency-kyrgyzstan", "President of the Kyrgyz Republic", "",
     OrganizationKind.HEAD_OF_STATE, "KG", None),
    ("press-service-president-kyrgyzstan", "Press service of the President of the Kyrgyz Republic",
     "", OrganizationKind.HEAD_OF_STATE, "KG", "presidency-kyrgyzstan"),
    ("cabinet-of-ministers-kyrgyzstan", "Cabinet of Ministers of the Kyrgyz Republic", "",
     OrganizationKind.GOVERNMENT, "KG", None),
    ("consulate-general-kyrgyzstan-kazakhstan", "Consulate General of Kyrgyzstan in Kazakhstan",
     "", OrganizationKind.DIPLOMATIC_MISSION, "KG", "foreign-ministry-kyrgyzstan"),
    ("ombudsman-institute-kyrgyzstan", "Ombudsman Institute of the Kyrgyz Republic", "",
     OrganizationKind.OMBUDSMAN, "KG", None),
    ("embassy-of-kazakhstan-bishkek", "Embassy of Kazakhstan in Bishkek", "",
     OrganizationKind.DIPLOMATIC_MISSION, "KZ", None),
    ("authorities-of-kazakhstan", "Official authorities of Kazakhstan", "",
     OrganizationKind.GOVERNMENT, "KZ", None),
    ("csto", "Collective Security Treaty Organization", "CSTO",
     OrganizationKind.INTERGOVERNMENTAL, "", None),
    ("auca", "American University of Central Asia", "AUCA", OrganizationKind.ACADEMIC, "KG", None),
    ("ala-too-24", "Ala-Too 24", "", OrganizationKind.MEDIA, "KG", None),
    ("cabar", "CABAR - Central Asian Bureau for Analytical Reporting", "CABAR",
     OrganizationKind.MEDIA, "", None),
]  # fmt: skip

ORGANIZATION_DESCRIPTIONS = {
    "authorities-of-kazakhstan": "The article quotes 'the official authorities' of Kazakhstan "
    "without naming the body.",
    "ala-too-24": "Television channel; the article illustrates Vikram Ruzakhunov with a "
    "screenshot of its video.",
}

# slug: (name, sex, citizenship, occupation, public notes)
PERSONS = [
    ("vikram-ruzakhunov", "Vikram Ruzakhunov", Sex.MALE, "KG", "Jazz musician and pianist",
     "A popular jazz musician and pianist from Kyrgyzstan who regularly visited Kazakhstan "
     "with concerts; he was there on 2 January 2022."),
    ("zakir-yuburov", "Zakir Yuburov", Sex.MALE, "", "", ""),
    ("baialy-torogeldiev", "Baialy Torogeldiev", "", "KG", "", ""),
    ("kamchybek-tashiev", "Kamchybek Tashiev", Sex.MALE, "", "", ""),
    ("sadyr-zhaparov", "Sadyr Zhaparov", Sex.MALE, "", "", ""),
    ("akylbek-zhaparov", "Akylbek Zhaparov", Sex.MALE, "", "", ""),
    ("nazarali-aripov", "Nazarali Aripov", Sex.MALE, "", "", ""),
    ("emil-dzhuraev", "Emil Dzhuraev", Sex.MALE, "", "Political analyst", ""),
    ("medet-tyulegenov", "Medet Tyulegenov", Sex.MALE, "",
     "Lecturer in political science at AUCA", ""),
    ("zainidin-kurmanov", "Zainidin Kurmanov", Sex.MALE, "",
     "Professor, Doctor of Historical Sciences", ""),
]  # fmt: skip

# (person slug, organization slug, title)
POSITIONS = [
    ("kamchybek-tashiev", "gknb-kyrgyzstan", "Head"),
    ("sadyr-zhaparov", "presidency-kyrgyzstan", "President"),
    ("akylbek-zhaparov", "cabinet-of-ministers-kyrgyzstan", "Head of government"),
    ("nazarali-aripov", "consulate-general-kyrgyzstan-kazakhstan", "Consul-General"),
]

SITUATION = {
    "slug": "kazakhstan-january-2022",
    "title": "January 2022 unrest in Kazakhstan",
    "date": JAN_2022,
    "summary": "During the clashes that swept Kazakhstan in early January 2022, tens of "
    "citizens of Kyrgyzstan were detained.",
    "description": (
        "During the peak of the clashes, Kazakhstan's media reported that well-trained "
        "militants had allegedly been brought from Uzbekistan, Kyrgyzstan and Tajikistan. "
        "The article knows of no detentions of citizens of Uzbekistan or Tajikistan, but of "
        "tens of detained citizens of Kyrgyzstan."
    ),
}

RUZAKHUNOV_DESCRIPTION = (
    "His detention became known on 9 January 2022, when Kazakhstan's television showed a "
    "video in which a beaten man said he had come from Kyrgyzstan to take part in the "
    "protests, that unknown persons had offered him 200 dollars to take part in violence, "
    "and that a ticket to Almaty had allegedly been bought for him on 2 January and he had "
    "been placed in an apartment with natives of Tajikistan and Uzbekistan. The man was not "
    "named, but people in Kyrgyzstan recognised Vikram Ruzakhunov.\n\n"
    "Relatives and friends protested in front of the Embassy of Kazakhstan in Bishkek; "
    "Kyrgyzstan's foreign ministry protested and demanded his release. Kazakhstan's "
    "interior ministry said the man in the video was not Ruzakhunov but one Zakir Yuburov. "
    "The video was then deleted, and Ruzakhunov was freed and brought back to Kyrgyzstan, "
    "where journalists and police officers met him at the Ak Zhol checkpoint in the evening "
    "of 10 January. He told journalists that the bruises on his face came from a harsh "
    "detention and that he had perjured himself after hearing he would otherwise be "
    "extradited to Bishkek."
)

# slug: fields
INCIDENTS = {
    "vikram-ruzakhunov-almaty": {
        "title": "Detention of Vikram Ruzakhunov in Almaty",
        "kind": IncidentKind.DETENTION,
        "location": "almaty",
        "start": JAN_2022,
        "end": day(10),
        "reported_detained_count": 1,
        "summary": "Kyrgyz jazz pianist Vikram Ruzakhunov was detained by Kazakh police during "
        "the mass clashes in Almaty, shown beaten in a televised 'confession', and freed "
        "and returned to Kyrgyzstan on 10 January 2022.",
        "description": RUZAKHUNOV_DESCRIPTION,
    },
    "zakir-yuburov-detention": {
        "title": "Detention of Zakir Yuburov on his way back to Kyrgyzstan",
        "kind": IncidentKind.DETENTION,
        "location": "kazakhstan",
        "start": day(7),
        "reported_detained_count": 1,
        "summary": "Zakir Yuburov, whom Kazakhstan's interior ministry named as the man in the "
        "televised 'confession', was detained on 7 January 2022 at a post as he was going "
        "back to Kyrgyzstan.",
        "description": "",
    },
    "shymkent-38-kyrgyz-citizens": {
        "title": "Detention of 38 citizens of Kyrgyzstan in Shymkent",
        "kind": IncidentKind.MASS_DETENTION,
        "location": "shymkent",
        "start": JAN_2022,
        "reported_detained_count": 38,
        "reported_released_count": 38,
        "summary": "38 citizens of Kyrgyzstan were detained in Shymkent and released after checks.",
        "description": "",
    },
    "baialy-torogeldiev-shymkent": {
        "title": "Beating of Baialy Torogeldiev during interrogation in Shymkent",
        "kind": IncidentKind.ILL_TREATMENT,
        "location": "shymkent",
        "start": JAN_2022,
        "reported_detained_count": 1,
        "summary": "Baialy Torogeldiev, a citizen of Kyrgyzstan, was beaten by police officers "
        "during interrogation in Shymkent, according to the Ombudsman Institute of the "
        "Kyrgyz Republic.",
        "description": "",
    },
    "four-kyrgyz-citizens-almaty": {
        "title": "Detention of four citizens of Kyrgyzstan in Almaty",
        "kind": IncidentKind.DETENTION,
        "location": "almaty",
        "start": JAN_2022,
        "reported_detained_count": 4,
        "summary": "Four citizens of Kyrgyzstan detained in Almaty were to be released on "
        "11 January 2022, according to Kyrgyzstan's consul-general in Kazakhstan.",
        "description": "",
    },
}

DETENTIONS = [
    {
        "incident": "vikram-ruzakhunov-almaty",
        "person": "vikram-ruzakhunov",
        "detained": JAN_2022,
        "released": day(10),
        "release_location": "ak-zhol-checkpoint",
        "arrest_location": "almaty",
        "detaining_authority_text": "Kazakh police officers",
        "outcome": Outcome.HANDED_OVER,
        "details": "Detained by Kazakh police officers during the mass clashes in Almaty. "
        "Freed and brought back to Kyrgyzstan; journalists and police officers met him at "
        "the Ak Zhol checkpoint in the evening of 10 January 2022.",
    },
    {
        "incident": "zakir-yuburov-detention",
        "person": "zakir-yuburov",
        "detained": day(7),
        "outcome": Outcome.UNKNOWN,
        "details": "Detained at a post as he was going back to Kyrgyzstan.",
    },
    {
        "incident": "baialy-torogeldiev-shymkent",
        "person": "baialy-torogeldiev",
        "outcome": Outcome.UNKNOWN,
        "details": "Beaten during interrogation by police officers, according to the "
        "Ombudsman Institute of the Kyrgyz Republic.",
    },
]

# (incident slug, kind, date or None, title, location slug or None)
EVENTS = [
    ("vikram-ruzakhunov-almaty", EventKind.OTHER, day(2),
     "Vikram Ruzakhunov was in Kazakhstan, which he regularly visited with concerts", None),
    ("vikram-ruzakhunov-almaty", EventKind.MEDIA_REPORT, day(9),
     "Kazakhstan's television showed a video of the beaten man's 'confession'; his detention "
     "became known", None),
    ("vikram-ruzakhunov-almaty", EventKind.PROTEST, None,
     "Relatives and friends protested in front of the Embassy of Kazakhstan in Bishkek, "
     "demanding his release", "embassy-of-kazakhstan-bishkek"),
    ("vikram-ruzakhunov-almaty", EventKind.MEDIA_REPORT, None,
     "The video with the 'confession' was deleted", None),
]  # fmt: skip

MVD_DISPUTE = (
    "People in Kyrgyzstan recognised Vikram Ruzakhunov in the video; it was then deleted, "
    "Ruzakhunov was freed, and on his return he said he had perjured himself. The article "
    "reports that Zakir Yuburov was detained on 7 January at a post on his way back to "
    "Kyrgyzstan."
)

# Each statement: speaker person and/or organization (slugs), post (person, org) if any.
STATEMENTS = [
    {
        "organization": "foreign-ministry-kyrgyzstan",
        "kind": StatementKind.PROTEST,
        "text": "Kyrgyzstan's foreign ministry voiced its protest and demanded that Vikram "
        "Ruzakhunov be freed.",
        "incidents": ["vikram-ruzakhunov-almaty"],
        "people": ["vikram-ruzakhunov"],
    },
    {
        "organization": "interior-ministry-kazakhstan",
        "kind": StatementKind.CLAIM,
        "text": "Kazakhstan's interior ministry said it was not Ruzakhunov in the video, but "
        "one Zakir Yuburov.",
        "incidents": ["vikram-ruzakhunov-almaty", "zakir-yuburov-detention"],
        "people": ["vikram-ruzakhunov", "zakir-yuburov"],
        "dispute_status": DisputeStatus.DISPUTED,
        "dispute_note": MVD_DISPUTE,
    },
    {
        "person": "kamchybek-tashiev",
        "organization": "gknb-kyrgyzstan",
        "post": "Head",
        "kind": StatementKind.PROTEST,
        "medium": Medium.REMARKS,
        "text": "It was wrong to accuse our citizens of terrorism.",
        "is_direct_quote": True,
        "incidents": ["vikram-ruzakhunov-almaty"],
        "note": "Said during the protest in front of the Embassy of Kazakhstan in Bishkek.",
    },
    {
        "person": "sadyr-zhaparov",
        "organization": "presidency-kyrgyzstan",
        "post": "President",
        "kind": StatementKind.ASSURANCE,
        "medium": Medium.SOCIAL_MEDIA,
        "text": "Wrote on Facebook that he gave relevant instructions to ministries as soon "
        "as the first messages about Vikram Ruzakhunov appeared.",
        "incidents": ["vikram-ruzakhunov-almaty"],
        "people": ["vikram-ruzakhunov"],
    },
    {
        "organization": "press-service-president-kyrgyzstan",
        "kind": StatementKind.ASSURANCE,
        "medium": Medium.PRESS_RELEASE,
        "text": "The head of state continues to get updates on the situation in the country "
        "and region, keeps in touch with the heads of the cabinet of ministers and other "
        "state bodies.",
        "is_direct_quote": True,
        "people": ["sadyr-zhaparov"],
    },
    {
        "person": "akylbek-zhaparov",
        "organization": "cabinet-of-ministers-kyrgyzstan",
        "post": "Head of government",
        "kind": StatementKind.DEMAND,
        "medium": Medium.SPEECH,
        "date": day(10),
        "text": "At the CSTO session, in place of President Sadyr Zhaparov, he spoke of media "
        "and social networks spreading information about the involvement of citizens of "
        'Kyrgyzstan in the violence in Kazakhstan, and expressed his hope that "every single '
        'case would be investigated openly and fairly".',
    },
    {
        "person": "nazarali-aripov",
        "organization": "consulate-general-kyrgyzstan-kazakhstan",
        "post": "Consul-General",
        "kind": StatementKind.ASSURANCE,
        "medium": Medium.REMARKS,
        "date": day(11),
        "text": "Told journalists that all those detained in Almaty would be released on "
        "Tuesday (11 January 2022).",
        "incidents": ["four-kyrgyz-citizens-almaty"],
    },
    {
        "organization": "ombudsman-institute-kyrgyzstan",
        "kind": StatementKind.CLAIM,
        "text": "Baialy Torogeldiev, a citizen of Kyrgyzstan, was beaten during interrogation "
        "by police officers in Shymkent.",
        "incidents": ["baialy-torogeldiev-shymkent"],
        "people": ["baialy-torogeldiev"],
    },
    {
        "person": "vikram-ruzakhunov",
        "kind": StatementKind.TESTIMONY,
        "medium": Medium.REMARKS,
        "date": (datetime.date(2022, 1, 10), "approximate"),
        "text": "As soon as he arrived in Kyrgyzstan, he told journalists that the bruises on "
        "his face were the result of a harsh detention, and that he decided to perjure "
        "himself after he heard that he would otherwise be extradited to Bishkek.",
        "incidents": ["vikram-ruzakhunov-almaty"],
    },
    {
        "organization": "authorities-of-kazakhstan",
        "kind": StatementKind.CLAIM,
        "text": "Foreign militants were mainly from Central Asian countries, including "
        "Afghanistan.",
        "is_direct_quote": True,
    },
    {
        "person": "emil-dzhuraev",
        "kind": StatementKind.COMMENT,
        "medium": Medium.INTERVIEW,
        "text": "This is a deplorable situation. Therefore, all of us, the authorities and the "
        "public of Kyrgyzstan must strictly protect our citizens who stay in Kazakhstan.",
        "is_direct_quote": True,
        "incidents": ["vikram-ruzakhunov-almaty"],
    },
    {
        "person": "medet-tyulegenov",
        "kind": StatementKind.COMMENT,
        "medium": Medium.INTERVIEW,
        "text": "Luckily, Ruzakhunov turned out to be a famous person in Kazakhstan and his "
        "case revealed how framed up the actions against protesters in Kazakhstan were.",
        "is_direct_quote": True,
        "incidents": ["vikram-ruzakhunov-almaty"],
    },
    {
        "person": "emil-dzhuraev",
        "kind": StatementKind.COMMENT,
        "medium": Medium.INTERVIEW,
        "text": "However, it is absolutely wrong and unacceptable to exploit this fact and "
        "suspect the Kyrgyzstanis in participation in illegal actions. In this situation, we "
        "can only keep on saying that all our citizens need to be considered non-guilty and "
        "uninvolved into any illegal actions until their guilt has been proved.",
        "is_direct_quote": True,
    },
    {
        "person": "medet-tyulegenov",
        "kind": StatementKind.COMMENT,
        "medium": Medium.INTERVIEW,
        "text": "This is a slap because Kyrgyzstan, according to the media messages, now looks "
        "like a country that supplies so-called marauding elements to neighbouring countries "
        "for protests. This is not quite good for us.",
        "is_direct_quote": True,
    },
    {
        "person": "zainidin-kurmanov",
        "kind": StatementKind.COMMENT,
        "medium": Medium.INTERVIEW,
        "text": "In the 21st century, developed countries have other trends and directions, "
        "which means that hunger and other issues should be solved not on the streets, by "
        "means of riots, uprisings and army coups, but by means of political institutions. "
        "However, we are the country known for our three revolutions.",
        "is_direct_quote": True,
    },
]

# (incident slug, person slug, kind, alleged by person slug, by organization slug,
#  statement speaker slug, description)
ALLEGATIONS = [
    ("baialy-torogeldiev-shymkent", "baialy-torogeldiev", AllegationKind.ILL_TREATMENT,
     None, "ombudsman-institute-kyrgyzstan",
     "Beaten during interrogation by police officers."),
    ("vikram-ruzakhunov-almaty", "vikram-ruzakhunov", AllegationKind.ILL_TREATMENT,
     "vikram-ruzakhunov", None,
     "He said the bruises on his face were the result of a harsh detention."),
    ("vikram-ruzakhunov-almaty", "vikram-ruzakhunov", AllegationKind.FORCED_CONFESSION,
     "vikram-ruzakhunov", None,
     "He said he perjured himself in the televised video after he heard he would otherwise "
     "be extradited to Bishkek."),
]  # fmt: skip


# The numbers of people the article reports by citizenship, without naming them:
# (incident slug, citizenship, number detained, number released or None).
# "Earlier, 38 Kyrgyzstanis were detained in Shymkent and then released after checking."
# "On January 11, four citizens of Kyrgyzstan will be released in Almaty": to be released,
# so no number released is recorded.
REPORTED_GROUPS = [
    ("shymkent-38-kyrgyz-citizens", "KG", 38, 38),
    ("four-kyrgyz-citizens-almaty", "KG", 4, None),
]


class Command(BaseCommand):
    help = (
        "Load the demo cases from the CABAR article on the January 2022 detentions of "
        "Kyrgyz citizens in Kazakhstan. Safe to run again: records are updated, not duplicated."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would be loaded, change nothing."
        )

    def handle(self, *args, dry_run: bool = False, **options):
        models = [Source, Location, Organization, Person, PersonName, Position, Situation,
                  Incident, ReportedGroup, Detention, Allegation, IncidentEvent,
                  Statement, Account]  # fmt: skip
        before = {model: model.objects.count() for model in models}
        with transaction.atomic():
            load_demo()
            after = {model: model.objects.count() for model in models}
            if dry_run:
                transaction.set_rollback(True)
        for model in models:
            added = after[model] - before[model]
            name = model._meta.verbose_name_plural
            self.stdout.write(f"{name}: {after[model]} ({added:+d})")
        if dry_run:
            self.stdout.write(self.style.WARNING("Dry run: nothing was saved."))
        else:
            self.stdout.write(self.style.SUCCESS("Demo cases loaded."))


def load_demo() -> None:
    """Create or update every demo record; call inside a transaction."""
    source, _ = Source.objects.update_or_create(
        title=SOURCE["title"],
        publisher=SOURCE["publisher"],
        defaults={**SOURCE, "publication_state": PUBLISHED},
    )
    cite = [source]

    locations: dict[str, Location] = {}
    for slug, name, native, kind, parent, country, lat, lon, precision, note in LOCATIONS:
        locations[slug], _ = Location.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "name_native": native,
                "kind": kind,
                "parent": locations[parent] if parent else None,
                "country": country,
                "latitude": Decimal(lat) if lat else None,
                "longitude": Decimal(lon) if lon else None,
                "coordinate_precision": precision,
                "description": note,
            },
        )

    organizations: dict[str, Organization] = {}
    for slug, name, abbreviation, kind, country, parent in ORGANIZATIONS:
        organization, _ = Organization.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "abbreviation": abbreviation,
                "kind": kind,
                "country": country,
                "parent": organizations[parent] if parent else None,
                "description": ORGANIZATION_DESCRIPTIONS.get(slug, ""),
            },
        )
        organization.sources.set(cite)
        organizations[slug] = organization

    persons: dict[str, Person] = {}
    for slug, name, sex, citizenship, occupation, notes in PERSONS:
        person, _ = Person.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "sex": sex,
                "citizenship": citizenship,
                "occupation": occupation,
                "public_notes": notes,
                "publication_state": PUBLISHED,
            },
        )
        person.sources.set(cite)
        persons[slug] = person

    # The interior ministry's claim that the man in the video was Zakir Yuburov is recorded
    # as a name relation on Ruzakhunov pointing at the real Zakir Yuburov.
    misidentification, _ = PersonName.objects.update_or_create(
        person=persons["vikram-ruzakhunov"],
        name="Zakir Yuburov",
        kind=NameKind.MISIDENTIFIED_AS,
        defaults={
            "other_person": persons["zakir-yuburov"],
            "note": "Kazakhstan's interior ministry said the man in the televised "
            "'confession' was Zakir Yuburov, not Vikram Ruzakhunov.",
        },
    )
    misidentification.sources.set(cite)

    positions: dict[tuple[str, str], Position] = {}
    for person_slug, organization_slug, title in POSITIONS:
        position, _ = Position.objects.update_or_create(
            person=persons[person_slug],
            organization=organizations[organization_slug],
            title=title,
            start_date=None,
        )
        position.sources.set(cite)
        positions[person_slug, title] = position

    (situation_date, situation_precision) = SITUATION["date"]
    situation, _ = Situation.objects.update_or_create(
        slug=SITUATION["slug"],
        defaults={
            "title": SITUATION["title"],
            "summary": SITUATION["summary"],
            "description": SITUATION["description"],
            "start_date": situation_date,
            "start_date_precision": situation_precision,
            "publication_state": PUBLISHED,
        },
    )
    situation.sources.set(cite)

    incidents: dict[str, Incident] = {}
    for slug, fields in INCIDENTS.items():
        start_date, start_precision = fields["start"]
        end_date, end_precision = fields.get("end", (None, ""))
        incident, _ = Incident.objects.update_or_create(
            slug=slug,
            defaults={
                "title": fields["title"],
                "kind": fields["kind"],
                "situation": situation,
                "location": locations[fields["location"]],
                "start_date": start_date,
                "start_date_precision": start_precision,
                "end_date": end_date,
                "end_date_precision": end_precision,
                "summary": fields["summary"],
                "description": fields["description"],
                "reported_detained_count": fields.get("reported_detained_count"),
                "reported_released_count": fields.get("reported_released_count"),
                "verification": Verification.REPORTED,
                "publication_state": PUBLISHED,
            },
        )
        incident.sources.set(cite)
        incidents[slug] = incident

    for incident_slug, citizenship, detained, released in REPORTED_GROUPS:
        group, _ = ReportedGroup.objects.update_or_create(
            incident=incidents[incident_slug],
            citizenship=citizenship,
            defaults={"detained_count": detained, "released_count": released, "note": ""},
        )
        group.sources.set(cite)

    detentions: dict[tuple[str, str], Detention] = {}
    for fields in DETENTIONS:
        detained_on, detained_precision = fields.get("detained", (None, ""))
        released_on, released_precision = fields.get("released", (None, ""))
        release_location = fields.get("release_location")
        arrest_location = fields.get("arrest_location")
        detention, _ = Detention.objects.update_or_create(
            incident=incidents[fields["incident"]],
            person=persons[fields["person"]],
            defaults={
                "role": DetentionRole.DETAINEE,
                "detained_on": detained_on,
                "detained_on_precision": detained_precision,
                "released_on": released_on,
                "released_on_precision": released_precision,
                "release_location": locations[release_location] if release_location else None,
                "arrest_location": locations[arrest_location] if arrest_location else None,
                "detaining_authority_text": fields.get("detaining_authority_text", ""),
                "outcome": fields["outcome"],
                "details": fields["details"],
                "publication_state": PUBLISHED,
            },
        )
        detention.sources.set(cite)
        detentions[fields["incident"], fields["person"]] = detention

    for incident_slug, kind, when, title, location_slug in EVENTS:
        occurred_on, occurred_precision = when or (None, "")
        event, _ = IncidentEvent.objects.update_or_create(
            incident=incidents[incident_slug],
            title=title,
            defaults={
                "kind": kind,
                "occurred_on": occurred_on,
                "occurred_on_precision": occurred_precision,
                "location": locations[location_slug] if location_slug else None,
            },
        )
        event.sources.set(cite)

    statements_by_speaker: dict[str, Statement] = {}
    for fields in STATEMENTS:
        person = persons.get(fields.get("person", ""))
        organization = organizations.get(fields.get("organization", ""))
        said_on, said_precision = fields.get("date", (None, ""))
        post = positions[fields["person"], fields["post"]] if "post" in fields else None
        statement, _ = Statement.objects.update_or_create(
            speaker_person=person,
            speaker_organization=organization,
            text=fields["text"],
            defaults={
                "position": post,
                "kind": fields["kind"],
                "medium": fields.get("medium", ""),
                "said_on": said_on,
                "said_on_precision": said_precision,
                "is_direct_quote": fields.get("is_direct_quote", False),
                "language": "en",
                "situation": situation,
                "dispute_status": fields.get("dispute_status", DisputeStatus.NOT_DISPUTED),
                "dispute_note": fields.get("dispute_note", "") or fields.get("note", ""),
                "publication_state": PUBLISHED,
            },
        )
        statement.incidents.set([incidents[slug] for slug in fields.get("incidents", [])])
        statement.people.set([persons[slug] for slug in fields.get("people", [])])
        statement.sources.set(cite)
        statements_by_speaker.setdefault(fields.get("person") or fields["organization"], statement)

    allegations: dict[tuple[str, str, str], Allegation] = {}
    for incident_slug, person_slug, kind, by_person, by_org, description in ALLEGATIONS:
        allegation, _ = Allegation.objects.update_or_create(
            detention=detentions[incident_slug, person_slug],
            kind=kind,
            defaults={
                "alleged_by_person": persons[by_person] if by_person else None,
                "alleged_by_organization": organizations[by_org] if by_org else None,
                "statement": statements_by_speaker[by_person or by_org],
                "description": description,
            },
        )
        allegation.sources.set(cite)
        allegations[incident_slug, person_slug, kind] = allegation

    load_other_accounts(
        detention=detentions["vikram-ruzakhunov-almaty", "vikram-ruzakhunov"],
        allegations=allegations,
        person=persons["vikram-ruzakhunov"],
        cabar=organizations["cabar"],
        locations=locations,
    )


# The two other published accounts of the Ruzakhunov case (shared/seed/
# ruzakhunov-other-accounts.md): each source, and what it reports him saying.
OTHER_SOURCES = {
    "asian": {
        "title": "Detained in Kazakhstan during the riots, Kyrgyz jazz musician is now home",
        "publisher": "The AsiaN",
        "url": "http://www.theasian.asia/archives/111657",
        "kind": SourceKind.NEWS_ARTICLE,
        "published_on": datetime.date(2022, 1, 11),
        "published_on_precision": "day",
        "language": "en",
        "notes": "Quotes the Kabar news agency and AKIpress.",
    },
    "viory": {
        "title": "Kyrgyzstan: Well-known jazz musician returns home after being detained in "
        "Kazakhstan",
        "publisher": "Viory",
        "url": "https://viory.video/en/videos/a3039_10012022/kyrgyzstan-well-known-jazz-"
        "musician-returns-home-after-being-detained-in-kazakhstan",
        "kind": SourceKind.VIDEO,
        "published_on": datetime.date(2022, 1, 10),
        "published_on_precision": "day",
        "language": "en",
        "notes": "Video report.",
    },
}

# Who asserts each outlet's account: Ruzakhunov himself, in the words each reports.
ASSERTED_AS = {
    "asian": "as quoted by AKIpress, reported by The AsiaN",
    "viory": "speaking to Viory",
}

# (source, fact, value, note); the allegation status accounts name the allegation's kind.
OTHER_ACCOUNTS = [
    ("viory", Fact.DETENTION_DATE, day(7),
     "He said that on 7 January, trying to leave Kazakhstan, he was detained by the military "
     "in the village of Samsy."),
    ("viory", Fact.ARREST_PLACE, "samsy",
     "He said he was detained by the military in the village of Samsy."),
    ("viory", Fact.DETAINING_AUTHORITY, "the military",
     "He said he was detained by the military in the village of Samsy."),
    ("viory", (Fact.ALLEGATION_STATUS, AllegationKind.ILL_TREATMENT), "denied",
     "He said there was no torture, and that the marks on his face came from the arrest in "
     "Samsy."),
    ("asian", Fact.ARREST_PLACE, "samsy",
     "He said the bruises came from a rough detention in the village of Samsy by the "
     "military (per AKIpress)."),
    ("asian", Fact.DETAINING_AUTHORITY, "the military",
     "He said the bruises came from a rough detention in the village of Samsy by the "
     "military (per AKIpress)."),
    ("asian", (Fact.ALLEGATION_STATUS, AllegationKind.ILL_TREATMENT), "denied",
     "He said he was not tortured, and that the bruises came from a rough detention in the "
     "village of Samsy by the military (per AKIpress)."),
    ("asian", (Fact.ALLEGATION_STATUS, AllegationKind.FORCED_CONFESSION), "denied",
     "He said all confessions in the video were false and that he was not forced to confess; "
     "cellmates had told him a false confession on camera would get him sent to Bishkek "
     "(per AKIpress)."),
]  # fmt: skip

# CABAR's account of the detention, the preferred one: whose it is.
CABAR_FACTS = (Fact.DETENTION_DATE, Fact.ARREST_PLACE, Fact.DETAINING_AUTHORITY)


def load_other_accounts(*, detention, allegations, person, cabar, locations) -> None:
    """The AsiaN's and Viory's accounts of the Ruzakhunov case beside CABAR's."""
    sources = {}
    for key, fields in OTHER_SOURCES.items():
        sources[key], _ = Source.objects.update_or_create(
            url=fields["url"], defaults={**fields, "publication_state": PUBLISHED}
        )
    # The record's values are CABAR's account (made from the record, citing the article):
    # say whose it is.
    for account in Account.objects.filter(
        detention=detention, fact__in=CABAR_FACTS, rank=AccountRank.PREFERRED
    ):
        account.asserted_by_organization = cabar
        account.save()
    for source_key, fact, value, note in OTHER_ACCOUNTS:
        subject = {"detention": detention}
        if isinstance(fact, tuple):
            fact, kind = fact
            subject = {
                "allegation": allegations["vikram-ruzakhunov-almaty", "vikram-ruzakhunov", kind]
            }
        values = {}
        if fact == Fact.DETENTION_DATE:
            values["value_date"], values["value_date_precision"] = value
        elif fact == Fact.ARREST_PLACE:
            values["value_location"] = locations[value]
        elif fact == Fact.DETAINING_AUTHORITY:
            values["value_text"] = value
        else:
            values["value_choice"] = value
        account, _ = Account.objects.update_or_create(
            **subject,
            fact=fact,
            asserted_by_person=person,
            asserted_by_text=ASSERTED_AS[source_key],
            defaults={**values, "rank": AccountRank.NORMAL, "note": note},
        )
        account.sources.set([sources[source_key]])
