"""Words anywhere in an incident's title, summary or description: the `q` filter of the
case list and the API, as a case-insensitive substring match that an index answers.

On SQLite the FTS5 trigram table of migration 0007 (`incidents_incident_text`) finds the
matching ids; it needs three or more characters, so shorter queries, and an SQLite too old
for the trigram tokenizer, fall back to LIKE over the columns, which reads every row. On
PostgreSQL `icontains` compares UPPER(column) LIKE UPPER(query), which the trigram GIN
indexes of the same migration serve.
"""

from __future__ import annotations

import sqlite3

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

FTS_TABLE = "incidents_incident_text"
TEXT_FIELDS = ("title", "summary", "description")
# The trigram tokenizer indexes three-character sequences: a shorter query has none.
MIN_INDEXED_LENGTH = 3


def _sqlite_index_available() -> bool:
    return connection.vendor == "sqlite" and sqlite3.sqlite_version_info >= (3, 34, 0)


def fts_phrase(value: str) -> str:
    """`value` as one FTS5 phrase: inside double quotes, quotes doubled, so every
    character is matched literally (no operators, no column filters)."""
    return '"' + value.replace('"', '""') + '"'


def incident_text_contains(value: str) -> Q:
    """Incidents whose title, summary or description contains `value`, ignoring case."""
    if _sqlite_index_available() and len(value) >= MIN_INDEXED_LENGTH:
        ids = RawSQL(
            f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [fts_phrase(value)]
        )
        return Q(pk__in=ids)
    condition = Q()
    for name in TEXT_FIELDS:
        condition |= Q(**{f"{name}__icontains": value})
    return condition
