"""Site search: people, incidents, statements, places and organizations for one query.

One function per kind of result, each returning at most `limit` records best first plus
whether there were more. Every function starts from the reader's visibility rule
(`Person.objects.searchable_by(user)`, `visible_to(user)`), so a draft or a withheld name is
never found by the public, whatever matched.

Names cross scripts: persons are found by the normalized key (`matching_name`, any script and
transliteration) and ranked by `name_similarity`. Spellings the key folding misses ("Ruzakunov"
for "Ruzakhunov") are caught by a second, fuzzy pass: trigram similarity on PostgreSQL
(pg_trgm, enabled by people/migrations/0002), and on SQLite the keys sharing at least half the
query's letter triples (found by the trigram index of people/migrations/0007), scored in
Python. Texts are searched with PostgreSQL full-text
search (ranked, stemmed) where available, else with a case-insensitive substring match.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    SearchVector,
    TrigramWordSimilarity,
)
from django.db import connection, transaction
from django.db.models import Case, F, IntegerField, Prefetch, Q, QuerySet, Value, When

from cabar_tracker.text_index import (
    documents_holding,
    rowids_containing_any,
    sqlite_trigram_index_available,
)
from incidents.filters import TEXT_ID_LIMIT
from incidents.models import NEWEST_FIRST, Detention, Incident, Location, Statement
from incidents.text_search import (
    INCIDENT_DOCUMENT,
    QUERY_MAX_LENGTH,
    STATEMENT_DOCUMENT,
    TEXT_SEARCH_CONFIG,
    check_text_query,
    full_text_match,
    incident_text_contains,
    scanned_contains,
    statement_text_contains,
)
from people.models import PERSON_KEY_INDEX, NameKind, Organization, Person, PersonName
from people.names import name_key_words, name_similarity, transliterate

GROUP_SIZE = 20
# How many persons' keys hold each letter triple (people/migrations/0007).
PERSON_KEY_VOCABULARY = "people_person_key_vocabulary"
# Persons matched by the key are ranked in Python; at most this many are read to rank.
NAME_CANDIDATES = 200
# The fuzzy pass reads at most this many near-misses to score.
FUZZY_CANDIDATES = 50
# name_similarity() at or above this counts as a misspelling of the name, not another name:
# "Ruzakunov" against "Vikram Ruzakhunov" scores 0.89; "Torogeldiev" against it, 0.3.
FUZZY_THRESHOLD = 0.8
# pg_trgm word_similarity() at or above this makes a candidate for the Python score above.
TRIGRAM_THRESHOLD = 0.4
# At most this many incident (or statement) matches are ranked; a query matching more shows
# the newest ones.
RANK_CANDIDATES = 1_000


@dataclass
class Group:
    """Results of one kind: at most GROUP_SIZE records, best first, and whether more matched."""

    records: list[Any] = field(default_factory=list)
    has_more: bool = False

    def __bool__(self) -> bool:
        return bool(self.records)

    def __iter__(self):
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)


@dataclass
class SearchResults:
    query: str
    people: Group
    incidents: Group
    statements: Group
    places: Group
    organizations: Group

    @property
    def total(self) -> int:
        return sum(
            len(group)
            for group in (
                self.people,
                self.incidents,
                self.statements,
                self.places,
                self.organizations,
            )
        )


def on_postgresql() -> bool:
    return connection.vendor == "postgresql"


def _group(rows: list, limit: int) -> Group:
    """`rows` was read with one more than `limit`, to know whether there are more."""
    return Group(rows[:limit], has_more=len(rows) > limit)


# The fuzzy pass scores at most this many of the query's letter triples: one name's worth.
FUZZY_MAX_TRIPLES = 40


class SearchQueryForm(forms.Form):
    """`?q=`: refused with a clear message (400) when it holds a NUL byte or a control
    character, or is longer than a search can use."""

    q = forms.CharField(required=False, max_length=QUERY_MAX_LENGTH, strip=True)

    def clean_q(self) -> str:
        query = self.cleaned_data["q"]
        check_text_query(query)
        return query


def search(user, query: str, limit: int = GROUP_SIZE) -> SearchResults:
    query = query.strip()
    people = search_people(user, query, limit)
    # Incidents and statements of the persons found, misspellings included: "Ruzakunov"
    # finds Ruzakhunov's case as well as Ruzakhunov. When more persons match than are
    # shown, every key match counts instead (without the misspellings).
    named = None if people.has_more else [person.pk for person in people]
    return SearchResults(
        query=query,
        people=people,
        incidents=search_incidents(user, query, limit, named=named),
        statements=search_statements(user, query, limit, named=named),
        places=search_places(user, query, limit),
        organizations=search_organizations(user, query, limit),
    )


# --- people ---------------------------------------------------------------------------------


def _letter_triples(query: str) -> list[str]:
    """The three-letter pieces of the query's key words: "ruzakunov" → ruz, uza, zak, …"""
    triples: list[str] = []
    for word in name_key_words(query):
        for start in range(len(word) - 2):
            triple = word[start : start + 3]
            if triple not in triples:
                triples.append(triple)
    return triples


def _near_misses(persons: QuerySet[Person], query: str) -> QuerySet[Person]:
    """Persons whose key is close to the query's but does not contain every query word.

    PostgreSQL: pg_trgm's word similarity of the query key to the stored key. Elsewhere: the
    number of the query's letter triples the key contains, at least half of them, counted
    by substring tests on the keys the trigram index offers; the best FUZZY_CANDIDATES are
    scored.
    """
    words = name_key_words(query)
    if not words:
        return persons.none()
    query_key = " ".join(words)
    if on_postgresql():
        # `<%` (trigram_word_similar) is what the GIN index answers, at the threshold
        # `_word_similarity_threshold` sets; the closeness test alone read every person.
        return (
            persons.filter(name_key__trigram_word_similar=query_key)
            .annotate(closeness=TrigramWordSimilarity(query_key, "name_key"))
            .filter(closeness__gte=TRIGRAM_THRESHOLD)
            .order_by("-closeness", "pk")
        )
    # A bounded number: each triple is one term of the score's sum, and hundreds of them
    # nest too deep for the SQL compiler (RecursionError) and cost more than they tell.
    triples = _letter_triples(query)[:FUZZY_MAX_TRIPLES]
    if len(triples) < 2:
        # One or two letters: anything would be "close"; the key match has done its job.
        return persons.none()
    needed = (len(triples) + 1) // 2
    if sqlite_trigram_index_available():
        # A key holding `needed` of the n triples holds at least one of any n - needed + 1
        # of them: the keys holding one of the rarest that many, found by the trigram
        # index, are every candidate (and few), where testing every key read all of them.
        holding = documents_holding(PERSON_KEY_VOCABULARY, triples)
        rarest = sorted(triples, key=lambda triple: holding.get(triple, 0))
        persons = persons.filter(
            rowids_containing_any(PERSON_KEY_INDEX, rarest[: len(triples) - needed + 1])
        )
    hits = sum(
        (Case(When(name_key__contains=t, then=1), default=0) for t in triples),
        start=Value(0),
    )
    return (
        persons.annotate(closeness=hits).filter(closeness__gte=needed).order_by("-closeness", "pk")
    )


@contextmanager
def _word_similarity_threshold():
    """On PostgreSQL, pg_trgm's `<%` operator at TRIGRAM_THRESHOLD (its default is 0.6) for
    the queries inside, in a transaction so the setting ends with it."""
    if not on_postgresql():
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL pg_trgm.word_similarity_threshold = %s", [TRIGRAM_THRESHOLD])
        yield


def _name_score(person: Person, query: str) -> float:
    """How well the query matches the best of the person's names (misidentifications are
    someone else's name, so they do not count)."""
    names = [person.name, person.name_native]
    names += [
        variant.name
        for variant in person.name_variants.all()
        if variant.kind != NameKind.MISIDENTIFIED_AS
    ]
    return max(name_similarity(query, name) for name in names if name)


def search_people(user, query: str, limit: int = GROUP_SIZE) -> Group:
    """Persons the user may find by name, best match first.

    Up to five queries: key matches, the key vocabulary (SQLite), near misses, and the name
    variants of both for scoring.
    """
    if not name_key_words(query):
        return Group()
    searchable = Person.objects.searchable_by(user)
    variants = PersonName.objects.only("person_id", "name", "kind")
    matched = list(
        searchable.matching_name(query)
        .prefetch_related(Prefetch("name_variants", queryset=variants))
        .order_by("name", "pk")[:NAME_CANDIDATES]
    )
    seen = {person.pk for person in matched}
    near = []
    if len(matched) < NAME_CANDIDATES:
        # (When the key matches more persons than are ranked, near misses would rank below
        # names spelled as asked, which already fill the group.)
        with _word_similarity_threshold():
            near = list(
                _near_misses(searchable, query)
                .exclude(pk__in=seen)
                .prefetch_related(Prefetch("name_variants", queryset=variants))[:FUZZY_CANDIDATES]
            )
    scored = [(_name_score(person, query), person) for person in matched]
    scored += [
        (score, person)
        for person in near
        if (score := _name_score(person, query)) >= FUZZY_THRESHOLD
    ]
    scored.sort(key=lambda pair: (-pair[0], pair[1].name, pair[1].pk))
    return Group(
        [person for _score, person in scored[:limit]],
        has_more=len(scored) > limit or len(matched) == NAME_CANDIDATES,
    )


# --- texts ----------------------------------------------------------------------------------


def _full_text(fields: list[tuple[str, str]], query: str):
    """The (vector, query) pair of PostgreSQL full-text search over weighted fields."""
    vector = None
    for name, weight in fields:
        part = SearchVector(name, weight=weight, config=TEXT_SEARCH_CONFIG)
        vector = part if vector is None else vector + part
    return vector, SearchQuery(query, search_type="websearch", config=TEXT_SEARCH_CONFIG)


def _spellings(query: str) -> list[str]:
    """The query as typed and in Latin letters: "Алматы" also looks for "Almaty". SQLite
    compares only ASCII letters without regard to case, so the Latin form matters there."""
    spellings = [query]
    latin = transliterate(query)
    if latin != query:
        spellings.append(latin)
    return spellings


def _text_rank(fields: list[str], query: str) -> Case:
    """Without full-text search, rank by the first field that contains the query in any of
    its spellings (a title match before a summary match)."""
    whens = [
        When(_contains([name], query), then=Value(len(fields) - index))
        for index, name in enumerate(fields)
    ]
    return Case(*whens, default=Value(0), output_field=IntegerField())


def _contains(fields: list[str], query: str) -> Q:
    """Any of the fields contains the query as typed or in Latin letters ("Алматы" also
    finds "Almaty"), regardless of case, tested row by row (`scanned_contains`)."""
    condition = Q()
    for spelling in _spellings(query):
        condition |= scanned_contains(tuple(fields), spelling)
    return condition


def _named(user, query: str, named: list[int] | None) -> list[int] | QuerySet:
    """The persons whose incidents and statements the query finds: those `search_people`
    found, or (when it found more than it shows, or called on its own) those whose key
    matches, read as a list where they are not too many (PostgreSQL took 1,000 persons for
    55,000 and read all two million detentions to find theirs)."""
    if named is not None:
        return named
    matching = Person.objects.searchable_by(user).matching_name(query)
    return _as_ids(matching.values_list("pk", flat=True))


def _as_ids(ids: QuerySet) -> list[int] | QuerySet:
    """A subquery of ids as the list it holds, unless it holds more than TEXT_ID_LIMIT.
    Inside an OR of row-by-row tests PostgreSQL misjudges such a subquery's size, and
    rescanned it for every row (over 30 s at a million incidents); a list it hashes."""
    listed = list(ids.distinct()[: TEXT_ID_LIMIT + 1])
    return listed if len(listed) <= TEXT_ID_LIMIT else ids


def _candidates(parts: list[QuerySet]) -> set[int] | None:
    """The ids the parts (each read by an index, visibility not yet tested) hold together,
    or None when there are more than RANK_CANDIDATES."""
    ids: set[int] = set()
    for part in parts:
        ids |= set(part[: RANK_CANDIDATES + 1])
        if len(ids) > RANK_CANDIDATES:
            return None
    return ids


def _text_parts(model, contains, document: str, query: str) -> list[QuerySet]:
    """The ids whose text contains the query in any of its spellings, and on PostgreSQL
    those whose full-text document matches it, each part read by its index."""
    ids = model.objects.order_by().values_list("pk", flat=True)
    parts = [ids.filter(contains(spelling)) for spelling in _spellings(query)]
    if on_postgresql():
        parts.append(ids.filter(full_text_match(document, query)))
    return parts


def search_incidents(
    user, query: str, limit: int = GROUP_SIZE, *, named: list[int] | None = None
) -> Group:
    """Incidents whose title, summary or description match, or that name a person found by
    the query (in any script). Title matches first; then by date, newest first.

    The matches are read as ids, a part at a time by its index; up to RANK_CANDIDATES of them
    are ranked. A query that matches more (a common word) shows the newest matches, found by
    walking the incidents newest first and testing each: when so many rows match, that stops
    after a few hundred rows, where reading every match from the index would not.
    """
    if not query:
        return Group()
    fields = [("title", "A"), ("summary", "B"), ("description", "C")]
    names = [name for name, _weight in fields]
    persons = _named(user, query, named)
    incidents = Incident.objects.visible_to(user).select_related("location")
    by_person = (
        Detention.objects.visible_apart_from_incident(user)
        .filter(person_id__in=persons)
        .order_by()
        .values_list("incident_id", flat=True)
    )
    parts = _text_parts(Incident, incident_text_contains, INCIDENT_DOCUMENT, query)
    candidates = _candidates([by_person, *parts])
    if candidates is not None:
        if on_postgresql():
            vector, search_query = _full_text(fields, query)
            incidents = incidents.annotate(rank=SearchRank(vector, search_query))
        else:
            incidents = incidents.annotate(rank=_text_rank(names, query))
        rows = incidents.filter(pk__in=candidates).order_by(F("rank").desc(), *NEWEST_FIRST)
        return _group(list(rows[: limit + 1]), limit)
    # Too many to rank: the newest, by the date index, each row tested as it comes (LIKE,
    # which on SQLite folds the case of Latin letters only).
    condition = Q(pk__in=_as_ids(by_person)) | _contains(names, query)
    rows = incidents.filter(condition).order_by(*NEWEST_FIRST)
    return _group(list(rows[: limit + 1]), limit)


def search_statements(
    user, query: str, limit: int = GROUP_SIZE, *, named: list[int] | None = None
) -> Group:
    """Statements whose text matches, or made by or about a person found by the query; ranked
    when at most RANK_CANDIDATES match, else the newest (as `search_incidents`)."""
    if not query:
        return Group()
    persons = _named(user, query, named)
    statements = Statement.objects.visible_to(user).select_related(
        "speaker_person", "speaker_organization", "position__organization"
    )
    newest = (F("said_on").desc(nulls_last=True), "-pk")
    about_named = (
        Statement.people.through.objects.filter(person_id__in=persons)
        .order_by()
        .values_list("statement_id", flat=True)
    )
    by_speaker = (
        Statement.objects.filter(speaker_person_id__in=persons)
        .order_by()
        .values_list("pk", flat=True)
    )
    parts = _text_parts(Statement, statement_text_contains, STATEMENT_DOCUMENT, query)
    candidates = _candidates([about_named, by_speaker, *parts])
    if candidates is not None:
        if on_postgresql():
            vector, search_query = _full_text([("text", "A")], query)
            statements = statements.annotate(rank=SearchRank(vector, search_query))
        else:
            statements = statements.annotate(rank=_text_rank(["text"], query))
        rows = statements.filter(pk__in=candidates).order_by(F("rank").desc(), *newest)
        return _group(list(rows[: limit + 1]), limit)
    condition = Q(pk__in=_as_ids(by_speaker)) | Q(pk__in=_as_ids(about_named))
    condition |= _contains(["text"], query)
    rows = statements.filter(condition).order_by(*newest)
    return _group(list(rows[: limit + 1]), limit)


# --- places and organizations ---------------------------------------------------------------


def _name_rank(query: str, fields: list[str]) -> Case:
    """Exact name first, then names that start with the query, then the rest."""
    exact = Q()
    prefix = Q()
    for spelling in _spellings(query):
        for name in fields:
            exact |= Q(**{f"{name}__iexact": spelling})
            prefix |= Q(**{f"{name}__istartswith": spelling})
    return Case(
        When(exact, then=Value(2)),
        When(prefix, then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )


def search_places(user, query: str, limit: int = GROUP_SIZE) -> Group:
    if not query:
        return Group()
    fields = ["name", "name_native"]
    rows = list(
        Location.objects.visible_to(user)
        .filter(_contains(fields, query))
        .annotate(rank=_name_rank(query, fields))
        .order_by("-rank", "name", "pk")[: limit + 1]
    )
    return _group(rows, limit)


def search_organizations(user, query: str, limit: int = GROUP_SIZE) -> Group:
    if not query:
        return Group()
    fields = ["name", "name_native", "abbreviation"]
    rows = list(
        Organization.objects.visible_to(user)
        .filter(_contains(fields, query))
        .annotate(rank=_name_rank(query, fields))
        .order_by("-rank", "name", "pk")[: limit + 1]
    )
    return _group(rows, limit)
