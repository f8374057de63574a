"""Words anywhere in an incident's title, summary or description (the `q` filter of the case
list and the API, and the site search) or in a statement's text, as a case-insensitive
substring match that an index answers; and, on PostgreSQL, full-text matching by an index.

On SQLite the FTS5 trigram tables of migrations 0007 (`incidents_incident_text`) and 0009
(`incidents_statement_text`) find the matching ids; they need three or more characters, so
shorter queries, and an SQLite too old for the trigram tokenizer, fall back to LIKE over the
columns, which reads every row. On PostgreSQL `icontains` compares UPPER(column) LIKE
UPPER(query), which the trigram GIN indexes of the same migrations serve.
"""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext

from cabar_tracker.text_index import (
    MIN_INDEXED_LENGTH,
    rowids_containing_all,
    sqlite_trigram_index_available,
)

FTS_TABLE = "incidents_incident_text"
TEXT_FIELDS = ("title", "summary", "description")
STATEMENT_FTS_TABLE = "incidents_statement_text"

# The full-text documents PostgreSQL indexes (migration 0009). A query must use the very same
# expression for the index to serve it. English stemming for the (mostly English) texts;
# words in other scripts pass through unstemmed.
TEXT_SEARCH_CONFIG = "english"
INCIDENT_DOCUMENT = (
    "to_tsvector('english'::regconfig, COALESCE(title, '') || ' ' || COALESCE(summary, '') "
    "|| ' ' || COALESCE(description, ''))"
)
STATEMENT_DOCUMENT = "to_tsvector('english'::regconfig, COALESCE(text, ''))"


def _contains(fts_table: str, fields: tuple[str, ...], value: str) -> Q:
    if sqlite_trigram_index_available() and len(value) >= MIN_INDEXED_LENGTH:
        return rowids_containing_all(fts_table, [value])
    return scanned_contains(fields, value)


def scanned_contains(fields: tuple[str, ...], value: str) -> Q:
    """The same test without the index, row by row: cheaper when so many rows match that
    only the first few, in an indexed order, are wanted (a common word).

    SQLite's LIKE folds the case of ASCII letters only, so there the query's lower-case,
    upper-case and capitalized forms are tested too ("ЗАДЕРЖАН" finds "задержан" and
    "Задержан"); PostgreSQL compares UPPER() of both sides."""
    forms = [value]
    if connection.vendor == "sqlite" and not value.isascii():
        forms += [value.lower(), value.upper(), value.capitalize()]
    condition = Q()
    for form in dict.fromkeys(forms):
        for name in fields:
            condition |= Q(**{f"{name}__icontains": form})
    return condition


def incident_text_contains(value: str) -> Q:
    """Incidents whose title, summary or description contains `value`, ignoring case."""
    return _contains(FTS_TABLE, TEXT_FIELDS, value)


def statement_text_contains(value: str) -> Q:
    """Statements whose text contains `value`, ignoring case."""
    return _contains(STATEMENT_FTS_TABLE, ("text",), value)


def full_text_match(document: str, query: str) -> Q:
    """PostgreSQL only: the document matches the web-search style query (stemmed words in
    any order), served by the document's GIN index."""
    return Q(
        RawSQL(
            f"({document}) @@ websearch_to_tsquery('english'::regconfig, %s)",
            [query],
            output_field=BooleanField(),
        )
    )


# What a search box needs, with room to spare: a name in two scripts, a few words of a case.
# Longer queries (a pasted page, a word of 89 letters) only cost work and find nothing more;
# every text search (the site search, the lists' `q` and `search`, pages and API) refuses
# them with a 400 naming the parameter.
QUERY_MAX_LENGTH = 200
QUERY_MAX_WORDS = 12


def check_text_query(query: str) -> None:
    """Refuse a query holding a control character (a NUL byte) or too many words."""
    if any(unicodedata.category(char) == "Cc" for char in query):
        raise ValidationError(gettext("The search cannot contain control characters."))
    if len(query.split()) > QUERY_MAX_WORDS:
        raise ValidationError(
            gettext("Search with at most %(count)d words.") % {"count": QUERY_MAX_WORDS}
        )
