"""What the SQLite text indexes share: FTS5 tables with the trigram tokenizer, which answer a
case-insensitive substring test from an index (incidents/migrations/0007 for incident texts,
people/migrations/0007 for name keys). PostgreSQL uses trigram GIN indexes instead, which its
LIKE uses without help.
"""

from __future__ import annotations

import sqlite3

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

# The trigram tokenizer came with SQLite 3.34.
TRIGRAM_SQLITE = (3, 34, 0)
# It indexes three-character sequences: a shorter string has none to look up.
MIN_INDEXED_LENGTH = 3


def sqlite_trigram_index_available() -> bool:
    return connection.vendor == "sqlite" and sqlite3.sqlite_version_info >= TRIGRAM_SQLITE


def fts_phrase(value: str) -> str:
    """`value` as one FTS5 phrase: inside double quotes, quotes doubled, so every
    character is matched literally (no operators, no column filters)."""
    return '"' + value.replace('"', '""') + '"'


def rowids_containing_all(table: str, values: list[str]) -> Q:
    """Rows of the table behind the FTS5 `table` that contain every one of `values` (each
    at least MIN_INDEXED_LENGTH long) as a substring, ignoring case: `pk IN (ids)`."""
    expression = " AND ".join(fts_phrase(value) for value in values)
    ids = RawSQL(f"SELECT rowid FROM {table} WHERE {table} MATCH %s", [expression])
    return Q(pk__in=ids)


def rowids_containing_any(table: str, values: list[str]) -> Q:
    """Rows of the table behind the FTS5 `table` that contain at least one of `values`."""
    expression = " OR ".join(fts_phrase(value) for value in values)
    ids = RawSQL(f"SELECT rowid FROM {table} WHERE {table} MATCH %s", [expression])
    return Q(pk__in=ids)


def documents_holding(vocabulary: str, terms: list[str]) -> dict[str, int]:
    """How many rows of an FTS5 table hold each term, from its fts5vocab 'row' table."""
    placeholders = ", ".join(["%s"] * len(terms))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT term, doc FROM {vocabulary} WHERE term IN ({placeholders})", terms)
        return dict(cursor.fetchall())
