"""Generate synthetic cases at scale, for benchmarks and capacity tests.

Everything generated belongs to one situation, "Synthetic benchmark data (not real)"
(slug `synthetic`), never mixed with the demo or real cases, and can be removed with
`--remove`. The shapes follow the real data: a location tree over five countries with about
fifty cities and their police stations and detention facilities; kinds, outcomes and
verification with skewed frequencies; dates over five years at mixed precision; 0–40
detentions per incident (most have one or two); numbers of people reported by citizenship
for a fifth of the mass detentions and a few other incidents; names of people in Latin and
Cyrillic with spelling variants; statements and sources.

Rows are written with large `bulk_create` batches inside one transaction per batch, and
without edit history (`record_history=False`): nobody edited them.
"""

from __future__ import annotations

import datetime
import random
import time
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from cabar_tracker.publishing import PublicationState
from incidents import public_counts
from incidents.models import (
    Allegation,
    AllegationKind,
    Detention,
    DetentionRole,
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
from incidents.partial_dates import truncate
from people.models import NameKind, Person, PersonName, Sex
from people.names import detect_script, name_key

SYNTHETIC_SLUG = "synthetic"
START = datetime.date(2020, 1, 1)
DAYS = 5 * 365

# (code, name, native name, centre latitude, centre longitude)
COUNTRIES = [
    ("KZ", "Kazakhstan", "Қазақстан", 48.0, 67.0),
    ("KG", "Kyrgyzstan", "Кыргызстан", 41.2, 74.8),
    ("UZ", "Uzbekistan", "Ўзбекистон", 41.4, 64.6),
    ("TJ", "Tajikistan", "Тоҷикистон", 38.9, 71.3),
    ("RU", "Russia", "Россия", 55.7, 37.6),
]
CITY_SYLLABLES = ["Ak", "Kara", "Tal", "Bul", "Sar", "Ush", "Zhan", "Kok", "Tash", "Ber", "Ar"]
CITY_ENDINGS = ["su", "bek", "kent", "abad", "tau", "kol", "sai", "tobe"]
CYRILLIC = {"Ak": "Ак", "Kara": "Кара", "Tal": "Тал", "Bul": "Бул", "Sar": "Сар", "Ush": "Уш",
            "Zhan": "Жан", "Kok": "Кок", "Tash": "Таш", "Ber": "Бер", "Ar": "Ар", "su": "су",
            "bek": "бек", "kent": "кент", "abad": "абад", "tau": "тау", "kol": "коль",
            "sai": "сай", "tobe": "тобе"}  # fmt: skip

GIVEN = [
    ("Aibek", "Айбек"),
    ("Nurlan", "Нурлан"),
    ("Bakyt", "Бакыт"),
    ("Azamat", "Азамат"),
    ("Timur", "Тимур"),
    ("Rustam", "Рустам"),
    ("Erlan", "Ерлан"),
    ("Dilshod", "Дилшод"),
    ("Aigul", "Айгуль"),
    ("Gulnara", "Гульнара"),
    ("Zarina", "Зарина"),
    ("Aida", "Аида"),
    ("Kairat", "Кайрат"),
    ("Sanjar", "Санжар"),
    ("Farrukh", "Фаррух"),
    ("Murat", "Мурат"),
]
FAMILY = [("Abdullaev", "Абдуллаев"), ("Khasanov", "Хасанов"), ("Zhaparov", "Жапаров"),
          ("Dzhumabaev", "Джумабаев"), ("Tokhtarov", "Тохтаров"), ("Yusupov", "Юсупов"),
          ("Sultanov", "Султанов"), ("Kadyrov", "Кадыров"), ("Ismailov", "Исмаилов"),
          ("Nazarov", "Назаров"), ("Rakhimov", "Рахимов"), ("Osmonov", "Осмонов"),
          ("Bekov", "Беков"), ("Toktogulov", "Токтогулов"), ("Sharipov", "Шарипов")]  # fmt: skip
FEMALE_GIVEN = {"Aigul", "Gulnara", "Zarina", "Aida"}
# Spellings that transliterations disagree on, for name variants.
RESPELLINGS = [("kh", "h"), ("zh", "j"), ("dzh", "j"), ("yu", "iu"), ("ov", "ow"), ("ev", "yev")]

KINDS = ([IncidentKind.DETENTION] * 60 + [IncidentKind.MASS_DETENTION] * 10
         + [IncidentKind.ILL_TREATMENT] * 15 + [IncidentKind.DEPORTATION] * 8
         + [IncidentKind.DISAPPEARANCE] * 4 + [IncidentKind.OTHER] * 3)  # fmt: skip
PRECISIONS = ["day"] * 70 + ["month"] * 20 + ["year"] * 5 + ["approximate"] * 5
VERIFICATIONS = ([Verification.REPORTED] * 55 + [Verification.CORROBORATED] * 25
                 + [Verification.CONFIRMED] * 12 + [Verification.DISPUTED] * 6
                 + [Verification.REFUTED] * 2)  # fmt: skip
STATES = (
    [PublicationState.PUBLISHED] * 90
    + [PublicationState.DRAFT] * 7
    + [PublicationState.IN_REVIEW] * 3
)
OUTCOMES = ([Outcome.RELEASED] * 45 + [Outcome.UNKNOWN] * 20
            + [Outcome.STILL_HELD] * 12 + [Outcome.HANDED_OVER] * 10
            + [Outcome.CHARGED] * 9 + [Outcome.CONVICTED] * 4)  # fmt: skip
WORDS = ["protest", "checkpoint", "interrogation", "consulate", "lawyer", "court", "border",
         "market", "workers", "students", "journalist", "video", "confession", "police",
         "security", "release", "transfer", "hearing", "family", "embassy"]  # fmt: skip


class Command(BaseCommand):
    help = (
        "Generate synthetic incidents, people, detentions, statements and sources in one "
        "clearly named situation ('synthetic'), for benchmarks. Deterministic for a seed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--incidents", type=int, default=1_000_000)
        parser.add_argument("--people", type=int, default=300_000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--batch-size", type=int, default=5_000)
        parser.add_argument(
            "--remove", action="store_true", help="Remove all synthetic data, generate nothing."
        )

    def handle(self, *args, **options):
        started = time.monotonic()
        existing = Situation.objects.filter(slug=SYNTHETIC_SLUG).first()
        if options["remove"]:
            if existing:
                remove_synthetic(existing)
            self.stdout.write(self.style.SUCCESS("Synthetic data removed."))
            return
        if existing:
            raise CommandError(
                "Synthetic data already exists; run with --remove first to regenerate it."
            )
        if options["incidents"] < 1 or options["people"] < 1:
            raise CommandError("--incidents and --people must be at least 1.")
        generator = SyntheticData(
            seed=options["seed"], batch_size=options["batch_size"], stdout=self.stdout
        )
        counts = generator.generate(incidents=options["incidents"], people=options["people"])
        elapsed = time.monotonic() - started
        for name, count in counts.items():
            self.stdout.write(f"{name}: {count:,}")
        self.stdout.write(self.style.SUCCESS(f"Generated in {elapsed:.1f} s."))


def remove_synthetic(situation: Situation) -> None:
    """Delete the synthetic rows. `_raw_delete` skips Django's per-row collection and
    signals, which would take hours for millions of rows and record a history nobody
    needs; the order below removes children before parents, so no foreign key dangles."""
    with transaction.atomic():
        incidents = Incident.objects.filter(situation=situation)
        Allegation.objects.filter(detention__incident__in=incidents)._raw_delete("default")
        ReportedGroup.objects.filter(incident__in=incidents)._raw_delete("default")
        Detention.objects.filter(incident__in=incidents)._raw_delete("default")
        Incident.sources.through.objects.filter(incident__in=incidents).delete()
        Statement.incidents.through.objects.filter(incident__in=incidents).delete()
        Statement.objects.filter(situation=situation).delete()
        incidents._raw_delete("default")
        synthetic_people = Person.objects.filter(slug__startswith="synthetic-")
        PersonName.objects.filter(person__in=synthetic_people)._raw_delete("default")
        synthetic_people._raw_delete("default")
        Source.objects.filter(url__startswith="https://synthetic.example.org/").delete()
        Location.objects.filter(slug__startswith="synthetic-")._raw_delete("default")
        situation.delete()
        public_counts.rebuild()


class SyntheticData:
    def __init__(self, *, seed: int, batch_size: int, stdout):
        self.random = random.Random(seed)
        # The reported groups draw from their own sequence, so the rest of the data is the
        # same as before they were generated (benchmark figures stay comparable).
        self.group_random = random.Random(seed + 1)
        self.batch_size = batch_size
        self.stdout = stdout
        self.now = timezone.now()

    def generate(self, *, incidents: int, people: int) -> dict[str, int]:
        with transaction.atomic():
            situation = Situation.objects.create(
                title="Synthetic benchmark data (not real)",
                slug=SYNTHETIC_SLUG,
                summary="Generated by manage.py generate_synthetic. None of it is real.",
                start_date=START,
                start_date_precision="year",
                publication_state=PublicationState.PUBLISHED,
            )
            places = self.make_places()
        person_ids = self.make_people(people)
        sources = self.make_sources(max(1, incidents // 20))
        counts = self.make_incidents(incidents, situation, places, person_ids, sources)
        counts["statements"] = self.make_statements(situation, max(1, incidents // 10), person_ids)
        # Fresh statistics first: PostgreSQL planned the recount on the bulk-loaded tables as
        # if they held a few rows (nested loops over two million detentions, over 20 minutes).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        # The bulk load above skipped the per-write upkeep of the public counts.
        counts["public count rows"] = public_counts.rebuild()
        return {
            "locations": len(places),
            "people": len(person_ids),
            "sources": len(sources),
            **counts,
        }

    def make_places(self) -> list[Location]:
        places = []
        for code, name, native, lat, lon in COUNTRIES:
            country = Location.objects.create(
                name=name,
                name_native=native,
                slug=f"synthetic-{code.lower()}",
                kind=LocationKind.COUNTRY,
                country=code,
                latitude=Decimal(str(lat)),
                longitude=Decimal(str(lon)),
                coordinate_precision="country",
            )
            places.append(country)
            for city_number in range(10):
                first = self.random.choice(CITY_SYLLABLES)
                last = self.random.choice(CITY_ENDINGS)
                city = Location.objects.create(
                    name=f"{first}{last} {city_number + 1}",
                    name_native=f"{CYRILLIC[first]}{CYRILLIC[last]} {city_number + 1}",
                    slug=f"synthetic-{code.lower()}-city-{city_number + 1}",
                    kind=LocationKind.CITY,
                    parent=country,
                    country=code,
                    latitude=Decimal(f"{lat + self.random.uniform(-3, 3):.5f}"),
                    longitude=Decimal(f"{lon + self.random.uniform(-5, 5):.5f}"),
                    coordinate_precision="city",
                )
                places.append(city)
                for site_kind in (LocationKind.POLICE_STATION, LocationKind.DETENTION_FACILITY):
                    places.append(
                        Location.objects.create(
                            name=f"{city.name} {site_kind.label}",
                            slug=f"{city.slug}-{site_kind.value.replace('_', '-')}",
                            kind=site_kind,
                            parent=city,
                            country=code,
                        )
                    )
        return places

    def make_people(self, count: int) -> list[int]:
        ids: list[int] = []
        for start in range(0, count, self.batch_size):
            persons, variants = [], []
            for number in range(start, min(count, start + self.batch_size)):
                (given, given_native) = self.random.choice(GIVEN)
                (family, family_native) = self.random.choice(FAMILY)
                name, native = f"{given} {family}", f"{given_native} {family_native}"
                persons.append(
                    Person(
                        name=name,
                        name_native=native,
                        name_key=name_key(f"{name} {native}"),
                        slug=f"synthetic-person-{number + 1}",
                        sex=Sex.FEMALE if given in FEMALE_GIVEN else Sex.MALE,
                        birth_year=self.random.randint(1950, 2005)
                        if self.random.random() < 0.6
                        else None,
                        citizenship=self.random.choice(COUNTRIES)[0],
                        identity_withheld=self.random.random() < 0.02,
                        publication_state=self.random.choice(STATES),
                        published_at=self.now,
                    )
                )
            with transaction.atomic():
                created = Person.objects.bulk_create(persons, record_history=False)
                for person in created:
                    if self.random.random() < 0.2:
                        variant = respell(person.name, self.random)
                        variants.append(
                            PersonName(
                                person_id=person.pk,
                                name=variant,
                                kind=NameKind.SPELLING,
                                script=detect_script(variant),
                                name_key=name_key(variant),
                            )
                        )
                PersonName.objects.bulk_create(variants, record_history=False)
            ids.extend(person.pk for person in created)
        return ids

    def make_sources(self, count: int) -> list[int]:
        sources = [
            Source(
                title=f"Synthetic report {number + 1}",
                url=f"https://synthetic.example.org/reports/{number + 1}",
                publisher="Synthetic News",
                kind=SourceKind.NEWS_ARTICLE,
                language=self.random.choice(["en", "ru", "ky", "kk"]),
                publication_state=PublicationState.PUBLISHED,
                published_at=self.now,
            )
            for number in range(count)
        ]
        ids = []
        for start in range(0, count, self.batch_size):
            created = Source.objects.bulk_create(
                sources[start : start + self.batch_size], record_history=False
            )
            ids.extend(source.pk for source in created)
        return ids

    def make_incidents(self, count, situation, places, person_ids, source_ids) -> dict[str, int]:
        totals = {"incidents": 0, "detentions": 0, "allegations": 0, "reported groups": 0}
        incident_places = [p for p in places if p.kind != LocationKind.COUNTRY]
        for start in range(0, count, self.batch_size):
            rows = []
            for number in range(start, min(count, start + self.batch_size)):
                kind = self.random.choice(KINDS)
                day = START + datetime.timedelta(days=self.random.randrange(DAYS))
                precision = self.random.choice(PRECISIONS)
                place = self.random.choice(incident_places)
                detained = detentions_in_incident(kind, self.random)
                words = " ".join(self.random.sample(WORDS, 4))
                rows.append(
                    (
                        Incident(
                            title=f"{kind.label} in {place.name} ({number + 1})",
                            slug=f"synthetic-{number + 1}",
                            kind=kind,
                            situation=situation,
                            location=place,
                            start_date=truncate(day, precision),
                            start_date_precision=precision,
                            summary=f"Synthetic case about {words}.",
                            reported_detained_count=max(detained, self.random.choice([0, 1, 2]))
                            if kind == IncidentKind.MASS_DETENTION
                            else detained or None,
                            verification=self.random.choice(VERIFICATIONS),
                            publication_state=self.random.choice(STATES),
                            published_at=self.now,
                        ),
                        detained,
                        day,
                    )
                )
            with transaction.atomic():
                created = Incident.objects.bulk_create(
                    [incident for incident, _, _ in rows], record_history=False
                )
                detentions, links = [], []
                for incident, (_, detained, day) in zip(created, rows, strict=True):
                    links.append(
                        Incident.sources.through(
                            incident_id=incident.pk, source_id=self.random.choice(source_ids)
                        )
                    )
                    for person_id in self.random.sample(person_ids, min(detained, len(person_ids))):
                        detentions.append(self.detention(incident, person_id, day))
                Incident.sources.through.objects.bulk_create(links)
                saved = Detention.objects.bulk_create(detentions, record_history=False)
                allegations = [
                    Allegation(
                        detention_id=detention.pk,
                        kind=self.random.choice(AllegationKind.values),
                        description="Synthetic allegation.",
                    )
                    for detention in saved
                    if self.random.random() < 0.1
                ]
                Allegation.objects.bulk_create(allegations, record_history=False)
                groups = [group for incident in created for group in self.reported_groups(incident)]
                ReportedGroup.objects.bulk_create(groups, record_history=False)
            totals["reported groups"] += len(groups)
            totals["incidents"] += len(created)
            totals["detentions"] += len(saved)
            totals["allegations"] += len(allegations)
            if totals["incidents"] % (self.batch_size * 20) == 0:
                self.stdout.write(f"  {totals['incidents']:,} incidents…")
        return totals

    def reported_groups(self, incident: Incident) -> list[ReportedGroup]:
        """Numbers of people by citizenship, as a source counts them without names: for a
        fifth of the mass detentions and one incident in fifty otherwise; one citizenship,
        sometimes two, never adding up to more than the incident's reported number (some
        incidents give none, and the groups' numbers stand for it)."""
        rng = self.group_random
        share = 0.2 if incident.kind == IncidentKind.MASS_DETENTION else 0.02
        if rng.random() >= share:
            return []
        overall = incident.reported_detained_count
        left = overall if overall is not None else rng.randint(1, 60)
        groups = []
        for code, *_ in rng.sample(COUNTRIES, rng.choice([1, 1, 1, 2])):
            if left < 1:
                break
            number = rng.randint(1, left)
            left -= number
            groups.append(
                ReportedGroup(
                    incident_id=incident.pk,
                    citizenship=code,
                    detained_count=number,
                    released_count=rng.randint(0, number) if rng.random() < 0.5 else None,
                )
            )
        return groups

    def detention(self, incident: Incident, person_id: int, day: datetime.date) -> Detention:
        outcome = self.random.choice(OUTCOMES)
        released = None
        if outcome in (Outcome.RELEASED, Outcome.HANDED_OVER):
            released = day + datetime.timedelta(days=self.random.randrange(0, 60))
        return Detention(
            incident_id=incident.pk,
            person_id=person_id,
            role=DetentionRole.DETAINEE,
            detained_on=day,
            detained_on_precision="day",
            released_on=released,
            released_on_precision="day" if released else "",
            outcome=outcome,
            publication_state=incident.publication_state,
            published_at=self.now,
        )

    def make_statements(self, situation, count: int, person_ids: list[int]) -> int:
        made = 0
        kinds = StatementKind.values
        for start in range(0, count, self.batch_size):
            statements = [
                Statement(
                    said_on=START + datetime.timedelta(days=self.random.randrange(DAYS)),
                    said_on_precision="day",
                    speaker_person_id=self.random.choice(person_ids),
                    kind=self.random.choice(kinds),
                    text="Synthetic statement on " + " ".join(self.random.sample(WORDS, 5)) + ".",
                    language="en",
                    situation=situation,
                    publication_state=PublicationState.PUBLISHED,
                    published_at=self.now,
                )
                for _ in range(start, min(count, start + self.batch_size))
            ]
            Statement.objects.bulk_create(statements, record_history=False)
            made += len(statements)
        return made


def detentions_in_incident(kind: str, rng: random.Random) -> int:
    """0–40 named detainees, most often one or two; mass detentions name more."""
    if kind == IncidentKind.MASS_DETENTION:
        return min(40, int(rng.paretovariate(1.2)) + 2)
    return min(40, max(0, int(rng.expovariate(0.4))))


def respell(name: str, rng: random.Random) -> str:
    for spelling, other in rng.sample(RESPELLINGS, len(RESPELLINGS)):
        if spelling in name.lower():
            return name.replace(spelling, other).replace(spelling.capitalize(), other.capitalize())
    return name.upper()
