"""Probable duplicates of a person about to be recorded: "is this someone we already have?"

Staff enter people from phone calls and news items, in whatever spelling reached them, so
"Викрам Рузахунов", "RUZAKHUNOV" and "Ruzakunov" must all find Vikram Ruzakhunov before a
second record of him is made. `find_person_candidates()` gathers persons in one query from
three nets, then scores and ranks them in Python:

1. the search key (`Person.objects.matching_name`): every word of the query's key occurs in
   a stored key of the person's name, native name or a name variant — catches any script
   and the spellings transliteration systems disagree on;
2. a word prefix: a stored key containing a word that starts like a word of the query —
   catches a letter dropped or swapped after the first three ("Ruzakunov"), on every
   database;
3. on PostgreSQL, trigram similarity of the keys (pg_trgm, enabled by migration people/0002)
   — also catches misspellings in the first letters ("Rusakhunov").

Each gathered person is scored by `people.names.name_similarity()` against all of their
names; the ones matched by the key, or close enough in spelling, are candidates. Ranking adds
a little for the same citizenship and birth year, which separate namesakes.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import Case, F, Prefetch, Q, Value, When
from django.db.models.functions import Greatest

from incidents.models import Detention
from people.models import NameKind, Person, PersonName
from people.names import name_key_words, name_similarity

# A name at least this alike (0 to 1) is a candidate even when the search key does not match.
# Calibrated on the demo names: "Ruzakunov" scores 0.89 against "Vikram Ruzakhunov", while
# two men sharing only a surname ("Akylbek Zhaparov", "Sadyr Zhaparov") score 0.71.
CLOSE_NAME_SCORE = 0.8

# How much a matching citizenship or birth year adds to the ranking score.
CITIZENSHIP_WEIGHT = 0.1
BIRTH_YEAR_WEIGHT = 0.1
NAME_WEIGHT = 1.0 - CITIZENSHIP_WEIGHT - BIRTH_YEAR_WEIGHT

# Trigram similarity (PostgreSQL) above which a person is gathered for scoring; loose on
# purpose, the Python score decides.
TRIGRAM_THRESHOLD = 0.3

# At most this many persons are gathered and scored per query, so a very common first name
# cannot make one keystroke read the whole table.
POOL_SIZE = 200

# Words shorter than this are not used as prefixes: "al" would gather half the table.
PREFIX_MIN_WORD = 4
PREFIX_LENGTH = 3


@dataclass(frozen=True)
class Candidate:
    """A person who may be the one being entered, with how alike they are.

    `name_score` is how alike the best of their names is (0 to 1); `score` ranks candidates
    and adds the agreement of citizenship and birth year.
    """

    person: Person
    score: float
    name_score: float
    key_match: bool
    same_citizenship: bool
    same_birth_year: bool

    @property
    def is_close(self) -> bool:
        """Close enough to stop a new record until the editor says it is someone else."""
        return self.name_score >= CLOSE_NAME_SCORE

    @property
    def name_percent(self) -> int:
        return round(self.name_score * 100)

    @property
    def is_draft(self) -> bool:
        return not self.person.is_published

    @property
    def detentions(self) -> list[Detention]:
        return getattr(self.person, "candidate_detentions", [])


def find_person_candidates(
    name: str,
    *,
    citizenship: str | None = None,
    birth_year: int | None = None,
    user,
    limit: int = 10,
) -> list[Candidate]:
    """Persons this user may see whose names match `name` closely in any script or spelling,
    best first, each with their detentions (`candidate.detentions`).

    Three queries whatever the number of matches: the gathered persons, their name
    variants, and the detentions (with incidents) of the `limit` returned.
    """
    words = name_key_words(name)
    if not words:
        return []
    by_key = Q(pk__in=Person.objects.matching_name(name).values("pk"))
    gathered = by_key
    for word in words:
        if len(word) >= PREFIX_MIN_WORD:
            prefix = word[:PREFIX_LENGTH]
            # Keys are space-separated words: a prefix starts the key or follows a space.
            gathered |= Q(name_key__startswith=prefix) | Q(name_key__contains=f" {prefix}")
    # Key matches first, so a common prefix gathering more than POOL_SIZE persons cannot
    # push out the exact match.
    persons = Person.objects.searchable_by(user).annotate(
        by_key=Case(When(by_key, then=Value(True)), default=Value(False))
    )
    order = [F("by_key").desc()]
    if connection.vendor == "postgresql":
        persons = _with_trigram_similarity(persons, " ".join(words))
        gathered |= Q(trigram_similarity__gte=TRIGRAM_THRESHOLD)
        order.append(F("trigram_similarity").desc())
    order.append("pk")
    variants = PersonName.objects.exclude(kind=NameKind.MISIDENTIFIED_AS).only(
        "person_id", "name", "name_key"
    )
    pool = (
        persons.filter(gathered)
        .order_by(*order)
        .prefetch_related(Prefetch("name_variants", queryset=variants, to_attr="own_names"))
    )[:POOL_SIZE]

    candidates = [
        candidate
        for person in pool
        if (candidate := _score(person, name, words, citizenship, birth_year)) is not None
    ]
    candidates.sort(key=lambda c: (-c.score, -c.name_score, c.person.name, c.person.pk))
    candidates = candidates[:limit]
    _attach_detentions([c.person for c in candidates], user)
    return candidates


def _with_trigram_similarity(persons, key: str):
    # Imported here: django.contrib.postgres needs psycopg only on PostgreSQL.
    from django.contrib.postgres.search import TrigramSimilarity, TrigramWordSimilarity

    # Whole-key similarity for full names, word similarity for a query that is one word of
    # a longer name ("Rusakhunov" inside "rusahunov vikram").
    return persons.annotate(
        trigram_similarity=Greatest(
            TrigramSimilarity("name_key", key), TrigramWordSimilarity(key, "name_key")
        )
    )


def _score(
    person: Person,
    name: str,
    words: list[str],
    citizenship: str | None,
    birth_year: int | None,
) -> Candidate | None:
    names = [person.name, person.name_native, *(variant.name for variant in person.own_names)]
    keys = [person.name_key, *(variant.name_key for variant in person.own_names)]
    name_score = max(name_similarity(name, other) for other in names if other)
    key_match = any(all(word in key for word in words) for key in keys)
    if not key_match and name_score < CLOSE_NAME_SCORE:
        return None
    same_citizenship = bool(citizenship) and person.citizenship.code == citizenship
    same_birth_year = birth_year is not None and person.birth_year == birth_year
    score = (
        NAME_WEIGHT * name_score
        + CITIZENSHIP_WEIGHT * same_citizenship
        + BIRTH_YEAR_WEIGHT * same_birth_year
    )
    return Candidate(
        person=person,
        score=round(score, 3),
        name_score=round(name_score, 3),
        key_match=key_match,
        same_citizenship=same_citizenship,
        same_birth_year=same_birth_year,
    )


def _attach_detentions(persons: list[Person], user) -> None:
    """Each person's detentions the user may see, with the incident, in one query."""
    if not persons:
        return
    by_person: dict[int, list[Detention]] = {person.pk: [] for person in persons}
    detentions = (
        Detention.objects.visible_to(user)
        .filter(person__in=persons)
        .select_related("incident")
        .order_by(F("detained_on").asc(nulls_last=True), "pk")
    )
    for detention in detentions:
        by_person[detention.person_id].append(detention)
    for person in persons:
        person.candidate_detentions = by_person[person.pk]
